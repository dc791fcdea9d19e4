/**
 * The run model: one run, as every part of Backprop Lens sees it. It is a reducer over trace events
 * (`apply`) plus the lookups everyone needs (layers in network order, calls by layer and by step, the
 * forward call of a backward call, which tensors are gradients, where a tensor came from, a tensor by
 * call and name through references). The extension host keeps one per run with the tensors of the
 * recorded steps (`ingest`), the Gradient Inspector keeps one without tensor data (it pulls tensors on
 * demand), the language server's run report and the CLI read one. Pure: no vscode, DOM or Node.
 *
 * Events of different kinds may arrive in any interleaving (a live run, a replay, a saved trace): the
 * model ends in the same state. Calls are kept in `seq` order whatever order they arrive in; a call
 * that arrives again with the same `seq` replaces the first (the debugger may send a call's tensors
 * later).
 *
 * Adding a trace event: its type in `core/trace/traceTypes.ts`, a case in `apply` (and in `replay`),
 * and the view that shows it. The protocol carries every event unchanged (`run/events`).
 */
import { tensorStats } from "../trace/stats";
import { isGradientName } from "../trace/tensorNames";
import type {
  Anomaly,
  ConsoleLevel,
  GradCheckResult,
  LayerCall,
  LayerInfo,
  Phase,
  RunError,
  ScalarBackward,
  ScalarNode,
  SourceSite,
  StepSummary,
  TensorData,
  TensorRef,
  TensorStats,
  TraceEvent,
} from "../trace/traceTypes";
import { backwardOf, forwardOf, lastOf } from "./calls";

/** What is known about a run before any of its events. */
export interface RunHeader {
  runId: number;
  /** Absolute path of the model file. */
  file: string;
  startedAt: number;
}

/** A tensor of a call without its data: shape and statistics. */
export interface TensorSummary {
  shape: number[];
  stats: TensorStats;
  /** The producer's element type when it was not float64 (the Python tracer's `float32`, `int64`, …). */
  dtype?: string;
}

/**
 * A layer call without tensor data: every tensor's shape and statistics (referenced tensors included,
 * with the shape of the tensor they refer to), and the call's `refs` as recorded.
 */
export type CallSummary = Omit<LayerCall, "tensors" | "stats"> & { tensors: Record<string, TensorSummary> };

/** How the run ended (the `run/end` event without its tag). */
export interface RunEnd {
  ok: boolean;
  error?: RunError;
  steps: number;
  durationMs: number;
  keptSteps: number[];
}

/** A trace event without tensor data: what the run model folds, and what the inspector receives. */
export type RunEvent = Exclude<TraceEvent, { type: "layer/call" }> | { type: "layer/call"; call: CallSummary };

export type RunStatus = "running" | "done" | "failed" | "stopped" | "lost";

export interface ConsoleLine {
  level: ConsoleLevel;
  text: string;
  site?: SourceSite;
}

/** Step summaries kept for curves; beyond this the model keeps every 2nd, 4th, … step (plus the first and the last). */
export const MAX_SUMMARIES = 20000;

/** References are followed at most this many hops (a well-formed trace needs one). */
const MAX_REF_HOPS = 8;

export interface RunModelOptions {
  /** Keep the tensor data of ingested calls (the host). Default true; the inspector's model has none. */
  keepTensors?: boolean;
  /** Bound on `summaries`. Default `MAX_SUMMARIES`. */
  maxSummaries?: number;
}

export class RunModel {
  /** Layers by id (order of construction). */
  readonly layers = new Map<number, LayerInfo>();
  /** Every recorded call without tensor data, in `seq` (completion) order. */
  readonly calls: CallSummary[] = [];
  /** Steps that have recorded calls or scalar values, ascending. */
  readonly steps: number[] = [];
  /** Step summaries in step order, bounded (see `MAX_SUMMARIES`). */
  readonly summaries: StepSummary[] = [];
  readonly scalarNodes: ScalarNode[] = [];
  readonly scalarBackwards: ScalarBackward[] = [];
  readonly anomalies: Anomaly[] = [];
  readonly gradChecks: GradCheckResult[] = [];
  readonly console: ConsoleLine[] = [];
  /** Set by `run/end`. */
  end: RunEnd | undefined;
  /** Incremented on every change, so views can tell what is new. */
  version = 0;

  private readonly bySeq = new Map<number, CallSummary>();
  private readonly byLayer = new Map<number, CallSummary[]>();
  private readonly byStep = new Map<number, CallSummary[]>();
  private readonly firstSeq = new Map<number, number>();
  private readonly firstTopSeq = new Map<number, number>();
  private readonly tensors = new Map<string, TensorData>();
  private readonly keepTensors: boolean;
  private readonly maxSummaries: number;
  private summaryStride = 1;

  constructor(
    readonly header: RunHeader,
    options: RunModelOptions = {},
  ) {
    this.keepTensors = options.keepTensors ?? true;
    this.maxSummaries = Math.max(3, options.maxSummaries ?? MAX_SUMMARIES);
  }

  get runId(): number {
    return this.header.runId;
  }

  /** The error of a failed run. */
  get error(): RunError | undefined {
    return this.end?.error;
  }

  // ------------------------------------------------------------------ the reducer

  /**
   * Takes a trace event as the producer sent it: keeps its tensor data (unless `keepTensors` is off),
   * folds it in, and returns it without tensor data (what the inspector is sent).
   */
  ingest(e: TraceEvent): RunEvent {
    if (e.type !== "layer/call") {
      this.apply(e);
      return e;
    }
    const call = e.call;
    if (this.keepTensors) for (const [name, t] of Object.entries(call.tensors)) this.tensors.set(key(call.seq, name), t);
    const out: RunEvent = { type: "layer/call", call: this.summarize(call) };
    this.apply(out);
    return out;
  }

  /**
   * Forgets the tensor data of call `seq` (its summary, shapes and statistics stay): the debugger's host
   * side frees what it added for the positions kept at a stop (extension/debug/runtime.ts). Returns the bytes freed.
   */
  forgetTensors(seq: number): number {
    const c = this.bySeq.get(seq);
    if (!c) return 0;
    let freed = 0;
    for (const name of Object.keys(c.tensors)) {
      const k = key(seq, name);
      const t = this.tensors.get(k);
      if (t) freed += t.data.byteLength;
      this.tensors.delete(k);
    }
    return freed;
  }

  /** Folds one event without tensor data into the model. Unknown event types are ignored. */
  apply(e: RunEvent): void {
    switch (e.type) {
      case "run/start":
        return; // the header says it
      case "layer/new":
        this.layers.set(e.layer.id, e.layer);
        break;
      case "layer/call":
        this.addCall(e.call);
        break;
      case "step/summary":
        this.addSummary(e.summary);
        break;
      case "scalar/node":
        this.scalarNodes.push(e.node);
        addSorted(this.steps, e.node.step);
        break;
      case "scalar/backward":
        this.scalarBackwards.push(e.backward);
        break;
      case "anomaly":
        this.anomalies.push(e.anomaly);
        break;
      case "gradcheck":
        this.gradChecks.push(e.result);
        break;
      case "console":
        this.console.push({ level: e.level, text: e.text, ...(e.site ? { site: e.site } : {}) });
        break;
      case "run/end":
        this.end = { ok: e.ok, steps: e.steps, durationMs: e.durationMs, keptSteps: e.keptSteps, ...(e.error ? { error: e.error } : {}) };
        break;
      default:
        return;
    }
    this.version++;
  }

  /** Events that rebuild this model in a fresh one (`apply` each): layers, scalar values, calls, summaries, the rest, the end. */
  replay(): RunEvent[] {
    const out: RunEvent[] = [];
    for (const layer of this.layers.values()) out.push({ type: "layer/new", layer });
    for (const node of this.scalarNodes) out.push({ type: "scalar/node", node });
    for (const backward of this.scalarBackwards) out.push({ type: "scalar/backward", backward });
    for (const call of this.calls) out.push({ type: "layer/call", call });
    for (const summary of this.summaries) out.push({ type: "step/summary", summary });
    for (const anomaly of this.anomalies) out.push({ type: "anomaly", anomaly });
    for (const result of this.gradChecks) out.push({ type: "gradcheck", result });
    for (const line of this.console) out.push({ type: "console", ...line });
    if (this.end) out.push({ type: "run/end", ...this.end });
    return out;
  }

  private addCall(c: CallSummary): void {
    const old = this.bySeq.get(c.seq);
    if (old) {
      // A call sent again (e.g. with tensors the debugger fetched): the new one replaces it everywhere.
      for (const list of [this.calls, this.byLayer.get(old.layer), this.byStep.get(old.step)]) list?.splice(list.indexOf(old), 1);
    }
    this.bySeq.set(c.seq, c);
    insertBySeq(this.calls, c);
    insertBySeq(listOf(this.byLayer, c.layer), c);
    insertBySeq(listOf(this.byStep, c.step), c);
    const first = this.firstSeq.get(c.layer);
    if (first === undefined || c.seq < first) this.firstSeq.set(c.layer, c.seq);
    if (c.parent === undefined) {
      const top = this.firstTopSeq.get(c.layer);
      if (top === undefined || c.seq < top) this.firstTopSeq.set(c.layer, c.seq);
    }
    addSorted(this.steps, c.step);
  }

  /**
   * Keeps the summaries bounded whatever order they arrive in: the kept set depends only on the steps
   * seen (every `stride`-th step, plus the first and the last), so a replayed model thins like the live one.
   */
  private addSummary(s: StepSummary): void {
    const list = this.summaries;
    const i = sortedIndex(list, s.step);
    if (list[i]?.step === s.step) list[i] = s;
    else list.splice(i, 0, s);
    const last = (list[list.length - 1] as StepSummary).step;
    let stride = this.summaryStride;
    while (Math.floor(last / stride) + 2 > this.maxSummaries) stride *= 2;
    const keep = (x: StepSummary, j: number, n: number): boolean => j === 0 || j === n - 1 || x.step % stride === 0;
    if (stride !== this.summaryStride) {
      this.summaryStride = stride;
      const kept = list.filter((x, j) => keep(x, j, list.length));
      list.length = 0;
      list.push(...kept);
      return;
    }
    // Only the new summary and its neighbours (which may have stopped being the first or the last) can go.
    const j = list.indexOf(s);
    for (const k of [j + 1, j, j - 1]) {
      const x = list[k];
      if (x !== undefined && !keep(x, k, list.length)) list.splice(k, 1);
    }
  }

  /** A call's summary: shapes and statistics of its tensors, references resolved to their shapes. */
  private summarize(call: LayerCall): CallSummary {
    const tensors: Record<string, TensorSummary> = {};
    // Another producer may leave statistics out: they follow from the data (or the tensor referred to).
    const stats: Partial<Record<string, TensorStats>> = call.stats ?? {};
    for (const [name, t] of Object.entries(call.tensors)) {
      tensors[name] = { shape: [...t.shape], stats: stats[name] ?? tensorStats(t), ...(t.dtype !== undefined ? { dtype: t.dtype } : {}) };
    }
    for (const [name, ref] of Object.entries(call.refs ?? {})) {
      if (name in tensors) continue;
      const target = this.summaryAt(ref);
      if (target) tensors[name] = { shape: [...target.shape], stats: stats[name] ?? target.stats, ...(target.dtype !== undefined ? { dtype: target.dtype } : {}) };
    }
    const { tensors: _data, stats: _stats, ...rest } = call;
    return { ...rest, tensors };
  }

  private summaryAt(ref: TensorRef): TensorSummary | undefined {
    const r = this.resolve(ref.seq, ref.name);
    return this.bySeq.get(r.seq)?.tensors[r.name];
  }

  // ------------------------------------------------------------------ lookups

  /**
   * Layers in network order: by their first call, then (never called) by construction order. With
   * `topLevelOnly`, only layers called from the model itself (not from inside another layer), by their
   * first such call.
   */
  layerOrder(options: { topLevelOnly?: boolean } = {}): LayerInfo[] {
    const first = options.topLevelOnly ? this.firstTopSeq : this.firstSeq;
    const key = (l: LayerInfo): number => first.get(l.id) ?? Number.MAX_SAFE_INTEGER;
    const layers = options.topLevelOnly ? [...this.layers.values()].filter((l) => first.has(l.id)) : [...this.layers.values()];
    return layers.sort((a, b) => key(a) - key(b) || a.id - b.id);
  }

  /** The call with this `seq`, if recorded. */
  call(seq: number): CallSummary | undefined {
    return this.bySeq.get(seq);
  }

  /** A layer's recorded calls in `seq` order (all steps). */
  callsOf(layer: number): readonly CallSummary[] {
    return this.byLayer.get(layer) ?? [];
  }

  /** A layer's calls in one step, in order (none when `step` is undefined). */
  callsIn(layer: number, step: number | undefined): CallSummary[] {
    return step === undefined ? [] : this.callsOf(layer).filter((c) => c.step === step);
  }

  /** Every call of one step, in order. */
  callsInStep(step: number | undefined): readonly CallSummary[] {
    return step === undefined ? [] : (this.byStep.get(step) ?? []);
  }

  /** The steps in which a layer has recorded calls, ascending. */
  stepsOf(layer: number): number[] {
    return [...new Set(this.callsOf(layer).map((c) => c.step))].sort((a, b) => a - b);
  }

  /** A layer's last recorded call of a phase (any step). */
  lastCall(layer: number, phase: Phase): CallSummary | undefined {
    return lastOf(this.callsOf(layer), phase);
  }

  /** The forward call a backward call goes with: the last forward of the same layer before it, in the same step. */
  forwardFor(backward: CallSummary): CallSummary | undefined {
    return forwardOf(this.callsOf(backward.layer), backward);
  }

  /** The backward call whose forward call this is, if recorded. */
  backwardFor(forward: CallSummary): CallSummary | undefined {
    return backwardOf(this.callsOf(forward.layer), forward);
  }

  /** The gradients a call computed (`dinputs`, `dweights`, …; not `dvalues`), in the call's order. */
  gradientNames(call: CallSummary): string[] {
    return call.phase === "backward" ? Object.keys(call.tensors).filter(isGradientName) : [];
  }

  /**
   * Where a call's tensor came from: the earlier call (and its tensor name) that made it, e.g. a
   * backward call's `dvalues` came from the next layer's `dinputs`. Known when the producer recorded
   * a reference (trace format 2); undefined otherwise.
   */
  origin(seq: number, name: string): { call: CallSummary; name: string } | undefined {
    const ref = this.bySeq.get(seq)?.refs?.[name];
    if (!ref) return undefined;
    const call = this.bySeq.get(ref.seq);
    return call ? { call, name: ref.name } : undefined;
  }

  /** Where the data of a call's tensor is: the call and name itself, or the tensor its references lead to. */
  resolve(seq: number, name: string): TensorRef {
    let at: TensorRef = { seq, name };
    for (let hops = 0; hops < MAX_REF_HOPS; hops++) {
      const ref = this.bySeq.get(at.seq)?.refs?.[at.name];
      if (!ref) break;
      at = { seq: ref.seq, name: ref.name };
    }
    return at;
  }

  /** A recorded tensor of a call (through references), or undefined when that step was not recorded. */
  tensor(seq: number, name: string): TensorData | undefined {
    const r = this.resolve(seq, name);
    return this.tensors.get(key(r.seq, r.name));
  }

  /** running / done / failed / stopped / lost (the model's process died, or the window closed during the run). */
  status(): RunStatus {
    if (!this.end) return "running";
    if (this.end.ok) return "done";
    const kind = this.end.error?.kind;
    return kind === "cancelled" ? "stopped" : kind === "lost" ? "lost" : "failed";
  }

  /** The anomalies that belong to a layer. */
  anomaliesOf(layer: number): Anomaly[] {
    return this.anomalies.filter((a) => a.layer === layer);
  }

  /** The latest gradient check of a layer. */
  gradCheckOf(layer: number): GradCheckResult | undefined {
    let last: GradCheckResult | undefined;
    for (const g of this.gradChecks) if (g.layer === layer) last = g;
    return last;
  }

  /** Every anomaly plus the failed gradient checks that no anomaly reports, errors first, then by step. */
  problems(): Anomaly[] {
    const out = [...this.anomalies];
    for (const g of this.gradChecks) {
      if (g.ok) continue;
      if (this.anomalies.some((a) => a.code === "gradient-check" && a.layer === g.layer)) continue;
      const bad = g.tensors.find((t) => !t.ok);
      const name = this.layers.get(g.layer)?.name ?? `layer ${g.layer}`;
      out.push({
        code: "gradient-check",
        severity: "error",
        step: g.step,
        layer: g.layer,
        ...(bad ? { tensor: bad.name } : {}),
        ...(bad?.worst ? { index: bad.worst.index } : {}),
        message: g.error ? `gradient check of ${name} could not run: ${g.error}` : `gradient check failed: ${name}.${bad?.name ?? "?"}`,
      });
    }
    const rank = { error: 0, warning: 1, information: 2 } as const;
    return out.sort((a, b) => rank[a.severity] - rank[b.severity] || a.step - b.step);
  }

  /** Step summaries that have a loss. */
  lossSummaries(): StepSummary[] {
    return this.summaries.filter((s) => s.loss !== undefined);
  }

  /** Gradient norms of a layer over the summarised steps: `{ steps, series: name → values }` (NaN where a step lacks one). */
  gradNorms(layer: number): { steps: number[]; series: Map<string, number[]> } {
    const steps: number[] = [];
    const series = new Map<string, number[]>();
    for (const s of this.summaries) {
      const g = s.grads?.find((x) => x.layer === layer);
      if (!g) continue;
      const i = steps.length;
      steps.push(s.step);
      for (const [name, v] of Object.entries(g.norms)) {
        let arr = series.get(name);
        if (!arr) series.set(name, (arr = new Array<number>(i).fill(NaN)));
        arr.push(v);
      }
      for (const arr of series.values()) if (arr.length < steps.length) arr.push(NaN);
    }
    return { steps, series };
  }

  /** The scalar values made in one step. */
  scalarNodesIn(step: number | undefined): ScalarNode[] {
    return this.scalarNodes.filter((n) => n.step === step);
  }

  /** The (last) scalar backward of one step. */
  scalarBackwardIn(step: number | undefined): ScalarBackward | undefined {
    let last: ScalarBackward | undefined;
    for (const b of this.scalarBackwards) if (b.step === step) last = b;
    return last;
  }
}

function key(seq: number, name: string): string {
  return `${seq}:${name}`;
}

function listOf<K, V>(map: Map<K, V[]>, k: K): V[] {
  let list = map.get(k);
  if (!list) map.set(k, (list = []));
  return list;
}

/** Inserts a call into a list kept in `seq` order (calls nearly always arrive in order: appended). */
function insertBySeq(list: CallSummary[], c: CallSummary): void {
  const n = list.length;
  if (n === 0 || (list[n - 1] as CallSummary).seq < c.seq) {
    list.push(c);
    return;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as CallSummary).seq < c.seq) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, c);
}

/** Index of the first summary whose step is ≥ `step`. */
function sortedIndex(list: readonly StepSummary[], step: number): number {
  const n = list.length;
  if (n === 0 || (list[n - 1] as StepSummary).step < step) return n;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as StepSummary).step < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function addSorted(steps: number[], step: number): void {
  const n = steps.length;
  if (n === 0 || step > (steps[n - 1] as number)) {
    steps.push(step);
    return;
  }
  if (steps.includes(step)) return;
  steps.push(step);
  steps.sort((a, b) => a - b);
}
