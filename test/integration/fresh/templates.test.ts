/**
 * Writing a model in a fresh workspace (no node_modules, no tsconfig): every template made through
 * "New Model File" gets zero TypeScript diagnostics, completions of the engine's API, hover
 * documentation with the layer's maths, and runs at once.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import type { RunResult } from "../../../extension/runner/runModel";
import { TEMPLATES } from "../../../extension/templates";
import { hoverText, lens, until, workspaceFolder } from "../helpers";

/** TypeScript's own diagnostics of a file (not ours). */
function tsDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === "ts");
}

async function completionLabels(uri: vscode.Uri, position: vscode.Position): Promise<string[]> {
  const list = await vscode.commands.executeCommand<vscode.CompletionList>("vscode.executeCompletionItemProvider", uri, position);
  return (list?.items ?? []).map((i) => (typeof i.label === "string" ? i.label : i.label.label));
}

/** Position just inside `import {` of the engine import. */
function insideImport(doc: vscode.TextDocument): vscode.Position {
  for (let i = 0; i < doc.lineCount; i++) {
    const text = doc.lineAt(i).text;
    if (/from "backprop-lens"/.test(text)) return new vscode.Position(i, text.indexOf("{") + 1);
  }
  throw new Error("no import from backprop-lens");
}

/**
 * Waits until TypeScript has checked the open files: a probe with two known errors gets its
 * diagnostics; the TypeScript extension checks all open files in the same request.
 */
async function waitForTypeScript(folder: string, n: number): Promise<void> {
  const probe = vscode.Uri.file(path.join(folder, `probe-${n}.ts`));
  fs.writeFileSync(probe.fsPath, `import { NoSuchExport } from "backprop-lens";\nconst wrong: number = "text";\nexport { NoSuchExport, wrong };\n`);
  const doc = await vscode.workspace.openTextDocument(probe);
  await vscode.window.showTextDocument(doc, { preview: false, preserveFocus: true, viewColumn: vscode.ViewColumn.Two });
  const diags = await until(() => (tsDiagnostics(probe).length >= 2 ? tsDiagnostics(probe) : undefined), 60_000, "TypeScript to check the probe");
  assert.ok(diags.some((d) => /NoSuchExport/.test(d.message)), "the engine module resolved (the error names the missing export)");
  await vscode.commands.executeCommand("workbench.action.closeActiveEditor");
  fs.rmSync(probe.fsPath);
}

describe("model files in a fresh workspace", function () {
  this.timeout(180_000);

  before(async () => {
    await lens();
    assert.equal(fs.existsSync(path.join(workspaceFolder(), "node_modules")), false, "the workspace starts without node_modules");
  });

  TEMPLATES.forEach((t, n) => {
    it(`${t.label}: no TypeScript errors, completions, documentation, and it runs`, async () => {
      const folder = workspaceFolder();
      const uri = await vscode.commands.executeCommand<vscode.Uri>("backpropLens.newModelFile", { template: t.id, folder, name: t.defaultName });
      assert.ok(uri, "the command made a file");
      assert.equal(path.dirname(uri.fsPath), folder);
      assert.ok(fs.existsSync(path.join(folder, "node_modules", "backprop-lens", "types", "index.d.ts")), "the engine package is set up");
      const doc = await vscode.workspace.openTextDocument(uri);
      assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, uri.fsPath, "the new file is open");

      // Inside `import { … }` TypeScript offers the module's exports not yet imported there.
      const imported = new Set((/import \{([^}]*)\} from "backprop-lens"/.exec(doc.getText())?.[1] ?? "").split(",").map((s) => s.replace(/^\s*type\s+/, "").trim()));
      const expected = ["Dense", "ReLU", "Softmax", "SoftmaxCategoricalCrossentropy", "SGD", "Adam", "spiralData", "value", "Layer"].filter((n) => !imported.has(n));
      const labels = await until(async () => {
        const l = await completionLabels(uri, insideImport(doc));
        return expected.every((n) => l.includes(n)) ? l : undefined;
      }, 60_000, `completions of the engine's exports (${expected.join(", ")})`);
      assert.ok(labels.length >= expected.length);

      await waitForTypeScript(folder, n);
      assert.deepEqual(
        tsDiagnostics(uri).map((d) => `${d.range.start.line + 1}: ${d.message}`),
        [],
        "no TypeScript diagnostics in the new model file",
      );

      const result = await vscode.commands.executeCommand<RunResult>("backpropLens.runBackwardPass", uri);
      assert.equal(result?.ok, true, result?.error?.message);
    });
  });

  it("hover documentation on Dense states its maths in the book's terms", async () => {
    const uri = vscode.Uri.file(path.join(workspaceFolder(), "spiral-model.ts"));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const line = doc.getText().split("\n").findIndex((l) => l.includes("new Dense(2, 3)"));
    const col = doc.lineAt(line).text.indexOf("Dense(2, 3)") + 2;
    const text = await until(async () => {
      const h = await hoverText(uri, new vscode.Position(line, col));
      return h.includes("dweights") ? h : undefined;
    }, 30_000, "TypeScript's hover on Dense");
    assert.match(text, /output = inputs · weights \+ biases/);
    assert.match(text, /dweights = inputsᵀ · dvalues/);
    assert.match(text, /dbiases\s+= Σ/);
    assert.match(text, /dinputs\s+= dvalues · weightsᵀ/);
  });

  it("signature help shows Dense's parameters", async () => {
    const uri = vscode.Uri.file(path.join(workspaceFolder(), "spiral-model.ts"));
    const doc = await vscode.workspace.openTextDocument(uri);
    const line = doc.getText().split("\n").findIndex((l) => l.includes("new Dense(2, 3)"));
    const col = doc.lineAt(line).text.indexOf("Dense(2, 3)") + "Dense(".length;
    const help = await vscode.commands.executeCommand<vscode.SignatureHelp>("vscode.executeSignatureHelpProvider", uri, new vscode.Position(line, col), "(");
    const label = help?.signatures[0]?.label ?? "";
    assert.match(label, /nInputs: number, nNeurons: number, options\?: DenseOptions/);
  });

  it("a JavaScript model gets the same completions and runs", async () => {
    const folder = workspaceFolder();
    const uri = await vscode.commands.executeCommand<vscode.Uri>("backpropLens.newModelFile", { template: "spiral-model", folder, name: "spiral.js" });
    assert.ok(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.languageId, "javascript");
    const labels = await until(async () => {
      const l = await completionLabels(uri, insideImport(doc));
      return l.includes("Adam") ? l : undefined;
    }, 60_000, "completions in JavaScript");
    assert.ok(labels.includes("SGD"), "the engine's exports are offered");
    const result = await vscode.commands.executeCommand<RunResult>("backpropLens.runBackwardPass", uri);
    assert.equal(result?.ok, true, result?.error?.message);
  });
});
