/**
 * Issue 13, custom layers: the chain-rule panel of a custom layer's element said "no formula to show".
 * It shows what can be shown: the element's dvalues, output and inputs, the analytic and numeric values
 * and their ratio (2 points at a missing factor), and |analytic − numeric| over the tensor as a heatmap
 * with the worst element marked.
 */
import * as assert from "node:assert/strict";
import { Dense, Layer, SoftmaxCategoricalCrossentropy, TRACE_FORMAT_VERSION, type Tensor, type TraceEvent, map, seed, spiralData, zip } from "../../core/host";
import { record } from "../helpers/record";
import { Inspector } from "./inspectorHarness";

/** The planted bug: σ′(x) = σ·(1 − σ), but backward forgets the (1 − s) factor, as a new user might. */
class Sigmoid extends Layer {
  forward(inputs: Tensor): Tensor {
    this.inputs = inputs;
    this.output = map(inputs, (x) => 1 / (1 + Math.exp(-x)));
    return this.output;
  }
  backward(dvalues: Tensor): Tensor {
    this.dinputs = zip(dvalues, this.output as Tensor, (d, s) => d * s);
    return this.dinputs;
  }
}

function sigmoidRun(): TraceEvent[] {
  const { events, error } = record(
    () => {
      seed(2);
      const [X, y] = spiralData(2, 3);
      const dense1 = new Dense(2, 3, { name: "dense1" });
      const sigmoid = new Sigmoid();
      sigmoid.name = "sigmoid";
      const dense2 = new Dense(3, 3, { name: "dense2" });
      const loss = new SoftmaxCategoricalCrossentropy();
      dense1.forward(X);
      sigmoid.forward(dense1.output);
      dense2.forward(sigmoid.output);
      loss.forward(dense2.output, y);
      loss.backward(loss.output, y);
      dense2.backward(loss.dinputs);
      sigmoid.backward(dense2.dinputs);
      dense1.backward(sigmoid.dinputs);
    },
    { keepSteps: 1, gradCheck: true },
  );
  if (error) throw error;
  return [{ type: "run/start", version: TRACE_FORMAT_VERSION, file: "/m.ts", startedAt: 0 }, ...events, { type: "run/end", ok: true, steps: 1, durationMs: 1, keptSteps: [0] }];
}

describe("the chain-rule panel of a custom layer (jsdom)", function () {
  this.timeout(30000);
  let ui: Inspector;
  afterEach(() => ui?.close());

  it("shows dvalues, output, inputs, analytic, numeric and their ratio 1/(1 − s), and the error map with the worst marked", async () => {
    ui = new Inspector();
    const events = sigmoidRun();
    ui.openRun(events, { runId: 1 });
    await ui.settle();
    const card = '[data-testid=layer-card][data-layer="sigmoid"]';
    assert.equal(ui.$(`${card} [data-testid=gradcheck]`)?.getAttribute("data-ok"), "false");
    const cell = ui.$(`${card} [data-testid=grid][data-tensor=dinputs] .num[data-row="1"][data-col="2"]`) ?? assert.fail("no grid");
    cell.dispatchEvent(new ui.dom.window.MouseEvent("click", { bubbles: true }));
    await ui.settle();
    const v = (id: string): number => Number(ui.$(`[data-testid=${id}]`)?.getAttribute("data-value"));
    const s = v("custom-output");
    assert.ok(s > 0 && s < 1, `output ${s}`);
    assert.ok(Number.isFinite(v("custom-dvalues")) && Number.isFinite(v("custom-inputs")));
    assert.equal(v("custom-analytic"), v("custom-dvalues") * s, "what the buggy backward wrote: dvalues · s");
    // The true derivative is dvalues · s · (1 − s): the ratio is 1 / (1 − s).
    assert.ok(Math.abs(v("custom-ratio") - 1 / (1 - s)) < 1e-5, `ratio ${v("custom-ratio")} vs ${1 / (1 - s)}`);
    assert.ok(ui.$("[data-testid=custom-error-map]"), "the error heatmap");
    assert.ok(ui.$("[data-testid=custom-error-map] [data-testid=heat-worst]:not([hidden])"), "the worst element is marked");
    assert.doesNotMatch(ui.text("[data-testid=chain-rule]"), /no formula to show/);
  });
});
