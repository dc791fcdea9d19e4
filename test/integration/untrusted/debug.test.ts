/** In an untrusted workspace a debug session is refused like a run: no model code runs. */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { fileUri, lens, open, until } from "../helpers";

describe("Backprop Lens debugger in an untrusted workspace", function () {
  this.timeout(60_000);

  it("refuses to debug the model (nothing runs, the session ends)", async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const api = await lens();
    await open("02-layer-batch.ts");
    let ended = false;
    const sub = vscode.debug.onDidTerminateDebugSession(() => (ended = true));
    await vscode.debug.startDebugging(undefined, { type: "backprop-lens", request: "launch", name: "Debug", program: fileUri("02-layer-batch.ts").fsPath });
    await until(() => ended || vscode.debug.activeDebugSession === undefined, 10_000, "the session to be refused");
    sub.dispose();
    assert.equal(api.ctx.runs.currentRun(), undefined, "nothing ran");
    assert.equal(api.debug.liveWorkers(), 0);
  });
});
