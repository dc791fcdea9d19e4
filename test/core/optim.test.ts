/** Optimizers against their formulas computed by hand, and a model that learns. */
import * as assert from "node:assert/strict";
import { Adam, Dense, ReLU, SGD, SoftmaxCategoricalCrossentropy, Sequential, accuracy, seed, spiralData } from "../../core/index";

function layerWithGrad(w: number, g: number): Dense {
  const d = new Dense(1, 1, { weights: [[w]], biases: [[0]] });
  d.dweights = { shape: [1, 1], data: Float64Array.from([g]) };
  d.dbiases = { shape: [1, 1], data: Float64Array.from([0]) };
  return d;
}

describe("optimizers", () => {
  it("SGD with decay: lr_t = lr / (1 + decay·t), p += −lr_t·dp", () => {
    const d = layerWithGrad(1, 0.5);
    const opt = new SGD({ learningRate: 1, decay: 0.1 });
    opt.step(d); // t = 0: lr 1
    opt.step(d); // t = 1: lr 1/1.1
    assert.ok(Math.abs((d.weights.data[0] as number) - (1 - 0.5 - 0.5 / 1.1)) < 1e-15);
    assert.equal(opt.iterations, 2);
  });

  it("SGD with momentum: u = m·u − lr·dp; p += u", () => {
    const d = layerWithGrad(0, 1);
    const opt = new SGD({ learningRate: 0.1, momentum: 0.9 });
    opt.step(d); // u = −0.1
    opt.step(d); // u = −0.09 − 0.1 = −0.19
    assert.ok(Math.abs((d.weights.data[0] as number) - -0.29) < 1e-15);
  });

  it("Adam: bias-corrected moments", () => {
    const d = layerWithGrad(0, 2);
    const opt = new Adam({ learningRate: 0.01, epsilon: 1e-7 });
    opt.step(d);
    // m = 0.2, v = 0.004; m̂ = 2, v̂ = 4; step = −0.01 · 2 / (2 + 1e-7)
    assert.ok(Math.abs((d.weights.data[0] as number) - -0.01 * (2 / (2 + 1e-7))) < 1e-15);
  });

  it("trains the spiral model of the chapter to well over 90% accuracy", function () {
    this.timeout(60_000);
    seed(0); // as a fresh run starts: the same data and initial weights as examples/05-spiral-training.ts
    const [X, y] = spiralData(100, 3);
    const model = new Sequential([new Dense(2, 64), new ReLU(), new Dense(64, 3)], new SoftmaxCategoricalCrossentropy());
    const opt = new Adam({ learningRate: 0.1, decay: 1e-4 });
    let last = { loss: Infinity, accuracy: 0 };
    for (let epoch = 0; epoch <= 10_000; epoch++) last = model.trainStep(X, y, opt);
    assert.ok(last.accuracy > 0.94, `accuracy ${last.accuracy}`);
    assert.ok(last.loss < 0.12, `loss ${last.loss}`);
    assert.ok(Math.abs(accuracy(model.loss.output, y) - last.accuracy) < 0.02);
  });
});
