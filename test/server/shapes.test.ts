/**
 * The static shape analysis against real runs: every example, template and model fixture is
 * analysed and run with the CLI; a model that runs gets no static error, and every layer call the
 * run recorded has, before running, the shapes the run reported. Then shape bugs planted the way a
 * new user makes them (each found at the line where the run fails, with a fix that makes it run),
 * and a property test on random Dense/ReLU stacks, some with a mismatch planted.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as fc from "fast-check";
import { TEMPLATES } from "../../extension/templates";
import { analyzeModel } from "../../extension/server/shapes/analyze";
import { ROOT } from "./fixtures";
import { applyEdits, assertSameShapes, runModelFile, staticErrors } from "./shapesRuns";

function analyzeFile(file: string): ReturnType<typeof analyzeModel> {
  return analyzeModel(fs.readFileSync(file, "utf8"), file);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-shapes-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

describe("shape analysis: every example, template and fixture against its run", function () {
  this.timeout(180_000);

  const examples = fs.readdirSync(path.join(ROOT, "examples")).filter((f) => f.endsWith(".ts")).map((f) => path.join(ROOT, "examples", f));
  const templates = TEMPLATES.map((t) => path.join(ROOT, "dist", "templates", t.file));
  const fixtures = [
    ...fs.readdirSync(path.join(ROOT, "test", "fixtures", "models")).filter((f) => f.endsWith(".ts")).map((f) => path.join(ROOT, "test", "fixtures", "models", f)),
    path.join(ROOT, "webview", "dev", "models", "wide-dense.ts"),
  ];

  it("finds the six examples and every template", () => {
    assert.equal(examples.length, 6);
    assert.equal(templates.length, TEMPLATES.length);
    for (const t of templates) assert.ok(fs.existsSync(t), `${t} (npm run build copies the templates)`);
  });

  for (const file of examples) {
    it(`${path.basename(file)}: no static error, and every call's shapes as the run reports them`, () => {
      const result = analyzeFile(file);
      assert.deepEqual(result.diagnostics, [], "no static diagnostic");
      assert.equal(result.truncated, false);
      const run = runModelFile(file);
      assert.equal(run.ok, true, run.error?.message);
      const compared = assertSameShapes(path.basename(file), result, run, true);
      // The single neuron (scalar values) has no layer calls; every other example compares many tensors.
      if (!file.endsWith("01-single-neuron.ts")) assert.ok(compared >= 8, `${compared} shapes compared`);
    });
  }

  it("every template (what New Model File writes) gets no static error", () => {
    for (const file of templates) {
      const result = analyzeFile(file);
      assert.deepEqual(staticErrors(result), [], path.basename(file));
      assert.deepEqual(result.diagnostics, [], path.basename(file));
    }
  });

  for (const file of fixtures) {
    it(`fixture ${path.relative(ROOT, file)}: a static error only where the run cannot get past`, () => {
      const result = analyzeFile(file);
      const errors = staticErrors(result);
      const run = runModelFile(file, 3);
      if (run.ok) {
        assert.deepEqual(errors, [], "a model that runs gets no static error");
        assertSameShapes(path.basename(file), result, run, false);
        return;
      }
      // The run failed: no static error before the line where it failed (the run got past those
      // lines, so an error there would be false); a shape error of the run is found statically too.
      const failedAt = (run.error?.site?.line ?? Number.MAX_SAFE_INTEGER) - 1;
      for (const e of errors) assert.ok(e.line >= failedAt, `static ${e.code} at line ${e.line + 1} is before the run's failure at line ${failedAt + 1}: ${e.message}`);
      if (run.error?.kind === "shape") assert.ok(errors.some((e) => e.line === failedAt), `the run's shape error at line ${failedAt + 1} is found before running: ${JSON.stringify(errors)}`);
      assertSameShapes(path.basename(file), result, { ...run, calls: run.calls.filter((c) => c.line < failedAt) }, false);
    });
  }

  it("the bench's 1,000-line model: no static error, every layer call followed with the run's shapes", async () => {
    // Dynamic import: the generator is the benchmark's own module (test/bench/shapesModel.mjs).
    const { bigModel } = (await import(path.join(ROOT, "test", "bench", "shapesModel.mjs"))) as { bigModel: (lines?: number, variant?: number) => string };
    const text = bigModel(1000, 0);
    assert.ok(text.split("\n").length >= 1000);
    const file = write("big-model.ts", text);
    const result = analyzeModel(text, file);
    assert.deepEqual(result.diagnostics, []);
    assert.equal(result.truncated, false);
    // Every step recorded in full (each of its models is a few steps).
    const run = runModelFile(file, 60, 1000);
    assert.equal(run.ok, true, run.error?.message);
    assert.ok(assertSameShapes("big-model", result, run, true) > 2000);
  });

  it("shape-mismatch.ts: the static error names both layers, both shapes and the rule, and offers Dense(64, 3)", () => {
    const file = path.join(ROOT, "test/fixtures/models/shape-mismatch.ts");
    const text = fs.readFileSync(file, "utf8");
    const result = analyzeModel(text, file);
    assert.equal(result.diagnostics.length, 1);
    const d = result.diagnostics[0]!;
    assert.equal(d.code, "forward-shape");
    assert.equal(d.range.start.line, 9);
    for (const part of ["dense2", "Dense(3, 3)", "activation1.output", "[300, 64]", "dense1 = Dense(2, 64) has 64 neurons", "as many inputs as the previous layer has neurons"]) assert.ok(d.message.includes(part), `${part} in: ${d.message}`);
    assert.deepEqual(
      d.related.map((r) => [r.range.start.line, r.message]),
      [
        [5, "dense2 = Dense(3, 3): built here"],
        [3, "dense1 = Dense(2, 64), 64 neurons: built here"],
      ],
    );
    const fix = d.fixes[0]!;
    assert.equal(fix.title, "Change dense2 to Dense(64, 3) (activation1.output has 64 values per sample)");
    const fixed = applyEdits(text, fix.edits);
    assert.match(fixed, /const dense2 = new Dense\(64, 3\);/);
    assert.deepEqual(analyzeModel(fixed, file).diagnostics, []);
  });

  it("syntax-error.ts: no diagnostic at or after the syntax error, hovers for what parses", () => {
    const result = analyzeFile(path.join(ROOT, "test/fixtures/models/syntax-error.ts"));
    assert.ok(result.parseErrors > 0);
    assert.deepEqual(result.diagnostics, []);
    const ctor = result.facts.find((f) => f.kind === "construction" && f.range.start.line === 2);
    assert.ok(ctor?.markdown.includes("**dense1** = `Dense(2, 3)`"), JSON.stringify(result.facts.map((f) => f.markdown)));
    const call = result.facts.find((f) => f.kind === "call" && f.range.start.line === 3);
    assert.ok(call?.markdown.includes("inputs [1, 2] → output [1, 3]"), call?.markdown);
  });
});

describe("shape analysis: half-typed text", () => {
  const head = `import { Dense, ReLU } from "backprop-lens";
const dense1 = new Dense(2, 3);
const activation1 = new ReLU();
dense1.forward([[1, 2]]);
activation1.forward(dense1.output);
function feed(layer: Dense, d: number[][]) { layer.backward(d); }
`;
  it("a call that holds the syntax error gets no diagnostic (the parser's recovery is not the user's code); the finished text does", () => {
    // Typing [[1, 2]] in place of activation1.dinputs, a few characters at a time: only the finished text is a mistake.
    for (const typing of ["dense1.backward([[1, );", "dense1.backward([[1, 2);", "dense1.backward([[1, 2]);", "feed(dense1, [[1, );"]) {
      const r = analyzeModel(head + typing + "\n", "half.ts");
      assert.ok(r.parseErrors > 0, typing);
      assert.deepEqual(r.diagnostics, [], `${typing}: ${JSON.stringify(r.diagnostics.map((d) => d.message))}`);
    }
    for (const done of ["dense1.backward([[1, 2]]);", "feed(dense1, [[1, 2]]);"]) {
      const r = analyzeModel(head + done + "\n", "half.ts");
      assert.equal(r.parseErrors, 0);
      assert.deepEqual(r.diagnostics.map((d) => d.code), ["backward-shape"], done);
      assert.match(r.diagnostics[0]!.message, /dvalues (\[\[1, 2\]\]|d) is \[1, 2\] but dense1's output was \[1, 3\]/);
    }
  });
});

/** Shape bugs as a new user writes them: each is found before running, at the line where the run fails. */
const PLANTED: { name: string; code: string; expect: string[]; fix?: string; src: string }[] = [
  {
    name: "the chapter's Dense(2, 3) followed by Dense(4, 3)",
    code: "forward-shape",
    expect: ["dense2 = Dense(4, 3) takes 4 inputs", "activation1.output is [300, 3]", "dense1 = Dense(2, 3) has 3 neurons, through activation1", "Dense(3, 3)"],
    fix: "Change dense2 to Dense(3, 3) (activation1.output has 3 values per sample)",
    src: `import { Dense, ReLU, SoftmaxCategoricalCrossentropy, spiralData } from "backprop-lens";

const [X, y] = spiralData(100, 3);
const dense1 = new Dense(2, 3);
const activation1 = new ReLU();
const dense2 = new Dense(4, 3);
const lossActivation = new SoftmaxCategoricalCrossentropy();

dense1.forward(X);
activation1.forward(dense1.output);
dense2.forward(activation1.output);
lossActivation.forward(dense2.output, y);
lossActivation.backward(lossActivation.output, y);
dense2.backward(lossActivation.dinputs);
activation1.backward(dense2.dinputs);
dense1.backward(activation1.dinputs);
`,
  },
  {
    name: "a backward fed the loss's gradient, two layers too early (in a training loop)",
    code: "backward-shape",
    expect: ["dense1.backward", "lossActivation.dinputs", "[300, 3]", "dense1's output was [300, 64]", "pass activation1.dinputs"],
    src: `import { Adam, Dense, ReLU, SoftmaxCategoricalCrossentropy, spiralData } from "backprop-lens";

const [X, y] = spiralData(100, 3);
const dense1 = new Dense(2, 64);
const activation1 = new ReLU();
const dense2 = new Dense(64, 3);
const lossActivation = new SoftmaxCategoricalCrossentropy();
const optimizer = new Adam({ learningRate: 0.05 });

for (let epoch = 0; epoch < 20; epoch++) {
  dense1.forward(X);
  activation1.forward(dense1.output);
  dense2.forward(activation1.output);
  lossActivation.forward(dense2.output, y);
  lossActivation.backward(lossActivation.output, y);
  dense2.backward(lossActivation.dinputs);
  activation1.backward(dense2.dinputs);
  dense1.backward(lossActivation.dinputs);
  optimizer.updateParams(dense1);
  optimizer.updateParams(dense2);
}
`,
  },
  {
    name: "three classes of data, a last layer of two neurons",
    code: "targets",
    expect: ["y (spiralData(100, 3)) holds class indices up to 2, 3 classes", "dense2.output has 2 columns", "dense2 = Dense(64, 2) has 2 neurons", "one neuron per class"],
    fix: "Change dense2 to Dense(64, 3): one neuron per class",
    src: `import { Dense, ReLU, SoftmaxCategoricalCrossentropy, spiralData } from "backprop-lens";

const [X, y] = spiralData(100, 3);
const dense1 = new Dense(2, 64);
const activation1 = new ReLU();
const dense2 = new Dense(64, 2);
const lossActivation = new SoftmaxCategoricalCrossentropy();
dense1.forward(X);
activation1.forward(dense1.output);
dense2.forward(activation1.output);
console.log("loss:", lossActivation.forward(dense2.output, y));
`,
  },
  {
    name: "weights written by hand as the book lists them, [neurons, inputs]",
    code: "initial-weights",
    expect: ["Dense(4, 3): initial weights are [3, 4], expected [4, 3] ([inputs, neurons])", "[neurons, inputs]"],
    fix: "Transpose the weights to [4, 3] ([inputs, neurons])",
    src: `import { Dense } from "backprop-lens";

const inputs = [
  [1.0, 2.0, 3.0, 2.5],
  [2.0, 5.0, -1.0, 2.0],
  [-1.5, 2.7, 3.3, -0.8],
];
const weights = [
  [0.2, 0.8, -0.5, 1.0],
  [0.5, -0.91, 0.26, -0.5],
  [-0.26, -0.27, 0.17, 0.87],
];
const dense1 = new Dense(4, 3, { weights, biases: [[2.0, 3.0, 0.5]] });
dense1.forward(inputs);
dense1.backward([[1, 1, 1], [2, 2, 2], [3, 3, 3]]);
console.log(dense1.dinputs);
`,
  },
  {
    name: "a custom layer whose weights are [out, in] (the bug is in the layer's forward)",
    code: "op-shape",
    expect: ["dense1.forward (MyDense): dot: cannot multiply a [300, 2] by b [16, 2]"],
    src: `import { Layer, ReLU, SoftmaxCategoricalCrossentropy, type Tensor, addRowInPlace, dot, randn, spiralData, sumRows, zeros } from "backprop-lens";

class MyDense extends Layer {
  weights: Tensor;
  biases: Tensor;
  dweights!: Tensor;
  dbiases!: Tensor;
  constructor(readonly nIn: number, readonly nOut: number) {
    super();
    this.weights = randn([nOut, nIn]);
    this.biases = zeros([1, nOut]);
  }
  forward(inputs: Tensor): Tensor {
    this.inputs = inputs;
    this.output = addRowInPlace(dot(inputs, this.weights), this.biases);
    return this.output;
  }
  backward(dvalues: Tensor): Tensor {
    this.dweights = dot(this.inputs, dvalues, { transA: true });
    this.dbiases = sumRows(dvalues);
    this.dinputs = dot(dvalues, this.weights, { transB: true });
    return this.dinputs;
  }
}

const [X, y] = spiralData(100, 3);
const dense1 = new MyDense(2, 16);
const relu = new ReLU();
const loss = new SoftmaxCategoricalCrossentropy();
dense1.forward(X);
relu.forward(dense1.output);
loss.forward(relu.output, y);
`,
  },
  {
    name: "a Sequential whose third layer takes 32 inputs after 64 neurons",
    code: "forward-shape",
    expect: ["Dense#2 = Dense(32, 3) takes 32 inputs", "[300, 64]", "Dense#0 = Dense(2, 64) has 64 neurons, through ReLU#1"],
    fix: "Change Dense#2 to Dense(64, 3) (ReLU#1.output has 64 values per sample)",
    src: `import { Dense, ReLU, SGD, Sequential, spiralData } from "backprop-lens";

const [X, y] = spiralData(100, 3);
const model = new Sequential([new Dense(2, 64), new ReLU(), new Dense(32, 3)]);
const optimizer = new SGD({ learningRate: 1 });
for (let epoch = 0; epoch < 50; epoch++) {
  const { loss, accuracy } = model.trainStep(X, y, optimizer);
  if (epoch % 10 === 0) console.log(epoch, loss, accuracy);
}
`,
  },
  {
    name: "layers in an array, applied in a loop, one of them sized for the wrong layer",
    code: "forward-shape",
    expect: ["Dense#4 = Dense(16, 3) takes 16 inputs", "x is [300, 8]", "Dense#2 = Dense(16, 8) has 8 neurons, through ReLU#3"],
    fix: "Change Dense#4 to Dense(8, 3) (x has 8 values per sample)",
    src: `import { Dense, ReLU, type Tensor, spiralData } from "backprop-lens";

const [X] = spiralData(100, 3);
const layers = [new Dense(2, 16), new ReLU(), new Dense(16, 8), new ReLU(), new Dense(16, 3)];
let x: Tensor = X;
for (const layer of layers) {
  layer.forward(x);
  x = layer.output;
}
console.log(x.shape);
`,
  },
  {
    name: "one sample written as a flat list, and layers made by a helper function",
    code: "not-2d",
    expect: ["single.forward: inputs must be 2-D [samples, features] but are [2]"],
    src: `import { Dense, ReLU } from "backprop-lens";

function block(nIn: number, nOut: number) {
  return { dense: new Dense(nIn, nOut), relu: new ReLU() };
}
const a = block(2, 8);
const b = block(8, 4);
a.dense.forward([[1, 2], [3, 4]]);
a.relu.forward(a.dense.output);
b.dense.forward(a.relu.output);
const single = new Dense(2, 3);
single.forward([1, 2]);
`,
  },
  {
    name: "two targets for three samples",
    code: "targets",
    expect: ["loss.forward: 2 targets for 3 samples (targets [2], predictions [3, 3])"],
    src: `import { Dense, SoftmaxCategoricalCrossentropy } from "backprop-lens";

const X = [[1, 2], [3, 4], [5, 6]];
const y = [0, 1];
const dense = new Dense(2, 3);
const loss = new SoftmaxCategoricalCrossentropy();
dense.forward(X);
loss.forward(dense.output, y);
`,
  },
];

describe("shape analysis: planted shape bugs, found before running where the run fails", function () {
  this.timeout(180_000);
  for (const p of PLANTED) {
    it(p.name, () => {
      const file = write(`planted-${PLANTED.indexOf(p)}.ts`, p.src);
      const result = analyzeModel(p.src, file);
      const errors = result.diagnostics.filter((d) => d.severity === "error");
      assert.equal(errors.length, 1, `one static error (the run stops at the first): ${JSON.stringify(errors.map((e) => e.message))}`);
      const d = errors[0]!;
      assert.equal(d.code, p.code);
      for (const part of p.expect) assert.ok(d.message.includes(part), `"${part}" in: ${d.message}`);
      const run = runModelFile(file);
      assert.equal(run.ok, false, "the planted bug makes the run fail");
      assert.equal(d.range.start.line, (run.error?.site?.line ?? 0) - 1, `static line ${d.range.start.line + 1}, run: ${run.error?.message}`);
      if (p.fix) {
        const fix = d.fixes.find((f) => f.title === p.fix);
        assert.ok(fix, `fix "${p.fix}" among ${JSON.stringify(d.fixes.map((f) => f.title))}`);
        const fixed = applyEdits(p.src, fix.edits);
        assert.deepEqual(staticErrors(analyzeModel(fixed, file)), [], "the fix removes the static error");
        const fixedFile = write(`planted-${PLANTED.indexOf(p)}-fixed.ts`, fixed);
        const rerun = runModelFile(fixedFile);
        assert.equal(rerun.ok, true, `after the fix the model runs: ${rerun.error?.message ?? ""}`);
      }
    });
  }

  it("a backward that skips the ReLU but has the right shape is allowed", () => {
    const src = `import { Dense, ReLU, SoftmaxCategoricalCrossentropy, spiralData } from "backprop-lens";
const [X, y] = spiralData(100, 3);
const dense1 = new Dense(2, 64);
const activation1 = new ReLU();
const dense2 = new Dense(64, 3);
const lossActivation = new SoftmaxCategoricalCrossentropy();
dense1.forward(X);
activation1.forward(dense1.output);
dense2.forward(activation1.output);
lossActivation.forward(dense2.output, y);
lossActivation.backward(lossActivation.output, y);
dense2.backward(lossActivation.dinputs);
dense1.backward(dense2.dinputs);
`;
    const file = write("skip-relu.ts", src);
    const result = analyzeModel(src, file);
    assert.deepEqual(result.diagnostics, []);
    const run = runModelFile(file);
    assert.equal(run.ok, true);
    assertSameShapes("skip-relu", result, run, true);
  });

  it("what cannot be followed is unknown, never an error: other files, dynamic sizes, branches, uncalled code", () => {
    const src = `import { Dense, ReLU, randn } from "backprop-lens";
import { loadData } from "./data";

const n = Number(process.argv[2] ?? "4");
const X = randn([10, n]);
const dense1 = new Dense(4, 3);
dense1.forward(X);
const dense2 = new Dense(3, 2);
dense2.forward(loadData());
function neverCalled() {
  const d = new Dense(5, 3);
  d.forward([[1, 2]]);
}
const relu = new ReLU();
const h = Math.random() > 0.5 ? randn([3, 4]) : randn([3, 5]);
dense1.forward(h);
relu.forward(dense1.output);
const layers: Dense[] = JSON.parse("[]");
for (const l of layers) l.forward(X);
`;
    const result = analyzeModel(src, "dynamic.ts");
    assert.deepEqual(result.diagnostics, []);
    const h = result.calls.find((c) => c.line === 15);
    assert.deepEqual(h?.shapes.inputs, [3, null], "a branch of [3, 4] or [3, 5] is [3, ?]");
    const fromOtherFile = result.calls.find((c) => c.line === 8);
    assert.deepEqual(fromOtherFile?.shapes, { inputs: null, output: [null, 2] });
  });

  it("a user layer that declares its shapes (@shape) is taken at its word, and warned when fed otherwise", () => {
    const src = `import { Dense, Layer, type Tensor, spiralData, zip } from "backprop-lens";
class Scale extends Layer {
  constructor(readonly n: number) {
    super();
  }
  /** @shape [batch, n] -> [batch, n] */
  forward(inputs: Tensor): Tensor {
    this.inputs = inputs;
    this.output = (globalThis as any).mystery(inputs);
    return this.output;
  }
  backward(dvalues: Tensor): Tensor {
    this.dinputs = zip(dvalues, this.inputs, (d) => d * 2);
    return this.dinputs;
  }
}
const [X] = spiralData(10, 2);
const dense1 = new Dense(2, 4);
const scale = new Scale(4);
const dense2 = new Dense(4, 2);
dense1.forward(X);
scale.forward(dense1.output);
dense2.forward(scale.output);
const bad = new Scale(5);
bad.forward(dense1.output);
`;
    const result = analyzeModel(src, "declared.ts");
    assert.deepEqual(result.calls.find((c) => c.line === 21)?.shapes, { inputs: [20, 4], output: [20, 4] });
    assert.deepEqual(result.calls.find((c) => c.line === 22)?.shapes, { inputs: [20, 4], output: [20, 2] });
    assert.deepEqual(
      result.diagnostics.map((d) => [d.range.start.line, d.severity, d.code]),
      [[24, "warning", "declared-shape"]],
    );
    assert.match(result.diagnostics[0]!.message, /bad\.forward: inputs are \[20, 4\] but Scale declares @shape \[batch, n\] → \[batch, n\] \(inputs \[20, 5\]\)/);
  });

  it("a user layer's shapes are inferred from its forward and backward (the chapter's custom layer)", () => {
    const file = path.join(ROOT, "examples/06-custom-layer.ts");
    const result = analyzeFile(file);
    assert.deepEqual(result.calls.find((c) => c.layer === "leaky" && c.phase === "forward")?.shapes, { inputs: [150, 8], output: [150, 8] });
    assert.deepEqual(result.calls.find((c) => c.layer === "leaky" && c.phase === "backward")?.shapes, { dvalues: [150, 8], dinputs: [150, 8] });
  });
});

describe("shape analysis: property test on random Dense/ReLU stacks, against their runs", function () {
  this.timeout(300_000);

  interface Spec {
    batch: number;
    width: number;
    layers: ({ kind: "dense"; out: number } | { kind: "relu" })[];
    /** A Dense whose inputs are off by `by` (a planted mismatch), or none. */
    plant: { at: number; by: number } | null;
    style: "imperative" | "loop" | "sequential";
    backward: boolean;
  }

  const spec: fc.Arbitrary<Spec> = fc.record({
    batch: fc.integer({ min: 1, max: 12 }),
    width: fc.integer({ min: 1, max: 8 }),
    layers: fc.array(fc.oneof(fc.record({ kind: fc.constant("dense" as const), out: fc.integer({ min: 1, max: 8 }) }), fc.constant({ kind: "relu" as const })), { minLength: 1, maxLength: 6 }),
    plant: fc.option(fc.record({ at: fc.nat(5), by: fc.integer({ min: 1, max: 3 }) }), { freq: 3 }),
    style: fc.constantFrom("imperative" as const, "loop" as const, "sequential" as const),
    backward: fc.boolean(),
  });

  function source(s: Spec): { text: string; plantedLine: number | undefined } {
    const lines = [`import { Dense, ReLU, SGD, Sequential, type Tensor, randn, Rng } from "backprop-lens";`, `const rng = new Rng(7);`, `const X = randn([${s.batch}, ${s.width}], rng);`];
    let width = s.width;
    const ctors: string[] = [];
    const denseIdx = s.layers.map((l, i) => (l.kind === "dense" ? i : -1)).filter((i) => i >= 0);
    const planted = s.plant && denseIdx.length > 0 ? (denseIdx[s.plant.at % denseIdx.length] as number) : undefined;
    s.layers.forEach((l, i) => {
      if (l.kind === "relu") ctors.push("new ReLU()");
      else {
        ctors.push(`new Dense(${width + (i === planted ? (s.plant as { by: number }).by : 0)}, ${l.out}, { rng })`);
        width = l.out;
      }
    });
    const n = s.layers.length;
    let plantedLine: number | undefined;
    if (s.style === "imperative") {
      ctors.forEach((c, i) => lines.push(`const l${i} = ${c};`));
      s.layers.forEach((_, i) => {
        if (i === planted) plantedLine = lines.length;
        lines.push(`l${i}.forward(${i === 0 ? "X" : `l${i - 1}.output`});`);
      });
      if (s.backward) {
        lines.push(`const dvalues = randn([${s.batch}, ${width}], rng);`);
        for (let i = n - 1; i >= 0; i--) lines.push(`l${i}.backward(${i === n - 1 ? "dvalues" : `l${i + 1}.dinputs`});`);
      }
    } else if (s.style === "loop") {
      lines.push(`const layers = [${ctors.join(", ")}];`);
      lines.push(`let x: Tensor = X;`);
      if (planted !== undefined) plantedLine = lines.length + 1;
      lines.push(`for (const layer of layers) {`, `  layer.forward(x);`, `  x = layer.output;`, `}`);
      if (s.backward) {
        lines.push(`let d: Tensor = randn([${s.batch}, ${width}], rng);`);
        lines.push(`for (const layer of [...layers].reverse()) {`, `  layer.backward(d);`, `  d = layer.dinputs;`, `}`);
      }
    } else {
      // Sequential ends in softmax + cross-entropy: targets of the last width's classes.
      lines.push(`const model = new Sequential([${ctors.join(", ")}]);`);
      lines.push(`const y = Array.from({ length: ${s.batch} }, () => rng.int(${width}));`);
      if (planted !== undefined) plantedLine = lines.length;
      lines.push(s.backward ? `model.trainStep(X, y, new SGD({ learningRate: 0.1 }));` : `model.forward(X, y);`);
    }
    return { text: lines.join("\n") + "\n", plantedLine };
  }

  it("the static shape of every call equals the run's, and a planted mismatch is an error exactly where the run fails", () => {
    let cases = 0;
    fc.assert(
      fc.property(spec, (s) => {
        const { text, plantedLine } = source(s);
        const file = write(`stack-${cases++}.ts`, text);
        const result = analyzeModel(text, file);
        const run = runModelFile(file, 10);
        const errors = staticErrors(result);
        if (run.ok) {
          assert.equal(plantedLine, undefined, "only a planted mismatch fails");
          assert.deepEqual(errors, [], `no static error for a model that runs:\n${text}`);
          assertSameShapes("stack", result, run, true);
        } else {
          assert.equal(run.error?.kind, "shape", run.error?.message);
          const line = (run.error?.site?.line ?? 0) - 1;
          assert.equal(line, plantedLine, `the run fails at the planted line:\n${text}\n${run.error?.message}`);
          assert.deepEqual(
            errors.map((e) => [e.line, e.code]),
            [[line, "forward-shape"]],
            `the static error is the run's:\n${text}\n${run.error?.message}`,
          );
          assertSameShapes("stack", result, { ...run, calls: run.calls.filter((c) => c.line < line) }, true);
        }
      }),
      { numRuns: 16 },
    );
  });
});
