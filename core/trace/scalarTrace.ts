/**
 * Scalar traces: the `scalar/node` and `scalar/backward` events of a walk-through with `Value`s (the
 * single neuron). A step ends at the first operation after a backward; after `MAX_SCALAR_EVENTS`
 * operations a scalar training loop stops being recorded.
 */
import type { Value } from "../scalar/value";
import type { ChainStep, SourceSite, TraceEvent } from "./traceTypes";

/** Scalar graphs are for walk-throughs; a scalar training loop stops being recorded after this many nodes. */
const MAX_SCALAR_EVENTS = 20000;

/** Where the recorder is in a scalar computation. */
export class ScalarPhase {
  private phase: "idle" | "forward" | "backward" = "idle";
  private events = 0;

  /** A scalar operation ran: `"skip"` past the limit, `"next-step"` when it follows a backward, else `"record"`. */
  op(): "skip" | "next-step" | "record" {
    if (++this.events > MAX_SCALAR_EVENTS) return "skip";
    return this.phase === "backward" ? "next-step" : "record";
  }

  /** The operation is recorded (after the step it starts, if any, has begun). */
  forward(): void {
    this.phase = "forward";
  }

  backward(): void {
    this.phase = "backward";
  }
}

/** The `scalar/node` event of an operation's result (a leaf value has no inputs). */
export function scalarNodeEvent(node: Value, step: number, site: SourceSite | undefined): TraceEvent {
  return {
    type: "scalar/node",
    node: {
      id: node.id,
      label: node.label,
      op: node.op,
      data: node.data,
      inputs: node.inputs.map((v) => v.id),
      local: [...node.local],
      step,
      ...(site ? { site } : {}),
    },
  };
}

/** The `scalar/backward` event of `root.backward(dvalue)`: its chain-rule steps and every value's gradient. */
export function scalarBackwardEvent(root: Value, dvalue: number, steps: readonly ChainStep[], step: number, site: SourceSite | undefined): TraceEvent {
  const grads = new Map<number, number>([[root.id, root.grad]]);
  const byId = new Map<number, Value>([[root.id, root]]);
  const collect = (v: Value): void => {
    for (const c of v.inputs) {
      if (byId.has(c.id)) continue;
      byId.set(c.id, c);
      grads.set(c.id, c.grad);
      collect(c);
    }
  };
  collect(root);
  return {
    type: "scalar/backward",
    backward: {
      step,
      root: root.id,
      dvalue,
      steps: steps.map((s) => ({ ...s, upstream: { ...s.upstream }, local: { ...s.local } })),
      grads: [...grads].map(([id, grad]) => ({ id, grad })),
      ...(site ? { site } : {}),
    },
  };
}
