/**
 * Custom messages between the extension (language client) and the Backprop Lens language server,
 * declared once with their types (rust-analyzer's `lsp_ext.ts` style). The server owns hovers,
 * diagnostics, code lenses and inlay hints on model files; the client tells it what each run found.
 */
import type { Anomaly, GradCheckResult, LayerInfo, Phase, RunError, SourceSite, StepSummary, TensorStats } from "../../core/host";
import { decodeMarked, encodeJson } from "../../core/jsonNumbers";

/** A few values of a tensor for a hover: the top-left corner and the shape. */
export interface TensorPeek {
  shape: number[];
  stats: TensorStats;
  /** Up to 3 rows × 6 columns from the top-left corner, row-major. */
  corner: number[][];
}

/** One layer as the last run saw it. */
export interface LayerReport {
  info: LayerInfo;
  /** Where its forward and backward were called (distinct lines). */
  callSites: { phase: Phase; site: SourceSite }[];
  /** The step the tensors come from (the last recorded step); −1 when the layer was never called. */
  step: number;
  /** The calls the tensors come from: the last recorded forward and the last recorded backward. */
  lastCalls?: { phase: Phase; step: number; seq: number; site?: SourceSite; loss?: number; accuracy?: number }[];
  /** `output`, `inputs`, `dinputs`, `dweights`, `dbiases`, …: the last recorded call of each phase. */
  tensors: Record<string, TensorPeek>;
  /** ‖dP‖ for each gradient of the last recorded step. */
  gradNorms: Record<string, number>;
  gradCheck?: GradCheckResult;
}

/** What a run found, for one model file (and the files it imports). */
export interface RunReport {
  runId: number;
  /** Absolute path of the model file that was run. */
  file: string;
  finishedAt: number;
  ok: boolean;
  error?: RunError;
  steps: number;
  durationMs: number;
  layers: LayerReport[];
  anomalies: Anomaly[];
  /** First and last step summaries (loss, accuracy). */
  first?: StepSummary;
  last?: StepSummary;
}

/**
 * Client → server: a run finished (or failed); replaces the previous report for that file.
 * Params: `encodeWire(report)` (see below), decoded by the server with `decodeWire`.
 */
export const RUN_REPORT_NOTIFICATION = "backpropLens/runReport";

/** Client → server: forget every report (e.g. "Clear Results"). */
export const CLEAR_REPORTS_NOTIFICATION = "backpropLens/clearReports";

/** Client → server request: the layer whose construction or call is on a line (for tests and commands). */
export const LAYER_AT_REQUEST = "backpropLens/layerAt";
export interface LayerAtParams {
  /** Document URI (file://…). */
  uri: string;
  /** 0-based line. */
  line: number;
}
/** How a line relates to a layer: it constructs it, or calls its forward / backward. */
export type LayerRole = "construction" | "forward" | "backward";
/**
 * The first layer on the line (constructions before calls, newest run first), or null.
 * Sent as `encodeWire(result)`; decode with `decodeWire`.
 */
export type LayerAtResult = {
  runId: number;
  layer: LayerReport;
  /** What the line does with the layer. */
  roles: LayerRole[];
  /** True when the line was edited since the run (the values are from before the edit). */
  changed: boolean;
} | null;

/** The command a hover link runs to open a layer's card (arguments: `[{ layer, file }]`). */
export const REVEAL_LAYER_COMMAND = "backpropLens.revealLayer";
/** The command the top-of-file code lens runs (argument: the document URI string). */
export const RUN_COMMAND = "backpropLens.runBackwardPass";
/** The command of the "Debug Backward Pass" lens beside it (argument: the document URI string). */
export const DEBUG_COMMAND = "backpropLens.debugBackwardPass";

/**
 * JSON-RPC carries JSON, which has no NaN or ±Infinity (`JSON.stringify` turns them into `null`),
 * yet a report holds them whenever a run went non-finite (statistics, a loss, a corner value). Both
 * sides therefore send reports and layer results through `encodeWire` and read them with
 * `decodeWire`: every non-finite number travels as `{ "$nonFinite": "NaN" | "Infinity" | "-Infinity" }`.
 */
/** A deep copy of `value` with every non-finite number replaced by its `{ $nonFinite }` marker (core/jsonNumbers.ts). */
export function encodeWire(value: unknown): unknown {
  return encodeJson(value, "marker");
}

/** The inverse of `encodeWire`. The result is trusted to be a `T` (both sides ship in one VSIX). */
export function decodeWire<T>(value: unknown): T {
  return decodeMarked(value) as T;
}
