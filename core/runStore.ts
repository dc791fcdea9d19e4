/**
 * The run store: one per run, fed the trace events as they arrive, holding summaries of everything
 * and the tensors of the recorded steps (the recorder already bounds those). It turns trace events
 * into inspector messages (`toMessages`), replays a whole run for a panel that opens late
 * (`replay`), and answers tensor requests. Pure: used by the extension host, the webview's dev page
 * and tests alike.
 */
import type { CallSummary, RunEnd, RunHeader, ToWebview } from "./protocol";
import type { Anomaly, GradCheckResult, LayerCall, LayerInfo, RunError, ScalarBackward, ScalarNode, SourceSite, StepSummary, TensorData, TraceEvent } from "./trace/traceTypes";

/** Step summaries kept for curves; beyond this the store keeps every other one (the curve stays the same shape). */
const MAX_SUMMARIES = 20000;

export interface ConsoleLine {
  level: "log" | "info" | "warn" | "error";
  text: string;
  site?: SourceSite;
}

export class RunStore {
  readonly layers = new Map<number, LayerInfo>();
  /** Calls in order, without tensors. */
  readonly calls: CallSummary[] = [];
  readonly summaries: StepSummary[] = [];
  readonly scalarNodes: ScalarNode[] = [];
  readonly scalarBackwards: ScalarBackward[] = [];
  readonly anomalies: Anomaly[] = [];
  readonly gradChecks: GradCheckResult[] = [];
  readonly console: ConsoleLine[] = [];
  end: RunEnd | undefined;
  private readonly tensors = new Map<string, TensorData>();
  private summaryStride = 1;

  constructor(readonly header: RunHeader) {}

  get runId(): number {
    return this.header.runId;
  }

  /** Records an event and returns the inspector messages it becomes (possibly none). */
  ingest(e: TraceEvent): ToWebview[] {
    const runId = this.header.runId;
    switch (e.type) {
      case "run/start":
        return [];
      case "layer/new":
        this.layers.set(e.layer.id, e.layer);
        return [{ type: "run/layer", runId, layer: e.layer }];
      case "layer/call": {
        const call = summarize(e.call);
        for (const [name, t] of Object.entries(e.call.tensors)) this.tensors.set(`${e.call.seq}:${name}`, t);
        this.calls.push(call);
        return [{ type: "run/call", runId, call }];
      }
      case "step/summary":
        this.addSummary(e.summary);
        return [{ type: "run/steps", runId, summaries: [e.summary] }];
      case "scalar/node":
        this.scalarNodes.push(e.node);
        return [{ type: "run/scalarNodes", runId, nodes: [e.node] }];
      case "scalar/backward":
        this.scalarBackwards.push(e.backward);
        return [{ type: "run/scalarBackward", runId, backward: e.backward }];
      case "anomaly":
        this.anomalies.push(e.anomaly);
        return [{ type: "run/anomaly", runId, anomaly: e.anomaly }];
      case "gradcheck":
        this.gradChecks.push(e.result);
        return [{ type: "run/gradcheck", runId, result: e.result }];
      case "console": {
        const line: ConsoleLine = { level: e.level, text: e.text, ...(e.site ? { site: e.site } : {}) };
        this.console.push(line);
        return [{ type: "run/console", runId, ...line }];
      }
      case "run/end":
        this.end = { ok: e.ok, steps: e.steps, durationMs: e.durationMs, keptSteps: e.keptSteps, ...(e.error ? { error: e.error } : {}) };
        return [{ type: "run/ended", runId, end: this.end }];
    }
  }

  private addSummary(s: StepSummary): void {
    if (s.step % this.summaryStride !== 0 && s.loss !== undefined && Number.isFinite(s.loss)) return;
    this.summaries.push(s);
    if (this.summaries.length > MAX_SUMMARIES) {
      this.summaryStride *= 2;
      const kept = this.summaries.filter((x, i) => i === 0 || x.step % this.summaryStride === 0);
      this.summaries.length = 0;
      this.summaries.push(...kept);
    }
  }

  /** The messages that rebuild this run in a fresh inspector, in the order a live run sent them. */
  replay(): ToWebview[] {
    const runId = this.header.runId;
    const out: ToWebview[] = [{ type: "run/started", run: this.header }];
    for (const layer of this.layers.values()) out.push({ type: "run/layer", runId, layer });
    if (this.scalarNodes.length > 0) out.push({ type: "run/scalarNodes", runId, nodes: [...this.scalarNodes] });
    for (const backward of this.scalarBackwards) out.push({ type: "run/scalarBackward", runId, backward });
    for (const call of this.calls) out.push({ type: "run/call", runId, call });
    if (this.summaries.length > 0) out.push({ type: "run/steps", runId, summaries: [...this.summaries] });
    for (const anomaly of this.anomalies) out.push({ type: "run/anomaly", runId, anomaly });
    for (const result of this.gradChecks) out.push({ type: "run/gradcheck", runId, result });
    for (const line of this.console) out.push({ type: "run/console", runId, ...line });
    if (this.end) out.push({ type: "run/ended", runId, end: this.end });
    return out;
  }

  /** A recorded tensor of a call, or undefined when that step was not recorded. */
  tensor(seq: number, name: string): TensorData | undefined {
    return this.tensors.get(`${seq}:${name}`);
  }

  /** The error of a failed run. */
  get error(): RunError | undefined {
    return this.end?.error;
  }
}

/** A call's shapes and statistics without its data. */
export function summarize(call: LayerCall): CallSummary {
  const tensors: CallSummary["tensors"] = {};
  for (const [name, t] of Object.entries(call.tensors)) {
    const stats = call.stats[name];
    if (stats) tensors[name] = { shape: [...t.shape], stats, ...(t.dtype !== undefined ? { dtype: t.dtype } : {}) };
  }
  return {
    step: call.step,
    seq: call.seq,
    layer: call.layer,
    phase: call.phase,
    ...(call.site ? { site: call.site } : {}),
    ...(call.parent !== undefined ? { parent: call.parent } : {}),
    tensors,
    ...(call.loss !== undefined ? { loss: call.loss } : {}),
    ...(call.accuracy !== undefined ? { accuracy: call.accuracy } : {}),
  };
}
