/**
 * Python models in a real VS Code: the book's spiral model run from its `.py` file into the same
 * run store, hovers, code lens and diagnostics as a TypeScript model; a planted bug in a custom
 * layer, a shape mistake and an exception become problems at the user's lines. The interpreter is
 * the tests' (contract 5) through the `backpropLens.pythonPath` setting (no Python extension here).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import type { RunResult } from "../../../extension/runner/runModel";
import { testPython } from "../../helpers/python";
import { fileUri, hoverText, lens, lensDiagnostics, lineOf, open, setting, until, workspaceFolder } from "../helpers";

async function run(name: string): Promise<RunResult> {
  await open(name);
  const result = await vscode.commands.executeCommand<RunResult | undefined>("backpropLens.runBackwardPass", fileUri(name));
  assert.ok(result, `${name} ran`);
  return result;
}

const BUG = `from nnfs_ch9 import *

class Activation_LeakyReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.where(inputs > 0, inputs, 0.1 * inputs)

    def backward(self, dvalues):
        self.dinputs = np.where(self.inputs > 0, dvalues, 0.0)  # planted bug: the slope 0.1 is missing

np.random.seed(0)
X = np.random.randn(30, 2)
y = np.arange(30) % 3
dense1 = Layer_Dense(2, 8)
leaky = Activation_LeakyReLU()
dense2 = Layer_Dense(8, 3)
loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
dense1.forward(X)
leaky.forward(dense1.output)
dense2.forward(leaky.output)
loss = loss_activation.forward(dense2.output, y)
loss_activation.backward(loss_activation.output, y)
dense2.backward(loss_activation.dinputs)
leaky.backward(dense2.dinputs)
dense1.backward(leaky.dinputs)
`;

const SHAPE = `from nnfs_ch9 import *
X = np.ones((300, 2))
dense1 = Layer_Dense(2, 3)
activation1 = Activation_ReLU()
dense2 = Layer_Dense(4, 3)
dense1.forward(X)
activation1.forward(dense1.output)
dense2.forward(activation1.output)
`;

const THROWS = `def load(path):
    raise FileNotFoundError("no data at " + path)

X = load("spiral.csv")
`;

describe("Python models in a real VS Code", function () {
  this.timeout(90_000);
  let restore: (() => Promise<void>) | undefined;

  before(async function () {
    const python = testPython();
    if (!python?.numpy) throw new Error(`these tests need Python 3.8+ with NumPy (found ${python ? `${python.path} without NumPy` : "no Python"}; contract 5: BPL_PYTHON)`);
    restore = await setting("pythonPath", python.path);
    const dir = workspaceFolder();
    fs.writeFileSync(path.join(dir, "py-bug.py"), BUG);
    fs.writeFileSync(path.join(dir, "py-shape.py"), SHAPE);
    fs.writeFileSync(path.join(dir, "py-throws.py"), THROWS);
    await lens();
  });

  after(async () => {
    await restore?.();
  });

  it("runs the book's spiral model from its .py file into the same run store", async () => {
    const result = await run("04_spiral_model.py");
    assert.equal(result.ok, true, result.error?.message);
    const { ctx } = await lens();
    const store = ctx.runs.currentRun();
    assert.ok(store);
    const byName = new Map([...store.layers.values()].map((l) => [l.name, l]));
    assert.equal(byName.get("dense1")?.description, "Layer_Dense(2, 3)");
    assert.equal(byName.get("loss_activation")?.kind, "softmax-cce");
    const back = store.calls.find((c) => c.layer === byName.get("dense1")?.id && c.phase === "backward");
    assert.ok(back);
    const dw = store.tensor(back.seq, "dweights");
    assert.ok(dw);
    // the book prints dense1.dweights[0][0] = 1.5766357e-04 (float32 under nnfs.init())
    assert.ok(Math.abs((dw.data[0] as number) - 1.5766357e-4) < 1e-10, String(dw.data[0]));
    const doc = await vscode.workspace.openTextDocument(fileUri("04_spiral_model.py"));
    assert.equal(back.site?.line, lineOf(doc, "dense1.backward(activation1.dinputs)") + 1);
    assert.match(ctx.status.text, /04_spiral_model\.py: 1 step/);
  });

  it("hovers the layer lines of the .py file and shows the Run lens", async () => {
    await run("04_spiral_model.py");
    const doc = await vscode.workspace.openTextDocument(fileUri("04_spiral_model.py"));
    const line = lineOf(doc, "dense1 = Layer_Dense(2, 3)");
    const text = await until(async () => {
      const t = await hoverText(doc.uri, new vscode.Position(line, 2));
      return /dense1/.test(t) ? t : undefined;
    }, 15_000, "a hover on dense1's construction");
    assert.match(text, /dweights/);
    const lenses = await until(async () => {
      const l = (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", doc.uri)) ?? [];
      return l.some((x) => x.command?.title.includes("Run Backward Pass")) ? l : undefined;
    }, 15_000, "the Run lens on the .py file");
    assert.ok(lenses.length > 1, "a lens per layer too");
  });

  it("a planted bug in a custom layer's backward is a problem at its backward call", async () => {
    const result = await run("py-bug.py");
    assert.equal(result.ok, true, result.error?.message);
    const doc = await vscode.workspace.openTextDocument(fileUri("py-bug.py"));
    const diag = await until(() => lensDiagnostics(doc.uri).find((d) => /gradient check failed/.test(d.message)), 15_000, "the gradient-check diagnostic");
    assert.match(diag.message, /leaky\.dinputs/);
    assert.match(diag.message, /Activation_LeakyReLU\.backward/);
    assert.equal(diag.range.start.line, lineOf(doc, "leaky.backward(dense2.dinputs)"));
  });

  it("a shape mistake names both layers and shapes; an exception is a problem at the user's line", async () => {
    const shape = await run("py-shape.py");
    assert.equal(shape.error?.kind, "shape");
    assert.match(shape.error?.message ?? "", /dense2\.forward failed.*\(300,3\) and \(4,3\).*activation1\.output/);
    const thrown = await run("py-throws.py");
    assert.equal(thrown.error?.kind, "throw");
    const doc = await vscode.workspace.openTextDocument(fileUri("py-throws.py"));
    const diag = await until(() => lensDiagnostics(doc.uri).find((d) => /FileNotFoundError/.test(d.message)), 15_000, "the exception's diagnostic");
    assert.equal(diag.range.start.line, lineOf(doc, 'raise FileNotFoundError'));
    assert.deepEqual(thrown.error?.frames?.map((f) => f.line), [2, 4]);
  });
});
