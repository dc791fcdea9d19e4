/**
 * The WebAssembly SIMD kernels (core/ops/wasm/kernels.wat), loaded without any Node or DOM API: the
 * module's bytes are embedded in `kernels.generated.ts` (assembled at build time) and compiled with
 * the `WebAssembly` global, which Node, browsers and VS Code's extension host all have.
 *
 * Each function here copies its operands into the module's memory, runs one kernel and copies the
 * results into the caller's (fresh) arrays, and returns true; it returns false when the kernels are
 * unavailable (no WebAssembly, no SIMD, switched off, or an operand too large for the module's memory),
 * and the caller then runs the TypeScript loop, which computes the same numbers (see kernels.wat).
 */
import { KERNELS_WASM_HEX } from "./wasm/kernels.generated";

/** The parts of the WebAssembly JavaScript API used here (core/ compiles without DOM or Node types). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: Record<string, unknown>) => { exports: Record<string, unknown> };
}

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The module's exports (kernels.wat). Offsets are byte offsets into `memory`; strides are in elements. */
interface KernelExports {
  memory: WasmMemory;
  gemm(M: number, N: number, K: number, a: number, aRow: number, aCol: number, b: number, bRow: number, bCol: number, c: number, flags: number, pA: number, pB: number, tile: number): void;
  gemm_n2(M: number, N: number, K: number, a: number, aRow: number, aCol: number, b: number, c: number, cRow: number, cCol: number, acc: number): void;
  gemm_smallk(M: number, N: number, K: number, a: number, aRow: number, aCol: number, b: number, c: number, bias: number, hasBias: number): void;
  add_row(c: number, bias: number, M: number, N: number): void;
  sum_rows(x: number, out: number, M: number, N: number): void;
  relu_fwd(x: number, out: number, n: number): void;
  relu_bwd(x: number, g: number, out: number, n: number): void;
  KC: { value: number };
  MC: { value: number };
  NC: { value: number };
}

/** The module's memory may grow to 1 GiB (its declared maximum); larger operands use the TypeScript loops. */
const MAX_BYTES = 2 ** 30;
const PAGE = 65536;

class Kernels {
  readonly x: KernelExports;
  /** The memory as float64 (renewed when the memory grows, which replaces its buffer). */
  f64: Float64Array;
  /** Byte offsets of the micro-kernel's edge tile, the two pack buffers, and the first free byte. */
  readonly tile = 0;
  readonly packA: number;
  readonly packB: number;
  readonly data: number;

  constructor(x: KernelExports) {
    this.x = x;
    const KC = x.KC.value;
    this.packA = 256;
    this.packB = this.packA + x.MC.value * KC * 8;
    this.data = this.packB + KC * x.NC.value * 8;
    this.f64 = new Float64Array(x.memory.buffer);
    if (!this.reserve(this.data)) throw new Error("WebAssembly memory could not grow to hold the pack buffers");
  }

  /** Makes memory at least `bytes` long; false when it cannot (then nothing was changed). */
  reserve(bytes: number): boolean {
    if (bytes > MAX_BYTES) return false;
    const mem = this.x.memory;
    const have = mem.buffer.byteLength;
    if (bytes > have) {
      try {
        mem.grow(Math.ceil((bytes - have) / PAGE));
      } catch {
        return false;
      }
    }
    if (this.f64.buffer !== mem.buffer) this.f64 = new Float64Array(mem.buffer);
    return true;
  }
}

/**
 * Bytes for an operand of `bytes`: 16-byte aligned, plus 32 bytes that an edge tile of the micro-kernel
 * may read past the end (and never store).
 */
function align(bytes: number): number {
  return (bytes + 47) & ~15;
}

/**
 * Operands up to this size are read in place by the micro-kernel; larger ones are packed into panels
 * first (contiguous, cache- and TLB-friendly, as GotoBLAS does). op(B) is always packed when it is a
 * transpose (its 4 columns must be adjacent in memory).
 */
let DIRECT_MAX = 256 * 1024;
/**
 * From this many columns, op(A) is packed whatever its size (each of its row panels is read once per 4
 * columns of op(B), and one packing pass costs less than that many strided reads), and from this many
 * rows and columns op(B) too (its panels are read once per 4 rows). W2's 128×128 operands: the step
 * 8% faster. Thin products (W1's 3 columns) keep reading their operands in place.
 */
let PACK_MIN = 16;

/** gemm's flags for the kernel (kernels.wat): 1 accumulate, 2 pack op(A), 4 pack op(B). */
function gemmFlags(accumulate: boolean, aBytes: number, bBytes: number, transB: boolean, M: number, N: number): number {
  const wide = N >= PACK_MIN;
  return (accumulate ? 1 : 0) | (aBytes > DIRECT_MAX || wide ? 2 : 0) | (transB || bBytes > DIRECT_MAX || (wide && M >= PACK_MIN) ? 4 : 0);
}

/** For tuning in scratch benchmarks and for tests: the size limit of in-place operands, and the width from which op(A) is always packed. */
export function setDirectMax(bytes: number, packMin = 16): void {
  DIRECT_MAX = bytes;
  PACK_MIN = packMin;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The loaded kernels; undefined until first use, null when they cannot be used here. */
let loaded: Kernels | null | undefined;
let enabled = true;
let loadError: string | undefined;

function load(): Kernels | null {
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (api === undefined) {
    loadError = "this JavaScript engine has no WebAssembly";
    return null;
  }
  try {
    // Compiling fails (CompileError) where WebAssembly SIMD is not supported.
    const instance = new api.Instance(new api.Module(hexBytes(KERNELS_WASM_HEX)), {});
    return new Kernels(instance.exports as unknown as KernelExports);
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
    return null;
  }
}

/** The kernels when they are enabled and load here, else null. */
function kernels(): Kernels | null {
  if (!enabled) return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

/**
 * Switches the WebAssembly kernels on (the default) or off (every operation then runs its TypeScript
 * loop). For tests and benchmarks; both give the same numbers.
 */
export function setWasmKernels(on: boolean): void {
  enabled = on;
}

/** Which kernels the engine's operations use: "wasm-simd", or "typescript" with the reason. */
export function kernelInfo(): { kernels: "wasm-simd" | "typescript"; reason?: string } {
  if (!enabled) return { kernels: "typescript", reason: "switched off" };
  if (kernels() !== null) return { kernels: "wasm-simd" };
  return { kernels: "typescript", reason: loadError ?? "unavailable" };
}

/** Below this many multiply-adds a product stays in TypeScript (copying in and out would cost more). */
export const WASM_GEMM_MIN = 2048;
/** Below this many elements an element-wise pass stays in TypeScript. */
export const WASM_ELEMENTWISE_MIN = 256;

/** Copies the first `n` elements of `X` into memory at element `at` (X may be longer: a view of a larger array). */
function copyIn(m: Float64Array, at: number, X: Float64Array, n: number): void {
  m.set(X.length === n ? X : X.subarray(0, n), at);
}

/** Products of this depth or less run in `gemm_smallk` (one pass over C, no tiles). */
const SMALL_K = 4;

/**
 * Writes op(B) (K×N; B is K×N row-major, or N×K when `transB`) into memory at element `at` as K rows of
 * N: a copy, or a transposing copy (K ≤ 4, so at most 4N elements).
 */
function copyRows(m: Float64Array, at: number, B: Float64Array, K: number, N: number, transB: boolean): void {
  if (!transB) {
    copyIn(m, at, B, K * N);
    return;
  }
  for (let kk = 0; kk < K; kk++) {
    const row = at + kk * N;
    for (let j = 0; j < N; j++) m[row + j] = B[j * K + kk] as number;
  }
}

/**
 * C = op(A)·op(B) (+ C when `accumulate`), then + bias (a row of N, added to every row) when given;
 * the arguments are those of `gemm`. False when the kernels cannot run it.
 */
export function wasmGemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float64Array,
  B: Float64Array,
  C: Float64Array,
  accumulate: boolean,
  bias?: Float64Array,
): boolean {
  const k = kernels();
  if (k === null) return false;
  // The operands' regions hold at least K×2 (a thin operand packed as K×2 rows, below).
  const aOff = k.data;
  const bOff = aOff + align(Math.max(M, 2) * K * 8);
  const cOff = bOff + align(K * Math.max(N, 2) * 8);
  const biasOff = cOff + align(M * N * 8);
  const end = biasOff + (bias ? align(N * 8) : 0);
  if (!k.reserve(end)) return false;
  const m = k.f64;
  const aRow = transA ? 1 : K;
  const aCol = transA ? M : 1;
  const bRow = transB ? 1 : N;
  const bCol = transB ? K : 1;
  if (K <= SMALL_K && !accumulate) {
    // Depth ≤ 4: one pass over C (the bias added in it), op(B) copied in as K×N rows.
    copyIn(m, aOff >> 3, A, M * K);
    copyRows(m, bOff >> 3, B, K, N, transB);
    if (bias) copyIn(m, biasOff >> 3, bias, N);
    k.x.gemm_smallk(M, N, K, aOff, aRow, aCol, bOff, cOff, biasOff, bias ? 1 : 0);
    C.set(m.subarray(cOff >> 3, (cOff >> 3) + M * N));
    return true;
  }
  if (accumulate) copyIn(m, cOff >> 3, C, M * N);
  if (N <= 2) {
    // Two columns or one: 4×2 tiles, op(B) packed as K×2.
    copyIn(m, aOff >> 3, A, M * K);
    packK2(m, bOff >> 3, B, bRow, bCol, K, N);
    k.x.gemm_n2(M, N, K, aOff, aRow, aCol, bOff, cOff, N, 1, accumulate ? 1 : 0);
  } else if (M <= 2) {
    // Two rows or one: the same kernel on Cᵀ = op(B)ᵀ·op(A)ᵀ (op(A)ᵀ packed as K×2), C written transposed.
    packK2(m, aOff >> 3, A, aCol, aRow, K, M);
    copyIn(m, bOff >> 3, B, K * N);
    k.x.gemm_n2(N, M, K, bOff, bCol, bRow, aOff, cOff, 1, N, accumulate ? 1 : 0);
  } else {
    copyIn(m, aOff >> 3, A, M * K);
    copyIn(m, bOff >> 3, B, K * N);
    const flags = gemmFlags(accumulate, M * K * 8, K * N * 8, transB, M, N);
    k.x.gemm(M, N, K, aOff, aRow, aCol, bOff, bRow, bCol, cOff, flags, k.packA, k.packB, k.tile);
  }
  if (bias) {
    copyIn(m, biasOff >> 3, bias, N);
    k.x.add_row(cOff, biasOff, M, N);
  }
  C.set(m.subarray(cOff >> 3, (cOff >> 3) + M * N));
  return true;
}

/**
 * Writes a K×n operand (n ≤ 2; element [k, j] at X[k·sK + j·sJ]) into memory at element `at` as K rows
 * of 2 (a second column of zeros when n = 1; gemm_n2 never stores what it gives).
 */
function packK2(m: Float64Array, at: number, X: Float64Array, sK: number, sJ: number, K: number, n: number): void {
  if (n === 2) {
    if (sK === 2 && sJ === 1) {
      copyIn(m, at, X, 2 * K);
      return;
    }
    for (let kk = 0; kk < K; kk++) {
      m[at + 2 * kk] = X[kk * sK] as number;
      m[at + 2 * kk + 1] = X[kk * sK + sJ] as number;
    }
    return;
  }
  for (let kk = 0; kk < K; kk++) {
    m[at + 2 * kk] = X[kk * sK] as number;
    m[at + 2 * kk + 1] = 0;
  }
}

/**
 * Dense.backward in one visit: dW = Xᵀ·dY (In×Out), db = Σ_rows dY (1×Out), dX = dY·Wᵀ (B×In), with X
 * B×In, dY B×Out and W In×Out; dY is copied in once for all three.
 */
export function wasmDenseBackward(
  X: Float64Array,
  dY: Float64Array,
  W: Float64Array,
  B: number,
  In: number,
  Out: number,
  dW: Float64Array,
  db: Float64Array,
  dX: Float64Array,
): boolean {
  const k = kernels();
  if (k === null) return false;
  // A layer with 1 or 2 inputs uses the 4×2 tiles of gemm_n2 for dW (as dWᵀ = dYᵀ·X) and dX; X and Wᵀ
  // then go in as K×2 rows, so their regions hold at least that.
  const thinIn = In <= 2;
  const xOff = k.data;
  const yOff = xOff + align(B * Math.max(In, 2) * 8);
  const wOff = yOff + align(B * Out * 8);
  const dwOff = wOff + align(Math.max(In, 2) * Out * 8);
  const dbOff = dwOff + align(In * Out * 8);
  const dxOff = dbOff + align(Out * 8);
  if (!k.reserve(dxOff + align(B * In * 8))) return false;
  const m = k.f64;
  if (thinIn) packK2(m, xOff >> 3, X, In, 1, B, In);
  else m.set(X.subarray(0, B * In), xOff >> 3);
  m.set(dY.subarray(0, B * Out), yOff >> 3);
  if (thinIn) {
    // dWᵀ[Out×In] = dYᵀ·X (op(A) = dYᵀ: row stride 1, column stride Out), written transposed into dW.
    k.x.gemm_n2(Out, In, B, yOff, 1, Out, xOff, dwOff, 1, Out, 0);
  } else {
    // dW[In×Out] = Xᵀ·dY: op(A) = Xᵀ (row stride 1, column stride In), op(B) = dY.
    k.x.gemm(In, Out, B, xOff, 1, In, yOff, Out, 1, dwOff, gemmFlags(false, B * In * 8, B * Out * 8, false, In, Out), k.packA, k.packB, k.tile);
  }
  k.x.sum_rows(yOff, dbOff, B, Out);
  // W is only needed for dX.
  if (Out <= SMALL_K) {
    // dX[B×In] = dY·Wᵀ of depth Out ≤ 4: Wᵀ copied in as Out rows of In.
    copyRows(m, wOff >> 3, W, Out, In, true);
    k.x.gemm_smallk(B, In, Out, yOff, Out, 1, wOff, dxOff, 0, 0);
  } else if (thinIn) {
    // dX[B×In] = dY·Wᵀ with 1 or 2 columns: Wᵀ packed as Out rows of 2.
    packK2(m, wOff >> 3, W, 1, Out, Out, In);
    k.x.gemm_n2(B, In, Out, yOff, Out, 1, wOff, dxOff, In, 1, 0);
  } else {
    m.set(W.subarray(0, In * Out), wOff >> 3);
    // dX[B×In] = dY·Wᵀ: op(B) = Wᵀ (row stride 1, column stride Out).
    k.x.gemm(B, In, Out, yOff, Out, 1, wOff, 1, Out, dxOff, gemmFlags(false, B * Out * 8, In * Out * 8, true, B, In), k.packA, k.packB, k.tile);
  }
  dW.set(m.subarray(dwOff >> 3, (dwOff >> 3) + In * Out));
  db.set(m.subarray(dbOff >> 3, (dbOff >> 3) + Out));
  dX.set(m.subarray(dxOff >> 3, (dxOff >> 3) + B * In));
  return true;
}

/** out[j] = Σ_i x[i, j] for x M×N (row order, from 0). */
export function wasmSumRows(x: Float64Array, M: number, N: number, out: Float64Array): boolean {
  const k = kernels();
  if (k === null) return false;
  const xOff = k.data;
  const oOff = xOff + align(M * N * 8);
  if (!k.reserve(oOff + align(N * 8))) return false;
  k.f64.set(x.subarray(0, M * N), xOff >> 3);
  k.x.sum_rows(xOff, oOff, M, N);
  out.set(k.f64.subarray(oOff >> 3, (oOff >> 3) + N));
  return true;
}

/** out[i] = x[i] < 0 ? 0 : x[i]. */
export function wasmReluForward(x: Float64Array, out: Float64Array): boolean {
  const k = kernels();
  if (k === null) return false;
  const n = out.length;
  const xOff = k.data;
  const oOff = xOff + align(n * 8);
  if (!k.reserve(oOff + align(n * 8))) return false;
  k.f64.set(x.subarray(0, n), xOff >> 3);
  k.x.relu_fwd(xOff, oOff, n);
  out.set(k.f64.subarray(oOff >> 3, (oOff >> 3) + n));
  return true;
}

/** out[i] = x[i] <= 0 ? 0 : g[i]. */
export function wasmReluBackward(x: Float64Array, g: Float64Array, out: Float64Array): boolean {
  const k = kernels();
  if (k === null) return false;
  const n = out.length;
  const xOff = k.data;
  const gOff = xOff + align(n * 8);
  const oOff = gOff + align(n * 8);
  if (!k.reserve(oOff + align(n * 8))) return false;
  k.f64.set(x.subarray(0, n), xOff >> 3);
  k.f64.set(g.subarray(0, n), gOff >> 3);
  k.x.relu_bwd(xOff, gOff, oOff, n);
  out.set(k.f64.subarray(oOff >> 3, (oOff >> 3) + n));
  return true;
}
