/**
 * `normAndMeanAbs` (core/trace/stats.ts), the gradient norms and mean |value| of every sampled step:
 * four accumulators per sum (issue 11) with the single sum's edge semantics (NaN, ±∞, overflow and
 * underflow of the squares, overflow of the |value| sum). Lengths around the unroll of 4 exercise the tail.
 */
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { l2norm, normAndMeanAbs, tensorStats } from "../../core/trace/stats";

const t = (values: number[]) => ({ shape: [values.length], data: new Float64Array(values) });
const close = (got: number, want: number, rel = 1e-15) => assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `${got} vs ${want}`);

describe("normAndMeanAbs: gradient norm and mean |value|", () => {
  it("an empty tensor: norm 0, mean |value| NaN", () => {
    const r = normAndMeanAbs(t([]));
    assert.equal(r.norm, 0);
    assert.ok(Number.isNaN(r.meanAbs));
  });

  it("lengths 1, 2, 3, 4, 5 and 7 (the unrolled loop and its tail): exact for small integers", () => {
    const cases: [number[], number, number][] = [
      // values, norm, meanAbs
      [[-3], 3, 3],
      [[3, -4], 5, 3.5],
      [[2, -3, 6], 7, 11 / 3],
      [[1, -1, 1, -1], 2, 1],
      [[1, 2, -2, 0, 4], 5, 9 / 5],
      [[-1, 2, 2, 0, -4, 0, 0], 5, 9 / 7],
      [[0, 0, 0, 0, 0, 0, 3], 3, 3 / 7],
      [[3, 0, 0, 0, 0, 0, 0], 3, 3 / 7],
    ];
    for (const [values, norm, meanAbs] of cases) {
      const r = normAndMeanAbs(t(values));
      assert.equal(r.norm, norm, `norm of [${values}]`);
      assert.equal(r.meanAbs, meanAbs, `meanAbs of [${values}]`);
    }
  });

  it("an all-zero tensor (−0 included): norm 0 and mean |value| 0", () => {
    for (const n of [1, 2, 3, 4, 5, 7]) {
      const r = normAndMeanAbs(t(Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 0 : -0))));
      assert.ok(Object.is(r.norm, 0), `norm ${r.norm}`);
      assert.ok(Object.is(r.meanAbs, 0), `meanAbs ${r.meanAbs}`);
    }
  });

  it("NaN anywhere (in the unrolled part or the tail): both NaN", () => {
    for (const n of [1, 2, 3, 4, 5, 7]) {
      for (let at = 0; at < n; at++) {
        const v = Array.from({ length: n }, (_, i) => (i === at ? NaN : i + 1));
        const r = normAndMeanAbs(t(v));
        assert.ok(Number.isNaN(r.norm) && Number.isNaN(r.meanAbs), `n=${n} at=${at}: ${r.norm} ${r.meanAbs}`);
      }
    }
    // NaN beats ∞
    const r = normAndMeanAbs(t([Infinity, NaN, 1, 2, -Infinity]));
    assert.ok(Number.isNaN(r.norm) && Number.isNaN(r.meanAbs));
  });

  it("±∞ anywhere: norm +∞ and mean |value| +∞", () => {
    for (const n of [1, 2, 3, 4, 5, 7]) {
      for (let at = 0; at < n; at++) {
        for (const inf of [Infinity, -Infinity]) {
          const v = Array.from({ length: n }, (_, i) => (i === at ? inf : 0.5));
          const r = normAndMeanAbs(t(v));
          assert.equal(r.norm, Infinity, `n=${n} at=${at}`);
          assert.equal(r.meanAbs, Infinity, `n=${n} at=${at}`);
        }
      }
    }
  });

  it("huge values: the squares overflow, the norm does not; the |value| sum overflows, the mean does not", () => {
    const r = normAndMeanAbs(t([1e200, -1e200, 1e200, 3e200, 0]));
    close(r.norm, Math.sqrt(12) * 1e200);
    close(r.meanAbs, 6e200 / 5);
    // |value| sum 3.5e308 overflows; the true norm √7·5e307 ≈ 1.3e308 does not
    const big = normAndMeanAbs(t([5e307, -5e307, 5e307, 5e307, 5e307, -5e307, 5e307]));
    close(big.norm, Math.sqrt(7) * 5e307);
    assert.ok(Number.isFinite(big.meanAbs));
    close(big.meanAbs, 5e307, 1e-14);
  });

  it("tiny values: the squares underflow, the norm does not", () => {
    close(normAndMeanAbs(t([3e-200, 4e-200])).norm, 5e-200);
    close(normAndMeanAbs(t([0, 0, 0, 0, 5e-324])).norm, 5e-324);
    close(normAndMeanAbs(t([0, 0, 3e-170, 0, 0, 4e-170, 0])).norm, 5e-170);
    const r = normAndMeanAbs(t([1e-160, 0, 0, 0, 0]));
    close(r.norm, 1e-160);
    close(r.meanAbs, 2e-161);
  });

  it("any values: the same norm as l2norm and tensorStats, the mean |value| of a plain sum (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }), (values) => {
        const r = normAndMeanAbs(t(values));
        const norm = l2norm(t(values));
        assert.ok(Math.abs(r.norm - norm) <= 1e-14 * norm, `${r.norm} vs ${norm}`);
        assert.ok(Math.abs(r.norm - tensorStats(t(values)).norm) <= 1e-14 * norm);
        const meanAbs = values.reduce((s, v) => s + Math.abs(v), 0) / values.length;
        assert.ok(Math.abs(r.meanAbs - meanAbs) <= 1e-14 * meanAbs, `${r.meanAbs} vs ${meanAbs}`);
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});
