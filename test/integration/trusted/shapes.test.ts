/**
 * Shapes as you type, in a real VS Code: a model file written with a shape bug gets the static
 * diagnostic before any run, the hover shows each formula's shapes, the outline lists the layers in
 * network order, go to definition reaches the construction, the quick fix removes the error; typing
 * a new bug brings the diagnostic back; a run's own diagnostic replaces the static one on its line.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as vscode from "vscode";
import { fileUri, hoverText, lens, lensDiagnostics, lineOf, open, until } from "../helpers";

const STATIC = "Backprop Lens (before running)";

function staticDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === STATIC);
}

const PLANTED = `import { Dense, ReLU, SoftmaxCategoricalCrossentropy, spiralData } from "backprop-lens";

const [X, y] = spiralData(100, 3);
const dense1 = new Dense(2, 3);
const activation1 = new ReLU();
const dense2 = new Dense(4, 3);
const lossActivation = new SoftmaxCategoricalCrossentropy();

dense1.forward(X);
activation1.forward(dense1.output);
dense2.forward(activation1.output);
lossActivation.forward(dense2.output, y);
lossActivation.backward(lossActivation.output, y);
dense2.backward(lossActivation.dinputs);
activation1.backward(dense2.dinputs);
dense1.backward(activation1.dinputs);
`;

describe("shapes as you type (static analysis in the language server)", function () {
  this.timeout(120_000);
  const name = "shapes-planted.ts";

  before(async () => {
    await lens();
    fs.writeFileSync(fileUri(name).fsPath, PLANTED);
  });

  after(async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    fs.rmSync(fileUri(name).fsPath, { force: true });
  });

  it("before any run: the diagnostic on dense2.forward, naming both layers, both shapes and the rule", async () => {
    const editor = await open(name);
    const doc = editor.document;
    const line = lineOf(doc, "dense2.forward(activation1.output)");
    const d = await until(() => staticDiagnostics(doc.uri).find((x) => x.range.start.line === line), 60_000, "the static diagnostic");
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(d.code, "forward-shape");
    assert.match(d.message, /dense2 = Dense\(4, 3\) takes 4 inputs per sample, but activation1\.output is \[300, 3\]/);
    assert.match(d.message, /dense1 = Dense\(2, 3\) has 3 neurons, through activation1/);
    assert.match(d.message, /as many inputs as the previous layer has neurons/);
    assert.equal(lensDiagnostics(doc.uri).length, 0, "no run diagnostics: the file never ran");
    assert.equal(staticDiagnostics(doc.uri).length, 1, "one error: the rest of that path is not echoed");
  });

  it("hovers show the shapes before running, with each formula's shapes", async () => {
    const doc = (await open(name)).document;
    const back = lineOf(doc, "dense1.backward(activation1.dinputs)");
    const text = await until(async () => {
      const t = await hoverText(doc.uri, new vscode.Position(back, 3));
      return t.includes("dweights") ? t : undefined;
    }, 30_000, "the static hover");
    assert.match(text, /dweights = inputsᵀ · dvalues\s+\[2, 300\] · \[300, 4\] → \[2, 3\]|dweights = inputsᵀ · dvalues\s+\[2, 300\] · \[300, 3\] → \[2, 3\]/);
    assert.match(text, /Shapes before running/);
    const data = lineOf(doc, "spiralData(100, 3)");
    const x = await hoverText(doc.uri, new vscode.Position(data, doc.lineAt(data).text.indexOf("X") + 0));
    assert.match(x, /`X`: `\[300, 2\]` · from `spiralData\(100, 3\)`/);
  });

  it("the outline lists the layers in network order; go to definition reaches the construction", async () => {
    const doc = (await open(name)).document;
    const symbols = await until(async () => {
      const all = (await vscode.commands.executeCommand<vscode.DocumentSymbol[]>("vscode.executeDocumentSymbolProvider", doc.uri)) ?? [];
      const ours = all.filter((s) => /^\d+\. /.test(s.detail));
      return ours.length === 4 ? ours : undefined;
    }, 30_000, "the layers in the outline");
    assert.deepEqual(
      symbols.map((s) => [s.name, s.detail]),
      [
        ["dense1", "1. Dense(2, 3) · [300, 2] → [300, 3]"],
        ["activation1", "2. ReLU · [300, 3] → [300, 3]"],
        ["dense2", "3. Dense(4, 3) · [300, 3] → [300, 3]"],
        ["lossActivation", "4. SoftmaxCategoricalCrossentropy · [300, 3] → [300, 3]"],
      ],
    );
    const use = lineOf(doc, "dense2.backward(lossActivation.dinputs)");
    const defs = (await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>("vscode.executeDefinitionProvider", doc.uri, new vscode.Position(use, 2))) ?? [];
    const ctor = lineOf(doc, "const dense2 = new Dense(4, 3)");
    const lines = defs.map((d) => ("targetRange" in d ? d.targetRange : d.range).start);
    assert.ok(
      lines.some((p) => p.line === ctor && p.character === doc.lineAt(ctor).text.indexOf("new")),
      `a definition at the construction: ${JSON.stringify(lines)}`,
    );
  });

  it("the quick fix changes Dense(4, 3) to Dense(3, 3) and the diagnostic disappears", async () => {
    const doc = (await open(name)).document;
    const d = staticDiagnostics(doc.uri)[0];
    assert.ok(d);
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>("vscode.executeCodeActionProvider", doc.uri, d.range, vscode.CodeActionKind.QuickFix.value)) ?? [];
    const fix = actions.find((a) => a.title.startsWith("Change dense2 to Dense(3, 3)"));
    assert.ok(fix?.edit, `the fix among ${JSON.stringify(actions.map((a) => a.title))}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.ok(doc.getText().includes("const dense2 = new Dense(3, 3);"));
    await until(() => staticDiagnostics(doc.uri).length === 0, 30_000, "the diagnostic to disappear");
    assert.ok(await doc.save());
  });

  it("typing a new mistake brings a diagnostic back while typing (a backward fed the wrong gradient)", async () => {
    const editor = await open(name);
    const doc = editor.document;
    const line = lineOf(doc, "dense1.backward(activation1.dinputs)");
    const col = doc.lineAt(line).text.indexOf("activation1.dinputs");
    // Type it as a user would, a few characters at a time.
    await editor.edit((e) => e.delete(new vscode.Range(line, col, line, col + "activation1.dinputs".length)));
    for (const chunk of ["[[1, ", "2]]"]) {
      await editor.edit((e) => e.insert(new vscode.Position(line, doc.lineAt(line).text.lastIndexOf(")")), chunk));
    }
    const d = await until(() => staticDiagnostics(doc.uri).find((x) => x.range.start.line === line), 30_000, "the backward diagnostic");
    assert.equal(d.code, "backward-shape");
    assert.match(d.message, /dense1\.backward: dvalues \[\[1, 2\]\] is \[1, 2\] but dense1's output was \[300, 3\]/);
    await vscode.commands.executeCommand("workbench.action.files.revert");
    await until(() => staticDiagnostics(doc.uri).length === 0, 30_000, "the diagnostic to go with the revert");
  });

  it("renaming a layer variable (TypeScript's rename) renames it in the outline at once and in the run's layers after the next run", async () => {
    const renamed = "shapes-rename.ts";
    fs.writeFileSync(fileUri(renamed).fsPath, PLANTED.replace("new Dense(4, 3)", "new Dense(3, 3)"));
    try {
      const doc = (await open(renamed)).document;
      const ours = async (): Promise<string[]> =>
        ((await vscode.commands.executeCommand<vscode.DocumentSymbol[]>("vscode.executeDocumentSymbolProvider", doc.uri)) ?? []).filter((s) => /^\d+\. /.test(s.detail)).map((s) => s.name);
      await until(async () => ((await ours()).includes("dense1") ? true : undefined), 30_000, "dense1 in the outline");
      const first = await vscode.commands.executeCommand<{ ok: boolean } | undefined>("backpropLens.runBackwardPass", doc.uri);
      assert.equal(first?.ok, true);
      const { ctx } = await lens();
      const names = (): string[] => [...(ctx.runs.currentRun()?.layers.values() ?? [])].map((l) => l.name);
      assert.ok(names().includes("dense1"), names().join(", "));
      // F2 on dense1's declaration, as a user renames it (TypeScript's rename; its server may still be starting).
      const line = lineOf(doc, "const dense1 = new Dense(2, 3)");
      const at = new vscode.Position(line, doc.lineAt(line).text.indexOf("dense1") + 1);
      const edit = await until(async () => {
        const e = await Promise.resolve(vscode.commands.executeCommand<vscode.WorkspaceEdit | undefined>("vscode.executeDocumentRenameProvider", doc.uri, at, "hidden1")).catch(() => undefined);
        return e && e.size > 0 ? e : undefined;
      }, 60_000, "TypeScript's rename edit");
      assert.ok(await vscode.workspace.applyEdit(edit));
      assert.ok(!doc.getText().includes("dense1"), "every use renamed");
      await until(async () => {
        const n = await ours();
        return n.includes("hidden1") && !n.includes("dense1") ? true : undefined;
      }, 30_000, "hidden1 in the outline");
      // The unsaved, renamed text runs: the inspector's layer is named after the new variable.
      const second = await vscode.commands.executeCommand<{ ok: boolean } | undefined>("backpropLens.runBackwardPass", doc.uri);
      assert.equal(second?.ok, true);
      assert.ok(names().includes("hidden1") && !names().includes("dense1"), names().join(", "));
    } finally {
      await vscode.commands.executeCommand("workbench.action.files.revert");
      await vscode.commands.executeCommand("workbench.action.closeAllEditors");
      await vscode.commands.executeCommand("backpropLens.clearResults");
      fs.rmSync(fileUri(renamed).fsPath, { force: true });
    }
  });

  it("a run's own diagnostic replaces the static one on its line", async () => {
    const doc = (await open("shape-mismatch.ts")).document;
    const line = lineOf(doc, "dense2.forward(activation1.output)");
    await until(() => staticDiagnostics(doc.uri).find((x) => x.range.start.line === line), 60_000, "the static diagnostic");
    const result = await vscode.commands.executeCommand<{ ok: boolean } | undefined>("backpropLens.runBackwardPass", doc.uri);
    assert.equal(result?.ok, false);
    await until(() => lensDiagnostics(doc.uri).find((x) => x.range.start.line === line), 30_000, "the run's diagnostic");
    await until(() => staticDiagnostics(doc.uri).length === 0, 30_000, "the static one to give way");
    await vscode.commands.executeCommand("backpropLens.clearResults");
    await until(() => staticDiagnostics(doc.uri).find((x) => x.range.start.line === line), 30_000, "the static diagnostic back once the run is cleared");
  });
});
