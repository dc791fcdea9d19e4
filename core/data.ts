/**
 * The book's toy data sets (nnfs.datasets), from a seeded generator.
 */
import { Rng, defaultRng } from "./rng";
import { type Tensor, zeros } from "./tensor";

/**
 * `spiral_data(samples, classes)`: `classes` interleaved spiral arms of `samples` points each.
 * Returns `[X, y]` with X of shape `[samples·classes, 2]` and y the class index of each row (`[samples·classes]`).
 * For class c, r runs linearly from 0 to 1 and t from 4c to 4(c+1) plus N(0, 0.2²) noise;
 * the point is `(r·sin(2.5t), r·cos(2.5t))`.
 */
export function spiralData(samples: number, classes: number, rng: Rng = defaultRng()): [Tensor, Tensor] {
  const X = zeros([samples * classes, 2]);
  const y = zeros([samples * classes]);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < samples; i++) {
      const r = samples === 1 ? 0 : i / (samples - 1);
      const t = (samples === 1 ? c * 4 : c * 4 + (4 * i) / (samples - 1)) + rng.normal() * 0.2;
      const row = c * samples + i;
      X.data[row * 2] = r * Math.sin(t * 2.5);
      X.data[row * 2 + 1] = r * Math.cos(t * 2.5);
      y.data[row] = c;
    }
  }
  return [X, y];
}

/**
 * `vertical_data(samples, classes)`: one vertical cloud per class, x ≈ N(c/3, 0.1²), y ≈ N(0.5, 0.1²).
 */
export function verticalData(samples: number, classes: number, rng: Rng = defaultRng()): [Tensor, Tensor] {
  const X = zeros([samples * classes, 2]);
  const y = zeros([samples * classes]);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < samples; i++) {
      const row = c * samples + i;
      X.data[row * 2] = rng.normal() * 0.1 + c / 3;
      X.data[row * 2 + 1] = rng.normal() * 0.1 + 0.5;
      y.data[row] = c;
    }
  }
  return [X, y];
}
