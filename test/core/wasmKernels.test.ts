/**
 * The WebAssembly SIMD kernels (core/ops/wasm/kernels.wat) against the TypeScript kernels they stand
 * in for, which are the reference: the same float64 results, element for element (±0 told apart;
 * any NaN matches any NaN, since WebAssembly does not fix NaN payloads), on random shapes from fast-check
 * that include 1, odd sizes, sizes that are not multiples of the 4×4 tile and more than one block in
 * every dimension (KC = 256 deep, MC = 128 rows, NC = 1024 columns), all four transpose combinations,
 * with and without `accumulate`, and operands holding NaN, ±Infinity and −0.
 *
 * Both kernels sum every element's products in k order within depth blocks of 256 and add the block
 * sums in order, so no tolerance is needed. The TypeScript kernel's own paths are held to that order
 * here too (against a plain blocked triple loop, bit for bit).
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import fc from "fast-check";
import { Dense, ReLU, Rng, randn, sumRows } from "../../core/index";
import { addRowTs, reluBackwardTs, reluForwardTs, sumRowsTs } from "../../core/ops/elementwise";
import { gemmTs } from "../../core/ops/gemm";
import { kernelInfo, setDirectMax, setWasmKernels, wasmDenseBackward, wasmGemm, wasmReluBackward, wasmReluForward, wasmSumRows } from "../../core/ops/wasm";

const root = path.join(__dirname, "..", "..", "..");

/** Index of the first element where a and b differ (NaN equals NaN; +0 and −0 differ), or −1. */
function firstDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (!Object.is(x, y)) return i;
  }
  return -1;
}

function assertSame(actual: Float64Array, expected: Float64Array, what: string): void {
  const i = firstDifference(actual, expected);
  if (i >= 0) assert.fail(`${what}: element ${i} is ${actual[i]} in WebAssembly but ${expected[i]} in TypeScript`);
}

/** Random reals, with a few special values when `specials`. */
function values(n: number, rng: Rng, specials: boolean): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    if (specials && u < 0.02) a[i] = [NaN, Infinity, -Infinity, -0, 0][Math.floor(u * 250)] as number;
    else a[i] = rng.normal() * (u < 0.5 ? 1 : 1e3);
  }
  return a;
}

/** Sizes with the edges weighted: 1, 2, 3, odd, around the tile (4) and the blocks. */
const size = (max: number): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9), fc.integer({ min: 1, max }), fc.constantFrom(127, 128, 129, 255, 256, 257).filter((n) => n <= max));

/**
 * wasmGemm against the TypeScript kernel (then its bias pass), bit for bit, on random operands (with
 * NaN/±∞/−0 when `specials`); a bias product is used without transposes only (Dense.forward).
 */
function gemmAgrees(M: number, N: number, K: number, tA: boolean, tB: boolean, mode: "plain" | "accumulate" | "bias", specials: boolean, seed: number): void {
  const rng = new Rng(seed);
  const A = values(M * K, rng, specials);
  const B = values(K * N, rng, specials);
  const C0 = values(M * N, rng, specials);
  const bias = values(N, rng, specials);
  const acc = mode === "accumulate";
  // gemmBias is used without transposes only (Dense.forward).
  const ta = mode === "bias" ? false : tA;
  const tb = mode === "bias" ? false : tB;
  const ts = C0.slice();
  gemmTs(ta, tb, M, N, K, A, B, ts, acc);
  if (mode === "bias") addRowTs(ts, bias, M, N);
  const wa = C0.slice();
  assert.ok(wasmGemm(ta, tb, M, N, K, A, B, wa, acc, mode === "bias" ? bias : undefined));
  assertSame(wa, ts, `${M}×${N}×${K} transA=${ta} transB=${tb} ${mode}`);
}

/** Dense.backward's WebAssembly kernel against the three TypeScript operations, bit for bit; the weights untouched. */
function denseBackwardAgrees(Bn: number, In: number, Out: number, seed: number): void {
  const rng = new Rng(seed);
  const X = values(Bn * In, rng, true);
  const dY = values(Bn * Out, rng, true);
  const W = values(In * Out, rng, true);
  const W0 = W.slice();
  const dW = new Float64Array(In * Out);
  const db = new Float64Array(Out);
  const dX = new Float64Array(Bn * In);
  assert.ok(wasmDenseBackward(X, dY, W, Bn, In, Out, dW, db, dX));
  const rW = new Float64Array(In * Out);
  const rb = new Float64Array(Out);
  const rX = new Float64Array(Bn * In);
  gemmTs(true, false, In, Out, Bn, X, dY, rW);
  sumRowsTs(dY, Bn, Out, rb);
  gemmTs(false, true, Bn, In, Out, dY, W, rX);
  assertSame(dW, rW, "dweights");
  assertSame(db, rb, "dbiases");
  assertSame(dX, rX, "dinputs");
  assertSame(W, W0, "the weights are not changed");
}

describe("WebAssembly SIMD kernels", () => {
  afterEach(() => {
    setWasmKernels(true);
    setDirectMax(256 * 1024);
  });

  it("load in Node (so the engine does not silently fall back to TypeScript)", () => {
    assert.deepEqual(kernelInfo(), { kernels: "wasm-simd" });
  });

  it("the generated module is the assembled kernels.wat (not stale)", () => {
    const r = spawnSync(process.execPath, [path.join(root, "core", "ops", "wasm", "assemble.mjs"), "--check"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  });

  it("gemm: the same numbers as the TypeScript kernel on random shapes, transposes and accumulate", () => {
    fc.assert(
      fc.property(size(300), size(300), size(300), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), fc.constantFrom("packed", "in place", "default"), fc.integer(), (M, N, K, tA, tB, acc, specials, pack, seed) => {
        // Operands read in place by the micro-kernel, or packed into panels first, or as the engine
        // chooses (op(A) packed from 16 columns on, op(B) too from 16 rows and columns, or when large).
        if (pack === "packed") setDirectMax(0);
        else if (pack === "in place") setDirectMax(2 ** 30, Infinity);
        else setDirectMax(256 * 1024);
        const rng = new Rng(seed);
        const A = values(M * K, rng, specials);
        const B = values(K * N, rng, specials);
        const C0 = values(M * N, rng, specials);
        const ts = C0.slice();
        gemmTs(tA, tB, M, N, K, A, B, ts, acc);
        const wa = C0.slice();
        assert.ok(wasmGemm(tA, tB, M, N, K, A, B, wa, acc));
        assertSame(wa, ts, `${M}×${N}×${K} transA=${tA} transB=${tB} accumulate=${acc}`);
      }),
      { numRuns: 150 },
    );
  });

  it("gemm: several blocks in every dimension (M > 128, N > 1024, K > 512)", () => {
    const rng = new Rng(5);
    for (const [M, N, K, pack] of [
      [131, 9, 600, false],
      [6, 1031, 300, false],
      [257, 1030, 5, true],
      [133, 1029, 521, true],
      [131, 1030, 300, false],
    ] as [number, number, number, boolean][]) {
      setDirectMax(pack ? 0 : 2 ** 30, pack ? 16 : Infinity);
      for (const [tA, tB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as [boolean, boolean][]) {
        const A = values(M * K, rng, false);
        const B = values(K * N, rng, false);
        const ts = new Float64Array(M * N);
        gemmTs(tA, tB, M, N, K, A, B, ts);
        const wa = new Float64Array(M * N);
        assert.ok(wasmGemm(tA, tB, M, N, K, A, B, wa, false));
        assertSame(wa, ts, `${M}×${N}×${K} transA=${tA} transB=${tB}`);
      }
    }
  });

  it("gemm with a bias row: the product, then the bias, as Dense.forward did in two steps", () => {
    fc.assert(
      fc.property(size(200), size(200), size(300), fc.integer(), (M, N, K, seed) => {
        const rng = new Rng(seed);
        const A = values(M * K, rng, true);
        const B = values(K * N, rng, true);
        const bias = values(N, rng, true);
        const ts = new Float64Array(M * N);
        gemmTs(false, false, M, N, K, A, B, ts);
        addRowTs(ts, bias, M, N);
        const wa = new Float64Array(M * N);
        assert.ok(wasmGemm(false, false, M, N, K, A, B, wa, false, bias));
        assertSame(wa, ts, `${M}×${N}×${K} + bias`);
      }),
      { numRuns: 60 },
    );
  });

  it("gemm of depth K ≤ 4 (its own one-pass kernel): the same numbers, all transposes, accumulate and bias, NaN/±∞/−0", () => {
    fc.assert(
      fc.property(size(300), size(300), fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.boolean(), fc.constantFrom("plain", "accumulate", "bias"), fc.boolean(), fc.integer(), (M, N, K, tA, tB, mode, specials, seed) => {
        gemmAgrees(M, N, K, tA, tB, mode, specials, seed);
      }),
      { numRuns: 200 },
    );
  });

  it("gemm with 1 or 2 rows or columns (4×2 tiles, Cᵀ for the rows): the same numbers, several depth blocks, transposes, accumulate, bias", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        size(300),
        fc.oneof(fc.integer({ min: 5, max: 600 }), fc.constantFrom(5, 255, 256, 257, 512, 513)),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("plain", "accumulate", "bias"),
        fc.boolean(),
        fc.integer(),
        (thin, other, K, thinRows, tA, tB, mode, specials, seed) => {
          const M = thinRows ? thin : other;
          const N = thinRows ? other : thin;
          gemmAgrees(M, N, K, tA, tB, mode, specials, seed);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("Dense.backward with 1–4 neurons or 1–2 inputs (the thin kernels): the same numbers as the TypeScript operations", () => {
    fc.assert(
      fc.property(size(600), size(200), fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.integer(), (Bn, wide, few, fewInputs, seed) => {
        const In = fewInputs ? Math.min(few, 2) : wide;
        const Out = fewInputs ? wide : few;
        denseBackwardAgrees(Bn, In, Out, seed);
      }),
      { numRuns: 80 },
    );
  });

  it("the TypeScript kernel's paths all sum in the same order (a blocked triple loop, bit for bit)", () => {
    fc.assert(
      fc.property(size(300), size(300), size(600), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer(), (M, N, K, tA, tB, acc, seed) => {
        const rng = new Rng(seed);
        const A = values(M * K, rng, false);
        const B = values(K * N, rng, false);
        const C0 = values(M * N, rng, false);
        const ref = C0.slice();
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let v = ref[i * N + j] as number;
            for (let p = 0; p < K; p += 256) {
              let s = 0;
              for (let k = p; k < Math.min(K, p + 256); k++) s += (A[tA ? k * M + i : i * K + k] as number) * (B[tB ? j * K + k : k * N + j] as number);
              v = p === 0 && !acc ? s : v + s;
            }
            ref[i * N + j] = v;
          }
        }
        const ts = C0.slice();
        gemmTs(tA, tB, M, N, K, A, B, ts, acc);
        const i = firstDifference(ts, ref);
        if (i >= 0) assert.fail(`${M}×${N}×${K} transA=${tA} transB=${tB} accumulate=${acc}: element ${i} is ${ts[i]}, the blocked loop gives ${ref[i]}`);
      }),
      { numRuns: 120 },
    );
  });

  it("ReLU forward and backward: the same numbers as the TypeScript loops (NaN, −0 and odd lengths included)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer(), (n, seed) => {
        const rng = new Rng(seed);
        const x = values(n, rng, true);
        const g = values(n, rng, true);
        const f1 = new Float64Array(n);
        const f2 = new Float64Array(n);
        reluForwardTs(x, f1);
        assert.ok(wasmReluForward(x, f2));
        assertSame(f2, f1, `relu forward n=${n}`);
        const b1 = new Float64Array(n);
        const b2 = new Float64Array(n);
        reluBackwardTs(x, g, b1);
        assert.ok(wasmReluBackward(x, g, b2));
        assertSame(b2, b1, `relu backward n=${n}`);
      }),
      { numRuns: 100 },
    );
  });

  it("column sums (dbiases): the same numbers as the TypeScript loop", () => {
    fc.assert(
      fc.property(size(400), size(300), fc.integer(), (M, N, seed) => {
        const rng = new Rng(seed);
        const x = values(M * N, rng, true);
        const a = new Float64Array(N);
        const b = new Float64Array(N).fill(7); // overwritten, not added to
        sumRowsTs(x, M, N, a);
        assert.ok(wasmSumRows(x, M, N, b));
        assertSame(b, a, `sum rows ${M}×${N}`);
      }),
      { numRuns: 80 },
    );
  });

  it("Dense.backward's three gradients in one visit: the same numbers as the three TypeScript operations", () => {
    fc.assert(
      fc.property(size(300), size(200), size(200), fc.integer(), (Bn, In, Out, seed) => {
        denseBackwardAgrees(Bn, In, Out, seed);
      }),
      { numRuns: 60 },
    );
  });

  it("layers give the same outputs and gradients with the kernels switched off", () => {
    const run = (): Float64Array[] => {
      const rng = new Rng(11);
      const X = randn([301, 37], rng);
      const d1 = new Dense(37, 65, { rng });
      const r1 = new ReLU();
      const d2 = new Dense(65, 3, { rng });
      for (let i = 0; i < d1.biases.data.length; i++) d1.biases.data[i] = rng.normal() * 0.1;
      d1.forward(X);
      r1.forward(d1.output);
      d2.forward(r1.output);
      const g = randn([301, 3], rng);
      d2.backward(g);
      r1.backward(d2.dinputs);
      d1.backward(r1.dinputs);
      return [d1.output, r1.output, d2.output, d2.dweights, d2.dbiases, d2.dinputs, r1.dinputs, d1.dweights, d1.dbiases, d1.dinputs, sumRows(r1.dinputs)].map((t) => t.data);
    };
    setWasmKernels(true);
    const fast = run();
    setWasmKernels(false);
    assert.equal(kernelInfo().kernels, "typescript");
    const plain = run();
    fast.forEach((a, i) => assertSame(a, plain[i] as Float64Array, `tensor ${i}`));
  });
});
