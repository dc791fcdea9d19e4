import * as assert from "node:assert/strict";
import { RunModel } from "../../core/run/runModel";
import { buildRunReport, peek } from "../../extension/runReport";
import type { LayerReport, RunReport } from "../../extension/server/lspProtocol";
import { expectClose } from "../helpers/close";
import { abs, reportFromTrace } from "./fixtures";

const MODEL = "examples/02-layer-batch.ts";

function layer(report: RunReport, name: string): LayerReport {
  const l = report.layers.find((x) => x.info.name === name);
  assert.ok(l, `no layer ${name} in ${report.layers.map((x) => x.info.name).join(", ")}`);
  return l;
}

describe("buildRunReport: chapter 9's layer over a batch (examples/02-layer-batch.ts)", () => {
  const report = reportFromTrace("02-layer-batch", MODEL);

  it("describes the run", () => {
    assert.equal(report.runId, 1);
    assert.equal(report.file, abs(MODEL));
    assert.equal(report.ok, true);
    assert.equal(report.error, undefined);
    assert.equal(report.steps, 2);
    assert.deepEqual(report.anomalies, []);
    assert.deepEqual(report.first, { step: 0 });
    assert.deepEqual(report.last, { step: 1, learningRate: 0.001 });
    assert.deepEqual(
      report.layers.map((l) => `${l.info.name} = ${l.info.description}`),
      ["dense1 = Dense(4, 3)", "dense2 = Dense(4, 3)", "relu = ReLU"],
    );
  });

  it("has each layer's construction line and distinct call lines per phase", () => {
    const d1 = layer(report, "dense1");
    assert.equal(d1.info.site?.line, 20);
    assert.equal(d1.info.site?.file, abs(MODEL));
    assert.deepEqual(
      d1.callSites.map((c) => `${c.phase}@${c.site.line}`),
      ["forward@21", "backward@29"],
    );
    assert.deepEqual(
      layer(report, "relu").callSites.map((c) => `${c.phase}@${c.site.line}`),
      ["forward@38", "backward@39"],
    );
    assert.deepEqual(
      d1.lastCalls?.map((c) => `${c.phase} step ${c.step} seq ${c.seq} line ${c.site?.line}`),
      ["forward step 0 seq 0 line 21", "backward step 0 seq 1 line 29"],
    );
  });

  it("peeks dense1's tensors with the book's numbers: dinputs [[0.44 -0.38 -0.07 1.37] …], dbiases [[6 6 6]]", () => {
    const d1 = layer(report, "dense1");
    assert.equal(d1.step, 0);
    const t = d1.tensors;
    assert.deepEqual(Object.keys(t).sort(), ["biases", "dbiases", "dinputs", "dvalues", "dweights", "inputs", "output", "weights"]);
    assert.deepEqual(t.dinputs?.shape, [3, 4]);
    expectClose(
      t.dinputs?.corner,
      [
        [0.44, -0.38, -0.07, 1.37],
        [0.88, -0.76, -0.14, 2.74],
        [1.32, -1.14, -0.21, 4.11],
      ],
      1e-12,
      "dinputs",
    );
    assert.deepEqual(t.dbiases?.shape, [1, 3]);
    assert.deepEqual(t.dbiases?.corner, [[6, 6, 6]]);
    assert.deepEqual(t.dbiases?.stats.mean, 6);
    // dweights is [4, 3]: the corner keeps 3 of its 4 rows
    assert.deepEqual(t.dweights?.shape, [4, 3]);
    expectClose(
      t.dweights?.corner,
      [
        [0.5, 0.5, 0.5],
        [20.1, 20.1, 20.1],
        [10.9, 10.9, 10.9],
      ],
      1e-12,
      "dweights",
    );
    expectClose(t.dweights?.stats.max, 20.1, 1e-12, "max dweights");
    expectClose(t.output?.corner[0], [4.8, 1.21, 2.385], 1e-12, "output row 0");
    expectClose(t.inputs?.corner[2], [-1.5, 2.7, 3.3, -0.8], 0, "inputs row 2");
  });

  it("keeps the norms of the gradients the layer computed (not dvalues)", () => {
    const g = layer(report, "dense1").gradNorms;
    assert.deepEqual(Object.keys(g).sort(), ["dbiases", "dinputs", "dweights"]);
    expectClose(g.dbiases, Math.sqrt(3 * 36), 1e-12, "‖dbiases‖");
    expectClose(g.dweights, Math.sqrt(3 * (0.25 + 20.1 ** 2 + 10.9 ** 2 + 4.1 ** 2)), 1e-9, "‖dweights‖");
    assert.deepEqual(Object.keys(layer(report, "relu").gradNorms), ["dinputs"]);
  });

  it("takes dense2's tensors from step 1, after the ReLU: dbiases are the column sums of relu.dinputs", () => {
    const d2 = layer(report, "dense2");
    assert.equal(d2.step, 1);
    expectClose(d2.tensors.dbiases?.corner, [[4.8 + 8.9 + 1.41, 1.21 + 0 + 1.051, 2.385 + 0.2 + 0.026]], 1e-12, "dense2 dbiases");
    expectClose(layer(report, "relu").tensors.output?.corner[1], [8.9, 0, 0.2], 1e-12, "relu output row 1");
  });

  it("survives JSON (the report is sent over JSON-RPC)", () => {
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });
});

describe("buildRunReport: gradient checks, errors, unfinished runs", () => {
  it("attaches each layer's gradient check and the failure anomaly (wrong-backward.ts, check run)", () => {
    const report = reportFromTrace("wrong-backward", "test/fixtures/models/wrong-backward.ts");
    assert.equal(report.ok, true);
    const sigmoid = layer(report, "sigmoid");
    assert.equal(sigmoid.gradCheck?.ok, false);
    assert.deepEqual(sigmoid.gradCheck?.tensors[0]?.worst?.index, [37, 0]);
    assert.equal(layer(report, "dense1").gradCheck?.ok, true);
    assert.deepEqual(
      report.anomalies.map((a) => `${a.code} layer ${a.layer} line ${a.site?.line}`),
      ["gradient-check layer 1 line 28"],
    );
    assert.equal(report.first?.loss, report.last?.loss);
    expectClose(report.first?.loss, 1.0986213, 1e-7, "loss");
  });

  it("carries the run error (throws.ts)", () => {
    const report = reportFromTrace("throws", "test/fixtures/models/throws.ts");
    assert.equal(report.ok, false);
    assert.equal(report.error?.kind, "throw");
    assert.equal(report.error?.message, "throws.ts:4: the data file is empty (called from throws.ts:8)");
    assert.equal(report.error?.site?.line, 4);
    assert.equal(report.steps, 0);
    assert.deepEqual(report.layers, []);
  });

  it("reports a run that has not ended as not ok, and a layer never called with step −1", () => {
    const store = new RunModel({ runId: 7, file: "/m.ts", startedAt: 5 });
    store.ingest({
      type: "layer/new",
      layer: { id: 0, name: "dense1", kind: "dense", className: "Dense", description: "Dense(2, 3)", params: [], paramCount: 9 },
    });
    const report = buildRunReport(store);
    assert.equal(report.ok, false);
    assert.equal(report.finishedAt, 5);
    assert.equal(report.layers[0]?.step, -1);
    assert.deepEqual(report.layers[0]?.tensors, {});
    assert.deepEqual(report.layers[0]?.callSites, []);
  });
});

describe("peek", () => {
  const stats = { size: 0, min: 0, max: 0, mean: 0, std: 0, norm: 0, nonFinite: 0, zeros: 0 };
  it("keeps at most 3 rows × 6 columns of a matrix", () => {
    const data = Float64Array.from({ length: 40 }, (_, i) => i);
    const p = peek([5, 8], stats, { shape: [5, 8], data });
    assert.deepEqual(p.corner, [
      [0, 1, 2, 3, 4, 5],
      [8, 9, 10, 11, 12, 13],
      [16, 17, 18, 19, 20, 21],
    ]);
  });
  it("treats a vector as one row, a scalar as 1×1, higher ranks as rows of the flattened rest", () => {
    assert.deepEqual(peek([8], stats, { shape: [8], data: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }).corner, [[1, 2, 3, 4, 5, 6]]);
    assert.deepEqual(peek([], stats, { shape: [], data: Float64Array.from([3]) }).corner, [[3]]);
    assert.deepEqual(peek([2, 2, 2], stats, { shape: [2, 2, 2], data: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }).corner, [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
  });
  it("has no corner when the values were not recorded", () => {
    assert.deepEqual(peek([300, 3], stats, undefined).corner, []);
  });
});
