/**
 * The debugger's cost when no breakpoint is hit (`npm run bench`, run by run.mjs in its own process):
 * W1 and W2 full SGD steps untraced, traced (the runner's recorder), and traced with the worker-side
 * debugger attached as in a debug run: a line breakpoint on a line no call is made on, a function
 * breakpoint `*.backward` whose condition `step == -1` is evaluated at every layer's backward and
 * never holds, and the default exception filters. Target: the debugger adds at most 10% of an
 * untraced step. Prints one line `@@RESULT <json>`.
 */
import { TraceRecorder, type SiteProvider, type SourceSite } from "../../core/host";
import { compileBreakpoint, defaultFilters, type BreakpointSpec } from "../../core/debug/index";
import { WorkerDebugger } from "../../extension/debug/worker/workerDebugger";
import type { ControlMessage, WorkerControl } from "../../extension/runner/control";
import { type Timing, measureInterleaved } from "./timing";
import { WORKLOADS, buildModel, workloadData } from "./workloads";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const scale = quick ? 0.25 : 1;
const q = (ms: number): number => Math.max(50, ms * scale);

/** V8 structured frames, as the runner's BundleSites captures them (cached per position). */
class FrameSites implements SiteProvider {
  private readonly cache = new Map<number, SourceSite>();
  capture(): SourceSite | undefined {
    const prevPrepare = Error.prepareStackTrace;
    const prevLimit = Error.stackTraceLimit;
    Error.prepareStackTrace = (_e, frames) => frames;
    Error.stackTraceLimit = 40;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, this.capture);
    const frames = holder.stack as NodeJS.CallSite[];
    Error.prepareStackTrace = prevPrepare;
    Error.stackTraceLimit = prevLimit;
    const f = frames[3];
    const line = f?.getLineNumber() ?? 0;
    const col = f?.getColumnNumber() ?? 0;
    const key = line * 1_000_003 + col;
    let site = this.cache.get(key);
    if (site === undefined) this.cache.set(key, (site = { file: f?.getFileName() ?? "bench", line, column: col }));
    return site;
  }
}

/** A control channel with nothing on it: the debugger is configured once and never stops. */
function quietControl(breakpoints: BreakpointSpec[]): WorkerControl {
  let configured = false;
  return {
    poll: () => undefined,
    wait(): ControlMessage {
      if (configured) throw new Error("the benchmark's debugger stopped: a breakpoint was hit");
      configured = true;
      return { type: "debug/configure", breakpoints, filters: defaultFilters() } as unknown as ControlMessage;
    },
    post(m: ControlMessage): void {
      if (m.type === "debug/stopped") throw new Error("the benchmark's debugger stopped");
    },
  };
}

const rows: Record<string, unknown>[] = [];
for (const spec of WORKLOADS.filter((w) => w.id !== "W3")) {
  const { X, y } = workloadData(spec);
  const plain = buildModel(spec, X, y);
  const variants: Record<string, () => unknown> = { untraced: () => plain.step() };
  const recorders: TraceRecorder[] = [];

  const traced = new TraceRecorder({ sink: { emit() {} }, keepSteps: 3, sites: new FrameSites() });
  traced.install();
  const m1 = buildModel(spec, X, y);
  traced.uninstall();
  recorders.push(traced);
  variants.traced = () => m1.step();

  const bps = [
    compileBreakpoint({ id: 1, where: { kind: "line", file: "bench", line: 99999 } }),
    compileBreakpoint({ id: 2, where: { kind: "function", name: "*", phase: "backward" }, condition: "step == -1" }),
  ].map((c) => (c.ok ? c.spec : undefined)).filter((b): b is BreakpointSpec => b !== undefined);
  const sites = new FrameSites();
  const dbg = new WorkerDebugger({ control: quietControl(bps), sites, keepSteps: 3 });
  dbg.start();
  const debugged = new TraceRecorder({ sink: { emit: (e) => dbg.onEvent(e) }, keepSteps: 3, sites, observer: dbg });
  debugged.install();
  const m2 = buildModel(spec, X, y);
  debugged.uninstall();
  recorders.push(debugged);
  variants["traced + debugger"] = () => m2.step();

  const budget = spec.id === "W1" ? { time: q(2000), iterations: 200, warmupTime: q(500), warmupIterations: 300 } : { time: q(2500), iterations: 40, warmupTime: q(500), warmupIterations: 20 };
  process.stderr.write(`[debugger] ${spec.id} …\n`);
  const t = measureInterleaved(variants, budget);
  const base = (t.untraced as Timing).median;
  rows.push({ id: spec.id, title: spec.title, timings: t, overhead: ((t["traced + debugger"] as Timing).median - (t.traced as Timing).median) / base });
  process.stderr.write(
    `[debugger] ${spec.id}: ${Object.entries(t).map(([k, v]) => `${k} ${v.median.toFixed(3)} ms (${((v.median / base - 1) * 100).toFixed(1)}%)`).join(", ")}\n`,
  );
  for (const r of recorders) r.finish({ completed: false });
}
process.stdout.write(`@@RESULT ${JSON.stringify({ impl: "debugger", rows })}\n`);
