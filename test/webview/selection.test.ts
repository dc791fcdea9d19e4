/**
 * Issue 8: the chain-rule view is on the element under the cursor, at the debugger's position. An element
 * picked in a step stays selected when the debugger (or the step picker) shows another step, and its
 * chain rule is written with that step's numbers; at a position before the call it says not computed yet;
 * the debugger's Show Chain Rule selects an element; when the session ends the inspector goes back to the
 * run's last step.
 */
import * as assert from "node:assert/strict";
import { Dense, ReLU, SGD, SoftmaxCategoricalCrossentropy, seed, spiralData } from "../../core/host";
import type { RunModel } from "../../core/run/runModel";
import { recordRun } from "../helpers/record";
import { Inspector } from "./inspectorHarness";

function training(): void {
  seed(4);
  const [X, y] = spiralData(20, 3);
  const d1 = new Dense(2, 8, { name: "dense1" });
  const a1 = new ReLU();
  const d2 = new Dense(8, 3, { name: "dense2" });
  const loss = new SoftmaxCategoricalCrossentropy();
  const opt = new SGD({ learningRate: 1 });
  for (let e = 0; e < 4; e++) {
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
}

describe("the chain-rule view follows the debugger (jsdom)", function () {
  this.timeout(30000);
  let ui: Inspector;
  afterEach(() => ui?.close());

  function setup(): { run: RunModel; layer: number; call: (step: number, phase: string) => { seq: number }; dw: (step: number) => number } {
    ui = new Inspector();
    // jsdom has no layout: revealing a card scrolls nothing.
    (ui.dom.window.HTMLElement.prototype as unknown as { scrollIntoView: () => void }).scrollIntoView = () => undefined;
    const run = ui.openRun(recordRun(training, 4), { runId: 1 });
    const layer = ([...run.layers.values()].find((l) => l.name === "dense1") ?? assert.fail()).id;
    const call = (step: number, phase: string) => run.callsIn(layer, step).find((c) => c.phase === phase) ?? assert.fail(`no ${phase} in step ${step}`);
    const dw = (step: number) => run.tensor(call(step, "backward").seq, "dweights")?.data[1 * 8 + 3] as number;
    return { run, layer, call, dw };
  }

  const chain = () => ui.$("[data-testid=layer-card][data-layer=dense1] [data-testid=chain-rule]");

  it("an element picked at step 1 shows step 3's numbers when the debugger pauses at step 3, and says not computed yet before its call", async () => {
    const { layer, call, dw } = setup();
    await ui.settle();
    ui.send({ type: "ui/reveal", layer, step: 1, element: { seq: call(1, "backward").seq, tensor: "dweights", index: [1, 3] } });
    await ui.settle();
    assert.equal(chain()?.getAttribute("data-step"), "1");
    assert.equal(Number(ui.text("[data-testid=layer-card][data-layer=dense1] [data-testid=chain-recorded]")), dw(1));
    // The debugger pauses at dense1.backward of step 3.
    ui.send({ type: "debug/position", runId: 1, position: { step: 3, seq: call(3, "backward").seq, layer, label: "dense1.backward", live: true } });
    await ui.settle();
    assert.equal(chain()?.getAttribute("data-step"), "3");
    assert.equal(chain()?.getAttribute("data-seq"), String(call(3, "backward").seq));
    assert.notEqual(dw(3), dw(1), "the steps' numbers differ");
    assert.equal(Number(ui.text("[data-testid=layer-card][data-layer=dense1] [data-testid=chain-recorded]")), dw(3));
    assert.match(ui.text("[data-testid=layer-card][data-layer=dense1] [data-testid=chain-step]"), /^Step 3, at the debugger's position \(dense1\.backward\)$/);
    // The element is highlighted in step 3's heatmap too.
    assert.ok(ui.$(`[data-testid=layer-card][data-layer=dense1] [data-key="${call(3, "backward").seq}:dweights"]`), "step 3's dweights panel");
    // Step Back to dense1.forward of step 3: its backward has not run there.
    ui.send({ type: "debug/position", runId: 1, position: { step: 3, seq: call(3, "forward").seq, layer, label: "dense1.forward", live: false } });
    await ui.settle();
    assert.equal(chain()?.getAttribute("data-pending"), "true");
    assert.match(ui.text("[data-testid=chain-pending]"), /^Not computed yet at the debugger's position \(dense1\.forward, step 3\): dense1\.backward runs later in this step/);
    // On to step 2's dense1.backward (Reverse Continue): that step's numbers.
    ui.send({ type: "debug/position", runId: 1, position: { step: 2, seq: call(2, "backward").seq, layer, label: "dense1.backward", live: false } });
    await ui.settle();
    assert.equal(Number(ui.text("[data-testid=layer-card][data-layer=dense1] [data-testid=chain-recorded]")), dw(2));
  });

  it("when the session ends the inspector goes back to the run's last step, with the element still selected", async () => {
    const { layer, call, dw } = setup();
    await ui.settle();
    ui.send({ type: "debug/position", runId: 1, position: { step: 1, seq: call(1, "backward").seq, layer, label: "dense1.backward", live: true } });
    ui.send({ type: "ui/reveal", layer, step: 1, element: { seq: call(1, "backward").seq, tensor: "dweights", index: [1, 3] } });
    await ui.settle();
    assert.equal(chain()?.getAttribute("data-step"), "1");
    ui.send({ type: "debug/position", runId: 1 }); // Continue: running, nothing changes yet
    await ui.settle();
    assert.equal(chain()?.getAttribute("data-step"), "1");
    ui.send({ type: "debug/position", runId: 1, ended: true });
    await ui.settle();
    assert.equal(chain()?.getAttribute("data-step"), "3");
    assert.equal(Number(ui.text("[data-testid=layer-card][data-layer=dense1] [data-testid=chain-recorded]")), dw(3));
  });
});
