/**
 * SGD's plain update (p += −lr·dp), unrolled four elements per iteration: every element must be exactly
 * what the one-element loop gives, for every length (the remainder of 1–3 elements included) and for
 * NaN, ±Infinity and −0 in parameters and gradients.
 */
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { Dense, Rng, SGD } from "../../core/index";

describe("SGD update, four elements per iteration", () => {
  it("equals p + (−lr)·dp element by element, lengths 1–40 and odd sizes, special values included", () => {
    const special = [NaN, Infinity, -Infinity, -0, 0, 1e-310, 1e308];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 }), fc.double({ min: 1e-6, max: 10, noNaN: true }), fc.integer(), (nIn, nOut, lr, seed) => {
        const rng = new Rng(seed);
        const pick = (): number => (rng.uniform() < 0.05 ? (special[Math.floor(rng.uniform() * special.length)] as number) : rng.normal());
        const layer = new Dense(nIn, nOut, { rng });
        for (let i = 0; i < layer.weights.data.length; i++) layer.weights.data[i] = pick();
        for (let i = 0; i < nOut; i++) layer.biases.data[i] = pick();
        layer.dweights = { shape: [nIn, nOut], data: Float64Array.from({ length: nIn * nOut }, pick) };
        layer.dbiases = { shape: [1, nOut], data: Float64Array.from({ length: nOut }, pick) };
        const want = (p: Float64Array, g: Float64Array): Float64Array => p.map((v, i) => v + -lr * (g[i] as number));
        const w = want(layer.weights.data, layer.dweights.data);
        const b = want(layer.biases.data, layer.dbiases.data);
        new SGD({ learningRate: lr }).updateParams(layer);
        for (const [got, exp, what] of [
          [layer.weights.data, w, "weights"],
          [layer.biases.data, b, "biases"],
        ] as const) {
          for (let i = 0; i < exp.length; i++) {
            const x = got[i] as number;
            const y = exp[i] as number;
            assert.ok(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)), `${what}[${i}] is ${x}, expected ${y}`);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
