/**
 * The one protocol between the extension host and the Gradient Inspector webview. Both sides import
 * this file (types and tiny pure helpers only).
 *
 * - Tags are `area/verb` string literals.
 * - The webview opens with the `ui/ready` event; the host answers `session/ready` (carrying
 *   `PROTOCOL_VERSION`), then `run/started` and one `run/events` with the current run's replay, so a
 *   panel opened late or restored after a reload shows exactly what a panel open from the start shows.
 * - A run's trace events reach the webview unchanged but without tensor data (`RunEvent`, batched in
 *   `run/events`); the webview folds them into its own `RunModel` (core/run). Adding a trace event
 *   needs no new message. Tensors are pulled on demand (`trace/tensor`) as raw float64 bytes.
 * - Requests are answered exactly once, with a result or an error; the caller times out otherwise.
 * - Everything that crosses the boundary is `unknown` until a guard (`isEnvelope`, `isFromWebview`,
 *   `isToWebview`) accepts it.
 */
import type { RunEvent, RunHeader } from "./run/runModel";
import type { SourceSite } from "./trace/traceTypes";

export type { RunEvent, RunHeader };

/** 2: trace events in `run/events` instead of one message kind per event. 3: `run/cleared`. */
export const PROTOCOL_VERSION = 3;

/** Events from the host to the webview. */
export type ToWebview =
  | { type: "session/ready"; protocolVersion: number; run?: RunHeader }
  /** A new run (or the replay of the current one): the webview starts a fresh run model. */
  | { type: "run/started"; run: RunHeader }
  /** Trace events of run `runId`, in order, without tensor data. */
  | { type: "run/events"; runId: number; events: RunEvent[] }
  /** Clear Results: the shown run is forgotten (the inspector says so until the next run). */
  | { type: "run/cleared" }
  /**
   * Scroll to a layer's card (at a step); with `element`, select that element of call `seq` and open its
   * chain rule (the debugger's "Show Chain Rule" in the Variables view).
   */
  | { type: "ui/reveal"; layer: number; step?: number; element?: { seq: number; tensor: string; index: number[] } }
  /**
   * Where the debugger is paused (the inspector follows it: that step, that call's card highlighted,
   * calls after it in the step shown as not computed yet); no `position` when it runs on or has ended
   * (`ended`: the session is over, and the inspector goes back to the run's last step, as the editor does).
   */
  | { type: "debug/position"; runId: number; position?: DebugPositionInfo; ended?: true };

/** The debugger's current position as the inspector needs it. */
export interface DebugPositionInfo {
  step: number;
  /** The newest layer call completed at this position (calls after it in the step are not computed yet). */
  seq: number;
  /** The layer called or updated here. */
  layer?: number;
  /** `dense2.backward`, `SGD update dense1`. */
  label: string;
  /** False when the session shows a recorded position behind the model's. */
  live: boolean;
}

/** Events from the webview to the host. */
export type FromWebview =
  | { type: "ui/ready"; protocolVersion: number }
  /** Reveal and highlight a source position in the editor. */
  | { type: "ui/openSource"; site: SourceSite }
  /** Run the last model file again / stop the running one. */
  | { type: "ui/runAgain" }
  | { type: "ui/stop" }
  /** Run the model again recording this step in full (no step: ask which). */
  | { type: "ui/recordStep"; step?: number };

/** Requests the webview may send; the host answers each exactly once. */
export interface Requests {
  /** One tensor of one call, as raw float64 bytes (little-endian, row-major, exactly `size · 8` bytes). */
  "trace/tensor": { params: { runId: number; seq: number; name: string }; result: { shape: number[]; data: ArrayBuffer } };
}

export type RequestMethod = keyof Requests;

export type Envelope =
  | { kind: "event"; body: ToWebview | FromWebview }
  | { kind: "request"; id: number; method: RequestMethod; params: unknown }
  | { kind: "reply"; id: number; result?: unknown; error?: string };

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null;
}

function isSite(x: unknown): x is SourceSite {
  return isObject(x) && typeof x.file === "string" && typeof x.line === "number" && typeof x.column === "number";
}

/** Accepts a well-formed envelope (any direction). */
export function isEnvelope(x: unknown): x is Envelope {
  if (!isObject(x)) return false;
  if (x.kind === "event") return isObject(x.body) && typeof x.body.type === "string";
  if (x.kind === "request") return typeof x.id === "number" && x.method === "trace/tensor" && "params" in x;
  if (x.kind === "reply") return typeof x.id === "number";
  return false;
}

type Guards<T extends { type: string }> = { [K in T["type"]]: (x: Record<string, unknown>) => boolean };

/** What each event the webview may send must hold (the host trusts nothing else). */
const FROM_WEBVIEW: Guards<FromWebview> = {
  "ui/ready": (x) => typeof x.protocolVersion === "number",
  "ui/openSource": (x) => isSite(x.site),
  "ui/runAgain": () => true,
  "ui/stop": () => true,
  "ui/recordStep": (x) => x.step === undefined || (typeof x.step === "number" && Number.isInteger(x.step) && x.step >= 0),
};

/** What each event the host sends must hold (the webview's guard). */
const TO_WEBVIEW: Guards<ToWebview> = {
  "session/ready": (x) => typeof x.protocolVersion === "number",
  "run/started": (x) => isObject(x.run) && typeof x.run.runId === "number",
  "run/events": (x) => typeof x.runId === "number" && Array.isArray(x.events) && x.events.every((e) => isObject(e) && typeof e.type === "string"),
  "run/cleared": () => true,
  "ui/reveal": (x) =>
    typeof x.layer === "number" &&
    (x.element === undefined || (isObject(x.element) && typeof x.element.seq === "number" && typeof x.element.tensor === "string" && Array.isArray(x.element.index) && x.element.index.every((i: unknown) => Number.isInteger(i)))),
  "debug/position": (x) =>
    typeof x.runId === "number" &&
    (x.position === undefined || (isObject(x.position) && typeof x.position.step === "number" && typeof x.position.seq === "number" && typeof x.position.label === "string")),
};

function accepted<T extends { type: string }>(guards: Guards<T>, x: unknown): x is T {
  if (!isObject(x) || typeof x.type !== "string" || !Object.prototype.hasOwnProperty.call(guards, x.type)) return false;
  return (guards as Record<string, (x: Record<string, unknown>) => boolean>)[x.type]?.(x) ?? false;
}

/** Accepts exactly the events the webview may send. */
export function isFromWebview(x: unknown): x is FromWebview {
  return accepted(FROM_WEBVIEW, x);
}

/** Accepts the events the host sends. */
export function isToWebview(x: unknown): x is ToWebview {
  return accepted(TO_WEBVIEW, x);
}

/** Accepts `trace/tensor` params. */
export function isTensorParams(x: unknown): x is Requests["trace/tensor"]["params"] {
  return isObject(x) && typeof x.runId === "number" && typeof x.seq === "number" && typeof x.name === "string";
}

/** A tight ArrayBuffer holding exactly the bytes of `a` (a view may sit inside a larger pooled buffer). */
export function bytesOf(a: Float64Array): ArrayBuffer {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? (a.buffer as ArrayBuffer) : (a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength) as ArrayBuffer);
}

/** Key of a tensor in caches: `runId:seq:name`. */
export function tensorKey(runId: number, seq: number, name: string): string {
  return `${runId}:${seq}:${name}`;
}
