import * as assert from "node:assert/strict";

/**
 * Asserts that `actual` equals `expected` element by element within an absolute tolerance
 * (numbers, arrays, nested arrays). A failure names the first differing index.
 */
export function expectClose(actual: unknown, expected: unknown, tolerance: number, where = ""): void {
  if (typeof expected === "number") {
    assert.equal(typeof actual, "number", `${where || "value"}: expected a number, got ${JSON.stringify(actual)}`);
    const a = actual as number;
    if (Number.isNaN(expected)) {
      assert.ok(Number.isNaN(a), `${where || "value"}: expected NaN, got ${a}`);
      return;
    }
    const diff = Math.abs(a - expected);
    assert.ok(diff <= tolerance, `${where || "value"}: ${a} differs from ${expected} by ${diff} (> ${tolerance})`);
    return;
  }
  if (Array.isArray(expected)) {
    const arr = actual instanceof Float64Array ? Array.from(actual) : actual;
    assert.ok(Array.isArray(arr), `${where || "value"}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal((arr as unknown[]).length, expected.length, `${where || "value"}: length ${(arr as unknown[]).length}, expected ${expected.length}`);
    expected.forEach((e, i) => expectClose((arr as unknown[])[i], e, tolerance, `${where}[${i}]`));
    return;
  }
  assert.deepEqual(actual, expected, where);
}
