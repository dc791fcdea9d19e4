/**
 * Tensors: plain data, a row-major `Float64Array` with a shape. Cheap to copy, to send to the
 * webview and to compare in tests. No classes, no hidden caches.
 */
import { ArgumentError, ShapeError, TensorTooLargeError, showShape } from "./errors";
import { runtime } from "./runtime";

/** A row-major float64 tensor. `data.length` is the product of `shape`. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** What the public API accepts where a tensor is expected: a tensor, nested arrays, or a flat array. */
export type TensorLike = Tensor | readonly number[] | readonly (readonly number[])[] | Float64Array;

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** True when `x` is a tensor (a shape and a Float64Array of matching size). */
export function isTensor(x: unknown): x is Tensor {
  if (typeof x !== "object" || x === null) return false;
  const t = x as { shape?: unknown; data?: unknown };
  return Array.isArray(t.shape) && t.data instanceof Float64Array;
}

function checkShape(shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ArgumentError(`invalid shape ${showShape(shape)}: dimensions must be whole numbers ≥ 0`);
  }
  const n = sizeOf(shape);
  if (n > runtime.maxElements) {
    const mb = (n * 8) / 2 ** 20;
    throw new TensorTooLargeError(
      `a tensor of shape ${showShape(shape)} has ${n.toLocaleString("en-US")} elements (${mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${mb.toFixed(0)} MB`}), ` +
        `over this run's limit of ${runtime.maxElements.toLocaleString("en-US")} elements`,
      shape,
    );
  }
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[]): Tensor {
  checkShape(shape);
  const n = sizeOf(shape);
  runtime.onAlloc?.(n * 8, shape);
  return { shape: [...shape], data: new Float64Array(n) };
}

/** What `uninitialized` allocates with where it can: Node's `Buffer.allocUnsafeSlow` (absent elsewhere). */
const unsafeAlloc = (globalThis as { Buffer?: { allocUnsafeSlow?: (bytes: number) => { buffer: ArrayBuffer; byteOffset: number; byteLength: number } } }).Buffer
  ?.allocUnsafeSlow;

/** Below this many elements a zeroed array costs no more than an uninitialized one. */
const UNINITIALIZED_MIN = 512;

/**
 * A tensor whose elements are NOT set (they hold whatever the allocator's memory held): for results
 * that the caller overwrites in full before anyone can see them, which saves zeroing memory that is
 * written again at once. Its data is an ordinary Float64Array over an ArrayBuffer of its own (never a
 * pool, never shared), as `zeros` gives. Where Node's `Buffer` is not available (a browser), or for
 * small tensors, it is `zeros`.
 */
export function uninitialized(shape: readonly number[]): Tensor {
  checkShape(shape);
  const n = sizeOf(shape);
  runtime.onAlloc?.(n * 8, shape);
  if (unsafeAlloc !== undefined && n >= UNINITIALIZED_MIN) {
    const b = unsafeAlloc(n * 8);
    // allocUnsafeSlow never pools: the buffer is this array's alone (checked, in case a runtime differs).
    if (b.byteOffset === 0 && b.byteLength === n * 8 && b.buffer.byteLength === n * 8) return { shape: [...shape], data: new Float64Array(b.buffer, 0, n) };
  }
  return { shape: [...shape], data: new Float64Array(n) };
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number): Tensor {
  const t = zeros(shape);
  t.data.fill(value);
  return t;
}

/** Wraps existing data (not copied) with a shape; the sizes must agree. */
export function fromData(shape: readonly number[], data: Float64Array): Tensor {
  checkShape(shape);
  if (data.length !== sizeOf(shape)) {
    throw new ShapeError(`fromData: ${data.length} values do not fill a tensor of shape ${showShape(shape)}`, "fromData", { shape });
  }
  return { shape: [...shape], data };
}

/**
 * Builds a tensor from nested arrays (`[[1, 2], [3, 4]]` is `[2, 2]`), a flat array (`[1, 2, 3]` is `[3]`),
 * a Float64Array, or returns a tensor unchanged. Ragged rows are an error naming the row.
 */
export function tensor(x: TensorLike, shape?: readonly number[]): Tensor {
  if (isTensor(x)) return shape === undefined ? x : fromData(shape, x.data);
  if (x instanceof Float64Array) return fromData(shape ?? [x.length], x);
  if (!Array.isArray(x)) throw new ArgumentError(`expected a tensor or an array of numbers, got ${typeof x}`);
  if (x.length > 0 && Array.isArray(x[0])) {
    const rows = x as readonly (readonly number[])[];
    const cols = rows[0]?.length ?? 0;
    const t = zeros([rows.length, cols]);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as readonly number[];
      if (!Array.isArray(r) || r.length !== cols) {
        throw new ShapeError(`row ${i} has ${Array.isArray(r) ? r.length : "no"} values but row 0 has ${cols}`, "tensor", {});
      }
      for (let j = 0; j < cols; j++) t.data[i * cols + j] = toNumber(r[j], i, j);
    }
    return shape === undefined ? t : fromData(shape, t.data);
  }
  const flat = x as readonly number[];
  const t = zeros(shape ?? [flat.length]);
  if (t.data.length !== flat.length) {
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${showShape(shape ?? [])}`, "tensor", {});
  }
  for (let i = 0; i < flat.length; i++) t.data[i] = toNumber(flat[i], i);
  return t;
}

function toNumber(v: unknown, ...index: number[]): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new ArgumentError(`element [${index.join("][")}] is ${JSON.stringify(v)}, not a number`);
}

/** A copy with its own buffer. */
export function clone(t: Tensor): Tensor {
  return { shape: [...t.shape], data: t.data.slice() };
}

/** The same data viewed with another shape of equal size. */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  return fromData(shape, t.data);
}

/** Nested arrays (rows of a 2-D tensor, a flat array of a 1-D one): for printing and tests. */
export function toArray(t: Tensor): number[] | number[][] {
  if (t.shape.length <= 1) return Array.from(t.data);
  const cols = t.shape[t.shape.length - 1] as number;
  const rows = t.data.length / Math.max(1, cols);
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) out.push(Array.from(t.data.subarray(i * cols, (i + 1) * cols)));
  return out;
}

/** Number of rows (first dimension) of a tensor; 1 for a scalar. */
export function rowsOf(t: Tensor): number {
  return t.shape.length === 0 ? 1 : (t.shape[0] as number);
}

/** Number of columns (last dimension) of a tensor; 1 for a scalar or a 1-D tensor. */
export function colsOf(t: Tensor): number {
  return t.shape.length < 2 ? 1 : (t.shape[t.shape.length - 1] as number);
}

/** Element `[i, j]` of a 2-D tensor (or `[i]` of a 1-D one). */
export function at(t: Tensor, i: number, j = 0): number {
  const cols = t.shape.length < 2 ? 1 : (t.shape[1] as number);
  return t.data[i * cols + j] as number;
}

/** True when both shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Throws a `ShapeError` naming the op and the argument unless `t` has shape `want`. */
export function expectShape(op: string, arg: string, t: Tensor, want: readonly number[]): void {
  if (!sameShape(t.shape, want)) {
    throw new ShapeError(`${op}: '${arg}' is ${showShape(t.shape)}, expected ${showShape(want)}`, op, { [arg]: t.shape, expected: want });
  }
}

/** Throws a `ShapeError` unless `t` is 2-D; returns `[rows, cols]`. */
export function expect2d(op: string, arg: string, t: Tensor): [number, number] {
  if (t.shape.length !== 2) {
    throw new ShapeError(`${op}: '${arg}' must be 2-D [samples, features] but is ${showShape(t.shape)}`, op, { [arg]: t.shape });
  }
  return [t.shape[0] as number, t.shape[1] as number];
}
