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
 *
 * This file is the recording itself (wrapping layers and optimizers, steps, what is kept and emitted).
 * Beside it: `callRecord.ts` (what is kept of a layer and a call, and a call's event with its references),
 * `anomalyRules.ts` (exploding gradients, non-finite values, dead ReLUs, failed checks), `gradCheckPass.ts`
 * (the end-of-run gradient check), `errorContext.ts` (the layer and call an error was thrown in) and
 * `scalarTrace.ts` (scalar `Value` graphs).
 */
import { NonFiniteError } from "../errors";
import type { Layer } from "../layers/layer";
import { mean } from "../ops/ops";
import type { Optimizer } from "../optim/optimizer";
import { RUN_LIMITS } from "../limits";
import { runtime } from "../runtime";
import type { Value } from "../scalar/value";
import { type Tensor, isTensor } from "../tensor";
import { DivergenceWatch, recorderObservation } from "./divergence";
import { ExplodingGradientRule, deadReluAnomaly, firstNonFiniteAnomaly, nonFiniteLossAnomaly, truncatedAnomaly, unseenLayerAnomaly } from "./anomalyRules";
import { type CallRecord, type LayerState, type Produced, type SiteProvider, accuracyOf, asTensor, layerCallEvent, layerInfo, release, safeParams } from "./callRecord";
import { attachContext, needsContext, originDetail } from "./errorContext";
import { type GradCheckPassOptions, gradCheckPass } from "./gradCheckPass";
import { ScalarPhase, scalarBackwardEvent, scalarNodeEvent } from "./scalarTrace";
import { normAndMeanAbs } from "./stats";
import { INCOMING_GRADIENT, INPUT_GRADIENT, isGradientName, paramGradientName } from "./tensorNames";
import type { Tracer } from "./tracer";
import type { CallObserver } from "../debug/observer";
import type { ChainStep, LayerInfo, OptimizerStep, Phase, SourceSite, StepSummary, TraceEvent } from "./traceTypes";

export type { SiteProvider } from "./callRecord";
export { type ErrorContext, errorContext } from "./errorContext";

/** Receives events; `transfer` lists buffers that may be moved instead of copied. */
export interface TraceSink {
  emit(event: TraceEvent, transfer?: ArrayBuffer[]): void;
}

export interface RecorderOptions {
  sink: TraceSink;
  sites?: SiteProvider;
  /** Steps whose every call is emitted with full tensors, from step 0. Default: `RUN_LIMITS.keepSteps` (core/limits.ts). */
  keepSteps?: number;
  /** Stop the run at the first non-finite loss. Default true. */
  stopOnNonFinite?: boolean;
  /** Gradient-check every layer on its last call when the run finishes. Default off. */
  gradCheck?: GradCheckPassOptions | false;
  /** A gradient norm above this (and 100× its first value) is reported as exploding. Default 1e3. */
  explodingNorm?: number;
  /** The debugger's worker-side code (debug runs only). */
  observer?: CallObserver;
  /** More steps to emit in full ("record step 1234": the runner re-runs the model up to it). */
  recordSteps?: readonly number[];
}

/** A step whose loss is more than this many times the step before's is a loss jump (its step and the one before are kept). */
const LOSS_JUMP = 2;

/** Layer calls recorded per step; beyond this a step's oldest calls are dropped (and not emitted). */
const MAX_CALLS_PER_STEP = 512;

export class TraceRecorder implements Tracer {
  private readonly sink: TraceSink;
  private readonly sites: SiteProvider | undefined;
  private readonly keepSteps: number;
  private readonly stopOnNonFinite: boolean;
  private readonly gradCheckOptions: GradCheckPassOptions | false;
  private readonly exploding: ExplodingGradientRule;
  /** The learning-rate blow-up rule (core/trace/divergence.ts): fed every step, asked at the end. */
  private readonly divergence = new DivergenceWatch();
  private optimizerSite: SourceSite | undefined;
  private readonly observer: CallObserver | undefined;
  private readonly extraSteps: Set<number>;
  /** The first anomaly's step and the one before were emitted in full. */
  private keptAnomaly = false;
  private previousLoss: number | undefined;
  private explodedThisStep = false;

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
  /** The optimizer's update of the current step, as its first updateParams saw it. */
  private stepOptimizer: OptimizerStep | undefined;
  private readonly reported = new Set<string>();
  private readonly emittedSteps = new Set<number>();
  private readonly emittedPerStep = new Map<number, number>();
  private readonly scalars = new ScalarPhase();
  private finished = false;

  constructor(options: RecorderOptions) {
    this.sink = options.sink;
    this.sites = options.sites;
    this.keepSteps = options.keepSteps ?? RUN_LIMITS.keepSteps.default;
    this.stopOnNonFinite = options.stopOnNonFinite ?? true;
    this.gradCheckOptions = options.gradCheck ?? false;
    this.exploding = new ExplodingGradientRule(options.explodingNorm ?? 1e3);
    this.observer = options.observer;
    this.extraSteps = new Set(options.recordSteps ?? []);
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
    this.rewrap();
    const chain: string[] = [];
    for (let p = Object.getPrototypeOf(layer) as object | null; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      const name = (p as { constructor?: { name?: string } }).constructor?.name;
      if (name) chain.push(name);
    }
    // The wrappers need both the recorder and the caller's `this`, so they cannot be arrow functions.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const state: LayerState = {
      layer,
      id: this.byId.length,
      ctorSite: this.sites?.capture("construct", chain),
      info: undefined,
      lastSite: {},
      callsInStep: { forward: { step: -1, n: 0 }, backward: { step: -1, n: 0 } },
      multiSite: {},
      originals: { forward: layer.forward as (...a: unknown[]) => unknown, backward: layer.backward as (...a: unknown[]) => unknown },
      // Plain functions (not arrows): `this` is whatever the caller bound, as with the class methods.
      wrappers: {
        forward: function (this: unknown, ...args: unknown[]): unknown {
          return self.traced(state, "forward", state.originals.forward, this, args);
        },
        backward: function (this: unknown, ...args: unknown[]): unknown {
          return self.traced(state, "backward", state.originals.backward, this, args);
        },
      },
    };
    this.layers.set(layer, state);
    this.byId.push(state);
    const target = layer as unknown as Record<string, unknown>;
    target.forward = state.wrappers.forward;
    target.backward = state.wrappers.backward;
  }

  /**
   * Puts the wrappers back where a layer's own `forward`/`backward` replaced them. The base constructor
   * wraps the methods before the subclass's fields exist, so a function field (`forward = (inputs) => …`)
   * overwrites the wrapper; the recorder then wraps that function at its next event (another layer or
   * optimizer built, a layer called, the run's end). Cheap: two property reads per layer.
   */
  private rewrap(atFinish = false): void {
    for (const state of this.byId) {
      const target = state.layer as unknown as Record<string, unknown>;
      for (const phase of ["forward", "backward"] as const) {
        const own = target[phase];
        if (own === state.wrappers[phase] || typeof own !== "function") continue;
        state.originals[phase] = own as (...a: unknown[]) => unknown;
        target[phase] = state.wrappers[phase];
        if (atFinish) state.unseenUntilFinish = true;
      }
    }
  }

  private traced(state: LayerState, phase: Phase, original: (...a: unknown[]) => unknown, thisArg: unknown, args: unknown[]): unknown {
    if (this.finished) return original.apply(thisArg, args);
    const nested = this.callStack.length > 0;
    if (!nested) this.rewrap();
    if (!nested && phase === "forward" && (this.phase === "backward" || this.phase === "update")) this.nextStep();
    if (!nested) this.phase = phase;
    // Capturing a stack costs about as much as a small layer's forward: do it on the recorded steps and
    // every 64th step (a layer may move to another line), and reuse the layer's last site otherwise —
    // except for a layer called from more than one place (`dense1.forward(X)` for training and
    // `dense1.forward(Xval)` for validation, one layer object used twice): once a step has a second call
    // of it, or a captured site differs from the one it had, every call of it gets its own site. Steps 0
    // and 1 are always captured, so a loop body that calls a layer from two lines is found by step 1.
    const count = state.callsInStep[phase];
    if (count.step === this.step) count.n++;
    else {
      count.step = this.step;
      count.n = 1;
    }
    if (count.n > 1) state.multiSite[phase] = true;
    let site: SourceSite | undefined;
    if (state.multiSite[phase] || this.step < this.keepSteps || this.step < 2 || this.step % 64 === 0 || state.lastSite[phase] === undefined || this.extraSteps.has(this.step) || this.observer?.needsSite(state.id, phase)) {
      site = this.sites?.capture("call");
      const last = state.lastSite[phase];
      if (last !== undefined && site !== undefined && (last.line !== site.line || last.column !== site.column || last.file !== site.file)) state.multiSite[phase] = true;
      state.lastSite[phase] = site;
    } else {
      site = state.lastSite[phase];
    }
    const parent = this.callStack[this.callStack.length - 1];
    this.callStack.push(state);
    this.observer?.enter(state, phase, site, args);
    let result: unknown;
    try {
      result = original.apply(thisArg, args);
    } catch (e) {
      this.annotate(e, state, phase, site, args);
      this.observer?.exit(e);
      throw e;
    } finally {
      this.callStack.pop();
    }
    this.observer?.exit();
    this.record(state, phase, site, parent?.id, args, result);
    return result;
  }

  /** Adds the layer, the call site and where the inputs came from to an error thrown inside a call. */
  private annotate(e: unknown, state: LayerState, phase: Phase, site: SourceSite | undefined, args: unknown[]): void {
    if (!needsContext(e)) return;
    const info = this.infoOf(state);
    const a0 = args[0];
    const from = typeof a0 === "object" && a0 !== null ? this.producers.get(a0) : undefined;
    const src = from !== undefined ? this.byId[from.layer] : undefined;
    const detail = originDetail(phase, a0, from !== undefined && src !== undefined ? { info: this.infoOf(src), name: from.name } : undefined);
    attachContext(e, { layer: info, phase, ...(site ? { site } : {}), ...(detail ? { detail } : {}) });
  }

  private infoOf(state: LayerState): LayerInfo {
    return layerInfo(state, this.sites);
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
      for (const p of safeParams(state.layer)) tensors[p.name] = { shape: p.value.shape, data: this.paramCopy(state, p.name, p.value.data) };
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
    this.observer?.complete(rec);
    if (this.step < this.keepSteps || this.extraSteps.has(this.step)) {
      const n = (this.emittedPerStep.get(this.step) ?? 0) + 1;
      this.emittedPerStep.set(this.step, n);
      if (n <= MAX_CALLS_PER_STEP) this.emitCall(rec);
      else if (n === MAX_CALLS_PER_STEP + 1) this.emit({ type: "anomaly", anomaly: truncatedAnomaly(this.step, MAX_CALLS_PER_STEP, rec.site) });
    }
  }

  /**
   * The parameter as this forward call saw it (the optimizer changes it in place later). Records live
   * two steps (`current`, then `previous`) and emitted calls carry their own copies, so the copy a
   * layer's first forward made at step s is free again at step s + 2: copies alternate between two
   * buffers and steps that are not recorded allocate nothing. A second forward of the layer in the same
   * step gets a copy of its own.
   */
  private paramCopy(state: LayerState, name: string, data: Float64Array): Float64Array {
    const copies = (state.paramCopies ??= new Map<string, { step: number; data: Float64Array }[]>());
    let slots = copies.get(name);
    if (slots === undefined) copies.set(name, (slots = []));
    const step = this.step;
    let free: { step: number; data: Float64Array } | undefined;
    for (const c of slots) {
      if (c.step === step) return data.slice();
      if (c.step <= step - 2 && c.data.length === data.length) free = c;
    }
    if (free === undefined) {
      const copy = data.slice();
      if (slots.length < 2) slots.push({ step, data: copy });
      else slots[step & 1] = { step, data: copy };
      return copy;
    }
    free.step = step;
    free.data.set(data);
    return free.data;
  }

  private emitCall(rec: CallRecord): void {
    if (rec.emitted) return;
    rec.emitted = true;
    this.emittedSteps.add(rec.step);
    const { call, transfer } = layerCallEvent(rec, (t) => this.producers.get(t));
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
    this.stepOptimizer = undefined;
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
    if (this.stepOptimizer) summary.optimizer = this.stepOptimizer;
    let normsByLayer: Map<number, Record<string, number>> | undefined;
    if (isSampled(step)) {
      const grads: NonNullable<StepSummary["grads"]> = [];
      normsByLayer = new Map();
      for (const rec of this.current) {
        if (rec.phase !== "backward") continue;
        const norms: Record<string, number> = {};
        const meanAbs: Record<string, number> = {};
        for (const [name, t] of Object.entries(rec.tensors)) {
          if (!isGradientName(name)) continue;
          const g = normAndMeanAbs(t);
          norms[name] = g.norm;
          meanAbs[name] = g.meanAbs;
        }
        grads.push({ layer: rec.state.id, norms, meanAbs });
        if (rec.parent === undefined) normsByLayer.set(rec.layer, norms);
        for (const anomaly of this.exploding.check(rec, norms, this.infoOf(rec.state))) {
          this.explodedThisStep = true;
          this.emit({ type: "anomaly", anomaly });
        }
      }
      if (grads.length > 0) summary.grads = grads;
    }
    this.divergence.observe(recorderObservation(step, this.current, normsByLayer, this.stepLoss, opt as (Optimizer & { momentum?: number }) | undefined, this.optimizerSite, (rec) => this.infoOf(rec.state).name));
    this.emit({ type: "step/summary", summary });
    // The first anomaly (an exploding gradient, a loss jump, a non-finite loss) keeps its step and the one
    // before in full, so a plain run can show how it came about.
    const jumped = this.stepLoss !== undefined && this.previousLoss !== undefined && Number.isFinite(this.previousLoss) && this.previousLoss > 0 && this.stepLoss > LOSS_JUMP * this.previousLoss;
    if (!this.keptAnomaly && (this.explodedThisStep || jumped || (this.stepLoss !== undefined && !Number.isFinite(this.stepLoss)))) {
      this.keptAnomaly = true;
      this.emitStepTensors(this.previous);
      this.emitStepTensors(this.current);
    }
    this.explodedThisStep = false;
    if (this.stepLoss !== undefined) this.previousLoss = this.stepLoss;
    if (this.stopOnNonFinite && this.stepLoss !== undefined && !Number.isFinite(this.stepLoss)) {
      const anomaly = firstNonFiniteAnomaly([...this.previous, ...this.current], (rec) => this.infoOf(rec.state), this.stepLoss) ?? nonFiniteLossAnomaly(step, this.stepLoss);
      this.emitStepTensors(this.current);
      this.emit({ type: "anomaly", anomaly });
      throw new NonFiniteError(anomaly.message, anomaly.site);
    }
    // Without a loss layer nothing stops the run, but the first NaN or ±Infinity is still reported where it appeared.
    if (this.stepLoss === undefined && !this.reported.has("non-finite")) {
      const anomaly = firstNonFiniteAnomaly([...this.previous, ...this.current], (rec) => this.infoOf(rec.state), undefined);
      if (anomaly !== undefined) {
        this.reported.add("non-finite");
        this.emitStepTensors(this.current);
        this.emit({ type: "anomaly", anomaly });
      }
    }
  }

  private emitStepTensors(records: CallRecord[]): void {
    for (const rec of records.slice(-MAX_CALLS_PER_STEP)) this.emitCall(rec);
  }

  // ---------------------------------------------------------------- optimizers

  attachOptimizer(optimizer: Optimizer): void {
    this.rewrap();
    this.optimizers.push(optimizer);
    // Where the learning rate was chosen, for the blow-up rule's message.
    this.optimizerSite ??= this.sites?.capture("construct", [optimizer.constructor.name, "Optimizer"]);
    this.observer?.optimizer(optimizer);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const target = optimizer as unknown as Record<string, unknown>;
    const post = optimizer.postUpdateParams as (...a: unknown[]) => unknown;
    const update = optimizer.updateParams as (...a: unknown[]) => unknown;
    target.updateParams = function (this: unknown, ...args: unknown[]): unknown {
      if (!self.finished && self.callStack.length === 0) self.phase = "update";
      if (!self.finished) self.stepOptimizer ??= optimizerStep(optimizer);
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
    const next = this.scalars.op();
    if (next === "skip") return;
    if (next === "next-step") this.nextStep();
    this.scalars.forward();
    this.emit(scalarNodeEvent(node, this.step, this.sites?.capture("call")));
  }

  scalarBackward(root: Value, dvalue: number, steps: readonly ChainStep[]): void {
    if (this.finished) return;
    this.scalars.backward();
    const site = this.sites?.capture("call");
    this.emittedSteps.add(this.step);
    this.emit(scalarBackwardEvent(root, dvalue, steps, this.step, site));
  }

  // ---------------------------------------------------------------- end of run

  /**
   * Ends the run: emits the last step in full, reports dead ReLUs, and (when enabled) gradient-checks
   * every layer on its last call. Call once, after the model has returned (or thrown).
   */
  finish(options: { completed: boolean } = { completed: true }): void {
    if (this.finished) return;
    this.uninstall();
    this.rewrap(true);
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
    for (const anomaly of this.divergence.finish()) this.emit({ type: "anomaly", anomaly });
    this.reportDeadRelus();
    this.reportUnseenLayers();
    if (failure !== undefined) throw failure;
    if (options.completed && this.gradCheckOptions !== false) gradCheckPass(this.byId, this.current, this.gradCheckOptions, (e) => this.emit(e));
  }

  private reportDeadRelus(): void {
    for (const rec of this.current) {
      if (rec.phase !== "forward" || rec.state.layer.kind !== "relu" || rec.parent !== undefined) continue;
      const key = `dead:${rec.state.id}`;
      if (this.reported.has(key)) continue;
      const anomaly = deadReluAnomaly(rec, this.infoOf(rec.state));
      if (anomaly === undefined) continue;
      this.reported.add(key);
      this.emit({ type: "anomaly", anomaly });
    }
  }

  /** Layers that ran (they hold an `output` or `dinputs`) while a function field hid them from the recorder. */
  private reportUnseenLayers(): void {
    for (const state of this.byId) {
      if (!state.unseenUntilFinish || state.info !== undefined) continue;
      const l = state.layer as unknown as Record<string, unknown>;
      if (!isTensor(l.output) && !isTensor(l.dinputs)) continue;
      this.emit({ type: "layer/new", layer: this.infoOf(state) });
      this.emit({ type: "anomaly", anomaly: unseenLayerAnomaly(this.infoOf(state)) });
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

/** Read once per step: no closure or array made per call (the bundles keep names, which wraps every local function in a `__name` call). */
const OPTIMIZER_FIELDS = ["momentum", "beta1", "beta2", "epsilon"] as const;

/** What the trace says about an optimizer's update (`StepSummary.optimizer`), read from its public fields. */
function optimizerStep(o: Optimizer): OptimizerStep {
  const f = o as unknown as { momentum?: unknown; beta1?: unknown; beta2?: unknown; epsilon?: unknown };
  const extra: Partial<OptimizerStep> = {};
  for (const k of OPTIMIZER_FIELDS) {
    const v = f[k];
    if (typeof v === "number" && Number.isFinite(v)) extra[k] = v;
  }
  return { kind: o.kind, learningRate: o.currentLearningRate, iteration: o.iterations, ...extra };
}
