import * as assert from "node:assert/strict";
import { hoverMarkdown } from "../../extension/server/hover";
import { ReportStore } from "../../extension/server/reportStore";
import { notificationText, revealUri } from "../../extension/server/summary";
import { abs, linesOf, makeLayer, makeReport, reportFromTrace } from "./fixtures";

const MODEL = "examples/02-layer-batch.ts";

function storeWith(...reports: ReturnType<typeof makeReport>[]): ReportStore {
  const store = new ReportStore();
  for (const r of reports) store.set(r);
  return store;
}

/** The hover of 1-based line `line` of `model`. */
function hoverAt(store: ReportStore, model: string, line: number): string | null {
  return hoverMarkdown(store.layersOnLine(abs(model), line - 1), store);
}

describe("hover on layer code (examples/02-layer-batch.ts)", () => {
  const report = reportFromTrace("02-layer-batch", MODEL);
  const store = storeWith(report);
  const dense1 = report.layers[0]!;

  it("the construction line shows description, shapes, statistics, the book's values and the inspector link", () => {
    assert.match(linesOf(MODEL)[19]!, /const dense1 = new Dense\(4, 3/);
    const expected = [
      "**dense1** = `Dense(4, 3)` · 15 parameters",
      "Step 0 of run 1 · built at line 20 · forward at line 21 · backward at line 29",
      "`inputs [3, 4] → output [3, 3]` · `dvalues [3, 3] → dinputs [3, 4]`",
      [
        "| | shape | min | max | mean | ‖·‖ |",
        "|:--|:--|--:|--:|--:|--:|",
        "| output | [3, 3] | −1.81 | 8.9 | 2.019 | 10.76 |",
        "| dinputs | [3, 4] | −1.14 | 4.11 | 0.68 | 5.575 |",
        "| dweights | [4, 3] | 0.5 | 20.1 | 8.9 | 40.24 |",
        "| dbiases | [1, 3] | 6 | 6 | 6 | 10.39 |",
      ].join("\n"),
      [
        "```text",
        "output [3, 3]",
        "[[ 4.8    1.21   2.385]",
        " [ 8.9   -1.81   0.2  ]",
        " [ 1.41   1.051  0.026]]",
        "dinputs [3, 4]",
        "[[ 0.44 -0.38 -0.07  1.37]",
        " [ 0.88 -0.76 -0.14  2.74]",
        " [ 1.32 -1.14 -0.21  4.11]]",
        "dweights [4, 3]",
        "[[ 0.5  0.5  0.5]",
        " [20.1 20.1 20.1]",
        " [10.9 10.9 10.9]",
        " ...]",
        "dbiases [1, 3]",
        "[[6. 6. 6.]]",
        "```",
      ].join("\n"),
      `[Open in Gradient Inspector](${revealUri(report, dense1)})`,
    ].join("\n\n");
    assert.equal(hoverAt(store, MODEL, 20), expected);
  });

  it("the link runs backpropLens.revealLayer with [{ layer, file }]", () => {
    const uri = revealUri(report, dense1);
    const [command, query] = uri.split("?") as [string, string];
    assert.equal(command, "command:backpropLens.revealLayer");
    assert.deepEqual(JSON.parse(decodeURIComponent(query)), [{ layer: 0, file: abs(MODEL) }]);
  });

  it("a backward call line shows the gradients (dinputs, dweights, dbiases), not the output's values", () => {
    const h = hoverAt(store, MODEL, 29)!;
    assert.ok(h.startsWith("**dense1** = `Dense(4, 3)`"));
    assert.ok(h.includes("| dvalues | [3, 3] | 1 | 3 | 2 | 6.481 |"));
    assert.ok(h.includes("dinputs [3, 4]\n[[ 0.44 -0.38 -0.07  1.37]\n [ 0.88 -0.76 -0.14  2.74]"));
    assert.ok(h.includes("dbiases [1, 3]\n[[6. 6. 6.]]"));
    assert.ok(!h.includes("output [3, 3]\n"), h);
  });

  it("a forward call line shows inputs and output", () => {
    const h = hoverAt(store, MODEL, 21)!;
    assert.ok(h.includes("| inputs | [3, 4] | −1.5 | 5 | 1.683 | 8.679 |"));
    assert.ok(h.includes("output [3, 3]\n[[ 4.8    1.21   2.385]"));
    assert.ok(!h.includes("dinputs [3, 4]\n"), h);
  });

  it("dense2's hover comes from step 1, the ReLU's from its own lines", () => {
    assert.ok(hoverAt(store, MODEL, 40)!.includes("dbiases [1, 3]\n[[15.11   2.261  2.611]]"));
    assert.ok(hoverAt(store, MODEL, 36)!.startsWith("**relu** = `ReLU`\n\nStep 1 of run 1 · built at line 36 · forward at line 38 · backward at line 39"));
  });

  it("a line with no layer has no hover", () => {
    assert.equal(hoverAt(store, MODEL, 1), null);
    assert.equal(hoverAt(store, MODEL, 30), null); // console.log(dense1.dinputs)
    assert.equal(hoverMarkdown(store.layersOnLine(abs("examples/04-spiral-model.ts"), 19), store), null);
  });

  it("an edited line says its values are from before the edit", () => {
    const s = storeWith(report);
    const old = linesOf(MODEL);
    s.applyChange(abs(MODEL), { range: { start: { line: 19, character: 29 }, end: { line: 19, character: 30 } }, text: "2" }, (n) => old[n] ?? "", old.length);
    const h = hoverAt(s, MODEL, 20)!;
    assert.ok(h.includes("⚠ *This line was edited after the run"), h);
    assert.ok(!hoverAt(s, MODEL, 21)!.includes("edited after the run"));
  });

  it("after lines are inserted above, the hover follows the code and names the new line numbers", () => {
    const s = storeWith(report);
    const old = linesOf(MODEL);
    s.applyChange(abs(MODEL), { range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, text: "// one\n// two\n" }, (n) => old[n] ?? "", old.length);
    assert.equal(hoverAt(s, MODEL, 20), null);
    const h = hoverAt(s, MODEL, 22)!;
    assert.ok(h.includes("built at line 22 · forward at line 23 · backward at line 31"), h);
    assert.ok(!h.includes("edited after the run"));
  });
});

describe("hover: gradient checks, anomalies, several layers on a line", () => {
  it("shows the gradient-check verdict (wrong-backward.ts)", () => {
    const model = "test/fixtures/models/wrong-backward.ts";
    const store = storeWith(reportFromTrace("wrong-backward", model));
    const sigmoid = hoverAt(store, model, 19)!;
    assert.ok(sigmoid.startsWith("**sigmoid** = `Sigmoid` · custom layer\n\nStep 0 of run 1 · built at line 19 · forward at line 23 · backward at line 28"), sigmoid);
    // Brackets and bars are escaped (they render as themselves).
    assert.ok(sigmoid.includes("✗ Gradient check failed: dinputs\\[37, 0\\] is −1.247e−4 but central differences give −6.225e−5 (\\|error\\| 6.2e−5)"), sigmoid);
    assert.ok(hoverAt(store, model, 18)!.includes("✓ Gradient check passed (dinputs, dweights, dbiases; worst \\|error\\| 5.1e−16)"));
    // the loss layer's forward line gives the loss
    assert.ok(hoverAt(store, model, 25)!.includes("Step 0 of run 1 · loss 1.0986"));
  });

  it("lists the layer's anomalies, escaped for Markdown", () => {
    const file = abs("test/fixtures/models/nan.ts");
    const relu = makeLayer(0, "activation1", "ReLU", file, 4);
    const report = makeReport(file, {
      layers: [relu],
      anomalies: [{ code: "dead-relu", severity: "warning", step: 3, layer: 0, message: "dead ReLU: 24 of 64 units of activation1 output 0 for all *300* samples", site: relu.info.site! }],
    });
    const h = hoverAt(storeWith(report), "test/fixtures/models/nan.ts", 4)!;
    assert.ok(h.includes("⚠ dead ReLU\\: 24 of 64 units of activation1 output 0 for all \\*300\\* samples"), h);
  });

  it("several layers called on one line get one table row each", () => {
    const file = abs("examples/04-spiral-model.ts");
    const call = { phase: "forward" as const, site: { file, line: 18, column: 1 } };
    const report = makeReport(file, {
      layers: [
        makeLayer(0, "dense1", "Dense(2, 64)", file, 9, { callSites: [call], gradNorms: { dinputs: 1e-3, dweights: 3.1e-4 } }),
        makeLayer(1, "activation1", "ReLU", file, 11, { callSites: [call], gradNorms: { dinputs: 0.02 } }),
      ],
    });
    const h = hoverAt(storeWith(report), "examples/04-spiral-model.ts", 18)!;
    const lines = h.split("\n");
    assert.equal(lines[0], "**2 layers on this line** · step 0 of run 1");
    assert.ok(lines.some((l) => l.startsWith("| **dense1** | `Dense(2, 64)` | [300, 3] | ‖dW‖ 3.1e−4 |  | [inspect](command:backpropLens.revealLayer?")), h);
    assert.ok(lines.some((l) => l.startsWith("| **activation1** | `ReLU` | [300, 3] | ‖dinputs‖ 0.02 |")), h);
  });

  it("a layer that was never called says so", () => {
    const file = abs("examples/04-spiral-model.ts");
    const report = makeReport(file, { layers: [makeLayer(0, "dense3", "Dense(3, 3)", file, 13, { step: -1, tensors: {} })] });
    const h = hoverAt(storeWith(report), "examples/04-spiral-model.ts", 13)!;
    assert.ok(h.includes("Not called in run 1 · built at line 13"), h);
  });
});

describe("hover: names and messages from the model are text, never Markdown", () => {
  // The two injections of issue 12, rendered the way a Markdown renderer would (markdown-it, CommonMark).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const MarkdownIt = require("markdown-it") as typeof import("markdown-it");
  const md = new MarkdownIt({ html: true, linkify: true });
  const IMG = "<img src=x onerror=alert(1)>";
  const LINK = "[click me](command:backpropLens.runBackwardPass)";
  const file = abs("test/fixtures/models/nan.ts");
  const report = makeReport(file, {
    layers: [
      makeLayer(0, IMG, "Dense(2, 3)", file, 4, { step: 0 }),
      makeLayer(1, LINK, "Dense(3, 2)", file, 5, { step: 0 }),
      makeLayer(2, "x", "Dense(3, 2)", file, 6, { step: 0, gradCheck: { layer: 2, step: 0, ok: false, tensors: [], error: `${LINK} ${IMG}` } }),
    ],
    anomalies: [{ code: "dead-relu", severity: "warning", step: 0, layer: 1, message: `${LINK} and ${IMG}`, site: { file, line: 5, column: 1 } }],
  });
  const store = storeWith(report);

  for (const [what, line, name] of [
    ["an <img> tag as a layer name", 4, IMG],
    ["a command link as a layer name (and in a message)", 5, LINK],
    ["both in a gradient-check error", 6, "x"],
  ] as const) {
    it(`${what} shows as the literal text and makes no element or link`, () => {
      const h = hoverAt(store, "test/fixtures/models/nan.ts", line);
      assert.ok(h);
      const html = md.render(h);
      assert.doesNotMatch(html, /<img/i, html);
      assert.doesNotMatch(html, /href="command:backpropLens\.runBackwardPass/, html);
      // The only links are the extension's own "Open in Gradient Inspector".
      for (const m of html.matchAll(/href="([^"]*)"/g)) assert.match(m[1] ?? "", /^command:backpropLens\.revealLayer\?/);
      const text = html.replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
      assert.ok(text.includes(name), `the rendered text shows ${name}: ${text}`);
    });
  }

  it("a description with backticks cannot break out of its code span", () => {
    const r = makeReport(file, { layers: [makeLayer(0, "odd", "Odd`**bold**`[x](command:y)", file, 4, { step: 0 })] });
    const html = md.render(hoverAt(storeWith(r), "test/fixtures/models/nan.ts", 4) ?? "");
    assert.doesNotMatch(html, /<strong>bold/);
    assert.doesNotMatch(html, /href="command:y"/);
  });
});

describe("notifications: a model's message cannot become a link", () => {
  // VS Code's notification renderer (src/vs/base/common/linkedText.ts) makes links of [label](href).
  const LINK_REGEX = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;
  it("[click me](command:…) in an error message stays text, and reads the same", () => {
    const message = "model.ts:11: [click me](command:backpropLens.runBackwardPass) and [x] (command:y) [a](https://e.invalid)";
    const safe = notificationText(message);
    assert.equal(safe.match(LINK_REGEX), null, safe);
    assert.equal(safe.replace(/\u200B/g, ""), message);
  });
});
