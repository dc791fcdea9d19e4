import { Optimizer } from "./optimizer";

/** Options of SGD. */
export interface SgdOptions {
  /** Learning rate (the book's default is 1.0). */
  learningRate?: number;
  /** Learning-rate decay: `lr_t = lr / (1 + decay · t)`. */
  decay?: number;
  /** Momentum: the fraction of the previous update kept. */
  momentum?: number;
}

/**
 * Stochastic gradient descent, the book's `Optimizer_SGD`.
 *
 * - without momentum: `p += −lr · dp`
 * - with momentum:    `u = momentum · u − lr · dp;  p += u`
 */
export class SGD extends Optimizer {
  readonly momentum: number;

  constructor(options: SgdOptions = {}) {
    super(options.learningRate ?? 1.0, options.decay ?? 0);
    this.momentum = options.momentum ?? 0;
  }

  get kind(): string {
    return "SGD";
  }

  protected newState(n: number): Float64Array[] {
    return this.momentum ? [new Float64Array(n)] : [];
  }

  protected update(value: Float64Array, grad: Float64Array, state: Float64Array[]): void {
    const lr = this.currentLearningRate;
    const u = state[0];
    if (u !== undefined && this.momentum) {
      const m = this.momentum;
      for (let i = 0; i < value.length; i++) {
        const step = m * (u[i] as number) - lr * (grad[i] as number);
        u[i] = step;
        value[i] = (value[i] as number) + step;
      }
    } else {
      // p += −lr · dp element by element, four per iteration (V8 runs the unrolled loop about twice as
      // fast: 203 → 108 µs on 100,352 elements); every element gets exactly p + (−lr)·dp.
      // The n mod 4 first elements come first: a remainder loop after the main one, which a length
      // divisible by 4 never enters, made V8 deoptimize this function on almost every call (no type
      // feedback for its compare).
      const s = -lr;
      const n = value.length;
      const r = n & 3;
      let i = 0;
      for (; i < r; i++) value[i] = (value[i] as number) + s * (grad[i] as number);
      for (; i < n; i += 4) {
        value[i] = (value[i] as number) + s * (grad[i] as number);
        value[i + 1] = (value[i + 1] as number) + s * (grad[i + 1] as number);
        value[i + 2] = (value[i + 2] as number) + s * (grad[i + 2] as number);
        value[i + 3] = (value[i + 3] as number) + s * (grad[i + 3] as number);
      }
    }
  }
}
