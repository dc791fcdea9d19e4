/**
 * Issue 13, the overview: gradient flow over training. Per layer parameter and step, the gradient's
 * norm and mean |gradient| (the recorder summarises both), as plot_grad_flow bars and as curves.
 */
import * as assert from "node:assert/strict";
import { RunModel } from "../../core/run/runModel";
import { logSplits } from "../../webview/chartScale";
import { flowHint, gradFlow, nearestStep } from "../../webview/gradFlowModel";
import { recordRun, train } from "../helpers/record";
import { Inspector } from "./inspectorHarness";

describe("gradient flow over training", function () {
  this.timeout(30000);
  const events = recordRun(train(30), 2);

  it("norm and mean |gradient| of every parameter gradient at every summarised step, in network order", () => {
    const run = new RunModel({ runId: 1, file: "/m.ts", startedAt: 0 });
    for (const e of events) run.ingest(e);
    const flow = gradFlow(run);
    assert.equal(flow.steps.length, 30);
    assert.deepEqual(flow.series.map((s) => s.label), ["Dense#0.dweights", "Dense#0.dbiases", "Dense#2.dweights", "Dense#2.dbiases"]);
    // Against the recorded tensors of step 0.
    const d1 = run.layerOrder()[0] ?? assert.fail();
    const back = run.callsIn(d1.id, 0).find((c) => c.phase === "backward") ?? assert.fail();
    const dw = run.tensor(back.seq, "dweights") ?? assert.fail();
    const mean = Array.from(dw.data).reduce((a, v) => a + Math.abs(v), 0) / dw.data.length;
    const s0 = flow.series[0] ?? assert.fail();
    assert.ok(Math.abs((s0.meanAbs[0] as number) - mean) < 1e-15);
    assert.equal(s0.norms[0], back.tensors.dweights?.stats.norm);
    assert.equal(nearestStep([0, 1, 2, 10, 20], 14), 3);
  });

  it("a log axis over many decades (gradients that vanish) gets a few powers of ten, not 1…9 of every decade", () => {
    assert.deepEqual(logSplits(1e-3, 10, 5), [1e-3, 1e-2, 0.1, 1, 10]);
    const many = logSplits(1e-300, 10, 5);
    assert.ok(many.length <= 5 && many.length >= 2 && many[many.length - 1] === 10, many.join(", "));
    assert.deepEqual(logSplits(0, 10, 5), []);
  });

  it("the hint counts right: no '1 steps', and nothing to click with one step (it read '· 4 parameter gradients over 1 steps')", () => {
    assert.equal(flowHint(4, 1), "4 parameter gradients, one step summarised");
    assert.equal(flowHint(1, 300), "1 parameter gradient over 300 steps; click the curves to pick a step");
  });

  describe("in the inspector (jsdom)", () => {
    let ui: Inspector;
    afterEach(() => ui?.close());

    it("bars per parameter for the shown step, and the curves over all steps", async () => {
      ui = new Inspector();
      ui.openRun(events, { runId: 1 });
      await ui.settle();
      const bars = ui.$$("[data-testid=grad-flow-bar]");
      assert.deepEqual(bars.map((b) => b.getAttribute("data-label")), ["Dense#0.dweights", "Dense#0.dbiases", "Dense#2.dweights", "Dense#2.dbiases"]);
      assert.ok(bars.every((b) => Number(b.getAttribute("data-norm")) > 0 && Number(b.getAttribute("data-mean-abs")) > 0));
      assert.equal(ui.$("[data-testid=grad-flow-bars]")?.getAttribute("data-step"), "0");
      assert.ok(ui.$("[data-testid=grad-flow-curves]"), "the curves are drawn");
      ui.selectStep(29);
      await ui.settle();
      assert.equal(ui.$("[data-testid=grad-flow-bars]")?.getAttribute("data-step"), "29");
    });
  });
});
