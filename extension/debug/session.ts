/**
 * The Backprop Lens debug adapter (vscode-mock-debug's `mockDebug.ts` role): one method per Debug
 * Adapter Protocol request, translating each into the debug runtime (`runtime.ts`) and back. It runs
 * inline in the extension host (`DebugAdapterInlineImplementation`) and, in the adapter tests, on a
 * socket driven by `@vscode/debugadapter-testsupport`'s `DebugClient`. No vscode imports.
 *
 * What VS Code shows:
 * - Call Stack: `dense2.backward` (the position, at its line) › open enclosing calls (a custom layer's
 *   forward that is still running) › `training step N`;
 * - Variables: a Layer scope (the call's tensors, each `[300, 64] ‖·‖ 5.6e-4`, expandable into rows and
 *   elements, paged with `indexedVariables`; the forward's tensors under a backward; what is not computed
 *   yet at this position), a Step scope (step, loss, accuracy, learning rate, how far back one can go),
 *   an Optimizer scope (learning rate, iteration, momentum or Adam moments) and a Network scope (every
 *   layer as it was at this position);
 * - Debug Console, Watch and hovers: the expression language of `core/debug/expr.ts`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  BreakpointEvent,
  ContinuedEvent,
  ExitedEvent,
  Handles,
  InitializedEvent,
  Logger,
  LoggingDebugSession,
  OutputEvent,
  Scope,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
  logger,
} from "@vscode/debugadapter";
import type { DebugProtocol } from "@vscode/debugprotocol";
import {
  type BreakpointSpec,
  type DebugValue,
  EXCEPTION_FILTERS,
  type ObjectValue,
  type Position,
  type TensorValue,
  ExprEvalError,
  ExprSyntaxError,
  compileBreakpoint,
  evaluate,
  filtersFrom,
  formatValue,
  isObjectValue,
  isTensorValue,
  openCallLabel,
  parseExpr,
  parseFunctionName,
  shortNumber,
  tensorProperty,
} from "../../core/debug/index";
import { type SourceSite, isExplainable } from "../../core/host";
import { type DebugLauncher, DebugRuntime, type StopInfo } from "./runtime";

/** The launch configuration's attributes (package.json `debuggers[].configurationAttributes.launch`). */
export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** Absolute path of the model file. */
  program: string;
  /** Stop at the first position. */
  stopOnEntry?: boolean;
  /** Override `backpropLens.timeLimitSeconds` (paused time does not count). */
  timeLimitSeconds?: number;
  memoryLimitMb?: number;
  /** Override `backpropLens.keepSteps`. */
  keepSteps?: number;
  /** More steps to record in full (Step Back reaches them). */
  recordSteps?: number[];
  /** Log the Debug Adapter Protocol messages (to the extension host's console). */
  trace?: boolean;
}

type VarNode =
  | { kind: "layer"; pos: Position }
  | { kind: "step"; pos: Position }
  | { kind: "optimizer"; pos: Position }
  | { kind: "network"; pos: Position }
  | { kind: "open"; pos: Position; depth: number }
  | { kind: "scalar"; pos: Position }
  | { kind: "tensor"; t: TensorValue; path: string | undefined }
  | { kind: "object"; o: ObjectValue; path: string | undefined }
  | { kind: "forward"; pos: Position; of: Position };

const THREAD = 1;
const STAT_NAMES = ["shape", "norm", "min", "max", "mean", "zeros", "nonFinite"] as const;

export class BackpropDebugSession extends LoggingDebugSession {
  private readonly runtime: DebugRuntime;
  private handles = new Handles<VarNode>();
  private frames = new Map<number, { pos: Position; depth: number }>();
  private configured!: () => void;
  private readonly configurationDone = new Promise<void>((r) => (this.configured = r));
  private nextBreakpointId = 1;
  /** Compiled breakpoints by source file, and the function breakpoints. */
  private readonly lineBps = new Map<string, BreakpointSpec[]>();
  private functionBps: BreakpointSpec[] = [];
  private program = "";
  private terminated = false;

  constructor(launcher: DebugLauncher) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.runtime = new DebugRuntime(launcher);
    this.runtime.on("stopped", (info: StopInfo) => this.onStopped(info));
    this.runtime.on("continued", () => {
      this.dropHandles();
      this.sendEvent(new ContinuedEvent(THREAD));
    });
    this.runtime.on("output", (text: string, category: string, site?: SourceSite) => {
      const e = new OutputEvent(text, category) as DebugProtocol.OutputEvent;
      if (site) {
        e.body.source = this.source(site.file);
        e.body.line = site.line;
        e.body.column = site.column;
      }
      this.sendEvent(e);
    });
    this.runtime.on("end", () => this.onEnd());
    this.runtime.on("firstStep", () => this.checkBreakpointLines());
  }

  /** The runtime (the extension marks a session stale through it; tests read it). */
  get debugRuntime(): DebugRuntime {
    return this.runtime;
  }

  // ---------------------------------------------------------------- setup

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    // The library queues every log line until `setup` is called: without this, each message would be kept.
    logger.setup(Logger.LogLevel.Stop, false);
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsStepBack: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsFunctionBreakpoints: true,
      supportsLogPoints: true,
      supportsEvaluateForHovers: true,
      supportsExceptionInfoRequest: true,
      supportsExceptionFilterOptions: true,
      supportsTerminateRequest: true,
      supportsCompletionsRequest: true,
      completionTriggerCharacters: ["."],
      exceptionBreakpointFilters: EXCEPTION_FILTERS.map((f) => ({
        filter: f.filter,
        label: f.label,
        description: f.description,
        default: f.default,
        ...(f.supportsCondition ? { supportsCondition: true, conditionDescription: f.conditionDescription ?? "" } : {}),
      })),
    };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse, args: DebugProtocol.ConfigurationDoneArguments): void {
    super.configurationDoneRequest(response, args);
    this.configured();
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArguments): Promise<void> {
    if (typeof args.program !== "string" || args.program === "") {
      this.sendErrorResponse(response, { id: 2001, format: "Backprop Lens: the launch configuration needs \"program\": the model file to debug (e.g. \"${file}\")", showUser: true });
      return;
    }
    this.program = path.resolve(args.program);
    if (args.trace) logger.setup(Logger.LogLevel.Verbose, false);
    // Breakpoints arrive before configurationDone; VS Code sends it right after them.
    await Promise.race([this.configurationDone, new Promise((r) => setTimeout(r, 2000))]);
    const started = await this.runtime.start(this.program, {
      ...(args.stopOnEntry ? { stopOnEntry: true } : {}),
      ...(typeof args.timeLimitSeconds === "number" ? { timeLimitSeconds: args.timeLimitSeconds } : {}),
      ...(typeof args.memoryLimitMb === "number" ? { memoryLimitMb: args.memoryLimitMb } : {}),
      ...(typeof args.keepSteps === "number" ? { keepSteps: args.keepSteps } : {}),
      ...(Array.isArray(args.recordSteps) ? { recordSteps: args.recordSteps.filter((s) => Number.isInteger(s) && s >= 0) } : {}),
    });
    if (!started.ok) {
      this.sendErrorResponse(response, { id: 2002, format: `Backprop Lens: ${started.message.replace(/[{}]/g, "")}`, showUser: true });
      this.terminate();
      return;
    }
    this.sendResponse(response);
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.runtime.stop();
    this.sendResponse(response);
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.runtime.stop();
    this.sendResponse(response);
  }

  // ---------------------------------------------------------------- breakpoints

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const file = args.source.path ? path.resolve(args.source.path) : "";
    const lines = this.runtime.textOf(file)?.split(/\r?\n/) ?? readLines(file);
    const specs: BreakpointSpec[] = [];
    const out: DebugProtocol.Breakpoint[] = [];
    for (const b of args.breakpoints ?? []) {
      const id = this.nextBreakpointId++;
      const text = lines?.[b.line - 1];
      const problem = text !== undefined ? lineProblem(text, b.line, /\.pyw?$/i.test(file)) : undefined;
      const compiled = compileBreakpoint({
        id,
        where: { kind: "line", file, line: b.line },
        ...(b.condition !== undefined ? { condition: b.condition } : {}),
        ...(b.hitCondition !== undefined ? { hitCondition: b.hitCondition } : {}),
        ...(b.logMessage !== undefined ? { logMessage: b.logMessage } : {}),
      });
      if (!compiled.ok) {
        out.push({ id, verified: false, line: b.line, message: compiled.message });
        this.sendEvent(new OutputEvent(`Breakpoint at ${path.basename(file)}:${b.line}: ${compiled.message}\n`, "stderr"));
        continue;
      }
      if (problem) {
        out.push({ id, verified: false, line: b.line, message: problem });
        continue;
      }
      specs.push(compiled.spec);
      out.push({ id, verified: true, line: b.line });
    }
    this.lineBps.set(file, specs);
    this.pushBreakpoints();
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    const out: DebugProtocol.Breakpoint[] = [];
    this.functionBps = [];
    for (const b of args.breakpoints) {
      const id = this.nextBreakpointId++;
      let where;
      try {
        where = { kind: "function" as const, ...parseFunctionName(b.name) };
      } catch (e) {
        const message = e instanceof ExprSyntaxError ? e.message : String(e);
        out.push({ id, verified: false, message });
        this.sendEvent(new OutputEvent(`Function breakpoint ${b.name}: ${message}\n`, "stderr"));
        continue;
      }
      const compiled = compileBreakpoint({ id, where, ...(b.condition !== undefined ? { condition: b.condition } : {}), ...(b.hitCondition !== undefined ? { hitCondition: b.hitCondition } : {}) });
      if (!compiled.ok) {
        out.push({ id, verified: false, message: compiled.message });
        this.sendEvent(new OutputEvent(`Function breakpoint ${b.name}: ${compiled.message}\n`, "stderr"));
        continue;
      }
      const layers = [...(this.runtime.store?.layers.values() ?? [])];
      const known = where.name === "*" || where.name === "backward" || layers.length === 0 || layers.some((l) => l.name === where.name || l.className === where.name);
      this.functionBps.push(compiled.spec);
      out.push({ id, verified: true, ...(known ? {} : { message: `no layer named ${where.name} has been called yet; the breakpoint stops when one is` }) });
    }
    this.pushBreakpoints();
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    const { settings, problems } = filtersFrom(args.filters, args.filterOptions ?? []);
    for (const p of problems) this.sendEvent(new OutputEvent(`${p}\n`, "stderr"));
    this.runtime.setFilters(settings);
    this.sendResponse(response);
  }

  /**
   * After the first training step: a line breakpoint on a line that made no position in it (and is not
   * inside a layer method that ran) is marked unverified with the reason, so it is not a silent never-stop.
   */
  private checkBreakpointLines(): void {
    for (const [file, specs] of this.lineBps) {
      for (const b of specs) {
        if (b.where.kind !== "line" || this.runtime.lineHoldsPositions(file, b.where.line)) continue;
        const bp: DebugProtocol.Breakpoint = {
          id: b.id,
          verified: false,
          line: b.where.line,
          message: `nothing on line ${b.where.line} made a layer call, an optimizer update or a scalar operation in step 0, and it is not inside a layer's forward or backward; the breakpoint stays set in case a later step does`,
        };
        this.sendEvent(new BreakpointEvent("changed", bp));
      }
    }
  }

  private pushBreakpoints(): void {
    this.runtime.setBreakpoints([...[...this.lineBps.values()].flat(), ...this.functionBps]);
  }

  // ---------------------------------------------------------------- stepping

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(THREAD, `model ${path.basename(this.program || "model")}`)] };
    this.sendResponse(response);
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    this.runtime.step("continue");
  }

  protected override nextRequest(response: DebugProtocol.NextResponse): void {
    this.sendResponse(response);
    this.runtime.step("next");
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.sendResponse(response);
    this.runtime.step("stepIn");
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.sendResponse(response);
    this.runtime.step("stepOut");
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse): void {
    this.sendResponse(response);
    this.runtime.step("stepBack");
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.sendResponse(response);
    this.runtime.step("reverseContinue");
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.sendResponse(response);
    this.runtime.pause();
  }

  private onStopped(info: StopInfo): void {
    this.dropHandles();
    const reason = info.reason === "function breakpoint" ? "function breakpoint" : info.reason;
    const e = new StoppedEvent(reason, THREAD, info.text) as DebugProtocol.StoppedEvent;
    e.body.description = info.description ?? describeStop(info, this.runtime);
    if (info.hits && info.hits.length > 0) e.body.hitBreakpointIds = info.hits;
    e.body.allThreadsStopped = true;
    this.sendEvent(e);
    if (info.reason === "exception" && info.text) this.sendEvent(new OutputEvent(`${info.text}\n`, "stderr"));
  }

  private onEnd(): void {
    const r = this.runtime.runResult;
    if (r && !r.ok && r.error && r.error.kind !== "cancelled") this.sendEvent(new OutputEvent(`${r.error.message}\n`, "stderr"));
    else if (r?.ok) this.sendEvent(new OutputEvent(`The model finished: ${r.steps} step${r.steps === 1 ? "" : "s"}.\n`, "console"));
    this.sendEvent(new ExitedEvent(r?.ok ? 0 : 1));
    this.terminate();
  }

  private terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.sendEvent(new TerminatedEvent());
  }

  // ---------------------------------------------------------------- call stack

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse): void {
    const p = this.runtime.current();
    if (!p) {
      response.body = { stackFrames: [], totalFrames: 0 };
      this.sendResponse(response);
      return;
    }
    const stale = this.runtime.isStale ? " (file edited since)" : "";
    const frames: DebugProtocol.StackFrame[] = [];
    const add = (name: string, site: SourceSite | undefined, depth: number, hint?: "label" | "subtle"): void => {
      const id = this.frames.size + 1;
      this.frames.set(id, { pos: p, depth });
      const f = new StackFrame(id, name, site ? this.source(site.file) : undefined, site?.line ?? 0, site?.column ?? 0) as DebugProtocol.StackFrame;
      if (hint) f.presentationHint = hint;
      frames.push(f);
    };
    const label = this.runtime.label(p) + (p.error !== undefined ? " (threw)" : "");
    add(`${label}${stale}`, p.site, p.open.length);
    for (let d = p.open.length - 1; d >= 0; d--) {
      const c = p.open[d];
      if (c) add(`${openCallLabel(c, this.runtime.layerName)} (running)`, c.site, d);
    }
    const live = this.runtime.atLive ? "" : " (recorded)";
    add(`training step ${p.step}${live} · ${this.runtime.reachShort()}`, undefined, -1, "label");
    response.body = { stackFrames: frames, totalFrames: frames.length };
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const f = this.frames.get(args.frameId);
    const scopes: DebugProtocol.Scope[] = [];
    if (f) {
      const p = f.pos;
      if (f.depth === p.open.length) {
        if (p.kind === "scalar" || p.kind === "scalar-backward") scopes.push(new Scope("Value", this.handles.create({ kind: "scalar", pos: p }), false));
        else scopes.push(new Scope(layerScopeName(p, this.runtime), this.handles.create({ kind: "layer", pos: p }), false));
      } else if (f.depth >= 0) {
        scopes.push(new Scope(`${openCallLabel(p.open[f.depth] as NonNullable<Position["open"][number]>, this.runtime.layerName)} (running)`, this.handles.create({ kind: "open", pos: p, depth: f.depth }), false));
      }
      scopes.push(new Scope(`Step ${p.step}`, this.handles.create({ kind: "step", pos: p }), false));
      if (p.kind === "update" || p.kind === "param" || this.runtime.ordered().some((q) => q.kind === "update")) {
        scopes.push(new Scope("Optimizer", this.handles.create({ kind: "optimizer", pos: p }), false));
      }
      if ((this.runtime.store?.layers.size ?? 0) > 0) scopes.push(new Scope("Network", this.handles.create({ kind: "network", pos: p }), true));
    }
    response.body = { scopes };
    this.sendResponse(response);
  }

  // ---------------------------------------------------------------- variables

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const node = this.handles.get(args.variablesReference);
    let vars: DebugProtocol.Variable[] = [];
    if (node) {
      try {
        vars = this.children(node, args);
      } catch (e) {
        vars = [{ name: "error", value: e instanceof Error ? e.message : String(e), variablesReference: 0 }];
      }
    }
    response.body = { variables: vars };
    this.sendResponse(response);
  }

  private children(node: VarNode, args: DebugProtocol.VariablesArguments): DebugProtocol.Variable[] {
    const rt = this.runtime;
    switch (node.kind) {
      case "layer": {
        const p = node.pos;
        const out: DebugProtocol.Variable[] = [];
        const name = p.layer !== undefined ? rt.layerName(p.layer) : "";
        if (p.error !== undefined) out.push(text("error", p.error));
        for (const [k, t] of Object.entries(rt.tensorsOf(p))) out.push(this.tensorVar(k, t, p.kind === "layer" ? k : `${name}.${k}`));
        if (p.loss !== undefined) out.push(num("loss", p.loss, "loss"));
        if (p.accuracy !== undefined) out.push(num("accuracy", p.accuracy, "accuracy"));
        if (p.kind === "layer" && p.phase === "backward" && p.layer !== undefined) {
          const fwd = [...rt.ordered()].slice(0, rt.indexOf(p.id)).reverse().find((q) => q.kind === "layer" && q.layer === p.layer && q.phase === "forward");
          if (fwd) out.push({ name: "forward call", value: `${rt.label(fwd)} (step ${fwd.step})`, variablesReference: this.handles.create({ kind: "forward", pos: fwd, of: p }) });
        }
        if (p.kind === "layer" && p.phase === "forward" && p.layer !== undefined) {
          // What this layer's backward makes does not exist yet in this step.
          const later = new Set<string>();
          for (const q of rt.ordered()) if (q.layer === p.layer && q.kind === "layer" && q.phase === "backward") for (const k of Object.keys(rt.tensorsOf(q))) later.add(k);
          for (const k of later) out.push(text(k, `not computed yet at this position (step ${p.step}'s backward has not run)`));
        }
        if (p.learningRate !== undefined) out.push(num("learningRate", p.learningRate, "learningRate"));
        return out;
      }
      case "forward":
        return Object.entries(rt.tensorsOf(node.pos)).map(([k, t]) => this.tensorVar(k, t, node.pos.layer !== undefined ? `${rt.layerName(node.pos.layer)}.${k}` : undefined));
      case "open":
        return [text("status", "still running at this position: its tensors exist once it completes (Step Out)")];
      case "scalar": {
        const p = node.pos;
        if (p.node) {
          const n = p.node;
          const env = rt.env(p);
          return [
            text("label", n.label),
            num("data", n.data, "data"),
            text("op", n.op === "" ? "leaf (input, weight or bias)" : n.op),
            ...n.inputs.map((id, i) => {
              const input = rt.store?.scalarNodes.find((x) => x.id === id);
              return num(`∂${n.label}/∂${input?.label ?? id}`, n.local[i] as number);
            }),
            ...(() => {
              const o = env.lookup(n.label);
              return isObjectValue(o) && o.get("grad") !== undefined ? [num("grad", o.get("grad") as number, `${n.label}.grad`)] : [];
            })(),
          ];
        }
        if (p.backward) {
          const nodes = new Map((rt.store?.scalarNodes ?? []).map((x) => [x.id, x.label]));
          return [
            num("dvalue", p.backward.dvalue),
            ...p.backward.grads.map((g) => num(`${nodes.get(g.id) ?? g.id}.grad`, g.grad, `${nodes.get(g.id) ?? g.id}.grad`)),
            ...p.backward.steps.slice(0, 200).map((s) => text(s.name, `${s.upstream.name} · ${s.local.name} = ${shortNumber(s.upstream.value)} · ${shortNumber(s.local.value)} = ${shortNumber(s.value)}`)),
          ];
        }
        return [];
      }
      case "step": {
        const p = node.pos;
        const v = rt.stepValues(p);
        const out: DebugProtocol.Variable[] = [num("step", p.step, "step")];
        if (v.loss !== undefined) out.push(num("loss", v.loss, "loss"));
        else out.push(text("loss", "not computed yet in this step"));
        if (v.accuracy !== undefined) out.push(num("accuracy", v.accuracy, "accuracy"));
        if (v.learningRate !== undefined) out.push(num("learningRate", v.learningRate, "learningRate"));
        out.push(text("position", `${rt.indexOf(p.id) + 1} of ${rt.ordered().length} held (${rt.label(p)})`));
        out.push(text("kept", `${rt.keptText()}: Step Back and Reverse Continue reach these; the model is ${rt.running ? (rt.atLive ? "paused here" : "paused further on") : "finished"}`));
        out.push(text("back to", rt.reachText()));
        return out;
      }
      case "optimizer": {
        const p = node.pos;
        const timeline = rt.ordered();
        const at = rt.indexOf(p.id);
        const out: DebugProtocol.Variable[] = [];
        let upd: Position | undefined;
        for (let i = at; i >= 0 && !upd; i--) if ((timeline[i] as Position).kind === "update" && (p.layer === undefined || (timeline[i] as Position).layer === p.layer || p.kind === "layer")) upd = timeline[i];
        if (!upd) return [text("optimizer", "no update yet at this position")];
        out.push(text("optimizer", upd.optimizer?.kind ?? "optimizer"));
        if (upd.learningRate !== undefined) out.push(num("learningRate", upd.learningRate, "learningRate"));
        if (upd.optimizer) out.push(num("iterations", upd.optimizer.iterations));
        out.push(text("last update", `${rt.label(upd)} (step ${upd.step})`));
        for (const [k, t] of Object.entries(rt.tensorsOf(upd))) out.push(this.tensorVar(k, t, undefined));
        return out;
      }
      case "network": {
        const p = node.pos;
        const out: DebugProtocol.Variable[] = [];
        for (const info of rt.store?.layers.values() ?? []) {
          const o = rt.layerObject(info, p);
          out.push({ name: info.name, value: o.label, variablesReference: o.keys().length > 0 ? this.handles.create({ kind: "object", o, path: info.name }) : 0, evaluateName: info.name });
        }
        return out;
      }
      case "object":
        return node.o.keys().map((k) => this.valueVar(k, node.o.get(k) as DebugValue, node.path ? `${node.path}.${k}` : undefined));
      case "tensor":
        return this.tensorChildren(node.t, node.path, args);
    }
  }

  private tensorChildren(t: TensorValue, at: string | undefined, args: DebugProtocol.VariablesArguments): DebugProtocol.Variable[] {
    const out: DebugProtocol.Variable[] = [];
    if (args.filter !== "indexed") {
      for (const s of STAT_NAMES) {
        const v = tensorProperty(t, s);
        if (v !== undefined) out.push(this.valueVar(s === "norm" ? "‖·‖ (norm)" : s, v, at ? `${at}.${s}` : undefined));
      }
    }
    if (args.filter !== "named" && t.shape.length > 0) {
      const n = t.shape[0] as number;
      const start = args.start ?? 0;
      const count = Math.min(args.count ?? n, n - start, 1000);
      for (let i = start; i < start + count; i++) {
        const v = evaluate({ k: "index", obj: { k: "name", name: "t", at: 0 }, index: { k: "num", v: i, at: 0 }, at: 0 }, { lookup: () => t, names: () => ["t"] });
        out.push(this.valueVar(`[${i}]`, v, at ? `${at}[${i}]` : undefined));
      }
    }
    return out;
  }

  private valueVar(name: string, v: DebugValue, evaluateName: string | undefined): DebugProtocol.Variable {
    if (isTensorValue(v)) return this.tensorVar(name, v, evaluateName);
    if (isObjectValue(v)) return { name, value: v.label, variablesReference: this.handles.create({ kind: "object", o: v, path: evaluateName }), ...(evaluateName ? { evaluateName } : {}) };
    const out: DebugProtocol.Variable & { __vscodeVariableMenuContext?: string } = { name, value: formatValue(v), variablesReference: 0, ...(typeof v === "number" ? { type: "number" } : {}), ...(evaluateName ? { evaluateName } : {}) };
    // An element of a gradient: its context menu has Show Chain Rule (package.json `debug/variables/context`).
    if (typeof v === "number" && evaluateName && /\]$/.test(evaluateName) && isExplainable(tensorNameOf(evaluateName))) out.__vscodeVariableMenuContext = "bplGradientElement";
    return out;
  }

  private tensorVar(name: string, t: TensorValue, evaluateName: string | undefined): DebugProtocol.Variable {
    const v: DebugProtocol.Variable = {
      name,
      value: formatValue(t),
      type: `tensor [${t.shape.join(", ")}]`,
      variablesReference: this.handles.create({ kind: "tensor", t, path: evaluateName }),
      namedVariables: STAT_NAMES.length,
    };
    if (t.shape.length > 0) v.indexedVariables = t.shape[0] as number;
    if (evaluateName) v.evaluateName = evaluateName;
    return v;
  }

  // ---------------------------------------------------------------- evaluate

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    const p = args.frameId !== undefined ? (this.frames.get(args.frameId)?.pos ?? this.runtime.current()) : this.runtime.current();
    let expression = args.expression.trim();
    // A hover on `dense1.forward(…)` asks for `dense1.forward`: show the layer.
    if (args.context === "hover") expression = expression.replace(/\.(forward|backward)$/, "");
    if (!p) {
      this.sendErrorResponse(response, { id: 3001, format: "nothing to evaluate: the model is not paused at a position", showUser: false });
      return;
    }
    try {
      const v = evaluate(parseExpr(expression), this.runtime.env(p));
      const variable = this.valueVar("result", v, expression);
      response.body = {
        result: variable.value,
        variablesReference: variable.variablesReference,
        ...(variable.type ? { type: variable.type } : {}),
        ...(variable.indexedVariables !== undefined ? { indexedVariables: variable.indexedVariables } : {}),
        ...(variable.namedVariables !== undefined ? { namedVariables: variable.namedVariables } : {}),
      };
      this.sendResponse(response);
    } catch (e) {
      const what = e instanceof ExprSyntaxError || e instanceof ExprEvalError ? e.message : String(e);
      this.sendErrorResponse(response, { id: 3002, format: what.replace(/[{}]/g, ""), showUser: false });
    }
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    const p = this.runtime.current();
    const before = args.text.slice(0, Math.max(0, args.column - 1));
    const m = /([A-Za-z_$][\w$.[\]\d]*?)\.?([A-Za-z_$][\w$]*)?$/.exec(before);
    let targets: DebugProtocol.CompletionItem[] = [];
    if (p) {
      const env = this.runtime.env(p);
      const dot = before.lastIndexOf(".");
      if (m && dot > before.lastIndexOf(" ") && dot >= 0) {
        try {
          const obj = evaluate(parseExpr(before.slice(before.search(/[A-Za-z_$][\w$.[\]\d]*$/), dot)), env);
          const names = isObjectValue(obj) ? obj.keys() : isTensorValue(obj) ? [...STAT_NAMES, "sum", "std", "maxAbs", "size", "rows", "cols"] : [];
          targets = names.map((label) => ({ label, type: "property" }));
        } catch {
          targets = [];
        }
      } else {
        targets = env.names().map((label) => ({ label, type: "variable" }));
      }
    }
    response.body = { targets };
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const s = this.runtime.lastStop;
    const filter = EXCEPTION_FILTERS.find((f) => f.filter === s?.filter);
    response.body = {
      exceptionId: filter?.label ?? "Error",
      description: s?.text ?? "",
      breakMode: "always",
    };
    this.sendResponse(response);
  }

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    if (command === "backpropLens/element") {
      const expression = isObjectArg(args) && typeof args.expression === "string" ? args.expression : "";
      try {
        response.body = this.elementOf(expression);
        this.sendResponse(response);
      } catch (e) {
        this.sendErrorResponse(response, { id: 3003, format: (e instanceof Error ? e.message : String(e)).replace(/[{}]/g, ""), showUser: false });
      }
      return;
    }
    if (command === "backpropLens/position") {
      const p = this.runtime.current();
      response.body = p
        ? { id: p.id, step: p.step, kind: p.kind, layer: p.layer, phase: p.phase, seq: p.seq, label: this.runtime.label(p), runId: this.runtime.store?.runId, live: this.runtime.atLive, kept: this.runtime.keptText(), reach: this.runtime.reachText(), heldBytes: this.runtime.heldTensorBytes }
        : null;
      this.sendResponse(response);
      return;
    }
    super.customRequest(command, response, args);
  }

  /**
   * The element an expression names at the shown position (`dweights[1][3]`, `dense1.dweights[1][3]`), as
   * the inspector selects it: layer, the call's `seq`, tensor, index, step ("Show Chain Rule").
   */
  private elementOf(expression: string): { layer: number; seq: number; step: number; tensor: string; index: number[]; label: string } {
    const rt = this.runtime;
    const p = rt.current();
    if (!p) throw new Error("the model is not paused at a position");
    let node = parseExpr(expression);
    const index: number[] = [];
    while (node.k === "index") {
      const i = node.index.k === "num" ? node.index.v : node.index.k === "unary" && node.index.op === "-" && node.index.arg.k === "num" ? -node.index.arg.v : NaN;
      if (!Number.isInteger(i)) throw new Error(`${expression}: the chain rule needs an element with fixed indices`);
      index.unshift(i);
      node = node.obj;
    }
    let layer: number | undefined;
    let from: Position | undefined;
    let tensor = "";
    if (node.k === "name") {
      tensor = node.name;
      if (p.kind === "layer" && p.layer !== undefined && tensor in rt.tensorsOf(p)) {
        layer = p.layer;
        from = p;
      }
    } else if (node.k === "member" && node.obj.k === "name") {
      const name = node.obj.name;
      const info = [...(rt.store?.layers.values() ?? [])].find((l) => l.name === name);
      tensor = node.name;
      if (info) {
        layer = info.id;
        from = rt.layerAt(info.id, p)?.from[tensor];
      }
    }
    if (layer === undefined || from?.seq === undefined) throw new Error(`${expression} is not an element of a layer's tensor at this position`);
    if (!isExplainable(tensor)) throw new Error(`the chain rule explains gradients (dinputs, dweights, dbiases, …), and ${tensor} is not one`);
    const t = rt.tensorsOf(from)[tensor];
    if (!t) throw new Error(`${tensor} is not held at this position`);
    const shape = t.shape.length === 1 ? [t.shape[0] as number] : t.shape.slice(0, 2);
    if (index.length !== shape.length) throw new Error(`${expression}: ${tensor} has shape [${t.shape.join(", ")}], so an element needs ${shape.length} ind${shape.length === 1 ? "ex" : "ices"}`);
    const norm = index.map((i, d) => (i < 0 ? i + (shape[d] as number) : i));
    if (norm.some((i, d) => i < 0 || i >= (shape[d] as number))) throw new Error(`${expression} is outside ${tensor}'s shape [${t.shape.join(", ")}]`);
    return { layer, seq: from.seq, step: from.step, tensor, index: norm, label: rt.label(from) };
  }

  // ---------------------------------------------------------------- helpers

  private dropHandles(): void {
    this.handles = new Handles<VarNode>();
    this.frames = new Map();
  }

  private source(file: string): Source {
    return new Source(path.basename(file), this.convertDebuggerPathToClient(file));
  }
}

/** The tensor an evaluate name ends in: `dense1.dweights[1][3]` → `dweights`. */
function tensorNameOf(evaluateName: string): string {
  const base = evaluateName.replace(/(\[[^\]]*\])+$/, "");
  return base.slice(base.lastIndexOf(".") + 1);
}

function isObjectArg(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null;
}

function text(name: string, value: string): DebugProtocol.Variable {
  return { name, value, variablesReference: 0 };
}

function num(name: string, value: number, evaluateName?: string): DebugProtocol.Variable {
  return { name, value: shortNumber(value), type: "number", variablesReference: 0, ...(evaluateName ? { evaluateName } : {}) };
}

function layerScopeName(p: Position, rt: DebugRuntime): string {
  if (p.layer === undefined) return "Layer";
  const info = rt.layerInfo(p.layer);
  const what = p.kind === "update" ? "update" : p.kind === "param" ? `update of ${p.param ?? ""}` : (p.phase ?? "");
  return `Layer ${info?.name ?? p.layerName ?? p.layer}${info ? ` (${info.description})` : ""} · ${what}`;
}

function describeStop(info: StopInfo, rt: DebugRuntime): string {
  const p = rt.current();
  const at = p ? `${rt.label(p)}, step ${p.step}` : "";
  switch (info.reason) {
    case "entry":
      return `Paused at the first position (${at})`;
    case "breakpoint":
    case "function breakpoint":
      return `Paused on breakpoint at ${at}`;
    case "pause":
      return `Paused at ${at}`;
    default:
      return `Paused at ${at}${rt.atLive ? "" : " (recorded)"}`;
  }
}

/** The lines of a file on disk (for checking where a breakpoint can stop), or undefined. */
function readLines(file: string): string[] | undefined {
  try {
    return fs.readFileSync(file, "utf8").split(/\r?\n/);
  } catch {
    return undefined;
  }
}

/**
 * Why a line cannot hold a position, or undefined. A position is a layer call, an optimizer update or a
 * scalar operation made on the line, or a line inside a layer's own forward/backward (any code line):
 * blank lines, comments and imports hold none (in a Python file also `# …` and `from … import …`).
 */
export function lineProblem(text: string, line: number, python = false): string | undefined {
  const t = text.trim();
  const pythonOnly = python && (t.startsWith("#") || /^from\s+[\w.]+\s+import\b/.test(t));
  if (t === "" || t.startsWith("//") || t.startsWith("*") || t.startsWith("/*") || /^import\b/.test(t) || /^[})\]]+;?$/.test(t) || pythonOnly) {
    return `line ${line} has no code the debugger can stop at: a breakpoint stops at a layer's forward or backward call, an optimizer update or a scalar operation made on its line, or at a line inside a layer's forward or backward`;
  }
  return undefined;
}
