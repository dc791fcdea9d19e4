/**
 * The debugger inside the model's worker: sees every position as it completes (through the trace
 * recorder's observer hook and the trace events), checks breakpoints, stepping rules and exception
 * filters there, and at a stop sends the position's tensors (with every position of the current and
 * previous training step not sent before, so stepping back needs no re-run) and blocks the model's
 * thread until the host says how to go on (contract 4; the channel is contract 6's `WorkerControl`).
 *
 * Cost when nothing stops: per position one small object, two map lookups and an atomic load; the
 * tensors are references the recorder holds anyway (parameters after an update are copied).
 * `npm run bench` measures it against an untraced step (test/bench/debugger.ts).
 */
import {
  type Layer,
  type LayerInfo,
  type Optimizer,
  type Phase,
  type SiteProvider,
  type SourceSite,
  type Tensor,
  type TensorData,
  type TraceEvent,
  isTensor,
} from "../../../core/host";
import {
  type BreakpointSpec,
  type DebugCommand,
  type DebugEvent,
  type DebugValue,
  type EvalEnv,
  type FilterId,
  type FilterSettings,
  type MethodRange,
  type ObjectValue,
  type OpenCall,
  type Position,
  type StopReason,
  type StopRule,
  ExprEvalError,
  deadUnits,
  defaultFilters,
  evaluate,
  evaluateCondition,
  firstNonFinitePosition,
  formatValue,
  hitSatisfied,
  isDebugCommand,
  logParts,
  lossWentUp,
  matchesLocation,
  parseExpr,
  positionLabel,
  samePath,
  satisfies,
  shortNumber,
} from "../../../core/debug/index";
import type { CallObserver, ObservedCall, ObservedLayer } from "../../../core/debug/observer";
import type { ControlMessage, WorkerControl } from "../../runner/control";

/** A position as the worker holds it: its tensors as references until it is sent. */
interface LivePosition extends Position {
  refs: Record<string, Tensor> | undefined;
  /** Sent to the host (with or without its tensors). */
  sent?: boolean;
}

/** Calls still open (pushed by `enter`, popped by `exit`), with their arguments for the error case. */
interface OpenEntry extends OpenCall {
  args: readonly unknown[] | undefined;
}

/** A step whose calls go beyond this keeps only its newest positions (a forward loop without backward). */
const MAX_POSITIONS_PER_STEP = 4096;

const EMPTY: OpenCall[] = [];

export interface WorkerDebuggerOptions {
  control: WorkerControl;
  /** Source positions of optimizer updates (the runner's `BundleSites`). */
  sites?: SiteProvider;
  /** The recorder's kept steps (their positions are sent as each ends). */
  keepSteps: number;
  /** Lines of a layer class's method, when it is the user's code. */
  methodRange?: (fn: (...a: never[]) => unknown, className: string, phase: Phase) => MethodRange | undefined;
  /**
   * At most this many bytes of tensor copies go to the host with one stop (the trace budget's share for
   * the stop windows, `TRACE_BUDGET.stopWindowBytes`): the newest positions first, older ones go without
   * their tensors and are marked `dropped`.
   */
  windowBytes?: number;
}

export class WorkerDebugger implements CallObserver {
  private readonly control: WorkerControl;
  private readonly sites: SiteProvider | undefined;
  private readonly keepSteps: number;
  private readonly methodRangeOf: WorkerDebuggerOptions["methodRange"];
  private readonly windowBytes: number;
  /** Steps beyond the first `keepSteps` whose layer calls the recorder emitted in full (the first anomaly's step and the one before, steps asked for, the last). */
  private readonly recordedSteps = new Set<number>();

  // configuration
  private breakpoints: BreakpointSpec[] = [];
  private lineIndex = new Map<string, Map<number, BreakpointSpec[]>>();
  private functionBps: BreakpointSpec[] = [];
  private hasLineBps = false;
  private filters: FilterSettings = defaultFilters();
  private readonly hitCounts = new Map<number, number>();
  private readonly reportedErrors = new Set<string>();
  /** How the model goes on: null runs until a breakpoint or filter; a rule stops at the first position that satisfies it. */
  private rule: StopRule | null = null;
  private stopReason: StopReason = "step";
  private detached = false;

  // positions
  private nextId = 0;
  private step = -1;
  private current: LivePosition[] = [];
  private previous: LivePosition[] = [];
  private last: LivePosition | undefined;
  private readonly open: OpenEntry[] = [];
  private thrown: { error: unknown; open: OpenCall[]; call: OpenEntry } | undefined;

  // what the debugger knows of the run
  private readonly layers = new Map<number, Layer>();
  private readonly layerIds = new WeakMap<Layer, number>();
  private readonly infos = new Map<number, LayerInfo>();
  private readonly ranges: MethodRange[] = [];
  private unsentRanges: MethodRange[] = [];
  private readonly rangeKeys = new Set<number>();
  private readonly callLines = new Map<string, Set<number>>();
  private readonly sitesPerCall = new Map<number, Set<number>>();
  private readonly multiSite = new Set<number>();
  private stepLoss: number | undefined;
  private stepAccuracy: number | undefined;
  private lastStepLoss: number | undefined;
  private learningRate: number | undefined;
  private readonly deadReported = new Set<number>();
  private nonFiniteStopped = false;
  private readonly updateSites = new Map<Optimizer, Map<number, SourceSite | undefined>>();

  constructor(options: WorkerDebuggerOptions) {
    this.control = options.control;
    this.sites = options.sites;
    this.keepSteps = options.keepSteps;
    this.methodRangeOf = options.methodRange;
    this.windowBytes = options.windowBytes ?? Infinity;
  }

  /** Waits for the host's first `debug/configure` (sent right after the run starts). */
  start(): void {
    for (;;) {
      const cmd = this.control.wait();
      if (this.handle(cmd) === "configured") return;
    }
  }

  // ---------------------------------------------------------------- the recorder's hook

  enter(layer: ObservedLayer, phase: Phase, site: SourceSite | undefined, args: readonly unknown[]): void {
    const e: OpenEntry = { kind: "layer", layer: layer.id, phase, args };
    if (site) e.site = site;
    // A layer whose first call has not completed has no name in the trace yet: name it as the recorder will.
    if (!this.infos.has(layer.id)) e.name = layer.layer.name ?? (layer.ctorSite ? this.sites?.nameAt?.(layer.ctorSite) : undefined) ?? `${layer.layer.constructor.name}#${layer.id}`;
    this.open.push(e);
  }

  exit(error?: unknown): void {
    const top = this.open.pop();
    if (error !== undefined && top !== undefined && this.thrown?.error !== error) {
      this.thrown = { error, open: this.open.map(strip), call: top };
    }
  }

  needsSite(layer: number, phase: Phase): boolean {
    // A layer called from more than one line gets its site every time once line breakpoints exist.
    return this.hasLineBps && this.multiSite.has(layer * 2 + (phase === "forward" ? 0 : 1));
  }

  complete(call: ObservedCall): void {
    const id = call.state.id;
    if (!this.layers.has(id)) {
      this.layers.set(id, call.state.layer);
      this.layerIds.set(call.state.layer, id);
    }
    const p: LivePosition = {
      id: this.nextId++,
      kind: "layer",
      step: call.step,
      layer: id,
      phase: call.phase,
      seq: call.seq,
      open: this.open.length > 0 ? this.open.map(strip) : EMPTY,
      refs: call.tensors,
    };
    if (call.site) p.site = call.site;
    if (call.loss !== undefined) p.loss = call.loss;
    if (call.accuracy !== undefined) p.accuracy = call.accuracy;
    if (call.step < this.keepSteps || !this.rangeKeys.has(id * 2 + (call.phase === "forward" ? 0 : 1))) this.learn(call);
    this.push(p);
    if (call.loss !== undefined && call.parent === undefined) {
      this.stepLoss = call.loss;
      this.stepAccuracy = call.accuracy;
    }
    this.check(p);
  }

  optimizer(o: Optimizer): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const target = o as unknown as Record<string, unknown>;
    const updateParams = o.updateParams as (layer: Layer) => void;
    const update = (target.update as (value: Float64Array, grad: Float64Array, state: Float64Array[]) => void).bind(o);
    let updating: { layer: Layer; id: number; tensors: Record<string, Tensor>; params: { name: string; value: Tensor }[] } | undefined;
    target.updateParams = function (this: unknown, layer: Layer): void {
      const id = self.layerIds.get(layer);
      if (id === undefined || self.detached) return updateParams.call(this, layer);
      const site = self.updateSite(o, id);
      self.open.push({ kind: "update", layer: id, phase: "update", ...(site ? { site } : {}), args: undefined });
      const tensors: Record<string, Tensor> = {};
      const outer = updating;
      updating = { layer, id, tensors, params: layer.params() };
      try {
        updateParams.call(this, layer);
      } finally {
        self.open.pop();
        updating = outer;
      }
      self.completeUpdate(o, id, site, tensors, undefined);
    };
    target.update = function (value: Float64Array, grad: Float64Array, state: Float64Array[]): void {
      update(value, grad, state);
      const u = updating;
      if (u === undefined) return;
      const param = u.params.find((p) => p.value.data === value);
      if (param === undefined) return;
      const name = param.name;
      const shape = param.value.shape;
      const tensors: Record<string, Tensor> = {};
      tensors[name] = { shape, data: value.slice() };
      tensors[`d${name}`] = { shape, data: grad };
      for (let i = 0; i < state.length; i++) {
        tensors[`${name}.${o.kind === "Adam" ? (i === 0 ? "m" : "v") : o.kind === "SGD" ? "momentum" : `state${i}`}`] = { shape, data: (state[i] as Float64Array).slice() };
      }
      for (const k in tensors) u.tensors[k] = tensors[k] as Tensor;
      self.completeUpdate(o, u.id, self.open[self.open.length - 1]?.site, tensors, name);
    };
  }

  // ---------------------------------------------------------------- trace events

  /** Every trace event the recorder emits (after it went to the sink). */
  onEvent(e: TraceEvent): void {
    switch (e.type) {
      case "layer/call":
        // The recorder emitted this call in full: its step's positions go to the host too (their tensors are in the trace).
        if (e.call.step >= this.keepSteps) this.recordedSteps.add(e.call.step);
        break;
      case "layer/new":
        this.infos.set(e.layer.id, e.layer);
        break;
      case "step/summary":
        if (e.summary.learningRate !== undefined) this.learningRate = e.summary.learningRate;
        break;
      case "scalar/node": {
        const p: LivePosition = { id: this.nextId++, kind: "scalar", step: e.node.step, open: EMPTY, node: e.node, refs: undefined };
        if (e.node.site) p.site = e.node.site;
        this.push(p);
        this.check(p);
        break;
      }
      case "scalar/backward": {
        const p: LivePosition = { id: this.nextId++, kind: "scalar-backward", step: e.backward.step, open: EMPTY, backward: e.backward, refs: undefined };
        if (e.backward.site) p.site = e.backward.site;
        this.push(p);
        this.check(p);
        break;
      }
      case "anomaly": {
        const a = e.anomaly;
        if (this.detached) break;
        if (a.code === "exploding-gradient" && this.filters.exploding) this.stopAtAnomaly("exploding", a.layer, "backward", a.step, a.message);
        else if (a.code === "gradient-check" && this.filters.gradCheck) this.stopAtAnomaly("gradCheck", a.layer, "backward", a.step, a.message);
        else if (a.code === "non-finite" && this.filters.nonFinite && !this.nonFiniteStopped) {
          this.nonFiniteStopped = true;
          this.stopAtAnomaly("nonFinite", a.layer, undefined, a.step, a.message);
        }
        break;
      }
      default:
        break;
    }
  }

  /** The model threw: stop where (the error filter), before the run ends. */
  onError(error: unknown, message: string): void {
    if (this.detached || !this.filters.error) return;
    if (this.nonFiniteStopped && /NonFinite/.test((error as { name?: string } | undefined)?.name ?? "")) return;
    const t = this.thrown?.error === error ? this.thrown : undefined;
    let show = this.last;
    if (t !== undefined && t.call.kind === "layer") {
      const refs: Record<string, Tensor> = {};
      const a0 = t.call.args?.[0];
      if (isTensor(a0)) refs[t.call.phase === "backward" ? "dvalues" : "inputs"] = a0;
      const p: LivePosition = { id: this.nextId++, kind: "layer", step: Math.max(this.step, 0), layer: t.call.layer, phase: t.call.phase, open: t.open, refs, error: message } as LivePosition;
      if (t.call.site) p.site = t.call.site;
      if (t.call.name !== undefined) p.layerName = t.call.name;
      this.push(p);
      show = p;
    }
    if (show === undefined) return;
    this.stop("exception", show.id, [], "error", message);
  }

  // ---------------------------------------------------------------- positions

  private push(p: LivePosition): void {
    if (p.step !== this.step) {
      if (this.step >= 0) this.sendRecorded();
      this.previous = this.current;
      this.current = [];
      if (p.step > this.step) {
        this.lastStepLoss = this.stepLoss;
        this.stepLoss = undefined;
        this.stepAccuracy = undefined;
      }
      this.step = p.step;
    }
    if (this.current.length >= MAX_POSITIONS_PER_STEP) this.current.splice(0, MAX_POSITIONS_PER_STEP / 2);
    this.current.push(p);
    this.last = p;
  }

  private completeUpdate(o: Optimizer, layer: number, site: SourceSite | undefined, tensors: Record<string, Tensor>, param: string | undefined): void {
    const p: LivePosition = {
      id: this.nextId++,
      kind: param === undefined ? "update" : "param",
      step: Math.max(this.step, 0),
      layer,
      phase: "update",
      open: this.open.length > 0 ? this.open.map(strip) : EMPTY,
      learningRate: o.currentLearningRate,
      optimizer: { kind: o.kind, iterations: o.iterations },
      refs: tensors,
    };
    if (param !== undefined) p.param = param;
    if (site) p.site = site;
    this.push(p);
    this.check(p);
  }

  private updateSite(o: Optimizer, layer: number): SourceSite | undefined {
    let byLayer = this.updateSites.get(o);
    if (!byLayer) this.updateSites.set(o, (byLayer = new Map()));
    if (this.step < this.keepSteps || this.step % 64 === 0 || !byLayer.has(layer)) byLayer.set(layer, this.sites?.capture("call"));
    return byLayer.get(layer);
  }

  /** Call lines, layers seen from several lines, and the lines of user-written layer methods. */
  private learn(call: ObservedCall): void {
    const id = call.state.id;
    if (call.site) {
      let lines = this.callLines.get(call.site.file);
      if (!lines) this.callLines.set(call.site.file, (lines = new Set()));
      lines.add(call.site.line);
      const key = id * 2 + (call.phase === "forward" ? 0 : 1);
      let seen = this.sitesPerCall.get(key);
      if (!seen) this.sitesPerCall.set(key, (seen = new Set()));
      seen.add(call.site.line * 100_003 + call.site.column);
      if (seen.size > 1) this.multiSite.add(key);
    }
    const rk = id * 2 + (call.phase === "forward" ? 0 : 1);
    if (this.rangeKeys.has(rk) || this.methodRangeOf === undefined) return;
    this.rangeKeys.add(rk);
    const layer = call.state.layer;
    const className = layer.constructor.name;
    if (this.ranges.some((r) => r.className === className && r.phase === call.phase)) return;
    const fn = (Object.getPrototypeOf(layer) as Record<string, unknown>)[call.phase];
    if (typeof fn !== "function") return;
    const range = this.methodRangeOf(fn as (...a: never[]) => unknown, className, call.phase);
    if (range) {
      this.ranges.push(range);
      this.unsentRanges.push(range);
    }
  }

  // ---------------------------------------------------------------- stopping

  private check(p: LivePosition): void {
    if (this.detached) return;
    const cmd = this.control.poll();
    if (cmd !== undefined && this.handle(cmd) === "pause") {
      this.stop("pause", p.id, []);
      return;
    }
    const hits = this.breakpointsAt(p);
    if (hits.length > 0) {
      this.stop(hits.some((b) => b.where.kind === "function") && !hits.some((b) => b.where.kind === "line") ? "function breakpoint" : "breakpoint", p.id, hits.map((b) => b.id));
      return;
    }
    if (this.rule !== null && satisfies(this.rule, p)) {
      this.stop(this.stopReason, p.id, []);
      return;
    }
    // Exception filters that can be checked cheaply at the position itself.
    if (p.loss !== undefined && p.open.length === 0) {
      if (this.filters.nonFinite && !Number.isFinite(p.loss) && !this.nonFiniteStopped) {
        this.nonFiniteStopped = true;
        const first = firstNonFinitePosition([...this.previous, ...this.current].map((x) => ({ x, phase: x.phase, tensors: x.refs })));
        const at = first?.position.x ?? p;
        const where = first ? `${first.tensor}[${unflat(first.position.x.refs?.[first.tensor]?.shape ?? [], first.index).join("][")}]` : "the loss";
        const value = first ? String(first.position.x.refs?.[first.tensor]?.data[first.index]) : String(p.loss);
        this.stop("exception", at.id, [], "nonFinite", `${value} first appeared in ${this.label(at)}: ${where}, at step ${at.step}${siteSuffix(at.site)}; the loss is ${String(p.loss)}`);
        return;
      }
      if (this.filters.lossUp !== false && lossWentUp(this.lastStepLoss, p.loss, this.filters.lossUp)) {
        this.stop("exception", p.id, [], "lossUp", `the loss went up from ${shortNumber(this.lastStepLoss as number)} to ${shortNumber(p.loss)} at step ${p.step} (more than ${this.filters.lossUp}×)`);
        return;
      }
    }
    if (this.filters.deadRelu && p.kind === "layer" && p.phase === "forward" && p.open.length === 0 && p.layer !== undefined && !this.deadReported.has(p.layer)) {
      const info = this.infos.get(p.layer);
      const out = p.refs?.output;
      if (info?.kind === "relu" && out) {
        const dead = deadUnits(out);
        if (dead > 0) {
          this.deadReported.add(p.layer);
          this.stop("exception", p.id, [], "deadRelu", `dead ReLU: ${dead} of ${out.shape[1] ?? 0} units of ${info.name} output 0 for all ${out.shape[0] ?? 0} samples at step ${p.step}`);
        }
      }
    }
  }

  private breakpointsAt(p: LivePosition): BreakpointSpec[] {
    let candidates: BreakpointSpec[] | undefined;
    if (this.hasLineBps) {
      const byLine = p.site ? this.lineIndex.get(p.site.file) : undefined;
      const exact = p.site ? byLine?.get(p.site.line) : undefined;
      if (exact) candidates = [...exact];
      if (p.kind === "layer" && this.ranges.length > 0) {
        for (const b of this.breakpoints) {
          if (b.where.kind !== "line" || candidates?.includes(b)) continue;
          if (matchesLocation(b.where, p, this.identity, this.ranges, this.isCallLine)) (candidates ??= []).push(b);
        }
      }
    }
    for (const b of this.functionBps) if (matchesLocation(b.where, p, this.identity, this.ranges, this.isCallLine)) (candidates ??= []).push(b);
    if (candidates === undefined) return [];
    const out: BreakpointSpec[] = [];
    for (const b of candidates) {
      if (b.condition) {
        try {
          if (!evaluateCondition(b.condition, this.env(p))) continue;
        } catch (e) {
          this.reportConditionError(b, p, e);
          continue;
        }
      }
      const n = (this.hitCounts.get(b.id) ?? 0) + 1;
      this.hitCounts.set(b.id, n);
      if (b.hit && !hitSatisfied(b.hit, n)) continue;
      if (b.log !== undefined) {
        this.log(b, p);
        continue;
      }
      out.push(b);
    }
    return out;
  }

  private readonly identity = (id: number): { name: string; className: string } | undefined => this.infos.get(id);
  private readonly isCallLine = (file: string, line: number): boolean => {
    for (const [f, lines] of this.callLines) if (lines.has(line) && samePath(f, file)) return true;
    return false;
  };

  private reportConditionError(b: BreakpointSpec, p: LivePosition, e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    const key = `${b.id}:${msg}`;
    if (this.reportedErrors.has(key)) return;
    this.reportedErrors.add(key);
    this.post({
      type: "debug/output",
      category: "stderr",
      breakpoint: b.id,
      position: p.id,
      text: `breakpoint condition '${b.conditionText ?? ""}' could not be evaluated at ${this.label(p)} (step ${p.step}): ${msg}; the breakpoint does not stop there`,
    });
  }

  private log(b: BreakpointSpec, p: LivePosition): void {
    const env = this.env(p);
    const text = logParts(b.log ?? "")
      .map((part) => {
        if (typeof part === "string") return part;
        try {
          return formatValue(evaluate(parseExpr(part.expr), env));
        } catch (e) {
          return `<${e instanceof ExprEvalError ? e.message : String(e)}>`;
        }
      })
      .join("");
    this.post({ type: "debug/output", category: "console", breakpoint: b.id, position: p.id, text });
  }

  private label(p: Position): string {
    return positionLabel(p, (id) => this.infos.get(id)?.name ?? `layer ${id}`);
  }

  /** The names a condition may use at a live position: the step's values, the call's tensors, every layer's fields. */
  private env(p: LivePosition): EvalEnv {
    // Resolved name by name: a condition like `step == 500` at every call costs no allocation beyond this object.
    const own = (name: string): DebugValue | undefined => {
      switch (name) {
        case "step":
          return p.step;
        case "loss":
          return p.loss ?? this.stepLoss;
        case "accuracy":
          return p.accuracy ?? this.stepAccuracy;
        case "learningRate":
        case "lr":
          return p.learningRate ?? this.learningRate;
        case "phase":
          return p.phase;
        case "layer":
          return p.layer !== undefined ? this.infos.get(p.layer)?.name : undefined;
        case "data":
          return p.node?.data;
        case "label":
          return p.node?.label;
        default: {
          const t = p.refs?.[name];
          return t !== undefined && Object.prototype.hasOwnProperty.call(p.refs, name) ? t : undefined;
        }
      }
    };
    return {
      lookup: (name) => {
        const v = own(name);
        if (v !== undefined) return v;
        for (const [id, info] of this.infos) if (info.name === name) return liveLayer(info, this.layers.get(id));
        return undefined;
      },
      names: () => [
        ...["step", "loss", "accuracy", "learningRate", "lr", "phase", "layer", "data", "label"].filter((k) => own(k) !== undefined),
        ...Object.keys(p.refs ?? {}),
        ...[...this.infos.values()].map((i) => i.name),
      ],
    };
  }

  private stopAtAnomaly(filter: FilterId, layer: number | undefined, phase: Phase | undefined, step: number, text: string): void {
    const all = [...this.previous, ...this.current];
    let at: LivePosition | undefined;
    for (let i = all.length - 1; i >= 0; i--) {
      const x = all[i] as LivePosition;
      if (x.kind === "layer" && x.step === step && (layer === undefined || x.layer === layer) && (phase === undefined || x.phase === phase)) {
        at = x;
        break;
      }
    }
    at ??= this.last;
    if (at === undefined) return;
    this.stop("exception", at.id, [], filter, text);
  }

  /** Sends the stop and the positions the host lacks, then waits for a command that lets the model go on. */
  private stop(reason: StopReason, show: number, hits: number[], filter?: FilterId, text?: string): void {
    const live = this.last;
    if (live === undefined) return;
    const transfer: ArrayBuffer[] = [];
    const positions = this.unsent(transfer);
    const ranges = this.unsentRanges;
    this.unsentRanges = [];
    const msg: DebugEvent = { type: "debug/stopped", reason, live: live.id, show, positions, ranges, hits, ...(filter ? { filter } : {}), ...(text !== undefined ? { text } : {}) };
    this.post(msg, transfer);
    this.rule = null;
    for (;;) {
      const outcome = this.handle(this.control.wait());
      if (outcome === "resume" || outcome === "detach") return;
    }
  }

  /**
   * Positions of the current and previous step not sent yet, with copies of their tensors, newest first
   * within `windowBytes` (the live position's always); older ones go without tensors, marked `dropped`.
   */
  private unsent(transfer: ArrayBuffer[]): Position[] {
    const all = [...this.previous, ...this.current].filter((p) => !p.sent);
    let budget = this.windowBytes;
    const full: boolean[] = new Array<boolean>(all.length).fill(false);
    for (let i = all.length - 1; i >= 0; i--) {
      const p = all[i] as LivePosition;
      const live = i === all.length - 1;
      // A layer call of a recorded step has its tensors in the trace already (the live one's follow it once the model goes on).
      if (!live && this.inTrace(p)) continue;
      const bytes = refBytes(p.refs);
      if (live || bytes <= budget) {
        full[i] = true;
        budget -= bytes;
      } else {
        budget = -1; // keep the window contiguous: once one does not fit, the older ones do not either
      }
    }
    return all.map((p, i) => {
      p.sent = true;
      const w = toWire(p, full[i] as boolean, transfer);
      if (!full[i] && !this.inTrace(p) && p.refs !== undefined && Object.keys(p.refs).length > 0) w.dropped = true;
      return w;
    });
  }

  /** A layer call the recorder has emitted with its tensors (a recorded step's). */
  private inTrace(p: LivePosition): boolean {
    return p.kind === "layer" && p.error === undefined && this.isRecorded(p.step);
  }

  /** True when the recorder emitted step `step`'s layer calls in full (the first `keepSteps`, or kept later). */
  private isRecorded(step: number): boolean {
    return step < this.keepSteps || this.recordedSteps.has(step);
  }

  /** Recorded steps' positions go to the host as each ends (their layer tensors travel in the trace). */
  private sendRecorded(): void {
    if (this.detached) return;
    const transfer: ArrayBuffer[] = [];
    const positions: Position[] = [];
    for (const p of [...this.previous, ...this.current]) {
      if (p.sent || !this.isRecorded(p.step)) continue;
      p.sent = true;
      positions.push(toWire(p, p.kind !== "layer" || p.error !== undefined, transfer));
    }
    const ranges = this.unsentRanges;
    this.unsentRanges = [];
    if (positions.length > 0 || ranges.length > 0) this.post({ type: "debug/positions", positions, ranges }, transfer);
  }

  /** The run has ended (the recorder has emitted its last step): that step's positions go to the host. */
  finish(): void {
    this.sendRecorded();
  }

  private post(m: DebugEvent, transfer?: ArrayBuffer[]): void {
    this.control.post(m as unknown as ControlMessage, transfer);
  }

  /** Applies a command; says what it was. */
  private handle(cmd: ControlMessage): "configured" | "resume" | "pause" | "detach" | "ignored" {
    if (!isDebugCommand(cmd)) return "ignored";
    const c: DebugCommand = cmd;
    switch (c.type) {
      case "debug/configure":
        this.configure(c.breakpoints, c.filters);
        if (c.stopOnEntry) {
          this.rule = {};
          this.stopReason = "entry";
        }
        return "configured";
      case "debug/resume":
        this.rule = c.rule;
        this.stopReason = "step";
        return "resume";
      case "debug/pause":
        return "pause";
      case "debug/detach":
        this.detached = true;
        this.rule = null;
        return "detach";
    }
  }

  private configure(breakpoints: BreakpointSpec[], filters: FilterSettings): void {
    this.breakpoints = breakpoints;
    this.filters = { ...defaultFilters(), ...filters };
    this.lineIndex = new Map();
    this.functionBps = [];
    for (const b of breakpoints) {
      if (b.where.kind === "function") {
        this.functionBps.push(b);
        continue;
      }
      let byLine = this.lineIndex.get(b.where.file);
      if (!byLine) this.lineIndex.set(b.where.file, (byLine = new Map()));
      const list = byLine.get(b.where.line) ?? [];
      list.push(b);
      byLine.set(b.where.line, list);
    }
    this.hasLineBps = breakpoints.some((b) => b.where.kind === "line");
    // Sites are absolute paths as the bundle's source map has them; index under both separators.
    for (const [file, lines] of [...this.lineIndex]) {
      const alt = file.includes("\\") ? file.replace(/\\/g, "/") : file.replace(/\//g, "\\");
      if (!this.lineIndex.has(alt)) this.lineIndex.set(alt, lines);
    }
    for (const id of [...this.hitCounts.keys()]) if (!breakpoints.some((b) => b.id === id)) this.hitCounts.delete(id);
  }
}

/** Bytes of a position's tensors. */
function refBytes(refs: Record<string, Tensor> | undefined): number {
  let n = 0;
  if (refs) for (const t of Object.values(refs)) if (isTensor(t)) n += t.data.byteLength;
  return n;
}

function strip(o: OpenEntry): OpenCall {
  const c: OpenCall = { kind: o.kind, layer: o.layer, phase: o.phase };
  if (o.site) c.site = o.site;
  if (o.name !== undefined) c.name = o.name;
  return c;
}

/** A position for the wire: tensors copied (and transferred) when `full`. */
function toWire(p: LivePosition, full: boolean, transfer: ArrayBuffer[]): Position {
  const { refs, sent: _sent, ...rest } = p;
  const out: Position = { ...rest };
  if (full && refs) {
    const tensors: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(refs)) {
      if (!isTensor(t)) continue;
      const data = t.data.slice();
      tensors[name] = { shape: [...t.shape], data };
      transfer.push(data.buffer as ArrayBuffer);
    }
    out.tensors = tensors;
  }
  return out;
}

/** A live layer object for conditions: its tensor and number fields as they are now. */
function liveLayer(info: LayerInfo, layer: Layer | undefined): ObjectValue | undefined {
  if (layer === undefined) return undefined;
  const self = layer as unknown as Record<string, unknown>;
  const read = (name: string): DebugValue | undefined => {
    const v = self[name];
    if (isTensor(v)) return v;
    if (typeof v === "number" || typeof v === "boolean") return v;
    return undefined;
  };
  return {
    kind: "object",
    label: `${info.name} = ${info.description}`,
    get: read,
    keys: () => Object.keys(self).filter((k) => read(k) !== undefined),
  };
}

function unflat(shape: readonly number[], i: number): number[] {
  const out: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d] as number;
    out.unshift(i % n);
    i = Math.floor(i / n);
  }
  return out;
}

function siteSuffix(site: SourceSite | undefined): string {
  if (!site) return "";
  const file = site.file.slice(Math.max(site.file.lastIndexOf("/"), site.file.lastIndexOf("\\")) + 1);
  return ` (${file}:${site.line})`;
}
