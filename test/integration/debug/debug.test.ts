/**
 * The debugger in a real VS Code: `vscode.debug.startDebugging`, `addBreakpoints` with a condition, the
 * adapter's answers through `customRequest`, Step Back across a training step, the Debug Backward Pass
 * command, a stale session, and no model worker left after Stop.
 */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { fileUri, hoverText, lens, lineOf, open, until, workspaceFolder } from "../helpers";

/** Every DAP message the adapter sends, as VS Code's tracker sees it. */
const sent: DebugProtocol.ProtocolMessage[] = [];

function stops(): DebugProtocol.StoppedEvent[] {
  return sent.filter((m): m is DebugProtocol.StoppedEvent => m.type === "event" && (m as DebugProtocol.Event).event === "stopped");
}

async function nextStop(before: number, what: string): Promise<DebugProtocol.StoppedEvent> {
  return until(() => stops()[before], 30_000, what);
}

async function position(s: vscode.DebugSession): Promise<{ step: number; label: string; live: boolean }> {
  return (await s.customRequest("backpropLens/position")) as { step: number; label: string; live: boolean };
}

async function startAndStop(program: string, what: string): Promise<vscode.DebugSession> {
  const before = stops().length;
  const ok = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], { type: "backprop-lens", request: "launch", name: "Debug Backward Pass", program });
  assert.equal(ok, true, "the session started");
  await nextStop(before, what);
  const s = vscode.debug.activeDebugSession;
  assert.equal(s?.type, "backprop-lens");
  return s as vscode.DebugSession;
}

async function ended(s: vscode.DebugSession): Promise<void> {
  await until(() => vscode.debug.activeDebugSession?.id !== s.id, 20_000, "the session to end");
  const api = await lens();
  await until(() => api.debug.liveWorkers() === 0, 10_000, "no model worker left");
}

describe("Backprop Lens debugger in a real VS Code", function () {
  this.timeout(120_000);
  let tracker: vscode.Disposable;

  before(async () => {
    await lens();
    tracker = vscode.debug.registerDebugAdapterTrackerFactory("backprop-lens", {
      createDebugAdapterTracker: () => ({ onDidSendMessage: (m: DebugProtocol.ProtocolMessage) => void sent.push(m) }),
    });
  });
  after(() => {
    tracker.dispose();
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
  });
  afterEach(async () => {
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    if (vscode.debug.activeDebugSession) await vscode.debug.stopDebugging();
  });

  it("contributes the backprop-lens debug type and the Debug Backward Pass command", async () => {
    const all = await vscode.commands.getCommands(true);
    assert.ok(all.includes("backpropLens.debugBackwardPass"));
    const pkg = vscode.extensions.getExtension("backprop-lens.backprop-lens")?.packageJSON as { contributes: { debuggers: { type: string }[] } };
    assert.deepEqual(pkg.contributes.debuggers.map((d) => d.type), ["backprop-lens"]);
  });

  it("stops at a conditional breakpoint set with addBreakpoints, shows the call's tensors, steps back across a training step, and stops", async () => {
    const editor = await open("debug-training.ts");
    const line = lineOf(editor.document, "dense2.backward(");
    vscode.debug.addBreakpoints([new vscode.SourceBreakpoint(new vscode.Location(editor.document.uri, new vscode.Position(line, 0)), true, "step == 5")]);
    const s = await startAndStop(fileUri("debug-training.ts").fsPath, "the breakpoint");
    assert.equal(stops()[stops().length - 1]?.body.reason, "breakpoint");
    let p = await position(s);
    assert.deepEqual([p.step, p.label, p.live], [5, "dense2.backward", true]);
    // VS Code's own view of the stop: the top frame is dense2.backward at its line
    const trace = (await s.customRequest("stackTrace", { threadId: 1 })) as DebugProtocol.StackTraceResponse["body"];
    assert.equal(trace.stackFrames[0]?.name, "dense2.backward");
    assert.equal(trace.stackFrames[0]?.line, line + 1);
    const scopes = (await s.customRequest("scopes", { frameId: trace.stackFrames[0]?.id })) as DebugProtocol.ScopesResponse["body"];
    const layer = (await s.customRequest("variables", { variablesReference: scopes.scopes[0]?.variablesReference })) as DebugProtocol.VariablesResponse["body"];
    assert.match(layer.variables.find((v) => v.name === "dweights")?.value ?? "", /^\[16, 3\] ‖·‖ /);
    const ev = (await s.customRequest("evaluate", { expression: "dweights.shape", frameId: trace.stackFrames[0]?.id, context: "watch" })) as DebugProtocol.EvaluateResponse["body"];
    assert.equal(ev.result, "[16, 3]");
    // The editor's hover shows the layer at this position (step 5), not the last step of a run
    const col = editor.document.lineAt(line).text.indexOf("dense2") + 2;
    await until(async () => /Step 5 of run/.test(await hoverText(editor.document.uri, new vscode.Position(line, col))), 20_000, "the hover of step 5");
    // Step Back: dense2.backward → lossActivation.backward → … → dense1.forward → into step 4
    const before = stops().length;
    await s.customRequest("stepBack", { threadId: 1 });
    await nextStop(before, "step back");
    p = await position(s);
    assert.deepEqual([p.step, p.label, p.live], [5, "lossActivation.backward", false]);
    for (let i = 0; i < 5; i++) {
      const n = stops().length;
      await s.customRequest("stepBack", { threadId: 1 });
      await nextStop(n, "step back");
    }
    p = await position(s);
    assert.deepEqual([p.step, p.label], [4, "SGD update dense2"]);
    await vscode.debug.stopDebugging(s);
    await ended(s);
  });

  it("the Debug Backward Pass command debugs the active model file; a function breakpoint stops in a custom layer", async () => {
    await open("debug-custom.ts");
    vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint("leaky.backward")]);
    const before = stops().length;
    await vscode.commands.executeCommand("backpropLens.debugBackwardPass");
    await nextStop(before, "the function breakpoint");
    const s = vscode.debug.activeDebugSession as vscode.DebugSession;
    assert.equal((await position(s)).label, "leaky.backward");
    await vscode.debug.stopDebugging(s);
    await ended(s);
  });

  it("a model edited while paused says the session is stale", async () => {
    const editor = await open("debug-training.ts");
    const s = await startAndStopOnEntry(fileUri("debug-training.ts").fsPath);
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), "// edited\n"));
    await until(() => sent.some((m) => m.type === "event" && (m as DebugProtocol.OutputEvent).event === "output" && /was edited after this debug session started/.test((m as DebugProtocol.OutputEvent).body.output)), 10_000, "the stale message");
    const trace = (await s.customRequest("stackTrace", { threadId: 1 })) as DebugProtocol.StackTraceResponse["body"];
    assert.match(trace.stackFrames[0]?.name ?? "", /\(file edited since\)$/);
    await vscode.commands.executeCommand("undo");
    await vscode.debug.stopDebugging(s);
    await ended(s);
    await vscode.commands.executeCommand("workbench.action.files.revert");
  });

  it("stopping a paused session ends its worker at once (and so does a new run)", async () => {
    const s = await startAndStopOnEntry(fileUri("debug-training.ts").fsPath);
    const api = await lens();
    assert.equal(api.debug.liveWorkers(), 1);
    const t0 = Date.now();
    await vscode.debug.stopDebugging(s);
    await ended(s);
    assert.ok(Date.now() - t0 < 10_000);
    assert.ok(workspaceFolder());
  });
});

async function startAndStopOnEntry(program: string): Promise<vscode.DebugSession> {
  const before = stops().length;
  const ok = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], { type: "backprop-lens", request: "launch", name: "Debug Backward Pass", program, stopOnEntry: true });
  assert.equal(ok, true);
  await nextStop(before, "the entry stop");
  return vscode.debug.activeDebugSession as vscode.DebugSession;
}
