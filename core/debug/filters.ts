/**
 * The debugger's exception filters: the moments a run goes wrong, as VS Code's "Breakpoints" view
 * lists them (`exceptionBreakpointFilters`), and the pure checks behind them.
 *
 * - first NaN/Infinity: stops at the call whose tensor first held a non-finite value (the worker notices
 *   when the loss becomes non-finite and finds the first such tensor among the positions of this step
 *   and the one before);
 * - failed gradient check: stops at the layer's backward when its analytic gradient disagrees with
 *   central differences (checked when the model has finished, on each layer's last call);
 * - exploding gradient: stops at the backward whose gradient norm the recorder reported as exploding;
 * - dead ReLU (off by default): stops at a ReLU forward where some unit outputs 0 for every sample;
 * - loss went up by more than a factor (off by default; the factor is the filter's condition, default 2);
 * - an error (a throw, a shape mismatch): stops where it was thrown, before the run ends.
 */
import type { TensorValue } from "./evaluate";

export type FilterId = "nonFinite" | "gradCheck" | "exploding" | "deadRelu" | "lossUp" | "error";

export interface FilterDefinition {
  filter: FilterId;
  label: string;
  description: string;
  default: boolean;
  supportsCondition?: boolean;
  conditionDescription?: string;
}

export const EXCEPTION_FILTERS: readonly FilterDefinition[] = [
  { filter: "nonFinite", label: "First NaN/Infinity", description: "Stop at the call whose tensor first held a NaN or ±Infinity.", default: true },
  { filter: "gradCheck", label: "Failed gradient check", description: "Stop at a layer's backward when its gradient disagrees with central differences (checked when the model has finished).", default: true },
  { filter: "exploding", label: "Exploding gradient", description: "Stop at the backward whose gradient norm exploded (large and far above its first value).", default: true },
  { filter: "deadRelu", label: "Dead ReLU", description: "Stop at a ReLU forward where some unit outputs 0 for every sample.", default: false },
  {
    filter: "lossUp",
    label: "Loss went up",
    description: "Stop at the loss of a step that is more than a factor above the step before (the condition; default 2).",
    default: false,
    supportsCondition: true,
    conditionDescription: "the factor, e.g. 2 (the loss more than doubled) or 1.1",
  },
  { filter: "error", label: "Errors", description: "Stop where the model throws (a shape mismatch, your own error), before the run ends.", default: true },
];

/** Which filters are on; `lossUp` is the factor when on. */
export interface FilterSettings {
  nonFinite: boolean;
  gradCheck: boolean;
  exploding: boolean;
  deadRelu: boolean;
  lossUp: number | false;
  error: boolean;
}

/** The defaults of `EXCEPTION_FILTERS`. */
export function defaultFilters(): FilterSettings {
  return { nonFinite: true, gradCheck: true, exploding: true, deadRelu: false, lossUp: false, error: true };
}

/**
 * Settings from DAP's `setExceptionBreakpoints` (`filters` and `filterOptions`); a factor that does not
 * parse is reported in `problems` and the filter uses 2.
 */
export function filtersFrom(filters: readonly string[], options: readonly { filterId: string; condition?: string }[] = []): { settings: FilterSettings; problems: string[] } {
  const on = new Set([...filters, ...options.map((o) => o.filterId)]);
  const problems: string[] = [];
  let factor: number | false = false;
  if (on.has("lossUp")) {
    factor = 2;
    const c = options.find((o) => o.filterId === "lossUp")?.condition?.trim();
    if (c) {
      const f = Number(c.replace(/[x×]$/, ""));
      if (Number.isFinite(f) && f > 0) factor = f;
      else problems.push(`"Loss went up" filter: the factor '${c}' is not a positive number (e.g. 2 or 1.5); using 2`);
    }
  }
  return {
    settings: { nonFinite: on.has("nonFinite"), gradCheck: on.has("gradCheck"), exploding: on.has("exploding"), deadRelu: on.has("deadRelu"), lossUp: factor, error: on.has("error") },
    problems,
  };
}

/** True when a step's loss is more than `factor` times the previous step's (both finite, previous > 0). */
export function lossWentUp(previous: number | undefined, current: number | undefined, factor: number): boolean {
  if (previous === undefined || current === undefined || !Number.isFinite(previous) || !Number.isFinite(current)) return false;
  return previous > 0 && current > previous * factor;
}

/** Units (columns) of a `[samples, units]` activation that are 0 for every sample (needs ≥ 2 samples). */
export function deadUnits(output: TensorValue): number {
  if (output.shape.length !== 2) return 0;
  const [r, c] = output.shape as [number, number];
  if (r < 2) return 0;
  let dead = 0;
  for (let j = 0; j < c; j++) {
    let alive = false;
    for (let i = 0; i < r && !alive; i++) alive = output.data[i * c + j] !== 0;
    if (!alive) dead++;
  }
  return dead;
}

/** The flat index of the first NaN or ±Infinity of a tensor, or −1. */
export function firstNonFiniteIndex(t: TensorValue): number {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] as number;
    if (v - v !== 0) return i;
  }
  return -1;
}

/**
 * The order in which a call's tensors came to be (what it read first, what it made last), so the first
 * non-finite one is the one that *appeared* first: forward `inputs`, parameters, `output`; backward
 * `dvalues`, parameter gradients, `dinputs`.
 */
export function creationOrder(phase: string | undefined, names: readonly string[]): string[] {
  const first = phase === "backward" ? "dvalues" : "inputs";
  const last = phase === "backward" ? "dinputs" : "output";
  const middle = names.filter((n) => n !== first && n !== last && n !== "targets");
  return [first, ...middle, last].filter((n) => names.includes(n));
}

/** The first position (in order) holding a non-finite tensor element: which position, tensor and flat index. */
export function firstNonFinitePosition<P extends { phase?: string; tensors?: Record<string, TensorValue> }>(positions: readonly P[]): { position: P; tensor: string; index: number } | undefined {
  for (const p of positions) {
    const tensors = p.tensors;
    if (!tensors) continue;
    for (const name of creationOrder(p.phase, Object.keys(tensors))) {
      const i = firstNonFiniteIndex(tensors[name] as TensorValue);
      if (i >= 0) return { position: p, tensor: name, index: i };
    }
  }
  return undefined;
}
