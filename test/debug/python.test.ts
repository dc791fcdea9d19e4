/**
 * Debug Backward Pass on a `.py` model, through the same adapter as a TypeScript model, driven by
 * `DebugClient`: a breakpoint on a line inside the book's `Layer_Dense.backward`, a condition, Step Over
 * and Step Back (across a training step), Variables with `dweights` equal to what plain NumPy computes,
 * the first-NaN filter, the time limit not counting paused time, and Stop while paused. The model runs
 * for real under the Python tracer with the interpreter of contract 5 (test/helpers/python.ts).
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { DebugClient } from "@vscode/debugadapter-testsupport";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { shortNumber } from "../../core/debug/index";
import { nodeLauncher } from "../../extension/debug/nodeLauncher";
import { BackpropDebugSession } from "../../extension/debug/session";
import { testPython } from "../helpers/python";

const repo = path.resolve(__dirname, "..", "..", "..");
const TRAINING = path.join(repo, "test", "fixtures", "python", "debug_training.py");
const DIVERGE = path.join(repo, "test", "fixtures", "python", "debug_diverge.py");
const TORCH_OPTIM = path.join(repo, "test", "fixtures", "python", "debug_torch_optim.py");
const NEURON = path.join(repo, "examples", "python", "01_single_neuron.py");

function lineOf(file: string, text: string): number {
  const i = fs.readFileSync(file, "utf8").split("\n").findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `${text} in ${file}`);
  return i + 1;
}

/**
 * What plain NumPy computes for the training fixture's first step (no tracer): the fixture's own code
 * with its loop cut to one step and the updates left out, printing the layers' gradients as JSON.
 */
function numpyFirstStep(python: string): { dense1: number[][]; dense2: number[][] } {
  const src = fs.readFileSync(TRAINING, "utf8").replace("for epoch in range(20):", "for epoch in range(1):").replace(/\n {4}optimizer\.update_params\(dense[12]\)/g, "");
  const code = `${src}\nimport json\nprint(json.dumps({"dense1": dense1.dweights.tolist(), "dense2": dense2.dweights.tolist()}))\n`;
  const r = spawnSync(python, ["-c", code], { encoding: "utf8", cwd: path.dirname(TRAINING), timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop() as string) as { dense1: number[][]; dense2: number[][] };
}

describe("debug adapter on a Python model (DebugClient)", function () {
  this.timeout(90_000);
  const python = testPython();
  let server: net.Server;
  let port = 0;
  let dc: DebugClient;

  before(async function () {
    if (!python) throw new Error("no Python found (BPL_PYTHON, /usr/bin/python3, python3, python): these tests need Python 3.8+ with NumPy");
    if (!python.numpy) throw new Error(`NumPy is not installed for ${python.path}: these tests need it (Debian: python3-numpy; or ${python.path} -m pip install numpy)`);
    const launcher = nodeLauncher({ workerScript: path.join(repo, "dist", "worker.js"), gradCheck: true, python: { interpreters: [python.path] } });
    server = net.createServer((socket) => {
      const s = new BackpropDebugSession(launcher);
      s.setRunAsServer(true);
      s.start(socket, socket);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => server?.close());
  beforeEach(async () => {
    dc = new DebugClient("node", "unused", "backprop-lens");
    dc.defaultTimeout = 30_000;
    await dc.start(port);
  });
  afterEach(async () => {
    await dc.stop();
  });

  async function start(
    program: string,
    o: { lines?: DebugProtocol.SourceBreakpoint[]; filters?: string[]; stopOnEntry?: boolean; timeLimitSeconds?: number } = {},
  ): Promise<{ stopped: DebugProtocol.StoppedEvent; breakpoints: DebugProtocol.Breakpoint[] }> {
    const breakpoints: DebugProtocol.Breakpoint[] = [];
    const stopped = dc.waitForEvent("stopped") as Promise<DebugProtocol.StoppedEvent>;
    await Promise.all([
      dc.waitForEvent("initialized").then(async () => {
        if (o.lines) breakpoints.push(...(await dc.setBreakpointsRequest({ source: { path: program }, breakpoints: o.lines })).body.breakpoints);
        await dc.setExceptionBreakpointsRequest({ filters: o.filters ?? ["nonFinite", "gradCheck", "exploding", "error"] });
        await dc.configurationDoneRequest();
      }),
      dc.launch({ program, keepSteps: 3, ...(o.stopOnEntry ? { stopOnEntry: true } : {}), ...(o.timeLimitSeconds ? { timeLimitSeconds: o.timeLimitSeconds } : {}) }),
    ]);
    return { stopped: await stopped, breakpoints };
  }

  const top = async (): Promise<DebugProtocol.StackFrame[]> => (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
  const position = async (): Promise<{ step: number; label: string; live: boolean; kept: string }> =>
    (await dc.customRequest("backpropLens/position")).body as { step: number; label: string; live: boolean; kept: string };
  const variables = async (ref: number, filter?: "named" | "indexed"): Promise<DebugProtocol.Variable[]> =>
    (await dc.variablesRequest({ variablesReference: ref, ...(filter ? { filter } : {}) })).body.variables;
  const evaluate = async (expression: string): Promise<string> =>
    (await dc.evaluateRequest({ expression, context: "repl", frameId: ((await top())[0] as DebugProtocol.StackFrame).id })).body.result;
  async function stepAnd(kind: "next" | "stepBack" | "continue"): Promise<DebugProtocol.StoppedEvent> {
    const stopped = dc.waitForEvent("stopped") as Promise<DebugProtocol.StoppedEvent>;
    if (kind === "next") await dc.nextRequest({ threadId: 1 });
    else if (kind === "stepBack") await dc.stepBackRequest({ threadId: 1 });
    else await dc.continueRequest({ threadId: 1 });
    return stopped;
  }
  async function layerScope(): Promise<DebugProtocol.Variable[]> {
    const frame = (await top())[0] as DebugProtocol.StackFrame;
    const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
    const layer = scopes.find((s) => s.name.startsWith("Layer "));
    assert.ok(layer, `a Layer scope in ${scopes.map((s) => s.name).join(", ")}`);
    return variables(layer.variablesReference);
  }
  /** A tensor variable's elements as the Variables view shows them (row by row). */
  async function rows(v: DebugProtocol.Variable): Promise<string[][]> {
    const out: string[][] = [];
    for (const row of await variables(v.variablesReference, "indexed")) {
      out.push((await variables(row.variablesReference, "indexed")).map((e) => e.value));
    }
    return out;
  }

  it("a breakpoint on a line inside Layer_Dense.backward stops at dense2.backward with the dweights NumPy computes", async () => {
    const expected = numpyFirstStep((python as NonNullable<typeof python>).path);
    const line = lineOf(TRAINING, "self.dweights = np.dot(self.inputs.T, dvalues)");
    const { stopped, breakpoints } = await start(TRAINING, { lines: [{ line }] });
    assert.equal(breakpoints[0]?.verified, true);
    assert.equal(stopped.body.reason, "breakpoint");
    const frames = await top();
    assert.equal(frames[0]?.name, "dense2.backward");
    assert.equal(frames[0]?.line, lineOf(TRAINING, "dense2.backward(loss_activation.dinputs)"));
    assert.equal(frames[0]?.source?.path, TRAINING);
    assert.equal(frames[frames.length - 1]?.name, "training step 0 · can go back to step 0");
    const vars = await layerScope();
    const dweights = vars.find((v) => v.name === "dweights");
    assert.ok(dweights, vars.map((v) => v.name).join(", "));
    assert.match(dweights.value, /^\[16, 3\] ‖·‖ /);
    // every element as the view writes NumPy's number, and a few compared in full (the same float64 bits)
    assert.deepEqual(await rows(dweights), expected.dense2.map((r) => r.map(shortNumber)));
    for (const [i, j] of [[0, 0], [3, 1], [15, 2]] as const) assert.equal(await evaluate(`dweights[${i}][${j}] == ${String(expected.dense2[i]?.[j])}`), "true", `dweights[${i}][${j}]`);
    assert.equal(await evaluate("dweights.shape"), "[16, 3]");
    // Continue: the same line stops at dense1.backward, whose dweights are NumPy's too
    await stepAnd("continue");
    assert.equal((await top())[0]?.name, "dense1.backward");
    const d1 = (await layerScope()).find((v) => v.name === "dweights") as DebugProtocol.Variable;
    assert.deepEqual(await rows(d1), expected.dense1.map((r) => r.map(shortNumber)));
    assert.equal(await evaluate(`dweights[1][7] == ${String(expected.dense1[1]?.[7])}`), "true");
  });

  it("a condition on step, Step Over to the update, Step Back through the held positions and across a training step", async () => {
    const line = lineOf(TRAINING, "dense1.backward(activation1.dinputs)");
    const { stopped } = await start(TRAINING, { lines: [{ line, condition: "step == 3" }] });
    assert.equal(stopped.body.reason, "breakpoint");
    assert.deepEqual(await position(), { ...(await position()), step: 3, label: "dense1.backward", live: true });
    assert.equal(await evaluate("step"), "3");
    assert.equal(await evaluate("dweights.norm > 0"), "true");
    assert.equal(await evaluate("dinputs.shape"), "[60, 2]");
    await stepAnd("next");
    assert.equal((await position()).label, "SGD update dense1");
    assert.equal((await top())[0]?.line, lineOf(TRAINING, "optimizer.update_params(dense1)"));
    await stepAnd("stepBack");
    assert.equal((await position()).label, "dense1.backward");
    await stepAnd("stepBack");
    const back = await position();
    assert.deepEqual([back.label, back.live], ["activation1.backward", false]);
    // back to the first position of step 3, then once more: the previous step's last update
    for (let i = 0; i < 6; i++) await stepAnd("stepBack");
    assert.deepEqual([(await position()).label, (await position()).step], ["dense1.forward", 3]);
    await stepAnd("stepBack");
    assert.deepEqual([(await position()).label, (await position()).step], ["SGD update dense2", 2]);
    assert.equal((await top()).at(-1)?.name, "training step 2 (recorded) · can go back to step 0");
    // forward again through what is held: Continue stops at the breakpoint's held hit, then runs on live to the end
    await stepAnd("next");
    assert.deepEqual([(await position()).label, (await position()).step], ["dense1.forward", 3]);
    assert.equal((await stepAnd("continue")).body.reason, "breakpoint");
    assert.deepEqual(await position(), { ...(await position()), label: "dense1.backward", step: 3, live: false });
    const terminated = dc.waitForEvent("terminated");
    await dc.continueRequest({ threadId: 1 });
    await terminated;
  });

  it("the exploding-gradient filter, then the first-NaN filter stops at the call whose tensor first held a NaN or Infinity", async () => {
    const first = await start(DIVERGE);
    assert.equal(first.stopped.body.reason, "exception");
    assert.match(first.stopped.body.text ?? "", /^exploding gradient: ‖loss_function\.dinputs‖ = .* at step 1/);
    assert.equal((await top())[0]?.name, "loss_function.backward");
    assert.equal((await dc.exceptionInfoRequest({ threadId: 1 })).body.exceptionId, "Exploding gradient");
    const stopped = await stepAnd("continue");
    assert.equal(stopped.body.reason, "exception");
    assert.match(stopped.body.text ?? "", /first appeared in softmax\.forward: output\[\d+\]\[\d+\], at step 2 \(debug_diverge\.py:\d+\)/);
    const frames = await top();
    assert.equal(frames[0]?.name, "softmax.forward");
    assert.equal(frames[0]?.line, lineOf(DIVERGE, "softmax.forward(dense2.output)"));
    assert.equal((await position()).live, false, "the model is paused at the non-finite loss, after the call shown");
    assert.notEqual(await evaluate("output.nonFinite"), "0");
    assert.equal(await evaluate("inputs.nonFinite"), "0");
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, "First NaN/Infinity");
  });

  it("a breakpoint on optimizer.step() of a PyTorch model stops at update fc1.weights; Step Over, Out and Into walk the update; Variables hold p − lr·buf", async function () {
    if (!python?.torch) throw new Error(`PyTorch is not installed for ${python?.path ?? "python"}: this test needs it (Debian: python3-torch)`);
    const line = lineOf(TORCH_OPTIM, "    optimizer.step()");
    const { stopped, breakpoints } = await start(TORCH_OPTIM, { lines: [{ line, condition: "step == 1" }] });
    assert.equal(breakpoints[0]?.verified, true);
    assert.equal(stopped.body.reason, "breakpoint");
    const frames = await top();
    assert.deepEqual(
      frames.map((f) => [f.name, f.line]),
      [
        ["update fc1.weights", line],
        ["update fc1 (running)", line],
        ["training step 1 · can go back to step 0", frames.at(-1)?.line],
      ],
    );
    const scopes = (await dc.scopesRequest({ frameId: (frames[0] as DebugProtocol.StackFrame).id })).body.scopes;
    const vars = await variables((scopes[0] as DebugProtocol.Scope).variablesReference);
    assert.deepEqual(vars.filter((v) => v.type?.startsWith("tensor")).map((v) => [v.name, v.type]), [
      ["weights", "tensor [3, 4]"],
      ["weights.before", "tensor [3, 4]"],
      ["dweights", "tensor [3, 4]"],
      ["weights.momentum", "tensor [3, 4]"],
    ]);
    assert.ok(scopes.some((s) => s.name === "Optimizer"), scopes.map((s) => s.name).join(", "));
    // SGD with momentum: buf = 0.9·buf + dw, weights = before − 0.1·buf, element by element in the view's numbers
    const el = async (v: DebugProtocol.Variable | undefined, i: number, j: number): Promise<number> => Number(((await rows(v as DebugProtocol.Variable))[i] as string[])[j]);
    const byName = (n: string): DebugProtocol.Variable | undefined => vars.find((v) => v.name === n);
    for (const [i, j] of [[0, 0], [2, 3], [1, 2]] as const) {
      const after = await el(byName("weights"), i, j);
      const before = await el(byName("weights.before"), i, j);
      const buf = await el(byName("weights.momentum"), i, j);
      assert.ok(Math.abs(after - (before - 0.1 * buf)) <= 1e-4 * Math.max(1, Math.abs(after)), `weights[${i}][${j}] = ${after}, before ${before}, buf ${buf}`);
    }
    // the weights before are what fc1's forward of this step used; after is what the expression language reads
    assert.equal(await evaluate("fc1.weights.shape"), "[3, 4]");
    assert.equal(await evaluate("fc1.weights[2][1]"), ((await rows(byName("weights.before") as DebugProtocol.Variable))[2] as string[])[1]);
    assert.equal(await evaluate("fc1.weights[2][1] != weights[2][1]"), "true");
    assert.equal(await evaluate("learningRate"), "0.1");
    await stepAnd("next");
    assert.equal((await position()).label, "update fc1.biases");
    const out = dc.waitForEvent("stopped");
    await dc.stepOutRequest({ threadId: 1 });
    await out;
    assert.equal((await position()).label, "SGD update fc1");
    assert.equal((await top())[0]?.line, line);
    const opt = (await dc.scopesRequest({ frameId: ((await top())[0] as DebugProtocol.StackFrame).id })).body.scopes.find((s) => s.name === "Optimizer") as DebugProtocol.Scope;
    const optVars = await variables(opt.variablesReference);
    assert.deepEqual(
      optVars.filter((v) => !v.type?.startsWith("tensor")).map((v) => [v.name, v.value]),
      [
        ["optimizer", "SGD"],
        ["learningRate", "0.1"],
        ["iterations", "1"],
        ["last update", "SGD update fc1 (step 1)"],
      ],
    );
    assert.deepEqual(optVars.filter((v) => v.type?.startsWith("tensor")).map((v) => v.name).sort(), ["biases", "biases.before", "biases.momentum", "dbiases", "dweights", "weights", "weights.before", "weights.momentum"]);
    // without the breakpoint (it holds every parameter's position of the step), Step Over skips fc2's parameters
    await dc.setBreakpointsRequest({ source: { path: TORCH_OPTIM }, breakpoints: [] });
    await stepAnd("next");
    assert.equal((await position()).label, "SGD update fc2");
    const into = dc.waitForEvent("stopped");
    await dc.stepInRequest({ threadId: 1 });
    await into;
    assert.deepEqual([(await position()).label, (await position()).step], ["fc1.forward", 2]);
    await stepAnd("stepBack");
    assert.deepEqual([(await position()).label, (await position()).step], ["SGD update fc2", 1]);
    await stepAnd("stepBack");
    assert.equal((await position()).label, "SGD update fc1");
    const terminated = dc.waitForEvent("terminated");
    await dc.terminateRequest({});
    await terminated;
  });

  it("the plain-float single neuron stops at each scalar operation at its line: relu y with ∂y/∂z, then each chain-rule product with the gradients so far", async () => {
    const line = lineOf(NEURON, "y = max(z, 0)");
    const { stopped, breakpoints } = await start(NEURON, { lines: [{ line }, { line: lineOf(NEURON, "drelu_dw1 = ") }] });
    assert.deepEqual(breakpoints.map((b) => b.verified), [true, true]);
    assert.equal(stopped.body.reason, "breakpoint");
    let frames = await top();
    assert.deepEqual([frames[0]?.name, frames[0]?.line, frames[0]?.source?.path], ["relu y = 6", line, NEURON]);
    const value = async (): Promise<DebugProtocol.Variable[]> => {
      const scopes = (await dc.scopesRequest({ frameId: ((await top())[0] as DebugProtocol.StackFrame).id })).body.scopes;
      const v = scopes.find((x) => x.name === "Value");
      assert.ok(v, scopes.map((x) => x.name).join(", "));
      return variables(v.variablesReference);
    };
    assert.deepEqual((await value()).map((v) => [v.name, v.value]), [
      ["label", "y"],
      ["data", "6"],
      ["op", "relu"],
      ["∂y/∂z", "1"],
    ]);
    // Step Back: the sum z = xw0 + xw1 + xw2 + b with its four operands' local derivatives
    await stepAnd("stepBack");
    assert.equal((await top())[0]?.name, "sum z = 6");
    assert.deepEqual((await value()).filter((v) => v.name.startsWith("∂")).map((v) => [v.name, v.value]), [
      ["∂z/∂xw0", "1"],
      ["∂z/∂xw1", "1"],
      ["∂z/∂xw2", "1"],
      ["∂z/∂b", "1"],
    ]);
    assert.equal(await evaluate("xw1.data"), "2");
    // Continue: the held hit at y first, then on live to the product drelu_dw1 = drelu_dxw1 * dmul_dw1:
    // the chain rule so far, with w1's gradient (x1 = −2)
    await stepAnd("continue");
    assert.equal((await top())[0]?.name, "relu y = 6");
    await stepAnd("continue");
    frames = await top();
    assert.deepEqual([frames[0]?.name, frames[0]?.line], ["backward()", lineOf(NEURON, "drelu_dw1 = ")]);
    const vars = await value();
    assert.deepEqual(vars.find((v) => v.name === "drelu_dw1")?.value, "drelu_dxw1 · dmul_dw1 = 1 · -2 = -2");
    assert.equal(vars.find((v) => v.name === "w1.grad")?.value, "-2");
    assert.equal(vars.find((v) => v.name === "x0.grad")?.value, "-3");
    assert.equal(vars.find((v) => v.name === "w2.grad")?.value, "0", "not computed yet: drelu_dw2 comes later");
    assert.equal(await evaluate("w1.grad"), "-2");
    const terminated = dc.waitForEvent("terminated");
    await dc.continueRequest({ threadId: 1 });
    await terminated;
  });

  it("the time limit does not count the time paused, and Stop ends a paused model at once", async () => {
    // The limit counts the tracer's start (Python, NumPy) too: 6 s leaves room for a loaded machine.
    const { stopped } = await start(TRAINING, { stopOnEntry: true, timeLimitSeconds: 6 });
    assert.equal(stopped.body.reason, "entry");
    assert.equal((await top())[0]?.name, "dense1.forward");
    await new Promise((r) => setTimeout(r, 7000));
    // still paused and alive after more than the time limit
    assert.equal((await position()).live, true);
    await stepAnd("next");
    assert.equal((await position()).label, "activation1.forward");
    const terminated = dc.waitForEvent("terminated");
    const t0 = Date.now();
    await dc.terminateRequest({});
    await terminated;
    assert.ok(Date.now() - t0 < 2000, `terminated after ${Date.now() - t0} ms`);
  });
});
