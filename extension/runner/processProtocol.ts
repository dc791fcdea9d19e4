/**
 * Messages between the host (`supervisor.ts`) and the model process (`modelProcess.ts`), framed with
 * `frames.ts`: host → process on the process's stdin, process → host on its file descriptor 3.
 *
 * Every process → host message after `hello` carries the run's token, which the host sends in `init`
 * and which lives only in the model process's main thread (never in argv or the environment), so bytes
 * that something else in the process writes into the pipe are not taken for the supervisor's.
 */
import * as os from "node:os";
import type { RunError, SourceSite, TraceEvent } from "../../core/host";
import type { ControlMessage } from "./control";
import type { ProcessLauncher } from "./launcher";
import type { WorkerInput } from "./workerProtocol";

/** What the model process runs: the compiled model in a worker thread, or another program (Python). */
export type Producer = { kind: "worker"; workerScript: string; input: WorkerInput } | { kind: "process"; launcher: ProcessLauncher };

export interface RunSpec {
  producer: Producer;
  /** Memory the model may add to its process (RSS over the level before the model started), MB. */
  memoryLimitMb: number;
  /** Stop the model after this long, not counting time paused in the debugger. */
  timeLimitMs: number;
  /** For the trace limiter: steps recorded in full from step 0. */
  keepSteps: number;
  /** Base name of the model file, for messages. */
  fileName: string;
}

export type HostToProcess =
  | { t: "init"; token: string; spec: RunSpec }
  /** The host has taken in batch `seq` (backpressure: the process keeps few batches unacknowledged). */
  | { t: "ack"; seq: number }
  | { t: "control"; message: ControlMessage };

/** How a program producer (a ProcessLauncher's) ended, for the host to explain (e.g. "no Python found"). */
export interface ProgramExit {
  /** The executable that ran (or the last one tried). */
  command: string;
  /** False when no command of the launcher could be started. */
  started: boolean;
  /** Frames it wrote before it ended. */
  frames: number;
  code: number | null;
  signal: string | null;
  /** Its last lines of stderr. */
  stderr: string[];
}

/** How a run ended, as the model process saw it. */
export interface ProcessEnd {
  ok: boolean;
  error?: RunError;
  steps: number;
  keptSteps: number[];
  /** From the model's start to its end, not counting paused time. */
  durationMs: number;
  /** For a program producer. */
  program?: ProgramExit;
}

export type ProcessToHost =
  /** The process is up (and, for a worker producer started early, its worker has loaded). */
  | { t: "hello"; pid: number; prestarted: boolean }
  /** The model has started running (`startMs`: from init to the model's first line, on the process's clock). */
  | { t: "started"; token: string; startMs: number; childPid?: number }
  | { t: "events"; token: string; seq: number; events: TraceEvent[] }
  | { t: "control"; token: string; seq: number; message: ControlMessage }
  /** The model thread is paused in `WorkerControl.wait()` (true) or runs again (false). */
  | { t: "paused"; token: string; paused: boolean }
  /** Something the runner itself wants logged (not the model's output). */
  | { t: "log"; token: string; message: string }
  | { t: "end"; token: string; end: ProcessEnd }
  /** The model is signalling its own process (everything it traced before has been sent). */
  | { t: "dying"; token: string; signal: string; site?: SourceSite };

/** File descriptor of the process → host message pipe in the model process. */
export const MESSAGE_FD = 3;

/** Batches the process may have sent that the host has not acknowledged. */
export const HOST_WINDOW = 4;
/** Most events and tensor bytes in one batch to the host. */
export const BATCH_EVENTS = 2000;
export const BATCH_BYTES = 8 * 2 ** 20;

/** `signal 9 (SIGKILL)`: how messages name a signal. */
export function signalText(signal: string): string {
  const n = (os.constants.signals as Record<string, number | undefined>)[signal];
  return n !== undefined ? `signal ${n} (${signal})` : `signal ${signal}`;
}
