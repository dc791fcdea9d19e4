/**
 * The trace budget: what one run may put into the host, whatever the model does, and the limiter that
 * holds a stream of trace events to it. It runs in the model process (so a flood never crosses into the
 * editor), on every producer's events (the worker's and a Python tracer's alike).
 *
 * What is kept (`TRACE_BUDGET`):
 * - tensors of layer calls: at most 128 MB of values per run; the first `keepSteps` steps may use
 *   96 MB of it, the rest is kept for later steps (the last step, which the recorder sends at the end,
 *   and the steps around a NaN). A call over the budget is dropped whole (its shapes and statistics are
 *   in the step summaries' gradient norms, not in a card).
 * - layer calls: 512 per step, 20,000 per run; layers: 10,000.
 * - step summaries (loss, accuracy, gradient norms): every step up to 10,000, then every 2nd up to
 *   20,000, every 4th up to 40,000, … (about 5,000 per doubling, so 1.6 M steps give about 47,000),
 *   at most 100,000; a non-finite loss always, and the last step always (held back and sent at the end).
 * - console: 10,000 lines per run, each cut at 8,192 characters, 8 MB of text in all; what is dropped
 *   is counted and said in the output ("… 90,000 more lines were not kept").
 * - scalar nodes 50,000, scalar backwards 2,000, anomalies 1,000, gradient checks 10,000;
 *   250,000 events in all.
 * - the debugger's stop windows (the positions kept for stepping back, sent when the model pauses):
 *   128 MB of tensor values on the host, beside the trace's 128 MB; the oldest positions go first.
 * Whatever is dropped is reported once, as a `truncated` anomaly naming the limit.
 *
 * Imports nothing from vscode or Node.
 */
import type { Anomaly, TraceEvent } from "../../core/host";

export interface TraceBudget {
  tensorBytes: number;
  /** Of `tensorBytes`, what calls of the first `keepSteps` steps may use. */
  earlyTensorBytes: number;
  callsPerStep: number;
  calls: number;
  layers: number;
  /** Every step's summary below this step; beyond it, ever sparser. */
  summariesInFull: number;
  summaries: number;
  consoleLines: number;
  consoleLineChars: number;
  consoleChars: number;
  scalarNodes: number;
  scalarBackwards: number;
  anomalies: number;
  gradChecks: number;
  events: number;
  /**
   * The debugger's stop windows (positions sent with their tensors when the model pauses, for stepping
   * back without a re-run): at most this many bytes of tensor values per stop message and held by the
   * host in all (extension/debug/runtime.ts). The oldest positions go first; the recorded steps (held
   * under `tensorBytes`) and the position shown are never dropped.
   */
  stopWindowBytes: number;
}

export const TRACE_BUDGET: TraceBudget = {
  tensorBytes: 128 * 2 ** 20,
  earlyTensorBytes: 96 * 2 ** 20,
  callsPerStep: 512,
  calls: 20_000,
  layers: 10_000,
  summariesInFull: 10_000,
  summaries: 100_000,
  consoleLines: 10_000,
  consoleLineChars: 8192,
  consoleChars: 8 * 2 ** 20,
  scalarNodes: 50_000,
  scalarBackwards: 2_000,
  anomalies: 1_000,
  gradChecks: 10_000,
  events: 250_000,
  stopWindowBytes: 128 * 2 ** 20,
};

/** Bytes of tensor values in a layer call event. */
export function tensorBytesOf(e: TraceEvent): number {
  if (e.type !== "layer/call") return 0;
  let n = 0;
  for (const t of Object.values(e.call.tensors)) n += t.data.byteLength;
  return n;
}

/** True when step `step` (beyond the full range) is one whose summary is kept: about `full / 2` per doubling. */
export function keepsSummary(step: number, full: number): boolean {
  if (step < full) return true;
  const stride = 2 ** (Math.floor(Math.log2(step / full)) + 1);
  return step % stride === 0;
}

type Limit = "tensors" | "calls" | "callsPerStep" | "layers" | "summaries" | "console" | "scalarNodes" | "scalarBackwards" | "anomalies" | "gradChecks" | "events";

const LIMIT_TEXT: Record<Limit, (b: TraceBudget) => string> = {
  tensors: (b) => `the trace keeps at most ${b.tensorBytes / 2 ** 20} MB of tensors per run; later layer calls were not recorded`,
  calls: (b) => `the trace keeps at most ${b.calls.toLocaleString("en-US")} layer calls per run; later ones were not recorded`,
  callsPerStep: (b) => `the trace keeps at most ${b.callsPerStep} layer calls per step; the rest of a longer step was not recorded`,
  layers: (b) => `the trace keeps at most ${b.layers.toLocaleString("en-US")} layers; later layers were not recorded`,
  summaries: (b) => `the trace keeps at most ${b.summaries.toLocaleString("en-US")} step summaries; later steps were not plotted`,
  console: (b) => `the model's output was cut at ${b.consoleLines.toLocaleString("en-US")} lines (or ${b.consoleChars / 2 ** 20} MB)`,
  scalarNodes: (b) => `the trace keeps at most ${b.scalarNodes.toLocaleString("en-US")} scalar values; later ones were not recorded`,
  scalarBackwards: (b) => `the trace keeps at most ${b.scalarBackwards.toLocaleString("en-US")} scalar backward passes`,
  anomalies: (b) => `at most ${b.anomalies.toLocaleString("en-US")} problems are reported per run`,
  gradChecks: (b) => `at most ${b.gradChecks.toLocaleString("en-US")} gradient checks are kept per run`,
  events: (b) => `the trace keeps at most ${b.events.toLocaleString("en-US")} events per run; later events were not recorded`,
};

/** What the limiter dropped, by limit. */
export type DropCounts = Partial<Record<Limit, number>>;

/**
 * Holds a stream of events to a budget. `admit(e)` returns what to pass on now (nothing, the event —
 * possibly with console text cut — or the event with a `truncated` notice before it); `finish()` returns
 * what is still held (the last step's summary, the count of dropped output) and must come before run/end.
 */
export class TraceLimiter {
  private tensorBytes = 0;
  private calls = 0;
  private readonly callsInStep = new Map<number, number>();
  private readonly summarySteps = new Set<number>();
  private layers = 0;
  private summaries = 0;
  private consoleLines = 0;
  private consoleChars = 0;
  private consoleDropped = 0;
  private scalarNodes = 0;
  private scalarBackwards = 0;
  private anomalies = 0;
  private gradChecks = 0;
  private events = 0;
  private started = false;
  private lastStep = 0;
  /** The newest summary that was thinned out, sent at the end when it is the run's last step. */
  private held: Extract<TraceEvent, { type: "step/summary" }> | undefined;
  readonly dropped: DropCounts = {};
  private readonly noticed = new Set<Limit>();

  constructor(
    private readonly keepSteps: number,
    readonly budget: TraceBudget = TRACE_BUDGET,
  ) {}

  /** Tensor bytes passed on so far. */
  get bytes(): number {
    return this.tensorBytes;
  }

  admit(e: TraceEvent): TraceEvent[] {
    const b = this.budget;
    switch (e.type) {
      case "run/start":
        if (this.started) return [];
        this.started = true;
        return this.pass(e);
      case "run/end":
        // The supervisor, not the producer, ends the run; callers take run/end before the limiter.
        return [];
      case "layer/new":
        return this.count("layers", ++this.layers <= b.layers, e);
      case "layer/call": {
        const step = e.call.step;
        this.lastStep = Math.max(this.lastStep, step);
        const inStep = (this.callsInStep.get(step) ?? 0) + 1;
        this.callsInStep.set(step, inStep);
        if (this.callsInStep.size > 64) this.forgetOldSteps();
        if (inStep > b.callsPerStep) return this.drop("callsPerStep");
        if (this.calls >= b.calls) return this.drop("calls");
        const bytes = tensorBytesOf(e);
        const room = step < this.keepSteps ? b.earlyTensorBytes : b.tensorBytes;
        if (this.tensorBytes + bytes > room) return this.drop("tensors");
        this.calls++;
        this.tensorBytes += bytes;
        return this.pass(e);
      }
      case "step/summary": {
        const s = e.summary;
        this.lastStep = Math.max(this.lastStep, s.step);
        if (this.summarySteps.has(s.step)) return []; // one summary per step
        const urgent = s.loss !== undefined && !Number.isFinite(s.loss);
        if (!urgent && !keepsSummary(s.step, b.summariesInFull)) {
          this.held = e;
          return [];
        }
        this.held = undefined;
        if (this.summaries >= b.summaries) {
          this.held = e;
          return this.drop("summaries");
        }
        this.summaries++;
        this.rememberSummary(s.step);
        return this.pass(e);
      }
      case "scalar/node":
        return this.count("scalarNodes", ++this.scalarNodes <= b.scalarNodes, e);
      case "scalar/backward":
        return this.count("scalarBackwards", ++this.scalarBackwards <= b.scalarBackwards, e);
      case "anomaly":
        if (e.anomaly.code === "truncated" && this.anomalies >= b.anomalies) return [];
        return this.count("anomalies", ++this.anomalies <= b.anomalies, e);
      case "gradcheck":
        return this.count("gradChecks", ++this.gradChecks <= b.gradChecks, e);
      case "console": {
        if (this.consoleLines >= b.consoleLines || this.consoleChars >= b.consoleChars) {
          this.consoleDropped++;
          return this.drop("console");
        }
        this.consoleLines++;
        let text = e.text;
        if (text.length > b.consoleLineChars) text = `${text.slice(0, b.consoleLineChars)}… [${(text.length - b.consoleLineChars).toLocaleString("en-US")} more characters]`;
        this.consoleChars += text.length;
        return this.pass(text === e.text ? e : { ...e, text });
      }
    }
    return [];
  }

  /** What is still held: the last step's summary, and a line saying how much output was dropped. Call once, before run/end. */
  finish(): TraceEvent[] {
    const out: TraceEvent[] = [];
    if (this.held && !this.summarySteps.has(this.held.summary.step)) {
      out.push(this.held);
      this.summaries++;
    }
    this.held = undefined;
    if (this.consoleDropped > 0) {
      out.push({
        type: "console",
        level: "warn",
        text: `… ${this.consoleDropped.toLocaleString("en-US")} more line${this.consoleDropped === 1 ? " was" : "s were"} not kept (the output of a run is cut at ${this.budget.consoleLines.toLocaleString("en-US")} lines)`,
      });
      this.consoleDropped = 0; // said once, however often finish() is called
    }
    return out;
  }

  private pass(e: TraceEvent): TraceEvent[] {
    if (++this.events > this.budget.events) return this.drop("events");
    return [e];
  }

  private count(limit: Limit, ok: boolean, e: TraceEvent): TraceEvent[] {
    return ok ? this.pass(e) : this.drop(limit);
  }

  /** Counts a drop; the first drop of each limit is said once, as a `truncated` anomaly. */
  private drop(limit: Limit): TraceEvent[] {
    this.dropped[limit] = (this.dropped[limit] ?? 0) + 1;
    if (this.noticed.has(limit)) return [];
    this.noticed.add(limit);
    const anomaly: Anomaly = { code: "truncated", severity: "information", step: this.lastStep, message: LIMIT_TEXT[limit](this.budget) };
    return [{ type: "anomaly", anomaly }];
  }

  private rememberSummary(step: number): void {
    this.summarySteps.add(step);
    if (this.summarySteps.size > 4096) {
      // Only recent steps can repeat; keep the set small.
      const keep = [...this.summarySteps].slice(-1024);
      this.summarySteps.clear();
      for (const s of keep) this.summarySteps.add(s);
    }
  }

  private forgetOldSteps(): void {
    const keep = [...this.callsInStep.entries()].sort((a, b) => a[0] - b[0]).slice(-16);
    this.callsInStep.clear();
    for (const [k, v] of keep) this.callsInStep.set(k, v);
  }
}
