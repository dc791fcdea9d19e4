/**
 * The matrix operations chapter 9 needs, each written once: dot products with transposes, sums over
 * an axis with kept dimensions, broadcasting a row, element-wise maps. Shapes are `[rows, cols]`.
 */
import { ShapeError, showShape } from "../errors";
import { type Tensor, expect2d, sizeOf, uninitialized, zeros } from "../tensor";
import { addRowTs, sumRowsInto } from "./elementwise";
import { gemm } from "./gemm";

/** Options of `dot`: which operands are transposed before multiplying. */
export interface DotOptions {
  /** Use aᵀ instead of a. */
  transA?: boolean;
  /** Use bᵀ instead of b. */
  transB?: boolean;
}

/**
 * Matrix product `op(a) · op(b)` (numpy's `np.dot` for 2-D arrays), with optional transposes that cost
 * nothing extra: `dot(x, w)` is the Dense forward, `dot(x, dy, { transA: true })` is `xᵀ · dy`,
 * `dot(dy, w, { transB: true })` is `dy · wᵀ`.
 */
export function dot(a: Tensor, b: Tensor, opts: DotOptions = {}, op = "dot"): Tensor {
  const [ar, ac] = expect2d(op, "a", a);
  const [br, bc] = expect2d(op, "b", b);
  const M = opts.transA ? ac : ar;
  const K = opts.transA ? ar : ac;
  const Kb = opts.transB ? bc : br;
  const N = opts.transB ? br : bc;
  if (K !== Kb) {
    const an = opts.transA ? "aᵀ" : "a";
    const bn = opts.transB ? "bᵀ" : "b";
    throw new ShapeError(
      `${op}: cannot multiply ${an} ${showShape([M, K])} by ${bn} ${showShape([Kb, N])}: ${an} has ${K} columns but ${bn} has ${Kb} rows`,
      op,
      { a: a.shape, b: b.shape },
    );
  }
  const out = uninitialized([M, N]); // gemm writes every element (zeros when K = 0)
  gemm(opts.transA === true, opts.transB === true, M, N, K, a.data, b.data, out.data);
  return out;
}

/** Transpose of a 2-D tensor (a copy). */
export function transpose(a: Tensor): Tensor {
  const [r, c] = expect2d("transpose", "a", a);
  const out = zeros([c, r]);
  const s = a.data;
  const d = out.data;
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) d[j * r + i] = s[i * c + j] as number;
  return out;
}

/** `x + row` with the `[1, cols]` row broadcast over every row of x, written into x. */
export function addRowInPlace(x: Tensor, row: Tensor, op = "addRow"): Tensor {
  const [r, c] = expect2d(op, "x", x);
  if (sizeOf(row.shape) !== c) {
    throw new ShapeError(`${op}: cannot add a row of shape ${showShape(row.shape)} to each row of ${showShape(x.shape)}`, op, { x: x.shape, row: row.shape });
  }
  addRowTs(x.data, row.data, r, c);
  return x;
}

/** Sum over the rows, keeping the dimension: `np.sum(x, axis=0, keepdims=True)`, shape `[1, cols]`. */
export function sumRows(x: Tensor): Tensor {
  const [r, c] = expect2d("sumRows", "x", x);
  const out = uninitialized([1, c]); // every element is written
  sumRowsInto(x.data, r, c, out.data);
  return out;
}

/** Sum over the columns, keeping the dimension: `np.sum(x, axis=1, keepdims=True)`, shape `[rows, 1]`. */
export function sumCols(x: Tensor): Tensor {
  const [r, c] = expect2d("sumCols", "x", x);
  const out = zeros([r, 1]);
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += x.data[i * c + j] as number;
    out.data[i] = s;
  }
  return out;
}

/** A new tensor with `f` applied to every element. */
export function map(x: Tensor, f: (v: number, i: number) => number): Tensor {
  const out = zeros(x.shape);
  const s = x.data;
  const d = out.data;
  for (let i = 0; i < s.length; i++) d[i] = f(s[i] as number, i);
  return out;
}

/** A new tensor with `f(a[i], b[i])`; the shapes must be equal. */
export function zip(a: Tensor, b: Tensor, f: (x: number, y: number) => number, op = "zip"): Tensor {
  if (a.data.length !== b.data.length) {
    throw new ShapeError(`${op}: shapes ${showShape(a.shape)} and ${showShape(b.shape)} differ`, op, { a: a.shape, b: b.shape });
  }
  const out = zeros(a.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(a.data[i] as number, b.data[i] as number);
  return out;
}

/** `a + s·b` (s a number), a new tensor. */
export function addScaled(a: Tensor, b: Tensor, s: number): Tensor {
  return zip(a, b, (x, y) => x + s * y, "addScaled");
}

/** `a += s·b` in place (what `weights += -lr * dweights` does). */
export function addScaledInPlace(a: Tensor, b: Tensor, s: number): Tensor {
  if (a.data.length !== b.data.length) {
    throw new ShapeError(`addScaledInPlace: shapes ${showShape(a.shape)} and ${showShape(b.shape)} differ`, "addScaledInPlace", { a: a.shape, b: b.shape });
  }
  const d = a.data;
  const e = b.data;
  for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) + s * (e[i] as number);
  return a;
}

/** `x · s`, a new tensor. */
export function scale(x: Tensor, s: number): Tensor {
  return map(x, (v) => v * s);
}

/** Index of the largest value of each row: `np.argmax(x, axis=1)`, as a plain array. */
export function argmaxRows(x: Tensor): number[] {
  const [r, c] = expect2d("argmaxRows", "x", x);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    let best = 0;
    let bv = -Infinity;
    for (let j = 0; j < c; j++) {
      const v = x.data[i * c + j] as number;
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Mean of all elements. */
export function mean(x: Tensor): number {
  let s = 0;
  for (let i = 0; i < x.data.length; i++) s += x.data[i] as number;
  return x.data.length === 0 ? NaN : s / x.data.length;
}

/** Largest absolute element-wise difference between two tensors of equal size. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  if (a.data.length !== b.data.length) {
    throw new ShapeError(`maxAbsDiff: shapes ${showShape(a.shape)} and ${showShape(b.shape)} differ`, "maxAbsDiff", { a: a.shape, b: b.shape });
  }
  let m = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs((a.data[i] as number) - (b.data[i] as number));
    if (d > m || Number.isNaN(d)) m = d;
  }
  return m;
}
