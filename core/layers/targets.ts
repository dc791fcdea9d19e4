/**
 * Class targets in either of the book's two forms: sparse (`[samples]`, the class index of each
 * sample) or one-hot (`[samples, classes]`).
 */
import { ArgumentError, ShapeError, showShape } from "../errors";
import { type Tensor, type TensorLike, tensor } from "../tensor";

/** Targets checked against a prediction of shape `[samples, classes]`. */
export type Targets = { kind: "sparse"; index: Int32Array } | { kind: "one-hot"; values: Tensor };

/** Reads `yTrue` for predictions of shape `[n, k]`, with errors that name `op` and both shapes. */
export function readTargets(op: string, yTrue: TensorLike, n: number, k: number): Targets {
  return read(op, yTrue, n, k, new Int32Array(n));
}

/** A class-index buffer the layers reuse from call to call (they use their targets only while they run). */
let scratch = new Int32Array(1024);

/**
 * `readTargets` for the engine's own layers: sparse targets go into a buffer that is reused by the
 * next call (no allocation per training step), so the result must not be kept.
 */
export function readTargetsTransient(op: string, yTrue: TensorLike, n: number, k: number): Targets {
  if (scratch.length < n) scratch = new Int32Array(Math.max(n, 2 * scratch.length));
  return read(op, yTrue, n, k, scratch.length === n ? scratch : scratch.subarray(0, n));
}

function read(op: string, yTrue: TensorLike, n: number, k: number, index: Int32Array): Targets {
  const y = tensor(yTrue);
  if (y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1 && k !== 1)) {
    if (y.data.length !== n) {
      throw new ShapeError(`${op}: ${y.data.length} targets for ${n} samples (targets ${showShape(y.shape)}, predictions [${n}, ${k}])`, op, {
        targets: y.shape,
        predictions: [n, k],
      });
    }
    for (let i = 0; i < n; i++) {
      const v = y.data[i] as number;
      if (!Number.isInteger(v) || v < 0 || v >= k) {
        throw new ArgumentError(`${op}: target ${i} is ${v}, not a class index in 0..${k - 1}`);
      }
      index[i] = v;
    }
    return { kind: "sparse", index };
  }
  if (y.shape.length === 2 && y.shape[0] === n && y.shape[1] === k) return { kind: "one-hot", values: y };
  throw new ShapeError(
    `${op}: targets are ${showShape(y.shape)} but predictions are [${n}, ${k}]: targets must be [${n}] class indices or [${n}, ${k}] one-hot rows`,
    op,
    { targets: y.shape, predictions: [n, k] },
  );
}

/** Class index of each sample (argmax of one-hot rows). */
export function classIndices(t: Targets, k: number): Int32Array {
  if (t.kind === "sparse") return t.index;
  const n = t.values.data.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if ((t.values.data[i * k + j] as number) > (t.values.data[i * k + best] as number)) best = j;
    out[i] = best;
  }
  return out;
}
