/**
 * The trace recorder: observes every forward and backward call of every layer, every optimizer
 * update and every scalar operation of a run, and emits trace events to a sink.
 *
 * It observes from outside. When a layer is constructed while the recorder is installed, the
 * recorder wraps that instance's `forward` and `backward` (own properties shadowing the class
 * methods); layers do not know they are traced, and untraced runs pay nothing.
 *
 * What it keeps, so that a 10,000-epoch training loop stays cheap:
 * - every call of the first `keepSteps` steps is emitted at once with copies of its tensors
 *   (the inspector fills while the model runs);
 * - every other step only holds references to the tensors the layers made anyway (book layers
 *   allocate new arrays each call) plus a copy of the parameters, and drops them at the next step;
 *   the last step is emitted in full when the run finishes;
 * - loss and accuracy of every step, and gradient norms of sampled steps (every step up to 100, then
 *   ever sparser), go out as step summaries.
 * A NaN or ±Infinity loss stops the run (when `stopOnNonFinite`) with an error naming the first
 * layer and tensor where a non-finite value appeared.
 *
 * One tensor, one copy (trace format 2): a call's tensor that is, by object identity, a tensor an
 * earlier emitted call made (a layer's `inputs` is the previous layer's `output`, its `dvalues` the next
 * layer's `dinputs`) is emitted as a reference (`LayerCall.refs`) when its values are still the ones
 * that call emitted; otherwise it is copied as before.
 */
import { NonFiniteError, TensorTooLargeError, ShapeError, showShape } from "../errors";
import { type GradCheckOptions, gradCheckLayer } from "../gradcheck";
import type { Layer } from "../layers/layer";
import { accuracy } from "../layers/crossEntropy";
import { mean } from "../ops/ops";
import type { Optimizer } from "../optim/optimizer";
import { runtime } from "../runtime";
import type { Value } from "../scalar/value";
import { type Tensor, type TensorLike, isTensor, sameShape, tensor } from "../tensor";
import { forwardOf } from "../run/calls";
import { firstNonFinite, l2norm, tensorStats, unflatIndex } from "./stats";
import { INCOMING_GRADIENT, INPUT_GRADIENT, isGradientName, paramGradientName } from "./tensorNames";
import type { Tracer } from "./tracer";
import {
  type Anomaly,
  type ChainStep,
  type LayerCall,
  type LayerInfo,
  type Phase,
  type SourceSite,
  type StepSummary,
  type TensorData,
  type TensorRef,
  type TensorStats,
  type TraceEvent,
  baseName,
} from "./traceTypes";

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

/** Receives events; `transfer` lists buffers that may be moved instead of copied. */
export interface TraceSink {
  emit(event: TraceEvent, transfer?: ArrayBuffer[]): void;
}

export interface RecorderOptions {
  sink: TraceSink;
  sites?: SiteProvider;
  /** Steps whose every call is emitted with full tensors, from step 0. Default 3. */
  keepSteps?: number;
  /** Stop the run at the first non-finite loss. Default true. */
  stopOnNonFinite?: boolean;
  /** Gradient-check every layer on its last call when the run finishes. Default off. */
  gradCheck?: (GradCheckOptions & { budgetMs?: number }) | false;
  /** A gradient norm above this (and 100× its first value) is reported as exploding. Default 1e3. */
  explodingNorm?: number;
}

interface LayerState {
  layer: Layer;
  id: number;
  ctorSite: SourceSite | undefined;
  info: LayerInfo | undefined;
  /** The last call site seen per phase, reused on steps whose sites are not captured. */
  lastSite: { forward?: SourceSite; backward?: SourceSite };
}

/** A tensor a call made (`output`, `dinputs`), looked up by the tensor object. */
interface Produced {
  layer: number;
  name: string;
  seq: number;
  /**
   * Once the call is emitted: where the values went in the trace (this call's tensor, or the earlier
   * call's it referred to) and what they were. Kept while the call is in the current or previous step.
   */
  emitted?: { at: TensorRef; shape: readonly number[]; copy: Float64Array; stats: TensorStats };
}

interface CallRecord {
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

/** Error thrown inside a traced call, with the layer and call that were running. */
interface ErrorContext {
  layer: LayerInfo;
  phase: Phase;
  site?: SourceSite;
  /** e.g. `inputs [300, 64] came from activation1.output (ReLU, model.ts:12)` */
  detail?: string;
}

/** Layer calls recorded per step; beyond this a step's oldest calls are dropped (and not emitted). */
const MAX_CALLS_PER_STEP = 512;

/** Scalar graphs are for walk-throughs; a scalar training loop stops being recorded after this many nodes. */
const MAX_SCALAR_EVENTS = 20000;

const CONTEXT = Symbol.for("backprop-lens.errorContext");

/** The layer and call an error was thrown in, when it was thrown inside a traced call. */
export function errorContext(e: unknown): ErrorContext | undefined {
  return typeof e === "object" && e !== null ? ((e as Record<symbol, ErrorContext | undefined>)[CONTEXT] ?? undefined) : undefined;
}

export class TraceRecorder implements Tracer {
  private readonly sink: TraceSink;
  private readonly sites: SiteProvider | undefined;
  private readonly keepSteps: number;
  private readonly stopOnNonFinite: boolean;
  private readonly gradCheckOptions: (GradCheckOptions & { budgetMs?: number }) | false;
  private readonly explodingNorm: number;

  private readonly layers = new Map<Layer, LayerState>();
  private readonly byId: LayerState[] = [];
  private readonly optimizers: Optimizer[] = [];
  /** Which layer call produced a tensor (by object identity): names both sides of a shape error, and makes references. */
  private readonly producers = new WeakMap<object, Produced>();
  private readonly callStack: LayerState[] = [];

  private step = 0;
  private seq = 0;
  private phase: "idle" | "forward" | "backward" | "update" = "idle";
  private current: CallRecord[] = [];
  private previous: CallRecord[] = [];
  private stepLoss: number | undefined;
  private stepAccuracy: number | undefined;
  private readonly firstGradNorm = new Map<string, number>();
  private readonly reported = new Set<string>();
  private readonly emittedSteps = new Set<number>();
  private readonly emittedPerStep = new Map<number, number>();
  private scalarPhase: "idle" | "forward" | "backward" = "idle";
  private scalarEvents = 0;
  private finished = false;

  constructor(options: RecorderOptions) {
    this.sink = options.sink;
    this.sites = options.sites;
    this.keepSteps = options.keepSteps ?? 3;
    this.stopOnNonFinite = options.stopOnNonFinite ?? true;
    this.gradCheckOptions = options.gradCheck ?? false;
    this.explodingNorm = options.explodingNorm ?? 1e3;
  }

  /** Makes this recorder observe every layer, optimizer and value constructed from now on. */
  install(): void {
    runtime.tracer = this;
  }

  /** Stops observing new objects (already wrapped layers keep reporting until `finish`). */
  uninstall(): void {
    if (runtime.tracer === this) runtime.tracer = undefined;
  }

  /** The steps emitted with full tensors so far. */
  get keptSteps(): number[] {
    return [...this.emittedSteps].sort((a, b) => a - b);
  }

  /** Number of steps seen so far. */
  get stepCount(): number {
    return this.current.length > 0 || this.step > 0 ? this.step + 1 : 0;
  }

  // ---------------------------------------------------------------- layers

  attachLayer(layer: Layer): void {
    if (this.layers.has(layer)) return;
    const chain: string[] = [];
    for (let p = Object.getPrototypeOf(layer) as object | null; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      const name = (p as { constructor?: { name?: string } }).constructor?.name;
      if (name) chain.push(name);
    }
    const state: LayerState = { layer, id: this.byId.length, ctorSite: this.sites?.capture("construct", chain), info: undefined, lastSite: {} };
    this.layers.set(layer, state);
    this.byId.push(state);
    // The wrappers need both the recorder and the caller's `this`, so they cannot be arrow functions.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const target = layer as unknown as Record<string, unknown>;
    const fwd = layer.forward as (...a: unknown[]) => unknown;
    const bwd = layer.backward as (...a: unknown[]) => unknown;
    // Plain functions (not arrows): `this` is whatever the caller bound, as with the class methods.
    target.forward = function (this: unknown, ...args: unknown[]): unknown {
      return self.traced(state, "forward", fwd, this, args);
    };
    target.backward = function (this: unknown, ...args: unknown[]): unknown {
      return self.traced(state, "backward", bwd, this, args);
    };
  }

  private traced(state: LayerState, phase: Phase, original: (...a: unknown[]) => unknown, thisArg: unknown, args: unknown[]): unknown {
    if (this.finished) return original.apply(thisArg, args);
    const nested = this.callStack.length > 0;
    if (!nested && phase === "forward" && (this.phase === "backward" || this.phase === "update")) this.nextStep();
    if (!nested) this.phase = phase;
    // Capturing a stack costs about as much as a small layer's forward: do it on the recorded steps and
    // every 64th step (a layer may move to another line), and reuse the layer's last site otherwise.
    let site: SourceSite | undefined;
    if (this.step < this.keepSteps || this.step % 64 === 0 || state.lastSite[phase] === undefined) {
      site = this.sites?.capture("call");
      state.lastSite[phase] = site;
    } else {
      site = state.lastSite[phase];
    }
    const parent = this.callStack[this.callStack.length - 1];
    this.callStack.push(state);
    let result: unknown;
    try {
      result = original.apply(thisArg, args);
    } catch (e) {
      this.annotate(e, state, phase, site, args);
      throw e;
    } finally {
      this.callStack.pop();
    }
    this.record(state, phase, site, parent?.id, args, result);
    return result;
  }

  /** Adds the layer, the call site and where the inputs came from to an error thrown inside a call. */
  private annotate(e: unknown, state: LayerState, phase: Phase, site: SourceSite | undefined, args: unknown[]): void {
    if (typeof e !== "object" || e === null || (e as Record<symbol, unknown>)[CONTEXT] !== undefined) return;
    const info = this.infoOf(state);
    let detail: string | undefined;
    const a0 = args[0];
    if (typeof a0 === "object" && a0 !== null) {
      const from = this.producers.get(a0);
      const shape = isTensor(a0) ? showShape(a0.shape) : undefined;
      if (from !== undefined) {
        const src = this.byId[from.layer];
        const srcInfo = src ? this.infoOf(src) : undefined;
        if (srcInfo) {
          const where = srcInfo.site ? `, built at ${baseName(srcInfo.site.file)}:${srcInfo.site.line}` : "";
          detail = `its ${phase === "forward" ? "inputs" : "dvalues"}${shape ? ` ${shape}` : ""} came from ${srcInfo.name}.${from.name} (${srcInfo.description}${where})`;
        }
      }
    }
    const ctx: ErrorContext = { layer: info, phase, ...(site ? { site } : {}), ...(detail ? { detail } : {}) };
    try {
      Object.defineProperty(e, CONTEXT, { value: ctx, enumerable: false });
    } catch {
      // frozen error objects keep their own message
    }
  }

  private infoOf(state: LayerState): LayerInfo {
    if (state.info !== undefined) return state.info;
    const l = state.layer;
    const className = l.constructor.name || "Layer";
    const named = l.name ?? (state.ctorSite ? this.sites?.nameAt?.(state.ctorSite) : undefined);
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

  private record(state: LayerState, phase: Phase, site: SourceSite | undefined, parent: number | undefined, args: unknown[], result: unknown): void {
    const l = state.layer as unknown as Record<string, unknown>;
    const firstCall = state.info === undefined;
    const info = this.infoOf(state);
    if (firstCall) this.emit({ type: "layer/new", layer: info });
    const tensors: Record<string, Tensor> = {};
    const seq = this.seq++;
    const a0 = asTensor(args[0]);
    const a1 = args.length > 1 ? asTensor(args[1]) : undefined;
    let loss: number | undefined;
    let accuracy: number | undefined;
    if (phase === "forward") {
      const inputs = isTensor(l.inputs) ? l.inputs : a0;
      if (inputs) tensors.inputs = inputs;
      if (a1) tensors.targets = a1;
      const out = isTensor(l.output) ? l.output : isTensor(result) ? result : undefined;
      if (out) tensors.output = out;
      for (const p of safeParams(state.layer)) tensors[p.name] = { shape: p.value.shape, data: p.value.data.slice() };
      const kind = state.layer.kind;
      if (typeof result === "number") loss = result;
      else if (kind === "cce" && out) loss = mean(out);
      if (loss !== undefined && parent === undefined) {
        if (a1 && (kind === "softmax-cce" || kind === "cce")) accuracy = accuracyOf(kind === "cce" ? inputs : out, a1);
        this.stepLoss = loss;
        this.stepAccuracy = accuracy;
      }
    } else {
      if (a0) tensors[INCOMING_GRADIENT] = a0;
      if (a1) tensors.targets = a1;
      if (isTensor(l.dinputs)) tensors[INPUT_GRADIENT] = l.dinputs;
      for (const p of safeParams(state.layer)) if (p.grad) tensors[paramGradientName(p.name)] = p.grad;
    }
    const madeName = phase === "forward" ? "output" : INPUT_GRADIENT;
    const made = tensors[madeName];
    let produced: Produced | undefined;
    let producedBefore: Produced | undefined;
    if (made !== undefined) {
      producedBefore = this.producers.get(made);
      this.producers.set(made, (produced = { layer: state.id, name: madeName, seq }));
    }
    const rec: CallRecord = { state, layer: state.id, phase, step: this.step, seq, site, parent, args, tensors, produced, producedBefore, loss, accuracy, emitted: false };
    // A loop of forward calls without a backward stays in one step: keep that step bounded.
    if (this.current.length >= MAX_CALLS_PER_STEP) release(this.current.splice(0, MAX_CALLS_PER_STEP / 2));
    this.current.push(rec);
    if (this.step < this.keepSteps) {
      const n = (this.emittedPerStep.get(this.step) ?? 0) + 1;
      this.emittedPerStep.set(this.step, n);
      if (n <= MAX_CALLS_PER_STEP) this.emitCall(rec);
      else if (n === MAX_CALLS_PER_STEP + 1) {
        this.emit({
          type: "anomaly",
          anomaly: {
            code: "truncated",
            severity: "information",
            step: this.step,
            message: `step ${this.step} made more than ${MAX_CALLS_PER_STEP} layer calls; the inspector shows the first ${MAX_CALLS_PER_STEP} (a step ends at the first forward after a backward or an optimizer update)`,
          },
        });
      }
    }
  }

  private emitCall(rec: CallRecord): void {
    if (rec.emitted) return;
    rec.emitted = true;
    this.emittedSteps.add(rec.step);
    const tensors: Record<string, TensorData> = {};
    const stats: LayerCall["stats"] = {};
    let refs: Record<string, TensorRef> | undefined;
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(rec.tensors)) {
      const mine = rec.produced?.name === name ? rec.produced : undefined;
      // Who made this tensor before this call: for what it read, the tensor's latest producer (one made
      // again after this call does not count: its seq is larger); for what it made, an earlier producer.
      const from = mine ? rec.producedBefore : isTensor(t) ? this.producers.get(t) : undefined;
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
    this.emit({ type: "layer/call", call }, transfer);
  }

  // ---------------------------------------------------------------- steps

  private nextStep(): void {
    this.endStep();
    this.step++;
    release(this.previous);
    this.previous = this.current;
    this.current = [];
    this.stepLoss = undefined;
    this.stepAccuracy = undefined;
  }

  /** Summarises the current step and checks it for non-finite values and exploding gradients. */
  private endStep(): void {
    const step = this.step;
    const summary: StepSummary = { step };
    if (this.stepLoss !== undefined) summary.loss = this.stepLoss;
    if (this.stepAccuracy !== undefined) summary.accuracy = this.stepAccuracy;
    const opt = this.optimizers[this.optimizers.length - 1];
    if (opt) summary.learningRate = opt.currentLearningRate;
    if (isSampled(step)) {
      const grads: NonNullable<StepSummary["grads"]> = [];
      for (const rec of this.current) {
        if (rec.phase !== "backward") continue;
        const norms: Record<string, number> = {};
        for (const [name, t] of Object.entries(rec.tensors)) if (isGradientName(name)) norms[name] = l2norm(t);
        grads.push({ layer: rec.state.id, norms });
        this.checkExploding(rec, norms);
      }
      if (grads.length > 0) summary.grads = grads;
    }
    this.emit({ type: "step/summary", summary });
    if (this.stopOnNonFinite && this.stepLoss !== undefined && !Number.isFinite(this.stepLoss)) {
      const anomaly = this.locateNonFinite() ?? {
        code: "non-finite",
        severity: "error",
        step,
        message: `the loss became ${String(this.stepLoss)} at step ${step}`,
      };
      this.emitStepTensors(this.current);
      this.emit({ type: "anomaly", anomaly });
      throw new NonFiniteError(anomaly.message, anomaly.site);
    }
    // Without a loss layer nothing stops the run, but the first NaN or ±Infinity is still reported where it appeared.
    if (this.stepLoss === undefined && !this.reported.has("non-finite")) {
      const anomaly = this.locateNonFinite();
      if (anomaly !== undefined) {
        this.reported.add("non-finite");
        this.emitStepTensors(this.current);
        this.emit({ type: "anomaly", anomaly });
      }
    }
  }

  private checkExploding(rec: CallRecord, norms: Record<string, number>): void {
    for (const [name, n] of Object.entries(norms)) {
      if (name === "dinputs" && rec.state.layer.paramNames().length > 0) continue;
      const key = `${rec.state.id}:${name}`;
      if (!this.firstGradNorm.has(key) && Number.isFinite(n) && n > 0) this.firstGradNorm.set(key, n);
      const first = this.firstGradNorm.get(key);
      // Gradients of a fresh 0.01-scaled network start tiny and grow while it learns: only a norm that is
      // both large in absolute terms and far above its first value counts as exploding.
      const grew = first === undefined || n > 100 * first;
      if (n > this.explodingNorm && grew && Number.isFinite(n) && !this.reported.has(`explode:${rec.state.id}`)) {
        this.reported.add(`explode:${rec.state.id}`);
        const info = this.infoOf(rec.state);
        this.emit({
          type: "anomaly",
          anomaly: {
            code: "exploding-gradient",
            severity: "warning",
            step: rec.step,
            layer: info.id,
            tensor: name,
            ...(rec.site ? { site: rec.site } : info.site ? { site: info.site } : {}),
            message:
              `exploding gradient: ‖${info.name}.${name}‖ = ${fmt(n)} at step ${rec.step}` +
              (first !== undefined ? ` (${fmt(n / first)}× its first value ${fmt(first)})` : "") +
              `; try a smaller learning rate`,
          },
        });
      }
    }
  }

  /** The first tensor, in call order over the previous and the current step, that holds a NaN or ±Infinity. */
  private locateNonFinite(): Anomaly | undefined {
    for (const rec of [...this.previous, ...this.current]) {
      for (const name of orderOfNames(rec)) {
        const t = rec.tensors[name] as Tensor;
        const i = firstNonFinite(t);
        if (i < 0) continue;
        const info = this.infoOf(rec.state);
        const index = unflatIndex(t.shape, i);
        const v = t.data[i] as number;
        const where = rec.site ? ` (${rec.phase} called at ${baseName(rec.site.file)}:${rec.site.line})` : "";
        return {
          code: "non-finite",
          severity: "error",
          step: rec.step,
          layer: info.id,
          tensor: name,
          index,
          ...(rec.site ? { site: rec.site } : info.site ? { site: info.site } : {}),
          message:
            `${String(v)} first appeared in ${info.name}.${name}[${index.join("][")}] of shape ${showShape(t.shape)} ` +
            `at step ${rec.step}${where}, in ${info.description}${info.site ? ` built at ${baseName(info.site.file)}:${info.site.line}` : ""}; ` +
            (this.stepLoss !== undefined ? `the loss became ${String(this.stepLoss)}` : "the model has no loss layer, so the run went on"),
        };
      }
    }
    return undefined;
  }

  private emitStepTensors(records: CallRecord[]): void {
    for (const rec of records.slice(-MAX_CALLS_PER_STEP)) this.emitCall(rec);
  }

  // ---------------------------------------------------------------- optimizers

  attachOptimizer(optimizer: Optimizer): void {
    this.optimizers.push(optimizer);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const target = optimizer as unknown as Record<string, unknown>;
    const post = optimizer.postUpdateParams as (...a: unknown[]) => unknown;
    const update = optimizer.updateParams as (...a: unknown[]) => unknown;
    target.updateParams = function (this: unknown, ...args: unknown[]): unknown {
      if (!self.finished && self.callStack.length === 0) self.phase = "update";
      return update.apply(this, args);
    };
    target.postUpdateParams = function (this: unknown, ...args: unknown[]): unknown {
      if (!self.finished && self.callStack.length === 0) self.phase = "update";
      return post.apply(this, args);
    };
  }

  // ---------------------------------------------------------------- scalars

  scalarOp(node: Value): void {
    if (this.finished) return;
    if (++this.scalarEvents > MAX_SCALAR_EVENTS) return;
    if (this.scalarPhase === "backward") {
      this.nextStep();
    }
    this.scalarPhase = "forward";
    const site = this.sites?.capture("call");
    this.emit({
      type: "scalar/node",
      node: {
        id: node.id,
        label: node.label,
        op: node.op,
        data: node.data,
        inputs: node.inputs.map((v) => v.id),
        local: [...node.local],
        step: this.step,
        ...(site ? { site } : {}),
      },
    });
  }

  scalarBackward(root: Value, dvalue: number, steps: readonly ChainStep[]): void {
    if (this.finished) return;
    this.scalarPhase = "backward";
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
    const site = this.sites?.capture("call");
    this.emittedSteps.add(this.step);
    this.emit({
      type: "scalar/backward",
      backward: {
        step: this.step,
        root: root.id,
        dvalue,
        steps: steps.map((s) => ({ ...s, upstream: { ...s.upstream }, local: { ...s.local } })),
        grads: [...grads].map(([id, grad]) => ({ id, grad })),
        ...(site ? { site } : {}),
      },
    });
  }

  // ---------------------------------------------------------------- end of run

  /**
   * Ends the run: emits the last step in full, reports dead ReLUs, and (when enabled) gradient-checks
   * every layer on its last call. Call once, after the model has returned (or thrown).
   */
  finish(options: { completed: boolean } = { completed: true }): void {
    if (this.finished) return;
    this.uninstall();
    let failure: unknown;
    if (options.completed && (this.current.length > 0 || this.step > 0)) {
      try {
        this.endStep();
      } catch (e) {
        failure = e;
      }
    }
    this.finished = true;
    this.emitStepTensors(this.current);
    this.reportDeadRelus();
    if (failure !== undefined) throw failure;
    if (options.completed && this.gradCheckOptions !== false) this.gradCheckAll(this.gradCheckOptions);
  }

  private reportDeadRelus(): void {
    for (const rec of this.current) {
      if (rec.phase !== "forward" || rec.state.layer.kind !== "relu" || rec.parent !== undefined) continue;
      const key = `dead:${rec.state.id}`;
      const out = rec.tensors.output;
      if (!out || out.shape.length !== 2 || this.reported.has(key)) continue;
      const [r, c] = out.shape as [number, number];
      if (r < 2) continue;
      let dead = 0;
      for (let j = 0; j < c; j++) {
        let alive = false;
        for (let i = 0; i < r && !alive; i++) alive = (out.data[i * c + j] as number) !== 0;
        if (!alive) dead++;
      }
      if (dead === 0) continue;
      this.reported.add(key);
      const info = this.infoOf(rec.state);
      const frac = dead / c;
      this.emit({
        type: "anomaly",
        anomaly: {
          code: "dead-relu",
          severity: frac >= 0.5 ? "warning" : "information",
          step: rec.step,
          layer: info.id,
          tensor: "output",
          ...(info.site ? { site: info.site } : rec.site ? { site: rec.site } : {}),
          message: `dead ReLU: ${dead} of ${c} units of ${info.name} output 0 for all ${r} samples at step ${rec.step}, so no gradient flows through them`,
        },
      });
    }
  }

  private gradCheckAll(options: GradCheckOptions & { budgetMs?: number }): void {
    // A time budget for all layers together (each tensor still gets a few elements checked).
    const { budgetMs, ...rest } = options;
    options = budgetMs !== undefined ? { ...rest, deadline: Date.now() + budgetMs } : rest;
    for (const state of this.byId) {
      if (state.info === undefined) continue;
      const calls = this.current.filter((r) => r.state === state && r.parent === undefined);
      const lastBackward = [...calls].reverse().find((r) => r.phase === "backward");
      if (lastBackward === undefined) continue;
      const forward = forwardOf(calls, lastBackward);
      if (forward === undefined) continue;
      const layer = state.layer as unknown as Record<string, unknown>;
      // Bypass the wrappers (own properties) so the check's many calls are not traced.
      const wrappedF = layer.forward;
      const wrappedB = layer.backward;
      delete layer.forward;
      delete layer.backward;
      const saved = snapshotParams(state.layer);
      try {
        const report = gradCheckLayer(state.layer, forward.args, lastBackward.args, options);
        this.emit({ type: "gradcheck", result: { layer: state.id, step: forward.step, ok: report.ok, tensors: report.tensors } });
        for (const t of report.tensors) {
          if (t.ok || t.worst === undefined) continue;
          const info = state.info;
          const w = t.worst;
          this.emit({
            type: "anomaly",
            anomaly: {
              code: "gradient-check",
              severity: "error",
              step: forward.step,
              layer: state.id,
              tensor: t.name,
              index: w.index,
              ...(lastBackward.site ? { site: lastBackward.site } : info.site ? { site: info.site } : {}),
              message:
                `gradient check failed: ${info.name}.${t.name}[${w.index.join("][")}] is ${fmt(w.analytic)} ` +
                `but central differences give ${fmt(w.numeric)} (|error| ${fmt(w.absErr)} > ${fmt(t.atol)} + ${fmt(t.rtol)}·|numeric|); ` +
                `check ${info.className}.backward`,
            },
          });
        }
      } catch (e) {
        this.emit({ type: "gradcheck", result: { layer: state.id, step: forward.step, ok: false, tensors: [], error: e instanceof Error ? e.message : String(e) } });
      } finally {
        restoreParams(state.layer, saved);
        layer.forward = wrappedF;
        layer.backward = wrappedB;
      }
    }
  }

  private emit(event: TraceEvent, transfer?: ArrayBuffer[]): void {
    this.sink.emit(event, transfer);
  }
}

/**
 * Steps whose gradient norms are summarised: all up to 100, then every 2nd up to 200, every 4th up to
 * 400, … (about 50 per doubling: a 10,000-step run gets ~430 points, and the norms cost the traced run
 * a few percent instead of a sixth).
 */
export function isSampled(step: number): boolean {
  if (step < SAMPLE_ALL) return true;
  const stride = 2 ** Math.floor(Math.log2(step / SAMPLE_ALL) + 1);
  return step % stride === 0;
}

const SAMPLE_ALL = 100;

function orderOfNames(rec: CallRecord): string[] {
  return rec.phase === "forward"
    ? ["inputs", ...Object.keys(rec.tensors).filter((n) => n !== "inputs" && n !== "output" && n !== "targets"), "output"].filter((n) => n in rec.tensors)
    : ["dvalues", ...Object.keys(rec.tensors).filter((n) => n !== "dvalues" && n !== "targets" && n !== "dinputs"), "dinputs"].filter((n) => n in rec.tensors);
}

/** Forgets the values records of a past step kept for references. */
function release(records: readonly CallRecord[]): void {
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

function safeParams(l: Layer): { name: string; value: Tensor; grad: Tensor | undefined }[] {
  try {
    return l.params().filter((p) => isTensor(p.value));
  } catch {
    return [];
  }
}

function snapshotParams(l: Layer): { value: Tensor; copy: Float64Array }[] {
  return safeParams(l).map((p) => ({ value: p.value, copy: p.value.data.slice() }));
}

function restoreParams(_l: Layer, saved: { value: Tensor; copy: Float64Array }[]): void {
  for (const s of saved) s.value.data.set(s.copy);
}

function asTensor(x: unknown): Tensor | undefined {
  if (isTensor(x)) return x;
  if (Array.isArray(x) || x instanceof Float64Array) {
    try {
      return tensor(x as TensorLike);
    } catch (e) {
      if (e instanceof TensorTooLargeError || e instanceof ShapeError) return undefined;
      return undefined;
    }
  }
  return undefined;
}

/** Accuracy of a loss layer's predictions, or undefined when the targets do not fit them. */
function accuracyOf(pred: Tensor | undefined, targets: Tensor): number | undefined {
  if (pred === undefined || pred.shape.length !== 2) return undefined;
  try {
    return accuracy(pred, targets);
  } catch {
    return undefined;
  }
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-4) ? v.toExponential(3) : String(Number(v.toPrecision(6)));
}
