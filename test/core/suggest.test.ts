import * as assert from "node:assert/strict";
import { closeNames, editDistance } from "../../core/suggest";

describe("closeNames: did you mean …", () => {
  const known = ["Dense", "ReLU", "relu", "Softmax", "SoftmaxCategoricalCrossentropy", "CategoricalCrossentropy", "SGD", "Adam", "spiralData"];
  it("maps the book's Python class names to the engine's", () => {
    assert.deepEqual(closeNames("Layer_Dense", known), ["Dense"]);
    assert.deepEqual(closeNames("Activation_ReLU", known), ["ReLU"]);
    assert.deepEqual(closeNames("Activation_Softmax_Loss_CategoricalCrossentropy", known), ["SoftmaxCategoricalCrossentropy"]);
    assert.deepEqual(closeNames("Loss_CategoricalCrossentropy", known), ["CategoricalCrossentropy"]);
    assert.deepEqual(closeNames("Optimizer_SGD", known), ["SGD"]);
    assert.deepEqual(closeNames("OptimizerAdam", known), ["Adam"]);
  });
  it("finds typos, transpositions included, closest first; nothing when nothing is close", () => {
    assert.deepEqual(closeNames("Dnese", known), ["Dense"]);
    assert.deepEqual(closeNames("spiraldata", known), ["spiralData"]);
    assert.deepEqual(closeNames("Conv2D", known), []);
    assert.equal(editDistance("Dnese", "Dense"), 1);
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(editDistance("", "abc"), 3);
  });
});
