/**
 * Optimizers update each layer's parameters from its gradients, in the book's three calls:
 * `preUpdateParams()` (decay the learning rate), `updateParams(layer)` for each layer,
 * `postUpdateParams()` (count the iteration). `step(...layers)` does all three.
 */
import { ArgumentError } from "../errors";
import type { Layer } from "../layers/layer";
import { runtime } from "../runtime";

export abstract class Optimizer {
  /** The learning rate after decay, used by the next `updateParams`. */
  currentLearningRate: number;
  /** How many times `postUpdateParams` has run. */
  iterations = 0;
  /** Per-layer, per-parameter state (momentums, caches), never stored on the layer itself. */
  protected readonly state = new WeakMap<Layer, Map<string, Float64Array[]>>();

  constructor(
    /** The initial learning rate. */
    readonly learningRate: number,
    /** Learning-rate decay: `lr_t = lr / (1 + decay · t)`. */
    readonly decay: number,
  ) {
    if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new ArgumentError(`learning rate must be a positive number, got ${learningRate}`);
    if (!(decay >= 0)) throw new ArgumentError(`decay must be ≥ 0, got ${decay}`);
    this.currentLearningRate = learningRate;
    runtime.tracer?.attachOptimizer(this);
  }

  /** A short name for messages: `"SGD"`, `"Adam"`. */
  abstract get kind(): string;

  /** Applies the learning-rate decay for this iteration. */
  preUpdateParams(): void {
    if (this.decay) this.currentLearningRate = this.learningRate * (1 / (1 + this.decay * this.iterations));
  }

  /** Updates every parameter of `layer` that has a gradient. */
  updateParams(layer: Layer): void {
    for (const p of layer.params()) {
      if (p.grad === undefined) continue;
      if (p.grad.data.length !== p.value.data.length) {
        throw new ArgumentError(`${this.kind}.updateParams: ${p.name} has ${p.value.data.length} values but d${p.name} has ${p.grad.data.length}`);
      }
      let slots = this.state.get(layer);
      if (slots === undefined) {
        slots = new Map();
        this.state.set(layer, slots);
      }
      let s = slots.get(p.name);
      if (s === undefined) {
        s = this.newState(p.value.data.length);
        slots.set(p.name, s);
      }
      this.update(p.value.data, p.grad.data, s);
    }
  }

  /** Counts the iteration. */
  postUpdateParams(): void {
    this.iterations += 1;
  }

  /** `preUpdateParams`, `updateParams` for each layer, `postUpdateParams`. */
  step(...layers: Layer[]): void {
    this.preUpdateParams();
    for (const l of layers) this.updateParams(l);
    this.postUpdateParams();
  }

  /** Fresh state buffers for a parameter of `n` values. */
  protected abstract newState(n: number): Float64Array[];
  /** Updates `value` in place from `grad`. */
  protected abstract update(value: Float64Array, grad: Float64Array, state: Float64Array[]): void;
}
