/**
 * What the recorder keeps of a layer and of each of its calls while the model runs, and how a kept call
 * becomes a `layer/call` event (references instead of copies where a tensor is another call's).
 * Used by the recorder (`traceRecorder.ts`), its anomaly rules and its gradient-check pass.
 */
import type { Layer } from "../layers/layer";
import { accuracy } from "../layers/crossEntropy";
import { type Tensor, type TensorLike, isTensor, sameShape, tensor } from "../tensor";
import { tensorStats } from "./stats";
import type { LayerCall, LayerInfo, Phase, SourceSite, TensorData, TensorRef, TensorStats } from "./traceTypes";

/** Finds the user's source position of what is running now (implemented by the runner with V8 stack traces). */
export interface SiteProvider {
  /**
   * The innermost frame in the user's code. For `"construct"`, frames of the constructors of
   * `classNames` are skipped, so the site is the `new …` expression, not a `super()` call.
   */
  capture(kind: "construct" | "call", classNames?: readonly string[]): SourceSite | undefined;
  /** A name for a layer built at `site`, e.g. the variable on that line (`const dense1 = new Dense(…)`). */
  nameAt?(site: SourceSite): string | undefined;
}

export interface LayerState {
  layer: Layer;
  id: number;
  ctorSite: SourceSite | undefined;
  info: LayerInfo | undefined;
  /** The last call site seen per phase, reused on steps whose sites are not captured. */
  lastSite: { forward?: SourceSite; backward?: SourceSite };
  /** Per phase, the step of its last call and how many calls it had in that step. */
  callsInStep: { forward: { step: number; n: number }; backward: { step: number; n: number } };
  /**
   * Per phase, true once it was called from more than one place (twice in one step, or a captured site
   * that differs from the one it had): from then on every call's site is captured.
   */
  multiSite: { forward?: true; backward?: true };
  /** The layer's own `forward` and `backward` (a class method, or a function field), which the wrappers call. */
  originals: Record<Phase, (...a: unknown[]) => unknown>;
  /** The recorder's wrappers, set as own properties of the layer. */
  wrappers: Record<Phase, (...a: unknown[]) => unknown>;
  /**
   * True when a function field (`forward = (…) => …`) replaced a wrapper after the layer was built and
   * the recorder put its wrapper back only when the run finished, so any call before that went unseen.
   */
  unseenUntilFinish?: boolean;
  /** Per parameter, up to two copies made by forward calls, with their step (see `TraceRecorder.paramCopy`). */
  paramCopies?: Map<string, { step: number; data: Float64Array }[]>;
}

/** A tensor a call made (`output`, `dinputs`), looked up by the tensor object. */
export interface Produced {
  layer: number;
  name: string;
  seq: number;
  /**
   * Once the call is emitted: where the values went in the trace (this call's tensor, or the earlier
   * call's it referred to) and what they were. Kept while the call is in the current or previous step.
   */
  emitted?: { at: TensorRef; shape: readonly number[]; copy: Float64Array; stats: TensorStats };
}

export interface CallRecord {
  state: LayerState;
  /** The layer's id (`state.id`), so records pair like any other call (`core/run/calls.ts`). */
  layer: number;
  phase: Phase;
  step: number;
  seq: number;
  site: SourceSite | undefined;
  parent: number | undefined;
  args: unknown[];
  /** References to what the call read and made, and copies of the parameters. */
  tensors: Record<string, Tensor>;
  /** The tensor this call made (`output` of a forward, `dinputs` of a backward), if any. */
  produced: Produced | undefined;
  /** The earlier call that made that same tensor object (a layer that hands on another layer's result). */
  producedBefore: Produced | undefined;
  loss: number | undefined;
  accuracy: number | undefined;
  emitted: boolean;
}

/** The layer as the trace knows it (computed once, on its first call: subclass fields exist by then). */
export function layerInfo(state: LayerState, sites: SiteProvider | undefined): LayerInfo {
  if (state.info !== undefined) return state.info;
  const l = state.layer;
  const className = l.constructor.name || "Layer";
  const named = l.name ?? (state.ctorSite ? sites?.nameAt?.(state.ctorSite) : undefined);
  const params: { name: string; shape: number[] }[] = [];
  let paramCount = 0;
  for (const p of safeParams(l)) {
    params.push({ name: p.name, shape: [...p.value.shape] });
    paramCount += p.value.data.length;
  }
  const dims = l as unknown as { nInputs?: unknown; nNeurons?: unknown };
  const description = typeof dims.nInputs === "number" && typeof dims.nNeurons === "number" ? `${className}(${dims.nInputs}, ${dims.nNeurons})` : className;
  const info: LayerInfo = {
    id: state.id,
    name: named ?? `${className}#${state.id}`,
    kind: l.kind,
    className,
    description,
    ...(state.ctorSite ? { site: state.ctorSite } : {}),
    params,
    paramCount,
  };
  state.info = info;
  return info;
}

/**
 * The `layer/call` event of a record, and the buffers it may transfer. A tensor that is, by object
 * identity, one an earlier emitted call made (`producerOf`), with the values that call emitted, becomes a
 * reference; every other tensor is copied. What the call made is remembered (`produced.emitted`) so that
 * later calls can refer to it.
 */
export function layerCallEvent(rec: CallRecord, producerOf: (t: Tensor) => Produced | undefined): { call: LayerCall; transfer: ArrayBuffer[] } {
  const tensors: Record<string, TensorData> = {};
  const stats: LayerCall["stats"] = {};
  let refs: Record<string, TensorRef> | undefined;
  const transfer: ArrayBuffer[] = [];
  for (const [name, t] of Object.entries(rec.tensors)) {
    const mine = rec.produced?.name === name ? rec.produced : undefined;
    // Who made this tensor before this call: for what it read, the tensor's latest producer (one made
    // again after this call does not count: its seq is larger); for what it made, an earlier producer.
    const from = mine ? rec.producedBefore : isTensor(t) ? producerOf(t) : undefined;
    const prior = from?.emitted;
    if (from !== undefined && prior !== undefined && from.seq < rec.seq && sameShape(prior.shape, t.shape) && sameValues(prior.copy, t.data)) {
      (refs ??= {})[name] = { ...prior.at };
      stats[name] = prior.stats;
      if (mine) mine.emitted = prior;
      continue;
    }
    const data = t.data.slice();
    tensors[name] = { shape: [...t.shape], data };
    stats[name] = tensorStats(t);
    // Later calls may refer to what this call made: keep its values to compare with (sent as a copy, not transferred).
    if (mine) mine.emitted = { at: { seq: rec.seq, name }, shape: [...t.shape], copy: data, stats: stats[name] };
    else transfer.push(data.buffer as ArrayBuffer);
  }
  const call: LayerCall = {
    step: rec.step,
    seq: rec.seq,
    layer: rec.state.id,
    phase: rec.phase,
    ...(rec.site ? { site: rec.site } : {}),
    ...(rec.parent !== undefined ? { parent: rec.parent } : {}),
    tensors,
    stats,
    ...(refs ? { refs } : {}),
    ...(rec.loss !== undefined ? { loss: rec.loss } : {}),
    ...(rec.accuracy !== undefined ? { accuracy: rec.accuracy } : {}),
  };
  return { call, transfer };
}

/** A record's tensor names in data-flow order: what it read, its parameters (or their gradients), what it made. */
export function orderOfNames(rec: CallRecord): string[] {
  return rec.phase === "forward"
    ? ["inputs", ...Object.keys(rec.tensors).filter((n) => n !== "inputs" && n !== "output" && n !== "targets"), "output"].filter((n) => n in rec.tensors)
    : ["dvalues", ...Object.keys(rec.tensors).filter((n) => n !== "dvalues" && n !== "targets" && n !== "dinputs"), "dinputs"].filter((n) => n in rec.tensors);
}

/** Forgets the values records of a past step kept for references. */
export function release(records: readonly CallRecord[]): void {
  for (const r of records) {
    if (r.produced !== undefined) delete r.produced.emitted;
    r.producedBefore = undefined;
  }
}

/** True when `b` holds exactly the values of `a` (NaN equals NaN; 0 and −0 differ, as in the trace file). */
function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x === y) {
      if (x === 0 && 1 / x !== 1 / y) return false;
    } else if (x === x || y === y) return false;
  }
  return true;
}

/** The layer's tensor parameters; none when its `params()` throws (a half-built user layer). */
export function safeParams(l: Layer): { name: string; value: Tensor; grad: Tensor | undefined }[] {
  try {
    return l.params().filter((p) => isTensor(p.value));
  } catch {
    return [];
  }
}

/** An argument as a tensor: a tensor, or nested arrays / a Float64Array that make a valid one. */
export function asTensor(x: unknown): Tensor | undefined {
  if (isTensor(x)) return x;
  if (Array.isArray(x) || x instanceof Float64Array) {
    try {
      return tensor(x as TensorLike);
    } catch {
      // Not a valid tensor (ragged, too large): the call is recorded without it.
      return undefined;
    }
  }
  return undefined;
}

/** Accuracy of a loss layer's predictions, or undefined when the targets do not fit them. */
export function accuracyOf(pred: Tensor | undefined, targets: Tensor): number | undefined {
  if (pred === undefined || pred.shape.length !== 2) return undefined;
  try {
    return accuracy(pred, targets);
  } catch {
    return undefined;
  }
}
