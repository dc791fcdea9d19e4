/**
 * The trace: what a traced run reports, event by event. The worker streams these events to the
 * extension, the CLI writes them to JSON (`docs/trace-format.md`), the run model (`core/run/`) reads
 * them. Bump `TRACE_FORMAT_VERSION` whenever an event changes shape (and keep reading the old ones).
 * These types import nothing from the engine: another producer (the Python tracer) writes them too.
 */

/**
 * 2: a layer call's tensor that is the same tensor as an earlier call's is a reference (`LayerCall.refs`)
 * instead of a copy. 1: every tensor copied. Readers accept both.
 */
export const TRACE_FORMAT_VERSION = 2;

/** The built-in layer kinds; a user-written layer is `"custom"` unless it says otherwise. */
export type LayerKind = "dense" | "relu" | "softmax" | "cce" | "softmax-cce" | "custom";

/** A position in the user's source: absolute file path, 1-based line and column. */
export interface SourceSite {
  file: string;
  line: number;
  column: number;
}

/** The file name of a path (either separator): how messages and cards name a site's file. */
export function baseName(file: string): string {
  return file.slice(Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")) + 1);
}

/** A tensor as it travels in the trace: shape and row-major float64 values. */
export interface TensorData {
  shape: number[];
  data: Float64Array;
  /**
   * The producer's element type when it was not float64 (`"float32"`, `"int64"`, `"uint8"`, `"bool"`, …):
   * the Python tracer converts exactly to float64 and says what the model used. Absent: float64.
   */
  dtype?: string;
}

/**
 * Summary statistics of a tensor (`core/trace/stats.ts`); counts are of elements. `min`/`max` are over
 * the elements that are not NaN, `mean`/`std` over the finite ones, `norm` is the L2 norm of all of
 * them (NaN when one is NaN, +∞ when one is ±∞).
 */
export interface TensorStats {
  size: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  norm: number;
  /** NaN or ±Infinity elements. */
  nonFinite: number;
  /** Elements exactly 0. */
  zeros: number;
  /** NaN elements (absent in traces written before this was counted: then only `nonFinite` is known). */
  nan?: number;
  /** +Infinity elements. */
  posInf?: number;
  /** −Infinity elements. */
  negInf?: number;
}

/** A layer as the trace knows it. */
export interface LayerInfo {
  /** Order of construction, from 0. */
  id: number;
  /** The variable the layer was assigned to (`dense1`), its `name`, or `ClassName#id`. */
  name: string;
  kind: LayerKind;
  /** The class, e.g. `Dense` or the user's own class name. */
  className: string;
  /** A short description, e.g. `Dense(2, 3)`. */
  description: string;
  /** Where the layer was constructed. */
  site?: SourceSite;
  /** Trainable tensors and their shapes (as of the first forward call). */
  params: { name: string; shape: number[] }[];
  paramCount: number;
}

export type Phase = "forward" | "backward";

/** A tensor of an earlier call: call `seq`'s tensor `name` (e.g. `{ seq: 4, name: "dinputs" }`). */
export interface TensorRef {
  seq: number;
  name: string;
}

/** One forward or backward call of one layer, with its tensors by the book's names. */
export interface LayerCall {
  /** Training step (a step starts with the first forward after a backward or an optimizer update). */
  step: number;
  /** Position of this call in the run, from 0. */
  seq: number;
  layer: number;
  phase: Phase;
  /** Where `forward`/`backward` was called. */
  site?: SourceSite;
  /** The layer whose method made this call, when layers call layers. */
  parent?: number;
  /**
   * forward: `inputs`, `output`, `targets` (loss layers) and a snapshot of each parameter;
   * backward: `dvalues`, `dinputs`, `targets` (loss layers) and `d` + each parameter name
   * (`core/trace/tensorNames.ts`). Names listed in `refs` have no entry here.
   */
  tensors: Record<string, TensorData>;
  /** Statistics of every tensor of the call, referenced ones included. */
  stats: Record<string, TensorStats>;
  /**
   * (Version 2.) Tensors that are the same tensor as an earlier call's, by object identity: a backward
   * call's `dvalues` that is the next layer's `dinputs`, a forward call's `inputs` that is the previous
   * layer's `output`. Each points to a call earlier in the trace that carries the data (never to another
   * reference). A producer may omit `refs` and copy every tensor instead.
   */
  refs?: Record<string, TensorRef>;
  /** The mean loss, when this call computed one. */
  loss?: number;
  accuracy?: number;
}

/** What one step amounted to; `grads` (L2 norms of each gradient, per layer) only for sampled steps. */
export interface StepSummary {
  step: number;
  loss?: number;
  accuracy?: number;
  learningRate?: number;
  /**
   * The optimizer's update of this step, as it ran (the first `updateParams` of the step): its kind,
   * the learning rate it used, how many updates came before (Adam's bias correction uses it), and its
   * settings. Lets the inspector write the update out (`w ← w − lr·dw`, momentum, Adam's moments).
   */
  optimizer?: OptimizerStep;
  /** Per layer: the L2 norm and (when the producer measured it) the mean |value| of each gradient. */
  grads?: { layer: number; norms: Record<string, number>; meanAbs?: Record<string, number> }[];
}

/** An optimizer's update of one step (`StepSummary.optimizer`). */
export interface OptimizerStep {
  /** `SGD`, `Adam`, or the class of another optimizer. */
  kind: string;
  /** The learning rate the update used (after decay). */
  learningRate: number;
  /** Updates the optimizer made before this one (0 at the first). */
  iteration: number;
  /** SGD's momentum (0 or absent: plain SGD). */
  momentum?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** A scalar value of the single-neuron walk-through. */
export interface ScalarNode {
  id: number;
  label: string;
  op: "" | "mul" | "sum" | "relu";
  data: number;
  inputs: number[];
  /** ∂node/∂inputs[i]. */
  local: number[];
  step: number;
  site?: SourceSite;
}

/** One application of the chain rule: `name = upstream · local`. */
export interface ChainStep {
  /** The value whose gradient this step adds to. */
  target: number;
  /** The value the gradient comes from. */
  node: number;
  /** The book's name of the product, e.g. `drelu_dxw0`. */
  name: string;
  /** The gradient arriving at `node`, e.g. `{ name: "drelu_dz", value: 1 }`. */
  upstream: { name: string; value: number };
  /** The local derivative, e.g. `{ name: "dsum_dxw0", value: 1 }`. */
  local: { name: string; value: number };
  /** `upstream.value · local.value`. */
  value: number;
  /** True when `target` already had a contribution (it is used more than once): the product is added. */
  accumulated: boolean;
}

export interface ScalarBackward {
  step: number;
  root: number;
  dvalue: number;
  steps: ChainStep[];
  /** Every value's gradient after this backward. */
  grads: { id: number; grad: number }[];
  site?: SourceSite;
}

/**
 * `diverging`: the loss jumped and stayed up (the message names the learning rate as the likely cause);
 * `loss-spike`: it jumped above where it started and came back (`core/trace/divergence.ts`);
 * `untraced-layer`: a layer ran but could not be traced (its forward/backward are function fields it set too late to wrap).
 */
export type AnomalyCode = "non-finite" | "dead-relu" | "exploding-gradient" | "gradient-check" | "truncated" | "diverging" | "loss-spike" | "untraced-layer";
export type Severity = "error" | "warning" | "information";

/** Something wrong or suspicious, at a layer and a line. */
export interface Anomaly {
  code: AnomalyCode;
  severity: Severity;
  message: string;
  step: number;
  layer?: number;
  tensor?: string;
  index?: number[];
  site?: SourceSite;
}

/** The gradient check of one gradient tensor of one layer. */
export interface GradCheckTensor {
  /** The gradient checked, e.g. `dinputs` or `dweights`. */
  name: string;
  ok: boolean;
  /** Elements compared, of `total`. */
  checked: number;
  total: number;
  /** Elements skipped because the function has a kink there (e.g. ReLU at exactly 0). */
  kinks: number;
  /** The element with the largest error relative to the tolerance. */
  worst?: { index: number[]; analytic: number; numeric: number; absErr: number; relErr: number };
  rtol: number;
  atol: number;
  /**
   * The central difference of every element compared (flat indices into the tensor, kinks left out),
   * so the inspector can draw |analytic − numeric| over the tensor. Absent from older traces.
   */
  numeric?: { indices: number[]; values: number[] };
}

export interface GradCheckResult {
  layer: number;
  step: number;
  ok: boolean;
  tensors: GradCheckTensor[];
  /** Set when the check itself could not run (e.g. the layer threw). */
  error?: string;
}

export type RunErrorKind =
  | "syntax"
  | "import"
  | "throw"
  | "shape"
  | "non-finite"
  | "timeout"
  | "memory"
  | "too-large"
  | "cancelled"
  /** The model's process died before the run ended (killed, crashed), or the editor closed during the run. */
  | "lost"
  | "internal";

/** Why a run failed, where, and in which layer. */
export interface RunError {
  kind: RunErrorKind;
  /** One readable sentence (or a few), naming file, line, layer and shapes where known. */
  message: string;
  site?: SourceSite;
  layer?: { id?: number; name: string; className: string };
  /** The user's stack frames, innermost first. */
  frames?: SourceSite[];
}

export type ConsoleLevel = "log" | "info" | "warn" | "error";

export type TraceEvent =
  | { type: "run/start"; version: number; file: string; startedAt: number }
  | { type: "layer/new"; layer: LayerInfo }
  | { type: "layer/call"; call: LayerCall }
  | { type: "step/summary"; summary: StepSummary }
  | { type: "scalar/node"; node: ScalarNode }
  | { type: "scalar/backward"; backward: ScalarBackward }
  | { type: "anomaly"; anomaly: Anomaly }
  | { type: "gradcheck"; result: GradCheckResult }
  | { type: "console"; level: ConsoleLevel; text: string; site?: SourceSite }
  | { type: "run/end"; ok: boolean; steps: number; durationMs: number; keptSteps: number[]; error?: RunError };
