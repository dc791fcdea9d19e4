/**
 * Issue 13, the overview: the optimizer's update written out for a chosen weight, with the numbers
 * (`w ← w − lr·dw`, momentum, Adam's moments), equal to the weight the next step used.
 */
import * as assert from "node:assert/strict";
import { Adam, Dense, type Optimizer, ReLU, SGD, SoftmaxCategoricalCrossentropy, seed, spiralData } from "../../core/host";
import { explainUpdate } from "../../core/explainUpdate";
import { RunModel } from "../../core/run/runModel";
import { recordRun } from "../helpers/record";
import { Inspector } from "./inspectorHarness";

function training(make: () => Optimizer, epochs = 4) {
  return (): void => {
    seed(1);
    const [X, y] = spiralData(20, 3);
    const d1 = new Dense(2, 8, { name: "dense1" });
    const a1 = new ReLU();
    const d2 = new Dense(8, 3, { name: "dense2" });
    const loss = new SoftmaxCategoricalCrossentropy();
    const opt = make();
    for (let e = 0; e < epochs; e++) {
      d1.forward(X);
      a1.forward(d1.output);
      d2.forward(a1.output);
      loss.forward(d2.output, y);
      loss.backward(loss.output, y);
      d2.backward(loss.dinputs);
      a1.backward(d2.dinputs);
      d1.backward(a1.dinputs);
      opt.step(d1, d2);
    }
  };
}

/** The update of dense1.weights[1][3] at `step`, explained from the run, and the weight step + 1 used. */
function explained(make: () => Optimizer, step: number) {
  const run = new RunModel({ runId: 1, file: "/m.ts", startedAt: 0 });
  for (const e of recordRun(training(make), 4)) run.ingest(e);
  const d1 = [...run.layers.values()].find((l) => l.name === "dense1") ?? assert.fail();
  const call = (s: number, phase: string) => run.callsIn(d1.id, s).find((c) => c.phase === phase) ?? assert.fail();
  const el = (s: number, phase: string, name: string) => (run.tensor(call(s, phase).seq, name)?.data[1 * 8 + 3] as number);
  const opt = (s: number) => run.summaries.find((x) => x.step === s)?.optimizer ?? assert.fail(`no optimizer in step ${s}`);
  const history = Array.from({ length: step }, (_, s) => ({ dw: el(s, "backward", "dweights"), optimizer: opt(s) }));
  const e = explainUpdate({ target: "weights[1][3]", optimizer: opt(step), w: el(step, "forward", "weights"), dw: el(step, "backward", "dweights"), history, after: { step: step + 1, value: el(step + 1, "forward", "weights") } });
  return e;
}

describe("the optimizer's update of one weight", function () {
  this.timeout(30000);

  it("SGD: w ← w − lr·dw equals the weight of the next step", () => {
    const e = explained(() => new SGD({ learningRate: 0.5 }), 1);
    assert.match(e.lines[0]?.text ?? "", /^weights\[1\]\[3\] ← .* − 0\.5·.* = /);
    assert.equal(e.recorded?.difference, 0);
  });

  it("SGD with momentum: the velocity from every earlier step, then the weight", () => {
    const e = explained(() => new SGD({ learningRate: 0.5, momentum: 0.9 }), 2);
    assert.match(e.lines[0]?.text ?? "", /^u = 0\.9·/);
    assert.equal(e.recorded?.difference, 0);
  });

  it("Adam: m, v, their bias corrections and the weight, exactly as the engine computes them", () => {
    const e = explained(() => new Adam({ learningRate: 0.05 }), 2);
    assert.match(e.lines[0]?.text ?? "", /^m = 0\.9·/);
    assert.match(e.lines[2]?.text ?? "", /^m̂ = .*\/\(1 − 0\.9\^3\)/);
    assert.equal(e.recorded?.difference, 0);
    const partial = explainUpdate({ target: "w", optimizer: { kind: "Adam", learningRate: 0.05, iteration: 10, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, w: 1, dw: 0.1, history: [] });
    assert.match(partial.note ?? "", /carry the gradients of all 10 earlier updates/);
    assert.ok(Number.isNaN(partial.value), "nothing invented when the moments are not known");
  });

  describe("in the inspector (jsdom)", () => {
    let ui: Inspector;
    afterEach(() => ui?.close());

    it("picking dense1.dweights[1][3] at step 1 writes out Adam's update, equal to what step 2 used", async () => {
      ui = new Inspector();
      ui.openRun(recordRun(training(() => new Adam({ learningRate: 0.05 })), 4), { runId: 1 });
      await ui.settle();
      ui.selectStep(1);
      await ui.settle();
      const cell = ui.$('[data-testid=layer-card][data-layer="dense1"] [data-testid=grid][data-tensor=dweights] .num[data-row="1"][data-col="3"]') ?? assert.fail("no grid cell");
      cell.dispatchEvent(new ui.dom.window.MouseEvent("click", { bubbles: true }));
      await ui.settle();
      const panel = ui.$("[data-testid=update]") ?? assert.fail("no update panel");
      assert.equal(panel.getAttribute("data-target"), "dense1.weights[1][3]");
      assert.match(ui.text("[data-testid=update-rule]"), /^Adam: m ← β₁·m/);
      assert.match(ui.$("[data-testid=update-equation]")?.getAttribute("data-text") ?? "", /^weights\[1\]\[3\] ← .* = /);
      assert.equal(ui.text("[data-testid=update-difference]"), "0");
    });
  });
});
