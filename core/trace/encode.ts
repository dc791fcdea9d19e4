/**
 * The trace as JSON (`docs/trace-format.md`): a header and the events in order. JSON has no
 * Float64Array and no NaN or Infinity, so tensors are written as `{ "shape": [...], "data": [...] }`
 * with plain numbers, and every non-finite number (in tensors or anywhere else) as the strings
 * `"NaN"`, `"Infinity"`, `"-Infinity"` (and negative zero as `"-0"`, which JSON would lose). Numbers
 * keep full float64 precision (JSON's shortest round-trip form), so a decoded trace equals the
 * recorded one bit for bit. The spelling is core/jsonNumbers.ts's `"trace"` one.
 */
import { decodeTraceNumber, encodeJson } from "../jsonNumbers";
import { TRACE_FORMAT_VERSION, type TraceEvent } from "./traceTypes";

/** The top level of a trace file. */
export interface TraceFile {
  format: "backprop-lens-trace";
  version: number;
  /** The model file that was run. */
  file: string;
  /** ISO time the run started. */
  createdAt: string;
  /** The producer, e.g. `backprop-lens 0.1.0` or a PyTorch hook script. */
  producer: string;
  events: TraceEvent[];
}

/** One event as JSON text, encoded as in a trace file's `events` (for writers that stream a trace). */
export function encodeEvent(event: TraceEvent): string {
  return JSON.stringify(encodeJson(event, "trace"));
}

/** Serialises a trace to JSON text. */
export function encodeTrace(file: string, events: readonly TraceEvent[], producer: string, createdAt = new Date(0)): string {
  const body: TraceFile = { format: "backprop-lens-trace", version: TRACE_FORMAT_VERSION, file, createdAt: createdAt.toISOString(), producer, events: [...events] };
  return JSON.stringify(encodeJson(body, "trace"));
}

/** Keys whose values are numbers that may be non-finite (written as strings). */
const NUMERIC = new Set(["local", "loss", "accuracy", "learningRate", "min", "max", "mean", "std", "norm", "data", "value", "analytic", "numeric", "absErr", "relErr", "dvalue", "grad"]);

function decodeValue(v: unknown, key: string, parent: string): unknown {
  if (Array.isArray(v)) {
    if (key === "data" && v.every((x) => typeof x === "number" || typeof x === "string")) return Float64Array.from(v, decodeTraceNumber);
    return v.map((x) => decodeValue(x, key, parent));
  }
  // Gradient norms are keyed by tensor name, so their values are numbers whatever the key.
  if (typeof v === "string" && (NUMERIC.has(key) || parent === "norms")) return decodeTraceNumber(v);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = decodeValue(x, k, key);
    return out;
  }
  return v;
}

/**
 * One event parsed from its JSON form (a trace file's `events` entry, or a line a producer streams):
 * non-finite numbers and tensor data restored. The result is unchecked: validate it before use.
 */
export function decodeEvent(raw: unknown): unknown {
  return decodeValue(raw, "", "events");
}

/** Parses a trace file, checking the format name and version. */
export function decodeTrace(text: string): TraceFile {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (raw.format !== "backprop-lens-trace") throw new Error(`not a Backprop Lens trace (format is ${JSON.stringify(raw.format)})`);
  if (typeof raw.version !== "number" || raw.version > TRACE_FORMAT_VERSION) {
    throw new Error(`trace format version ${String(raw.version)} is newer than this reader (${TRACE_FORMAT_VERSION})`);
  }
  return decodeValue(raw, "", "") as TraceFile;
}
