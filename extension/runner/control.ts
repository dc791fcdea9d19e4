/**
 * The control channel between the host and a running model (contract 6 of the plan): commands from the
 * host to the model's thread and control messages back, next to the trace events.
 *
 * - Host side: `RunHandle.send(cmd)` and `RunHandle.onControl(cb)` (runModel.ts). Commands reach the
 *   model process over its stdin; control messages come back on the same ordered stream as the trace
 *   events, so a control message is delivered after every event the model emitted before it.
 * - Model side (TypeScript/JavaScript models): the worker thread has one `WorkerControl`
 *   (`workerControl()` in workerControl.ts). `wait()` blocks the model's thread with `Atomics.wait` on
 *   a SharedArrayBuffer shared with the model process's main thread, which stays free: it keeps
 *   answering the host, forwards commands (waking the worker with `Atomics.notify`), and does not count
 *   the paused time towards the time limit. Stop kills the whole process, paused or not.
 * - Python models speak the same messages as JSON lines: commands on the tracer's stdin, control
 *   messages as `{"type":"control","message":{…}}` lines in its output, in order with the trace events.
 *
 * Imports nothing from vscode; shared by the host, the model process and the worker.
 */

/** Host → model process commands and model process → host control messages: JSON-serialisable, tagged. */
export interface ControlMessage {
  type: string;
  [key: string]: unknown;
}

/** The model thread's end of the control channel (see the file comment). */
export interface WorkerControl {
  /** The next command without blocking, if one has arrived. */
  poll(): ControlMessage | undefined;
  /**
   * Flushes pending trace events, then blocks the model thread (Atomics.wait) until a command arrives.
   * Time spent here does not count towards the time limit; Stop still ends the process at once.
   */
  wait(): ControlMessage;
  /** Sends a control message after the trace events emitted before it. */
  post(m: ControlMessage, transfer?: ArrayBuffer[]): void;
}

/** Longest `type` tag accepted. */
const MAX_TYPE_LENGTH = 200;

/** True for a plain object with a short string `type` (what crosses the channel in either direction). */
export function isControlMessage(x: unknown): x is ControlMessage {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const t = (x as { type?: unknown }).type;
  return typeof t === "string" && t.length > 0 && t.length <= MAX_TYPE_LENGTH;
}

/**
 * Layout of the Int32Array over the SharedArrayBuffer that the model process's main thread and the
 * worker share. Index meanings:
 */
export const SAB = {
  /** Bumped (and notified) by the main thread after it queued a command for the worker. */
  COMMAND: 0,
  /** Trace batches the worker has posted. */
  POSTED: 1,
  /** Trace batches the main thread has passed on to the host (backpressure: the worker waits while POSTED − RELEASED is large). */
  RELEASED: 2,
  /** 1 while the worker is in `WorkerControl.wait()`, 2 while it waits for RELEASED (backpressure), else 0. */
  STATE: 3,
  /** Set to 1 by the main thread once it has passed on everything before the model signals its own process (process.kill). */
  KILL_ACK: 4,
  /** Int32 slots in all. */
  LENGTH: 5,
} as const;

export const WORKER_STATE = { RUNNING: 0, PAUSED: 1, BACKPRESSURE: 2 } as const;

/** Trace batches the worker may have posted that the main thread has not passed on yet. */
export const WORKER_WINDOW = 8;
