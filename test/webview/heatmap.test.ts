/**
 * Heatmap maths (colour table, fill, pointer and keyboard mapping), the NumPy-style number grid, the
 * console virtualisation and the attribute guard; and the draw time of a 784×128 heatmap's fill.
 */
import * as assert from "node:assert/strict";
import { formatTensor } from "../../core/format";
import { buildColorTable, cellAt, displaySize, fillHeatmap, matrixShape, moveCursor, parseColor, symmetricMax } from "../../webview/heatmapCore";
import { gridRows, wantsGrid } from "../../webview/numberGrid";
import { setAttr } from "../../webview/views/dom";
import { entryTops, visibleRange } from "../../webview/views/output";
import { cellText } from "../../webview/views/heatmap";

// A diverging blue–white–red ramp standing in for d3's RdBu (reversed by buildColorTable).
const rdbu = (t: number): string => {
  const r = t < 0.5 ? 255 : Math.round(255 * (1 - (t - 0.5) * 2));
  const b = t > 0.5 ? 255 : Math.round(255 * t * 2);
  const g = Math.min(r, b);
  return `rgb(${r}, ${g}, ${b})`;
};

describe("webview heatmap", () => {
  const lut = buildColorTable(rdbu, true);

  it("the readout prints an element exactly, in its own dtype (a float32 as NumPy prints it, not with float64 digits)", () => {
    const data = Float64Array.from([0.1, -2.5, 1.5766357e-4, 3].map(Math.fround));
    assert.equal(cellText("dense1.dweights", { shape: [2, 2], data, dtype: "float32" }, 0, 0), "dense1.dweights[0][0] = 0.1");
    assert.equal(cellText("dense1.dweights", { shape: [2, 2], data, dtype: "float32" }, 1, 0), "dense1.dweights[1][0] = 0.00015766357");
    assert.equal(cellText("dense1.dweights", { shape: [2, 2], data }, 0, 0), "dense1.dweights[0][0] = 0.10000000149011612", "float64: every digit");
    assert.equal(cellText("b", { shape: [4], data, dtype: "float32" }, 0, 3), "b[3] = 3");
  });

  it("colours symmetric around 0: negative blue, 0 white, positive red, NaN special", () => {
    const out = new Uint8ClampedArray(4 * 4);
    fillHeatmap([-2, 0, 2, NaN], out, lut, 2, [255, 0, 255]);
    assert.deepEqual(Array.from(out.slice(0, 4)), [0, 0, 255, 255]);
    assert.deepEqual(Array.from(out.slice(4, 7)).map((v) => v > 250), [true, true, true]);
    assert.deepEqual(Array.from(out.slice(8, 12)), [255, 0, 0, 255]);
    assert.deepEqual(Array.from(out.slice(12, 16)), [255, 0, 255, 255]);
  });

  it("takes the scale from the largest finite |value|", () => {
    assert.equal(symmetricMax([1, -3, Infinity, NaN]), 3);
    assert.equal(symmetricMax([0, 0]), 1);
    assert.deepEqual(parseColor("#ff8000"), [255, 128, 0]);
  });

  it("maps pointer positions and keys to cells", () => {
    assert.deepEqual(cellAt(0, 0, 100, 50, 5, 10), [0, 0]);
    assert.deepEqual(cellAt(99.9, 49.9, 100, 50, 5, 10), [4, 9]);
    assert.deepEqual(cellAt(-5, 500, 100, 50, 5, 10), [4, 0]);
    assert.deepEqual(moveCursor("ArrowRight", false, 0, 9, 5, 10), [0, 9]);
    assert.deepEqual(moveCursor("ArrowDown", false, 0, 0, 5, 10), [1, 0]);
    assert.deepEqual(moveCursor("End", true, 0, 0, 5, 10), [4, 9]);
    assert.deepEqual(moveCursor("PageDown", false, 0, 3, 5, 10), [4, 3]);
    assert.equal(moveCursor("a", false, 0, 0, 5, 10), undefined);
  });

  it("sizes small matrices with square cells and squeezes big ones", () => {
    assert.deepEqual(displaySize(3, 4, 18, 500, 260), { width: 72, height: 54 });
    assert.deepEqual(displaySize(784, 128, 18, 500, 260), { width: 500, height: 260 });
    assert.deepEqual(displaySize(300, 3, 18, 500, 260), { width: 160, height: 260 });
    assert.deepEqual(matrixShape([300]), [1, 300]);
    assert.deepEqual(matrixShape([2, 3, 4]), [6, 4]);
  });

  it("fills a 784×128 float64 matrix in a few milliseconds", () => {
    const data = new Float64Array(784 * 128);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 0.01;
    const out = new Uint8ClampedArray(data.length * 4);
    fillHeatmap(data, out, lut, symmetricMax(data), [255, 0, 255]); // warm-up
    const times: number[] = [];
    for (let k = 0; k < 20; k++) {
      const t0 = performance.now();
      fillHeatmap(data, out, lut, symmetricMax(data), [255, 0, 255]);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[10] as number;
    console.log(`      784×128 fill (Node): median ${median.toFixed(2)} ms`);
    assert.ok(median < 15, `median ${median} ms`);
  });
});

describe("webview number grid", () => {
  const dinputs = {
    shape: [3, 4],
    data: Float64Array.from([0.43999999999999995, -0.38, -0.06999999999999998, 1.37, 0.88, -0.76, -0.14, 2.74, 1.32, -1.14, -0.21, 4.11]),
  };

  it("splits NumPy's text into cells: the book's numbers, one space apart", () => {
    const rows = gridRows(dinputs);
    assert.deepEqual(
      rows.map((r) => r.cells.map((c) => c.text).join(" ")),
      ["0.44 -0.38 -0.07 1.37", "0.88 -0.76 -0.14 2.74", "1.32 -1.14 -0.21 4.11"],
    );
  });

  it("keeps NumPy's alignment as padding: prefix + padded cells + suffix = formatTensor", () => {
    for (const t of [dinputs, { shape: [1, 3], data: Float64Array.from([6, 6, 6]) }, { shape: [1, 3], data: Float64Array.from([0.00222228, 0.00222205, -0.00444434]) }, { shape: [3], data: Float64Array.from([0, 1, 1]) }]) {
      const text = gridRows(t)
        .map((r) => r.prefix + r.cells.map((c, i) => (i ? " " : "") + " ".repeat(c.padLeft) + c.text + " ".repeat(c.padRight)).join("") + r.suffix)
        .join("\n");
      assert.equal(text, formatTensor(t));
    }
  });

  it("only small matrices get a grid", () => {
    assert.equal(wantsGrid([12, 12]), true);
    assert.equal(wantsGrid([13, 3]), false);
    assert.equal(wantsGrid([300]), false);
  });
});

describe("webview output virtualisation", () => {
  it("finds the entries in view from the prefix sums of their heights", () => {
    const tops = entryTops(Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 3 : 1)));
    assert.equal(tops[1], 3 * 18 + 4);
    const [a, b] = visibleRange(tops, tops[500] as number, 280, 0);
    assert.equal(a, 500);
    assert.ok(b - a < 20, `${b - a} entries rendered`);
  });
});

describe("webview DOM guard", () => {
  it("refuses style and event-handler attributes", () => {
    const set: string[] = [];
    const el = { setAttribute: (k: string) => set.push(k), removeAttribute: () => undefined } as unknown as Element;
    assert.throws(() => setAttr(el, "onerror", "alert(1)"), /refusing/);
    assert.throws(() => setAttr(el, "style", "color:red"), /refusing/);
    assert.throws(() => setAttr(el, "ONCLICK", "x"), /refusing/);
    setAttr(el, "data-layer", "<img src=x onerror=alert(1)>");
    assert.deepEqual(set, ["data-layer"]);
  });
});
