/** NumPy-style printing: what the book's output looks like. */
import * as assert from "node:assert/strict";
import { formatNumber, formatTensor, tensor } from "../../core/index";
import { MINUS, shortNumber } from "../../core/host";
import { exactNumber, formatDuration } from "../../core/format";

describe("formatTensor (NumPy style)", () => {
  it("prints the chapter's dinputs exactly as NumPy does", () => {
    const t = tensor([
      [0.43999999999999995, -0.38, -0.06999999999999998, 1.37],
      [0.8799999999999999, -0.76, -0.13999999999999996, 2.74],
    ]);
    assert.equal(formatTensor(t), "[[ 0.44 -0.38 -0.07  1.37]\n [ 0.88 -0.76 -0.14  2.74]]");
  });

  it("keeps the point of whole numbers and pads fractions with spaces", () => {
    assert.equal(formatTensor(tensor([[6, 6, 6]])), "[[6. 6. 6.]]");
    assert.equal(formatTensor(tensor([0.5, 0.25])), "[0.5  0.25]");
    assert.equal(formatTensor(tensor([-3, -1, 2])), "[-3. -1.  2.]");
  });

  it("rounds to 8 digits after the point", () => {
    assert.equal(formatTensor(tensor([[-0.1, 1 / 30, 1 / 15]])), "[[-0.1         0.03333333  0.06666667]]");
  });

  it("switches to scientific notation with equal mantissas for tiny or spread values", () => {
    assert.equal(formatTensor(tensor([1e-5, 1.5e-5])), "[1.0e-05 1.5e-05]");
    assert.equal(formatTensor(tensor([0, 2.5e-5])), "[0.0e+00 2.5e-05]");
  });

  it("prints nan and inf", () => {
    assert.equal(formatTensor(tensor([NaN, 1, -Infinity])), "[ nan   1. -inf]");
    assert.equal(formatNumber(Infinity), "inf");
  });

  it("summarises large tensors with ... at 3 items from each edge", () => {
    const big = tensor(Array.from({ length: 40 }, (_, i) => Array.from({ length: 30 }, (_, j) => i + j)));
    const text = formatTensor(big);
    const lines = text.split("\n");
    assert.equal(lines.length, 7);
    assert.equal(lines[3]?.trim(), "...");
    assert.match(lines[0] ?? "", /^\[\[ 0\.  1\.  2\. \.\.\. 27\. 28\. 29\.\]$/);
  });
});

describe("shortNumber: the one notation for numbers people read", () => {
  it("writes significant digits with trailing zeros dropped, whole numbers in full", () => {
    assert.equal(shortNumber(4.1100001), "4.11");
    assert.equal(shortNumber(0.0123456), "0.01235");
    assert.equal(shortNumber(40.2449, 4), "40.24");
    assert.equal(shortNumber(20.099999999999998, 6), "20.1");
    assert.equal(shortNumber(300), "300");
    assert.equal(shortNumber(123456), "123456");
    assert.equal(shortNumber(12345.6), "12350");
    assert.equal(shortNumber(0.001), "0.001");
  });

  it("uses exponents below 1e−3 and from 1e5, with a real minus and no plus or padding", () => {
    assert.equal(shortNumber(5.6e-4, 2), "5.6e−4");
    assert.equal(shortNumber(-6.2251e-5), "−6.225e−5");
    assert.equal(shortNumber(2.5e6 + 0.5), "2.5e6");
    assert.equal(shortNumber(123456.7), "1.235e5");
    assert.equal(shortNumber(1e-300), "1e−300");
    assert.equal(shortNumber(2.82717753e-5, 6), "2.82718e−5");
    assert.ok(!/[-+]/.test(shortNumber(-1.5e-7) + shortNumber(3e7 + 0.1)), "no ASCII minus or plus anywhere");
  });

  it("writes zero, negative zero and the non-finite values plainly", () => {
    assert.equal(shortNumber(0), "0");
    assert.equal(shortNumber(-0), "0");
    assert.equal(shortNumber(-0.07), "−0.07");
    assert.equal(shortNumber(NaN), "NaN");
    assert.equal(shortNumber(Infinity), "∞");
    assert.equal(shortNumber(-Infinity), "−∞");
    assert.equal(MINUS, "\u2212");
  });
});

describe("formatDuration: the one duration text (header, status bar)", () => {
  it("tenths below 10 ms, whole ms below 10 s, then seconds", () => {
    assert.equal(formatDuration(4.25), "4.3 ms");
    assert.equal(formatDuration(9.94), "9.9 ms");
    assert.equal(formatDuration(623.4), "623 ms");
    assert.equal(formatDuration(9999.4), "9999 ms");
    assert.equal(formatDuration(12345), "12.3 s");
  });
});

describe("exactNumber: an element at full precision in its own dtype", () => {
  it("float64 keeps JavaScript's shortest round-trip form", () => {
    assert.equal(exactNumber(0.1), "0.1");
    assert.equal(exactNumber(Math.fround(0.1)), "0.10000000149011612");
    assert.equal(exactNumber(1 / 3, "float64"), String(1 / 3));
  });
  it("float32 gets the shortest decimal that rounds to the same float32 (NumPy's repr), and reads back exactly", () => {
    const cases: Array<[number, string]> = [
      [Math.fround(0.1), "0.1"],
      [Math.fround(1.5766357e-4), "0.00015766357"],
      [Math.fround(-2.7182817), "-2.7182817"],
      [Math.fround(3.4e38), "3.4e+38"],
      [Math.fround(1e-45), "1e-45"],
    ];
    for (const [v, text] of cases) {
      assert.equal(exactNumber(v, "float32"), text);
      assert.equal(Math.fround(Number(text)), v, `${text} reads back as the same float32`);
    }
    for (let i = 0; i < 2000; i++) {
      const v = Math.fround((Math.random() - 0.5) * 10 ** (Math.random() * 20 - 10));
      const text = exactNumber(v, "float32");
      assert.equal(Math.fround(Number(text)), v, text);
      assert.ok(text.replace(/^-|e.*$|\./g, "").replace(/^0+|0+$/g, "").length <= 9, `${text}: at most 9 significant digits`);
    }
  });
  it("leaves what is not a float32 value as it is (0, NaN, ±∞, a float64 labelled float32 by mistake)", () => {
    assert.equal(exactNumber(0, "float32"), "0");
    assert.equal(exactNumber(NaN, "float32"), "NaN");
    assert.equal(exactNumber(-Infinity, "float32"), "-Infinity");
    assert.equal(exactNumber(0.1, "float32"), "0.1");
    assert.equal(exactNumber(1 / 3, "float32"), String(1 / 3));
  });
});
