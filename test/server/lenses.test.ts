import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { DEBUG_LENS_TITLE, RUN_LENS_TITLE, codeLenses, inlayHints } from "../../extension/server/lenses";
import { importsBackpropLens, isModelFile } from "../../extension/server/modelFile";
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
      "dense1: [60, 4] · ‖dW‖ 6.8e−4 · grad check ok",
      "sigmoid: [60, 4] · ‖dinputs‖ 1e−3 · grad check FAILED",
      "dense2: [60, 3] · ‖dW‖ 0.0027 · grad check ok",
      "loss: [60, 3] · ‖dinputs‖ 0.11 · grad check ok",
      "✗ gradient check of sigmoid: dinputs[37, 0] is −1.25e−4, central differences give −6.22e−5 (×2)",
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

  it("end each layer line with one short number or shape (a narrow editor must not scroll sideways); the full summary is the tooltip", () => {
    const hints = inlayHints(store(report), abs(MODEL), lines);
    assert.deepEqual(
      hints.map((h) => `${h.position.line + 1}: ${String(h.label)}`),
      ["20: ‖dW‖ 40", "21: → [3, 3]", "29: ← ‖dW‖ 40", "35: ‖dW‖ 70", "36: ‖dinputs‖ 11", "37: → [3, 3]", "38: → [3, 3]", "39: ← ‖dinputs‖ 11", "40: ← ‖dW‖ 70"],
    );
    // (they read "← dinputs [3, 4], ‖dweights‖ = 40" and longer, at the end of already long lines)
    for (const h of hints) {
      assert.ok(String(h.label).length <= 24, `short: ${String(h.label)}`);
      assert.equal(h.position.character, lines[h.position.line]!.length, "at the end of the line");
      assert.equal(h.paddingLeft, true);
    }
    assert.match(String(hints[2]?.tooltip), /← dinputs \[3, 4\], ‖dweights‖ = 40/);
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
      ["22: → [3, 3]"],
    );
  });

  it("a line calling several layers gets one hint naming them", () => {
    const file = abs("examples/04-spiral-model.ts");
    const call = { phase: "forward" as const, site: { file, line: 18, column: 1 } };
    const r = makeReport(file, { layers: [makeLayer(0, "dense1", "Dense(2, 3)", file, 9, { callSites: [call] }), makeLayer(1, "activation1", "ReLU", file, 11, { callSites: [call] })] });
    const hints = inlayHints(store(r), file, linesOf("examples/04-spiral-model.ts"), 17, 17);
    assert.deepEqual(hints.map((h) => h.label), ["2 layers: dense1, activ…"]);
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

  it("are decided by one test for the Run button and the code lens: the file's extension and text", () => {
    const ts = 'import { Dense } from "backprop-lens";';
    const py = "class Layer_Dense:\n    def forward(self, inputs):\n        pass\n";
    const cases: [string, string, boolean][] = [
      ["/w/model.ts", ts, true],
      ["/w/model.mts", ts, true],
      ["/w/model.tsx", ts, true],
      ["/w/model.js", ts, true],
      ["/w/model.cjs", 'const { Dense } = require("backprop-lens");', true],
      ["/w/model.py", py, true],
      ["/w/model.py", ts, false],
      ["/w/notes.md", ts, false],
      ["/w/model.ts", py, false],
      ["/w/model.ts.txt", ts, false],
      ["/w/model.pyw", "import torch\n", true],
    ];
    for (const [file, text, expected] of cases) {
      assert.equal(isModelFile(file, text), expected, `${file}: ${text.slice(0, 30)}`);
      const runLens = codeLenses(new ReportStore(), file, `file://${file}`, text).some((l) => l.command?.title === RUN_LENS_TITLE);
      assert.equal(runLens, expected, `the Run lens of ${file} agrees with isModelFile`);
    }
    for (const f of ["examples/04-spiral-model.ts", "examples/python/04_spiral_model.py"]) assert.ok(isModelFile(abs(f), fs.readFileSync(abs(f), "utf8")), f);
  });
});
