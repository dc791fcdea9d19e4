/**
 * The worker thread's `WorkerControl` (contract 6; see control.ts): one per model thread, created by
 * worker.ts before the model runs and handed to whoever asks (`workerControl()`: the debugger's
 * worker-side code, which is bundled into the same worker).
 *
 * Commands arrive on a private MessagePort from the model process's main thread; `poll()` reads it with
 * `receiveMessageOnPort`, `wait()` blocks in `Atomics.wait` on the shared `COMMAND` slot, which the main
 * thread bumps and notifies after queueing a command. Before blocking, `wait()` flushes the trace
 * events and tells the main thread it is paused (so paused time is not counted against the time limit).
 */
import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import type { TraceRecorder } from "../../core/host";
import { type ControlMessage, SAB, WORKER_STATE, type WorkerControl, isControlMessage } from "./control";

export interface WorkerControlDeps {
  control: MessagePort;
  sab: Int32Array;
  /** Flushes pending trace events to the main thread. */
  flush(): void;
  /** Posts a message to the main thread on the events port, in order after the flushed events. */
  send(message: { kind: "control"; message: ControlMessage } | { kind: "paused" } | { kind: "resumed" }, transfer?: ArrayBuffer[]): void;
}

let instance: WorkerControl | undefined;

/** The model thread's control channel, once worker.ts has created it (undefined outside a debug run's worker). */
export function workerControl(): WorkerControl | undefined {
  return instance;
}

/** What worker-side code (the debugger's) gets just before the model's first line runs. */
export interface ModelStart {
  /** The control channel, on a debug run (`runModel({ control: true })`). */
  control: WorkerControl | undefined;
  /** The run's trace recorder (installed, nothing recorded yet). */
  recorder: TraceRecorder;
  /** The model file. */
  file: string;
}

const starts: ((s: ModelStart) => void)[] = [];
let ownControl = false;

/**
 * Registers worker-side code to run before each model starts (modules bundled into the worker register
 * at import time). A hook that throws fails the run before the model starts. With `ownsControl`, the
 * hook takes the control channel of a debug run for itself and the debugger's worker side is not
 * started (a worker bundle built for something other than the debugger, e.g. the channel's tests).
 */
export function onModelStart(hook: (s: ModelStart) => void, options: { ownsControl?: boolean } = {}): void {
  starts.push(hook);
  if (options.ownsControl) ownControl = true;
}

/** True when registered worker-side code took the control channel (see `onModelStart`). */
export function controlIsOwned(): boolean {
  return ownControl;
}

/** Called by worker.ts. */
export function modelStarting(s: ModelStart): void {
  for (const h of starts) h(s);
}

export function createWorkerControl(deps: WorkerControlDeps): WorkerControl {
  const { control, sab } = deps;
  // Captured before the model runs, so a model that replaces these cannot see or alter commands.
  const receive = receiveMessageOnPort;
  const wait = Atomics.wait;
  const load = Atomics.load;
  const store = Atomics.store;
  // Commands taken so far; the main thread bumps COMMAND once per command it queues, so when the two are
  // equal there is nothing to read (one atomic load: poll() runs at every position of a debug run).
  let consumed = 0;
  const next = (): ControlMessage | undefined => {
    for (;;) {
      if (load(sab, SAB.COMMAND) === consumed) return undefined;
      const got = receive(control);
      if (got === undefined) return undefined;
      consumed++;
      if (isControlMessage(got.message)) return got.message;
      // Not a command: skip it (the main thread validates what it forwards; this is a second guard).
    }
  };
  const ctl: WorkerControl = {
    poll: next,
    wait(): ControlMessage {
      deps.flush();
      const ready = next();
      if (ready !== undefined) return ready; // no pause at all
      deps.send({ kind: "paused" });
      store(sab, SAB.STATE, WORKER_STATE.PAUSED);
      try {
        for (;;) {
          const seen = load(sab, SAB.COMMAND);
          const m = next();
          if (m !== undefined) return m;
          wait(sab, SAB.COMMAND, seen);
        }
      } finally {
        store(sab, SAB.STATE, WORKER_STATE.RUNNING);
        deps.send({ kind: "resumed" });
      }
    },
    post(m: ControlMessage, transfer?: ArrayBuffer[]): void {
      if (!isControlMessage(m)) throw new TypeError("WorkerControl.post: a control message is an object with a string `type`");
      deps.flush();
      deps.send({ kind: "control", message: m }, transfer);
    },
  };
  instance = ctl;
  return ctl;
}
