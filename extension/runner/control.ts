/**
 * The control channel between the host and a running model (contract 6 of the plan): host → model
 * commands and model → host control messages, JSON-serialisable and tagged.
 *
 * This is the implementation on today's worker thread (the model runs in a worker of the extension
 * host or CLI process): commands travel on a dedicated `MessagePort`, and a counter in a
 * `SharedArrayBuffer` says how many were sent, so the model's thread can block in `Atomics.wait` until
 * one arrives (paused in the debugger) and check for one in nanoseconds when it is not paused. The
 * worker's control messages go through the worker's ordinary port, after the trace events emitted
 * before them. While the worker waits, `runModel` does not count the time towards the time limit;
 * `terminate()` ends a waiting worker at once.
 */
import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";

/** Host → model process commands and model process → host control messages: JSON-serialisable, tagged. */
export interface ControlMessage {
  type: string;
  [key: string]: unknown;
}

/** The model thread's end of the channel, handed to whoever asks (the debugger's worker-side code). */
export interface WorkerControl {
  /** The next command without blocking, if one has arrived. */
  poll(): ControlMessage | undefined;
  /**
   * Flushes pending trace events, then blocks the model thread (Atomics.wait) until a command arrives.
   * Time spent here does not count towards the time limit; Stop still ends the worker at once.
   */
  wait(): ControlMessage;
  /** Sends a control message after the trace events emitted before it. */
  post(m: ControlMessage, transfer?: ArrayBuffer[]): void;
}

/** What `runModel` hands the worker (in `workerData`; the port in the transfer list). */
export interface ControlChannel {
  /** `Int32Array` view: [0] counts commands sent. */
  signal: SharedArrayBuffer;
  port: MessagePort;
}

/** Worker → parent messages of the channel (besides the trace events). */
export type ControlWireMessage = { kind: "control"; message: ControlMessage } | { kind: "waiting"; waiting: boolean };

/** The worker's side: `send` posts on the worker's parent port, `flush` sends the pending trace events first. */
export function workerControl(channel: ControlChannel, send: (m: ControlWireMessage, transfer?: ArrayBuffer[]) => void, flush: () => void): WorkerControl {
  const signal = new Int32Array(channel.signal);
  let consumed = 0;
  const take = (): ControlMessage | undefined => {
    const m = receiveMessageOnPort(channel.port);
    if (m === undefined) return undefined;
    consumed++;
    return m.message as ControlMessage;
  };
  return {
    poll(): ControlMessage | undefined {
      // One atomic load when nothing was sent: this runs at every position of a debug run.
      if (Atomics.load(signal, 0) === consumed) return undefined;
      return take();
    },
    wait(): ControlMessage {
      flush();
      const ready = take();
      if (ready !== undefined) return ready;
      send({ kind: "waiting", waiting: true });
      try {
        for (;;) {
          const seen = Atomics.load(signal, 0);
          const m = take();
          if (m !== undefined) return m;
          Atomics.wait(signal, 0, seen);
        }
      } finally {
        send({ kind: "waiting", waiting: false });
      }
    },
    post(m: ControlMessage, transfer?: ArrayBuffer[]): void {
      flush();
      send({ kind: "control", message: m }, transfer);
    },
  };
}

/** The host's side: sends a command and wakes a waiting worker. */
export function hostControl(): { channel: { signal: SharedArrayBuffer; port: MessagePort }; send(cmd: ControlMessage): void; close(): void } {
  // Imported lazily so that plain runs never create a channel.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { MessageChannel } = require("node:worker_threads") as typeof import("node:worker_threads");
  const sab = new SharedArrayBuffer(8);
  const signal = new Int32Array(sab);
  const { port1, port2 } = new MessageChannel();
  return {
    channel: { signal: sab, port: port2 },
    send(cmd: ControlMessage): void {
      port1.postMessage(cmd);
      Atomics.add(signal, 0, 1);
      Atomics.notify(signal, 0);
    },
    close(): void {
      port1.close();
    },
  };
}
