/**
 * The matrix-multiply kernel as it was before the rewrite (4×4 micro-kernel, pack buffers passed as
 * parameters, i-k-j loops with zero skipping for small products), kept only so that `npm run bench`
 * can print the old and the new kernel side by side. Not used by the engine.
 */

const MR = 4; // rows of the micro-kernel
const NR = 4; // columns of the micro-kernel
const KC = 256; // depth of a block: an A panel (MR×KC) and a B panel (KC×NR) are 8 KB each
const MC = 64; // rows of A packed at once (128 KB)
const NC = 512; // columns of B packed at once (1 MB at KC = 256)

/** Below this many multiply-adds the direct loops win (measured with `npm run bench`). */
const SMALL = 48 * 48 * 48;

let packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * NC);

/**
 * C = op(A) · op(B), or C += op(A) · op(B) when `accumulate`.
 * Shapes are given for op(A) (M×K) and op(B) (K×N); `transA`/`transB` say how A and B are stored.
 */
export function baselineGemm(
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
  if (!accumulate) C.fill(0, 0, M * N);
  if (M === 0 || N === 0 || K === 0) return;
  // Strides of op(A) and op(B) in terms of (row, col) of the operator.
  const aRow = transA ? 1 : K;
  const aCol = transA ? M : 1;
  const bRow = transB ? 1 : N;
  const bCol = transB ? K : 1;
  if (M * N * K <= SMALL || M < MR || N < NR) {
    direct(M, N, K, A, aRow, aCol, B, bRow, bCol, C);
    return;
  }
  if (packA.length < MC * KC) packA = new Float64Array(MC * KC);
  if (packB.length < KC * NC) packB = new Float64Array(KC * NC);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      packPanelsB(B, bRow, bCol, pc, kc, jc, nc, packB);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packPanelsA(A, aRow, aCol, ic, mc, pc, kc, packA);
        macroKernel(mc, nc, kc, packA, packB, C, N, ic, jc);
      }
    }
  }
}

/** Direct loops for small products, in i-k-j order so the innermost loop runs along a row of C. */
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
): void {
  if (bCol === 1) {
    for (let i = 0; i < M; i++) {
      const ci = i * N;
      for (let k = 0; k < K; k++) {
        const a = A[i * aRow + k * aCol] as number;
        if (a === 0) continue; // ReLU outputs are often half zeros
        const bk = k * bRow;
        for (let j = 0; j < N; j++) C[ci + j] = (C[ci + j] as number) + a * (B[bk + j] as number);
      }
    }
  } else {
    // op(B) = Bᵀ with B stored N×K: each C element is a dot product of two contiguous rows when A is not transposed.
    for (let i = 0; i < M; i++) {
      const ci = i * N;
      for (let j = 0; j < N; j++) {
        let s = 0;
        const bj = j * bCol;
        for (let k = 0; k < K; k++) s += (A[i * aRow + k * aCol] as number) * (B[bj + k * bRow] as number);
        C[ci + j] = (C[ci + j] as number) + s;
      }
    }
  }
}

/** Packs op(B)[pc..pc+kc, jc..jc+nc] into NR-wide column panels, zero-padding the last one. */
function packPanelsB(B: Float64Array, bRow: number, bCol: number, pc: number, kc: number, jc: number, nc: number, out: Float64Array): void {
  let p = 0;
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const w = Math.min(NR, nc - j0);
    const col = jc + j0;
    if (w === NR && bCol === 1) {
      for (let k = 0; k < kc; k++) {
        const src = (pc + k) * bRow + col;
        out[p] = B[src] as number;
        out[p + 1] = B[src + 1] as number;
        out[p + 2] = B[src + 2] as number;
        out[p + 3] = B[src + 3] as number;
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
function packPanelsA(A: Float64Array, aRow: number, aCol: number, ic: number, mc: number, pc: number, kc: number, out: Float64Array): void {
  let p = 0;
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const h = Math.min(MR, mc - i0);
    const row = ic + i0;
    if (h === MR && aRow === 1) {
      // op(A) = Aᵀ: the four rows of the panel are four adjacent elements of a stored row.
      for (let k = 0; k < kc; k++) {
        const src = (pc + k) * aCol + row;
        out[p] = A[src] as number;
        out[p + 1] = A[src + 1] as number;
        out[p + 2] = A[src + 2] as number;
        out[p + 3] = A[src + 3] as number;
        p += MR;
      }
    } else if (h === MR) {
      const r0 = row * aRow + pc;
      const r1 = r0 + aRow;
      const r2 = r1 + aRow;
      const r3 = r2 + aRow;
      for (let k = 0; k < kc; k++) {
        out[p] = A[r0 + k] as number;
        out[p + 1] = A[r1 + k] as number;
        out[p + 2] = A[r2 + k] as number;
        out[p + 3] = A[r3 + k] as number;
        p += MR;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < MR; r++) out[p + r] = r < h ? (A[(row + r) * aRow + (pc + k) * aCol] as number) : 0;
        p += MR;
      }
    }
  }
}

/** Runs the 4×4 micro-kernel over every panel pair of a packed block and adds into C. */
function macroKernel(mc: number, nc: number, kc: number, pA: Float64Array, pB: Float64Array, C: Float64Array, ldc: number, ic: number, jc: number): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const w = Math.min(NR, nc - j0);
    const bBase = (j0 / NR) * kc * NR;
    for (let i0 = 0; i0 < mc; i0 += MR) {
      const h = Math.min(MR, mc - i0);
      let pa = (i0 / MR) * kc * MR;
      let pb = bBase;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0; k < kc; k++) {
        const b0 = pB[pb] as number, b1 = pB[pb + 1] as number, b2 = pB[pb + 2] as number, b3 = pB[pb + 3] as number;
        const a0 = pA[pa] as number;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        const a1 = pA[pa + 1] as number;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        const a2 = pA[pa + 2] as number;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        const a3 = pA[pa + 3] as number;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        pa += MR;
        pb += NR;
      }
      const r0 = (ic + i0) * ldc + jc + j0;
      if (h === MR && w === NR) {
        const r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        C[r0] = (C[r0] as number) + c00; C[r0 + 1] = (C[r0 + 1] as number) + c01; C[r0 + 2] = (C[r0 + 2] as number) + c02; C[r0 + 3] = (C[r0 + 3] as number) + c03;
        C[r1] = (C[r1] as number) + c10; C[r1 + 1] = (C[r1 + 1] as number) + c11; C[r1 + 2] = (C[r1 + 2] as number) + c12; C[r1 + 3] = (C[r1 + 3] as number) + c13;
        C[r2] = (C[r2] as number) + c20; C[r2 + 1] = (C[r2 + 1] as number) + c21; C[r2 + 2] = (C[r2 + 2] as number) + c22; C[r2 + 3] = (C[r2 + 3] as number) + c23;
        C[r3] = (C[r3] as number) + c30; C[r3 + 1] = (C[r3 + 1] as number) + c31; C[r3 + 2] = (C[r3 + 2] as number) + c32; C[r3 + 3] = (C[r3 + 3] as number) + c33;
      } else {
        const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
        for (let r = 0; r < h; r++) {
          for (let c = 0; c < w; c++) {
            const idx = r0 + r * ldc + c;
            C[idx] = (C[idx] as number) + (acc[r * NR + c] as number);
          }
        }
      }
    }
  }
}
