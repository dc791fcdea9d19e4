/**
 * Turns a run model into the report the language server shows in the editor (hovers, diagnostics,
 * code lenses, inlay hints). Pure: imports core/ and the server's message types only, so the CLI,
 * tests and the extension host can all build a report.
 */
import type { RunModel } from "../core/run/runModel";
import type { LayerInfo, StepSummary, TensorData, TensorStats } from "../core/trace/traceTypes";
import type { LayerReport, RunReport, TensorPeek } from "./server/lspProtocol";

/** Rows and columns of a tensor's top-left corner kept for hovers. */
export const PEEK_ROWS = 3;
export const PEEK_COLS = 6;
/** Anomalies beyond this many are dropped from the report (the inspector still has them all). */
export const MAX_REPORT_ANOMALIES = 200;

/**
 * The report of a run: per layer its construction, the distinct lines that called its forward and
 * backward, peeks (shape, statistics, a 3×6 corner) of the tensors of its last recorded forward and
 * backward call, the norms of its gradients and its gradient check; plus the run's error, anomalies
 * and first/last step summaries. A run that has not ended is reported as not ok. With `upToSeq` (the
 * debugger's position), only calls up to that one count.
 */
export function buildRunReport(store: RunModel, upToSeq?: number): RunReport {
  const layers = [...store.layers.values()].sort((a, b) => a.id - b.id).map((info) => layerReport(store, info, upToSeq));
  const end = store.end;
  const summaries = store.summaries;
  const first = summaries[0];
  const last = summaries[summaries.length - 1];
  const steps = end?.steps ?? (last ? last.step + 1 : 0);
  return {
    runId: store.runId,
    file: store.header.file,
    finishedAt: store.header.startedAt + (end?.durationMs ?? 0),
    ok: end?.ok ?? false,
    ...(store.error ? { error: store.error } : {}),
    steps,
    durationMs: end?.durationMs ?? 0,
    layers,
    anomalies: store.anomalies.slice(0, MAX_REPORT_ANOMALIES),
    ...(first ? { first: stepOnly(first) } : {}),
    ...(last ? { last: stepOnly(last) } : {}),
  };
}

function layerReport(store: RunModel, info: LayerInfo, upToSeq: number | undefined): LayerReport {
  const callSites: LayerReport["callSites"] = [];
  const seen = new Set<string>();
  // A debug session paused at a position: the editor shows each layer as it was there.
  const upTo = upToSeq === undefined ? undefined : store.callsOf(info.id).filter((c) => c.seq <= upToSeq);
  const last = (phase: "forward" | "backward") => (upTo === undefined ? store.lastCall(info.id, phase) : [...upTo].reverse().find((c) => c.phase === phase));
  const lastForward = last("forward");
  const lastBackward = last("backward");
  for (const c of store.callsOf(info.id)) {
    if (!c.site) continue;
    const key = `${c.phase}\0${c.site.file}\0${c.site.line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    callSites.push({ phase: c.phase, site: { ...c.site } });
  }
  const tensors: Record<string, TensorPeek> = {};
  const lastCalls: NonNullable<LayerReport["lastCalls"]> = [];
  for (const c of [lastForward, lastBackward]) {
    if (!c) continue;
    lastCalls.push({
      phase: c.phase,
      step: c.step,
      seq: c.seq,
      ...(c.site ? { site: { ...c.site } } : {}),
      ...(c.loss !== undefined ? { loss: c.loss } : {}),
      ...(c.accuracy !== undefined ? { accuracy: c.accuracy } : {}),
    });
    for (const [name, t] of Object.entries(c.tensors)) tensors[name] = peek(t.shape, t.stats, store.tensor(c.seq, name));
  }
  const gradNorms: Record<string, number> = {};
  if (lastBackward) {
    for (const name of store.gradientNames(lastBackward)) gradNorms[name] = lastBackward.tensors[name]?.stats.norm ?? NaN;
  }
  const gradCheck = store.gradCheckOf(info.id);
  return {
    info,
    callSites,
    step: Math.max(lastForward?.step ?? -1, lastBackward?.step ?? -1),
    lastCalls,
    tensors,
    gradNorms,
    ...(gradCheck ? { gradCheck } : {}),
  };
}

/**
 * Shape, statistics and the top-left corner of a tensor: rows are the first dimension, columns the
 * rest flattened (a 1-D tensor is one row, a scalar a 1×1 corner). No corner when the data was not kept.
 */
export function peek(shape: readonly number[], stats: TensorStats, t: TensorData | undefined): TensorPeek {
  const corner: number[][] = [];
  if (t) {
    const size = t.data.length;
    const rows = shape.length <= 1 ? (size > 0 ? 1 : 0) : (shape[0] as number);
    const cols = rows === 0 ? 0 : Math.floor(size / rows);
    for (let r = 0; r < Math.min(rows, PEEK_ROWS); r++) {
      corner.push(Array.from(t.data.subarray(r * cols, r * cols + Math.min(cols, PEEK_COLS))));
    }
  }
  return { shape: [...shape], stats: { ...stats }, corner };
}

function stepOnly(s: StepSummary): StepSummary {
  return {
    step: s.step,
    ...(s.loss !== undefined ? { loss: s.loss } : {}),
    ...(s.accuracy !== undefined ? { accuracy: s.accuracy } : {}),
    ...(s.learningRate !== undefined ? { learningRate: s.learningRate } : {}),
  };
}
