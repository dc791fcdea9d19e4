/**
 * Chain-rule explanations (core/explain.ts) with the chapter's numbers: the layer of 3 neurons over a
 * batch of 3 (02-layer-batch), the softmax sample [0.7, 0.1, 0.2] (03) and the single neuron (01).
 */
import * as assert from "node:assert/strict";
import { CategoricalCrossentropy, Dense, ReLU, Softmax, max, mul, sum, tensor, value, type Tensor } from "../../core/index";
import { eqNumber, explainElement, explainNeeds, latexNumber, latexText, scalarChain, scalarStepText } from "../../core/explain";
import type { ScalarBackward, ScalarNode } from "../../core/trace/traceTypes";

const inputs = [
  [1.0, 2.0, 3.0, 2.5],
  [2.0, 5.0, -1.0, 2.0],
  [-1.5, 2.7, 3.3, -0.8],
];
const neuronWeights = [
  [0.2, 0.8, -0.5, 1.0],
  [0.5, -0.91, 0.26, -0.5],
  [-0.26, -0.27, 0.17, 0.87],
];
const weights = neuronWeights[0]!.map((_, i) => neuronWeights.map((row) => row[i]!));
const dvalues = [
  [1.0, 1.0, 1.0],
  [2.0, 2.0, 2.0],
  [3.0, 3.0, 3.0],
];

function denseCalls(): { forward: Record<string, Tensor>; backward: Record<string, Tensor> } {
  const d = new Dense(4, 3, { weights, biases: [[2.0, 3.0, 0.5]] });
  d.forward(inputs);
  d.backward(dvalues);
  return {
    forward: { inputs: tensor(inputs), output: d.output, weights: tensor(weights) },
    backward: { dvalues: tensor(dvalues), dinputs: d.dinputs, dweights: d.dweights, dbiases: d.dbiases },
  };
}

describe("explain: Dense (02-layer-batch numbers)", () => {
  it("dweights[1][0] = 2·1 + 5·2 + 2.7·3 = 20.1 (dweights = Xᵀ · dvalues)", () => {
    const e = explainElement({ kind: "dense", tensor: "dweights", index: [1, 0], ...denseCalls() });
    assert.equal(e.text, "dweights[1][0] = 2·1 + 5·2 + 2.7·3 = 20.1");
    assert.equal(e.terms.length, 3);
    assert.deepEqual(
      e.terms.map((t) => t.labels),
      [
        ["inputs[0][1]", "dvalues[0][0]"],
        ["inputs[1][1]", "dvalues[1][0]"],
        ["inputs[2][1]", "dvalues[2][0]"],
      ],
    );
    assert.ok(Math.abs(e.value - 20.1) < 1e-12);
    assert.ok(Math.abs((e.recorded as number) - 20.1) < 1e-12);
    assert.ok((e.difference as number) < 1e-12);
    assert.equal(e.latex, "\\mathrm{dweights}_{1,0} = 2 \\cdot 1 + 5 \\cdot 2 + 2.7 \\cdot 3 = 20.1");
    assert.equal(e.rule, "dweights[i][j] = Σₙ inputs[n][i] · dvalues[n][j]");
  });

  it("dinputs[0][0] = Σⱼ dvalues[0][j] · weights[0][j] = 0.44 (dinputs = dvalues · Wᵀ)", () => {
    const e = explainElement({ kind: "dense", tensor: "dinputs", index: [0, 0], ...denseCalls() });
    assert.equal(e.text, "dinputs[0][0] = 1·0.2 + 1·0.5 + 1·(−0.26) = 0.44");
    assert.ok(Math.abs(e.value - 0.44) < 1e-12);
    assert.ok(Math.abs((e.recorded as number) - 0.44) < 1e-12);
  });

  it("dbiases[0][2] = 1 + 2 + 3 = 6 (dbiases = Σ dvalues)", () => {
    const e = explainElement({ kind: "dense", tensor: "dbiases", index: [0, 2], ...denseCalls() });
    assert.equal(e.text, "dbiases[0][2] = 1 + 2 + 3 = 6");
    assert.equal(e.value, 6);
    assert.equal(e.recorded, 6);
  });

  it("long sums list the first 3 and the last 2 terms and the count", () => {
    const n = 300;
    const x = { shape: [n, 2], data: Float64Array.from({ length: n * 2 }, (_, i) => i % 2) };
    const dv = { shape: [n, 3], data: new Float64Array(n * 3).fill(0.5) };
    const e = explainElement({ kind: "dense", tensor: "dweights", index: [1, 0], forward: { inputs: x }, backward: { dvalues: dv } });
    assert.equal(e.terms.length, 300);
    assert.deepEqual(e.shown, [0, 1, 2, 298, 299]);
    assert.equal(e.omitted, 295);
    assert.equal(e.text, "dweights[1][0] = 1·0.5 + 1·0.5 + 1·0.5 + … + 1·0.5 + 1·0.5 = 150 (300 terms)");
  });

  it("says which tensor is missing instead of inventing numbers", () => {
    const { backward } = denseCalls();
    const e = explainElement({ kind: "dense", tensor: "dweights", index: [0, 0], backward });
    assert.ok(Number.isNaN(e.value));
    assert.match(e.note ?? "", /needs inputs/);
  });

  it("names the tensors each rule reads", () => {
    assert.deepEqual(explainNeeds("dense", "dinputs"), { forward: ["weights"], backward: ["dinputs", "dvalues"] });
    assert.deepEqual(explainNeeds("relu", "dinputs"), { forward: ["inputs"], backward: ["dinputs", "dvalues"] });
    assert.deepEqual(explainNeeds("custom", "dinputs"), { forward: [], backward: ["dinputs"] });
  });
});

describe("explain: activations and losses", () => {
  it("ReLU passes the gradient where the input was positive and blocks it elsewhere", () => {
    const x = tensor([[4.8, -1.81]]);
    const r = new ReLU();
    r.forward(x);
    r.backward([[2, 3]]);
    const on = explainElement({ kind: "relu", tensor: "dinputs", index: [0, 0], forward: { inputs: x }, backward: { dvalues: tensor([[2, 3]]), dinputs: r.dinputs } });
    assert.equal(on.text, "dinputs[0][0] = 2·1[4.8 > 0] = 2");
    const off = explainElement({ kind: "relu", tensor: "dinputs", index: [0, 1], forward: { inputs: x }, backward: { dvalues: tensor([[2, 3]]), dinputs: r.dinputs } });
    assert.equal(off.text, "dinputs[0][1] = 3·1[−1.81 > 0] = 0");
    assert.equal(off.recorded, 0);
  });

  it("Softmax: dinputs[n][i] = Σⱼ J_n[i][j] · dvalues[n][j] with J_0's first row 0.21 −0.07 −0.14", () => {
    const probs = [
      [0.7, 0.1, 0.2],
      [0.1, 0.5, 0.4],
      [0.02, 0.9, 0.08],
    ];
    const sm = new Softmax();
    sm.forward(probs.map((row) => row.map(Math.log)));
    const cce = new CategoricalCrossentropy();
    cce.backward(probs, [0, 1, 1]);
    sm.backward(cce.dinputs);
    const e = explainElement({ kind: "softmax", tensor: "dinputs", index: [0, 0], forward: { output: sm.output }, backward: { dvalues: cce.dinputs, dinputs: sm.dinputs } });
    assert.deepEqual(
      e.terms.map((t) => Number((t.factors[0] as number).toFixed(10))),
      [0.21, -0.07, -0.14],
    );
    assert.ok(Math.abs(e.value - -0.1) < 1e-12, `value ${e.value}`);
    assert.ok((e.difference as number) < 1e-12);
  });

  it("softmax + CCE: dinputs[0][0] = (0.7 − 1) / 3 = −0.1", () => {
    const probs = tensor([
      [0.7, 0.1, 0.2],
      [0.1, 0.5, 0.4],
      [0.02, 0.9, 0.08],
    ]);
    const e = explainElement({ kind: "softmax-cce", tensor: "dinputs", index: [0, 0], backward: { dvalues: probs, targets: tensor([0, 1, 1]) } });
    assert.equal(e.text, "dinputs[0][0] = (0.7 − 1) / 3 = −0.1");
    const e2 = explainElement({ kind: "softmax-cce", tensor: "dinputs", index: [0, 1], backward: { dvalues: probs, targets: tensor([0, 1, 1]) } });
    assert.equal(e2.text, "dinputs[0][1] = (0.1 − 0) / 3 = 0.0333333");
  });

  it("CCE: dinputs[0][0] = −1 / 0.7 / 3 (one-hot targets too)", () => {
    const probs = tensor([[0.7, 0.1, 0.2]]);
    const e = explainElement({ kind: "cce", tensor: "dinputs", index: [0, 0], backward: { dvalues: probs, targets: tensor([[1, 0, 0]]) } });
    assert.equal(e.text, "dinputs[0][0] = −1 / 0.7 / 1 = −1.42857");
  });

  it("custom layers: no formula, the value and the gradient check", () => {
    const d = tensor([[0.25, -0.5]]);
    const e = explainElement({
      kind: "custom",
      tensor: "dinputs",
      index: [0, 1],
      backward: { dinputs: d },
      gradCheck: { name: "dinputs", ok: false, checked: 2, total: 2, kinks: 0, rtol: 1e-5, atol: 1e-7, worst: { index: [0, 1], analytic: -0.5, numeric: -0.25, absErr: 0.25, relErr: 1 } },
    });
    assert.equal(e.text, "dinputs[0][1] = −0.5");
    assert.equal(e.rule, "");
    assert.match(e.note ?? "", /custom layer/);
    assert.match(e.note ?? "", /gradient check FAILED \(2\/2 elements, worst at \[0, 1\]: analytic −0.5 vs numeric −0.25\)/);
  });
});

describe("explain: the single neuron (01-single-neuron)", () => {
  function neuron(): { backward: ScalarBackward; nodes: ScalarNode[]; ids: Record<string, number> } {
    const x0 = value(1.0, "x0"), x1 = value(-2.0, "x1"), x2 = value(3.0, "x2");
    const w0 = value(-3.0, "w0"), w1 = value(-1.0, "w1"), w2 = value(2.0, "w2");
    const b = value(1.0, "b");
    const xw0 = mul(x0, w0), xw1 = mul(x1, w1), xw2 = mul(x2, w2);
    const z = sum([xw0, xw1, xw2, b], "z");
    const y = max(z, 0, "y");
    const steps = y.backward(1.0);
    const all = [x0, x1, x2, w0, w1, w2, b, xw0, xw1, xw2, z, y];
    const nodes: ScalarNode[] = all.map((v) => ({ id: v.id, label: v.label, op: v.op, data: v.data, inputs: v.inputs.map((i) => i.id), local: [...v.local], step: 0 }));
    return {
      backward: { step: 0, root: y.id, dvalue: 1, steps, grads: all.map((v) => ({ id: v.id, grad: v.grad })) },
      nodes,
      ids: Object.fromEntries(all.map((v) => [v.label, v.id])),
    };
  }

  it("writes each step as name = upstream · local = numbers", () => {
    const { backward } = neuron();
    const texts = backward.steps.map(scalarStepText);
    assert.equal(texts[0], "drelu_dz = dvalue · ∂relu/∂z = 1 · 1 = 1");
    assert.equal(texts[1], "drelu_dxw0 = drelu_dz · dsum_dxw0 = 1 · 1 = 1");
    assert.ok(texts.includes("drelu_dx0 = drelu_dxw0 · dmul_dx0 = 1 · −3 = −3"), texts.join("\n"));
  });

  it("∂y/∂w0 = drelu_dz · dsum_dxw0 · dmul_dw0 = 1 · 1 · 1 = 1", () => {
    const { backward, nodes, ids } = neuron();
    const c = scalarChain(backward, nodes, ids.w0 as number);
    assert.equal(c.text, "∂y/∂w0 = drelu_dz · dsum_dxw0 · dmul_dw0 = 1 · 1 · 1 = 1");
    assert.equal(c.value, 1);
    assert.equal(c.recorded, 1);
    assert.deepEqual(new Set(c.nodeIds), new Set([ids.w0, ids.xw0, ids.z, ids.y]));
    const cx = scalarChain(backward, nodes, ids.x1 as number);
    assert.equal(cx.text, "∂y/∂x1 = drelu_dz · dsum_dxw1 · dmul_dx1 = 1 · 1 · −1 = −1");
  });

  it("escapes user labels in LaTeX", () => {
    assert.equal(latexText("a_b{c}\\d"), "\\text{a\\_b\\{c\\}\\textbackslash{}d}");
  });
});

describe("explain: numbers in equations", () => {
  it("prints integers plainly, 6 significant digits otherwise, exponents for tiny values", () => {
    assert.equal(eqNumber(2), "2");
    assert.equal(eqNumber(20.099999999999998), "20.1");
    assert.equal(eqNumber(-0.07), "−0.07");
    assert.equal(eqNumber(2.82717753e-5), "2.82718e−5");
    assert.equal(latexNumber(2.82717753e-5), "2.82718 \\times 10^{-5}");
    assert.equal(eqNumber(NaN), "NaN");
  });
});
