/**
 * The debug adapter driven like any adapter, with `@vscode/debugadapter-testsupport`'s `DebugClient`
 * over a socket: launch, breakpoints with conditions and hit counts, every step kind, step back across a
 * training step, variables of a paused call with the chapter's numbers, the NaN filter, evaluate, stop.
 * The models run for real in the worker (dist/worker.js: `npm run build` first).
 */
import * as assert from "node:assert/strict";
import * as net from "node:net";
import * as path from "node:path";
import { DebugClient } from "@vscode/debugadapter-testsupport";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { RunModel, shortNumber } from "../../core/host";
import { formatValue } from "../../core/debug/index";
import { nodeLauncher } from "../../extension/debug/nodeLauncher";
import { runModel } from "../../extension/runner/runModel";
import { TRACE_BUDGET } from "../../extension/runner/traceBudget";
import { BackpropDebugSession } from "../../extension/debug/session";
import { liveModelWorkers } from "../../extension/runner/runModel";

const repo = path.resolve(__dirname, "..", "..", "..");
const EXAMPLE_02 = path.join(repo, "examples", "02-layer-batch.ts");
const TRAINING = path.join(repo, "test", "fixtures", "models", "debug-training.ts");
const DIVERGE = path.join(repo, "test", "fixtures", "models", "debug-diverge.ts");
const CUSTOM = path.join(repo, "test", "fixtures", "models", "debug-custom.ts");
const LATE = path.join(repo, "test", "fixtures", "models", "debug-late-jump.ts");
const WIDE = path.join(repo, "test", "fixtures", "wide", "debug-wide.ts");

let server: net.Server;
let port = 0;
const sessions: BackpropDebugSession[] = [];

before(async () => {
  const launcher = nodeLauncher({ workerScript: path.join(repo, "dist", "worker.js"), gradCheck: true });
  server = net.createServer((socket) => {
    const s = new BackpropDebugSession(launcher);
    sessions.push(s);
    s.setRunAsServer(true);
    s.start(socket, socket);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as net.AddressInfo).port;
});

after(() => {
  server.close();
});

let dc: DebugClient;
beforeEach(async () => {
  dc = new DebugClient("node", "unused", "backprop-lens");
  dc.defaultTimeout = 30_000;
  await dc.start(port);
});
afterEach(async () => {
  await dc.stop();
});

interface StartOptions {
  stopOnEntry?: boolean;
  lines?: { path: string; breakpoints: DebugProtocol.SourceBreakpoint[] }[];
  functions?: DebugProtocol.FunctionBreakpoint[];
  filters?: string[];
  filterOptions?: DebugProtocol.ExceptionFilterOptions[];
  keepSteps?: number;
  recordSteps?: number[];
  timeLimitSeconds?: number;
  memoryLimitMb?: number;
}

/** Launches `program`, sets breakpoints during the configuration sequence, and waits for the first stop. */
async function start(program: string, o: StartOptions = {}): Promise<{ stopped: DebugProtocol.StoppedEvent; breakpoints: DebugProtocol.Breakpoint[] }> {
  const breakpoints: DebugProtocol.Breakpoint[] = [];
  const stopped = dc.waitForEvent("stopped") as Promise<DebugProtocol.StoppedEvent>;
  await Promise.all([
    dc.waitForEvent("initialized").then(async () => {
      for (const l of o.lines ?? []) breakpoints.push(...(await dc.setBreakpointsRequest({ source: { path: l.path }, breakpoints: l.breakpoints })).body.breakpoints);
      if (o.functions) breakpoints.push(...(await dc.setFunctionBreakpointsRequest({ breakpoints: o.functions })).body.breakpoints);
      await dc.setExceptionBreakpointsRequest({ filters: o.filters ?? ["nonFinite", "gradCheck", "exploding", "error"], ...(o.filterOptions ? { filterOptions: o.filterOptions } : {}) });
      await dc.configurationDoneRequest();
    }),
    dc.launch({ program, ...(o.stopOnEntry ? { stopOnEntry: true } : {}), keepSteps: o.keepSteps ?? 3, ...(o.recordSteps ? { recordSteps: o.recordSteps } : {}), ...(o.timeLimitSeconds ? { timeLimitSeconds: o.timeLimitSeconds } : {}), ...(o.memoryLimitMb ? { memoryLimitMb: o.memoryLimitMb } : {}) }),
  ]);
  return { stopped: await stopped, breakpoints };
}

async function top(): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
}

async function evaluate(expression: string, context = "repl"): Promise<string> {
  const frames = await top();
  return (await dc.evaluateRequest({ expression, context, frameId: (frames[0] as DebugProtocol.StackFrame).id })).body.result;
}

interface PositionBody {
  id: number;
  step: number;
  label: string;
  live: boolean;
  kept: string;
  reach: string;
  heldBytes: number;
}

async function position(): Promise<PositionBody> {
  return (await dc.customRequest("backpropLens/position")).body as PositionBody;
}

/** Steps back until `done` holds for the position (at most `limit` times). */
async function backUntil(done: (p: PositionBody) => boolean, limit = 200): Promise<PositionBody> {
  for (let i = 0; i < limit; i++) {
    await stepAnd("stepBack");
    const p = await position();
    if (done(p)) return p;
  }
  throw new Error("Step Back never got there");
}

/** The Step scope's variables at the top frame. */
async function stepScope(): Promise<DebugProtocol.Variable[]> {
  const frames = await top();
  const scopes = (await dc.scopesRequest({ frameId: (frames[0] as DebugProtocol.StackFrame).id })).body.scopes;
  const step = scopes.find((s) => s.name.startsWith("Step "));
  assert.ok(step, "a Step scope");
  return variables(step.variablesReference);
}

/** Sends a step request and waits for the stop it leads to. */
async function stepAnd(kind: "next" | "stepIn" | "stepOut" | "stepBack" | "reverseContinue" | "continue"): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent("stopped") as Promise<DebugProtocol.StoppedEvent>;
  const args = { threadId: 1 };
  if (kind === "next") await dc.nextRequest(args);
  else if (kind === "stepIn") await dc.stepInRequest(args);
  else if (kind === "stepOut") await dc.stepOutRequest(args);
  else if (kind === "stepBack") await dc.stepBackRequest(args);
  else if (kind === "reverseContinue") await dc.reverseContinueRequest(args);
  else await dc.continueRequest(args);
  return stopped;
}

async function variables(ref: number, filter?: "named" | "indexed", start?: number, count?: number): Promise<DebugProtocol.Variable[]> {
  return (await dc.variablesRequest({ variablesReference: ref, ...(filter ? { filter } : {}), ...(start !== undefined ? { start } : {}), ...(count !== undefined ? { count } : {}) })).body.variables;
}

function lineOf(file: string, text: string): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lines = (require("node:fs") as typeof import("node:fs")).readFileSync(file, "utf8").split("\n");
  const i = lines.findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `${text} in ${file}`);
  return i + 1;
}

describe("debug adapter (DebugClient)", function () {
  this.timeout(60_000);

  it("announces step back, conditions, hit counts, function breakpoints and the exception filters", async () => {
    const r = await dc.initializeRequest();
    assert.equal(r.body?.supportsStepBack, true);
    assert.equal(r.body?.supportsConditionalBreakpoints, true);
    assert.equal(r.body?.supportsHitConditionalBreakpoints, true);
    assert.equal(r.body?.supportsFunctionBreakpoints, true);
    assert.deepEqual(
      r.body?.exceptionBreakpointFilters?.map((f) => [f.filter, f.default]),
      [["nonFinite", true], ["gradCheck", true], ["exploding", true], ["deadRelu", false], ["lossUp", false], ["error", true]],
    );
  });

  it("runs a model to the end and terminates", async () => {
    await Promise.all([dc.configurationSequence(), dc.launch({ program: EXAMPLE_02 }), dc.waitForEvent("terminated")]);
  });

  it("stops on entry at the first position, on its line", async () => {
    const { stopped } = await start(EXAMPLE_02, { stopOnEntry: true });
    assert.equal(stopped.body.reason, "entry");
    const frames = await top();
    assert.equal(frames[0]?.name, "dense1.forward");
    assert.equal(frames[0]?.line, lineOf(EXAMPLE_02, "dense1.forward(inputs)"));
    assert.equal(frames[frames.length - 1]?.name, "training step 0 · can go back to step 0");
  });

  it("a line breakpoint stops at dense1.backward with the chapter's dinputs row 0.44 −0.38 −0.07 1.37", async () => {
    const line = lineOf(EXAMPLE_02, "dense1.backward(dvalues)");
    const { stopped, breakpoints } = await start(EXAMPLE_02, { lines: [{ path: EXAMPLE_02, breakpoints: [{ line }] }] });
    assert.equal(breakpoints[0]?.verified, true);
    assert.equal(stopped.body.reason, "breakpoint");
    assert.deepEqual(stopped.body.hitBreakpointIds, [breakpoints[0]?.id]);
    const frames = await top();
    assert.equal(frames[0]?.name, "dense1.backward");
    assert.equal(frames[0]?.line, line);
    assert.equal(frames[0]?.source?.path, EXAMPLE_02);
    const scopes = (await dc.scopesRequest({ frameId: (frames[0] as DebugProtocol.StackFrame).id })).body.scopes;
    assert.deepEqual(scopes.map((s) => s.name).slice(0, 2), ["Layer dense1 (Dense(4, 3)) · backward", "Step 0"]);
    const layer = await variables((scopes[0] as DebugProtocol.Scope).variablesReference);
    const dinputs = layer.find((v) => v.name === "dinputs") as DebugProtocol.Variable;
    assert.match(dinputs.value, /^\[3, 4\] ‖·‖ /);
    assert.equal(dinputs.indexedVariables, 3);
    const rows = await variables(dinputs.variablesReference, "indexed", 0, 3);
    assert.deepEqual(rows.map((r) => r.value), ["[0.44, -0.38, -0.07, 1.37]", "[0.88, -0.76, -0.14, 2.74]", "[1.32, -1.14, -0.21, 4.11]"]);
    const elements = await variables((rows[0] as DebugProtocol.Variable).variablesReference, "indexed");
    assert.deepEqual(elements.map((e) => [e.name, e.value]), [["[0]", "0.44"], ["[1]", "-0.38"], ["[2]", "-0.07"], ["[3]", "1.37"]]);
    const stats = await variables(dinputs.variablesReference, "named");
    assert.equal(stats.find((s) => s.name === "shape")?.value, "[3, 4]");
    const dbiases = layer.find((v) => v.name === "dbiases") as DebugProtocol.Variable;
    assert.deepEqual((await variables(dbiases.variablesReference, "indexed")).map((r) => r.value), ["[6, 6, 6]"]);
    // the forward call's tensors, under the backward
    const fwd = layer.find((v) => v.name === "forward call") as DebugProtocol.Variable;
    assert.ok((await variables(fwd.variablesReference)).some((v) => v.name === "weights" && v.value.startsWith("[4, 3]")));
    // evaluate: an element, a property, the layer
    assert.equal(await evaluate("dense1.dweights[1][0]"), "20.1");
    assert.equal(await evaluate("dinputs[0][3]"), "1.37");
    assert.equal(await evaluate("dbiases.sum"), "18");
    assert.match(await evaluate("dense1", "hover"), /^dense1 = Dense\(4, 3\)/);
    assert.match(await evaluate("dense1.forward", "hover"), /^dense1 = Dense\(4, 3\)/);
    await assert.rejects(evaluate("dense1.dweights >"), /expected a number or a name after '>' at the end/);
    await assert.rejects(evaluate("dens1.output"), /'dens1' is not known here \(did you mean 'dense1'\?\)/);
  });

  it("a condition stops in the step it names; a hit count on the n-th hit; a bad condition is an unverified breakpoint with its reason", async () => {
    const line = lineOf(TRAINING, "dense2.backward(");
    const { stopped, breakpoints } = await start(TRAINING, {
      lines: [
        {
          path: TRAINING,
          breakpoints: [{ line, condition: "step == 5 && dweights.norm > 0" }, { line: lineOf(TRAINING, "dense1.backward("), hitCondition: "3" }, { line: lineOf(TRAINING, "dense1.forward("), condition: "loss >" }],
        },
      ],
    });
    assert.equal(breakpoints[2]?.verified, false);
    assert.equal(breakpoints[2]?.message, "condition 'loss >': expected a number or a name after '>' at the end");
    assert.equal(stopped.body.reason, "breakpoint");
    // dense1.backward's third hit comes in step 2, before step 5
    assert.equal((await position()).step, 2);
    assert.equal((await top())[0]?.name, "dense1.backward");
    await stepAnd("continue");
    const p = await position();
    assert.equal(p.step, 5);
    assert.equal(p.label, "dense2.backward");
    assert.equal(await evaluate("step"), "5");
    await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent("terminated")]);
  });

  it("Step Over, Step Into (into an optimizer update per parameter), Step Out, Step Back across a training step, Reverse Continue", async () => {
    const { stopped } = await start(TRAINING, { lines: [{ path: TRAINING, breakpoints: [{ line: lineOf(TRAINING, "dense1.forward("), condition: "step == 3" }] }] });
    assert.equal(stopped.body.reason, "breakpoint");
    let p = await position();
    assert.deepEqual([p.step, p.label, p.live], [3, "dense1.forward", true]);
    // Step Back: into step 2 (no re-run: the previous step came with the stop)
    await stepAnd("stepBack");
    p = await position();
    assert.deepEqual([p.step, p.label, p.live], [2, "SGD update dense2", false]);
    await stepAnd("stepBack");
    assert.equal((await position()).label, "SGD update dense1");
    // Step Into from dense1.backward's position goes into the update of dense1's parameters
    await stepAnd("stepBack");
    assert.equal((await position()).label, "dense1.backward");
    await stepAnd("stepIn");
    p = await position();
    assert.equal(p.label, "update dense1.weights");
    const frames = await top();
    assert.deepEqual(frames.map((f) => f.name), ["update dense1.weights", "update dense1 (running)", "training step 2 (recorded) · can go back to step 0"]);
    assert.equal(frames[0]?.line, lineOf(TRAINING, "optimizer.step("));
    await stepAnd("next");
    assert.equal((await position()).label, "update dense1.biases");
    await stepAnd("stepOut");
    assert.equal((await position()).label, "SGD update dense1");
    // Step Over forward again, through what is known, to the live position
    await stepAnd("next");
    await stepAnd("next");
    p = await position();
    assert.deepEqual([p.step, p.label, p.live], [3, "dense1.forward", true]);
    // and on, live
    await stepAnd("next");
    p = await position();
    assert.deepEqual([p.step, p.label, p.live], [3, "activation1.forward", true]);
    // Step Out at depth 0: the first position of the next training step
    await stepAnd("stepOut");
    p = await position();
    assert.deepEqual([p.step, p.label], [4, "dense1.forward"]);
    // Reverse Continue: back to the previous breakpoint hit (step 3's dense1.forward)
    await stepAnd("reverseContinue");
    p = await position();
    assert.deepEqual([p.step, p.label], [3, "dense1.forward"]);
    assert.match(p.kept, /^steps 0–4$/);
  });

  it("a function breakpoint stops at dense2.backward", async () => {
    const { stopped } = await start(TRAINING, { functions: [{ name: "dense2.backward", condition: "step == 1" }] });
    assert.equal(stopped.body.reason, "function breakpoint");
    const p = await position();
    assert.deepEqual([p.step, p.label], [1, "dense2.backward"]);
  });

  it("a breakpoint inside a custom layer's backward is hit; nested calls have the enclosing call on the stack", async () => {
    const inLeaky = lineOf(CUSTOM, "this.dinputs = zip(dvalues");
    const inBlock = lineOf(CUSTOM, "const h = this.dense.forward(inputs)");
    const { stopped } = await start(CUSTOM, { lines: [{ path: CUSTOM, breakpoints: [{ line: inBlock }, { line: inLeaky }] }] });
    assert.equal(stopped.body.reason, "breakpoint");
    let frames = await top();
    assert.deepEqual(frames.map((f) => f.name), ["dense.forward", "block.forward (running)", "training step 0 · can go back to step 0"]);
    assert.equal(frames[0]?.line, inBlock);
    assert.equal(frames[1]?.line, lineOf(CUSTOM, "block.forward(X)"));
    await stepAnd("stepOut");
    assert.equal((await position()).label, "block.forward");
    await stepAnd("continue");
    frames = await top();
    assert.equal(frames[0]?.name, "leaky.backward");
    assert.equal(frames[0]?.line, lineOf(CUSTOM, "leaky.backward(dense2.dinputs)"));
    assert.match(await evaluate("dinputs.shape"), /\[60, 8\]/);
  });

  it("the NaN filter stops at the call where the first non-finite value appeared; stepping back shows what came in", async () => {
    const { stopped } = await start(DIVERGE, { filters: ["nonFinite"] });
    assert.equal(stopped.body.reason, "exception");
    assert.match(stopped.body.text ?? "", /first appeared in lossFunction\.backward: dinputs\[\d+\]\[\d+\], at step 2/);
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, "First NaN/Infinity");
    let p = await position();
    assert.deepEqual([p.step, p.label, p.live], [2, "lossFunction.backward", false]);
    assert.notEqual(await evaluate("dinputs.nonFinite"), "0");
    // what came in: the softmax output of that step, still finite but with zeros (so −y/ŷ is −Infinity)
    await stepAnd("stepBack");
    p = await position();
    assert.deepEqual([p.step, p.label], [2, "lossFunction.forward"]);
    assert.equal(await evaluate("inputs.nonFinite"), "0");
    assert.notEqual(await evaluate("inputs.zeros"), "0");
    await dc.disconnectRequest({});
  });

  it("the loss-went-up filter (off by default) stops where the loss jumped", async () => {
    const { stopped } = await start(DIVERGE, { filters: [], filterOptions: [{ filterId: "lossUp", condition: "1.5" }] });
    assert.equal(stopped.body.reason, "exception");
    assert.match(stopped.body.text ?? "", /the loss went up from 1\.084 to 5\.499 at step 1 \(more than 1\.5×\)/);
  });

  it("Stop while paused ends the model's worker; so does a restart (disconnect, then a new session)", async () => {
    const noWorkerLeft = async (): Promise<void> => {
      const end = Date.now() + 5000;
      while (liveModelWorkers() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.equal(liveModelWorkers(), 0, "no model worker is left running");
    };
    await start(TRAINING, { stopOnEntry: true });
    assert.equal(liveModelWorkers(), 1);
    await Promise.all([dc.terminateRequest({}), dc.waitForEvent("terminated")]);
    await noWorkerLeft();
    // Restart: VS Code disconnects the paused session and starts a new one
    await dc.stop();
    dc = new DebugClient("node", "unused", "backprop-lens");
    dc.defaultTimeout = 30_000;
    await dc.start(port);
    await start(TRAINING, { lines: [{ path: TRAINING, breakpoints: [{ line: lineOf(TRAINING, "dense2.backward("), condition: "step == 10" }] }] });
    assert.equal((await position()).step, 10);
    await dc.disconnectRequest({ restart: true });
    await noWorkerLeft();
  });
});

describe("debug adapter: breakpoints on lines that hold no position", function () {
  this.timeout(60_000);
  it("a breakpoint on a blank line is unverified at once; one on a code line that makes no call becomes unverified after step 0, with the reason", async () => {
    const blank = lineOf(TRAINING, "for (let step") - 1; // the empty line before the loop
    const noCall = lineOf(TRAINING, "const [X, y] = spiralData");
    const changed: DebugProtocol.BreakpointEvent[] = [];
    dc.on("breakpoint", (e: DebugProtocol.BreakpointEvent) => changed.push(e));
    const { breakpoints } = await start(TRAINING, {
      lines: [{ path: TRAINING, breakpoints: [{ line: blank }, { line: noCall }, { line: lineOf(TRAINING, "dense1.forward("), condition: "step == 2" }] }],
    });
    assert.equal(breakpoints[0]?.verified, false);
    assert.match(breakpoints[0]?.message ?? "", /^line \d+ has no code the debugger can stop at/);
    assert.equal(breakpoints[1]?.verified, true);
    assert.equal((await position()).step, 2);
    const ev = changed.find((e) => e.body.breakpoint.id === breakpoints[1]?.id);
    assert.equal(ev?.body.breakpoint.verified, false);
    assert.match(ev?.body.breakpoint.message ?? "", /nothing on line \d+ made a layer call, an optimizer update or a scalar operation in step 0/);
  });
});

describe("debug adapter: errors, gradient checks, big tensors, scalars, the time limit", function () {
  this.timeout(60_000);
  const fixture = (name: string): string => path.join(repo, "test", "fixtures", "models", name);

  it("the Errors filter stops at the call that threw (a shape mismatch), with what came in", async () => {
    const file = fixture("shape-mismatch.ts");
    const { stopped } = await start(file);
    assert.equal(stopped.body.reason, "exception");
    assert.match(stopped.body.text ?? "", /dense2\.forward failed: Dense\.forward: inputs are \[300, 64\] but the weights are \[3, 3\]/);
    const frames = await top();
    assert.equal(frames[0]?.name, "dense2.forward (threw)");
    assert.equal(frames[0]?.line, lineOf(file, "dense2.forward(activation1.output)"));
    assert.equal(await evaluate("inputs.shape"), "[300, 64]");
    assert.equal((await dc.exceptionInfoRequest({ threadId: 1 })).body.exceptionId, "Errors");
    await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent("terminated")]);
  });

  it("the failed-gradient-check filter stops at the broken layer's backward when the model has finished", async () => {
    const file = fixture("wrong-backward.ts");
    const { stopped } = await start(file);
    assert.equal(stopped.body.reason, "exception");
    assert.match(stopped.body.text ?? "", /gradient check failed: sigmoid\.dinputs/);
    assert.equal((await position()).label, "sigmoid.backward");
  });

  it("a 784-wide layer's inputs are paged: indexedVariables 128, rows 100–127 on request", async () => {
    const file = fixture("w2.ts");
    await start(file, { lines: [{ path: file, breakpoints: [{ line: lineOf(file, "dense1.forward(X)") }] }] });
    const frames = await top();
    const scopes = (await dc.scopesRequest({ frameId: (frames[0] as DebugProtocol.StackFrame).id })).body.scopes;
    const inputs = (await variables((scopes[0] as DebugProtocol.Scope).variablesReference)).find((v) => v.name === "inputs") as DebugProtocol.Variable;
    assert.match(inputs.value, /^\[128, 784\] ‖·‖ /);
    assert.equal(inputs.indexedVariables, 128);
    const rows = await variables(inputs.variablesReference, "indexed", 100, 28);
    assert.deepEqual([rows.length, rows[0]?.name, rows[27]?.name], [28, "[100]", "[127]"]);
    assert.match(rows[0]?.value ?? "", /^\[784\] ‖·‖ /);
    assert.equal((await variables((rows[0] as DebugProtocol.Variable).variablesReference, "indexed", 780, 4)).length, 4);
  });

  it("the single neuron: positions are scalar operations and backward(); the Value scope has the chain rule", async () => {
    const file = path.join(repo, "examples", "01-single-neuron.ts");
    const { stopped } = await start(file, { functions: [{ name: "backward" }] });
    assert.equal(stopped.body.reason, "function breakpoint");
    assert.equal((await position()).label, "backward()");
    const frames = await top();
    const scopes = (await dc.scopesRequest({ frameId: (frames[0] as DebugProtocol.StackFrame).id })).body.scopes;
    assert.equal(scopes[0]?.name, "Value");
    const vars = await variables((scopes[0] as DebugProtocol.Scope).variablesReference);
    assert.equal(vars.find((v) => v.name === "w0.grad")?.value, "1");
    assert.equal(vars.find((v) => v.name === "x0.grad")?.value, "-3");
    assert.equal(vars.find((v) => v.name === "drelu_dz")?.value, "dvalue · ∂relu/∂z = 1 · 1 = 1");
    assert.equal(await evaluate("w1.grad"), "-2");
    await stepAnd("stepBack");
    assert.match((await position()).label, /^relu y = 6$/);
  });

  it("time paused does not count towards the time limit", async () => {
    await start(TRAINING, { stopOnEntry: true, keepSteps: 1, timeLimitSeconds: 3 });
    // a 3 s limit, and 4 s paused on entry (the model itself needs well under a second)
    await new Promise((r) => setTimeout(r, 4000));
    const output: string[] = [];
    dc.on("output", (e: DebugProtocol.OutputEvent) => output.push(e.body.output));
    await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent("terminated")]);
    assert.ok(output.some((o) => /The model finished: 20 steps/.test(o)), output.join(""));
  });
});

describe("debug adapter: pause", function () {
  this.timeout(60_000);
  it("Pause stops a running model at its next position; Continue runs it on", async () => {
    const file = path.join(repo, "examples", "05-spiral-training.ts");
    await Promise.all([dc.configurationSequence(), dc.launch({ program: file, keepSteps: 1 })]);
    await new Promise((r) => setTimeout(r, 500));
    const stopped = dc.waitForEvent("stopped") as Promise<DebugProtocol.StoppedEvent>;
    await dc.pauseRequest({ threadId: 1 });
    assert.equal((await stopped).body.reason, "pause");
    const p = await position();
    assert.ok(p.step > 0, `paused in step ${p.step}`);
    assert.equal(p.live, true);
    await Promise.all([dc.terminateRequest({}), dc.waitForEvent("terminated")]);
  });
});

/** A plain run of `file` (the same deterministic model), to compare the debugger's tensors with. */
async function plainRun(file: string, o: { keepSteps: number; recordSteps?: number[] }): Promise<RunModel> {
  const store = new RunModel({ runId: 1, file, startedAt: 0 });
  await runModel({ file, workerScript: path.join(repo, "dist", "worker.js"), keepSteps: o.keepSteps, ...(o.recordSteps ? { recordSteps: o.recordSteps } : {}), onEvent: (e) => void store.ingest(e) }).result;
  return store;
}

describe("debug adapter: Step Back reaches every step the run kept", function () {
  this.timeout(120_000);

  it("goes back into the first anomaly's step and the one before (the loss jumps at step 12) and into a step asked for (recordSteps [5]), with their tensors", async () => {
    const plain = await plainRun(LATE, { keepSteps: 1, recordSteps: [5] });
    const dense1 = [...plain.layers.values()].find((l) => l.name === "dense1");
    assert.ok(dense1);
    const { stopped } = await start(LATE, { keepSteps: 1, recordSteps: [5], functions: [{ name: "dense2.backward", condition: "step == 20" }] });
    assert.equal(stopped.body.reason, "function breakpoint");
    let p = await position();
    assert.deepEqual([p.step, p.label, p.live], [20, "dense2.backward", true]);
    // step 0 (keepSteps 1), 5 (asked for), 11–12 (the loss jump and the step before), 19–20 (the stop's window)
    assert.equal(p.kept, "steps 0, 5, 11–12 and 19–20");
    assert.equal(p.reach, "can go back to dense1.forward of step 0; holds steps 0, 5, 11–12 and 19–20");
    assert.equal((await top()).at(-1)?.name, "training step 20 · can go back to step 0");
    const scope = await stepScope();
    assert.equal(scope.find((v) => v.name === "back to")?.value, p.reach);

    // Back out of the stop's window: the last position of step 12, kept because the loss jumped there.
    p = await backUntil((q) => q.step < 19);
    assert.deepEqual([p.step, p.label, p.live], [12, "SGD update dense2", false]);
    assert.equal((await top()).at(-1)?.name, "training step 12 (recorded) · can go back to step 0");
    p = await backUntil((q) => q.label === "dense1.backward");
    assert.equal(p.step, 12);
    assert.equal((await top())[0]?.line, lineOf(LATE, "dense1.backward(activation1.dinputs)"));
    const back12 = plain.callsIn(dense1.id, 12).find((c) => c.phase === "backward");
    assert.ok(back12);
    const dw = plain.tensor(back12.seq, "dweights");
    assert.ok(dw);
    assert.equal(await evaluate("dweights[1][3]"), formatValue(dw.data[1 * 16 + 3] as number));
    assert.equal(await evaluate("dweights.norm"), formatValue(Math.hypot(...dw.data)));
    const loss12 = plain.summaries.find((s) => s.step === 12)?.loss;
    assert.ok(loss12 !== undefined && loss12 > 2 * (plain.summaries.find((s) => s.step === 11)?.loss ?? Infinity), "the loss jumped at step 12");
    assert.equal((await stepScope()).find((v) => v.name === "loss")?.value, shortNumber(loss12));

    // The step before the jump, then the recorded step 5.
    p = await backUntil((q) => q.step < 12);
    assert.deepEqual([p.step, p.label], [11, "SGD update dense2"]);
    p = await backUntil((q) => q.step < 11);
    assert.deepEqual([p.step, p.label], [5, "SGD update dense2"]);
    p = await backUntil((q) => q.label === "dense1.forward" && q.step === 5);
    // step 5's second dense1.forward: the training one (line 18); the one before it is the validation forward (line 27)
    assert.equal((await top())[0]?.line, lineOf(LATE, "dense1.forward(X)"));
    assert.equal(await evaluate("inputs.shape"), "[60, 2]");
    const fwd5 = plain.callsIn(dense1.id, 5).filter((c) => c.phase === "forward");
    const out5 = plain.tensor((fwd5[1] as { seq: number }).seq, "output");
    assert.ok(out5);
    assert.equal(await evaluate("output[59][15]"), formatValue(out5.data[59 * 16 + 15] as number));

    // Reverse Continue: no earlier breakpoint hit, so the first position held (step 0).
    await stepAnd("reverseContinue");
    p = await position();
    assert.deepEqual([p.step, p.label], [0, "dense1.forward"]);
    await Promise.all([dc.terminateRequest({}), dc.waitForEvent("terminated")]);
  });
});

describe("debug adapter: a layer called from two lines", function () {
  this.timeout(120_000);

  it("positions, line breakpoints and the call stack have the line of each call (training on one line, validation on another)", async () => {
    const train = lineOf(LATE, "dense1.forward(X)");
    const val = lineOf(LATE, "dense1.forward(Xval)");
    // step 9 is not recorded (keepSteps 1): the sites are the ones the recorder captures for a layer called from two places
    const { stopped, breakpoints } = await start(LATE, { keepSteps: 1, lines: [{ path: LATE, breakpoints: [{ line: val, condition: "step == 9" }, { line: train, condition: "step == 9" }] }] });
    assert.ok(breakpoints.every((b) => b.verified));
    assert.equal(stopped.body.reason, "breakpoint");
    let p = await position();
    assert.deepEqual([p.step, p.label], [9, "dense1.forward"]);
    let frames = await top();
    assert.equal(frames[0]?.line, val);
    assert.equal(await evaluate("inputs.shape"), "[15, 2]");
    assert.deepEqual(stopped.body.hitBreakpointIds, [breakpoints[0]?.id]);
    const second = await stepAnd("continue");
    p = await position();
    assert.deepEqual([p.step, p.label], [9, "dense1.forward"]);
    frames = await top();
    assert.equal(frames[0]?.line, train);
    assert.equal(await evaluate("inputs.shape"), "[60, 2]");
    assert.deepEqual(second.body.hitBreakpointIds, [breakpoints[1]?.id]);
    // Stepping back over what is known keeps each position's own line.
    await stepAnd("stepBack");
    assert.equal((await top())[0]?.line, val);
    await Promise.all([dc.terminateRequest({}), dc.waitForEvent("terminated")]);
  });

  it("a plain run records each call's own line on every step it keeps (anomaly steps, recorded steps, the last)", async () => {
    const plain = await plainRun(LATE, { keepSteps: 1, recordSteps: [5] });
    const dense1 = [...plain.layers.values()].find((l) => l.name === "dense1");
    assert.ok(dense1);
    const lines = (step: number): (number | undefined)[] => plain.callsIn(dense1.id, step).filter((c) => c.phase === "forward").map((c) => c.site?.line);
    const train = lineOf(LATE, "dense1.forward(X)");
    const val = lineOf(LATE, "dense1.forward(Xval)");
    assert.deepEqual(lines(0), [train]);
    for (const step of [5, 11, 12]) assert.deepEqual(lines(step), [val, train], `step ${step}`);
    assert.deepEqual(lines(30), [val]);
  });
});

describe("debug adapter: the stop windows' memory (a 784-wide layer)", function () {
  this.timeout(300_000);

  it("holds at most TRACE_BUDGET.stopWindowBytes of tensors on the host, drops the oldest positions first and says how far back one can go", async () => {
    const { stopped } = await start(WIDE, { keepSteps: 1, functions: [{ name: "dense1.backward", condition: "step == 2" }], memoryLimitMb: 2048 });
    assert.equal(stopped.body.reason, "function breakpoint");
    const rt = (sessions[sessions.length - 1] as BackpropDebugSession).debugRuntime;
    let p = await position();
    assert.deepEqual([p.step, p.label], [2, "dense1.backward"]);
    const limit = TRACE_BUDGET.stopWindowBytes;
    // Steps 1 and 2 up to here hold about 150 MB of tensors: the window keeps the newest that fit.
    assert.ok(p.heldBytes <= limit, `${(p.heldBytes / 2 ** 20).toFixed(1)} MB held`);
    assert.ok(p.heldBytes > limit / 2, `${(p.heldBytes / 2 ** 20).toFixed(1)} MB held: the window is used`);
    assert.match(p.reach, /^can go back to dense1\.forward of step 0; holds steps 0–2 \(step 1 only from \S+ on: \d+ older positions? (was|were) dropped to keep the stop windows within 128 MB\)$/);
    // Step Back walks the window, then jumps to the recorded step 0 (its tensors are in the trace).
    const windowStart = /step 1 only from (\S+) on/.exec(p.reach)?.[1];
    p = await backUntil((q) => q.step === 0);
    assert.deepEqual([p.step, p.label], [0, "SGD update dense2"]);
    await stepAnd("reverseContinue");
    p = await position();
    assert.deepEqual([p.step, p.label], [0, "dense1.forward"]);
    assert.equal(await evaluate("inputs.shape"), "[1024, 784]");
    // Forward again to the oldest position of step 1 the window holds, and on, live, through step 3.
    p = await (async () => {
      for (let i = 0; i < 40; i++) {
        await stepAnd("next");
        const q = await position();
        if (q.step === 1) return q;
      }
      throw new Error("never reached step 1");
    })();
    assert.equal(p.label, windowStart);
    for (let i = 0; i < 30; i++) {
      await stepAnd("next");
      p = await position();
      if (p.step === 4) break;
    }
    assert.equal(p.step, 4);
    assert.ok(rt.peakHeldBytes <= limit, `peak ${(rt.peakHeldBytes / 2 ** 20).toFixed(1)} MB`);
    console.log(`      stop windows: ${(p.heldBytes / 2 ** 20).toFixed(1)} MB held now, ${(rt.peakHeldBytes / 2 ** 20).toFixed(1)} MB at most (bound ${limit / 2 ** 20} MB)`);
    await Promise.all([dc.terminateRequest({}), dc.waitForEvent("terminated")]);
  });
});

describe("debug adapter: Show Chain Rule on an element of a gradient", function () {
  this.timeout(60_000);

  it("elements of gradients carry the Variables menu context; backpropLens/element names the layer, call, step and index", async () => {
    await start(TRAINING, { functions: [{ name: "dense1.backward", condition: "step == 4" }] });
    const frames = await top();
    const scopes = (await dc.scopesRequest({ frameId: (frames[0] as DebugProtocol.StackFrame).id })).body.scopes;
    const layer = await variables((scopes[0] as DebugProtocol.Scope).variablesReference);
    const dweights = layer.find((v) => v.name === "dweights") ?? assert.fail("dweights");
    const row1 = (await variables(dweights.variablesReference, "indexed", 1, 1))[0] ?? assert.fail("row 1");
    const el = (await variables(row1.variablesReference, "indexed", 3, 1))[0] as DebugProtocol.Variable & { __vscodeVariableMenuContext?: string };
    assert.equal(el.evaluateName, "dweights[1][3]");
    assert.equal(el.__vscodeVariableMenuContext, "bplGradientElement");
    // Not on a forward tensor's element (the chain rule explains gradients)
    const fwd = layer.find((v) => v.name === "forward call") ?? assert.fail("forward call");
    const inputs = (await variables(fwd.variablesReference)).find((v) => v.name === "inputs") ?? assert.fail("inputs");
    const inRow = (await variables(inputs.variablesReference, "indexed", 0, 1))[0] ?? assert.fail();
    const inEl = (await variables(inRow.variablesReference, "indexed", 0, 1))[0] as DebugProtocol.Variable & { __vscodeVariableMenuContext?: string };
    assert.equal(inEl.__vscodeVariableMenuContext, undefined);
    const p = await position();
    const e = (await dc.customRequest("backpropLens/element", { expression: "dweights[1][3]" })).body as { layer: number; seq: number; step: number; tensor: string; index: number[]; label: string };
    assert.deepEqual([e.step, e.tensor, e.index, e.label, e.seq], [4, "dweights", [1, 3], "dense1.backward", (p as unknown as { seq: number }).seq]);
    // Through a layer's name and a negative index: the same element
    const e2 = (await dc.customRequest("backpropLens/element", { expression: "dense1.dweights[1][-13]" })).body as typeof e;
    assert.deepEqual([e2.seq, e2.index], [e.seq, [1, 3]]);
    await assert.rejects(dc.customRequest("backpropLens/element", { expression: "dense1.output[0][0]" }), /the chain rule explains gradients/);
    await Promise.all([dc.terminateRequest({}), dc.waitForEvent("terminated")]);
  });
});
