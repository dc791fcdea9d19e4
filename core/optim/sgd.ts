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
      for (let i = 0; i < value.length; i++) value[i] = (value[i] as number) + -lr * (grad[i] as number);
    }
  }
}
