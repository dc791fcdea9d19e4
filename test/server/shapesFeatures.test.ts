/**
 * The shape analysis as editor features: hovers with the formulas' shapes, inlay hints, how static
 * diagnostics meet a run's, quick fixes applied to the text, go to definition, the outline in network
 * order; the service that debounces and runs the analysis in a worker; and bad input.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as fc from "fast-check";
import type { Diagnostic, Hover, MarkupContent } from "vscode-languageserver";
import * as engine from "../../core/index";
import { ENGINE_CLASSES, ENGINE_CONSTANTS, ENGINE_FUNCTIONS } from "../../extension/server/shapes/engine";
import { analyzeModel, analyzeModelLazy } from "../../extension/server/shapes/analyze";
import { STATIC_SOURCE, combineHover, factAt, shapeCodeActions, shapeDefinition, shapeDiagnostics, shapeInlayHints, shapeSymbols } from "../../extension/server/shapes/features";
import { ShapeService } from "../../extension/server/shapes/service";
import type { ShapeResult } from "../../extension/server/shapes/types";
import { ReportStore } from "../../extension/server/reportStore";
import { ROOT, abs, reportFromTrace } from "./fixtures";
import { applyEdits } from "./shapesRuns";

const SPIRAL = fs.readFileSync(abs("examples/04-spiral-model.ts"), "utf8");
const spiral = analyzeModel(SPIRAL, abs("examples/04-spiral-model.ts"));
const lines = SPIRAL.split("\n");
const lineOf = (text: string, src = lines): number => {
  const i = src.findIndex((l) => l.includes(text));
  assert.ok(i >= 0, text);
  return i;
};
const md = (r: ShapeResult, line: number, character: number): string => factAt(r.facts, { line, character })?.markdown ?? "";

describe("shape analysis features: hovers and inlay hints", () => {
  it("a backward call's hover has each formula with its shapes", () => {
    const line = lineOf("dense1.backward(activation1.dinputs)");
    const text = md(spiral, line, 3);
    assert.ok(text.startsWith("**dense1** = `Dense(2, 3)` · backward · `dvalues [300, 3] → dinputs [300, 2]`"), text);
    assert.match(text, /dweights = inputsᵀ · dvalues\s+\[2, 300\] · \[300, 3\] → \[2, 3\]/);
    assert.match(text, /dbiases {2}= Σ dvalues \(over samples\)\s+\[300, 3\] → \[1, 3\]/);
    assert.match(text, /dinputs {2}= dvalues · weightsᵀ\s+\[300, 3\] · \[3, 2\] → \[300, 2\]/);
    assert.ok(text.endsWith("_Shapes before running: static analysis of the current text._"));
  });

  it("a forward call's hover, an expression's shape, data and a construction", () => {
    const fwd = lineOf("dense2.forward(activation1.output)");
    assert.match(md(spiral, fwd, 1), /output = inputs · weights \+ biases\s+\[300, 3\] · \[3, 3\] \+ \[1, 3\] → \[300, 3\]/);
    const relu = lineOf("activation1.forward(dense1.output)");
    const col = (lines[relu] as string).indexOf("output");
    assert.ok(md(spiral, relu, col).startsWith("`dense1.output`: `[300, 3]`"), md(spiral, relu, col));
    const data = lineOf("spiralData(100, 3)");
    assert.ok(md(spiral, data, (lines[data] as string).indexOf("y")).startsWith("`y`: `[300]` · class indices up to 2 · from `spiralData(100, 3)`"));
    const ctor = lineOf("const dense1 = new Dense(2, 3)");
    const c = md(spiral, ctor, (lines[ctor] as string).indexOf("Dense"));
    assert.match(c, /^\*\*dense1\*\* = `Dense\(2, 3\)`/);
    assert.match(c, /forward at line 18: `inputs \[300, 2\] → output \[300, 3\]`/);
    assert.match(c, /backward at line 30: `dvalues \[300, 3\] → dinputs \[300, 2\]` · dweights `\[2, 3\]` · dbiases `\[1, 3\]`/);
  });

  it("a call after a shape error says the run never gets there; the erring call and a correct model do not", () => {
    const planted = SPIRAL.replace("new Dense(3, 3)", "new Dense(4, 3)");
    assert.notEqual(planted, SPIRAL);
    const r = analyzeModel(planted, abs("examples/04-spiral-model.ts"));
    const src = planted.split("\n");
    const note = /A shape error above stops the run before this call/;
    // dense1.backward gets dense2's [300, 4] gradient: its formulas cannot add up, and the hover says why.
    const back = md(r, lineOf("dense1.backward(activation1.dinputs)", src), 3);
    assert.match(back, /dvalues \[300, 4\]/);
    assert.match(back, note);
    assert.doesNotMatch(md(r, lineOf("dense2.forward(activation1.output)", src), 3), note);
    assert.doesNotMatch(md(r, lineOf("dense1.forward(X)", src), 2), note);
    assert.doesNotMatch(md(spiral, lineOf("dense1.backward(activation1.dinputs)"), 3), note);
  });

  it("the run's hover answers when fresh; on an edited line the static shapes come first", () => {
    const fact = factAt(spiral.facts, { line: lineOf("dense1.forward(X)"), character: 2 });
    const run: Hover = { contents: { kind: "markdown", value: "RUN HOVER" } };
    assert.equal(combineHover(run, true, fact), run);
    const stale = combineHover(run, false, fact);
    assert.ok((stale?.contents as MarkupContent).value.startsWith("**dense1**"));
    assert.ok((stale?.contents as MarkupContent).value.endsWith("---\n\nRUN HOVER"));
    assert.equal((combineHover(null, false, fact)?.contents as MarkupContent).value, fact?.markdown);
    assert.equal(combineHover(null, false, undefined), null);
  });

  it("inlay hints: shapes after variables and at the end of call lines, the run's hints win on their lines", () => {
    const hints = shapeInlayHints(spiral, 0, 1000, new Set(), lines.length);
    const byLine = (l: number): string[] => hints.filter((h) => h.position.line === l).map((h) => String(h.label));
    assert.deepEqual(byLine(lineOf("spiralData(100, 3)")), [": [300, 2]", ": [300]"]);
    assert.deepEqual(byLine(lineOf("dense1.forward(X)")), ["→ [300, 3]"]);
    assert.deepEqual(byLine(lineOf("dense1.backward(activation1.dinputs)")), ["← [300, 2], dweights [2, 3]"]);
    const fwd = lineOf("dense1.forward(X)");
    const withRun = shapeInlayHints(spiral, 0, 1000, new Set([fwd]), lines.length);
    assert.equal(withRun.filter((h) => h.position.line === fwd).length, 0);
    assert.equal(withRun.length, hints.length - 1);
  });
});

describe("shape analysis features: diagnostics with a run's, quick fixes, definition, outline", () => {
  const mismatchFile = abs("test/fixtures/models/shape-mismatch.ts");
  const mismatchText = fs.readFileSync(mismatchFile, "utf8");
  const mismatch = analyzeModel(mismatchText, mismatchFile);
  const uri = "file:///m.ts";

  it("a static diagnostic is marked as before running, with its related places", () => {
    const [d] = shapeDiagnostics(mismatch, uri, { diagnostics: new Set(), executed: new Set() });
    assert.ok(d);
    assert.equal(d.source, STATIC_SOURCE);
    assert.equal(d.source, "Backprop Lens (before running)");
    assert.equal(d.severity, 1);
    assert.equal(d.code, "forward-shape");
    assert.equal(d.range.start.line, 9);
    assert.deepEqual(d.relatedInformation?.map((r) => r.location.range.start.line), [5, 3]);
  });

  it("the run's diagnostics replace static ones where they disagree", () => {
    // The run reported a problem on that line: its own message stands alone.
    assert.equal(shapeDiagnostics(mismatch, uri, { diagnostics: new Set([9]), executed: new Set() }).length, 0);
    // The run executed that line's call without a problem (and it was not edited since): the run wins.
    assert.equal(shapeDiagnostics(mismatch, uri, { diagnostics: new Set(), executed: new Set([9]) }).length, 0);
    // The run says nothing about the line (it failed earlier, or never got there): the static error stays.
    assert.equal(shapeDiagnostics(mismatch, uri, { diagnostics: new Set([2]), executed: new Set([7, 8]) }).length, 1);
  });

  it("which lines a real run executed comes from the report store (edited lines no longer count)", () => {
    const store = new ReportStore();
    store.set(reportFromTrace("02-layer-batch", "examples/02-layer-batch.ts"));
    const file = abs("examples/02-layer-batch.ts");
    const executed = new Set(store.layersInFile(file).filter((i) => !i.changed && (i.roles.includes("forward") || i.roles.includes("backward"))).map((i) => i.line));
    const text = fs.readFileSync(file, "utf8");
    const fwd = lineOf("dense1.forward(inputs)", text.split("\n"));
    assert.ok(executed.has(fwd));
    // Plant a mismatch on that line: the run's evidence is for the old text, so once the line is edited the static error shows.
    const planted = text.replace("dense1.forward(inputs);", "dense1.forward([[1, 2, 3]]);");
    const r = analyzeModel(planted, file);
    assert.equal(r.diagnostics[0]?.range.start.line, fwd);
    assert.equal(shapeDiagnostics(r, uri, { diagnostics: new Set(), executed }).length, 0);
    store.applyChange(file, { range: { start: { line: fwd, character: 15 }, end: { line: fwd, character: 21 } }, text: "[[1, 2, 3]]" }, (n) => text.split("\n")[n] ?? "", text.split("\n").length);
    const after = new Set(store.layersInFile(file).filter((i) => !i.changed && (i.roles.includes("forward") || i.roles.includes("backward"))).map((i) => i.line));
    assert.ok(!after.has(fwd));
    assert.equal(shapeDiagnostics(r, uri, { diagnostics: new Set(), executed: after }).length, 1);
  });

  it("quick fixes: Dense(3, 3) → Dense(64, 3), applied, leave no error", () => {
    const diags: Diagnostic[] = shapeDiagnostics(mismatch, uri, { diagnostics: new Set(), executed: new Set() });
    const actions = shapeCodeActions(mismatch, uri, diags);
    assert.deepEqual(actions.map((a) => [a.title, a.kind, a.isPreferred]), [["Change dense2 to Dense(64, 3) (activation1.output has 64 values per sample)", "quickfix", true]]);
    const edits = actions[0]?.edit?.changes?.[uri] ?? [];
    const fixed = applyEdits(mismatchText, edits);
    assert.match(fixed, /new Dense\(64, 3\)/);
    assert.deepEqual(analyzeModel(fixed, mismatchFile).diagnostics, []);
    // Only static diagnostics get these fixes, and only ones of this analysis.
    assert.deepEqual(shapeCodeActions(mismatch, uri, [{ ...(diags[0] as Diagnostic), source: "Backprop Lens" }]), []);
    assert.deepEqual(shapeCodeActions(mismatch, uri, [{ ...(diags[0] as Diagnostic), range: { start: { line: 1, character: 0 }, end: { line: 1, character: 1 } } }]), []);
  });

  it("quick fix: the book's [neurons, inputs] weights list transposed in place", () => {
    const src = `import { Dense } from "backprop-lens";
const inputs = [[1, 2, 3, 2.5], [2, 5, -1, 2], [-1.5, 2.7, 3.3, -0.8]];
const weights = [
  [0.2, 0.8, -0.5, 1],
  [0.5, -0.91, 0.26, -0.5],
  [-0.26, -0.27, 0.17, 0.87],
];
const layer = new Dense(4, 3, { weights });
layer.forward(inputs);
`;
    const r = analyzeModel(src, "w.ts");
    const diags = shapeDiagnostics(r, uri, { diagnostics: new Set(), executed: new Set() });
    const [action] = shapeCodeActions(r, uri, diags);
    assert.equal(action?.title, "Transpose the weights to [4, 3] ([inputs, neurons])");
    const fixed = applyEdits(src, action?.edit?.changes?.[uri] ?? []);
    assert.ok(fixed.includes("const weights = [\n  [0.2, 0.5, -0.26],\n  [0.8, -0.91, -0.27],\n  [-0.5, 0.26, 0.17],\n  [1, -0.5, 0.87],\n];"), fixed);
    assert.deepEqual(analyzeModel(fixed, "w.ts").diagnostics, []);
    // A list that other code also reads is not rewritten (that would change the other code).
    const shared = src.replace("layer.forward(inputs);", "layer.forward(inputs);\nconsole.log(weights);");
    const r2 = analyzeModel(shared, "w.ts");
    assert.equal(r2.diagnostics.length, 1);
    assert.deepEqual(r2.diagnostics[0]?.fixes, []);
  });

  it("go to definition: from a layer's use to its construction, also through a loop variable", () => {
    const use = lineOf("dense2.forward(activation1.output)");
    const defs = shapeDefinition(spiral, uri, { line: use, character: 2 }, false) as { range: { start: { line: number; character: number } } }[];
    assert.deepEqual(defs.map((d) => d.range.start), [{ line: lineOf("const dense2 = new Dense(3, 3)"), character: (lines[lineOf("const dense2 = new Dense(3, 3)")] as string).indexOf("new") }]);
    const src = `import { Dense, ReLU, randn } from "backprop-lens";
const layers = [new Dense(2, 4), new ReLU()];
let x = randn([5, 2]);
for (const layer of layers) {
  layer.forward(x);
  x = layer.output;
}
`;
    const r = analyzeModel(src, "loop.ts");
    const links = shapeDefinition(r, uri, { line: 4, character: 3 }, true) as { targetRange: { start: { line: number; character: number } }; originSelectionRange: { start: { character: number } } }[];
    assert.deepEqual(links.map((l) => l.targetRange.start), [
      { line: 1, character: 16 },
      { line: 1, character: 33 },
    ]);
    assert.equal(links[0]?.originSelectionRange.start.character, 2);
  });

  it("the outline lists the layers in network order, with their shapes", () => {
    const src = `import { Dense, ReLU, randn } from "backprop-lens";
const out = new Dense(8, 2);
const relu = new ReLU();
const hidden = new Dense(3, 8);
const X = randn([10, 3]);
hidden.forward(X);
relu.forward(hidden.output);
out.forward(relu.output);
const unused = new ReLU();
`;
    const symbols = shapeSymbols(analyzeModel(src, "order.ts"));
    assert.deepEqual(
      symbols.map((s) => [s.name, s.detail]),
      [
        ["hidden", "1. Dense(3, 8) · [10, 3] → [10, 8]"],
        ["relu", "2. ReLU · [10, 8] → [10, 8]"],
        ["out", "3. Dense(8, 2) · [10, 8] → [10, 2]"],
        ["unused", "4. ReLU · not called"],
      ],
    );
    assert.deepEqual(symbols[0]?.selectionRange, { start: { line: 3, character: 6 }, end: { line: 3, character: 12 } });
  });
});

describe("shape analysis service: debounced, in a worker, never stuck", function () {
  this.timeout(60_000);
  const text = fs.readFileSync(abs("examples/04-spiral-model.ts"), "utf8");

  it("analyses the latest version after a burst of changes, and only that one", async () => {
    const analysed: string[] = [];
    const svc = new ShapeService({
      analyzeInline: (t, f) => {
        analysed.push(t);
        return analyzeModelLazy(t, f);
      },
      debounceMs: 30,
      onResult: () => undefined,
      log: () => undefined,
    });
    try {
      svc.set("file:///a.ts", "/a.ts", 1, text);
      assert.ok(await svc.current("file:///a.ts", 1, 5000));
      for (let v = 2; v <= 6; v++) svc.set("file:///a.ts", "/a.ts", v, text.replace("Dense(3, 3)", `Dense(3, ${v})`));
      const a = await svc.current("file:///a.ts", 6, 5000);
      assert.equal(a?.version, 6);
      const hover = await svc.hover("file:///a.ts", 6, { line: 17, character: 2 });
      assert.ok(hover?.markdown.startsWith("**dense1** = `Dense(2, 3)` · forward"), hover?.markdown);
      assert.equal(await svc.hover("file:///a.ts", 5, { line: 17, character: 2 }), undefined, "no hover for an older version");
      assert.equal(analysed.length, 2, "the burst was analysed once");
      assert.ok(analysed[1]?.includes("Dense(3, 6)"));
      assert.equal(await svc.current("file:///a.ts", 4, 100), undefined, "an old version is never analysed");
      svc.close("file:///a.ts");
      assert.equal(await svc.current("file:///a.ts", 6, 100), undefined);
    } finally {
      svc.dispose();
    }
  });

  it("runs the analysis in dist/shapesWorker.js, and replaces a worker that takes too long", async () => {
    const script = path.join(ROOT, "dist", "shapesWorker.js");
    assert.ok(fs.existsSync(script), "npm run build made dist/shapesWorker.js");
    const logs: string[] = [];
    const results: string[] = [];
    const svc = new ShapeService({ workerScript: script, onResult: (u) => results.push(u), log: (m) => logs.push(m) });
    try {
      svc.set("file:///b.ts", "/b.ts", 1, text);
      const a = await svc.current("file:///b.ts", 1, 30_000);
      assert.equal(a?.result.calls.length, 8);
      assert.deepEqual(a?.result.facts, [], "hovers stay in the worker until asked for");
      assert.deepEqual(results, ["file:///b.ts"]);
      const hover = await svc.hover("file:///b.ts", 1, { line: 29, character: 3 });
      assert.match(hover?.markdown ?? "", /dweights = inputsᵀ · dvalues\s+\[2, 300\] · \[300, 3\] → \[2, 3\]/);
    } finally {
      svc.dispose();
    }
    const slow = new ShapeService({ workerScript: script, timeoutMs: 1, onResult: () => undefined, log: (m) => logs.push(m) });
    try {
      slow.set("file:///c.ts", "/c.ts", 1, text);
      assert.equal(await slow.current("file:///c.ts", 1, 30_000), undefined);
      assert.ok(logs.some((l) => /took over 1 ms; abandoned/.test(l)), logs.join("\n"));
    } finally {
      slow.dispose();
    }
  });
});

describe("shape analysis: the engine's whole API and bad input", () => {
  it("every runtime export of the engine is modelled (or known to have no shape effect)", () => {
    const known = new Set([...ENGINE_FUNCTIONS, ...ENGINE_CLASSES, ...ENGINE_CONSTANTS]);
    const missing = Object.keys(engine).filter((k) => !known.has(k));
    assert.deepEqual(missing, [], "add these to extension/server/shapes/engine.ts");
    const stale = [...known].filter((k) => !(k in engine));
    assert.deepEqual(stale, [], "the engine no longer exports these");
  });

  it("never throws, whatever the text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        const r = analyzeModel(`import { Dense } from "backprop-lens";\n${s}`, "junk.ts");
        assert.ok(Array.isArray(r.diagnostics));
      }),
      { numRuns: 200 },
    );
    // Pieces of model code shuffled: still no exception.
    const pieces = ["const d = new Dense(2, 3);", "d.forward([[1, 2]]);", "for (const l of [d]) {", "}", "if (x) {", "class L extends Layer {", "forward(i) { return i; }", "d.backward(d.output);", "let x = d.output;", "(", ")"];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 30 }), (ps) => {
        analyzeModel(`import { Dense, Layer } from "backprop-lens";\n${ps.join("\n")}`, "shuffled.ts");
      }),
      { numRuns: 200 },
    );
  });

  it("stops (truncated, no false error) on code too deep or too long to follow", () => {
    const deep = `import { Dense } from "backprop-lens";\nconst x = ${Array.from({ length: 30_000 }, (_, i) => `${i}`).join(" + ")};\nnew Dense(2, 3).forward([[1, 2, 3]]);\n`;
    const r = analyzeModel(deep, "deep.ts");
    assert.ok(Array.isArray(r.diagnostics));
    const recursive = `import { Dense } from "backprop-lens";
const d = new Dense(2, 3);
function f(n: number): void { if (n > 0) f(n - 1); d.forward([[1, 2]]); }
f(10);
d.forward([[1, 2, 3]]);
`;
    // After a call the analysis cannot follow (recursion), d may be anything: no error on the last line.
    assert.deepEqual(analyzeModel(recursive, "rec.ts").diagnostics, []);
    const loops = `import { Dense } from "backprop-lens";
const d = new Dense(2, 2);
let x = [[1, 2]];
for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) for (let k = 0; k < 10; k++) for (let m = 0; m < 10; m++) { d.forward(x); x = d.output as any; }
`;
    const r3 = analyzeModel(loops, "loops.ts");
    assert.deepEqual(r3.diagnostics, []);
    assert.deepEqual(r3.calls.find((c) => c.line === 3)?.shapes, { inputs: [1, 2], output: [1, 2] });
  });
});
