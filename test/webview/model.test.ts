/**
 * The inspector's state reducer against real trace events: live streaming and replay give the same
 * state, a new run replaces the old, stale events are ignored, and the selectors (network order,
 * default step, matching forward call, problems, gradient norms) read it right.
 */
import * as assert from "node:assert/strict";
import { Adam, Dense, ReLU, SoftmaxCategoricalCrossentropy, TraceRecorder, spiralData, type TraceEvent } from "../../core/host";
import { PROTOCOL_VERSION, type RunHeader, type ToWebview } from "../../core/protocol";
import { RunStore } from "../../core/runStore";
import { callsIn, effectiveStep, forwardFor, gradNorms, layerOrder, problems, reduce, runStatus, type AppState, type RunModel } from "../../webview/model";

function record(model: () => void, keepSteps = 2): TraceEvent[] {
  const events: TraceEvent[] = [];
  let n = 0;
  const recorder = new TraceRecorder({ sink: { emit: (e) => void events.push(e) }, sites: { capture: () => ({ file: "/m.ts", line: ++n, column: 1 }), nameAt: () => undefined }, keepSteps });
  events.push({ type: "run/start", version: 1, file: "/m.ts", startedAt: 0 });
  recorder.install();
  try {
    model();
  } finally {
    recorder.finish({ completed: true });
    recorder.uninstall();
  }
  const steps = Math.max(...events.flatMap((e) => (e.type === "step/summary" ? [e.summary.step] : [0]))) + 1;
  const kept = [...new Set(events.flatMap((e) => (e.type === "layer/call" ? [e.call.step] : [])))];
  events.push({ type: "run/end", ok: true, steps, durationMs: 1, keptSteps: kept });
  return events;
}

function train(epochs: number): () => void {
  return () => {
    const [X, y] = spiralData(10, 3);
    const d1 = new Dense(2, 4);
    const a1 = new ReLU();
    const d2 = new Dense(4, 3);
    const loss = new SoftmaxCategoricalCrossentropy();
    const opt = new Adam({ learningRate: 0.05 });
    for (let e = 0; e < epochs; e++) {
      d1.forward(X);
      a1.forward(d1.output);
      d2.forward(a1.output);
      loss.forward(d2.output, y);
      loss.backward(loss.output, y);
      d2.backward(loss.dinputs);
      a1.backward(d2.dinputs);
      d1.backward(a1.dinputs);
      opt.preUpdateParams();
      opt.updateParams(d1);
      opt.updateParams(d2);
      opt.postUpdateParams();
    }
  };
}

const header = (runId: number, file = "/m.ts"): RunHeader => ({ runId, file, startedAt: 0 });

function fold(msgs: ToWebview[], start: AppState = { kind: "connecting" }): AppState {
  let s = start;
  for (const m of msgs) s = reduce(s, m);
  return s;
}

function runOf(s: AppState): RunModel {
  assert.equal(s.kind, "run");
  return (s as { run: RunModel }).run;
}

/** Everything a view reads, in a comparable form. */
function snapshot(run: RunModel): unknown {
  return {
    header: run.header,
    layers: layerOrder(run).map((l) => l.name),
    calls: run.calls,
    steps: run.steps,
    summaries: run.summaries,
    anomalies: run.anomalies,
    gradChecks: run.gradChecks,
    console: run.console,
    end: run.end,
    scalar: run.scalarNodes,
  };
}

describe("webview state: live and replay", () => {
  const events = record(train(6));

  it("a streamed run and its replay give the same state", () => {
    const live = new RunStore(header(1));
    const liveMsgs: ToWebview[] = [{ type: "session/ready", protocolVersion: PROTOCOL_VERSION }, { type: "run/started", run: live.header }];
    for (const e of events) liveMsgs.push(...live.ingest(e));
    const replayMsgs: ToWebview[] = [{ type: "session/ready", protocolVersion: PROTOCOL_VERSION, run: live.header }, ...live.replay()];
    const a = runOf(fold(liveMsgs));
    const b = runOf(fold(replayMsgs));
    assert.deepEqual(snapshot(a), snapshot(b));
    assert.deepEqual(layerOrder(a).map((l) => l.kind), ["dense", "relu", "dense", "softmax-cce"]);
    assert.deepEqual(a.steps, [0, 1, 5]); // keepSteps 2 + the last
    assert.equal(a.summaries.length, 6);
    assert.equal(runStatus(a), "done");
  });

  it("a replay after a reload replaces what was shown (no duplicated calls)", () => {
    const store = new RunStore(header(1));
    for (const e of events) store.ingest(e);
    const once = fold(store.replay());
    const twice = fold(store.replay(), once);
    assert.equal(runOf(twice).calls.length, store.calls.length);
  });

  it("a new run replaces the previous one; events of the old run are ignored", () => {
    const s1 = new RunStore(header(1, "/a.ts"));
    for (const e of events) s1.ingest(e);
    let s = fold(s1.replay());
    s = reduce(s, { type: "run/started", run: header(2, "/b.ts") });
    const run2 = runOf(s);
    assert.equal(run2.header.file, "/b.ts");
    assert.equal(run2.calls.length, 0);
    const late = s1.replay().filter((m) => m.type === "run/call");
    s = fold(late, s);
    assert.equal(runOf(s).calls.length, 0, "run 1's calls must not land in run 2");
    assert.equal(runStatus(runOf(s)), "running");
  });

  it("refuses a host of another protocol version", () => {
    const s = reduce({ kind: "connecting" }, { type: "session/ready", protocolVersion: PROTOCOL_VERSION + 1 });
    assert.equal(s.kind, "incompatible");
    assert.match((s as { message: string }).message, /protocol version/);
  });

  it("is empty after session/ready without a run", () => {
    assert.equal(reduce({ kind: "connecting" }, { type: "session/ready", protocolVersion: PROTOCOL_VERSION }).kind, "empty");
  });
});

describe("webview state: selectors", () => {
  const store = new RunStore(header(1));
  for (const e of record(train(3), 3)) store.ingest(e);
  const run = runOf(fold(store.replay()));

  it("defaults to step 0 and keeps a chosen recorded step", () => {
    assert.equal(effectiveStep(run, undefined), 0);
    assert.equal(effectiveStep(run, 2), 2);
    assert.equal(effectiveStep(run, 99), 0);
  });

  it("pairs each backward call with the forward call of the same layer and step", () => {
    const [dense1] = layerOrder(run);
    const calls = callsIn(run, dense1!.id, 1);
    const bw = calls.find((c) => c.phase === "backward")!;
    const fw = forwardFor(run, bw)!;
    assert.equal(fw.phase, "forward");
    assert.equal(fw.step, 1);
    assert.equal(fw.layer, dense1!.id);
    assert.ok(fw.seq < bw.seq);
    assert.ok(fw.tensors.weights, "the forward call carries the weights the backward used");
  });

  it("collects gradient norms per layer over steps", () => {
    const [dense1] = layerOrder(run);
    const { steps, series } = gradNorms(run, dense1!.id);
    assert.deepEqual(steps, [0, 1, 2]);
    assert.deepEqual([...series.keys()].sort(), ["dbiases", "dinputs", "dweights"]);
    assert.ok((series.get("dweights") ?? []).every((v) => v > 0));
  });

  it("lists failed gradient checks as problems even without an anomaly", () => {
    const s = fold([
      { type: "run/started", run: header(3) },
      { type: "run/layer", runId: 3, layer: { id: 0, name: "sig", kind: "custom", className: "Sigmoid", description: "Sigmoid", params: [], paramCount: 0 } },
      { type: "run/anomaly", runId: 3, anomaly: { code: "dead-relu", severity: "information", step: 0, message: "dead" } },
      { type: "run/gradcheck", runId: 3, result: { layer: 0, step: 0, ok: false, tensors: [{ name: "dinputs", ok: false, checked: 4, total: 4, kinks: 0, rtol: 1e-5, atol: 1e-7, worst: { index: [1, 0], analytic: 1, numeric: 2, absErr: 1, relErr: 0.5 } }] } },
    ]);
    const p = problems(runOf(s));
    assert.deepEqual(
      p.map((x) => [x.code, x.severity, x.layer]),
      [
        ["gradient-check", "error", 0],
        ["dead-relu", "information", undefined],
      ],
    );
    assert.deepEqual(p[0]?.index, [1, 0]);
  });

  it("a failed run reports failed, a cancelled one stopped", () => {
    const base: ToWebview[] = [{ type: "run/started", run: header(4) }];
    const failed = fold([...base, { type: "run/ended", runId: 4, end: { ok: false, steps: 0, durationMs: 1, keptSteps: [], error: { kind: "shape", message: "boom" } } }]);
    assert.equal(runStatus(runOf(failed)), "failed");
    const stopped = fold([...base, { type: "run/ended", runId: 4, end: { ok: false, steps: 0, durationMs: 1, keptSteps: [], error: { kind: "cancelled", message: "stopped" } } }]);
    assert.equal(runStatus(runOf(stopped)), "stopped");
  });
});
