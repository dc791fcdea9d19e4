/**
 * Custom messages between the extension (language client) and the Backprop Lens language server,
 * declared once with their types (rust-analyzer's `lsp_ext.ts` style). The server owns hovers,
 * diagnostics, code lenses and inlay hints on model files; the client tells it what each run found.
 */
import type { Anomaly, GradCheckResult, LayerInfo, Phase, RunError, SourceSite, StepSummary, TensorStats } from "../../core/host";

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
  /** The step the tensors come from (the last recorded step). */
  step: number;
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

/** Client → server: a run finished (or failed); replaces the previous report for that file. */
export const RUN_REPORT_NOTIFICATION = "backpropLens/runReport";
export type RunReportParams = RunReport;

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
export type LayerAtResult = { runId: number; layer: LayerReport } | null;

/** The command a hover link runs to open a layer's card (arguments: `[{ layer, file }]`). */
export const REVEAL_LAYER_COMMAND = "backpropLens.revealLayer";
/** The command the top-of-file code lens runs (argument: the document URI string). */
export const RUN_COMMAND = "backpropLens.runBackwardPass";
