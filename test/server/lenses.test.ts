import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { DEBUG_LENS_TITLE, RUN_LENS_TITLE, codeLenses, inlayHints } from "../../extension/server/lenses";
import { importsBackpropLens } from "../../extension/server/modelFile";
import { ReportStore } from "../../extension/server/reportStore";
import { abs, linesOf, makeLayer, makeReport, reportFromTrace } from "./fixtures";

const MODEL = "examples/02-layer-batch.ts";
const URI = "file:///work/examples/02-layer-batch.ts";

function store(...reports: ReturnType<typeof makeReport>[]): ReportStore {
  const s = new ReportStore();
  for (const r of reports) s.set(r);
  return s;
}

describe("code lenses", () => {
  const report = reportFromTrace("02-layer-batch", MODEL);
  const text = fs.readFileSync(abs(MODEL), "utf8");

  it("a model file gets ▶ Run Backward Pass and Debug Backward Pass at the top, each with its URI", () => {
    const [run, debug] = codeLenses(new ReportStore(), abs(MODEL), URI, text);
    assert.deepEqual(run, {
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      command: { title: RUN_LENS_TITLE, command: "backpropLens.runBackwardPass", arguments: [URI] },
    });
    assert.deepEqual(debug, {
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      command: { title: DEBUG_LENS_TITLE, command: "backpropLens.debugBackwardPass", arguments: [URI] },
    });
    assert.equal(RUN_LENS_TITLE, "▶ Run Backward Pass");
    assert.deepEqual(codeLenses(new ReportStore(), abs("x.ts"), "file:///x.ts", 'import * as fs from "node:fs";'), []);
  });

  it("after a run, each construction line gets a summary that reveals the layer", () => {
    const lenses = codeLenses(store(report), abs(MODEL), URI, text).slice(2);
    assert.deepEqual(
      lenses.map((l) => `${l.range.start.line + 1}: ${l.command?.title}`),
      ["20: dense1: [3, 3] · ‖dW‖ 40", "35: dense2: [3, 3] · ‖dW‖ 70", "36: relu: [3, 3] · ‖dinputs‖ 11"],
    );
    assert.equal(lenses[0]?.command?.command, "backpropLens.revealLayer");
    assert.deepEqual(lenses[0]?.command?.arguments, [{ layer: 0, file: abs(MODEL) }]);
  });

  it("adds the gradient-check verdict and anomalies", () => {
    const model = "test/fixtures/models/wrong-backward.ts";
    const titles = codeLenses(store(reportFromTrace("wrong-backward", model)), abs(model), "file:///w.ts", fs.readFileSync(abs(model), "utf8")).map((l) => l.command?.title);
    assert.deepEqual(titles, [
      "▶ Run Backward Pass",
      "Debug Backward Pass",
      "dense1: [60, 4] · ‖dW‖ 6.8e-4 · grad check ok",
      "sigmoid: [60, 4] · ‖dinputs‖ 1e-3 · grad check FAILED",
      "dense2: [60, 3] · ‖dW‖ 0.0027 · grad check ok",
      "loss: [60, 3] · ‖dinputs‖ 0.11 · grad check ok",
    ]);
    const file = abs("examples/05-spiral-training.ts");
    const relu = makeLayer(1, "activation1", "ReLU", file, 9, { gradNorms: { dinputs: 0.0123 } });
    const r = makeReport(file, { layers: [relu], anomalies: [{ code: "dead-relu", severity: "information", step: 10000, layer: 1, message: "dead", site: relu.info.site! }] });
    assert.deepEqual(
      codeLenses(store(r), file, "file:///s.ts", "").map((l) => l.command?.title),
      ["activation1: [300, 3] · ‖dinputs‖ 0.012 · ⚠ dead ReLU"],
    );
  });

  it("a construction line edited since the run says so", () => {
    const s = store(report);
    const old = linesOf(MODEL);
    s.applyChange(abs(MODEL), { range: { start: { line: 19, character: 0 }, end: { line: 19, character: 5 } }, text: "let" }, (n) => old[n] ?? "", old.length);
    assert.equal(codeLenses(s, abs(MODEL), URI, text)[2]?.command?.title, "dense1: [3, 3] · ‖dW‖ 40 · line changed since the run");
  });
});

describe("inlay hints", () => {
  const report = reportFromTrace("02-layer-batch", MODEL);
  const lines = linesOf(MODEL);

  it("end each layer line with a short summary: ‖dweights‖ and the output shape at the construction, shapes at calls", () => {
    const hints = inlayHints(store(report), abs(MODEL), lines);
    assert.deepEqual(
      hints.map((h) => `${h.position.line + 1}: ${String(h.label)}`),
      [
        "20: ‖dweights‖ = 40, out [3, 3]",
        "21: → out [3, 3]",
        "29: ← dinputs [3, 4], ‖dweights‖ = 40",
        "35: ‖dweights‖ = 70, out [3, 3]",
        "36: ‖dinputs‖ = 11, out [3, 3]",
        "37: → out [3, 3]",
        "38: → out [3, 3]",
        "39: ← dinputs [3, 3], ‖dinputs‖ = 11",
        "40: ← dinputs [3, 4], ‖dweights‖ = 70",
      ],
    );
    for (const h of hints) {
      assert.equal(h.position.character, lines[h.position.line]!.length, "at the end of the line");
      assert.equal(h.paddingLeft, true);
    }
  });

  it("give a loss layer's loss at its forward call and respect the requested range", () => {
    const model = "test/fixtures/models/wrong-backward.ts";
    const hints = inlayHints(store(reportFromTrace("wrong-backward", model)), abs(model), linesOf(model), 24, 24);
    assert.deepEqual(
      hints.map((h) => `${h.position.line + 1}: ${String(h.label)}`),
      ["25: → loss 1.0986"],
    );
  });

  it("skip lines edited since the run and follow moved ones", () => {
    const s = store(report);
    s.applyChange(abs(MODEL), { range: { start: { line: 19, character: 0 }, end: { line: 19, character: 5 } }, text: "let" }, (n) => lines[n] ?? "", lines.length);
    const edited = [...lines];
    edited[19] = `let${lines[19]!.slice(5)}`;
    s.applyChange(abs(MODEL), { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: "\n" }, (n) => edited[n] ?? "", edited.length);
    const hints = inlayHints(s, abs(MODEL), ["", ...edited], 0, 25);
    assert.deepEqual(
      hints.map((h) => `${h.position.line + 1}: ${String(h.label)}`),
      ["22: → out [3, 3]"],
    );
  });

  it("a line calling several layers gets one hint naming them", () => {
    const file = abs("examples/04-spiral-model.ts");
    const call = { phase: "forward" as const, site: { file, line: 18, column: 1 } };
    const r = makeReport(file, { layers: [makeLayer(0, "dense1", "Dense(2, 3)", file, 9, { callSites: [call] }), makeLayer(1, "activation1", "ReLU", file, 11, { callSites: [call] })] });
    const hints = inlayHints(store(r), file, linesOf("examples/04-spiral-model.ts"), 17, 17);
    assert.deepEqual(hints.map((h) => h.label), ["2 layers: dense1, activation1"]);
  });
});

describe("model files", () => {
  it("are the documents that import or require backprop-lens", () => {
    for (const yes of [
      'import { Dense } from "backprop-lens";',
      "import {\n  Dense,\n  ReLU,\n} from 'backprop-lens';",
      'import type { Tensor } from "backprop-lens"',
      'import "backprop-lens";',
      'export * from "backprop-lens";',
      'const { Dense } = require("backprop-lens");',
      "const lens = await import('backprop-lens');",
      'import { x } from "backprop-lens/extra";',
      "const m = require(`backprop-lens`);",
    ]) {
      assert.ok(importsBackpropLens(yes), yes);
    }
    for (const no of ['import { Dense } from "backprop-lens-fake";', 'import x from "my-backprop-lens";', 'const s = "backprop-lens";', 'import x from "./backprop-lens"']) {
      assert.ok(!importsBackpropLens(no), no);
    }
    for (const f of ["examples/02-layer-batch.ts", "examples/06-custom-layer.ts", "test/fixtures/models/nan.ts"]) {
      assert.ok(importsBackpropLens(fs.readFileSync(abs(f), "utf8")), f);
    }
  });
});
