/**
 * Issue 13: number formats and gradient checks as a reader takes them. A small gradient norm is not
 * "0" in a chart legend; one style of exponent (`e−5`, never `e-4` beside it); "1 kink", not "1 kinks";
 * a gradient check over all-zero gradients says that it checked nothing meaningful (inspector card,
 * hover, CLI's verdict), instead of "ok".
 */
import * as assert from "node:assert/strict";
import { shortNumber } from "../../core/format";
import { readRunGradCheck } from "../../core/run/gradCheckVerdict";
import { RunModel } from "../../core/run/runModel";
import { Dense, ReLU, SoftmaxCategoricalCrossentropy, TRACE_FORMAT_VERSION, type TraceEvent } from "../../core/host";
import { buildRunReport } from "../../extension/runReport";
import { checkText } from "../../extension/server/hover";
import { checkVerdict } from "../../extension/server/summary";
import { record } from "../helpers/record";
import { Inspector } from "./inspectorHarness";

/** Dense(2, 3) whose units are all negative on positive inputs: the ReLU passes no gradient back. */
function deadModel(): () => void {
  return () => {
    const X = { shape: [4, 2], data: new Float64Array([1, 2, 3, 1, 2, 2, 1, 1]) };
    const dense1 = new Dense(2, 3, { weights: [[-1, -2, -1], [-1, -1, -3]], name: "dense1" });
    const relu = new ReLU();
    const dense2 = new Dense(3, 3, { weights: [[1, 2, 3], [3, 1, 2], [2, 3, 1]], name: "dense2" });
    const loss = new SoftmaxCategoricalCrossentropy();
    dense1.forward(X);
    relu.forward(dense1.output);
    dense2.forward(relu.output);
    loss.forward(dense2.output, [0, 1, 2, 0]);
    loss.backward(loss.output, [0, 1, 2, 0]);
    dense2.backward(loss.dinputs);
    relu.backward(dense2.dinputs);
    dense1.backward(relu.dinputs);
  };
}

function deadRun(): TraceEvent[] {
  const { events, error } = record(deadModel(), { keepSteps: 1, gradCheck: true });
  if (error) throw error;
  return [{ type: "run/start", version: TRACE_FORMAT_VERSION, file: "/m.ts", startedAt: 0 }, ...events, { type: "run/end", ok: true, steps: 1, durationMs: 1, keptSteps: [0] }];
}

describe("numbers and gradient-check verdicts", function () {
  this.timeout(30000);

  it("shortNumber: one style (− in mantissa and exponent), a small value never 0", () => {
    assert.equal(shortNumber(4.49e-5), "4.49e−5");
    assert.equal(shortNumber(-2.5e-4), "−2.5e−4");
    assert.equal(shortNumber(1.23456789e7), "1.235e7");
    assert.equal(shortNumber(300), "300", "whole numbers in full");
    assert.equal(shortNumber(-0.0123456), "−0.01235");
    assert.equal(shortNumber(10.74539713), "10.75");
    assert.equal(shortNumber(5e-324), "4.941e−324");
    assert.equal(shortNumber(0), "0");
    assert.doesNotMatch(shortNumber(-3.1e-7), /-/, "no ASCII hyphen-minus anywhere");
  });

  it("a gradient check over all-zero gradients checked nothing meaningful (it said ok)", () => {
    const run = new RunModel({ runId: 1, file: "/m.ts", startedAt: 0 });
    for (const e of deadRun()) run.ingest(e);
    const d1 = [...run.layers.values()].find((l) => l.name === "dense1");
    const g = d1 ? run.gradCheckOf(d1.id) : undefined;
    assert.ok(g?.ok, "the check itself passes: zeros equal zeros");
    const reading = readRunGradCheck(run, g);
    assert.equal(reading.verdict, "vacuous");
    assert.deepEqual(reading.vacuous.sort(), ["dbiases", "dinputs", "dweights"]);
    const d2 = [...run.layers.values()].find((l) => l.name === "dense2");
    assert.equal(readRunGradCheck(run, run.gradCheckOf(d2?.id ?? -1) ?? assert.fail()).verdict, "ok", "dense2's gradients are not zero");
    // The editor says it too.
    const report = buildRunReport(run);
    const layer = report.layers.find((l) => l.info.name === "dense1") ?? assert.fail();
    assert.equal(checkVerdict(layer.gradCheck, layer), "grad check: only zeros");
    assert.match(checkText(layer.gradCheck, layer) ?? "", /checked nothing meaningful/);
  });

  describe("in the inspector (jsdom)", () => {
    let ui: Inspector;
    afterEach(() => ui?.close());

    it("the card's gradient check says only zeros were compared, and '1 kink skipped'", async () => {
      ui = new Inspector();
      const events = deadRun().map((e) => (e.type === "gradcheck" && e.result.tensors[0] ? { ...e, result: { ...e.result, tensors: [{ ...e.result.tensors[0], kinks: 1 }, ...e.result.tensors.slice(1)] } } : e));
      ui.openRun(events, { runId: 1 });
      await ui.settle();
      const card = '[data-testid=layer-card][data-layer="dense1"]';
      assert.equal(ui.$(`${card} [data-testid=gradcheck-badge]`)?.getAttribute("data-verdict"), "vacuous");
      assert.match(ui.text(`${card} [data-testid=gradcheck-badge]`), /only zeros/);
      assert.match(ui.text(`${card} [data-testid=gradcheck-vacuous]`), /Nothing meaningful was checked/);
      assert.match(ui.text(`${card} [data-testid=gradcheck]`), /\(1 kink skipped\)/);
      assert.doesNotMatch(ui.text(`${card} [data-testid=gradcheck]`), /1 kinks/);
      assert.equal(ui.$('[data-testid=layer-card][data-layer="dense2"] [data-testid=gradcheck-badge]')?.getAttribute("data-verdict"), "ok");
    });

    it("a chart legend shows a small gradient norm as 4.49e−5, not 0", async () => {
      ui = new Inspector();
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { legendValue, tickValues } = require("../../webview/views/charts") as typeof import("../../webview/views/charts");
      assert.equal(legendValue(4.488756279265518e-5), "4.489e−5");
      assert.equal(legendValue(null), "–");
      assert.deepEqual(tickValues(undefined as never, [0.00002, 0.00004]), ["2e−5", "4e−5"]);
      // A log axis hands over its unlabelled minor ticks as null: no label (they read "−∞").
      assert.deepEqual(tickValues(undefined as never, [0.001, null, 10]), ["0.001", "", "10"]);
      // The legend of a real chart uses it.
      const events: TraceEvent[] = [{ type: "run/start", version: TRACE_FORMAT_VERSION, file: "/m.ts", startedAt: 0 }];
      events.push({ type: "layer/new", layer: { id: 0, name: "dense1", kind: "dense", className: "Dense", description: "Dense(2, 3)", params: [], paramCount: 0 } });
      for (let s = 0; s < 5; s++) events.push({ type: "step/summary", summary: { step: s, loss: 1 - s / 10, grads: [{ layer: 0, norms: { dinputs: 4.488756279265518e-5 * (s + 1) } }] } });
      events.push({ type: "run/end", ok: true, steps: 5, durationMs: 1, keptSteps: [] });
      ui.openRun(events, { runId: 1 });
      await ui.settle();
      const values = ui.$$("[data-testid=grad-norms] .u-legend .u-value").map((e) => e.textContent);
      assert.ok(values.length > 0, "the legend is there");
      assert.ok(values.some((v) => /e−5|e−4/.test(v ?? "")), values.join(" | "));
      for (const v of values) assert.doesNotMatch(v ?? "", /^0$/);
    });
  });
});
