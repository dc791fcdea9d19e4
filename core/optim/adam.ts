import { Optimizer } from "./optimizer";

/** Options of Adam. */
export interface AdamOptions {
  learningRate?: number;
  decay?: number;
  epsilon?: number;
  beta1?: number;
  beta2?: number;
}

/**
 * Adam, the book's `Optimizer_Adam`:
 * `m = β₁m + (1−β₁)dp;  v = β₂v + (1−β₂)dp²;  m̂ = m/(1−β₁^(t+1));  v̂ = v/(1−β₂^(t+1));  p += −lr · m̂ / (√v̂ + ε)`.
 */
export class Adam extends Optimizer {
  readonly epsilon: number;
  readonly beta1: number;
  readonly beta2: number;

  constructor(options: AdamOptions = {}) {
    super(options.learningRate ?? 0.001, options.decay ?? 0);
    this.epsilon = options.epsilon ?? 1e-7;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
  }

  get kind(): string {
    return "Adam";
  }

  protected newState(n: number): Float64Array[] {
    return [new Float64Array(n), new Float64Array(n)];
  }

  protected update(value: Float64Array, grad: Float64Array, state: Float64Array[]): void {
    const m = state[0] as Float64Array;
    const v = state[1] as Float64Array;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - b1 ** (this.iterations + 1);
    const c2 = 1 - b2 ** (this.iterations + 1);
    const lr = this.currentLearningRate;
    for (let i = 0; i < value.length; i++) {
      const g = grad[i] as number;
      const mi = b1 * (m[i] as number) + (1 - b1) * g;
      const vi = b2 * (v[i] as number) + (1 - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      value[i] = (value[i] as number) + (-lr * (mi / c1)) / (Math.sqrt(vi / c2) + this.epsilon);
    }
  }
}
