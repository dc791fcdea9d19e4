/** The trace recorder: what it emits, when, and what it says about broken models. */
import * as assert from "node:assert/strict";
import {
  Dense,
  Layer,
  NonFiniteError,
  ReLU,
  SGD,
  ShapeError,
  SoftmaxCategoricalCrossentropy,
  type Tensor,
  type TraceEvent,
  errorContext,
  isSampled,
  map,
  mul,
  relu,
  spiralData,
  sum,
  tensor,
  value,
  zip,
} from "../../core/host";
import { pass, record, train } from "../helpers/record";

const of = <T extends TraceEvent["type"]>(events: TraceEvent[], type: T): Extract<TraceEvent, { type: T }>[] =>
  events.filter((e): e is Extract<TraceEvent, { type: T }> => e.type === type);

describe("trace recorder", () => {
  it("emits each layer once, every call of the kept steps with its tensors, and the last step at the end", () => {
    const { events, recorder } = record(train(6), { keepSteps: 2 });
    const layers = of(events, "layer/new").map((e) => e.layer.description);
    assert.deepEqual(layers, ["Dense(2, 8)", "ReLU", "Dense(8, 3)", "SoftmaxCategoricalCrossentropy"]);
    const calls = of(events, "layer/call").map((e) => e.call);
    assert.deepEqual([...new Set(calls.map((c) => c.step))], [0, 1, 5]);
    assert.deepEqual(recorder.keptSteps, [0, 1, 5]);
    assert.equal(calls.filter((c) => c.step === 0).length, 8);
    const first = calls[0];
    assert.equal(first?.phase, "forward");
    assert.deepEqual(Object.keys(first?.tensors ?? {}).sort(), ["biases", "inputs", "output", "weights"]);
    assert.deepEqual(first?.tensors.output?.shape, [60, 8]);
    const back = calls.find((c) => c.phase === "backward" && c.layer === 0);
    assert.deepEqual(Object.keys(back?.tensors ?? {}).sort(), ["dbiases", "dinputs", "dweights"]);
    // dvalues is the ReLU's dinputs: a reference to that call, with statistics but no second copy.
    const relu = calls.find((c) => c.phase === "backward" && c.layer === 1 && c.step === back?.step);
    assert.deepEqual(back?.refs, { dvalues: { seq: relu?.seq, name: "dinputs" } });
    assert.deepEqual(Object.keys(back?.stats ?? {}).sort(), ["dbiases", "dinputs", "dvalues", "dweights"]);
    assert.deepEqual(back?.stats.dvalues, relu?.stats.dinputs);
    // Every step has a summary with a finite loss that goes down while training.
    const summaries = of(events, "step/summary").map((e) => e.summary);
    assert.deepEqual(
      summaries.map((s) => s.step),
      [0, 1, 2, 3, 4, 5],
    );
    assert.ok(summaries.every((s) => typeof s.loss === "number" && Number.isFinite(s.loss)));
    assert.ok((summaries[5]?.loss ?? 9) < (summaries[0]?.loss ?? 0));
    assert.ok(summaries[0]?.grads?.some((g) => g.layer === 0 && g.norms.dweights !== undefined));
    assert.equal(of(events, "run/end").length, 0, "the recorder does not end the run; the runner does");
  });

  it("copies the tensors it emits, so later steps do not change what a step showed", () => {
    const { events } = record(train(3), { keepSteps: 1 });
    const w0 = of(events, "layer/call").find((e) => e.call.step === 0 && e.call.layer === 0 && e.call.phase === "forward")?.call.tensors.weights;
    const w2 = of(events, "layer/call").find((e) => e.call.step === 2 && e.call.layer === 0 && e.call.phase === "forward")?.call.tensors.weights;
    assert.ok(w0 && w2);
    assert.notDeepEqual(Array.from(w0.data), Array.from(w2.data), "the optimizer changed the weights between steps");
  });

  it("shows the last step's weights as its forward saw them, with the parameter copies reused between steps", () => {
    // Steps past the kept ones reuse two buffers per parameter; the last step, emitted at the end after
    // its own update, must still show the weights its forward used.
    const seen: number[][] = [];
    const { events } = record(
      () => {
        const [X, y] = spiralData(10, 3);
        const d1 = new Dense(2, 4);
        const d2 = new Dense(4, 3);
        const loss = new SoftmaxCategoricalCrossentropy();
        const opt = new SGD({ learningRate: 0.5 });
        for (let e = 0; e < 9; e++) {
          seen.push(Array.from(d1.weights.data));
          pass([d1, d2], loss, X, y);
          opt.updateParams(d1);
          opt.updateParams(d2);
        }
      },
      { keepSteps: 1 },
    );
    const forwards = of(events, "layer/call").filter((e) => e.call.layer === 0 && e.call.phase === "forward");
    assert.deepEqual(
      forwards.map((e) => e.call.step),
      [0, 8],
    );
    assert.deepEqual(Array.from(forwards[1]?.call.tensors.weights?.data ?? []), seen[8]);
    assert.notDeepEqual(seen[8], seen[7]);
  });

  it("is invisible to untraced code: no tracer, no wrappers", () => {
    const d = new Dense(2, 2);
    assert.equal(Object.prototype.hasOwnProperty.call(d, "forward"), false);
    const { recorder } = record(() => {
      const t = new Dense(2, 2);
      assert.equal(Object.prototype.hasOwnProperty.call(t, "forward"), true);
    });
    assert.ok(recorder);
  });

  it("names both layers and both shapes of a mismatch between layers", () => {
    const { error } = record(() => {
      const [X] = spiralData(10, 3);
      const dense1 = new Dense(2, 64, { name: "dense1" });
      const activation1 = new ReLU({ name: "activation1" });
      const dense2 = new Dense(3, 3, { name: "dense2" });
      dense1.forward(X);
      activation1.forward(dense1.output);
      dense2.forward(activation1.output);
    });
    assert.ok(error instanceof ShapeError);
    assert.match(error.message, /inputs are \[30, 64\] but the weights are \[3, 3\]/);
    const ctx = errorContext(error);
    assert.equal(ctx?.layer.name, "dense2");
    assert.equal(ctx?.phase, "forward");
    assert.match(ctx?.detail ?? "", /came from activation1\.output \(ReLU/);
  });

  it("stops at a non-finite loss and names the first layer and tensor that held it", () => {
    const { events, error } = record(() => {
      const [X, y] = spiralData(10, 3);
      const d1 = new Dense(2, 4, { weightScale: 1, name: "d1" });
      const d2 = new Dense(4, 3, { weightScale: 1, name: "d2" });
      const loss = new SoftmaxCategoricalCrossentropy();
      const opt = new SGD({ learningRate: 1e300 });
      for (let e = 0; e < 50; e++) {
        pass([d1, d2], loss, X, y);
        opt.step(d1, d2);
      }
    });
    assert.ok(error instanceof NonFiniteError, String(error));
    const anomaly = of(events, "anomaly").find((e) => e.anomaly.code === "non-finite")?.anomaly;
    assert.ok(anomaly);
    assert.equal(anomaly.severity, "error");
    assert.match(anomaly.message, /first appeared in d\d\.\w+\[\d+\]\[\d+\]/);
    assert.ok(anomaly.step >= 1 && anomaly.step < 50);
    assert.ok(anomaly.site, "the anomaly has a line");
  });

  it("reports dead ReLU units at the end of the run", () => {
    const { events } = record(() => {
      const d = new Dense(2, 4, { weights: [[1, 1, -1, -1], [1, 1, -1, -1]], biases: [[0, 0, -5, -5]] });
      const r = new ReLU({ name: "act" });
      d.forward([[1, 2], [3, 4], [0.5, 0.5]]);
      r.forward(d.output);
    });
    const dead = of(events, "anomaly").find((e) => e.anomaly.code === "dead-relu")?.anomaly;
    assert.match(dead?.message ?? "", /2 of 4 units of act output 0 for all 3 samples/);
    assert.equal(dead?.severity, "warning");
  });

  it("gradient-checks every layer on its last call when asked, bypassing the trace", () => {
    class BadSquare extends Layer {
      forward(inputs: Tensor): Tensor {
        this.inputs = inputs;
        this.output = map(inputs, (x) => x * x);
        return this.output;
      }
      backward(dvalues: Tensor): Tensor {
        this.dinputs = map(dvalues, (d) => d); // forgets 2x
        return this.dinputs;
      }
    }
    const { events } = record(
      () => {
        const sq = new BadSquare();
        sq.forward(tensor([[1, 2], [3, 4]]));
        sq.backward(tensor([[1, 1], [1, 1]]));
      },
      { gradCheck: true },
    );
    const result = of(events, "gradcheck")[0]?.result;
    assert.equal(result?.ok, false);
    const anomaly = of(events, "anomaly").find((e) => e.anomaly.code === "gradient-check")?.anomaly;
    assert.match(anomaly?.message ?? "", /gradient check failed: BadSquare#0\.dinputs/);
    assert.equal(of(events, "layer/call").length, 2, "the check's own calls are not traced");
  });

  it("records the scalar walk-through: nodes, then the chain-rule steps", () => {
    const { events } = record(() => {
      const x0 = value(1, "x0");
      const w0 = value(-3, "w0");
      const b = value(1, "b");
      const y = relu(sum([mul(x0, w0), b]));
      y.backward(1);
    });
    const nodes = of(events, "scalar/node").map((e) => e.node.label);
    assert.deepEqual(nodes, ["x0", "w0", "b", "xw0", "z", "y"]);
    const back = of(events, "scalar/backward")[0]?.backward;
    assert.equal(back?.dvalue, 1);
    // z = −3 + 1 = −2 < 0, so the ReLU passes no gradient.
    assert.deepEqual(
      back?.grads.map((g) => g.grad),
      [1, 0, 0, 0, 0, 0],
    );
  });

  it("samples gradient norms every step up to 100, then ever sparser", () => {
    assert.ok(isSampled(0) && isSampled(99));
    assert.ok(isSampled(100) && !isSampled(101) && isSampled(102));
    assert.ok(isSampled(200) && !isSampled(202) && isSampled(204));
    const sampled = Array.from({ length: 100_000 }, (_, i) => i).filter(isSampled).length;
    assert.ok(sampled < 1200, `${sampled} summaries with norms for 100,000 steps`);
    assert.ok(Array.from({ length: 10_001 }, (_, i) => i).filter(isSampled).length > 400);
  });
  describe("a layer whose forward and backward are arrow-function fields", () => {
    /** A sigmoid written with fields instead of methods; `bug` drops the (1 − s) factor from backward. */
    const sigmoid = (bug: boolean) =>
      class ArrowSigmoid extends Layer {
        forward = (inputs: Tensor): Tensor => {
          this.inputs = inputs;
          this.output = map(inputs, (x) => 1 / (1 + Math.exp(-x)));
          return this.output;
        };
        backward = (dvalues: Tensor): Tensor => {
          this.dinputs = zip(dvalues, this.output, (d, s) => (bug ? d * s : d * s * (1 - s)));
          return this.dinputs;
        };
      };

    const model = (bug: boolean) => (): void => {
      const [X, y] = spiralData(10, 3);
      const d1 = new Dense(2, 4);
      const s = new (sigmoid(bug))();
      const d2 = new Dense(4, 3);
      pass([d1, s, d2], new SoftmaxCategoricalCrossentropy(), X, y);
    };

    it("is traced like a method layer, and its gradient check fails on a wrong backward", () => {
      const { events, error } = record(model(true), { gradCheck: true });
      assert.equal(error, undefined);
      const layer = of(events, "layer/new").find((e) => e.layer.className === "ArrowSigmoid");
      assert.ok(layer, "the arrow-field layer is in the trace");
      const calls = of(events, "layer/call").filter((e) => e.call.layer === layer.layer.id);
      assert.deepEqual(
        calls.map((c) => c.call.phase),
        ["forward", "backward"],
      );
      const check = of(events, "gradcheck").find((e) => e.result.layer === layer.layer.id);
      assert.ok(check, "the arrow-field layer is gradient-checked");
      assert.equal(check.result.ok, false);
      assert.ok(of(events, "anomaly").some((e) => e.anomaly.code === "gradient-check" && e.anomaly.layer === layer.layer.id));
    });

    it("passes its gradient check when its backward is right (the check calls the layer's own functions)", () => {
      const { events } = record(model(false), { gradCheck: true });
      const layer = of(events, "layer/new").find((e) => e.layer.className === "ArrowSigmoid");
      const check = of(events, "gradcheck").find((e) => e.result.layer === layer?.layer.id);
      assert.equal(check?.result.ok, true);
      assert.ok(check.result.tensors.some((t) => t.name === "dinputs" && t.checked > 0));
    });

    it("called before the recorder could wrap it, it is reported as untraced instead of passing silently", () => {
      const { events } = record(
        () => {
          const s = new (sigmoid(true))();
          s.forward(tensor([[0.5, -1]]));
          s.backward(tensor([[1, 1]]));
        },
        { gradCheck: true },
      );
      const untraced = of(events, "anomaly").filter((e) => e.anomaly.code === "untraced-layer");
      assert.equal(untraced.length, 1);
      assert.equal(untraced[0]?.anomaly.severity, "error");
      assert.match(untraced[0]?.anomaly.message ?? "", /ArrowSigmoid#0 \(ArrowSigmoid\) ran but was not traced.*function fields.*as methods/);
    });
  });
});
