/**
 * JSON has no NaN, ±Infinity, −0 or Float64Array, yet traces and run reports hold them whenever a run
 * went non-finite. One codec writes such values for JSON everywhere, in one of two spellings:
 * - `"trace"`: the trace file's (docs/trace-format.md): a non-finite number as the string `"NaN"`,
 *   `"Infinity"` or `"-Infinity"`, negative zero as `"-0"`; its reader knows which keys hold numbers
 *   (`decodeTrace` in core/trace/encode.ts);
 * - `"marker"`: self-describing, for messages between processes (the language server's reports):
 *   `{ "$nonFinite": "NaN" | "Infinity" | "-Infinity" }`, read back by `decodeMarked` without a schema.
 * Typed arrays become plain arrays; `undefined` object fields are dropped (as `JSON.stringify` does).
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export type Spelling = "trace" | "marker";

/** The key of the `"marker"` spelling's object. */
export const NON_FINITE_KEY = "$nonFinite";

function nonFiniteName(v: number): "NaN" | "Infinity" | "-Infinity" {
  return v !== v ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
}

/** A deep copy of `value` that `JSON.stringify` keeps exactly. */
export function encodeJson(value: unknown, spelling: Spelling): Json {
  if (typeof value === "number") {
    if (Number.isFinite(value)) return spelling === "trace" && Object.is(value, -0) ? "-0" : value;
    return spelling === "trace" ? nonFiniteName(value) : { [NON_FINITE_KEY]: nonFiniteName(value) };
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>, (x) => encodeJson(x, spelling));
  if (Array.isArray(value)) return value.map((x) => encodeJson(x, spelling));
  if (value === undefined) return null;
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "object") {
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(value as Record<string, unknown>)) if (x !== undefined) out[k] = encodeJson(x, spelling);
    return out;
  }
  return String(value);
}

/** A number in the `"trace"` spelling back to the number; throws on anything else. */
export function decodeTraceNumber(x: unknown): number {
  if (typeof x === "number") return x;
  if (x === "NaN") return NaN;
  if (x === "Infinity") return Infinity;
  if (x === "-Infinity") return -Infinity;
  if (x === "-0") return -0;
  throw new Error(`trace: expected a number, got ${JSON.stringify(x)}`);
}

/** The inverse of `encodeJson(value, "marker")`. */
export function decodeMarked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeMarked);
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === NON_FINITE_KEY) {
      const v = o[NON_FINITE_KEY];
      return v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : NaN;
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = decodeMarked(o[k]);
    return out;
  }
  return value;
}
