/**
 * Running models in a real VS Code: activation, every command, a run's results, hovers,
 * diagnostics for broken models, cancelling a runaway model while the host stays responsive.
 */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { toArray } from "../../../core/index";
import type { RunResult } from "../../../extension/runner/runModel";
import { EXTENSION_ID, fileUri, hoverText, lens, lensDiagnostics, lineOf, open, setting, until } from "../helpers";

async function run(name: string): Promise<RunResult> {
  await open(name);
  const result = await vscode.commands.executeCommand<RunResult | undefined>("backpropLens.runBackwardPass", fileUri(name));
  assert.ok(result, `${name} ran`);
  return result;
}

describe("Backprop Lens in a real VS Code", function () {
  this.timeout(90_000);

  before(async () => {
    await lens();
  });

  it("activates and registers every command", async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.equal(ext?.isActive, true);
    const all = await vscode.commands.getCommands(true);
    for (const id of [
      "backpropLens.runBackwardPass",
      "backpropLens.stopRun",
      "backpropLens.openInspector",
      "backpropLens.revealLayer",
      "backpropLens.showLog",
      "backpropLens.clearResults",
    ]) {
      assert.ok(all.includes(id), `${id} is registered`);
    }
  });

  it("runs the chapter's layer over a batch and keeps its gradients (dinputs row 0.44 −0.38 −0.07 1.37)", async () => {
    const result = await run("02-layer-batch.ts");
    assert.equal(result.ok, true, result.error?.message);
    const { ctx } = await lens();
    const store = ctx.runs.currentRun();
    assert.ok(store);
    const dense1 = [...store.layers.values()].find((l) => l.name === "dense1");
    assert.equal(dense1?.description, "Dense(4, 3)");
    const backward = store.calls.find((c) => c.layer === dense1?.id && c.phase === "backward");
    assert.ok(backward);
    const dinputs = store.tensor(backward.seq, "dinputs");
    assert.ok(dinputs);
    const rows = toArray(dinputs) as number[][];
    assert.deepEqual(
      rows[0]?.map((v) => Math.round(v * 100) / 100),
      [0.44, -0.38, -0.07, 1.37],
    );
    const dbiases = store.tensor(backward.seq, "dbiases");
    assert.deepEqual(Array.from(dbiases?.data ?? []), [6, 6, 6]);
    // The backward call is attributed to the line that made it.
    const doc = await vscode.workspace.openTextDocument(fileUri("02-layer-batch.ts"));
    assert.equal(backward.site?.line, lineOf(doc, "dense1.backward(dvalues)") + 1);
    assert.match(ctx.status.text, /02-layer-batch\.ts: \d+ steps?/);
  });

  it("opens the Gradient Inspector beside the editor and it says ready", async () => {
    await run("04-spiral-model.ts");
    const api = await lens();
    const panel = await until(() => api.inspector(), 10_000, "the inspector panel");
    await until(() => panel.isReady, 20_000, "the webview's ui/ready");
    assert.equal(panel.panel.title, "Gradient Inspector");
    assert.notEqual(panel.panel.viewColumn, vscode.ViewColumn.One);
  });

  it("hovers a layer's construction and call lines with its shapes and values from the last run", async () => {
    await run("02-layer-batch.ts");
    const doc = await vscode.workspace.openTextDocument(fileUri("02-layer-batch.ts"));
    const ctorLine = lineOf(doc, "const dense1 = new Dense");
    const ctor = await until(async () => {
      const t = await hoverText(doc.uri, new vscode.Position(ctorLine, doc.lineAt(ctorLine).text.indexOf("Dense") + 1));
      return t.includes("Dense(4, 3)") ? t : undefined;
    }, 15_000, "a hover on dense1's construction");
    assert.match(ctor, /dinputs/);
    assert.match(ctor, /0\.44/);
    assert.match(ctor, /dbiases/);
    assert.match(ctor, /Open in Gradient Inspector/);
    const callLine = lineOf(doc, "dense1.backward(dvalues)");
    const call = await hoverText(doc.uri, new vscode.Position(callLine, 3));
    assert.match(call, /dense1/);
    assert.match(call, /dweights/);
  });

  it("reports a shape mismatch as an error on the calling line, naming both layers and shapes", async () => {
    const result = await run("shape-mismatch.ts");
    assert.equal(result.ok, false);
    assert.equal(result.error?.kind, "shape");
    const doc = await vscode.workspace.openTextDocument(fileUri("shape-mismatch.ts"));
    const line = lineOf(doc, "dense2.forward(activation1.output)");
    const diag = await until(() => lensDiagnostics(doc.uri).find((d) => d.range.start.line === line), 15_000, "the shape diagnostic");
    assert.equal(diag.severity, vscode.DiagnosticSeverity.Error);
    assert.match(diag.message, /dense2\.forward/);
    assert.match(diag.message, /\[300, 64\]/);
    assert.match(diag.message, /\[3, 3\]/);
    assert.match(diag.message, /activation1/);
  });

  it("reports a syntax error, a missing import and a throw at the user's line", async () => {
    const cases: [string, string, RegExp][] = [
      ["syntax-error.ts", "console.log(dense1.output);", /syntax error/],
      ["missing-import.ts", "import { Dense, Dnese }", /no export named "Dnese"/],
      ["throws.ts", 'throw new Error("the data file is empty")', /the data file is empty/],
    ];
    for (const [name, text, message] of cases) {
      const result = await run(name);
      assert.equal(result.ok, false, name);
      const doc = await vscode.workspace.openTextDocument(fileUri(name));
      const line = lineOf(doc, text);
      const diag = await until(() => lensDiagnostics(doc.uri).find((d) => d.range.start.line === line), 15_000, `the diagnostic of ${name}`);
      assert.match(diag.message, message);
    }
  });

  it("stops at the first NaN and names the layer, tensor and line where it appeared", async () => {
    const result = await run("nan.ts");
    assert.equal(result.error?.kind, "non-finite");
    assert.match(result.error?.message ?? "", /NaN first appeared in dense2\.output/);
    const doc = await vscode.workspace.openTextDocument(fileUri("nan.ts"));
    const line = lineOf(doc, "dense2.forward(dense1.output)");
    await until(() => lensDiagnostics(doc.uri).find((d) => d.range.start.line === line && d.severity === vscode.DiagnosticSeverity.Error), 15_000, "the NaN diagnostic");
  });

  it("reports a failing gradient check of a user layer as an error", async () => {
    const result = await run("wrong-backward.ts");
    assert.equal(result.ok, true);
    const doc = await vscode.workspace.openTextDocument(fileUri("wrong-backward.ts"));
    const diag = await until(() => lensDiagnostics(doc.uri).find((d) => /gradient check failed/.test(d.message)), 15_000, "the gradient-check diagnostic");
    assert.match(diag.message, /sigmoid\.dinputs/);
    assert.equal(diag.range.start.line, lineOf(doc, "sigmoid.backward(dense2.dinputs)"));
  });

  it("keeps the extension host responsive while a runaway model runs, and Stop Run stops it", async () => {
    const restore = await setting("timeLimitSeconds", 120);
    try {
      await open("infinite-loop.ts");
      const pending = vscode.commands.executeCommand<RunResult | undefined>("backpropLens.runBackwardPass", fileUri("infinite-loop.ts"));
      const { ctx } = await lens();
      await until(() => ctx.runs.running, 10_000, "the run to start");
      await until(() => ctx.runs.currentRun()?.calls.length, 10_000, "the model to reach its loop");
      // Another command answers at once while the model spins in its worker.
      for (let i = 0; i < 5; i++) {
        const t0 = Date.now();
        await vscode.commands.executeCommand("backpropLens.showLog");
        const doc = await vscode.workspace.openTextDocument(fileUri("02-layer-batch.ts"));
        assert.ok(doc.lineCount > 0);
        const took = Date.now() - t0;
        assert.ok(took < 1000, `a command took ${took} ms while the model ran`);
      }
      assert.equal(ctx.runs.running, true, "the model is still running");
      await vscode.commands.executeCommand("backpropLens.stopRun");
      const result = await pending;
      assert.equal(result?.error?.kind, "cancelled");
      assert.equal(ctx.runs.running, false);
    } finally {
      await restore();
    }
  });

  it("stops a model that never ends at the time limit and points at the loop", async () => {
    const restore = await setting("timeLimitSeconds", 2);
    try {
      const result = await run("infinite-loop.ts");
      assert.equal(result.error?.kind, "timeout");
      const doc = await vscode.workspace.openTextDocument(fileUri("infinite-loop.ts"));
      const loop = lineOf(doc, "while (epochs >= 0)");
      assert.ok(result.error?.site && Math.abs(result.error.site.line - 1 - loop) <= 1, `stopped at ${JSON.stringify(result.error?.site)}, loop at ${loop + 1}`);
      await until(() => lensDiagnostics(doc.uri).find((d) => /time limit/.test(d.message)), 15_000, "the timeout diagnostic");
    } finally {
      await restore();
    }
  });

  it("a second run cancels the first", async () => {
    const restore = await setting("timeLimitSeconds", 120);
    try {
      await open("infinite-loop.ts");
      const first = vscode.commands.executeCommand<RunResult | undefined>("backpropLens.runBackwardPass", fileUri("infinite-loop.ts"));
      const { ctx } = await lens();
      await until(() => ctx.runs.running, 10_000, "the first run");
      const second = await run("02-layer-batch.ts");
      assert.equal(second.ok, true);
      assert.equal((await first)?.error?.kind, "cancelled");
    } finally {
      await restore();
    }
  });

  it("runs the unsaved text of the editor", async () => {
    const editor = await open("04-spiral-model.ts");
    const line = lineOf(editor.document, "const dense2 = new Dense(3, 3);");
    await editor.edit((e) => e.replace(editor.document.lineAt(line).range, "const dense2 = new Dense(3, 5);"));
    try {
      const result = await vscode.commands.executeCommand<RunResult>("backpropLens.runBackwardPass", editor.document.uri);
      assert.equal(result?.ok, true);
      const { ctx } = await lens();
      const dense2 = [...(ctx.runs.currentRun()?.layers.values() ?? [])].find((l) => l.name === "dense2");
      assert.equal(dense2?.description, "Dense(3, 5)");
    } finally {
      await vscode.commands.executeCommand("workbench.action.files.revert");
    }
  });

  it("reveals a layer in the inspector and clears results", async () => {
    await run("02-layer-batch.ts");
    await vscode.commands.executeCommand("backpropLens.revealLayer", [{ layer: 0, file: fileUri("02-layer-batch.ts").fsPath }]);
    const api = await lens();
    const panel = await until(() => api.inspector(), 10_000, "the inspector");
    assert.equal(panel.panel.visible, true);
    await vscode.commands.executeCommand("backpropLens.openInspector");
    await vscode.commands.executeCommand("backpropLens.clearResults");
    const { ctx } = await lens();
    assert.equal(ctx.runs.currentRun(), undefined);
    const doc = await vscode.workspace.openTextDocument(fileUri("shape-mismatch.ts"));
    await until(() => lensDiagnostics(doc.uri).length === 0, 10_000, "diagnostics to clear");
  });
});
