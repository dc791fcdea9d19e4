/**
 * The one protocol between the extension host and the Gradient Inspector webview. Both sides import
 * this file (types and tiny pure helpers only).
 *
 * - Tags are `area/verb` string literals.
 * - The webview opens with the `ui/ready` event; the host answers `session/ready` (carrying
 *   `PROTOCOL_VERSION`) and then replays the current run with the same events a live run sends, so a
 *   panel opened late or restored after a reload shows exactly what a panel open from the start shows.
 * - Summaries are pushed; tensors are pulled on demand (`trace/tensor`) as raw float64 bytes.
 * - Requests are answered exactly once, with a result or an error; the caller times out otherwise.
 * - Everything that crosses the boundary is `unknown` until a guard (`isEnvelope`, `isFromWebview`)
 *   accepts it.
 */
import type {
  Anomaly,
  ConsoleLevel,
  GradCheckResult,
  LayerInfo,
  Phase,
  RunError,
  ScalarBackward,
  ScalarNode,
  SourceSite,
  StepSummary,
  TensorStats,
} from "./trace/traceTypes";

export const PROTOCOL_VERSION = 1;

/** What the inspector knows about a run before any event of it. */
export interface RunHeader {
  runId: number;
  /** Absolute path of the model file. */
  file: string;
  startedAt: number;
}

/** A layer call without its tensors: names, shapes and statistics; the tensors are fetched on demand. */
export interface CallSummary {
  step: number;
  seq: number;
  layer: number;
  phase: Phase;
  site?: SourceSite;
  parent?: number;
  /** `dtype`: the producer's element type when it was not float64 (the Python tracer's float32, int64, …). */
  tensors: Record<string, { shape: number[]; stats: TensorStats; dtype?: string }>;
  loss?: number;
  accuracy?: number;
}

/** How the run ended. */
export interface RunEnd {
  ok: boolean;
  error?: RunError;
  steps: number;
  durationMs: number;
  keptSteps: number[];
}

/** Events from the host to the webview. Every `run/*` event carries the run it belongs to. */
export type ToWebview =
  | { type: "session/ready"; protocolVersion: number; run?: RunHeader }
  | { type: "run/started"; run: RunHeader }
  | { type: "run/layer"; runId: number; layer: LayerInfo }
  | { type: "run/call"; runId: number; call: CallSummary }
  | { type: "run/steps"; runId: number; summaries: StepSummary[] }
  | { type: "run/scalarNodes"; runId: number; nodes: ScalarNode[] }
  | { type: "run/scalarBackward"; runId: number; backward: ScalarBackward }
  | { type: "run/anomaly"; runId: number; anomaly: Anomaly }
  | { type: "run/gradcheck"; runId: number; result: GradCheckResult }
  | { type: "run/console"; runId: number; level: ConsoleLevel; text: string; site?: SourceSite }
  | { type: "run/ended"; runId: number; end: RunEnd }
  /** Scroll to and focus a layer's card (from a hover link or a code lens in the editor). */
  | { type: "ui/reveal"; layer: number; step?: number };

/** Events from the webview to the host. */
export type FromWebview =
  | { type: "ui/ready"; protocolVersion: number }
  /** Reveal and highlight a source position in the editor. */
  | { type: "ui/openSource"; site: SourceSite }
  /** Run the last model file again / stop the running one. */
  | { type: "ui/runAgain" }
  | { type: "ui/stop" };

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

const TO_WEBVIEW = new Set<ToWebview["type"]>([
  "session/ready",
  "run/started",
  "run/layer",
  "run/call",
  "run/steps",
  "run/scalarNodes",
  "run/scalarBackward",
  "run/anomaly",
  "run/gradcheck",
  "run/console",
  "run/ended",
  "ui/reveal",
]);

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

/** Accepts exactly the events the webview may send (the host trusts nothing else). */
export function isFromWebview(x: unknown): x is FromWebview {
  if (!isObject(x) || typeof x.type !== "string") return false;
  switch (x.type) {
    case "ui/ready":
      return typeof x.protocolVersion === "number";
    case "ui/openSource":
      return isSite(x.site);
    case "ui/runAgain":
    case "ui/stop":
      return true;
    default:
      return false;
  }
}

/** Accepts the events the host sends (the webview's guard). */
export function isToWebview(x: unknown): x is ToWebview {
  return isObject(x) && typeof x.type === "string" && TO_WEBVIEW.has(x.type as ToWebview["type"]);
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
