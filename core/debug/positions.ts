/**
 * The debugger's positions: the points of a run where it can stop. Each is a *completed* thing the
 * model did, with the user's file and line where it was asked for:
 *
 * - `layer`: a layer's forward or backward call (built-in or user-written; a call a layer makes
 *   inside its own forward or backward is nested one level deeper than its caller);
 * - `update`: an optimizer's update of one layer (`optimizer.step(...)` / `updateParams(layer)`), with
 *   one nested `param` position per parameter it changed (`dense1.weights`, `dense1.biases`);
 * - `scalar`: one scalar operation of the single-neuron walk-through (`mul`, `sum`, `max`, a leaf value);
 * - `scalar-backward`: a scalar value's `backward()`.
 *
 * Positions are numbered by completion (`id`, from 0), so a nested call comes *before* the call that
 * contains it. Stepping (`stepping.ts`) walks this order; `depth` is the number of calls still open.
 */
import type { Phase, ScalarBackward, ScalarNode, SourceSite, TensorData, TensorStats } from "../trace/traceTypes";

export type PositionKind = "layer" | "update" | "param" | "scalar" | "scalar-backward";

/** A call that was still running when a position completed (an enclosing layer call or optimizer update). */
export interface OpenCall {
  kind: "layer" | "update";
  layer: number;
  phase: Phase | "update";
  site?: SourceSite;
  /** The layer's name when the trace has not named it yet (its first call has not completed). */
  name?: string;
}

/** One position, as the worker sends it to the host. */
export interface Position {
  /** Completion order in the run, from 0. */
  id: number;
  kind: PositionKind;
  /** Training step (the recorder's: a step starts with the first forward after a backward or an update). */
  step: number;
  /** The layer called or updated (`layer`, `update`, `param`). */
  layer?: number;
  /** `forward`/`backward` for layer calls, `update` for optimizer updates. */
  phase?: Phase | "update";
  /** The parameter a `param` position updated (`weights`). */
  param?: string;
  /** The trace's call number of a layer call (`LayerCall.seq`): the run store has its tensors when the step was recorded. */
  seq?: number;
  /** Where the call was made (the user's line). */
  site?: SourceSite;
  /** Calls still open, outermost first; `open.length` is the position's depth. */
  open: OpenCall[];
  /** The mean loss when this call computed one. */
  loss?: number;
  accuracy?: number;
  /** The optimizer's learning rate (update positions). */
  learningRate?: number;
  /** The optimizer's kind (`SGD`, `Adam`) and iteration (update positions). */
  optimizer?: { kind: string; iterations: number };
  /**
   * The position's tensors by the book's names. Layer calls: as in `LayerCall.tensors`. Updates and
   * parameters: `weights` (after the update), `dweights` (the gradient used) and the optimizer's state
   * (`weights.momentum`, `weights.cache`, `weights.m`, `weights.v`). Absent when the host resolves them
   * through the run store (`seq`) or when the position was sent without data.
   */
  tensors?: Record<string, TensorData>;
  /** Statistics of `tensors` (or of the run store's tensors when `tensors` is absent). */
  stats?: Record<string, TensorStats>;
  /** A scalar operation's node. */
  node?: ScalarNode;
  /** A scalar `backward()`. */
  backward?: ScalarBackward;
  /** Set on the call that threw (it never completed): the error's message. */
  error?: string;
  /** The layer's name when the trace has not named it yet (a first call that threw). */
  layerName?: string;
  /**
   * Sent without its tensors because the stop's kept positions were full (`TRACE_BUDGET.stopWindowBytes`): the
   * host does not keep it, so Step Back does not reach it.
   */
  dropped?: true;
}

/** The depth of a position: how many calls were open when it completed. */
export function depthOf(p: Pick<Position, "open">): number {
  return p.open.length;
}

/** How a layer is named in labels: by id. */
export type LayerNames = (layer: number) => string;

/** `dense2.backward`, `SGD update dense1`, `update dense1.weights`, `mul xw0`, `y.backward()`. */
export function positionLabel(p: Position, name: LayerNames): string {
  switch (p.kind) {
    case "layer":
      return `${p.layerName ?? name(p.layer ?? -1)}.${p.phase ?? "call"}`;
    case "update":
      return `${p.optimizer?.kind ?? "optimizer"} update ${name(p.layer ?? -1)}`;
    case "param":
      return `update ${name(p.layer ?? -1)}.${p.param ?? "?"}`;
    case "scalar": {
      const n = p.node;
      return n ? (n.op === "" ? `value ${n.label} = ${n.data}` : `${n.op} ${n.label} = ${n.data}`) : "scalar operation";
    }
    case "scalar-backward":
      return "backward()";
  }
}

/** `dense2.backward`, or for an open call `Block.forward`. */
export function openCallLabel(c: OpenCall, name: LayerNames): string {
  const n = c.name ?? name(c.layer);
  return c.kind === "update" ? `update ${n}` : `${n}.${c.phase}`;
}

/**
 * The steps a timeline holds, as ranges: `[[0, 2], [4998, 4999]]`. Used to say how far back one can go.
 */
export function stepRanges(steps: Iterable<number>): [number, number][] {
  const sorted = [...new Set(steps)].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

/** `steps 0–2 and 4998–4999` */
export function stepRangesText(ranges: readonly [number, number][]): string {
  if (ranges.length === 0) return "no steps";
  const parts = ranges.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`));
  const one = ranges.length === 1 && (ranges[0] as [number, number])[0] === (ranges[0] as [number, number])[1];
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1] as string}` : (parts[0] as string);
  return `${one ? "step" : "steps"} ${list}`;
}
