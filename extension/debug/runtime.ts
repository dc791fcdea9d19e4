/**
 * The debug runtime (vscode-mock-debug's `mockRuntime.ts` role): one debug run of a model file and
 * everything the adapter asks about it. It starts the run with the control channel, keeps the
 * timeline of positions the host knows (every recorded step, and at each stop the current and
 * previous training step with their tensors), holds the cursor (the position shown), plans steps
 * over the timeline (`core/debug/stepping.ts`) and resumes the model live when a step goes past what
 * is known. It fires events the session turns into DAP events. No vscode imports: the adapter tests
 * drive it through `DebugClient` in plain Node.
 */
import { EventEmitter } from "node:events";
import {
  type BreakpointSpec,
  type DebugEvent,
  type DebugValue,
  type EvalEnv,
  type FilterId,
  type FilterSettings,
  type MethodRange,
  type ObjectValue,
  type Position,
  type StepKind,
  type StopReason,
  defaultFilters,
  gapText,
  isDebugEvent,
  matchesLocation,
  objectValue,
  planStep,
  positionLabel,
  stepRanges,
  stepRangesText,
  evaluateCondition,
} from "../../core/debug/index";
import { type LayerCall, type LayerInfo, type RunEvent, type RunModel, type TensorData, type TensorStats, type TraceEvent, tensorStats } from "../../core/host";
import type { ControlMessage } from "../runner/control";
import { TRACE_BUDGET } from "../runner/traceBudget";
import type { RunHandle, RunResult } from "../runner/runModel";

/** Starts debug runs: the extension's run controller in VS Code, a plain `runModel` in tests and the CLI. */
export interface DebugLauncher {
  /**
   * Starts `file` with the control channel open. `onEvent` gets every trace event. Resolves with the
   * run, or with `refused` (a sentence) when it may not run (an untrusted workspace).
   */
  start(
    file: string,
    options: DebugRunOptions,
    onEvent: (e: TraceEvent) => void,
  ): Promise<{ handle: RunHandle; store: RunModel; source?: string } | { refused: string }>;
  /** The model file's text as the editor has it now, to notice an edit while paused. */
  currentText?(file: string): string | undefined;
}

export interface DebugRunOptions {
  timeLimitSeconds?: number;
  memoryLimitMb?: number;
  keepSteps?: number;
  /** More steps recorded in full (the launch configuration's `recordSteps`). */
  recordSteps?: number[];
}

export interface StopInfo {
  reason: StopReason;
  /** A sentence for the Call Stack and the exception widget. */
  description?: string;
  text?: string;
  filter?: FilterId;
  hits?: number[];
}

/** `128 MB`, for sentences. */
function mb(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MB`;
}

export class DebugRuntime extends EventEmitter {
  private handle: RunHandle | undefined;
  store: RunModel | undefined;
  file = "";
  private sourceAtStart: string | undefined;
  private readonly positions = new Map<number, Position>();
  private timeline: Position[] = [];
  private dirty = false;
  /** Id of the shown position. */
  private cursorId = -1;
  /** The position the model is paused at (undefined while it runs or after it ended). */
  private liveId: number | undefined;
  private ended = false;
  private result: RunResult | undefined;
  private breakpoints: BreakpointSpec[] = [];
  private filters: FilterSettings = defaultFilters();
  private readonly ranges: MethodRange[] = [];
  private readonly callLines = new Map<string, Set<number>>();
  private heldBytes = 0;
  /** Bytes of tensors the host holds for the stop windows at most (`TRACE_BUDGET.stopWindowBytes`). */
  readonly windowBytes: number;
  /** The largest `heldBytes` seen (the adapter tests read it). */
  peakHeldBytes = 0;
  /** Positions of the stop windows dropped (by the worker, which had no room in a stop, or here), and the newest step they were in. */
  private dropped = { count: 0, step: -1 };
  private readonly published = new Set<number>();
  /** Positions whose calls the host added to the run store at a stop (not from the trace). */
  private readonly addedToStore = new Set<number>();
  private firstStepSeen = false;
  private stale = false;
  /** Why the last stop happened (for exceptionInfo). */
  lastStop: StopInfo | undefined;

  constructor(
    private readonly launcher: DebugLauncher,
    options: { windowBytes?: number } = {},
  ) {
    super();
    this.windowBytes = options.windowBytes ?? TRACE_BUDGET.stopWindowBytes;
  }

  /** Bytes of tensor values the host holds now for the positions received at stops. */
  get heldTensorBytes(): number {
    return this.heldBytes;
  }

  // ---------------------------------------------------------------- life

  /**
   * Starts the model. Resolves once it runs (or with an error sentence when it could not start: refused,
   * or it failed to compile).
   */
  async start(file: string, options: DebugRunOptions & { stopOnEntry?: boolean }): Promise<{ ok: true } | { ok: false; message: string }> {
    this.file = file;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const launched = await this.launcher.start(file, options, (e) => {
      if (e.type === "run/start") started();
      this.onTrace(e);
    });
    if ("refused" in launched) return { ok: false, message: launched.refused };
    this.handle = launched.handle;
    this.store = launched.store;
    this.sourceAtStart = launched.source ?? this.launcher.currentText?.(file);
    this.handle.onControl((m) => this.onControl(m));
    this.handle.send({ type: "debug/configure", breakpoints: this.breakpoints, filters: this.filters, ...(options.stopOnEntry ? { stopOnEntry: true } : {}) } as unknown as ControlMessage);
    const ended = this.handle.result.then((r) => {
      this.result = r;
      this.ended = true;
      this.liveId = undefined;
      this.emit("end", r);
      return r;
    });
    const first = await Promise.race([running.then(() => undefined), ended]);
    if (first !== undefined && !first.ok && first.error && first.error.kind !== "cancelled" && this.timeline.length === 0) {
      return { ok: false, message: first.error.message };
    }
    return { ok: true };
  }

  /** Stops the model (its worker ends at once, paused or not). */
  stop(): void {
    this.handle?.cancel();
  }

  get running(): boolean {
    return this.handle !== undefined && !this.ended;
  }

  get runResult(): RunResult | undefined {
    return this.result;
  }

  /** A file's text as the editor has it (unsaved changes included), when the launcher knows. */
  textOf(file: string): string | undefined {
    return this.launcher.currentText?.(file);
  }

  /** Marks the session stale: the model file was edited while it ran. */
  markStale(): void {
    if (this.stale) return;
    this.stale = true;
    this.emit("output", "The model file was edited after this debug session started: lines and values are from the code as it was when the session started. Restart the session (Ctrl+Shift+F5) to debug the edited code.\n", "important");
  }

  get isStale(): boolean {
    if (!this.stale && this.sourceAtStart !== undefined) {
      const now = this.launcher.currentText?.(this.file);
      if (now !== undefined && now !== this.sourceAtStart) this.markStale();
    }
    return this.stale;
  }

  // ---------------------------------------------------------------- configuration

  setBreakpoints(specs: BreakpointSpec[]): void {
    this.breakpoints = specs;
    this.reconfigure();
  }

  setFilters(filters: FilterSettings): void {
    this.filters = filters;
    this.reconfigure();
  }

  private reconfigure(): void {
    if (this.running) this.handle?.send({ type: "debug/configure", breakpoints: this.breakpoints, filters: this.filters } as unknown as ControlMessage);
  }

  // ---------------------------------------------------------------- stepping

  /** Moves as asked; fires `stopped` when it arrives (at once when the target is known). */
  step(kind: StepKind): void {
    if (this.running && this.liveId === undefined) return; // the model is running: nothing to step from
    const timeline = this.ordered();
    const liveAtEnd = this.liveId !== undefined && timeline[timeline.length - 1]?.id === this.liveId;
    const from = timeline[this.cursor];
    const plan = planStep(kind, timeline, this.cursor, (p) => this.hitAt(p), liveAtEnd);
    if ("to" in plan) {
      this.moveTo(plan.to, { reason: plan.reason === "breakpoint" ? "breakpoint" : "step" }, from);
    } else if ("start" in plan) {
      this.emit("output", `This is the first position the session holds (it ${this.reachText()}); Step Back cannot go further.\n`, "console");
      this.moveTo(plan.start, { reason: "step", description: "the first position kept" }, from);
    } else if ("live" in plan) {
      this.liveId = undefined;
      this.handle?.send({ type: "debug/resume", rule: plan.live } as unknown as ControlMessage);
      this.emit("continued");
    } else {
      this.emit("output", "The model has finished; there is nothing after this position.\n", "console");
      this.moveTo(this.cursor, { reason: "step" }, from);
    }
  }

  /** Asks the model to stop at its next position. */
  pause(): void {
    if (this.running && this.liveId === undefined) this.handle?.send({ type: "debug/pause" } as unknown as ControlMessage);
  }

  /** Index of the shown position in the timeline. */
  private get cursor(): number {
    return this.indexOf(this.cursorId);
  }

  /** Index of position `id` in the timeline (binary search), or −1. */
  indexOf(id: number): number {
    const t = this.ordered();
    let lo = 0;
    let hi = t.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const x = (t[mid] as Position).id;
      if (x === id) return mid;
      if (x < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private moveTo(index: number, info: StopInfo, from: Position | undefined): void {
    const to = this.ordered()[index];
    if (to) this.cursorId = to.id;
    // Stepping onto a neighbour the session holds across positions it does not hold: say what was skipped.
    if (from && to && Math.abs(this.indexOf(from.id) - index) === 1) {
      const gap = gapText(from, to);
      if (gap) this.emit("output", `${gap}. The session holds ${this.keptText()}.\n`, "console");
    }
    this.lastStop = info;
    this.emit("stopped", info);
  }

  /** True when some position of the run so far was made on `line` of `file`, or the line is inside a layer method the run called. */
  lineHoldsPositions(file: string, line: number): boolean {
    if (this.callLines.get(file)?.has(line)) return true;
    return this.ranges.some((r) => r.file === file && line >= r.startLine && line <= r.endLine);
  }

  /** Does a breakpoint stop at a known position (host side, when stepping through what is known)? */
  private hitAt(p: Position): boolean {
    for (const b of this.breakpoints) {
      if (b.log !== undefined) continue;
      if (!matchesLocation(b.where, p, (id) => this.layerInfo(id), this.ranges, (f, l) => this.callLines.get(f)?.has(l) ?? false)) continue;
      if (b.condition) {
        try {
          if (!evaluateCondition(b.condition, this.env(p))) continue;
        } catch {
          continue;
        }
      }
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- what the adapter reads

  /** The timeline, in completion order. */
  ordered(): Position[] {
    if (this.dirty) {
      this.timeline = [...this.positions.values()].sort((a, b) => a.id - b.id);
      this.dirty = false;
    }
    return this.timeline;
  }

  /** The shown position. */
  current(): Position | undefined {
    return this.ordered()[this.cursor];
  }

  /** True when the shown position is the one the model is paused at. */
  get atLive(): boolean {
    return this.liveId !== undefined && this.current()?.id === this.liveId;
  }

  layerInfo(id: number): LayerInfo | undefined {
    return this.store?.layers.get(id);
  }

  layerName = (id: number): string => this.layerInfo(id)?.name ?? `layer ${id}`;

  label(p: Position): string {
    return positionLabel(p, this.layerName);
  }

  /** The steps the session holds, as a sentence. */
  keptText(): string {
    return stepRangesText(stepRanges(this.ordered().map((p) => p.step)));
  }

  /** `can go back to step 0` (the call stack's short form of `reachText`). */
  reachShort(): string {
    const first = this.ordered()[0];
    return first ? `can go back to step ${first.step}` : "";
  }

  /**
   * How far back Step Back and Reverse Continue go, as a sentence: the first position held, the steps
   * held, and what the stop windows' memory bound dropped.
   */
  reachText(): string {
    const t = this.ordered();
    const first = t[0];
    if (!first) return "nothing held yet";
    let out = `can go back to ${this.label(first)} of step ${first.step}; holds ${this.keptText()}`;
    if (this.dropped.count > 0) {
      // The oldest position of the newest dropped step that is still held: where that step's window starts.
      const from = t.find((p) => p.step === this.dropped.step);
      out += ` (${from ? `step ${from.step} only from ${this.label(from)} on: ` : ""}${this.dropped.count} older position${this.dropped.count === 1 ? " was" : "s were"} dropped to keep the stop windows within ${mb(this.windowBytes)})`;
    }
    return out;
  }

  /** A position's tensors: sent with it, or from the run store (recorded steps). */
  tensorsOf(p: Position): Record<string, TensorData> {
    if (p.tensors) return p.tensors;
    if (p.seq === undefined || !this.store) return {};
    const call = this.store.call(p.seq);
    const out: Record<string, TensorData> = {};
    if (call) {
      for (const name of Object.keys(call.tensors)) {
        const t = this.store.tensor(p.seq, name);
        if (t) out[name] = t;
      }
    }
    return out;
  }

  /** The loss of a position's step, as far as it is known at that position. */
  stepValues(p: Position): { loss?: number; accuracy?: number; learningRate?: number } {
    const out: { loss?: number; accuracy?: number; learningRate?: number } = {};
    const timeline = this.ordered();
    const at = this.indexOf(p.id);
    for (let i = at; i >= 0; i--) {
      const q = timeline[i] as Position;
      if (q.step !== p.step) break;
      if (out.loss === undefined && q.loss !== undefined && q.open.length === 0) {
        out.loss = q.loss;
        if (q.accuracy !== undefined) out.accuracy = q.accuracy;
      }
      if (out.learningRate === undefined && q.learningRate !== undefined) out.learningRate = q.learningRate;
    }
    const summary = this.store?.summaries.find((s) => s.step === p.step);
    if (out.learningRate === undefined && summary?.learningRate !== undefined) out.learningRate = summary.learningRate;
    return out;
  }

  /**
   * A layer as it was at position `p`: the tensors of its latest forward, backward and update at or
   * before `p` (what its fields held then). Undefined when the layer had not been called yet.
   */
  layerAt(layer: number, p: Position): { tensors: Record<string, TensorData>; from: Record<string, Position> } | undefined {
    const timeline = this.ordered();
    const at = this.indexOf(p.id);
    const tensors: Record<string, TensorData> = {};
    const from: Record<string, Position> = {};
    let found = false;
    for (let i = at; i >= 0; i--) {
      const q = timeline[i] as Position;
      if (q.layer !== layer || q.kind === "param" || q.error !== undefined) continue;
      found = true;
      for (const [name, t] of Object.entries(this.tensorsOf(q))) {
        if (name in tensors || name.includes(".")) continue;
        tensors[name] = t;
        from[name] = q;
      }
      if (at - i > 20000) break;
    }
    return found ? { tensors, from } : undefined;
  }

  /** The names an expression may use at `p`: the step's values, the call's tensors, every layer as it was then. */
  env(p: Position): EvalEnv {
    const v = this.stepValues(p);
    const own: Record<string, DebugValue | undefined> = {
      step: p.step,
      loss: p.loss ?? v.loss,
      accuracy: p.accuracy ?? v.accuracy,
      learningRate: p.learningRate ?? v.learningRate,
      lr: p.learningRate ?? v.learningRate,
      phase: p.phase,
      layer: p.layer !== undefined ? this.layerName(p.layer) : undefined,
    };
    for (const [k, t] of Object.entries(this.tensorsOf(p))) if (!k.includes(".")) own[k] = t;
    if (p.node) {
      own.data = p.node.data;
      own.label = p.node.label;
    }
    const layers = [...(this.store?.layers.values() ?? [])];
    const scalars = this.scalarsAt(p);
    return {
      lookup: (name) => {
        const x = own[name];
        if (x !== undefined) return x;
        const info = layers.find((l) => l.name === name);
        if (info) return this.layerObject(info, p);
        return scalars.get(name);
      },
      names: () => [...Object.keys(own).filter((k) => own[k] !== undefined), ...layers.map((l) => l.name), ...scalars.keys()],
    };
  }

  /** A layer as an expression value at `p` (its tensors then, or "not called yet"). */
  layerObject(info: LayerInfo, p: Position): ObjectValue {
    const at = this.layerAt(info.id, p);
    const label = `${info.name} = ${info.description}${at ? "" : " (not called yet at this position)"}`;
    return objectValue(label, at ? at.tensors : {});
  }

  /** Scalar values by label at `p`: `{ data, grad }` of the newest value of that label. */
  private scalarsAt(p: Position): Map<string, ObjectValue> {
    const out = new Map<string, ObjectValue>();
    if (!this.store || this.store.scalarNodes.length === 0) return out;
    const timeline = this.ordered();
    const at = this.indexOf(p.id);
    const grads = new Map<number, number>();
    const nodes = new Map<string, { id: number; data: number; op: string }>();
    for (let i = 0; i <= at; i++) {
      const q = timeline[i] as Position;
      if (q.node) nodes.set(q.node.label, { id: q.node.id, data: q.node.data, op: q.node.op });
      if (q.backward) for (const g of q.backward.grads) grads.set(g.id, g.grad);
    }
    for (const [label, n] of nodes) {
      out.set(label, objectValue(`${label} = ${n.data}${n.op ? ` (${n.op})` : ""}`, { data: n.data, grad: grads.get(n.id) }));
    }
    return out;
  }

  /**
   * Puts the layer calls of the positions received at stops into the run store (the one source the
   * inspector and the editor read) and returns the inspector messages that makes.
   */
  publish(): RunEvent[] {
    const out: RunEvent[] = [];
    if (!this.store) return out;
    for (const p of this.ordered()) {
      if (p.kind !== "layer" || p.seq === undefined || !p.tensors || p.error !== undefined || this.published.has(p.id)) continue;
      this.published.add(p.id);
      if (this.store.call(p.seq)) continue;
      this.addedToStore.add(p.id);
      const stats: Record<string, TensorStats> = {};
      for (const [name, t] of Object.entries(p.tensors)) stats[name] = tensorStats(t);
      const parent = [...p.open].reverse().find((c) => c.kind === "layer");
      const call: LayerCall = {
        step: p.step,
        seq: p.seq,
        layer: p.layer ?? -1,
        phase: p.phase === "backward" ? "backward" : "forward",
        ...(p.site ? { site: p.site } : {}),
        ...(parent ? { parent: parent.layer } : {}),
        tensors: p.tensors,
        stats,
        ...(p.loss !== undefined ? { loss: p.loss } : {}),
        ...(p.accuracy !== undefined ? { accuracy: p.accuracy } : {}),
      };
      out.push(this.store.ingest({ type: "layer/call", call }));
    }
    return out;
  }

  /** The newest layer call completed at or before `p` (its `seq`), −1 before the first. */
  seqAt(p: Position): number {
    const timeline = this.ordered();
    for (let i = this.indexOf(p.id); i >= 0; i--) {
      const q = timeline[i] as Position;
      if (q.kind === "layer" && q.seq !== undefined && q.error === undefined) return q.seq;
    }
    return -1;
  }

  // ---------------------------------------------------------------- from the model

  private onTrace(e: TraceEvent): void {
    if (e.type === "console") this.emit("output", `${e.text}\n`, e.level === "error" || e.level === "warn" ? "stderr" : "stdout", e.site);
  }

  private onControl(m: ControlMessage): void {
    if (!isDebugEvent(m)) return;
    const e: DebugEvent = m;
    switch (e.type) {
      case "debug/positions":
        // A recorded step's positions arrive when it has ended.
        this.merge(e.positions, e.ranges, e.positions.some((p) => p.step === 0));
        break;
      case "debug/stopped": {
        this.merge(e.positions, e.ranges);
        this.liveId = e.live;
        const timeline = this.ordered();
        const index = this.indexOf(e.show);
        const from = timeline[this.cursor];
        const info: StopInfo = { reason: e.reason, hits: e.hits, ...(e.filter ? { filter: e.filter } : {}), ...(e.text !== undefined ? { text: e.text, description: e.text } : {}) };
        this.moveTo(index >= 0 ? index : timeline.length - 1, info, from);
        break;
      }
      case "debug/output":
        this.emit("output", `${e.text}\n`, e.category);
        break;
    }
  }

  private merge(positions: Position[], ranges: MethodRange[], firstStepEnded = false): void {
    for (const r of ranges) if (!this.ranges.some((x) => x.className === r.className && x.phase === r.phase)) this.ranges.push(r);
    for (const p of positions) {
      if (p.site) {
        let lines = this.callLines.get(p.site.file);
        if (!lines) this.callLines.set(p.site.file, (lines = new Set()));
        lines.add(p.site.line);
      }
      if (p.dropped) {
        // The worker had no room for its tensors in this stop's window: not held, Step Back does not reach it.
        this.noteDropped(p);
        continue;
      }
      const known = this.positions.get(p.id);
      if (known?.tensors && !p.tensors) continue;
      if (known?.tensors) this.heldBytes -= bytesOf(known.tensors);
      this.positions.set(p.id, p);
      if (p.tensors) this.heldBytes += bytesOf(p.tensors);
    }
    this.dirty = true;
    if (this.heldBytes > this.windowBytes) this.forgetOldest();
    this.peakHeldBytes = Math.max(this.peakHeldBytes, this.heldBytes);
    if (!this.firstStepSeen && (firstStepEnded || positions.some((p) => p.step >= 1))) {
      this.firstStepSeen = true;
      this.emit("firstStep");
    }
  }

  private noteDropped(p: Position): void {
    this.dropped.count++;
    this.dropped.step = Math.max(this.dropped.step, p.step);
  }

  /**
   * Holds the stop windows to `windowBytes`: drops the oldest positions received at stops first (whole:
   * Step Back no longer reaches them), never the position shown or the one the model is paused at. A
   * position of a recorded step only loses the copy sent with it (the run store keeps the trace's).
   */
  private forgetOldest(): void {
    const timeline = this.ordered();
    const keep = new Set([this.cursorId, this.liveId ?? -1, timeline[timeline.length - 1]?.id ?? -1]);
    for (const p of timeline) {
      if (this.heldBytes <= this.windowBytes) break;
      if (keep.has(p.id) || !p.tensors) continue;
      this.heldBytes -= bytesOf(p.tensors);
      const recorded = p.seq !== undefined && this.store?.call(p.seq) !== undefined && !this.addedToStore.has(p.id);
      if (recorded) {
        delete p.tensors;
        continue;
      }
      // Added to the run store for the inspector at a stop: forget it there too.
      if (p.seq !== undefined && this.addedToStore.has(p.id)) this.store?.forgetTensors(p.seq);
      this.positions.delete(p.id);
      this.noteDropped(p);
      this.dirty = true;
    }
  }
}

function bytesOf(tensors: Record<string, TensorData>): number {
  let n = 0;
  for (const t of Object.values(tensors)) n += t.data.byteLength;
  return n;
}
