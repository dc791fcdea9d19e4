/**
 * Every case of the chapter's reference numbers (test/fixtures/seed-cases.json, copied from
 * ../shared/reference) reproduced through the public API, within each case's tolerance.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  CategoricalCrossentropy,
  Dense,
  ReLU,
  SGD,
  Softmax,
  SoftmaxCategoricalCrossentropy,
  accuracy,
  compareSoftmaxCcePaths,
  max,
  mul,
  softmaxJacobian,
  sum,
  tensor,
  toArray,
  value,
} from "../../core/index";
import { expectClose } from "../helpers/close";

interface SeedCase {
  id: string;
  inputs: Record<string, unknown>;
  expected: Record<string, unknown>;
  tolerance: number;
}

const file = path.join(__dirname, "..", "..", "..", "test", "fixtures", "seed-cases.json");
const cases = (JSON.parse(fs.readFileSync(file, "utf8")) as { cases: SeedCase[] }).cases;
const byId = new Map(cases.map((c) => [c.id, c]));

/** The cases the tests below read, so that the last test can say which fixture case none of them checked. */
const used = new Set<string>();

function seedCase(id: string): SeedCase {
  const c = byId.get(id);
  if (c === undefined) throw new Error(`seed case ${id} is missing from the fixture`);
  used.add(id);
  return c;
}

type M = number[][];

describe("seed cases (chapter 9 reference numbers)", () => {
  it("the fixture is the shared reference (../shared/reference/seed-cases.json), when it is there", function () {
    // shared/ sits beside the repository (CI, /work/main) or beside the folder of worktrees.
    const repo = path.join(__dirname, "..", "..", "..");
    const shared = [path.join(repo, "..", "shared"), path.join(repo, "..", "..", "shared")].map((d) => path.join(d, "reference", "seed-cases.json")).find((f) => fs.existsSync(f));
    if (shared === undefined) this.skip();
    assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), JSON.parse(fs.readFileSync(shared, "utf8")));
  });

  /** Builds the single neuron of the chapter from scalar values. */
  function neuron(x: number[], w: number[], b: number) {
    const xs = x.map((v, i) => value(v, `x${i}`));
    const ws = w.map((v, i) => value(v, `w${i}`));
    const bv = value(b, "b");
    const xw = xs.map((xi, i) => mul(xi, ws[i] as never));
    const z = sum([...xw, bv], "z");
    const y = max(z, 0, "y");
    return { xs, ws, bv, xw, z, y };
  }

  it("single-neuron-chain-rule", () => {
    const c = seedCase("single-neuron-chain-rule");
    const i = c.inputs as { x: number[]; w: number[]; b: number; dvalue: number };
    const e = c.expected as { xw: number[]; z: number; y: number; drelu_dz: number; drelu_dxw: number[]; drelu_db: number; dx: number[]; dw: number[]; db: number };
    const n = neuron(i.x, i.w, i.b);
    expectClose(n.xw.map((v) => v.data), e.xw, c.tolerance);
    expectClose(n.z.data, e.z, c.tolerance);
    expectClose(n.y.data, e.y, c.tolerance);
    const steps = n.y.backward(i.dvalue);
    const named = new Map(steps.map((s) => [s.name, s.value]));
    expectClose(named.get("drelu_dz"), e.drelu_dz, c.tolerance);
    expectClose([0, 1, 2].map((k) => named.get(`drelu_dxw${k}`)), e.drelu_dxw, c.tolerance);
    expectClose(named.get("drelu_db"), e.drelu_db, c.tolerance);
    expectClose([0, 1, 2].map((k) => named.get(`drelu_dx${k}`)), e.dx, c.tolerance);
    expectClose([0, 1, 2].map((k) => named.get(`drelu_dw${k}`)), e.dw, c.tolerance);
    expectClose(n.xs.map((v) => v.grad), e.dx, c.tolerance);
    expectClose(n.ws.map((v) => v.grad), e.dw, c.tolerance);
    expectClose(n.bv.grad, e.db, c.tolerance);
    // The book's order: ReLU first, then the sum's four inputs, then each product's two inputs.
    assert.deepEqual(
      steps.map((s) => s.name),
      ["drelu_dz", "drelu_dxw0", "drelu_dxw1", "drelu_dxw2", "drelu_db", "drelu_dx0", "drelu_dw0", "drelu_dx1", "drelu_dw1", "drelu_dx2", "drelu_dw2"],
    );
    const s = steps.find((st) => st.name === "drelu_dx0");
    assert.equal(s?.upstream.name, "drelu_dxw0");
    assert.equal(s?.local.name, "dmul_dx0");
  });

  it("single-neuron-sgd-step", () => {
    const c = seedCase("single-neuron-sgd-step");
    const i = c.inputs as { x: number[]; w: number[]; b: number; learning_rate: number };
    const e = c.expected as { w: number[]; b: number; y: number };
    const n = neuron(i.x, i.w, i.b);
    n.y.backward(1);
    const w = n.ws.map((wi) => wi.data - i.learning_rate * wi.grad);
    const b = n.bv.data - i.learning_rate * n.bv.grad;
    expectClose(w, e.w, c.tolerance);
    expectClose(b, e.b, c.tolerance);
    expectClose(neuron(i.x, w, b).y.data, e.y, c.tolerance);
  });

  it("layer-dinputs-one-sample and layer-dinputs-batch: dinputs = dvalues · weightsᵀ", () => {
    for (const id of ["layer-dinputs-one-sample", "layer-dinputs-batch"]) {
      const c = seedCase(id);
      const i = c.inputs as { dvalues: M; weights: M };
      const weights = tensor(i.weights);
      const [nIn, nOut] = weights.shape as [number, number];
      const layer = new Dense(nIn, nOut, { weights });
      layer.forward(tensor(i.dvalues.map(() => new Array<number>(nIn).fill(1))));
      layer.backward(i.dvalues);
      expectClose(toArray(layer.dinputs), (c.expected as { dinputs: M }).dinputs, c.tolerance);
    }
  });

  it("layer-dweights: dweights = inputsᵀ · dvalues", () => {
    const c = seedCase("layer-dweights");
    const i = c.inputs as { inputs: M; dvalues: M };
    const layer = new Dense((i.inputs[0] as number[]).length, (i.dvalues[0] as number[]).length);
    layer.forward(i.inputs);
    layer.backward(i.dvalues);
    expectClose(toArray(layer.dweights), (c.expected as { dweights: M }).dweights, c.tolerance);
  });

  it("layer-dbiases: dbiases = Σ dvalues over samples, as a row", () => {
    const c = seedCase("layer-dbiases");
    const i = c.inputs as { dvalues: M };
    const nOut = (i.dvalues[0] as number[]).length;
    const layer = new Dense(2, nOut);
    layer.forward(i.dvalues.map(() => [1, 1]));
    layer.backward(i.dvalues);
    assert.deepEqual(layer.dbiases.shape, [1, nOut]);
    expectClose(toArray(layer.dbiases), (c.expected as { dbiases: M }).dbiases, c.tolerance);
  });

  it("relu-backward: the gradient is zeroed where the input was ≤ 0", () => {
    const c = seedCase("relu-backward");
    const i = c.inputs as { inputs: M; dvalues: M };
    const relu = new ReLU();
    relu.forward(i.inputs);
    relu.backward(i.dvalues);
    expectClose(toArray(relu.dinputs), (c.expected as { dinputs: M }).dinputs, c.tolerance);
  });

  it("ReLU keeps NaN as NumPy's maximum does, so the NaN can be traced to where it began", () => {
    const relu = new ReLU();
    relu.forward([[NaN, -Infinity, -1, 2]]);
    const out = Array.from(relu.output.data);
    assert.ok(Number.isNaN(out[0]));
    assert.deepEqual(out.slice(1), [0, 0, 2]);
    relu.backward([[5, 5, 5, 5]]);
    assert.deepEqual(Array.from(relu.dinputs.data), [5, 0, 0, 5]);
  });

  it("layer-relu-sgd-step: Dense → ReLU, ReLU outputs as dvalues, then SGD with lr 0.001", () => {
    const c = seedCase("layer-relu-sgd-step");
    const i = c.inputs as { inputs: M; weights: M; biases: M; learning_rate: number };
    const e = c.expected as { layer_outputs: M; relu_outputs: M; dweights: M; dbiases: M; weights: M; biases: M };
    const dense = new Dense(4, 3, { weights: i.weights, biases: i.biases });
    const relu = new ReLU();
    dense.forward(i.inputs);
    relu.forward(dense.output);
    expectClose(toArray(dense.output), e.layer_outputs, c.tolerance);
    expectClose(toArray(relu.output), e.relu_outputs, c.tolerance);
    relu.backward(relu.output);
    dense.backward(relu.dinputs);
    expectClose(toArray(dense.dweights), e.dweights, c.tolerance);
    expectClose(toArray(dense.dbiases), e.dbiases, c.tolerance);
    new SGD({ learningRate: i.learning_rate }).step(dense);
    expectClose(toArray(dense.weights), e.weights, c.tolerance);
    expectClose(toArray(dense.biases), e.biases, c.tolerance);
  });

  it("softmax-jacobian: diag(s) − s·sᵀ", () => {
    const c = seedCase("softmax-jacobian");
    const s = (c.inputs as { softmax_output: number[] }).softmax_output;
    expectClose(toArray(softmaxJacobian(s)), (c.expected as { jacobian: M }).jacobian, c.tolerance);
    // The same matrix from a Softmax layer whose output is s (inputs log s give softmax s exactly).
    const layer = new Softmax();
    layer.forward([s.map(Math.log)]);
    expectClose(toArray(layer.jacobian(0)), (c.expected as { jacobian: M }).jacobian, 1e-12);
  });

  it("softmax-cce-combined-backward: (ŷ − y)/n equals CCE backward then the Jacobian, sparse and one-hot", () => {
    const c = seedCase("softmax-cce-combined-backward");
    const i = c.inputs as { softmax_outputs: M; class_targets: number[] };
    const e = c.expected as { dinputs: M; separate_dinputs: M; cce_dinputs: M };
    const k = (i.softmax_outputs[0] as number[]).length;
    const oneHot = i.class_targets.map((t) => Array.from({ length: k }, (_, j) => (j === t ? 1 : 0)));
    for (const targets of [i.class_targets, oneHot]) {
      const combined = new SoftmaxCategoricalCrossentropy();
      combined.backward(i.softmax_outputs, targets);
      expectClose(toArray(combined.dinputs), e.dinputs, c.tolerance);

      const loss = new CategoricalCrossentropy();
      loss.backward(i.softmax_outputs, targets);
      expectClose(toArray(loss.dinputs), e.cce_dinputs, c.tolerance);
      const softmax = new Softmax();
      softmax.forward(i.softmax_outputs.map((row) => row.map(Math.log)));
      softmax.backward(loss.dinputs);
      expectClose(toArray(softmax.dinputs), e.separate_dinputs, c.tolerance);

      const paths = compareSoftmaxCcePaths(i.softmax_outputs, targets);
      expectClose(toArray(paths.combined), e.dinputs, c.tolerance);
      expectClose(toArray(paths.separate), e.separate_dinputs, c.tolerance);
      assert.ok(paths.maxDiff < c.tolerance, `paths differ by ${paths.maxDiff}`);
    }
  });

  it("cce-forward: clipped −log of the correct-class confidence, mean, accuracy", () => {
    const c = seedCase("cce-forward");
    const i = c.inputs as { softmax_outputs: M; class_targets: number[] };
    const e = c.expected as { sample_losses: number[]; mean_loss: number; accuracy: number };
    const k = (i.softmax_outputs[0] as number[]).length;
    const oneHot = i.class_targets.map((t) => Array.from({ length: k }, (_, j) => (j === t ? 1 : 0)));
    for (const targets of [i.class_targets, oneHot]) {
      const loss = new CategoricalCrossentropy();
      expectClose(Array.from(loss.forward(i.softmax_outputs, targets).data), e.sample_losses, c.tolerance);
      expectClose(loss.calculate(i.softmax_outputs, targets), e.mean_loss, c.tolerance);
      expectClose(accuracy(i.softmax_outputs, targets), e.accuracy, c.tolerance);
    }
  });

  // Last: the tests above record the cases they read, so a case added to the fixture without a test fails here.
  it("every case in the fixture was checked by a test above", () => {
    assert.ok(cases.length >= 11, `the fixture has its cases (${cases.length})`);
    assert.deepEqual(
      cases.map((c) => c.id).filter((id) => !used.has(id)),
      [],
    );
  });
});
