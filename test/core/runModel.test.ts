/**
 * The run model (core/run): what it keeps of trace events (content, not only kinds), that a replay or
 * any interleaving of events rebuilds the same model, references (trace format 2) resolving to the
 * values a copy would have had, version 1 traces opening, and bounded summaries.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type CallSummary,
  Dense,
  Layer,
  MAX_SUMMARIES,
  Rng,
  RunModel,
  type RunEvent,
  type StepSummary,
  type Tensor,
  TRACE_FORMAT_VERSION,
  type TraceEvent,
  decodeTrace,
  encodeTrace,
  isGradientName,
  isParamGradientName,
  paramGradientName,
  tensor,
} from "../../core/host";
import { expectClose } from "../helpers/close";
import { record, recordRun, train } from "../helpers/record";

const header = (runId = 1) => ({ runId, file: "/m.ts", startedAt: 0 });

function modelOf(events: readonly TraceEvent[], runId = 1): RunModel {
  const m = new RunModel(header(runId));
  for (const e of events) m.ingest(e);
  return m;
}

/** A model's whole state, comparable with deepEqual. */
function snapshot(m: RunModel): unknown {
  return {
    header: m.header,
    layers: m.layers,
    order: m.layerOrder().map((l) => l.name),
    calls: m.calls,
    steps: m.steps,
    summaries: m.summaries,
    scalarNodes: m.scalarNodes,
    scalarBackwards: m.scalarBackwards,
    anomalies: m.anomalies,
    gradChecks: m.gradChecks,
    console: m.console,
    end: m.end,
    pairs: m.calls.filter((c) => c.phase === "backward").map((c) => [c.seq, m.forwardFor(c)?.seq]),
  };
}

/** Every tensor of every call, resolved through references, as plain arrays. */
function allTensors(m: RunModel): Record<string, { shape: number[]; data: number[] } | undefined> {
  const out: Record<string, { shape: number[]; data: number[] } | undefined> = {};
  for (const c of m.calls) {
    for (const name of Object.keys(c.tensors)) {
      const t = m.tensor(c.seq, name);
      out[`${c.seq}:${name}`] = t ? { shape: [...t.shape], data: Array.from(t.data) } : undefined;
    }
  }
  return out;
}

describe("run model: ingesting a run", () => {
  it("keeps layers, calls without data, tensors by call, and passes on events without tensor data", () => {
    const { events, recorder } = record(() => {
      const d = new Dense(4, 3, { weights: [[0.2, 0.5, -0.26], [0.8, -0.91, -0.27], [-0.5, 0.26, 0.17], [1, -0.5, 0.87]] });
      d.forward([[1, 2, 3, 2.5]]);
      d.backward([[1, 1, 1]]);
    });
    events.push({ type: "console", level: "log", text: "hi", site: { file: "/m.ts", line: 9, column: 1 } });
    events.push({ type: "run/end", ok: true, steps: recorder.stepCount, durationMs: 1, keptSteps: recorder.keptSteps });
    const m = new RunModel(header(7));
    const wire = events.map((e) => m.ingest(e));

    assert.deepEqual([...m.layers.values()].map((l) => [l.id, l.name, l.kind, l.description, l.paramCount]), [[0, "Dense#0", "dense", "Dense(4, 3)", 15]]);
    assert.deepEqual(m.calls.map((c) => [c.seq, c.layer, c.phase, c.step, c.site?.line]), [
      [0, 0, "forward", 0, 2],
      [1, 0, "backward", 0, 3],
    ]);
    const [fw, bw] = m.calls;
    assert.deepEqual(Object.keys(fw?.tensors ?? {}).sort(), ["biases", "inputs", "output", "weights"]);
    assert.deepEqual(bw?.tensors.dinputs?.shape, [1, 4]);
    assert.equal(bw?.tensors.dbiases?.stats.norm, Math.sqrt(3));
    assert.deepEqual(
      Array.from(m.tensor(1, "dinputs")?.data ?? []).map((v) => Math.round(v * 100) / 100),
      [0.44, -0.38, -0.07, 1.37],
    );
    expectClose(m.tensor(0, "output")?.data, [2.8, -1.79, 1.885], 1e-12, "output");
    assert.equal(m.tensor(99, "dinputs"), undefined);
    assert.equal(m.tensor(1, "nothing"), undefined);
    // The wire events carry no tensor data but the same shapes and statistics.
    for (const e of wire) {
      if (e.type !== "layer/call") continue;
      for (const t of Object.values(e.call.tensors)) assert.ok(!("data" in t));
      assert.ok(!("stats" in e.call));
    }
    assert.deepEqual(m.console, [{ level: "log", text: "hi", site: { file: "/m.ts", line: 9, column: 1 } }]);
    assert.deepEqual(m.end, { ok: true, steps: 1, durationMs: 1, keptSteps: [0] });
    assert.equal(m.status(), "done");
    assert.equal(m.version, events.length, "every event changed the model once");
  });

  it("names the gradients in one place: dinputs and d + a parameter, not dvalues or targets", () => {
    assert.deepEqual(["dinputs", "dweights", "dbiases", "dgamma", "dvalues", "targets", "d", "inputs", "output"].filter(isGradientName), ["dinputs", "dweights", "dbiases", "dgamma"]);
    assert.deepEqual(["dinputs", "dweights", "dvalues"].filter(isParamGradientName), ["dweights"]);
    assert.equal(paramGradientName("weights"), "dweights");
    const m = modelOf(recordRun(train(2), 2));
    const dense = m.layerOrder()[0];
    const [fw, bw] = m.callsIn(dense?.id ?? -1, 0);
    assert.deepEqual(fw && m.gradientNames(fw), []);
    assert.deepEqual(bw && m.gradientNames(bw).sort(), ["dbiases", "dinputs", "dweights"]);
  });

  it("looks calls up by layer and step, pairs forward and backward, and orders layers as the network runs", () => {
    const m = modelOf(recordRun(train(4), 2));
    assert.deepEqual(m.layerOrder().map((l) => l.kind), ["dense", "relu", "dense", "softmax-cce"]);
    assert.deepEqual(m.steps, [0, 1, 3]);
    const [d1] = m.layerOrder();
    assert.ok(d1);
    assert.deepEqual(m.stepsOf(d1.id), [0, 1, 3]);
    assert.deepEqual(m.callsIn(d1.id, 1).map((c) => c.phase), ["forward", "backward"]);
    assert.deepEqual(m.callsIn(d1.id, undefined), []);
    assert.equal(m.callsInStep(3).length, 8);
    for (const step of m.steps) {
      const [fw, bw] = m.callsIn(d1.id, step);
      assert.ok(fw && bw);
      assert.equal(m.forwardFor(bw), fw);
      assert.equal(m.backwardFor(fw), bw);
      assert.ok(fw.tensors.weights, "the forward call carries the weights the backward used");
    }
    assert.equal(m.lastCall(d1.id, "backward")?.step, 3);
  });
});

describe("run model: events in any order", () => {
  const events = recordRun(train(6), 2);
  const live = modelOf(events);

  it("a replay rebuilds the same model, content and tensors", () => {
    const again = new RunModel(header());
    for (const e of live.replay()) again.apply(e);
    assert.deepEqual(snapshot(again), snapshot(live));
    assert.deepEqual(again.replay(), live.replay());
  });

  it("any interleaving of event kinds and any order of calls and summaries gives the same model", () => {
    const wire = new RunModel(header());
    const stripped = events.map((e) => wire.ingest(e));
    // Lists whose order is the order of arrival (console, anomalies, …) keep their relative order.
    const ordered = new Set(["console", "anomaly", "gradcheck", "scalar/node", "scalar/backward", "run/end", "run/start"]);
    const rng = new Rng(7);
    for (let trial = 0; trial < 5; trial++) {
      const shuffled = [...stripped];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j] as RunEvent, shuffled[i] as RunEvent];
      }
      const queue = stripped.filter((e) => ordered.has(e.type));
      const mixed = shuffled.map((e) => (ordered.has(e.type) ? (queue.shift() as RunEvent) : e));
      const m = new RunModel(header());
      for (const e of mixed) m.apply(e);
      assert.deepEqual(snapshot(m), snapshot(wire), `trial ${trial}`);
    }
  });

  it("a call sent again replaces the first", () => {
    const m = modelOf(events);
    const call = m.calls[3];
    assert.ok(call);
    const n = m.calls.length;
    m.apply({ type: "layer/call", call: { ...call, loss: 42 } });
    assert.equal(m.calls.length, n);
    assert.equal(m.call(call.seq)?.loss, 42);
    assert.equal(m.callsInStep(call.step).filter((c) => c.seq === call.seq).length, 1);
    assert.equal(m.callsOf(call.layer).find((c) => c.seq === call.seq)?.loss, 42);
  });
});

describe("run model: references (trace format 2)", () => {
  it("a call's dvalues is the next layer's dinputs and its inputs the previous layer's output, with one copy of the data", () => {
    const events = recordRun(train(4), 2);
    const m = modelOf(events);
    const [d1, a1, d2, loss] = m.layerOrder();
    assert.ok(d1 && a1 && d2 && loss);
    for (const step of [0, 1, 3]) {
      const call = (layer: number, phase: string): CallSummary | undefined => m.callsIn(layer, step).find((c) => c.phase === phase);
      const exp: [CallSummary | undefined, string, CallSummary | undefined, string][] = [
        [call(a1.id, "forward"), "inputs", call(d1.id, "forward"), "output"],
        [call(d2.id, "forward"), "inputs", call(a1.id, "forward"), "output"],
        [call(loss.id, "forward"), "inputs", call(d2.id, "forward"), "output"],
        [call(loss.id, "backward"), "dvalues", call(loss.id, "forward"), "output"],
        [call(d2.id, "backward"), "dvalues", call(loss.id, "backward"), "dinputs"],
        [call(a1.id, "backward"), "dvalues", call(d2.id, "backward"), "dinputs"],
        [call(d1.id, "backward"), "dvalues", call(a1.id, "backward"), "dinputs"],
      ];
      for (const [c, name, from, fromName] of exp) {
        assert.ok(c && from, `step ${step}`);
        assert.deepEqual(c.refs?.[name], { seq: from.seq, name: fromName }, `step ${step}: ${m.layers.get(c.layer)?.name}.${name}`);
        assert.equal(m.origin(c.seq, name)?.call, from);
        assert.equal(m.tensor(c.seq, name), m.tensor(from.seq, fromName), "the same data, not a copy");
        assert.deepEqual(c.tensors[name], from.tensors[fromName], "shape and statistics of the tensor referred to");
      }
      // The network's input comes from the data, not from a layer.
      assert.equal(call(d1.id, "forward")?.refs, undefined);
      assert.equal(m.origin(call(d1.id, "forward")?.seq ?? -1, "inputs"), undefined);
    }
    // In the trace itself, referenced names have statistics but no data.
    for (const e of events) {
      if (e.type !== "layer/call") continue;
      for (const name of Object.keys(e.call.refs ?? {})) {
        assert.ok(!(name in e.call.tensors));
        assert.ok(e.call.stats[name]);
      }
    }
  });

  it("copies instead when the values changed after the producer emitted them (a layer writing into its inputs)", () => {
    class DoubleInPlace extends Layer {
      forward(inputs: Tensor): void {
        this.inputs = inputs;
        for (let i = 0; i < inputs.data.length; i++) (inputs.data as Float64Array)[i] = (inputs.data[i] as number) * 2;
        this.output = inputs;
      }
      backward(dvalues: Tensor): void {
        this.dinputs = dvalues;
      }
    }
    const { events, error } = record(
      () => {
        const d = new Dense(2, 2, { weights: [[1, 0], [0, 1]], biases: [[0, 0]] });
        const twice = new DoubleInPlace();
        d.forward(tensor([[1, 2]]));
        twice.forward(d.output);
      },
      { keepSteps: 1 },
    );
    assert.equal(error, undefined);
    const m = modelOf(events);
    const [dense, twice] = m.calls;
    assert.ok(dense && twice);
    assert.equal(twice.refs, undefined, "the values differ from what dense emitted: no reference");
    assert.deepEqual(Array.from(m.tensor(dense.seq, "output")?.data ?? []), [1, 2], "dense's output as it made it");
    assert.deepEqual(Array.from(m.tensor(twice.seq, "inputs")?.data ?? []), [2, 4], "the inputs as they were after the call, as version 1 recorded them");
  });

  it("a version 2 trace file round-trips: every tensor through its references equals the recorded one", () => {
    const events = recordRun(train(3), 2);
    const text = encodeTrace("/m.ts", events, "test");
    const file = decodeTrace(text);
    assert.equal(file.version, TRACE_FORMAT_VERSION);
    assert.equal(TRACE_FORMAT_VERSION, 2);
    const a = modelOf(events);
    const b = modelOf(file.events);
    assert.deepEqual(allTensors(b), allTensors(a));
    assert.ok(Object.values(allTensors(a)).every((t) => t !== undefined), "every tensor of every recorded call resolves");
    const refs = file.events.reduce((n, e) => n + (e.type === "layer/call" ? Object.keys(e.call.refs ?? {}).length : 0), 0);
    assert.equal(refs, 7 * 3, "seven references per recorded step (steps 0, 1 and the last)");
  });

  it("a reference to a call the trace does not have leaves that tensor out instead of failing", () => {
    const m = new RunModel(header());
    const stats = { size: 2, min: 0, max: 1, mean: 0.5, std: 0.5, norm: 1, nonFinite: 0, zeros: 1 };
    m.ingest({ type: "layer/call", call: { step: 0, seq: 5, layer: 0, phase: "backward", tensors: { dinputs: { shape: [1, 2], data: Float64Array.from([0, 1]) } }, stats: { dinputs: stats, dvalues: stats }, refs: { dvalues: { seq: 4, name: "dinputs" } } } });
    assert.deepEqual(Object.keys(m.calls[0]?.tensors ?? {}), ["dinputs"]);
    assert.equal(m.tensor(5, "dvalues"), undefined);
    assert.equal(m.origin(5, "dvalues"), undefined);
  });
});

describe("run model: version 1 traces", () => {
  it("opens a committed version 1 trace (every tensor copied, no references)", () => {
    const text = fs.readFileSync(path.join(__dirname, "../../../test/fixtures/traces/02-layer-batch.json"), "utf8");
    const file = decodeTrace(text);
    assert.equal(file.version, 1);
    const m = modelOf(file.events);
    assert.ok(m.calls.length > 0 && m.calls.every((c) => c.refs === undefined));
    const dense1 = m.layerOrder().find((l) => l.name === "dense1");
    assert.ok(dense1);
    const bw = m.callsIn(dense1.id, 0).find((c) => c.phase === "backward");
    assert.ok(bw);
    assert.deepEqual(
      Array.from(m.tensor(bw.seq, "dinputs")?.data ?? []).slice(0, 4).map((v) => Math.round(v * 100) / 100),
      [0.44, -0.38, -0.07, 1.37],
    );
    assert.deepEqual(Array.from(m.tensor(bw.seq, "dbiases")?.data ?? []), [6, 6, 6]);
    assert.deepEqual(m.gradientNames(bw).sort(), ["dbiases", "dinputs", "dweights"]);
    assert.ok(m.tensor(bw.seq, "dvalues"), "version 1 copies dvalues into the call");
    assert.equal(m.origin(bw.seq, "dvalues"), undefined);
    assert.throws(() => decodeTrace(text.replace('"version":1', `"version":${TRACE_FORMAT_VERSION + 1}`)), /newer than this reader/);
  });
});

describe("run model: bounded summaries", () => {
  const many = (n: number): StepSummary[] => Array.from({ length: n }, (_, step) => ({ step, loss: 1 / (step + 1) }));

  it("keeps at most MAX_SUMMARIES of a long run: the first, the last and every stride-th step", () => {
    const m = new RunModel(header());
    const all = many(5 * MAX_SUMMARIES + 3);
    for (const summary of all) m.apply({ type: "step/summary", summary });
    const kept = m.summaries;
    assert.ok(kept.length <= MAX_SUMMARIES, `${kept.length}`);
    assert.ok(kept.length > MAX_SUMMARIES / 2, `${kept.length}`);
    assert.equal(kept[0], all[0]);
    assert.equal(kept[kept.length - 1], all[all.length - 1]);
    const strides = new Set(kept.slice(1, -1).map((s, i, a) => (i > 0 ? s.step - (a[i - 1] as StepSummary).step : undefined)).filter((d) => d !== undefined));
    assert.deepEqual([...strides], [8], "one stride between the kept steps");
    assert.ok(kept.slice(1, -1).every((s) => s.step % 8 === 0));
  });

  it("thins the same way live, replayed, and in any arrival order", () => {
    const all = many(3 * 1000 + 7);
    const live = new RunModel(header(), { maxSummaries: 1000 });
    for (const summary of all) live.apply({ type: "step/summary", summary });
    assert.ok(live.summaries.length <= 1000);
    const replayed = new RunModel(header(), { maxSummaries: 1000 });
    for (const e of live.replay()) replayed.apply(e);
    assert.deepEqual(replayed.summaries, live.summaries);
    // A panel that replays mid-run and then gets the rest live ends with the host's list.
    const host = new RunModel(header(), { maxSummaries: 1000 });
    for (const summary of all.slice(0, 1500)) host.apply({ type: "step/summary", summary });
    const panel = new RunModel(header(), { maxSummaries: 1000 });
    for (const e of host.replay()) panel.apply(e);
    for (const summary of all.slice(1500)) {
      host.apply({ type: "step/summary", summary });
      panel.apply({ type: "step/summary", summary });
    }
    assert.deepEqual(panel.summaries, host.summaries);
    assert.deepEqual(host.summaries, live.summaries);
    const shuffled = [...all].reverse();
    const backwards = new RunModel(header(), { maxSummaries: 1000 });
    for (const summary of shuffled) backwards.apply({ type: "step/summary", summary });
    assert.deepEqual(backwards.summaries, live.summaries);
  });
});

describe("run model: problems and status", () => {
  it("lists failed gradient checks as problems even without an anomaly, errors first", () => {
    const m = new RunModel(header(3));
    m.apply({ type: "layer/new", layer: { id: 0, name: "sig", kind: "custom", className: "Sigmoid", description: "Sigmoid", params: [], paramCount: 0 } });
    m.apply({ type: "anomaly", anomaly: { code: "dead-relu", severity: "information", step: 0, message: "dead" } });
    m.apply({ type: "gradcheck", result: { layer: 0, step: 0, ok: false, tensors: [{ name: "dinputs", ok: false, checked: 4, total: 4, kinks: 0, rtol: 1e-5, atol: 1e-7, worst: { index: [1, 0], analytic: 1, numeric: 2, absErr: 1, relErr: 0.5 } }] } });
    const p = m.problems();
    assert.deepEqual(
      p.map((x) => [x.code, x.severity, x.layer, x.tensor, x.message]),
      [
        ["gradient-check", "error", 0, "dinputs", "gradient check failed: sig.dinputs"],
        ["dead-relu", "information", undefined, undefined, "dead"],
      ],
    );
    assert.deepEqual(p[0]?.index, [1, 0]);
    assert.equal(m.gradCheckOf(0)?.ok, false);
    assert.deepEqual(m.anomaliesOf(0), []);
  });

  it("a run is running until its end; a failed run failed, a cancelled one stopped", () => {
    const m = new RunModel(header());
    assert.equal(m.status(), "running");
    m.apply({ type: "run/end", ok: false, steps: 0, durationMs: 1, keptSteps: [], error: { kind: "shape", message: "boom" } });
    assert.equal(m.status(), "failed");
    assert.equal(m.error?.message, "boom");
    const s = new RunModel(header());
    s.apply({ type: "run/end", ok: false, steps: 0, durationMs: 1, keptSteps: [], error: { kind: "cancelled", message: "stopped" } });
    assert.equal(s.status(), "stopped");
  });

  it("collects gradient norms per layer over the sampled steps", () => {
    const m = modelOf(recordRun(train(3), 3));
    const [d1] = m.layerOrder();
    const { steps, series } = m.gradNorms(d1?.id ?? -1);
    assert.deepEqual(steps, [0, 1, 2]);
    assert.deepEqual([...series.keys()].sort(), ["dbiases", "dinputs", "dweights"]);
    for (const step of [0, 1, 2]) {
      const bw = m.callsIn(d1?.id ?? -1, step).find((c) => c.phase === "backward");
      expectClose(series.get("dweights")?.[step], bw?.tensors.dweights?.stats.norm, 1e-15, `step ${step}: the summary's norm is the recorded tensor's`);
    }
  });

  it("orders layers called only from inside another layer after their first call, and leaves them out of the model's own calls", () => {
    class Twice extends Layer {
      readonly inner = new Dense(2, 2, { weights: [[1, 0], [0, 1]], biases: [[0, 0]] });
      forward(inputs: Tensor): void {
        this.inner.forward(inputs);
        this.output = this.inner.output;
      }
      backward(dvalues: Tensor): void {
        this.inner.backward(dvalues);
        this.dinputs = this.inner.dinputs;
      }
    }
    const { events } = record(() => {
      const t = new Twice();
      t.forward(tensor([[1, 2]]));
      t.backward(tensor([[1, 1]]));
    });
    const m = modelOf(events);
    assert.deepEqual(m.layerOrder().map((l) => l.className), ["Dense", "Twice"]);
    assert.deepEqual(m.layerOrder({ topLevelOnly: true }).map((l) => l.className), ["Twice"]);
    const outer = m.calls.find((c) => c.parent === undefined && c.phase === "forward");
    assert.ok(outer);
    assert.deepEqual(outer.refs?.output, { seq: 0, name: "output" }, "Twice's output is its inner Dense's output");
  });
});
