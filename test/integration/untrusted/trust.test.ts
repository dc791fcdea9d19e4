/** In an untrusted workspace the extension activates in restricted mode and refuses to run user code. */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { RunResult } from "../../../extension/runner/runModel";
import { fileUri, lens, open } from "../helpers";

describe("Backprop Lens in an untrusted workspace", function () {
  this.timeout(60_000);

  it("is untrusted, still activates, and refuses to run the model", async () => {
    assert.equal(vscode.workspace.isTrusted, false, "the harness opened the folder untrusted");
    const { ctx } = await lens();
    await open("02-layer-batch.ts");
    const result = await vscode.commands.executeCommand<RunResult | undefined>("backpropLens.runBackwardPass", fileUri("02-layer-batch.ts"));
    assert.equal(result, undefined, "nothing ran");
    assert.equal(ctx.runs.currentRun(), undefined);
    assert.equal(ctx.runs.running, false);
  });
});
