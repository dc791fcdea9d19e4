/**
 * The inspector's data state: one union rendered by a switch (`AppState`), and the reducer that
 * folds host events into it. Live runs and replayed runs arrive as the same events, so they go
 * through the same `reduce`.
 *
 * A `RunModel` only grows while its run lasts (calls, summaries, console lines …), and a training
 * run streams tens of thousands of events, so `reduce` appends to the current run's arrays in place
 * and bumps `version` instead of copying them; a new `run/started` creates a fresh model.
 */
import { PROTOCOL_VERSION, type CallSummary, type RunEnd, type RunHeader, type ToWebview } from "../core/protocol";
import { type Anomaly, type ConsoleLevel, type GradCheckResult, type LayerInfo, type ScalarBackward, type ScalarNode, type SourceSite, type StepSummary, baseName } from "../core/trace/traceTypes";

export interface ConsoleEntry {
  level: ConsoleLevel;
  text: string;
  site?: SourceSite;
}

export interface RunModel {
  header: RunHeader;
  layers: Map<number, LayerInfo>;
  /** Calls in arrival (= seq) order, without tensors. */
  calls: CallSummary[];
  /** Calls per layer id. */
  callsByLayer: Map<number, CallSummary[]>;
  /** The seq of each layer's first call: network order. */
  firstSeq: Map<number, number>;
  /** Steps that have recorded calls or scalar values, ascending. */
  steps: number[];
  summaries: StepSummary[];
  scalarNodes: ScalarNode[];
  scalarBackwards: ScalarBackward[];
  anomalies: Anomaly[];
  gradChecks: GradCheckResult[];
  console: ConsoleEntry[];
  end?: RunEnd;
  /** Incremented on every change, so views can tell what is new. */
  version: number;
}

export type AppState =
  /** Waiting for `session/ready`. */
  | { kind: "connecting" }
  /** Connected; no run yet. */
  | { kind: "empty" }
  | { kind: "run"; run: RunModel }
  /** The host speaks another protocol version (the panel outlived an update). */
  | { kind: "incompatible"; message: string };

export type RunStatus = "running" | "done" | "failed" | "stopped" | "lost";

export function newRun(header: RunHeader): RunModel {
  return {
    header,
    layers: new Map(),
    calls: [],
    callsByLayer: new Map(),
    firstSeq: new Map(),
    steps: [],
    summaries: [],
    scalarNodes: [],
    scalarBackwards: [],
    anomalies: [],
    gradChecks: [],
    console: [],
    version: 0,
  };
}

function addStep(run: RunModel, step: number): void {
  const s = run.steps;
  if (s.length === 0 || step > (s[s.length - 1] as number)) {
    s.push(step);
    return;
  }
  if (s.includes(step)) return;
  s.push(step);
  s.sort((a, b) => a - b);
}

/** Folds one host event into the state. `ui/reveal` is not state (the app handles it). */
export function reduce(state: AppState, msg: ToWebview): AppState {
  switch (msg.type) {
    case "session/ready":
      if (msg.protocolVersion !== PROTOCOL_VERSION) {
        return { kind: "incompatible", message: `The extension speaks protocol version ${msg.protocolVersion}, this panel version ${PROTOCOL_VERSION}. Close and reopen the Gradient Inspector.` };
      }
      if (msg.run) {
        // The replay that follows starts with run/started; keep what we have of the same run until then.
        if (state.kind === "run" && state.run.header.runId === msg.run.runId) return state;
        return { kind: "run", run: newRun(msg.run) };
      }
      return state.kind === "run" ? state : { kind: "empty" };
    case "run/started":
      // A new run (or the replay of the current one) replaces whatever was shown.
      return { kind: "run", run: newRun(msg.run) };
    case "ui/reveal":
      return state;
    default:
      break;
  }
  if (state.kind !== "run" || msg.runId !== state.run.header.runId) return state; // a stale run's event
  const run = state.run;
  switch (msg.type) {
    case "run/layer":
      run.layers.set(msg.layer.id, msg.layer);
      break;
    case "run/call": {
      const c = msg.call;
      run.calls.push(c);
      let list = run.callsByLayer.get(c.layer);
      if (!list) run.callsByLayer.set(c.layer, (list = []));
      list.push(c);
      const first = run.firstSeq.get(c.layer);
      if (first === undefined || c.seq < first) run.firstSeq.set(c.layer, c.seq);
      addStep(run, c.step);
      break;
    }
    case "run/steps":
      for (const s of msg.summaries) run.summaries.push(s);
      break;
    case "run/scalarNodes":
      for (const n of msg.nodes) {
        run.scalarNodes.push(n);
        addStep(run, n.step);
      }
      break;
    case "run/scalarBackward":
      run.scalarBackwards.push(msg.backward);
      break;
    case "run/anomaly":
      run.anomalies.push(msg.anomaly);
      break;
    case "run/gradcheck":
      run.gradChecks.push(msg.result);
      break;
    case "run/console":
      run.console.push({ level: msg.level, text: msg.text, ...(msg.site ? { site: msg.site } : {}) });
      break;
    case "run/ended":
      run.end = msg.end;
      for (const s of msg.end.keptSteps) if (run.calls.some((c) => c.step === s) || run.scalarNodes.some((n) => n.step === s)) addStep(run, s);
      break;
  }
  run.version++;
  return state;
}

/** running / done / failed / stopped / lost (the model's process died, or the window closed during the run). */
export function runStatus(run: RunModel): RunStatus {
  if (!run.end) return "running";
  if (run.end.ok) return "done";
  const kind = run.end.error?.kind;
  return kind === "cancelled" ? "stopped" : kind === "lost" ? "lost" : "failed";
}

/** Layers in network order: by first call, then (never called) by construction order. */
export function layerOrder(run: RunModel): LayerInfo[] {
  const key = (l: LayerInfo): number => run.firstSeq.get(l.id) ?? Number.MAX_SAFE_INTEGER;
  return [...run.layers.values()].sort((a, b) => key(a) - key(b) || a.id - b.id);
}

/** The steps the picker offers (recorded ones). */
export function pickableSteps(run: RunModel): number[] {
  return run.steps;
}

/** The step to show: the chosen one if recorded, else step 0 (or the first recorded). */
export function effectiveStep(run: RunModel, chosen: number | undefined): number | undefined {
  if (chosen !== undefined && run.steps.includes(chosen)) return chosen;
  if (run.steps.includes(0)) return 0;
  return run.steps[0];
}

/** A layer's calls in one step, in order. */
export function callsIn(run: RunModel, layer: number, step: number | undefined): CallSummary[] {
  return (run.callsByLayer.get(layer) ?? []).filter((c) => c.step === step);
}

/** The forward call a backward call goes with: the last forward of the same layer before it, in the same step. */
export function forwardFor(run: RunModel, backward: CallSummary): CallSummary | undefined {
  let best: CallSummary | undefined;
  for (const c of run.callsByLayer.get(backward.layer) ?? []) {
    if (c.phase === "forward" && c.step === backward.step && c.seq < backward.seq && (!best || c.seq > best.seq)) best = c;
  }
  return best;
}

/** Calls of any layer of `kind` in a step (e.g. the CCE whose targets a Softmax needs). */
export function callsOfKind(run: RunModel, kind: LayerInfo["kind"], step: number | undefined): CallSummary[] {
  return run.calls.filter((c) => c.step === step && run.layers.get(c.layer)?.kind === kind);
}

/** The anomalies that belong to a layer. */
export function anomaliesOf(run: RunModel, layer: number): Anomaly[] {
  return run.anomalies.filter((a) => a.layer === layer);
}

/** The latest gradient check of a layer. */
export function gradCheckOf(run: RunModel, layer: number): GradCheckResult | undefined {
  let last: GradCheckResult | undefined;
  for (const g of run.gradChecks) if (g.layer === layer) last = g;
  return last;
}

/** Problems for the strip: every anomaly, plus failed gradient checks that no anomaly reports. */
export function problems(run: RunModel): Anomaly[] {
  const out = [...run.anomalies];
  for (const g of run.gradChecks) {
    if (g.ok) continue;
    if (run.anomalies.some((a) => a.code === "gradient-check" && a.layer === g.layer)) continue;
    const bad = g.tensors.find((t) => !t.ok);
    const name = run.layers.get(g.layer)?.name ?? `layer ${g.layer}`;
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
export function lossSummaries(run: RunModel): StepSummary[] {
  return run.summaries.filter((s) => s.loss !== undefined);
}

/** Gradient norms of a layer over steps: `{ steps, series: name → values }` (NaN where a step lacks one). */
export function gradNorms(run: RunModel, layer: number): { steps: number[]; series: Map<string, number[]> } {
  const steps: number[] = [];
  const series = new Map<string, number[]>();
  for (const s of run.summaries) {
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

/** The scalar nodes of one step. */
export function scalarNodesIn(run: RunModel, step: number | undefined): ScalarNode[] {
  return run.scalarNodes.filter((n) => n.step === step);
}

/** The scalar backward of one step (the last one). */
export function scalarBackwardIn(run: RunModel, step: number | undefined): ScalarBackward | undefined {
  let last: ScalarBackward | undefined;
  for (const b of run.scalarBackwards) if (b.step === step) last = b;
  return last;
}

export { baseName };

/** `file.ts:12`. */
export function siteLabel(site: SourceSite): string {
  return `${baseName(site.file)}:${site.line}`;
}
