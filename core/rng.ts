/**
 * A seeded random generator (xoshiro128**), so every run can be replayed. `core/` never calls
 * `Math.random()`: layers and data sets take an `Rng`, or use the shared default one that
 * `seed()` resets (the way the book's `nnfs.init()` seeds NumPy).
 */
import { type Tensor, zeros } from "./tensor";

/** A seeded pseudo-random generator of uniform and normal float64 values. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed = 0) {
    // splitmix32 spreads the seed over the four state words (xoshiro must not start all-zero).
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float64 in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A standard normal value (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

let shared = new Rng(0);

/** Resets the shared default generator (like `nnfs.init()` / `np.random.seed`). Runs start as `seed(0)`. */
export function seed(value = 0): void {
  shared = new Rng(value);
}

/** The shared default generator used when no `rng` is passed. */
export function defaultRng(): Rng {
  return shared;
}

/** A tensor of standard normal values, `np.random.randn(*shape)`. */
export function randn(shape: readonly number[], rng: Rng = shared): Tensor {
  const t = zeros(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal();
  return t;
}

/** A tensor of uniform values in [low, high). */
export function uniform(shape: readonly number[], low = 0, high = 1, rng: Rng = shared): Tensor {
  const t = zeros(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = low + (high - low) * rng.uniform();
  return t;
}
