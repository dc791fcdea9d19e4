/**
 * The base of every layer, built-in or written by the user. A layer keeps the book's fields:
 * `inputs` and `output` from `forward`, `dinputs` (and for each parameter P, `dP`) from `backward`.
 *
 * To write your own layer, extend `Layer` and write `forward(inputs)` and `backward(dvalues)` as
 * methods; set `this.output` in forward and `this.dinputs` in backward, and keep parameters as tensor
 * fields with their gradients in fields named `d` + the parameter name (`weights` → `dweights`).
 * Then Backprop Lens traces it, shows it and gradient-checks it exactly like the built-in layers.
 * A class that does not extend `Layer` but has `forward` and `backward` (the book's plain classes) is
 * made one when its object is built (`adoptLayer`).
 */
import { runtime } from "../runtime";
import { type Tensor, isTensor } from "../tensor";
import { isGradientOf, paramGradientName } from "../trace/tensorNames";
import type { LayerKind } from "../trace/traceTypes";

export type { LayerKind };

/** Fields that hold activations or gradients, never parameters. */
const NOT_PARAMS = new Set(["inputs", "output", "dinputs", "dvalues"]);

export abstract class Layer {
  /** Name shown in messages and in the inspector (the runner fills it from `const dense1 = new …`). */
  name?: string;
  /** The inputs of the last `forward` call, `[batch, in]`. */
  declare inputs: Tensor;
  /** The result of the last `forward` call, `[batch, out]`. */
  declare output: Tensor;
  /** ∂L/∂inputs from the last `backward` call, `[batch, in]`. */
  declare dinputs: Tensor;

  constructor() {
    runtime.tracer?.attachLayer(this);
  }

  /** What kind of layer this is; user layers are `"custom"`. */
  get kind(): LayerKind {
    return "custom";
  }

  /** Forward pass: compute and keep `output` from `inputs` (and whatever backward will need). */
  abstract forward(inputs: Tensor, ...rest: unknown[]): unknown;

  /** Backward pass: given ∂L/∂output (`dvalues`), compute `dinputs` and the parameter gradients. */
  abstract backward(dvalues: Tensor, ...rest: unknown[]): unknown;

  /**
   * Names of the trainable tensors. By default every tensor field except `inputs`, `output` and the
   * gradients (`dX` where `X` is also a field); override to say otherwise.
   */
  paramNames(): string[] {
    const self = this as unknown as Record<string, unknown>;
    const names: string[] = [];
    for (const key of Object.keys(self)) {
      if (NOT_PARAMS.has(key) || !isTensor(self[key])) continue;
      if (key.length > 1 && isGradientOf(key, key.slice(1)) && isTensor(self[key.slice(1)])) continue;
      names.push(key);
    }
    return names;
  }

  /** Each trainable tensor with its gradient (when backward has run), for optimizers and gradient checks. */
  params(): { name: string; value: Tensor; grad: Tensor | undefined }[] {
    const self = this as unknown as Record<string, unknown>;
    return this.paramNames().map((name) => {
      const g = self[paramGradientName(name)];
      return { name, value: self[name] as Tensor, grad: isTensor(g) ? g : undefined };
    });
  }
}

/**
 * Makes an object of the user's own class that has `forward` and `backward` but does not extend
 * `Layer` (the book writes its layers as plain classes) a layer: traced, shown, gradient-checked and
 * updated like one. The model compiler adds a field to every class with both methods whose
 * initializer calls this, so it runs when the object is built, with the `new …` line on the stack.
 * The class's own root prototype gains `Layer.prototype` as its parent (once per class), which gives
 * it `params()`, `paramNames()`, `kind` and `instanceof Layer`; a class whose chain ends in a built-in
 * (`extends Array`) is left as it is. Returns undefined (the field's value).
 */
export function adoptLayer(obj: object): undefined {
  if (!(obj instanceof Layer)) {
    let root = Object.getPrototypeOf(obj) as object | null;
    while (root !== null) {
      const up = Object.getPrototypeOf(root) as object | null;
      if (up === Object.prototype || up === null) break;
      root = up;
    }
    const ctor = (root as { constructor?: unknown } | null)?.constructor;
    const native = typeof ctor !== "function" || Function.prototype.toString.call(ctor).includes("[native code]");
    if (root !== null && root !== Object.prototype && !native && Object.getPrototypeOf(root) === Object.prototype) Object.setPrototypeOf(root, Layer.prototype);
  }
  if (obj instanceof Layer) runtime.tracer?.attachLayer(obj);
  return undefined;
}

/** Type guard for layers (any object extending `Layer`). */
export function isLayer(x: unknown): x is Layer {
  return x instanceof Layer;
}
