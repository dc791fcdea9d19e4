/**
 * The matrix-multiply kernel (core/ops/gemm.ts) against the textbook triple loop, over shapes that
 * reach every path of the kernel: the tiny direct loop, K ≤ 4, thin products (N ≤ 3 and M ≤ 3, read
 * in place or packed), and the blocked, packed path with edge tiles and more than one block in every
 * dimension; all four transpose combinations, with and without `accumulate`.
 *
 * Most cases use small whole numbers, whose sums are exact in any order, so the kernel must match the
 * triple loop bit for bit; one pass uses random reals and allows only rounding differences.
 */
import * as assert from "node:assert/strict";
import { gemm } from "../../core/index";

/** A small deterministic generator (LCG), so failures replay. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Whole numbers in [-4, 4] (about a ninth of them zero), or reals in [-1, 1). */
function fill(n: number, next: () => number, integers: boolean): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = integers ? Math.floor(next() * 9) - 4 : 2 * next() - 1;
  return a;
}

/** op(X)[r, c] for X stored row-major as rows×cols of op(X) (or its transpose). */
function at(X: Float64Array, trans: boolean, rows: number, cols: number, r: number, c: number): number {
  return (trans ? X[c * rows + r] : X[r * cols + c]) as number;
}

/** The reference: C0 + op(A)·op(B) summed in k order, and Σ|a·b| (for the rounding bound). */
function naive(transA: boolean, transB: boolean, M: number, N: number, K: number, A: Float64Array, B: Float64Array, C0: Float64Array | undefined) {
  const C = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let m = 0;
      for (let k = 0; k < K; k++) {
        const p = at(A, transA, M, K, i, k) * at(B, transB, K, N, k, j);
        s += p;
        m += Math.abs(p);
      }
      C[i * N + j] = (C0 ? (C0[i * N + j] as number) : 0) + s;
      mag[i * N + j] = m + (C0 ? Math.abs(C0[i * N + j] as number) : 0);
    }
  }
  return { C, mag };
}

type Shape = [M: number, N: number, K: number];

const shapes: Shape[] = [
  // tiny, degenerate and the book's examples
  [1, 1, 1], [1, 1, 7], [1, 5, 1], [5, 1, 1], [1, 9, 9], [9, 1, 9], [9, 9, 1], [3, 3, 4], [3, 4, 3], [2, 2, 2], [4, 4, 4],
  [5, 7, 3], [7, 5, 6], [16, 16, 16], [17, 16, 16],
  // K ≤ 4 (the spiral model's 2-input layer and its 3-class gradient)
  [300, 64, 2], [301, 64, 2], [300, 65, 3], [33, 70, 1], [31, 66, 4], [300, 64, 3], [1, 200, 2], [2, 200, 3], [200, 1, 2], [200, 2, 3],
  // thin: N ≤ 3 (output layer) and M ≤ 3 (the first layer's weight gradient), odd sizes
  [300, 3, 64], [301, 3, 65], [64, 3, 300], [300, 2, 64], [299, 1, 64], [300, 2, 5], [7, 3, 300], [2, 64, 300], [3, 65, 301], [1, 64, 300], [2, 5, 100],
  // packed, blocked: edge tiles (sizes not multiples of 2 or 3), several blocks in M (64), K (256), N (510)
  [5, 5, 5], [6, 7, 8], [11, 13, 17], [64, 64, 64], [65, 67, 33], [128, 10, 128], [128, 128, 10], [130, 515, 33], [131, 37, 260], [70, 520, 300],
];

/** Shapes that take the fallbacks: thin products too large to read in place, K ≤ 4 with a very wide B. */
const fallbacks: Shape[] = [
  [700, 3, 400],
  [3, 700, 400],
  [2, 40000, 4],
  [5, 33000, 4],
];

const transposes: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

function check(shape: Shape, transA: boolean, transB: boolean, accumulate: boolean, integers: boolean, seed: number): void {
  const [M, N, K] = shape;
  const next = generator(seed);
  const A = fill(M * K, next, integers);
  const B = fill(K * N, next, integers);
  const C0 = accumulate ? fill(M * N, next, integers) : undefined;
  // C is longer than M·N and starts dirty: the kernel must overwrite (or add to) exactly M·N elements.
  const C = new Float64Array(M * N + 3).fill(123.5);
  if (C0) C.set(C0);
  gemm(transA, transB, M, N, K, A, B, C, accumulate);
  const ref = naive(transA, transB, M, N, K, A, B, C0);
  const label = `${M}×${N}×${K} transA=${transA} transB=${transB} accumulate=${accumulate}`;
  for (let i = 0; i < M * N; i++) {
    const got = C[i] as number;
    const want = ref.C[i] as number;
    if (integers) {
      if (got !== want) assert.fail(`${label}: C[${Math.floor(i / N)}][${i % N}] is ${got}, expected ${want}`);
    } else {
      const bound = 4 * Number.EPSILON * (K + 2) * (ref.mag[i] as number);
      if (!(Math.abs(got - want) <= bound)) assert.fail(`${label}: C[${Math.floor(i / N)}][${i % N}] is ${got}, expected ${want} ± ${bound}`);
    }
  }
  for (let i = M * N; i < C.length; i++) assert.equal(C[i], 123.5, `${label}: wrote past M·N at ${i}`);
}

describe("gemm (matrix multiply kernel)", () => {
  for (const [transA, transB] of transposes) {
    for (const accumulate of [false, true]) {
      it(`matches the triple loop exactly on whole numbers: transA=${transA} transB=${transB} accumulate=${accumulate}`, () => {
        shapes.forEach((s, i) => check(s, transA, transB, accumulate, true, 1000 + i));
      });
    }
    it(`matches the triple loop up to rounding on random reals: transA=${transA} transB=${transB}`, () => {
      shapes.forEach((s, i) => check(s, transA, transB, i % 2 === 1, false, 2000 + i));
    });
    it(`takes the fallback paths correctly: transA=${transA} transB=${transB}`, function () {
      this.timeout(20000);
      fallbacks.forEach((s, i) => check(s, transA, transB, i % 2 === 0, true, 3000 + i));
    });
  }

  it("gives the same result when called again (the pack buffers are reused)", () => {
    const next = generator(7);
    const A = fill(70 * 300, next, false);
    const B = fill(300 * 520, next, false);
    const C1 = new Float64Array(70 * 520);
    const C2 = new Float64Array(70 * 520);
    gemm(false, false, 70, 520, 300, A, B, C1);
    gemm(true, true, 4, 4, 5, fill(20, next, false), fill(20, next, false), new Float64Array(16));
    gemm(false, false, 70, 520, 300, A, B, C2);
    assert.deepEqual(C2, C1);
  });

  it("K = 0 gives zeros (or leaves C as it was when accumulating); M = 0 or N = 0 does nothing", () => {
    const C = new Float64Array([1, 2, 3, 4, 5]);
    gemm(false, false, 2, 2, 0, new Float64Array(0), new Float64Array(0), C);
    assert.deepEqual(Array.from(C), [0, 0, 0, 0, 5]);
    const D = new Float64Array([1, 2, 3, 4]);
    gemm(false, false, 2, 2, 0, new Float64Array(0), new Float64Array(0), D, true);
    assert.deepEqual(Array.from(D), [1, 2, 3, 4]);
    gemm(false, false, 0, 2, 3, new Float64Array(0), new Float64Array(6), D);
    gemm(false, false, 2, 0, 3, new Float64Array(6), new Float64Array(0), D);
    assert.deepEqual(Array.from(D), [1, 2, 3, 4]);
  });

  it("propagates NaN and ±Infinity like the triple loop (zeros are not skipped) on every path", () => {
    const cases: Shape[] = [[3, 3, 4], [300, 64, 2], [300, 3, 64], [2, 64, 300], [65, 67, 33]];
    for (const [M, N, K] of cases) {
      const A = new Float64Array(M * K); // all zeros: 0 · Infinity is NaN
      const B = new Float64Array(K * N).fill(1);
      B[0] = Infinity;
      B[K * N - 1] = NaN;
      const C = new Float64Array(M * N);
      gemm(false, false, M, N, K, A, B, C);
      const ref = naive(false, false, M, N, K, A, B, undefined).C;
      for (let i = 0; i < M * N; i++) assert.equal(Number.isNaN(C[i]), Number.isNaN(ref[i]), `${M}×${N}×${K}: C[${i}] is ${C[i]}, expected ${ref[i]}`);
      assert.ok(Number.isNaN(C[0]), `${M}×${N}×${K}: 0 · Infinity must give NaN`);
    }
  });
});
