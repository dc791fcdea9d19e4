/** "Record step N": the model runs again with that step recorded, and the re-run is checked against the first run. */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { RunResult } from "../../../extension/runner/runModel";
import { fileUri, lens, open } from "../helpers";

describe("Backprop Lens: record a step of the last run", function () {
  this.timeout(120_000);

  it("records step 7 of a deterministic model and says the re-run repeated the first run", async () => {
    const api = await lens();
    await open("debug-training.ts");
    const first = await vscode.commands.executeCommand<RunResult>("backpropLens.runBackwardPass", fileUri("debug-training.ts"));
    assert.equal(first?.ok, true);
    assert.equal(api.ctx.runs.currentRun()?.calls.some((c) => c.step === 7), false, "step 7 is not kept by a plain run");
    const again = await vscode.commands.executeCommand<RunResult>("backpropLens.recordStep", 7);
    assert.equal(again?.ok, true);
    const store = api.ctx.runs.currentRun();
    assert.ok(store?.calls.some((c) => c.step === 7), "step 7 is recorded now");
    assert.ok(store?.console.some((l) => /repeated the first run exactly/.test(l.text)));
  });

  it("says so when a model is not deterministic (Math.random)", async () => {
    const api = await lens();
    await open("debug-random.ts");
    await vscode.commands.executeCommand<RunResult>("backpropLens.runBackwardPass", fileUri("debug-random.ts"));
    await vscode.commands.executeCommand<RunResult>("backpropLens.recordStep", 5);
    const store = api.ctx.runs.currentRun();
    const line = store?.console.find((l) => /not deterministic/.test(l.text));
    assert.ok(line, "a warning about the re-run");
    assert.match(line.text, /at step 0 the loss was [\d.]+ and is now [\d.]+/);
  });
});
