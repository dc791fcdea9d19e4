/**
 * What the engine tells an observer. Layers, optimizers and scalar values call these hooks only
 * when a tracer is installed (`runtime.tracer`); otherwise nothing is observed and nothing is paid.
 * The recorder (`traceRecorder.ts`) is the implementation the runner installs.
 */
import type { Layer } from "../layers/layer";
import type { Optimizer } from "../optim/optimizer";
import type { Value } from "../scalar/value";
import type { ChainStep } from "./traceTypes";

export interface Tracer {
  /** A layer was constructed (called from the `Layer` base constructor, before subclass fields exist). */
  attachLayer(layer: Layer): void;
  /** An optimizer was constructed. */
  attachOptimizer(optimizer: Optimizer): void;
  /** A scalar operation produced `node` (a leaf value when it has no inputs). */
  scalarOp(node: Value): void;
  /** `root.backward(dvalue)` ran; `steps` are its chain-rule products in the order they were applied. */
  scalarBackward(root: Value, dvalue: number, steps: readonly ChainStep[]): void;
}
