/**
 * Debug Backward Pass on a `.py` model in a real VS Code: the Debug lens on the Python file, a
 * conditional breakpoint set with `addBreakpoints` on a line inside the book's `Layer_Dense.backward`,
 * the Debug Backward Pass command, the adapter's answers through `customRequest` (stack, Variables,
 * evaluate, Step Back), the editor's hover following the debugger, and Stop ending the tracer's
 * process. The interpreter is the tests' (contract 5) through `backpropLens.pythonPath`.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { testPython } from "../../helpers/python";
import { hoverText, lens, lineOf, open, setting, until, workspaceFolder } from "../helpers";

const repo = path.resolve(__dirname, "..", "..", "..", "..");
const sent: DebugProtocol.ProtocolMessage[] = [];
const stops = (): DebugProtocol.StoppedEvent[] =>
  sent.filter((m): m is DebugProtocol.StoppedEvent => m.type === "event" && (m as DebugProtocol.Event).event === "stopped");

async function position(s: vscode.DebugSession): Promise<{ step: number; label: string; live: boolean }> {
  return (await s.customRequest("backpropLens/position")) as { step: number; label: string; live: boolean };
}

describe("Debug Backward Pass on a Python model in a real VS Code", function () {
  this.timeout(120_000);
  let tracker: vscode.Disposable | undefined;
  let restore: (() => Promise<void>) | undefined;

  before(async () => {
    const python = testPython();
    if (!python?.numpy) throw new Error(`these tests need Python 3.8+ with NumPy (found ${python ? `${python.path} without NumPy` : "no Python"}; contract 5: BPL_PYTHON)`);
    restore = await setting("pythonPath", python.path);
    fs.copyFileSync(path.join(repo, "test", "fixtures", "python", "debug_training.py"), path.join(workspaceFolder(), "debug_training.py"));
    await lens();
    tracker = vscode.debug.registerDebugAdapterTrackerFactory("backprop-lens", {
      createDebugAdapterTracker: () => ({ onDidSendMessage: (m: DebugProtocol.ProtocolMessage) => void sent.push(m) }),
    });
  });
  after(async () => {
    tracker?.dispose();
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    if (vscode.debug.activeDebugSession) await vscode.debug.stopDebugging();
    await restore?.();
  });

  it("the .py file has the Debug lens; a conditional breakpoint inside backward stops the live model there, steps back, and Stop ends the process", async () => {
    const editor = await open("debug_training.py");
    const lenses = await until(async () => {
      const l = (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", editor.document.uri)) ?? [];
      return l.some((x) => x.command?.title === "Debug Backward Pass") ? l : undefined;
    }, 15_000, "the Debug lens on the .py file");
    assert.equal(lenses.find((x) => x.command?.title === "Debug Backward Pass")?.command?.command, "backpropLens.debugBackwardPass");

    const inside = lineOf(editor.document, "self.dweights = np.dot(self.inputs.T, dvalues)");
    vscode.debug.addBreakpoints([new vscode.SourceBreakpoint(new vscode.Location(editor.document.uri, new vscode.Position(inside, 0)), true, "step == 4")]);
    const before = stops().length;
    assert.equal(await vscode.commands.executeCommand("backpropLens.debugBackwardPass", editor.document.uri), true);
    await until(() => stops()[before], 60_000, "the breakpoint in Layer_Dense.backward");
    const s = vscode.debug.activeDebugSession as vscode.DebugSession;
    assert.equal(s.type, "backprop-lens");
    assert.equal(stops()[before]?.body.reason, "breakpoint");
    let p = await position(s);
    assert.deepEqual([p.step, p.label, p.live], [4, "dense2.backward", true]);

    const trace = (await s.customRequest("stackTrace", { threadId: 1 })) as DebugProtocol.StackTraceResponse["body"];
    const call = lineOf(editor.document, "dense2.backward(loss_activation.dinputs)");
    assert.equal(trace.stackFrames[0]?.line, call + 1);
    assert.equal(path.basename(trace.stackFrames[0]?.source?.path ?? ""), "debug_training.py");
    const scopes = (await s.customRequest("scopes", { frameId: trace.stackFrames[0]?.id })) as DebugProtocol.ScopesResponse["body"];
    assert.match(scopes.scopes[0]?.name ?? "", /^Layer dense2 \(Layer_Dense\(16, 3\)\) · backward$/);
    const layer = (await s.customRequest("variables", { variablesReference: scopes.scopes[0]?.variablesReference })) as DebugProtocol.VariablesResponse["body"];
    assert.match(layer.variables.find((v) => v.name === "dweights")?.value ?? "", /^\[16, 3\] ‖·‖ /);
    const ev = (await s.customRequest("evaluate", { expression: "dinputs.shape", frameId: trace.stackFrames[0]?.id, context: "watch" })) as DebugProtocol.EvaluateResponse["body"];
    assert.equal(ev.result, "[60, 16]");

    // the editor's hover on dense2's call line shows step 4, where the debugger is
    const col = editor.document.lineAt(call).text.indexOf("dense2") + 2;
    await until(async () => /Step 4 of run/.test(await hoverText(editor.document.uri, new vscode.Position(call, col))), 20_000, "the hover of step 4");

    // Step Back to loss_activation.backward (the tracer is still paused at dense2.backward)
    const n = stops().length;
    await s.customRequest("stepBack", { threadId: 1 });
    await until(() => stops()[n], 20_000, "step back");
    p = await position(s);
    assert.deepEqual([p.step, p.label, p.live], [4, "loss_activation.backward", false]);

    const { ctx } = await lens();
    assert.equal(ctx.runs.running, true, "the model waits while paused");
    await vscode.debug.stopDebugging(s);
    await until(() => vscode.debug.activeDebugSession?.id !== s.id, 20_000, "the session to end");
    await until(() => !ctx.runs.running, 10_000, "the tracer's process to end");
  });
});
