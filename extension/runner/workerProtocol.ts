/**
 * Messages between the model process's main thread (`modelProcess.ts`) and the worker thread that runs
 * the model (`worker.ts`).
 *
 * They never use the worker's `parentPort`, which the model can reach (`require("worker_threads")`):
 * `workerData` carries two private MessagePorts and a SharedArrayBuffer, which worker.ts takes out of
 * `workerData` before any model code runs. Whatever arrives on `parentPort` is ignored (and counted).
 */
import type { MessagePort } from "node:worker_threads";
import type { GradCheckOptions, SourceSite, TraceEvent } from "../../core/host";
import type { ControlMessage } from "./control";

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

/** The run a worker is to do (sent on the events port once the worker is up). */
export interface WorkerInput {
  compiled: CompiledBundle;
  /** Memory limit in MB (heap via `resourceLimits`, the process's RSS by the main thread). */
  memoryLimitMb: number;
  /** Steps emitted with every tensor from step 0 (the last step is always emitted). */
  keepSteps: number;
  /** Gradient-check every layer at the end of the run (within `budgetMs` in all, when given). */
  gradCheck: (GradCheckOptions & { budgetMs?: number }) | false;
  /** More steps to record in full ("record step 1234"). */
  recordSteps?: number[];
  /** A debug run: the worker has a `WorkerControl` (`workerControl()`) and the debugger's worker side. */
  control: boolean;
}

/** `workerData` of the worker (taken apart by worker.ts before the model runs). */
export interface WorkerBoot {
  /** worker → main: WorkerMessage; main → worker: `{ kind: "start", input }`. */
  events: MessagePort;
  /** main → worker: control commands (read with `receiveMessageOnPort`). */
  control: MessagePort;
  /** Int32 slots, see `SAB` in control.ts. */
  sab: SharedArrayBuffer;
  /** Largest single tensor (elements), from the memory limit. */
  memoryLimitMb: number;
}

export type MainToWorker = { kind: "start"; input: WorkerInput };

export type WorkerMessage =
  /** The worker has loaded and waits for `start`. */
  | { kind: "ready" }
  /** The model's first line is about to run. */
  | { kind: "running" }
  /** The top level and main() have finished; only callbacks (timers, promises) are left. */
  | { kind: "settled" }
  /** A batch of trace events (tensor buffers transferred); the last batch of a run ends with run/end. */
  | { kind: "events"; events: TraceEvent[] }
  | { kind: "control"; message: ControlMessage }
  | { kind: "paused" }
  | { kind: "resumed" }
  /** The model is about to signal its own process (process.kill): everything before must reach the host first. */
  | { kind: "killing"; signal: string; site?: SourceSite };

/** The module id the user writes. */
export const ENGINE_MODULE = "backprop-lens";
/** What the compiled bundle requires at run time; the worker answers it with its own engine instance. */
export const ENGINE_RUNTIME_ID = "backprop-lens/runtime-engine";
