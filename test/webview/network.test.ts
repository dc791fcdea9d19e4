/**
 * Issue 13, the overview: the network at a glance (layers in call order, edges labelled with tensor
 * and shape in both directions, gradient norms as width, a click opens the card) and following a
 * gradient across layers: `dense2.dvalues` is `activation2.dinputs`, back to the loss.
 */
import * as assert from "node:assert/strict";
import { CategoricalCrossentropy, Dense, ReLU, Softmax, TRACE_FORMAT_VERSION, type TraceEvent, seed, spiralData } from "../../core/host";
import { RunModel } from "../../core/run/runModel";
import { gradientPath, gradientWidth, networkModel } from "../../webview/networkModel";
import { record } from "../helpers/record";
import { Inspector } from "./inspectorHarness";

/** The chapter's code with a separate softmax and cross-entropy. */
function chapterRun(): TraceEvent[] {
  const { events, error } = record(() => {
    seed(0);
    const [X, y] = spiralData(100, 3);
    const dense1 = new Dense(2, 3, { name: "dense1" });
    const activation1 = new ReLU();
    activation1.name = "activation1";
    const dense2 = new Dense(3, 3, { name: "dense2" });
    const activation2 = new Softmax();
    activation2.name = "activation2";
    const loss = new CategoricalCrossentropy();
    loss.name = "loss";
    dense1.forward(X);
    activation1.forward(dense1.output);
    dense2.forward(activation1.output);
    activation2.forward(dense2.output);
    loss.forward(activation2.output, y);
    loss.backward(activation2.output, y);
    activation2.backward(loss.dinputs);
    dense2.backward(activation2.dinputs);
    activation1.backward(dense2.dinputs);
    dense1.backward(activation1.dinputs);
  });
  if (error) throw error;
  return [{ type: "run/start", version: TRACE_FORMAT_VERSION, file: "/m.ts", startedAt: 0 }, ...events, { type: "run/end", ok: true, steps: 1, durationMs: 1, keptSteps: [0] }];
}

describe("the network at a glance", function () {
  this.timeout(30000);

  it("layers in call order, forward edges output → inputs and backward edges dinputs → dvalues, with shapes", () => {
    const run = new RunModel({ runId: 1, file: "/m.ts", startedAt: 0 });
    for (const e of chapterRun()) run.ingest(e);
    const m = networkModel(run, 0);
    assert.deepEqual(m.nodes.map((n) => n.layer.name), ["dense1", "activation1", "dense2", "activation2", "loss"]);
    assert.ok(m.fromRefs);
    const name = (id: number): string => run.layers.get(id)?.name ?? "?";
    const fwd = m.edges.filter((e) => e.direction === "forward").map((e) => `${name(e.from)}.${e.made}→${name(e.to)}.${e.used} [${e.shape}]`);
    assert.deepEqual(fwd, ["dense1.output→activation1.inputs [300,3]", "activation1.output→dense2.inputs [300,3]", "dense2.output→activation2.inputs [300,3]", "activation2.output→loss.inputs [300,3]"]);
    const bwd = m.edges.filter((e) => e.direction === "backward").map((e) => `${name(e.from)}.${e.made}→${name(e.to)}.${e.used}`);
    assert.deepEqual(bwd.sort(), ["activation1.dinputs→dense1.dvalues", "activation2.dinputs→dense2.dvalues", "dense2.dinputs→activation1.dvalues", "loss.dinputs→activation2.dvalues"].sort());
    const dense1 = m.nodes[0];
    assert.equal(dense1?.paramGradNorm?.name, "dweights");
    assert.ok((gradientWidth(1, [1e-4, 1]) as number) > gradientWidth(1e-4, [1e-4, 1]), "a larger norm is a wider edge");
  });

  it("follows dense1's gradient back to the loss: each layer's dvalues is the next layer's dinputs", () => {
    const run = new RunModel({ runId: 1, file: "/m.ts", startedAt: 0 });
    for (const e of chapterRun()) run.ingest(e);
    const d2 = [...run.layers.values()].find((l) => l.name === "dense2") ?? assert.fail();
    const start = run.callsIn(d2.id, 0).find((c) => c.phase === "backward") ?? assert.fail();
    const hops = gradientPath(run, start);
    assert.deepEqual(
      hops.map((h) => (h.from ? `${h.layer.name}.dvalues = ${h.from.layer.name}.${h.from.name}` : `${h.layer.name} (start)`)),
      ["dense2.dvalues = activation2.dinputs", "activation2.dvalues = loss.dinputs", "loss (start)"],
    );
    assert.equal(hops[0]?.norm, start.tensors.dvalues?.stats.norm);
  });

  describe("in the inspector (jsdom)", () => {
    let ui: Inspector;
    afterEach(() => ui?.close());

    it("draws the graph with labelled edges, a click on a layer opens its card, a gradient is followed back to the loss", async () => {
      ui = new Inspector();
      ui.openRun(chapterRun(), { runId: 1 });
      await ui.settle();
      assert.deepEqual(ui.$$("[data-testid=network-node]").map((n) => n.getAttribute("data-layer")), ["dense1", "activation1", "dense2", "activation2", "loss"]);
      const texts = ui.$$("[data-testid=network-edge]").map((e) => e.getAttribute("data-text") ?? "");
      assert.ok(texts.includes("dense1.output → activation1.inputs [300, 3]"), texts.join(" | "));
      assert.ok(texts.some((t) => /^activation2\.dinputs → dense2\.dvalues \[300, 3\] ‖·‖ \d/.test(t)), texts.join(" | "));
      // The whole backward pass is followed from the start.
      const hops = (): string[] => ui.$$("[data-testid=gradient-path] li").map((l) => l.getAttribute("data-text") ?? "");
      assert.deepEqual(hops(), ["dense1.dvalues = activation1.dinputs", "activation1.dvalues = dense2.dinputs", "dense2.dvalues = activation2.dinputs", "activation2.dvalues = loss.dinputs", "loss: the backward pass starts here"]);
      // Follow another gradient.
      const edge = ui.$$("[data-testid=network-edge][data-direction=backward]").find((e) => e.getAttribute("data-to") === "activation2") ?? assert.fail();
      edge.dispatchEvent(new ui.dom.window.MouseEvent("click", { bubbles: true }));
      assert.deepEqual(hops(), ["activation2.dvalues = loss.dinputs", "loss: the backward pass starts here"]);
      // A click on a node reveals its card.
      const node = ui.$('[data-testid=network-node][data-layer="dense2"]') ?? assert.fail();
      let revealed: string | undefined;
      (ui.dom.window.HTMLElement.prototype as { scrollIntoView: () => void }).scrollIntoView = function (this: HTMLElement) {
        revealed = this.getAttribute("data-layer") ?? undefined;
      };
      node.dispatchEvent(new ui.dom.window.MouseEvent("click", { bubbles: true }));
      await ui.settle();
      assert.equal(revealed, "dense2");
    });
  });
});
