/**
 * The debugger in a real VS Code: `vscode.debug.startDebugging`, `addBreakpoints` with a condition, the
 * adapter's answers through `customRequest`, Step Back across a training step, the Debug Backward Pass
 * command, a stale session, and no model worker left after Stop.
 */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { shortNumber } from "../../../core/format";
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

  it("one position everywhere: paused at step 2, the hover, the inline hint and the code lens show step 2's dweights", async () => {
    const editor = await open("debug-training.ts");
    const uri = editor.document.uri;
    const line = lineOf(editor.document, "dense2.backward(");
    const ctorLine = lineOf(editor.document, "const dense2 = new Dense(");
    vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint("dense2.backward", true, "step == 2 || step == 4")]);
    const s = await startAndStop(uri.fsPath, "the function breakpoint at step 2");
    assert.equal((await position(s)).step, 2);
    // On to step 4 (live), then Reverse Continue back to step 2: the model stays paused at step 4.
    let n = stops().length;
    await s.customRequest("continue", { threadId: 1 });
    await nextStop(n, "the breakpoint at step 4");
    assert.equal((await position(s)).step, 4);
    n = stops().length;
    await s.customRequest("reverseContinue", { threadId: 1 });
    await nextStop(n, "reverse continue to step 2");
    const p = await position(s);
    assert.deepEqual([p.step, p.label, p.live], [2, "dense2.backward", false]);
    const api = await lens();
    const store = api.ctx.runs.currentRun() ?? assert.fail("the debug run's store");
    const dense2 = [...store.layers.values()].find((l) => l.name === "dense2") ?? assert.fail("dense2");
    const norm = (step: number): number => {
      const call = store.callsIn(dense2.id, step).find((c) => c.phase === "backward") ?? assert.fail(`dense2.backward of step ${step}`);
      const t = store.tensor(call.seq, "dweights") ?? assert.fail(`its dweights (step ${step})`);
      return Math.hypot(...t.data);
    };
    /** The ‖·‖ cell of the hover's dweights row, the inline hint at the backward call, the code lens at the construction. */
    const shown = async (): Promise<{ hover: string; norm: string; hint: string; lens: string }> => {
      const hover = await hoverText(uri, new vscode.Position(line, editor.document.lineAt(line).text.indexOf("dense2") + 2));
      const row = hover.split("\n").find((l) => /^\| dweights \|/.test(l)) ?? "";
      const hints = (await vscode.commands.executeCommand<vscode.InlayHint[]>("vscode.executeInlayHintProvider", uri, new vscode.Range(0, 0, editor.document.lineCount, 0))) ?? [];
      const hint = hints.find((h) => h.position.line === line);
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", uri)) ?? [];
      const lensAt = lenses.find((l) => l.range.start.line === ctorLine && /^dense2:/.test(l.command?.title ?? ""));
      return { hover, norm: row.split("|").map((c) => c.trim())[6] ?? "", hint: typeof hint?.label === "string" ? hint.label : (hint?.label ?? []).map((x) => x.value).join(""), lens: lensAt?.command?.title ?? "" };
    };
    const at2 = norm(2);
    // Not the numbers of step 4, where the model is paused, nor of step 3.
    assert.notEqual(shortNumber(at2, 4), shortNumber(norm(4), 4), "steps 2 and 4 differ at the hover's precision");
    const paused = await until(async () => {
      const x = await shown();
      return /Step 2 of run/.test(x.hover) && x.norm === shortNumber(at2, 4) ? x : undefined;
    }, 20_000, "the hover of step 2");
    assert.equal(paused.hint, `← ‖dW‖ ${shortNumber(at2, 2)}`);
    assert.ok(paused.lens.startsWith("dense2: ") && paused.lens.includes(`‖dW‖ ${shortNumber(at2, 2)}`), paused.lens);
    // The inspector shows that step too (the follow message carries it).
    assert.equal(api.debug.sessions.get(s.id)?.debugRuntime.current()?.step, 2);
    await vscode.debug.stopDebugging(s);
    await ended(s);
  });

  it("when a debug session runs to its end, the hover and the inline hint show the run's last step", async () => {
    const editor = await open("debug-training.ts");
    const uri = editor.document.uri;
    const line = lineOf(editor.document, "dense2.backward(");
    vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint("dense2.backward", true, "step == 2")]);
    const s = await startAndStop(uri.fsPath, "the function breakpoint at step 2");
    const col = editor.document.lineAt(line).text.indexOf("dense2") + 2;
    await until(async () => /Step 2 of run/.test(await hoverText(uri, new vscode.Position(line, col))), 20_000, "the hover of step 2");
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    await s.customRequest("continue", { threadId: 1 });
    await ended(s);
    const api = await lens();
    const store = api.ctx.runs.currentRun() ?? assert.fail();
    const d2 = [...store.layers.values()].find((l) => l.name === "dense2") ?? assert.fail();
    const call = store.callsIn(d2.id, 19).find((c) => c.phase === "backward") ?? assert.fail("step 19's dense2.backward is kept");
    const n = Math.hypot(...(store.tensor(call.seq, "dweights") ?? assert.fail()).data);
    await until(async () => {
      const hover = await hoverText(uri, new vscode.Position(line, col));
      return /Step 19 of run/.test(hover) && hover.includes(`| ${shortNumber(n, 4)} |`);
    }, 30_000, "the hover of step 19 after the session");
    const hints = (await vscode.commands.executeCommand<vscode.InlayHint[]>("vscode.executeInlayHintProvider", uri, new vscode.Range(0, 0, editor.document.lineCount, 0))) ?? [];
    const hint = hints.find((h) => h.position.line === line);
    assert.equal(typeof hint?.label === "string" ? hint.label : "", `← ‖dW‖ ${shortNumber(n, 2)}`);
  });

  it("Record a Step while debugging restarts the session with that step recorded: Step Back reaches it", async () => {
    const editor = await open("debug-training.ts");
    vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint("dense2.backward", true, "step == 9")]);
    const first = await startAndStop(editor.document.uri.fsPath, "the breakpoint at step 9");
    assert.equal((await position(first)).step, 9);
    const before = stops().length;
    await vscode.commands.executeCommand("backpropLens.recordStep", 7);
    await nextStop(before, "the restarted session's breakpoint");
    const s = await until(() => (vscode.debug.activeDebugSession?.id !== first.id ? vscode.debug.activeDebugSession : undefined), 30_000, "the restarted session");
    assert.deepEqual(s.configuration.recordSteps, [7]);
    const p = (await s.customRequest("backpropLens/position")) as { step: number; kept: string };
    assert.equal(p.step, 9);
    assert.equal(p.kept, "steps 0–2 and 7–9"); // without the recorded step 7: "steps 0–2 and 8–9"
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
