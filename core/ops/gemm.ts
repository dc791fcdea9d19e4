/**
 * General matrix multiply on row-major float64 buffers:
 *
 *     C[M×N] = op(A)[M×K] · op(B)[K×N]   (+ C, when `accumulate`)
 *
 * where op(X) is X or Xᵀ. This is the one hot loop of the engine: Dense forward (`X · W`) and both
 * Dense gradients (`Xᵀ · dY`, `dY · Wᵀ`) go through it.
 *
 * Why it looks like this (every choice below was measured with `npm run bench`; see docs/performance.md):
 * - JavaScript has no SIMD and V8 does not fuse multiply-adds, so a multiply-add is two scalar
 *   instructions and the limit is how many instructions each one drags along. V8 keeps a bounds
 *   check (compare + branch) on every typed-array access and cannot hoist them, so the kernel is
 *   written to need as few loads, registers and index updates per multiply-add as possible.
 * - Large products are computed GotoBLAS-style: op(B) is packed into NR-column panels and op(A) into
 *   MR-row panels (packing also absorbs the transposes, so all four variants share one kernel),
 *   blocked so a B panel stays in L1 and a block of A in L2.
 * - The micro-kernel is 2×3: six accumulators. V8's scheduler computes all products of an iteration
 *   before adding them, so a 4×4 (or 2×4) tile needs 16 (or 8) accumulators plus as many products
 *   live at once; x64 has 15 allocatable double registers, so those tiles spill accumulators to the
 *   stack on every iteration. 2×3 (like 3×2) is the largest tile we found that never spills (measured:
 *   2×3 ≈ 8 GFLOP/s, 2×4 ≈ 7, 4×4 ≈ 5.8, 4×4 with arrays passed as parameters ≈ 4.7 on this machine kind).
 * - The pack buffers are constants of a closure created once (`kernel` below): V8 then embeds their
 *   address and length in the compiled kernel (no map check, no length reload per iteration; with
 *   the buffers passed as arguments the same 4×4 kernel ran at 4.7 instead of 5.8 GFLOP/s).
 *   Index arithmetic uses `| 0` and one running pointer per operand, so no overflow checks remain.
 * - The first depth block writes C instead of adding to it, so C needs no zero-fill pass.
 * - Thin products skip packing: `narrow` (N ≤ 3, the spiral model's output layer, or M ≤ 3 by
 *   transposing the problem) packs the thin operand and reads the other in place, and `smallK`
 *   (K ≤ 4: the spiral model's 2-input layer and its gradient) keeps a row of op(A) in registers.
 *   Packing would cost about as much as the product there.
 * No allocation happens inside the loops; the pack buffers are allocated once, at load.
 * Results equal the textbook triple loop up to floating-point summation order (IEEE semantics,
 * NaN and ±Infinity included: zeros are never skipped).
 */

import { addRowTs } from "./elementwise";
import { WASM_GEMM_MIN, wasmGemm } from "./wasm";

/**
 * C = op(A) · op(B), or C += op(A) · op(B) when `accumulate`.
 * Shapes are given for op(A) (M×K) and op(B) (K×N); `transA`/`transB` say how A and B are stored.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float64Array,
  B: Float64Array,
  C: Float64Array,
  accumulate = false,
): void {
  if (M > 0 && N > 0 && K > 0 && M * N * K >= WASM_GEMM_MIN && wasmGemm(transA, transB, M, N, K, A, B, C, accumulate)) return;
  kernel(transA, transB, M, N, K, A, B, C, accumulate);
}

/**
 * C[M×N] = A[M×K] · B[K×N] + bias (a row of N added to every row, after the product): Dense.forward in
 * one pass over C. The same numbers as `gemm` followed by `addRowInPlace`.
 */
export function gemmBias(M: number, N: number, K: number, A: Float64Array, B: Float64Array, bias: Float64Array, C: Float64Array): void {
  if (M > 0 && N > 0 && K > 0 && M * N * K >= WASM_GEMM_MIN && wasmGemm(false, false, M, N, K, A, B, C, false, bias)) return;
  kernel(false, false, M, N, K, A, B, C, false);
  addRowTs(C, bias, M, N);
}

/** The TypeScript kernel alone (the fallback, and the reference the WebAssembly kernel is tested against). */
export function gemmTs(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float64Array,
  B: Float64Array,
  C: Float64Array,
  accumulate = false,
): void {
  kernel(transA, transB, M, N, K, A, B, C, accumulate);
}

/**
 * The kernel lives in a closure: its constants, pack buffers and functions are created once, so V8
 * specializes the compiled code to them whatever module format the engine is bundled in (module-scope
 * bindings of an ES module are not folded, and the kernel would run about 1.6× slower there).
 */
const kernel = (() => {
  /** Rows of the micro-kernel. */
  const MR = 2;
  /** Columns of the micro-kernel. */
  const NR = 3;
  /** Depth of a block: an A panel (MR×KC, 4 KB) and a B panel (KC×NR, 6 KB) stay in L1. */
  const KC = 256;
  /** Rows of op(A) packed at once (a multiple of MR; 128 KB). */
  const MC = 64;
  /** Columns of op(B) packed at once (a multiple of NR; 1 MB at KC = 256, in L2). */
  const NC = 510;
  /** At or below this many multiply-adds the plain triple loop is as fast as anything else. */
  const TINY = 16 * 16 * 16;
  /** Largest operand (elements) read in place with a stride when the product is thin (fits in L2). */
  const STRIDED_MAX = 1 << 18;

  // Never reassigned, and closed over by functions created once, so V8 embeds them as constants in the
  // compiled kernels (see above).
  const PACK_A = new Float64Array(MC * KC);
  const PACK_B = new Float64Array(KC * NC);

  /** The entry point behind `gemm` (same arguments). */
  function gemmImpl(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: Float64Array,
    B: Float64Array,
    C: Float64Array,
    accumulate: boolean,
  ): void {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
      if (!accumulate) C.fill(0, 0, M * N);
      return;
    }
    // Strides of op(A) and op(B) in terms of (row, col) of the operator.
    const aRow = transA ? 1 : K;
    const aCol = transA ? M : 1;
    const bRow = transB ? 1 : N;
    const bCol = transB ? K : 1;
    if (M * N * K <= TINY) {
      direct(M, N, K, A, aRow, aCol, B, bRow, bCol, C, accumulate);
      return;
    }
    if (K <= 4 && K * N <= KC * NC) {
      smallK(M, N, K, A, aRow, aCol, B, bRow, bCol, C, accumulate);
      return;
    }
    if (N <= NR && K * NR <= KC * NC && (!transA || M * K <= STRIDED_MAX)) {
      narrow(M, N, K, A, aRow, aCol, B, bRow, bCol, C, N, 1, accumulate);
      return;
    }
    if (M <= NR && K * NR <= KC * NC && (transB || N * K <= STRIDED_MAX)) {
      // Cᵀ = op(B)ᵀ · op(A)ᵀ: the same thin product with the operands swapped, C written transposed.
      narrow(N, M, K, B, bCol, bRow, A, aCol, aRow, C, 1, N, accumulate);
      return;
    }
    for (let jc = 0; jc < N; jc += NC) {
      const nc = N - jc < NC ? N - jc : NC;
      for (let pc = 0; pc < K; pc += KC) {
        const kc = K - pc < KC ? K - pc : KC;
        packB(B, bRow, bCol, pc, kc, jc, nc);
        for (let ic = 0; ic < M; ic += MC) {
          const mc = M - ic < MC ? M - ic : MC;
          packA(A, aRow, aCol, ic, mc, pc, kc);
          macroKernel(mc, nc, kc, C, N, ic, jc, pc === 0 && !accumulate);
        }
      }
    }
  }

  /** The textbook triple loop, for tiny products (the book's 3×4 examples). */
  function direct(
    M: number,
    N: number,
    K: number,
    A: Float64Array,
    aRow: number,
    aCol: number,
    B: Float64Array,
    bRow: number,
    bCol: number,
    C: Float64Array,
    accumulate: boolean,
  ): void {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        const c = i * N + j;
        let v = accumulate ? (C[c] as number) : 0;
        // In depth blocks of KC, like every path (see "Summation order" above).
        for (let p = 0; p < K; p += KC) {
          const end = K - p < KC ? K : p + KC;
          let s = 0;
          for (let k = p; k < end; k++) s += (A[i * aRow + k * aCol] as number) * (B[k * bRow + j * bCol] as number);
          v = p === 0 && !accumulate ? s : v + s;
        }
        C[c] = v;
      }
    }
  }

  /**
   * K ≤ 4 (a layer with 2 inputs, or a gradient over 3 classes): op(B) is copied row-major into the
   * pack buffer, and each output is its K products summed at once; two rows of C per pass for K = 2, 3.
   */
  function smallK(
    M: number,
    N: number,
    K: number,
    A: Float64Array,
    aRow: number,
    aCol: number,
    B: Float64Array,
    bRow: number,
    bCol: number,
    C: Float64Array,
    accumulate: boolean,
  ): void {
    const pB = PACK_B;
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) pB[k * N + j] = B[k * bRow + j * bCol] as number;
    let i = 0;
    if (!accumulate && K === 2) {
      for (; i + 1 < M; i += 2) {
        const a0 = i * aRow;
        const a1 = a0 + aRow;
        const a00 = A[a0] as number;
        const a01 = A[a0 + aCol] as number;
        const a10 = A[a1] as number;
        const a11 = A[a1 + aCol] as number;
        const c0 = i * N;
        const c1 = c0 + N;
        for (let j = 0; j < N; j++) {
          const b0 = pB[j] as number;
          const b1 = pB[N + j] as number;
          C[c0 + j] = 0 + a00 * b0 + a01 * b1;
          C[c1 + j] = 0 + a10 * b0 + a11 * b1;
        }
      }
    } else if (!accumulate && K === 3) {
      const n2 = 2 * N;
      for (; i + 1 < M; i += 2) {
        const a0 = i * aRow;
        const a1 = a0 + aRow;
        const a00 = A[a0] as number;
        const a01 = A[a0 + aCol] as number;
        const a02 = A[a0 + 2 * aCol] as number;
        const a10 = A[a1] as number;
        const a11 = A[a1 + aCol] as number;
        const a12 = A[a1 + 2 * aCol] as number;
        const c0 = i * N;
        const c1 = c0 + N;
        for (let j = 0; j < N; j++) {
          const b0 = pB[j] as number;
          const b1 = pB[N + j] as number;
          const b2 = pB[n2 + j] as number;
          C[c0 + j] = 0 + a00 * b0 + a01 * b1 + a02 * b2;
          C[c1 + j] = 0 + a10 * b0 + a11 * b1 + a12 * b2;
        }
      }
    }
    for (; i < M; i++) {
      const ai = i * aRow;
      const ci = i * N;
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += (A[ai + k * aCol] as number) * (pB[k * N + j] as number);
        C[ci + j] = accumulate ? (C[ci + j] as number) + s : s;
      }
    }
  }

  /**
   * N ≤ 3: op(B) is packed whole (K×3, zero-padded), op(A) is read in place two rows at a time, and C
   * is written through (cRow, cCol) strides so the caller can also compute a transposed product.
   * Sums run in depth blocks of KC, as in every path.
   */
  function narrow(
    M: number,
    N: number,
    K: number,
    A: Float64Array,
    aRow: number,
    aCol: number,
    B: Float64Array,
    bRow: number,
    bCol: number,
    C: Float64Array,
    cRow: number,
    cCol: number,
    accumulate: boolean,
  ): void {
    if (N <= 2) {
      narrow2(M, N, K, A, aRow, aCol, B, bRow, bCol, C, cRow, cCol, accumulate);
      return;
    }
    const pB = PACK_B;
    for (let k = 0; k < K; k++) {
      const p = k * 3;
      pB[p] = B[k * bRow] as number;
      pB[p + 1] = B[k * bRow + bCol] as number;
      pB[p + 2] = B[k * bRow + 2 * bCol] as number;
    }
    const q2 = 2 * cCol;
    for (let i = 0; i < M; i += 2) {
      const two = i + 1 < M;
      const d = two ? aRow : 0; // a lone last row reads its own row twice
      const r0 = i * cRow;
      const r1 = r0 + cRow;
      for (let p0 = 0; p0 < K; p0 += KC) {
        const end = (K - p0 < KC ? K : p0 + KC) * 3;
        let pa = i * aRow + p0 * aCol;
        let c00 = 0, c01 = 0, c02 = 0, c10 = 0, c11 = 0, c12 = 0;
        for (let pb = p0 * 3; pb < end; pb = (pb + 3) | 0) {
          const b0 = pB[pb] as number;
          const b1 = pB[(pb + 1) | 0] as number;
          const b2 = pB[(pb + 2) | 0] as number;
          const a0 = A[pa] as number;
          c00 += a0 * b0;
          c01 += a0 * b1;
          c02 += a0 * b2;
          const a1 = A[pa + d] as number;
          c10 += a1 * b0;
          c11 += a1 * b1;
          c12 += a1 * b2;
          pa += aCol;
        }
        if (p0 > 0 || accumulate) {
          C[r0] = (C[r0] as number) + c00;
          C[r0 + cCol] = (C[r0 + cCol] as number) + c01;
          C[r0 + q2] = (C[r0 + q2] as number) + c02;
          if (two) {
            C[r1] = (C[r1] as number) + c10;
            C[r1 + cCol] = (C[r1 + cCol] as number) + c11;
            C[r1 + q2] = (C[r1 + q2] as number) + c12;
          }
        } else {
          C[r0] = c00;
          C[r0 + cCol] = c01;
          C[r0 + q2] = c02;
          if (two) {
            C[r1] = c10;
            C[r1 + cCol] = c11;
            C[r1 + q2] = c12;
          }
        }
      }
    }
  }

  /** N ≤ 2: like `narrow`, with op(B) packed as K×2 and three rows of op(A) at a time (3×2 tile). */
  function narrow2(
    M: number,
    N: number,
    K: number,
    A: Float64Array,
    aRow: number,
    aCol: number,
    B: Float64Array,
    bRow: number,
    bCol: number,
    C: Float64Array,
    cRow: number,
    cCol: number,
    accumulate: boolean,
  ): void {
    const pB = PACK_B;
    for (let k = 0; k < K; k++) {
      pB[2 * k] = B[k * bRow] as number;
      pB[2 * k + 1] = N > 1 ? (B[k * bRow + bCol] as number) : 0;
    }
    for (let i = 0; i < M; i += 3) {
      const rows = M - i < 3 ? M - i : 3;
      const d1 = rows > 1 ? aRow : 0; // missing rows re-read row i; their sums are not stored
      const d2 = rows > 2 ? 2 * aRow : 0;
      for (let p0 = 0; p0 < K; p0 += KC) {
        const end = (K - p0 < KC ? K : p0 + KC) * 2;
        const add = p0 > 0 || accumulate;
        let pa = i * aRow + p0 * aCol;
        let c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0;
        for (let pb = p0 * 2; pb < end; pb = (pb + 2) | 0) {
          const b0 = pB[pb] as number;
          const b1 = pB[(pb + 1) | 0] as number;
          const a0 = A[pa] as number;
          const a1 = A[pa + d1] as number;
          const a2 = A[pa + d2] as number;
          c00 += a0 * b0;
          c01 += a0 * b1;
          c10 += a1 * b0;
          c11 += a1 * b1;
          c20 += a2 * b0;
          c21 += a2 * b1;
          pa += aCol;
        }
        for (let r = 0; r < rows; r++) {
          const o = (i + r) * cRow;
          const v0 = r === 0 ? c00 : r === 1 ? c10 : c20;
          const v1 = r === 0 ? c01 : r === 1 ? c11 : c21;
          C[o] = add ? (C[o] as number) + v0 : v0;
          if (N > 1) C[o + cCol] = add ? (C[o + cCol] as number) + v1 : v1;
        }
      }
    }
  }

  /** Packs op(B)[pc..pc+kc, jc..jc+nc] into NR-wide column panels, zero-padding the last one. */
  function packB(B: Float64Array, bRow: number, bCol: number, pc: number, kc: number, jc: number, nc: number): void {
    const out = PACK_B;
    let p = 0;
    for (let j0 = 0; j0 < nc; j0 += NR) {
      const w = nc - j0 < NR ? nc - j0 : NR;
      const col = jc + j0;
      if (w === NR && bCol === 1) {
        let src = pc * bRow + col;
        for (let k = 0; k < kc; k++) {
          out[p] = B[src] as number;
          out[p + 1] = B[src + 1] as number;
          out[p + 2] = B[src + 2] as number;
          p += NR;
          src += bRow;
        }
      } else if (w === NR) {
        // op(B) = Bᵀ: the three columns of the panel are three stored rows of B.
        const s0 = col * bCol + pc;
        const s1 = s0 + bCol;
        const s2 = s1 + bCol;
        for (let k = 0; k < kc; k++) {
          out[p] = B[s0 + k] as number;
          out[p + 1] = B[s1 + k] as number;
          out[p + 2] = B[s2 + k] as number;
          p += NR;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const src = (pc + k) * bRow;
          for (let c = 0; c < NR; c++) out[p + c] = c < w ? (B[src + (col + c) * bCol] as number) : 0;
          p += NR;
        }
      }
    }
  }

  /** Packs op(A)[ic..ic+mc, pc..pc+kc] into MR-tall row panels, zero-padding the last one. */
  function packA(A: Float64Array, aRow: number, aCol: number, ic: number, mc: number, pc: number, kc: number): void {
    const out = PACK_A;
    let p = 0;
    for (let i0 = 0; i0 < mc; i0 += MR) {
      const row = ic + i0;
      if (mc - i0 >= MR && aRow === 1) {
        // op(A) = Aᵀ: the two rows of the panel are two adjacent elements of a stored row.
        let src = pc * aCol + row;
        for (let k = 0; k < kc; k++) {
          out[p] = A[src] as number;
          out[p + 1] = A[src + 1] as number;
          p += MR;
          src += aCol;
        }
      } else if (mc - i0 >= MR) {
        const r0 = row * aRow + pc;
        const r1 = r0 + aRow;
        for (let k = 0; k < kc; k++) {
          out[p] = A[r0 + k] as number;
          out[p + 1] = A[r1 + k] as number;
          p += MR;
        }
      } else {
        const r0 = row * aRow + pc * aCol;
        for (let k = 0; k < kc; k++) {
          out[p] = A[r0 + k * aCol] as number;
          out[p + 1] = 0;
          p += MR;
        }
      }
    }
  }

  /**
   * Runs the 2×3 micro-kernel over every panel pair of a packed block and writes (`overwrite`, the
   * first depth block of a non-accumulating product) or adds the results into C.
   */
  function macroKernel(mc: number, nc: number, kc: number, C: Float64Array, ldc: number, ic: number, jc: number, overwrite: boolean): void {
    const pA = PACK_A;
    const pB = PACK_B;
    const aStep = kc * MR;
    const bStep = kc * NR;
    for (let j0 = 0, pb0 = 0; j0 < nc; j0 += NR, pb0 += bStep) {
      const w = nc - j0 < NR ? nc - j0 : NR;
      for (let i0 = 0, pa0 = 0; i0 < mc; i0 += MR, pa0 += aStep) {
        let c00 = 0, c01 = 0, c02 = 0, c10 = 0, c11 = 0, c12 = 0;
        let pa = pa0;
        let pb = pb0;
        const paEnd = pa0 + aStep;
        while (pa < paEnd) {
          const b0 = pB[pb] as number;
          const b1 = pB[(pb + 1) | 0] as number;
          const b2 = pB[(pb + 2) | 0] as number;
          const a0 = pA[pa] as number;
          c00 += a0 * b0;
          c01 += a0 * b1;
          c02 += a0 * b2;
          const a1 = pA[(pa + 1) | 0] as number;
          c10 += a1 * b0;
          c11 += a1 * b1;
          c12 += a1 * b2;
          pa = (pa + 2) | 0;
          pb = (pb + 3) | 0;
        }
        const r0 = (ic + i0) * ldc + jc + j0;
        const r1 = r0 + ldc;
        const two = mc - i0 > 1;
        if (w === NR && two) {
          if (overwrite) {
            C[r0] = c00;
            C[r0 + 1] = c01;
            C[r0 + 2] = c02;
            C[r1] = c10;
            C[r1 + 1] = c11;
            C[r1 + 2] = c12;
          } else {
            C[r0] = (C[r0] as number) + c00;
            C[r0 + 1] = (C[r0 + 1] as number) + c01;
            C[r0 + 2] = (C[r0 + 2] as number) + c02;
            C[r1] = (C[r1] as number) + c10;
            C[r1 + 1] = (C[r1 + 1] as number) + c11;
            C[r1 + 2] = (C[r1 + 2] as number) + c12;
          }
        } else {
          // Edge tile: store only the rows and columns that exist.
          C[r0] = overwrite ? c00 : (C[r0] as number) + c00;
          if (w > 1) C[r0 + 1] = overwrite ? c01 : (C[r0 + 1] as number) + c01;
          if (w > 2) C[r0 + 2] = overwrite ? c02 : (C[r0 + 2] as number) + c02;
          if (two) {
            C[r1] = overwrite ? c10 : (C[r1] as number) + c10;
            if (w > 1) C[r1 + 1] = overwrite ? c11 : (C[r1 + 1] as number) + c11;
            if (w > 2) C[r1 + 2] = overwrite ? c12 : (C[r1 + 2] as number) + c12;
          }
        }
      }
    }
  }

  return gemmImpl;
})();
