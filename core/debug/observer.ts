/**
 * What the trace recorder tells the debugger's worker-side code about each layer call (its only hook
 * into the recorder): a call starts, ends (returned or threw) and is recorded. Optional; untraced and
 * non-debug runs have none and pay nothing.
 */
import type { Layer } from "../layers/layer";
import type { Optimizer } from "../optim/optimizer";
import type { Tensor } from "../tensor";
import type { LayerInfo, Phase, SourceSite } from "../trace/traceTypes";

/** A recorded call as the recorder holds it (tensors are references to what the layer read and made). */
export interface ObservedCall {
  state: { layer: Layer; id: number; info: LayerInfo | undefined };
  phase: Phase;
  step: number;
  seq: number;
  site: SourceSite | undefined;
  parent: number | undefined;
  tensors: Record<string, Tensor>;
  loss: number | undefined;
  accuracy: number | undefined;
}

/** The recorder's record of a layer: the object, its id and where it was built. */
export interface ObservedLayer {
  layer: Layer;
  id: number;
  ctorSite: SourceSite | undefined;
}

export interface CallObserver {
  /** A layer's forward or backward starts (its site is known). */
  enter(layer: ObservedLayer, phase: Phase, site: SourceSite | undefined, args: readonly unknown[]): void;
  /** It returned (`error` undefined) or threw. */
  exit(error?: unknown): void;
  /** The call was recorded (after `exit`). */
  complete(call: ObservedCall): void;
  /** An optimizer was constructed. */
  optimizer(o: Optimizer): void;
  /** True when this call's site must be captured even on a step the recorder would reuse the last one. */
  needsSite(layer: number, phase: Phase): boolean;
}
