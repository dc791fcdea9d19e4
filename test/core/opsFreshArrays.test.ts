/**
 * The layers' results are allocated without zeroing (`uninitialized`, Node's Buffer.allocUnsafeSlow)
 * where every element is written at once. What must still hold: each result is an ordinary Float64Array
 * over an ArrayBuffer of its own (no pool, no view of the kernels' memory, never shared with another
 * result), a result kept from one step keeps its values through the next steps, and every element is
 * the value the product defines (no leftover memory shows through), with the WebAssembly kernels and
 * without them.
 */
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { CategoricalCrossentropy, Dense, ReLU, Rng, Softmax, SoftmaxCategoricalCrossentropy, type Tensor, dot, mean, randn, softmaxRows, sumRows } from "../../core/index";
import { setWasmKernels } from "../../core/ops/wasm";
import { uninitialized } from "../../core/tensor";

function ownBuffer(t: Tensor, what: string): void {
  assert.ok(t.data instanceof Float64Array, `${what} is a Float64Array`);
  assert.equal(Object.getPrototypeOf(t.data), Float64Array.prototype, `${what} is a plain Float64Array`);
  assert.equal(t.data.byteOffset, 0, `${what} starts its buffer`);
  assert.equal(t.data.buffer.byteLength, t.data.byteLength, `${what} has the whole buffer to itself`);
  assert.ok(t.data.buffer instanceof ArrayBuffer, `${what}'s buffer is an ArrayBuffer (not shared)`);
}

/** Plain triple loop: out = x · w (+ bias). */
function naiveDot(x: Float64Array, w: Float64Array, M: number, K: number, N: number, bias?: Float64Array): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (x[i * K + k] as number) * (w[k * N + j] as number);
      out[i * N + j] = bias ? s + (bias[j] as number) : s;
    }
  return out;
}

function close(a: Float64Array, b: Float64Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    assert.ok(Math.abs(x - y) <= 1e-12 * (1 + Math.abs(y)), `${what}[${i}] = ${x}, expected ${y}`);
  }
}

describe("results allocated without zeroing", () => {
  afterEach(() => setWasmKernels(true));

  it("uninitialized() gives a tensor of the shape over a buffer of its own, small or large", () => {
    for (const shape of [[0], [1], [3, 5], [1, 511], [1, 512], [300, 64], [2, 3, 100]]) {
      const a = uninitialized(shape);
      const b = uninitialized(shape);
      assert.deepEqual(a.shape, shape);
      assert.equal(a.data.length, shape.reduce((p, d) => p * d, 1));
      ownBuffer(a, `uninitialized(${JSON.stringify(shape)})`);
      if (a.data.length > 0) assert.notEqual(a.data.buffer, b.data.buffer, "two calls never share a buffer");
      b.data.fill(3);
      a.data.fill(7);
      assert.ok(b.data.every((v) => v === 3), "writing one does not change the other");
    }
  });

  for (const wasm of [true, false]) {
    it(`every layer result of a training step is its own array, keeps its values, and holds the defined values (${wasm ? "WebAssembly" : "TypeScript"} kernels)`, () => {
      setWasmKernels(wasm);
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 2, max: 5 }), fc.integer(), (n, nIn, hidden, classes, seed) => {
          const rng = new Rng(seed);
          const X = randn([n, nIn], rng);
          const y = { shape: [n], data: Float64Array.from({ length: n }, () => rng.int(classes)) };
          const d1 = new Dense(nIn, hidden, { rng, weightScale: 0.5 });
          const r1 = new ReLU();
          const d2 = new Dense(hidden, classes, { rng, weightScale: 0.5 });
          const loss = new SoftmaxCategoricalCrossentropy();
          const step = (): Tensor[] => {
            d1.forward(X);
            r1.forward(d1.output);
            d2.forward(r1.output);
            loss.forward(d2.output, y);
            loss.backward(loss.output, y);
            d2.backward(loss.dinputs);
            r1.backward(d2.dinputs);
            d1.backward(r1.dinputs);
            return [d1.output, r1.output, d2.output, loss.output, loss.dinputs, d2.dweights, d2.dbiases, d2.dinputs, r1.dinputs, d1.dweights, d1.dbiases, d1.dinputs];
          };
          const first = step();
          // The values each result must hold, from plain loops over the layers' own inputs.
          close(first[0]!.data, naiveDot(X.data, d1.weights.data, n, nIn, hidden, d1.biases.data), "dense1.output");
          close(first[1]!.data, first[0]!.data.map((v) => (v < 0 ? 0 : v)), "relu1.output");
          close(first[8]!.data, d2.dinputs.data.map((g, i) => ((first[0]!.data[i] as number) <= 0 ? 0 : g)), "relu1.dinputs");
          const dYT = new Float64Array(hidden * n);
          for (let i = 0; i < n; i++) for (let j = 0; j < hidden; j++) dYT[j * n + i] = r1.dinputs.data[i * hidden + j] as number;
          const XT = new Float64Array(nIn * n);
          for (let i = 0; i < n; i++) for (let j = 0; j < nIn; j++) XT[j * n + i] = X.data[i * nIn + j] as number;
          close(first[9]!.data, naiveDot(XT, r1.dinputs.data, nIn, n, hidden), "dense1.dweights");
          const WT = new Float64Array(hidden * nIn);
          for (let i = 0; i < nIn; i++) for (let j = 0; j < hidden; j++) WT[j * nIn + i] = d1.weights.data[i * hidden + j] as number;
          close(first[11]!.data, naiveDot(r1.dinputs.data, WT, n, hidden, nIn), "dense1.dinputs");
          close(first[10]!.data, sumRows(r1.dinputs).data, "dense1.dbiases");
          const copies = first.map((t) => t.data.slice());
          const buffers = new Set<ArrayBufferLike>();
          first.forEach((t, i) => {
            ownBuffer(t, `result ${i}`);
            assert.ok(!buffers.has(t.data.buffer), `result ${i} shares no buffer with another`);
            buffers.add(t.data.buffer);
          });
          // Later steps (with their own fresh results) leave the kept ones as they were.
          step();
          const second = step();
          first.forEach((t, i) => {
            assert.deepEqual(t.data, copies[i], `result ${i} of the first step is unchanged`);
            assert.notEqual(second[i]!.data.buffer, t.data.buffer);
          });
        }),
        { numRuns: 25 },
      );
    });
  }

  it("dot, sumRows, Softmax and CategoricalCrossentropy results are their own arrays with the defined values", () => {
    const rng = new Rng(11);
    const a = randn([40, 30], rng);
    const b = randn([30, 20], rng);
    const p = dot(a, b);
    ownBuffer(p, "dot");
    close(p.data, naiveDot(a.data, b.data, 40, 30, 20), "dot");
    const s = sumRows(p);
    ownBuffer(s, "sumRows");
    const sm = new Softmax();
    sm.forward(p);
    ownBuffer(sm.output, "softmax.output");
    for (let i = 0; i < 40; i++) {
      let t = 0;
      for (let j = 0; j < 20; j++) t += sm.output.data[i * 20 + j] as number;
      assert.ok(Math.abs(t - 1) < 1e-12, `softmax row ${i} sums to 1`);
    }
    const y = { shape: [40], data: Float64Array.from({ length: 40 }, (_, i) => i % 20) };
    const cce = new CategoricalCrossentropy();
    cce.forward(sm.output, y);
    const g = cce.backward(sm.output, y);
    ownBuffer(g, "cce.dinputs");
    for (let i = 0; i < 40; i++)
      for (let j = 0; j < 20; j++) {
        const want = j === i % 20 ? -1 / (sm.output.data[i * 20 + j] as number) / 40 : -0 / 40;
        assert.ok(Object.is(g.data[i * 20 + j], want) || Math.abs((g.data[i * 20 + j] as number) - want) < 1e-12, `cce.dinputs[${i}, ${j}]`);
      }
    const back = sm.backward(g);
    ownBuffer(back, "softmax.dinputs");
  });
});

describe("softmax + cross-entropy forward in one pass", () => {
  it("gives softmaxRows' output and sampleLosses' losses bit for bit (class indices; NaN, ±∞, huge logits)", () => {
    const special = [NaN, Infinity, -Infinity, -0, 0, 800, -800, 1e308];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 12 }), fc.boolean(), fc.integer(), (n, k, specials, seed) => {
        const rng = new Rng(seed);
        const logits = randn([n, k], rng);
        if (specials) for (let i = 0; i < logits.data.length; i++) if (rng.uniform() < 0.05) logits.data[i] = special[Math.floor(rng.uniform() * special.length)] as number;
        const y = { shape: [n], data: Float64Array.from({ length: n }, () => rng.int(k)) };
        const layer = new SoftmaxCategoricalCrossentropy();
        const loss = layer.forward(logits, y);
        const want = softmaxRows(logits);
        const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
        want.data.forEach((v, i) => assert.ok(same(layer.output.data[i] as number, v), `output[${i}] ${layer.output.data[i]} vs ${v}`));
        const cce = new CategoricalCrossentropy();
        const losses = cce.forward(want, y);
        losses.data.forEach((v, i) => assert.ok(same(layer.sampleLosses.data[i] as number, v), `loss[${i}] ${layer.sampleLosses.data[i]} vs ${v}`));
        assert.ok(same(loss, mean(losses)));
        ownBuffer(layer.output, "output");
      }),
      { numRuns: 150 },
    );
  });
});
