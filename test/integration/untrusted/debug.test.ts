/** In an untrusted workspace Debug Backward Pass is refused like a run: no model code runs. */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { fileUri, lens, open } from "../helpers";

describe("Backprop Lens debugger in an untrusted workspace", function () {
  this.timeout(60_000);

  it("refuses Debug Backward Pass (nothing runs, no session starts)", async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const api = await lens();
    await open("02-layer-batch.ts");
    const started = await vscode.commands.executeCommand<boolean>("backpropLens.debugBackwardPass", fileUri("02-layer-batch.ts"));
    assert.equal(started, false);
    assert.equal(vscode.debug.activeDebugSession, undefined);
    assert.equal(api.ctx.runs.currentRun(), undefined, "nothing ran");
    assert.equal(api.debug.liveWorkers(), 0);
  });
});
