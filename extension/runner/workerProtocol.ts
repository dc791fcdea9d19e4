/** Messages between `runModel` (parent) and `worker.ts` (the model's thread). */
import type { GradCheckOptions, TraceEvent } from "../../core/host";
import type { ControlChannel, ControlWireMessage } from "./control";

/**
 * The compiled model a worker runs: one CommonJS bundle of the user's files. `compile.ts` makes it (its
 * `Compiled` adds the compile time); the protocol owns the shape so that it depends on no compiler.
 */
export interface CompiledBundle {
  file: string;
  code: string;
  /** The source map (JSON text); its sources are absolute paths. */
  map: string;
  /** Texts of the user's source files in the bundle, by absolute path (for names and messages). */
  sources: Record<string, string>;
}

/** `workerData` of a run. */
export interface WorkerInput {
  compiled: CompiledBundle;
  /** Limit of the JavaScript heap and, separately, of the tensors' buffers, in MB. */
  memoryLimitMb: number;
  /** Steps emitted with every tensor from step 0 (the last step is always emitted). */
  keepSteps: number;
  /** Gradient-check every layer at the end of the run (within `budgetMs` in all, when given). */
  gradCheck: (GradCheckOptions & { budgetMs?: number }) | false;
  /** More steps to record in full ("record step 1234"). */
  recordSteps?: number[];
  /** The control channel of a debug run (contract 6). */
  control?: ControlChannel;
}

/** From the worker: a batch of trace events (tensor buffers transferred), then `done`. */
export type WorkerMessage = { kind: "events"; events: TraceEvent[] } | { kind: "done" } | ControlWireMessage;

/** The module id the user writes. */
export const ENGINE_MODULE = "backprop-lens";
/** What the compiled bundle requires at run time; the worker answers it with its own engine instance. */
export const ENGINE_RUNTIME_ID = "backprop-lens/runtime-engine";
