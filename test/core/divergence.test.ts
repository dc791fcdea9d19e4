/**
 * Issue 13: SGD at learning rate 50 drives the spiral model's loss from 1.1 to 10.7 in a few steps and
 * kills every ReLU unit; the only problem reported was a dead-ReLU note at the last step. The blow-up
 * rule reports it where it happened, with the loss jump, the update-to-weight ratio lr·‖dW‖/‖W‖ and
 * the gradient growth, and names the learning rate as the likely cause. Healthy training is not flagged.
 */
import * as assert from "node:assert/strict";
import { Adam, Dense, type Optimizer, ReLU, SGD, SoftmaxCategoricalCrossentropy, seed, spiralData } from "../../core/host";
import { DivergenceWatch, type StepObservation } from "../../core/trace/divergence";
import { l2norm } from "../../core/trace/stats";
import { pass, record } from "../helpers/record";

/** Trains the spiral model and feeds the watch what the recorder sees: loss, lr, ‖W‖ before, ‖dW‖, ‖ΔW‖. */
function watchTraining(opt: () => Optimizer, epochs: number): { watch: DivergenceWatch; losses: number[] } {
  seed(0);
  const [X, y] = spiralData(100, 3);
  const dense1 = new Dense(2, 64, { name: "dense1" });
  const relu = new ReLU();
  const dense2 = new Dense(64, 3, { name: "dense2" });
  const loss = new SoftmaxCategoricalCrossentropy();
  const optimizer = opt();
  const watch = new DivergenceWatch();
  const losses: number[] = [];
  for (let step = 0; step < epochs; step++) {
    const l = pass([dense1, relu, dense2], loss, X, y);
    losses.push(l);
    const before = [dense1, dense2].flatMap((d, li) => d.params().map((p) => ({ li, d, name: p.name, w: p.value.data.slice(), g: p.grad ? l2norm(p.grad) : NaN, shape: p.value.shape })));
    const lr = optimizer.currentLearningRate;
    optimizer.step(dense1, dense2);
    const obs: StepObservation = {
      step,
      loss: l,
      learningRate: lr,
      optimizer: { kind: optimizer.kind, momentum: false },
      params: before.map((b) => {
        const now = (b.d.params().find((p) => p.name === b.name)?.value.data ?? new Float64Array()) as Float64Array;
        const delta = now.map((v, i) => v - (b.w[i] as number));
        return { layer: b.li, layerName: b.li === 0 ? "dense1" : "dense2", name: b.name, weightNorm: l2norm({ shape: b.shape, data: b.w }), gradNorm: b.g, updateNorm: l2norm({ shape: b.shape, data: delta }) };
      }),
    };
    watch.observe(obs);
  }
  return { watch, losses };
}

describe("the learning-rate blow-up rule", function () {
  this.timeout(60000);

  it("SGD at learning rate 50: reported where the loss jumped, with the update ratio, and the learning rate named", () => {
    const { watch, losses } = watchTraining(() => new SGD({ learningRate: 50 }), 30);
    assert.ok((losses[losses.length - 1] as number) > 5 && (losses[0] as number) < 1.2, `the model blows up: ${losses.slice(0, 6).map((l) => l.toFixed(3)).join(" ")} … ${losses[losses.length - 1]}`);
    const out = watch.finish();
    assert.equal(out.length, 1);
    const a = out[0] ?? assert.fail();
    if (process.env.BPL_SHOW) console.log(a.message);
    assert.equal(a.code, "diverging");
    assert.equal(a.severity, "warning");
    const jump = losses.findIndex((l, i) => i > 0 && l > 1.5 * Math.min(...losses.slice(0, i)));
    assert.equal(a.step, jump, "at the step where the loss jumped, not at the end");
    assert.ok(jump < 10);
    assert.match(a.message, /the loss jumped from 1\.0\d+ \(step \d\) to \d/);
    assert.match(a.message, /lr·‖dW‖\/‖W‖ = 50·/);
    assert.match(a.message, /the likely cause is the learning rate \(50, SGD\): try 5/);
    assert.ok(a.layer === 0 || a.layer === 1);
  });

  it("Adam at 0.05 for 3,000 epochs (it trains): nothing reported", () => {
    const { watch, losses } = watchTraining(() => new Adam({ learningRate: 0.05, decay: 5e-7 }), 3000);
    assert.ok((losses[losses.length - 1] as number) < 0.6, `it trains: final loss ${losses[losses.length - 1]}`);
    assert.deepEqual(watch.finish(), []);
  });

  it("a spike above the starting loss that comes back is a note, not a warning; noise below it is nothing", () => {
    const feed = (ls: number[]): ReturnType<DivergenceWatch["finish"]> => {
      const w = new DivergenceWatch();
      ls.forEach((loss, step) => w.observe({ step, loss, learningRate: 0.1, optimizer: { kind: "Adam" }, params: [] }));
      return w.finish();
    };
    const spike = feed([1.1, 0.8, 0.4, 0.2, 3.9, 1.0, 0.3, 0.2]);
    assert.equal(spike.length, 1);
    assert.equal(spike[0]?.code, "loss-spike");
    assert.equal(spike[0]?.severity, "information");
    assert.equal(spike[0]?.step, 4);
    assert.match(spike[0]?.message ?? "", /came back down/);
    assert.deepEqual(feed([1.1, 0.8, 0.4, 0.2, 0.45, 0.3, 0.2]), [], "0.2 → 0.45 stays under the start: noise");
    const nan = feed([1.1, 1.0, 2.5, NaN]);
    assert.equal(nan[0]?.code, "diverging", "a loss that ends as NaN diverged");
  });

  it("the recorder reports it (SGD at 50, 300 epochs): a warning at the jump naming the learning rate, not only the dead ReLU", () => {
    const { events, error } = record(() => {
      seed(0);
      const [X, y] = spiralData(100, 3);
      const dense1 = new Dense(2, 64, { name: "dense1" });
      const activation1 = new ReLU();
      const dense2 = new Dense(64, 3, { name: "dense2" });
      const loss = new SoftmaxCategoricalCrossentropy();
      const optimizer = new SGD({ learningRate: 50 });
      for (let epoch = 0; epoch < 300; epoch++) {
        pass([dense1, activation1, dense2], loss, X, y);
        optimizer.preUpdateParams();
        optimizer.updateParams(dense1);
        optimizer.updateParams(dense2);
        optimizer.postUpdateParams();
      }
    });
    assert.equal(error, undefined);
    const anomalies = events.flatMap((e) => (e.type === "anomaly" ? [e.anomaly] : []));
    const d = anomalies.find((a) => a.code === "diverging") ?? assert.fail(anomalies.map((a) => a.message).join("\n"));
    assert.ok(d.step < 10, `at step ${d.step}`);
    assert.match(d.message, /lr·‖dW‖\/‖W‖ = 50·/);
    assert.match(d.message, /learning rate \(50, SGD\)/);
    assert.ok(d.site, "it points at a line (where the optimizer was made)");
    assert.ok(anomalies.some((a) => a.code === "dead-relu"), "the dead ReLUs are still reported");
  });

  it("the recorder reports nothing for the book's Adam training", () => {
    const { events } = record(() => {
      seed(0);
      const [X, y] = spiralData(100, 3);
      const dense1 = new Dense(2, 64);
      const activation1 = new ReLU();
      const dense2 = new Dense(64, 3);
      const loss = new SoftmaxCategoricalCrossentropy();
      const optimizer = new Adam({ learningRate: 0.05, decay: 5e-7 });
      for (let epoch = 0; epoch < 400; epoch++) {
        pass([dense1, activation1, dense2], loss, X, y);
        optimizer.step(dense1, dense2);
      }
    });
    assert.deepEqual(events.flatMap((e) => (e.type === "anomaly" && (e.anomaly.code === "diverging" || e.anomaly.code === "loss-spike") ? [e.anomaly.message] : [])), []);
  });
});
