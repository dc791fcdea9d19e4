/**
 * Issue 13, "what does not fit": heatmaps fit the card at any size (784 wide, 784 rows), zoom into a
 * region and pan on one heatmap at a time, and use the scale the values call for, named in the legend:
 * sequential for probabilities and non-negative values, categorical for class targets, diverging for
 * signed values and gradients.
 */
import * as assert from "node:assert/strict";
import { chooseScale, clampRegion, fillRegion, fitSize, panRegion, regionBetween, scaleName, zoomRegion, type ScaleTables } from "../../webview/heatmapCore";
import { Dense, ReLU, SoftmaxCategoricalCrossentropy, randn, seed, TRACE_FORMAT_VERSION } from "../../core/host";
import { record } from "../helpers/record";
import { Inspector } from "./inspectorHarness";

const ramp = (): Uint8Array => {
  const t = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) t.set([i, i, i], i * 3);
  return t;
};
const tables: ScaleTables = { diverging: ramp(), sequential: ramp(), categorical: new Uint8Array([10, 0, 0, 20, 0, 0, 30, 0, 0]) };

describe("heatmaps that fit, zoom and say their scale", function () {
  this.timeout(60000);

  it("fits any matrix into the card: never wider than the space, tall matrices get height, small ones square cells", () => {
    for (const [rows, cols] of [[256, 784], [784, 128], [1, 784], [300, 3], [3, 4], [784, 784]] as const) {
      const s = fitSize(rows, cols, 18, 560, 360);
      assert.ok(s.width <= 560 && s.height <= 360, `${rows}×${cols}: ${JSON.stringify(s)}`);
    }
    // (the old sizing drew 784 columns at 1 px minimum: 784 px in a 560 px card)
    assert.equal(fitSize(256, 784, 18, 560, 360).width, 560);
    assert.deepEqual(fitSize(3, 4, 18, 560, 260), { width: 72, height: 54 });
    assert.equal(fitSize(784, 128, 18, 560, 360).height, 360);
    assert.ok(fitSize(300, 3, 18, 560, 360).width >= 54, "a 300×3 matrix is not a hair-thin strip");
  });

  it("regions: drag corners, zoom around a cell (which stays put), pan, kept inside the matrix", () => {
    assert.deepEqual(regionBetween([10, 40], [2, 5]), { r0: 2, c0: 5, rows: 9, cols: 36 });
    const z = zoomRegion({ r0: 0, c0: 0, rows: 256, cols: 784 }, 4, 128, 392, 256, 784);
    assert.deepEqual(z, { r0: 96, c0: 294, rows: 64, cols: 196 });
    assert.deepEqual(panRegion(z, -500, 1000, 256, 784), { r0: 0, c0: 588, rows: 64, cols: 196 });
    assert.deepEqual(clampRegion({ r0: -3, c0: 2, rows: 0, cols: 9000 }, 10, 20), { r0: 0, c0: 0, rows: 1, cols: 20 });
  });

  it("chooses the scale from what the values are, and names it", () => {
    const softmax = [0.2, 0.3, 0.5, 1 / 3, 1 / 3, 1 / 3];
    assert.equal(chooseScale("output", softmax, 3).kind, "probability");
    assert.equal(chooseScale("output", [0, 2.5, 0, 7], 2).kind, "sequential");
    assert.equal(chooseScale("targets", [0, 2, 1, 1], 4).kind, "categorical");
    const oneHot = chooseScale("targets", [1, 0, 0, 0, 0, 1], 3);
    assert.deepEqual([oneHot.kind, oneHot.oneHot, oneHot.classes], ["categorical", true, 3]);
    assert.equal(chooseScale("dweights", [0, 1, 2], 3).kind, "diverging", "a gradient keeps its sign's scale even when non-negative");
    assert.equal(chooseScale("dinputs", [-1, 1], 2).kind, "diverging");
    assert.equal(chooseScale("inputs", [-1, 1], 2).kind, "diverging");
    assert.match(scaleName(chooseScale("output", softmax, 3)), /probabilities, 0 to 1/);
    assert.match(scaleName(chooseScale("targets", [0, 2, 1], 3)), /categorical: 3 classes/);
  });

  it("softmax outputs of ≈ 1/3 are not one flat block: 0 … 1 spreads them, a diverging scale around 0 did not", () => {
    const data = [0.33, 0.3333, 0.3367, 0.332, 0.334, 0.334];
    const prob = chooseScale("output", data, 3);
    const out = new Uint8ClampedArray(data.length * 4);
    fillRegion(data, 3, { r0: 0, c0: 0, rows: 2, cols: 3 }, out, prob, tables, [255, 0, 255]);
    // 1/3 of the way along the ramp, not its top end.
    assert.ok(Math.abs((out[0] as number) - 84) <= 2, `grey ${out[0]}`);
    const targets = chooseScale("targets", [0, 2, 1], 3);
    const o2 = new Uint8ClampedArray(12);
    fillRegion([0, 2, 1], 3, { r0: 0, c0: 0, rows: 1, cols: 3 }, o2, targets, tables, [255, 0, 255]);
    assert.deepEqual([o2[0], o2[4], o2[8]], [10, 30, 20], "one colour per class");
  });

  it("a sigmoid output of 0.497 … 0.503 is not one flat block: its sequential scale runs from its smallest to its largest value", () => {
    const data = [0.4969, 0.5, 0.5026, 0.4991];
    const sc = chooseScale("output", data, 2);
    assert.deepEqual([sc.kind, sc.lo, sc.hi], ["sequential", 0.4969, 0.5026]);
    assert.match(scaleName(sc), /smallest to largest/);
    const out = new Uint8ClampedArray(data.length * 4);
    fillRegion(data, 2, { r0: 0, c0: 0, rows: 2, cols: 2 }, out, sc, tables, [255, 0, 255]);
    // The ends of the ramp, not two shades of its top (0 … 0.5026 put both within 2 % of it).
    assert.deepEqual([out[0], out[1], out[2]], [...tables.sequential.slice(0, 3)]);
    assert.deepEqual([out[8], out[9], out[10]], [...tables.sequential.slice(255 * 3, 255 * 3 + 3)]);
    // A ReLU output (zeros in it) keeps 0 … max.
    assert.deepEqual(chooseScale("output", [0, 0.5, 0.49], 3).lo, 0);
  });

  describe("in the inspector (jsdom)", () => {
    let ui: Inspector;
    afterEach(() => ui?.close());

    it("Dense(784, 128) on 256×784 data: every heatmap fits the card, the scales are named", async () => {
      ui = new Inspector();
      const { events, error } = record(() => {
        seed(3);
        const X = randn([256, 784]);
        const y = Array.from({ length: 256 }, (_, i) => i % 10);
        const dense1 = new Dense(784, 128, { name: "dense1" });
        const relu = new ReLU();
        const dense2 = new Dense(128, 10, { name: "dense2" });
        const loss = new SoftmaxCategoricalCrossentropy();
        dense1.forward(X);
        relu.forward(dense1.output);
        dense2.forward(relu.output);
        loss.forward(dense2.output, y);
        loss.backward(loss.output, y);
        dense2.backward(loss.dinputs);
        relu.backward(dense2.dinputs);
        dense1.backward(relu.dinputs);
      });
      assert.equal(error, undefined);
      ui.openRun([{ type: "run/start", version: TRACE_FORMAT_VERSION, file: "/m.ts", startedAt: 0 }, ...events, { type: "run/end", ok: true, steps: 1, durationMs: 1, keptSteps: [0] }], { runId: 1 });
      await ui.settle();
      const stages = ui.$$(".heat-stage");
      assert.ok(stages.length >= 10, `${stages.length} heatmaps`);
      // The app lays out for 800 px in jsdom (no layout engine): no stage may be wider than the card's content.
      for (const s of stages) assert.ok(parseFloat((s as HTMLElement).style.width) <= 800 - 40, `stage ${(s as HTMLElement).style.width}`);
      const scaleOf = (layer: string, tensor: string, phase = "forward"): string | null | undefined =>
        ui.$(`[data-testid=layer-card][data-layer^="${layer}"] figure[data-tensor=${tensor}][data-phase=${phase}] [data-testid=heat-scale]`)?.getAttribute("data-scale");
      assert.equal(scaleOf("dense1", "inputs"), "diverging");
      assert.equal(scaleOf("ReLU", "output"), "sequential");
      const lossName = "SoftmaxCategoricalCrossentropy";
      assert.equal(scaleOf(lossName, "output"), "probability");
      assert.equal(scaleOf(lossName, "targets"), "categorical");
      assert.equal(scaleOf("dense1", "dweights", "backward"), "diverging");
      assert.match(ui.text(`[data-testid=layer-card][data-layer^="${lossName}"] figure[data-tensor=targets] [data-testid=heat-legend]`), /categorical: 10 classes/);
    });
  });
});
