/**
 * Backprop Lens engine: the public surface of "backprop-lens". A model file imports from here;
 * nothing else in core/ is meant to be imported from outside.
 *
 * ```ts
 * import { Dense, ReLU, SoftmaxCategoricalCrossentropy, spiralData } from "backprop-lens";
 * const [X, y] = spiralData(100, 3);
 * const dense1 = new Dense(2, 3);
 * ```
 */
export { type Tensor, type TensorLike, tensor, zeros, full, fromData, clone, reshape, toArray, at, sizeOf, isTensor, sameShape, expectShape, rowsOf, colsOf } from "./tensor";
export { dot, transpose, addRowInPlace, sumRows, sumCols, map, zip, addScaled, addScaledInPlace, scale, argmaxRows, mean, maxAbsDiff, type DotOptions } from "./ops/ops";
export { gemm } from "./ops/gemm";
export { Rng, seed, defaultRng, randn, uniform } from "./rng";
export { spiralData, verticalData } from "./data";
export { Layer, adoptLayer, isLayer, type LayerKind } from "./layers/layer";
export { Dense, type DenseOptions } from "./layers/dense";
export { ReLU } from "./layers/relu";
export { Softmax, softmaxRows, softmaxJacobian, softmaxBackward } from "./layers/softmax";
export { CategoricalCrossentropy, SoftmaxCategoricalCrossentropy, accuracy, compareSoftmaxCcePaths, CLIP, type SoftmaxCcePaths } from "./layers/crossEntropy";
export { readTargets, classIndices, type Targets } from "./layers/targets";
export { Optimizer } from "./optim/optimizer";
export { SGD, type SgdOptions } from "./optim/sgd";
export { Adam, type AdamOptions } from "./optim/adam";
export { Sequential, type LossLayer } from "./sequential";
export { Value, value, mul, sum, relu, max, topologicalOrder, type ScalarOp } from "./scalar/value";
export { gradCheckLayer, gradCheckModel, checkTensor, type GradCheckOptions, type GradCheckReport, type ModelParam } from "./gradcheck";
export { formatTensor, formatNumber } from "./format";
export { ShapeError, NonFiniteError, TensorTooLargeError, ArgumentError } from "./errors";
