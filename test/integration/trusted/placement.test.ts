/**
 * Issue 13, what does not fit: "Run" on a file opened while focus was in the inspector's group put the
 * inspector over that file and left another file's code beside the results. The inspector goes beside
 * the model it shows: never in the model's group, and the model stays visible.
 */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { fileUri, lens, until } from "../helpers";

describe("the inspector goes beside the model it shows", function () {
  this.timeout(120_000);

  before(async () => {
    await lens();
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("a model opened in the inspector's group and run: the inspector moves beside it, the model stays in front", async () => {
    const api = await lens();
    // Model A in group 1, run: the inspector opens in group 2.
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fileUri("02-layer-batch.ts")), { viewColumn: vscode.ViewColumn.One });
    await vscode.commands.executeCommand("backpropLens.runBackwardPass", fileUri("02-layer-batch.ts"));
    const panel = await until(() => api.inspector()?.panel, 30_000, "the inspector");
    assert.equal(panel.viewColumn, vscode.ViewColumn.Two);
    // Focus the inspector's group and open model B there, as a user clicking in the explorer does.
    panel.reveal(vscode.ViewColumn.Two, false);
    const b = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fileUri("04-spiral-model.ts")), { viewColumn: vscode.ViewColumn.Two, preview: false });
    assert.equal(b.viewColumn, vscode.ViewColumn.Two);
    await vscode.commands.executeCommand("backpropLens.runBackwardPass", fileUri("04-spiral-model.ts"));
    const after = await until(() => api.inspector()?.panel, 30_000, "the inspector");
    const modelEditor = vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === fileUri("04-spiral-model.ts").fsPath);
    assert.ok(modelEditor, "the model is still visible");
    assert.ok(after.visible, "the inspector is visible");
    assert.notEqual(after.viewColumn, modelEditor.viewColumn, "the inspector is not over the model");
    assert.equal(after.viewColumn, (modelEditor.viewColumn ?? 0) + 1, "it is in the group right of the model");
    // The model moved beside the panel: no new group (run after run, the window split into ever narrower
    // groups), and no copy of the model left behind in the inspector's group.
    assert.equal(vscode.window.tabGroups.all.length, 2, "still two groups");
    assert.equal(modelEditor.viewColumn, vscode.ViewColumn.One);
    const inPanelGroup = vscode.window.tabGroups.all.find((g) => g.viewColumn === after.viewColumn)?.tabs ?? [];
    assert.ok(!inPanelGroup.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.fsPath === fileUri("04-spiral-model.ts").fsPath), "the model's tab left the inspector's group");
  });

  after(async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });
});
