/**
 * The element-wise passes of the layers, on raw float64 buffers: each has a TypeScript loop (the
 * reference and the fallback, `…Ts`) and a dispatcher that runs the WebAssembly SIMD kernel when it is
 * available and the buffer is large enough to pay for the copies (see wasm.ts). Both compute every
 * element with the same operations in the same order, so they give the same numbers.
 */
import { WASM_ELEMENTWISE_MIN, wasmReluBackward, wasmReluForward, wasmSumRows } from "./wasm";

/** out[i] = x[i] < 0 ? 0 : x[i], as np.maximum(0, x) (a NaN stays NaN, so the tracer can find where it began). */
export function reluForwardTs(x: Float64Array, out: Float64Array): void {
  const n = out.length;
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    out[i] = v < 0 ? 0 : v;
  }
}

/** out[i] = x[i] <= 0 ? 0 : g[i]: the book's `dinputs[inputs <= 0] = 0` (a NaN input passes the gradient). */
export function reluBackwardTs(x: Float64Array, g: Float64Array, out: Float64Array): void {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = (x[i] as number) <= 0 ? 0 : (g[i] as number);
}

/** out[j] = Σ_i x[i, j] (x M×N row-major), summed from 0 in row order; `out` (N) is overwritten. */
export function sumRowsTs(x: Float64Array, M: number, N: number, out: Float64Array): void {
  out.fill(0, 0, N);
  for (let i = 0; i < M; i++) {
    const o = i * N;
    for (let j = 0; j < N; j++) out[j] = (out[j] as number) + (x[o + j] as number);
  }
}

/** c[i, j] = c[i, j] + bias[j] for every row of c (M×N). */
export function addRowTs(c: Float64Array, bias: Float64Array, M: number, N: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * N;
    for (let j = 0; j < N; j++) c[o + j] = (c[o + j] as number) + (bias[j] as number);
  }
}

/** `reluForwardTs`, in WebAssembly when it is available. */
export function reluForward(x: Float64Array, out: Float64Array): void {
  if (out.length >= WASM_ELEMENTWISE_MIN && wasmReluForward(x, out)) return;
  reluForwardTs(x, out);
}

/** `reluBackwardTs`, in WebAssembly when it is available. */
export function reluBackward(x: Float64Array, g: Float64Array, out: Float64Array): void {
  if (out.length >= WASM_ELEMENTWISE_MIN && wasmReluBackward(x, g, out)) return;
  reluBackwardTs(x, g, out);
}

/** `sumRowsTs`, in WebAssembly when it is available. */
export function sumRowsInto(x: Float64Array, M: number, N: number, out: Float64Array): void {
  if (M * N >= WASM_ELEMENTWISE_MIN && wasmSumRows(x, M, N, out)) return;
  sumRowsTs(x, M, N, out);
}
