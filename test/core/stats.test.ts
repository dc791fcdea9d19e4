/**
 * Tensor statistics for any float64 (issue 13): norms and standard deviations that do not overflow or
 * underflow, NaN and ±∞ counted, and nothing invented (an all-NaN tensor has no minimum, and its norm
 * is not 0). Checked against the same quantities computed with BigInt-free exact reasoning or in a
 * scaled form by hand.
 */
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { l2norm, tensorStats } from "../../core/trace/stats";

const t = (values: number[]) => ({ shape: [values.length], data: new Float64Array(values) });

describe("tensor statistics for any float64", () => {
  it("finite values near the top of the range: norm and std stay finite (they were ∞ and NaN)", () => {
    const s = tensorStats(t([1e200, -1e200, 1e200, 3e200]));
    assert.equal(s.nonFinite, 0);
    assert.ok(Math.abs(s.norm / (Math.sqrt(12) * 1e200) - 1) < 1e-15, `norm ${s.norm}`);
    assert.ok(Math.abs(s.mean / 1e200 - 1) < 1e-15, `mean ${s.mean}`);
    // deviations −0, −2, 0, 2 (×1e200): variance 2e400, std √2·1e200
    assert.ok(Math.abs(s.std / (Math.SQRT2 * 1e200) - 1) < 1e-15, `std ${s.std}`);
    assert.equal(s.min, -1e200);
    assert.equal(s.max, 3e200);
    assert.ok(Math.abs(l2norm(t([1e200, -1e200, 1e200, 3e200])) / (Math.sqrt(12) * 1e200) - 1) < 1e-15);
  });

  it("tiny values: the norm does not underflow to 0", () => {
    const s = tensorStats(t([3e-200, 4e-200]));
    assert.ok(Math.abs(s.norm / 5e-200 - 1) < 1e-15, `norm ${s.norm}`);
    assert.ok(Math.abs(l2norm(t([3e-200, 4e-200])) / 5e-200 - 1) < 1e-15);
    assert.ok(Math.abs(l2norm(t([0, 0, 0, 0, 5e-324])) / 5e-324 - 1) < 1e-15);
  });

  it("an all-NaN tensor: no min, max, mean or norm is made up (they were −∞, −∞ and 0)", () => {
    const s = tensorStats(t([NaN, NaN, NaN]));
    assert.ok(Number.isNaN(s.min) && Number.isNaN(s.max) && Number.isNaN(s.mean) && Number.isNaN(s.std) && Number.isNaN(s.norm));
    assert.equal(s.nan, 3);
    assert.equal(s.nonFinite, 3);
    assert.ok(Number.isNaN(l2norm(t([NaN, 1]))));
  });

  it("counts NaN, +∞ and −∞ apart; min/max see the infinities, mean/std only the finite values", () => {
    const s = tensorStats(t([Infinity, -Infinity, -Infinity, 2, 4, 0]));
    assert.deepEqual([s.nan, s.posInf, s.negInf, s.nonFinite, s.zeros], [0, 1, 2, 3, 1]);
    assert.equal(s.min, -Infinity);
    assert.equal(s.max, Infinity);
    assert.equal(s.mean, 2);
    assert.ok(Math.abs(s.std - Math.sqrt(8 / 3)) < 1e-15);
    assert.equal(s.norm, Infinity);
    assert.equal(l2norm(t([1, -Infinity])), Infinity);
    const withNan = tensorStats(t([NaN, Infinity, 1]));
    assert.ok(Number.isNaN(withNan.norm), "a NaN makes the norm NaN, whatever else there is");
    assert.equal(withNan.max, Infinity);
  });

  it("std never goes negative or NaN from cancellation (a constant tensor of large values)", () => {
    const s = tensorStats(t(new Array(1000).fill(1e8 + 0.1)));
    assert.equal(s.std, 0);
  });

  it("for ordinary values: the textbook formulas (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 60 }), (xs) => {
        const s = tensorStats(t(xs));
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
        const norm = Math.sqrt(xs.reduce((a, b) => a + b * b, 0));
        const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
        return close(s.mean, mean) && close(s.std, std) && close(s.norm, norm) && close(l2norm(t(xs)), norm) && s.min === Math.min(...xs) && s.max === Math.max(...xs);
      }),
    );
  });

  it("scaling by a power of two scales the norm exactly, across the whole exponent range (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }), { minLength: 1, maxLength: 30 }), fc.integer({ min: -1000, max: 1000 }), (xs, e) => {
        const k = 2 ** e;
        const base = l2norm(t(xs));
        const scaled = l2norm(t(xs.map((x) => x * k)));
        return Math.abs(scaled / k / base - 1) < 1e-14 && Math.abs(tensorStats(t(xs.map((x) => x * k))).norm / k / base - 1) < 1e-14;
      }),
    );
  });
});
