/**
 * A gradient check's verdict as a person should read it. A check passes when the analytic and the
 * numeric gradient agree; when both are 0 at every checked element (a layer behind dead ReLUs, an
 * unused output), or when every element was skipped, it agreed about nothing: it "passed" without
 * checking anything meaningful, and says so instead of "ok". Used by the inspector, the hover and
 * the CLI alike.
 */
import type { GradCheckResult, GradCheckTensor, TensorStats } from "../trace/traceTypes";
import type { RunModel } from "./runModel";

export type CheckVerdict = "ok" | "vacuous" | "failed" | "error";

export interface CheckReading {
  verdict: CheckVerdict;
  /** Gradients that passed without checking anything: all 0 on both sides, or no element checked. */
  vacuous: string[];
  /** Why, per vacuous gradient: `every element of dweights is 0` / `every element was skipped`. */
  reasons: Record<string, string>;
}

/** True when a passed tensor check compared nothing but zeros (or compared nothing). */
export function isVacuous(t: GradCheckTensor, stats: TensorStats | undefined): string | undefined {
  if (!t.ok) return undefined;
  if (t.checked === 0) return `every element of ${t.name} was skipped (kinks)`;
  const worst = t.worst;
  const zeroWorst = worst === undefined || (worst.analytic === 0 && worst.numeric === 0);
  if (stats && stats.size > 0 && stats.zeros === stats.size && zeroWorst) return `every element of ${t.name} is 0, and so is every central difference`;
  return undefined;
}

/** The verdict of a layer's check; `statsOf` gives the statistics of a gradient of the checked call. */
export function readGradCheck(g: GradCheckResult, statsOf: (name: string) => TensorStats | undefined): CheckReading {
  if (g.error) return { verdict: "error", vacuous: [], reasons: {} };
  if (!g.ok) return { verdict: "failed", vacuous: [], reasons: {} };
  const reasons: Record<string, string> = {};
  for (const t of g.tensors) {
    const why = isVacuous(t, statsOf(t.name));
    if (why) reasons[t.name] = why;
  }
  const vacuous = Object.keys(reasons);
  return { verdict: g.tensors.length > 0 && vacuous.length === g.tensors.length ? "vacuous" : "ok", vacuous, reasons };
}

/** `readGradCheck` with the statistics of the run's checked backward call (the layer's last one in the checked step). */
export function readRunGradCheck(run: RunModel, g: GradCheckResult): CheckReading {
  const calls = run.callsIn(g.layer, g.step).filter((c) => c.phase === "backward" && c.parent === undefined);
  const call = calls[calls.length - 1];
  return readGradCheck(g, (name) => call?.tensors[name]?.stats);
}
