/**
 * The abstract interpreter of the shape analysis: it walks a model file's syntax tree (the
 * TypeScript parser's, no type checker) the way the program would run, with abstract values
 * (values.ts) instead of numbers. Engine calls (`new Dense(2, 3)`, `dense1.forward(X)`,
 * `spiralData(100, 3)`, `dot(a, b)`) are modelled in engine.ts; the model file's own functions,
 * classes (user layers), loops, branches, destructuring and arrays are followed here.
 *
 * - Branches run on copies of the state and are joined; loops run until their state settles (then
 *   what only some iterations know becomes unknown); a `for … of` over a known, short array of
 *   layers is unrolled, one iteration per layer.
 * - Calls of the file's functions are followed at each call (so a helper called with two layers is
 *   checked with each); recursion, code outside the file and anything too costly give unknown.
 * - Objects passed to code the analysis cannot follow lose what was known about them.
 */
import ts from "typescript";
import {
  arrayLiteral,
  arrayMarkdown,
  builtinKind,
  builtinMember,
  callBuiltin,
  constructBuiltin,
  constructBuiltinInto,
  describeLayer,
  elementOf,
  elementsOf,
  engineExport,
  globalValue,
  indexValue,
  isLayerClass,
  layerCall,
  layerKindOf,
  layerMarkdown,
  setIndexed,
  shapeLabel,
  valueMarkdown,
  valueMember,
} from "./engine";
import { type DiagSpec, Recorder } from "./record";
import { propName, unwrap } from "./syntax";
import {
  type BuiltinV,
  type ClassV,
  type FnV,
  type RefV,
  Scope,
  State,
  type TensorV,
  UNDEF,
  UNKNOWN,
  UNSET,
  type Value,
  bool,
  join,
  joinStates,
  num,
  statesEqual,
  str,
  truthy,
  widen,
} from "./values";

/** What an allocation is: fixed when it is made (the mutable fields live in the state). */
export interface AllocInfo {
  id: number;
  kind: "array" | "object" | "instance" | "layer" | "sequential" | "optimizer" | "other";
  node: ts.Node;
  /** The statement or declaration that built it (the outline's range). */
  declNode?: ts.Node;
  /** The model file's class (instances and user layers). */
  cls?: ClassV;
  /** The engine class it is, or extends (`Dense`, `Layer`, `SGD`, …). */
  builtin?: string;
  layerKind?: "dense" | "relu" | "softmax" | "softmax-cce" | "cce" | "custom";
  className?: string;
  /** The variable it was assigned to, as the runner names layers. */
  name?: string;
  description?: string;
  /** Position in network order (first forward call). */
  order?: number;
  /** An object literal without spreads: a missing property is undefined. */
  closed?: boolean;
  /** The node of the layer's constructor's first and second arguments (for quick fixes). */
  args?: readonly ts.Expression[];
  /** Made while looking into code the program never calls (not a layer of the model). */
  speculative?: boolean;
  /** Construction order among layers. */
  ordinal?: number;
}

interface Frame {
  fn?: ts.FunctionLikeDeclaration;
  self: Value;
  home?: ClassV;
  returns: Value[];
  returnStates: State[];
  call?: ts.Node;
  /** A constructor's class whose fields are set when `super(…)` returns. */
  pendingInit?: { cls: ClassV; obj: RefV; ctor: ts.ConstructorDeclaration; args: Value[] };
}

interface LoopCtx {
  label?: string;
  isSwitch: boolean;
  breaks: State[];
  continues: State[];
}

class BudgetExceeded extends Error {}

const MAX_PASSES = 3;
const MAX_UNROLL = 32;
/** Counting loops of at most this many iterations are followed one iteration at a time. */
const MAX_UNROLL_FOR = 8;
const MAX_DEPTH = 24;

/** The engine's module names. */
const ENGINE_MODULES = /^backprop-lens(\/.*)?$/;

export interface AnalyzerOptions {
  /** Evaluation steps before the analysis stops (what it found stands). */
  maxSteps?: number;
  /** Wall-clock limit, ms. */
  timeLimitMs?: number;
}

export class Analyzer {
  readonly rec = new Recorder();
  readonly allocs = new Map<number, AllocInfo>();
  private readonly allocIds = new Map<string, number>();
  /** Context of allocations: the call sites and unrolled iterations that led here, as one key (and the keys before). */
  private ctxKey = "";
  private readonly ctxStack: string[] = [];
  private frames: Frame[] = [];
  private loops: LoopCtx[] = [];
  scope: Scope;
  private steps = 0;
  private readonly maxSteps: number;
  private readonly deadline: number;
  truncated = false;
  /** Functions and classes met (for hovers inside code the program never calls). */
  private readonly seenFns = new Set<FnV>();
  private readonly calledFns = new Set<ts.Node>();
  private readonly seenClasses = new Set<ClassV>();
  private readonly constructedClasses = new Set<ts.Node>();
  private nextOrder = 0;
  /** Layers in the order they are first built (the runner names an unnamed layer `Dense#2`). */
  private nextOrdinal = 0;
  /** The name `const x = new …` gives the object the next `new` makes. */
  private pendingName: { node: ts.Node; name: string; decl: ts.Node } | undefined;
  /** The receiver of the call being evaluated (its identifier gets the call's hover, not its own). */
  private receiverNode: ts.Node | undefined;

  constructor(
    readonly sf: ts.SourceFile,
    options: AnalyzerOptions = {},
  ) {
    this.scope = new Scope(undefined, true);
    this.maxSteps = options.maxSteps ?? 2_000_000;
    this.deadline = performance.now() + (options.timeLimitMs ?? 2000);
  }

  // ---------------------------------------------------------------- entry

  run(): void {
    const st = new State();
    try {
      this.hoist(this.sf.statements, this.scope, st, true);
      this.statements(this.sf.statements, st);
    } catch (e) {
      // Out of budget, or nesting deeper than the stack (a 50,000-term sum): what was found stands.
      if (!(e instanceof BudgetExceeded) && !(e instanceof RangeError)) throw e;
      this.truncated = true;
    }
    // Hovers inside functions and methods the program never calls (nothing there is an error).
    this.rec.quiet++;
    try {
      this.uncalled();
    } catch (e) {
      if (!(e instanceof BudgetExceeded) && !(e instanceof RangeError)) throw e;
      this.truncated = true;
    } finally {
      this.rec.quiet--;
    }
  }

  private uncalled(): void {
    const done = new Set<ts.Node>();
    for (let round = 0; round < 3; round++) {
      let progress = false;
      for (const c of [...this.seenClasses]) {
        const methods = c.decl.members.filter(
          (m): m is ts.MethodDeclaration | ts.GetAccessorDeclaration => (ts.isMethodDeclaration(m) || ts.isGetAccessorDeclaration(m)) && m.body !== undefined && !isStatic(m) && !this.calledFns.has(m) && !done.has(m),
        );
        const unbuilt = !this.constructedClasses.has(c.decl);
        if (!unbuilt && methods.length === 0) continue;
        progress = true;
        const st = new State();
        const obj = this.construct(c, [], c.decl, st, true);
        for (const m of methods) {
          done.add(m);
          this.callUser({ k: "fn", decl: m, scope: c.scope, self: obj, home: c }, obj, m.parameters.map(() => UNKNOWN), m, st.clone());
        }
      }
      for (const f of [...this.seenFns]) {
        if (this.calledFns.has(f.decl) || done.has(f.decl)) continue;
        done.add(f.decl);
        progress = true;
        this.callUser(f, f.self ?? UNKNOWN, f.decl.parameters.map(() => UNKNOWN), f.decl, new State());
      }
      if (!progress) return;
    }
  }

  // ---------------------------------------------------------------- bookkeeping

  private tick(): void {
    if (++this.steps > this.maxSteps || ((this.steps & 1023) === 0 && performance.now() > this.deadline)) throw new BudgetExceeded();
  }

  private pushCtx(part: string): void {
    this.ctxStack.push(this.ctxKey);
    this.ctxKey = this.ctxKey === "" ? part : `${this.ctxKey},${part}`;
  }

  private popCtx(): void {
    this.ctxKey = this.ctxStack.pop() ?? "";
  }

  /** The allocation id of an object made at `node` in the current context. */
  alloc(node: ts.Node, info: Omit<AllocInfo, "id" | "node">): RefV {
    const key = `${node.pos}:${this.ctxKey}`;
    let id = this.allocIds.get(key);
    if (id === undefined) {
      id = this.allocIds.size + 1;
      this.allocIds.set(key, id);
      this.allocs.set(id, { id, node, ...info, ...(this.rec.quiet > 0 ? { speculative: true } : {}) });
      if (info.kind === "layer" && this.rec.quiet === 0) (this.allocs.get(id) as AllocInfo).ordinal = this.nextOrdinal++;
    } else {
      const existing = this.allocs.get(id) as AllocInfo;
      Object.assign(existing, info, { id, node });
    }
    return { k: "ref", id };
  }

  info(v: Value | undefined): AllocInfo | undefined {
    return v?.k === "ref" ? this.allocs.get(v.id) : undefined;
  }

  /** The state engine code runs on (set when the interpreter calls into engine.ts). */
  private cur: State | undefined;
  /** The layer calls in progress (innermost last), for messages from inside a user layer. */
  readonly layerStack: { id: number; phase: "forward" | "backward" }[] = [];

  /** Enters engine code with a state. */
  on<T>(st: State, f: () => T): T {
    const prev = this.cur;
    this.cur = st;
    try {
      return f();
    } finally {
      this.cur = prev;
    }
  }

  /**
   * Records a diagnostic (with the calls that led to it). An error means the engine throws there:
   * the rest of that path is not checked again (the run would stop at the first error too).
   */
  diag(d: DiagSpec): void {
    const st = this.cur;
    if (st?.failed) return;
    this.rec.diag(d, this.frames.map((f) => f.call).filter((n): n is ts.Node => n !== undefined && n !== d.node));
    if (st && d.severity === "error") st.failed = true;
  }

  /** Gives a layer its place in network order at its first forward call. */
  ordered(layer: number): void {
    const a = this.allocs.get(layer);
    if (a && a.order === undefined) a.order = this.nextOrder++;
  }

  /** The name `new` will give the object it makes (from `const dense1 = new …`). */
  takeName(node: ts.Node): { name: string; decl: ts.Node } | undefined {
    const p = this.pendingName;
    if (p && p.node === node) {
      this.pendingName = undefined;
      return { name: p.name, decl: p.decl };
    }
    return undefined;
  }

  text(node: ts.Node): string {
    return node.getText(this.sf);
  }

  /** Forgets what was known about objects handed to code the analysis cannot follow. */
  havoc(values: readonly Value[], st: State, seen = new Set<number>()): void {
    for (const v of values) {
      if (v.k !== "ref" || seen.has(v.id)) continue;
      seen.add(v.id);
      const o = st.get(v.id);
      if (!o) continue;
      const inner = [...o.fields.values(), ...(o.elems ?? []), ...(o.elem ? [o.elem] : [])];
      const w = st.write(v.id);
      for (const k of [...w.fields.keys()]) {
        const f = w.fields.get(k) as Value;
        if (f.k !== "fn" && f.k !== "builtin") w.fields.set(k, UNKNOWN);
      }
      const info = this.allocs.get(v.id);
      if (info?.kind === "layer") for (const f of ["inputs", "output", "dinputs", "dweights", "dbiases", "weights", "biases"]) w.fields.set(f, UNKNOWN);
      if (w.elems) {
        delete w.elems;
        w.elem = UNKNOWN;
      }
      if (info) info.closed = false;
      this.havoc(inner, st, seen);
    }
  }

  /** After a call the analysis gave up on: every object and reassignable binding may have changed. */
  private havocAll(st: State): void {
    this.havoc([...st.heap.keys()].map((id) => ({ k: "ref", id }) as RefV), st);
    for (const [k, v] of [...st.vars.entries()]) if (v.k !== "fn" && v.k !== "class" && v.k !== "builtin") st.vars.set(k, UNKNOWN);
  }

  // ---------------------------------------------------------------- scopes

  /** Declares a block's names before it runs (functions are usable before their line). */
  private hoist(statements: readonly ts.Statement[], scope: Scope, st: State, isFunctionBody: boolean): void {
    const plan = hoistPlan(statements);
    for (const name of plan.names) scope.names.set(name.text, name.pos);
    if (isFunctionBody) for (const name of varNames(statements, plan)) scope.names.set(name.text, name.pos);
    for (const s of plan.fns) {
      const fn: FnV = { k: "fn", decl: s, scope };
      this.seenFns.add(fn);
      st.vars.set((s.name as ts.Identifier).pos, fn);
    }
    for (const name of plan.unknowns) st.vars.set(name.pos, UNKNOWN);
    for (const s of plan.imports) {
      if (ts.isImportDeclaration(s)) this.importDecl(s, scope, st);
      else {
        const id = this.declareName(s.name, scope);
        const ref = s.moduleReference;
        const isEngine = ts.isExternalModuleReference(ref) && ts.isStringLiteral(ref.expression) && ENGINE_MODULES.test(ref.expression.text);
        st.vars.set(id, isEngine ? { k: "builtin", name: "ns:backprop-lens" } : UNKNOWN);
      }
    }
  }

  private importDecl(s: ts.ImportDeclaration, scope: Scope, st: State): void {
    const clause = s.importClause;
    if (!clause || clause.isTypeOnly) return;
    const isEngine = ts.isStringLiteral(s.moduleSpecifier) && ENGINE_MODULES.test(s.moduleSpecifier.text);
    if (clause.name) st.vars.set(this.declareName(clause.name, scope), isEngine ? { k: "builtin", name: "ns:backprop-lens" } : UNKNOWN);
    const nb = clause.namedBindings;
    if (!nb) return;
    if (ts.isNamespaceImport(nb)) {
      st.vars.set(this.declareName(nb.name, scope), isEngine ? { k: "builtin", name: "ns:backprop-lens" } : UNKNOWN);
      return;
    }
    for (const el of nb.elements) {
      if (el.isTypeOnly) continue;
      const exported = (el.propertyName ?? el.name).text;
      st.vars.set(this.declareName(el.name, scope), isEngine ? engineExport(exported) : UNKNOWN);
    }
  }

  private declareName(name: ts.Identifier, scope: Scope): number {
    const id = name.pos;
    scope.names.set(name.text, id);
    return id;
  }

  private declare(name: ts.BindingName, scope: Scope): void {
    if (ts.isIdentifier(name)) this.declareName(name, scope);
    else for (const el of name.elements) if (!ts.isOmittedExpression(el)) this.declare(el.name, scope);
  }

  /**
   * Binds the names of a declaration (or parameter) to a value, destructuring as needed. `hint`:
   * a variable declaration, whose names get an inlay hint and a hover with their shape.
   */
  private bind(name: ts.BindingName, v: Value, st: State, hint = false, hintPos?: number): void {
    if (ts.isIdentifier(name)) {
      const id = this.scope.lookup(name.text) ?? this.declareName(name, this.scope);
      st.vars.set(id, v);
      if (hint) this.declHint(name, v, hintPos);
      return;
    }
    if (ts.isArrayBindingPattern(name)) {
      name.elements.forEach((el, i) => {
        if (ts.isOmittedExpression(el)) return;
        let ev = el.dotDotDotToken ? this.restOf(v, i, st, el) : indexValue(this, v, num(i), st);
        if (ev.k === "undef" && el.initializer) ev = this.evaluate(el.initializer, st);
        this.bind(el.name, ev, st, hint);
      });
      return;
    }
    for (const el of name.elements) {
      if (el.dotDotDotToken) {
        this.bind(el.name, UNKNOWN, st, hint);
        continue;
      }
      const key = el.propertyName ? propName(el.propertyName) : ts.isIdentifier(el.name) ? el.name.text : undefined;
      let ev = key === undefined ? UNKNOWN : this.getProp(v, key, st, el);
      if (ev.k === "undef" && el.initializer) ev = this.evaluate(el.initializer, st);
      this.bind(el.name, ev, st, hint);
    }
  }

  private restOf(v: Value, from: number, st: State, node: ts.Node): Value {
    const o = v.k === "ref" ? st.get(v.id) : undefined;
    if (o?.elems) {
      const arr = this.alloc(node, { kind: "array" });
      st.write(arr.id).elems = o.elems.slice(from);
      return arr;
    }
    return UNKNOWN;
  }

  /** `: [300, 2]` after a variable that holds a tensor, and its hover. */
  private declHint(name: ts.Identifier, v: Value, pos = name.end): void {
    if (this.rec.muted > 0 || v.k !== "tensor" || v.shape === undefined || v.shape.length === 0) return;
    this.rec.hint(pos, `: ${shapeLabel(v)}`, "decl");
    this.rec.fact(name, "value", () => valueMarkdown(this, name.text, v));
  }

  // ---------------------------------------------------------------- statements

  statements(list: readonly ts.Statement[], st: State): void {
    for (const s of list) {
      if (st.dead) return;
      this.exec(s, st);
    }
  }

  private block(list: readonly ts.Statement[], st: State): void {
    const saved = this.scope;
    this.scope = new Scope(saved, false);
    try {
      this.hoist(list, this.scope, st, false);
      this.statements(list, st);
    } finally {
      this.scope = saved;
    }
  }

  exec(s: ts.Statement, st: State, label?: string): void {
    if (st.dead) return;
    this.tick();
    switch (s.kind) {
      case ts.SyntaxKind.VariableStatement:
        this.varList((s as ts.VariableStatement).declarationList, st);
        return;
      case ts.SyntaxKind.ExpressionStatement:
        this.evaluate((s as ts.ExpressionStatement).expression, st);
        return;
      case ts.SyntaxKind.IfStatement: {
        const n = s as ts.IfStatement;
        const c = truthy(this.evaluate(n.expression, st));
        if (c === true) this.exec(n.thenStatement, st);
        else if (c === false) {
          if (n.elseStatement) this.exec(n.elseStatement, st);
        } else {
          const a = st.clone();
          this.exec(n.thenStatement, a);
          if (n.elseStatement) this.exec(n.elseStatement, st);
          st.replaceWith(joinStates(a, st));
        }
        return;
      }
      case ts.SyntaxKind.Block:
        this.block((s as ts.Block).statements, st);
        return;
      case ts.SyntaxKind.ReturnStatement: {
        const n = s as ts.ReturnStatement;
        const v = n.expression ? this.evaluate(n.expression, st) : UNDEF;
        const f = this.frames[this.frames.length - 1];
        if (f) {
          f.returns.push(v);
          f.returnStates.push(st.clone());
        }
        st.dead = true;
        return;
      }
      case ts.SyntaxKind.ThrowStatement:
        this.evaluate((s as ts.ThrowStatement).expression, st);
        st.dead = true;
        return;
      case ts.SyntaxKind.BreakStatement:
      case ts.SyntaxKind.ContinueStatement: {
        const n = s as ts.BreakOrContinueStatement;
        const isBreak = s.kind === ts.SyntaxKind.BreakStatement;
        const target = this.loopFor(n.label?.text, isBreak);
        if (target) (isBreak ? target.breaks : target.continues).push(st.clone());
        st.dead = true;
        return;
      }
      case ts.SyntaxKind.ForStatement:
        this.forStatement(s as ts.ForStatement, st, label);
        return;
      case ts.SyntaxKind.ForOfStatement:
      case ts.SyntaxKind.ForInStatement:
        this.forOf(s as ts.ForOfStatement | ts.ForInStatement, st, label);
        return;
      case ts.SyntaxKind.WhileStatement: {
        const n = s as ts.WhileStatement;
        this.loop(st, label, (x) => this.evaluate(n.expression, x), (x) => this.exec(n.statement, x), undefined, false);
        return;
      }
      case ts.SyntaxKind.DoStatement: {
        const n = s as ts.DoStatement;
        this.loop(st, label, (x) => this.evaluate(n.expression, x), (x) => this.exec(n.statement, x), undefined, true);
        return;
      }
      case ts.SyntaxKind.SwitchStatement:
        this.switchStatement(s as ts.SwitchStatement, st, label);
        return;
      case ts.SyntaxKind.TryStatement:
        this.tryStatement(s as ts.TryStatement, st);
        return;
      case ts.SyntaxKind.LabeledStatement: {
        const n = s as ts.LabeledStatement;
        const isLoop = ts.isIterationStatement(n.statement, false) || ts.isSwitchStatement(n.statement);
        if (isLoop) this.exec(n.statement, st, n.label.text);
        else {
          const ctx: LoopCtx = { label: n.label.text, isSwitch: true, breaks: [], continues: [] };
          this.loops.push(ctx);
          try {
            this.exec(n.statement, st);
          } finally {
            this.loops.pop();
          }
          for (const b of ctx.breaks) st.replaceWith(joinStates(st, b));
        }
        return;
      }
      case ts.SyntaxKind.ClassDeclaration: {
        const n = s as ts.ClassDeclaration;
        const c = this.classValue(n, st);
        if (n.name) st.vars.set(this.scope.lookup(n.name.text) ?? this.declareName(n.name, this.scope), c);
        return;
      }
      case ts.SyntaxKind.ExportAssignment:
        this.evaluate((s as ts.ExportAssignment).expression, st);
        return;
      default:
        return;
    }
  }

  private varList(list: ts.VariableDeclarationList, st: State): void {
    const isVar = (list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) === 0;
    for (const d of list.declarations) {
      if (!d.initializer) {
        if (!isVar) this.bind(d.name, UNDEF, st);
        continue;
      }
      if (ts.isIdentifier(d.name)) {
        const init = unwrap(d.initializer);
        if (ts.isNewExpression(init)) this.pendingName = { node: init, name: d.name.text, decl: d };
      }
      const v = this.evaluate(d.initializer, st);
      this.pendingName = undefined;
      this.bind(d.name, v, st, true, d.type && ts.isIdentifier(d.name) ? d.type.end : undefined);
    }
  }

  private loopFor(label: string | undefined, isBreak: boolean): LoopCtx | undefined {
    for (let i = this.loops.length - 1; i >= 0; i--) {
      const l = this.loops[i] as LoopCtx;
      if (label !== undefined ? l.label === label : isBreak || !l.isSwitch) return l;
    }
    return undefined;
  }

  /**
   * A loop: the body runs from the state at the loop's head until that state settles (at most
   * MAX_PASSES times, then what still changes becomes unknown). Only the last pass's findings are
   * kept; the first pass records nothing (in a training loop it only sets what the layers hold).
   */
  private loop(st: State, label: string | undefined, cond: ((s: State) => Value) | undefined, body: (s: State) => void, update: ((s: State) => void) | undefined, doWhile: boolean): void {
    let head = st.clone();
    let recording = false;
    for (let pass = 0; ; pass++) {
      const mark = this.rec.mark();
      const s = head.clone();
      const exits: State[] = [];
      const ctx: LoopCtx = { ...(label !== undefined ? { label } : {}), isSwitch: false, breaks: [], continues: [] };
      if (!recording) this.rec.muted++;
      try {
        if (!doWhile && cond) {
          const t = truthy(cond(s));
          if (t === false) {
            exits.push(s.clone());
            s.dead = true;
          } else if (t === undefined) exits.push(s.clone());
        }
        if (!s.dead) {
          this.loops.push(ctx);
          try {
            body(s);
          } finally {
            this.loops.pop();
          }
          for (const c of ctx.continues) s.replaceWith(joinStates(s, c));
          if (doWhile && cond && !s.dead) {
            const t = truthy(cond(s));
            if (t !== true) exits.push(s.clone());
            if (t === false) s.dead = true;
          }
          if (update && !s.dead) update(s);
        }
      } finally {
        if (!recording) this.rec.muted--;
      }
      exits.push(...ctx.breaks);
      const next = joinStates(head.clone(), s);
      const settled = statesEqual(next, head);
      if (settled && !recording) {
        // Settled on an unrecorded pass: once more from the same head, recorded.
        recording = true;
        continue;
      }
      if (settled || pass >= MAX_PASSES) {
        if (!settled) {
          // One more pass from the widened head: its findings hold for every iteration.
          this.rec.truncate(mark);
          head = widen(head, next);
          const last = head.clone();
          this.loops.push(ctx);
          ctx.breaks = [];
          try {
            if (cond && !doWhile) cond(last);
            body(last);
          } finally {
            this.loops.pop();
          }
          exits.push(head.clone(), ...ctx.breaks);
        }
        if (exits.length === 0) {
          st.dead = true;
          return;
        }
        let out = exits[0] as State;
        for (const e of exits.slice(1)) out = joinStates(out, e);
        st.replaceWith(out);
        st.dead = exits.every((e) => e.dead);
        return;
      }
      this.rec.truncate(mark);
      head = next;
      recording = true;
    }
  }

  private forStatement(n: ts.ForStatement, st: State, label: string | undefined): void {
    const saved = this.scope;
    this.scope = new Scope(saved, false);
    try {
      if (n.initializer) {
        if (ts.isVariableDeclarationList(n.initializer)) {
          for (const d of n.initializer.declarations) this.declare(d.name, this.scope);
          this.varList(n.initializer, st);
        } else this.evaluate(n.initializer, st);
      }
      const few = this.tripCount(n, st);
      const trips = few !== undefined && few <= MAX_UNROLL_FOR && builds(n.statement) ? few : undefined;
      if (trips !== undefined) {
        // `for (let i = 1; i < widths.length; i++)` over a few known steps: one iteration at a time,
        // so arrays filled in it keep their elements (a helper that pushes Dense, ReLU, Dense, …).
        const breaks: State[] = [];
        for (let i = 0; i < trips && !st.dead; i++) {
          const ctx: LoopCtx = { ...(label !== undefined ? { label } : {}), isSwitch: false, breaks: [], continues: [] };
          this.pushCtx(`f${n.pos}.${i}`);
          this.loops.push(ctx);
          try {
            this.exec(n.statement, st);
          } finally {
            this.loops.pop();
            this.popCtx();
          }
          for (const c of ctx.continues) st.replaceWith(joinStates(st, c));
          breaks.push(...ctx.breaks);
          if (n.incrementor && !st.dead) this.evaluate(n.incrementor, st);
        }
        for (const b of breaks) st.replaceWith(joinStates(st, b));
        return;
      }
      this.loop(
        st,
        label,
        n.condition ? (x) => this.evaluate(n.condition as ts.Expression, x) : undefined,
        (x) => this.exec(n.statement, x),
        n.incrementor ? (x) => void this.evaluate(n.incrementor as ts.Expression, x) : undefined,
        false,
      );
    } finally {
      this.scope = saved;
    }
  }

  /**
   * The number of iterations of a counting loop (`let i = a; i < b; i++`, `<=`, `>`, `>=`, `i += k`,
   * `i--`) whose start and bound are known now, provided its body does not assign the counter; else undefined.
   */
  private tripCount(n: ts.ForStatement, st: State): number | undefined {
    const init = n.initializer;
    const cond = n.condition && unwrap(n.condition);
    const inc = n.incrementor && unwrap(n.incrementor);
    if (!init || !cond || !inc || !ts.isVariableDeclarationList(init) || init.declarations.length !== 1) return undefined;
    const d = init.declarations[0] as ts.VariableDeclaration;
    if (!ts.isIdentifier(d.name) || !ts.isBinaryExpression(cond) || !ts.isIdentifier(cond.left) || cond.left.text !== d.name.text) return undefined;
    const name = d.name.text;
    let step: number | undefined;
    if ((ts.isPostfixUnaryExpression(inc) || ts.isPrefixUnaryExpression(inc)) && ts.isIdentifier(inc.operand) && inc.operand.text === name) {
      step = inc.operator === ts.SyntaxKind.PlusPlusToken ? 1 : inc.operator === ts.SyntaxKind.MinusMinusToken ? -1 : undefined;
    } else if (ts.isBinaryExpression(inc) && ts.isIdentifier(inc.left) && inc.left.text === name && ts.isNumericLiteral(inc.right)) {
      const k = Number(inc.right.text);
      step = inc.operatorToken.kind === ts.SyntaxKind.PlusEqualsToken ? k : inc.operatorToken.kind === ts.SyntaxKind.MinusEqualsToken ? -k : undefined;
    }
    if (!step) return undefined;
    if (assigns(n.statement, name)) return undefined;
    const id = this.scope.lookup(name);
    const start = id === undefined ? undefined : st.vars.get(id);
    if (start?.k !== "num" || start.v === undefined) return undefined;
    // The bound, evaluated on a copy with nothing recorded (it is evaluated again each iteration for real).
    const probe = st.clone();
    this.rec.muted++;
    let bound: Value;
    try {
      bound = this.evaluate(cond.right, probe);
    } finally {
      this.rec.muted--;
    }
    if (bound.k !== "num" || bound.v === undefined) return undefined;
    const a = start.v;
    const b = bound.v;
    const op = cond.operatorToken.kind;
    let count: number;
    if (op === ts.SyntaxKind.LessThanToken && step > 0) count = Math.ceil((b - a) / step);
    else if (op === ts.SyntaxKind.LessThanEqualsToken && step > 0) count = Math.floor((b - a) / step) + 1;
    else if (op === ts.SyntaxKind.GreaterThanToken && step < 0) count = Math.ceil((a - b) / -step);
    else if (op === ts.SyntaxKind.GreaterThanEqualsToken && step < 0) count = Math.floor((a - b) / -step) + 1;
    else return undefined;
    return Number.isFinite(count) ? Math.max(0, count) : undefined;
  }

  private forOf(n: ts.ForOfStatement | ts.ForInStatement, st: State, label: string | undefined): void {
    const iterable = this.evaluate(n.expression, st);
    const saved = this.scope;
    this.scope = new Scope(saved, false);
    const target = n.initializer;
    const bindTo = (v: Value, s: State): void => {
      if (ts.isVariableDeclarationList(target)) {
        const d = target.declarations[0];
        if (d) {
          this.declare(d.name, this.scope);
          this.bind(d.name, v, s, true);
        }
      } else this.assign(target, v, s);
    };
    try {
      if (ts.isForInStatement(n)) {
        this.loop(st, label, () => bool(), (s) => {
          bindTo(str(), s);
          this.exec(n.statement, s);
        }, undefined, false);
        return;
      }
      const elems = elementsOf(this, iterable, st);
      if (elems && elems.length <= MAX_UNROLL) {
        // Unrolled: one iteration per element, each in its own allocation context.
        const breaks: State[] = [];
        for (let i = 0; i < elems.length && !st.dead; i++) {
          const ctx: LoopCtx = { ...(label !== undefined ? { label } : {}), isSwitch: false, breaks: [], continues: [] };
          this.pushCtx(`u${n.pos}.${i}`);
          this.loops.push(ctx);
          try {
            bindTo(elems[i] as Value, st);
            this.exec(n.statement, st);
          } finally {
            this.loops.pop();
            this.popCtx();
          }
          for (const c of ctx.continues) st.replaceWith(joinStates(st, c));
          breaks.push(...ctx.breaks);
        }
        for (const b of breaks) st.replaceWith(joinStates(st, b));
        return;
      }
      const elem = elementOf(this, iterable, st);
      this.loop(st, label, () => bool(), (s) => {
        bindTo(elem, s);
        this.exec(n.statement, s);
      }, undefined, false);
    } finally {
      this.scope = saved;
    }
  }

  private switchStatement(n: ts.SwitchStatement, st: State, label: string | undefined): void {
    this.evaluate(n.expression, st);
    const entry = st.clone();
    const saved = this.scope;
    this.scope = new Scope(saved, false);
    const ctx: LoopCtx = { ...(label !== undefined ? { label } : {}), isSwitch: true, breaks: [], continues: [] };
    this.loops.push(ctx);
    let fall: State | undefined;
    let hasDefault = false;
    try {
      const all = n.caseBlock.clauses.flatMap((c) => [...c.statements]);
      this.hoist(all, this.scope, entry, false);
      for (const clause of n.caseBlock.clauses) {
        if (ts.isDefaultClause(clause)) hasDefault = true;
        const s = entry.clone();
        if (fall) s.replaceWith(joinStates(s, fall));
        this.statements(clause.statements, s);
        fall = s.dead ? undefined : s;
      }
    } finally {
      this.loops.pop();
      this.scope = saved;
    }
    const exits = [...ctx.breaks, ...(fall ? [fall] : []), ...(hasDefault ? [] : [entry])];
    // A continue inside a switch belongs to the enclosing loop.
    const outer = this.loopFor(undefined, false);
    if (outer) outer.continues.push(...ctx.continues);
    if (exits.length === 0) {
      st.dead = true;
      return;
    }
    let out = exits[0] as State;
    for (const e of exits.slice(1)) out = joinStates(out, e);
    st.replaceWith(out);
  }

  private tryStatement(n: ts.TryStatement, st: State): void {
    const entry = st.clone();
    this.exec(n.tryBlock, st);
    if (n.catchClause) {
      const c = joinStates(entry, st.clone());
      c.dead = false;
      const saved = this.scope;
      this.scope = new Scope(saved, false);
      try {
        const decl = n.catchClause.variableDeclaration;
        if (decl) {
          this.declare(decl.name, this.scope);
          this.bind(decl.name, UNKNOWN, c);
        }
        this.exec(n.catchClause.block, c);
      } finally {
        this.scope = saved;
      }
      st.replaceWith(joinStates(st, c));
    }
    if (n.finallyBlock) {
      const wasDead = st.dead;
      st.dead = false;
      this.exec(n.finallyBlock, st);
      if (wasDead) st.dead = true;
    }
  }

  // ---------------------------------------------------------------- expressions

  evaluate(node: ts.Expression, st: State): Value {
    this.tick();
    switch (node.kind) {
      case ts.SyntaxKind.NumericLiteral:
        return num(Number((node as ts.NumericLiteral).text));
      case ts.SyntaxKind.StringLiteral:
      case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
        return str((node as ts.StringLiteral).text);
      case ts.SyntaxKind.TemplateExpression:
        for (const span of (node as ts.TemplateExpression).templateSpans) this.evaluate(span.expression, st);
        return str();
      case ts.SyntaxKind.TrueKeyword:
        return bool(true);
      case ts.SyntaxKind.FalseKeyword:
        return bool(false);
      case ts.SyntaxKind.NullKeyword:
        return UNDEF;
      case ts.SyntaxKind.ThisKeyword:
        return this.frames[this.frames.length - 1]?.self ?? UNKNOWN;
      case ts.SyntaxKind.Identifier:
        return this.identifier(node as ts.Identifier, st);
      case ts.SyntaxKind.ParenthesizedExpression:
      case ts.SyntaxKind.AsExpression:
      case ts.SyntaxKind.NonNullExpression:
      case ts.SyntaxKind.TypeAssertionExpression:
      case ts.SyntaxKind.SatisfiesExpression:
      case ts.SyntaxKind.AwaitExpression:
        return this.evaluate((node as ts.ParenthesizedExpression).expression, st);
      case ts.SyntaxKind.ArrayLiteralExpression:
        return arrayLiteral(this, node as ts.ArrayLiteralExpression, this.elements((node as ts.ArrayLiteralExpression).elements, st), st);
      case ts.SyntaxKind.ObjectLiteralExpression:
        return this.objectLiteral(node as ts.ObjectLiteralExpression, st);
      case ts.SyntaxKind.PropertyAccessExpression:
        return this.propertyAccess(node as ts.PropertyAccessExpression, st);
      case ts.SyntaxKind.ElementAccessExpression: {
        const n = node as ts.ElementAccessExpression;
        const obj = this.evaluate(n.expression, st);
        const idx = this.evaluate(n.argumentExpression, st);
        if (idx.k === "str" && idx.v !== undefined) return this.getProp(obj, idx.v, st, n);
        return indexValue(this, obj, idx, st);
      }
      case ts.SyntaxKind.CallExpression:
        return this.callExpression(node as ts.CallExpression, st);
      case ts.SyntaxKind.NewExpression:
        return this.newExpression(node as ts.NewExpression, st);
      case ts.SyntaxKind.BinaryExpression:
        return this.binary(node as ts.BinaryExpression, st);
      case ts.SyntaxKind.PrefixUnaryExpression:
      case ts.SyntaxKind.PostfixUnaryExpression:
        return this.unary(node as ts.PrefixUnaryExpression | ts.PostfixUnaryExpression, st);
      case ts.SyntaxKind.ConditionalExpression: {
        const n = node as ts.ConditionalExpression;
        const c = truthy(this.evaluate(n.condition, st));
        if (c === true) return this.evaluate(n.whenTrue, st);
        if (c === false) return this.evaluate(n.whenFalse, st);
        const other = st.clone();
        const a = this.evaluate(n.whenTrue, st);
        const b = this.evaluate(n.whenFalse, other);
        st.replaceWith(joinStates(st, other));
        return join(a, b);
      }
      case ts.SyntaxKind.ArrowFunction:
      case ts.SyntaxKind.FunctionExpression: {
        const fn: FnV = { k: "fn", decl: node as ts.FunctionLikeDeclaration, scope: this.scope };
        if (ts.isArrowFunction(node)) {
          const f = this.frames[this.frames.length - 1];
          if (f) fn.self = f.self;
          if (f?.home) fn.home = f.home;
        }
        this.seenFns.add(fn);
        return fn;
      }
      case ts.SyntaxKind.ClassExpression:
        return this.classValue(node as ts.ClassExpression, st);
      case ts.SyntaxKind.TypeOfExpression:
        this.evaluate((node as ts.TypeOfExpression).expression, st);
        return str();
      case ts.SyntaxKind.VoidExpression:
        this.evaluate((node as ts.VoidExpression).expression, st);
        return UNDEF;
      case ts.SyntaxKind.DeleteExpression:
        return bool();
      case ts.SyntaxKind.YieldExpression: {
        const e = (node as ts.YieldExpression).expression;
        if (e) this.havoc([this.evaluate(e, st)], st);
        return UNKNOWN;
      }
      case ts.SyntaxKind.TaggedTemplateExpression: {
        const n = node as ts.TaggedTemplateExpression;
        const args: Value[] = [];
        if (ts.isTemplateExpression(n.template)) for (const span of n.template.templateSpans) args.push(this.evaluate(span.expression, st));
        this.havoc(args, st);
        return UNKNOWN;
      }
      case ts.SyntaxKind.SpreadElement:
        return this.evaluate((node as ts.SpreadElement).expression, st);
      case ts.SyntaxKind.OmittedExpression:
        return UNDEF;
      default:
        return UNKNOWN;
    }
  }

  private identifier(node: ts.Identifier, st: State): Value {
    const name = node.text;
    const id = this.scope.lookup(name);
    let v: Value;
    if (id !== undefined) v = st.vars.get(id) ?? UNKNOWN;
    else v = globalValue(name);
    this.useFact(node, name, v, st);
    return v;
  }

  /** A hover for an expression that holds a tensor or a layer, and go-to-definition for layers. */
  private useFact(node: ts.Node, label: string | undefined, v: Value, st: State): void {
    if (this.rec.muted > 0) return;
    if (v.k === "tensor") {
      if (v.shape !== undefined) this.rec.fact(node, "value", () => valueMarkdown(this, label ?? this.text(node), v));
      return;
    }
    if (v.k === "ref") {
      const a = this.allocs.get(v.id);
      if (a?.kind === "layer") {
        this.rec.def(node, v.id);
        if (this.receiverNode !== node) this.rec.fact(node, "value", layerMarkdown(this, v.id, st));
      } else if (a?.kind === "array") {
        const md = arrayMarkdown(this, label ?? this.text(node), v.id, st);
        if (md) this.rec.fact(node, "value", md);
      }
    }
  }

  /** Evaluates a list of expressions, spreading `...known` arrays. */
  elements(list: readonly ts.Expression[], st: State): Value[] {
    const out: Value[] = [];
    for (const e of list) {
      if (ts.isSpreadElement(e)) {
        const v = this.evaluate(e.expression, st);
        const elems = elementsOf(this, v, st);
        if (elems) out.push(...elems);
        else out.push({ k: "unknown" });
      } else out.push(this.evaluate(e, st));
    }
    return out;
  }

  private objectLiteral(node: ts.ObjectLiteralExpression, st: State): Value {
    const fields = new Map<string, Value>();
    let closed = true;
    for (const p of node.properties) {
      if (ts.isPropertyAssignment(p)) {
        const key = propName(p.name);
        const init = unwrap(p.initializer);
        if (key !== undefined && ts.isNewExpression(init)) this.pendingName = { node: init, name: key, decl: p };
        const v = this.evaluate(p.initializer, st);
        this.pendingName = undefined;
        if (key === undefined) {
          if (ts.isComputedPropertyName(p.name)) this.evaluate(p.name.expression, st);
          closed = false;
        } else fields.set(key, v);
      } else if (ts.isShorthandPropertyAssignment(p)) {
        fields.set(p.name.text, this.identifier(p.name, st));
      } else if (ts.isSpreadAssignment(p)) {
        const v = this.evaluate(p.expression, st);
        const o = v.k === "ref" ? st.get(v.id) : undefined;
        if (o) for (const [k, f] of o.fields) fields.set(k, f);
        if (!o || !this.allocs.get((v as RefV).id)?.closed) closed = false;
      } else if (ts.isMethodDeclaration(p) || ts.isGetAccessorDeclaration(p) || ts.isSetAccessorDeclaration(p)) {
        const key = propName(p.name);
        const fn: FnV = { k: "fn", decl: p, scope: this.scope };
        this.seenFns.add(fn);
        if (key !== undefined && !ts.isSetAccessorDeclaration(p)) fields.set(key, ts.isGetAccessorDeclaration(p) ? UNKNOWN : fn);
        else closed = false;
      }
    }
    const ref = this.alloc(node, { kind: "object", closed });
    const w = st.write(ref.id);
    w.fields = fields;
    return ref;
  }

  private propertyAccess(node: ts.PropertyAccessExpression, st: State): Value {
    const name = node.name.text;
    let v: Value;
    if (node.expression.kind === ts.SyntaxKind.SuperKeyword) {
      const f = this.frames[this.frames.length - 1];
      v = f?.home ? this.memberOf(f.home.base, f.self, name, st, node) : UNKNOWN;
    } else {
      // `dense1` in `dense1.output`: the property's hover says more than the layer's.
      const prev = this.receiverNode;
      this.receiverNode = unwrap(node.expression);
      let obj: Value;
      try {
        obj = this.evaluate(node.expression, st);
      } finally {
        this.receiverNode = prev;
      }
      v = this.getProp(obj, name, st, node);
    }
    this.useFact(node, undefined, v, st);
    return v;
  }

  /** `obj.name` */
  getProp(obj: Value, name: string, st: State, node: ts.Node): Value {
    if (obj.k === "ref") {
      const info = this.allocs.get(obj.id);
      const o = st.get(obj.id);
      const f = o?.fields.get(name);
      if (f !== undefined) return f.k === "unset" ? UNSET : f;
      if (info?.kind === "array") {
        if (name === "length") return num(o?.elems?.length);
        return { k: "builtin", name: `Array#${name}`, self: obj };
      }
      if (info?.cls) return this.memberOf(info.cls, obj, name, st, node);
      if (info?.builtin) return builtinMember(info, obj, name);
      if (info?.kind === "object" && info.closed) return UNDEF;
      return UNKNOWN;
    }
    return valueMember(obj, name);
  }

  /** A member of a class (or its bases) for `self`: a method, a getter's value, or the engine's own. */
  private memberOf(cls: ClassV | BuiltinV | undefined, self: Value, name: string, st: State, node: ts.Node): Value {
    for (let c: ClassV | BuiltinV | undefined = cls; c; c = c.k === "class" ? c.base : undefined) {
      if (c.k === "builtin") {
        const info = this.info(self);
        if (info) return builtinMember({ ...info, builtin: c.name }, self as RefV, name);
        return UNKNOWN;
      }
      for (const m of c.decl.members) {
        if (isStatic(m) || !m.name || propName(m.name) !== name) continue;
        if (ts.isMethodDeclaration(m) && m.body) return { k: "fn", decl: m, scope: c.scope, self, home: c };
        if (ts.isGetAccessorDeclaration(m) && m.body) return this.callUser({ k: "fn", decl: m, scope: c.scope, self, home: c }, self, [], node, st);
        if (ts.isPropertyDeclaration(m)) return UNKNOWN;
      }
      if (c.baseUnknown) return UNKNOWN;
    }
    return UNKNOWN;
  }

  setProp(obj: Value, name: string, v: Value, st: State): void {
    if (obj.k !== "ref") return;
    const info = this.allocs.get(obj.id);
    if (info?.kind === "layer" && v.k === "tensor" && name !== "inputs" && name !== "weights" && name !== "biases") {
      v = { ...v, origin: { layer: obj.id, field: name } };
      delete v.lit;
    }
    if (info?.kind === "array" && name === "length") {
      const w = st.write(obj.id);
      if (w.elems) {
        w.elem = w.elems.reduce(join, UNSET);
        delete w.elems;
      }
      return;
    }
    st.setField(obj.id, name, v);
  }

  private callExpression(node: ts.CallExpression, st: State): Value {
    const callee = unwrap(node.expression);
    if (callee.kind === ts.SyntaxKind.SuperKeyword) {
      const args = this.elements(node.arguments, st);
      this.superCall(node, args, st);
      return UNDEF;
    }
    if (ts.isPropertyAccessExpression(callee) || (ts.isElementAccessExpression(callee) && ts.isStringLiteral(callee.argumentExpression))) {
      const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : (callee.argumentExpression as ts.StringLiteral).text;
      const isSuper = callee.expression.kind === ts.SyntaxKind.SuperKeyword;
      let self: Value;
      let fn: Value;
      if (isSuper) {
        const f = this.frames[this.frames.length - 1];
        self = f?.self ?? UNKNOWN;
        fn = f?.home ? this.memberOf(f.home.base, self, name, st, callee) : UNKNOWN;
      } else {
        const prev = this.receiverNode;
        this.receiverNode = unwrap(callee.expression);
        try {
          self = this.evaluate(callee.expression, st);
        } finally {
          this.receiverNode = prev;
        }
        fn = this.getProp(self, name, st, callee);
      }
      const args = this.elements(node.arguments, st);
      const info = this.info(self);
      if (!isSuper && info?.kind === "layer" && (name === "forward" || name === "backward" || name === "calculate")) {
        return this.on(st, () => layerCall(this, self as RefV, name === "backward" ? "backward" : "forward", args, node, st, fn, () => this.invoke(fn, self, args, node, st)));
      }
      return this.invoke(fn, self, args, node, st);
    }
    const fn = this.evaluate(node.expression, st);
    const args = this.elements(node.arguments, st);
    return this.invoke(fn, UNDEF, args, node, st);
  }

  /** Calls a function value. */
  invoke(fn: Value, self: Value, args: Value[], node: ts.Node, st: State): Value {
    if (fn.k === "fn") return this.callUser(fn, fn.self ?? self, args, node, st);
    if (fn.k === "builtin") return this.on(st, () => callBuiltin(this, fn, args, node, st));
    this.havoc([self, ...args], st);
    return UNKNOWN;
  }

  /** Follows a call of the model file's own function, with its arguments. */
  callUser(fn: FnV, self: Value, args: readonly Value[], node: ts.Node, st: State, pendingInit?: Frame["pendingInit"]): Value {
    const decl = fn.decl;
    if (!decl.body) {
      this.havoc([self, ...args], st);
      return UNKNOWN;
    }
    if (this.frames.length >= MAX_DEPTH || this.frames.some((f) => f.fn === decl)) {
      // Recursion or very deep calls: give up on what the call may change.
      this.havocAll(st);
      return UNKNOWN;
    }
    this.calledFns.add(decl);
    const saved = this.scope;
    this.scope = new Scope(fn.scope, true);
    const frame: Frame = { fn: decl, self, returns: [], returnStates: [], call: node, ...(fn.home ? { home: fn.home } : {}), ...(pendingInit ? { pendingInit } : {}) };
    this.frames.push(frame);
    this.pushCtx(`c${node.pos}`);
    const savedLoops = this.loops;
    this.loops = [];
    try {
      for (const p of decl.parameters) this.declare(p.name, this.scope);
      decl.parameters.forEach((p, i) => {
        let v: Value;
        if (p.dotDotDotToken) {
          const arr = this.alloc(p, { kind: "array" });
          st.write(arr.id).elems = args.slice(i);
          v = arr;
        } else {
          v = args[i] ?? UNDEF;
          if (v.k === "undef" && p.initializer) v = this.evaluate(p.initializer, st);
        }
        this.bind(p.name, v, st);
      });
      if (pendingInit && !pendingInit.cls.base) this.initFields(pendingInit.cls, pendingInit.obj, pendingInit.ctor, st);
      const body = decl.body;
      if (ts.isBlock(body)) {
        this.hoist(body.statements, this.scope, st, true);
        this.statements(body.statements, st);
        if (!st.dead) frame.returns.push(UNDEF);
      } else {
        frame.returns.push(this.evaluate(body, st));
      }
      for (const r of frame.returnStates) st.replaceWith(joinStates(st, r));
      st.dead = frame.returnStates.length === 0 && st.dead;
      if (frame.returns.length === 0) return UNKNOWN;
      return frame.returns.reduce(join);
    } finally {
      this.loops = savedLoops;
      this.popCtx();
      this.frames.pop();
      this.scope = saved;
    }
  }

  private newExpression(node: ts.NewExpression, st: State): Value {
    const named = this.takeName(node);
    const cls = this.evaluate(node.expression, st);
    const args = this.elements(node.arguments ?? [], st);
    let v: Value;
    if (cls.k === "class") v = this.construct(cls, args, node, st, false, named);
    else if (cls.k === "builtin") v = this.on(st, () => constructBuiltin(this, cls.name, args, node, st, named));
    else {
      this.havoc(args, st);
      v = UNKNOWN;
    }
    return v;
  }

  /** `new C(…)` of the model file's class: the constructor with `this` bound, fields, then the layer's name. */
  construct(cls: ClassV, args: Value[], node: ts.Node, st: State, speculative: boolean, named?: { name: string; decl: ts.Node }): RefV {
    this.constructedClasses.add(cls.decl);
    const base = rootBuiltin(cls);
    const isLayer = base !== undefined && isLayerClass(base);
    const className = cls.decl.name?.text ?? "class";
    const obj = this.alloc(node, {
      kind: isLayer ? "layer" : base ? builtinKind(base) : "instance",
      cls,
      ...(base ? { builtin: base } : {}),
      ...(isLayer ? { layerKind: layerKindOf(base) } : {}),
      className,
      ...(named ? { name: named.name, declNode: named.decl } : {}),
      ...(ts.isNewExpression(node) && node.arguments ? { args: node.arguments } : {}),
    });
    st.write(obj.id);
    this.constructInto(cls, obj, args, node, st);
    if (isLayer) describeLayer(this, obj, st);
    if (speculative) (this.allocs.get(obj.id) as AllocInfo).speculative = true;
    return obj;
  }

  constructInto(cls: ClassV, obj: RefV, args: Value[], node: ts.Node, st: State): void {
    const ctor = cls.decl.members.find((m): m is ts.ConstructorDeclaration => ts.isConstructorDeclaration(m) && m.body !== undefined);
    if (ctor) {
      this.callUser({ k: "fn", decl: ctor, scope: cls.scope, self: obj, home: cls }, obj, args, node, st, { cls, obj, ctor, args });
      return;
    }
    if (cls.base?.k === "class") this.constructInto(cls.base, obj, args, node, st);
    else if (cls.base?.k === "builtin") {
      const name = cls.base.name;
      this.on(st, () => constructBuiltinInto(this, name, obj, args, node, st));
    }
    this.initFields(cls, obj, undefined, st);
  }

  private superCall(node: ts.CallExpression, args: Value[], st: State): void {
    const f = this.frames[this.frames.length - 1];
    const p = f?.pendingInit;
    if (!f || !p) return;
    const base = p.cls.base;
    if (base?.k === "class") this.constructInto(base, p.obj, args, node, st);
    else if (base?.k === "builtin") {
      const name = base.name;
      this.on(st, () => constructBuiltinInto(this, name, p.obj, args, node, st));
    }
    this.initFields(p.cls, p.obj, p.ctor, st);
  }

  /** Parameter properties (`constructor(readonly alpha = 0.1)`) and field initialisers. */
  private initFields(cls: ClassV, obj: RefV, ctor: ts.ConstructorDeclaration | undefined, st: State): void {
    if (ctor) {
      for (const p of ctor.parameters) {
        if (!ts.isIdentifier(p.name) || !ts.getModifiers(p)?.some((m) => isParameterPropertyModifier(m.kind))) continue;
        const id = this.scope.lookup(p.name.text);
        this.setProp(obj, p.name.text, id === undefined ? UNKNOWN : (st.vars.get(id) ?? UNKNOWN), st);
      }
    }
    const frame: Frame = { self: obj, home: cls, returns: [], returnStates: [] };
    const saved = this.scope;
    this.scope = new Scope(cls.scope, true);
    this.frames.push(frame);
    try {
      for (const m of cls.decl.members) {
        if (!ts.isPropertyDeclaration(m) || isStatic(m)) continue;
        const key = propName(m.name);
        if (key === undefined) continue;
        if (m.initializer) {
          const init = unwrap(m.initializer);
          if (ts.isNewExpression(init)) this.pendingName = { node: init, name: key, decl: m };
          const v = this.evaluate(m.initializer, st);
          this.pendingName = undefined;
          this.setProp(obj, key, v, st);
        } else if (!ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.DeclareKeyword) && st.field(obj.id, key) === undefined) {
          st.setField(obj.id, key, UNSET);
        }
      }
    } finally {
      this.frames.pop();
      this.scope = saved;
    }
  }

  private classValue(node: ts.ClassLikeDeclaration, st: State): ClassV {
    const c: ClassV = { k: "class", decl: node, scope: this.scope };
    const ext = node.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0];
    if (ext) {
      const b = this.evaluate(ext.expression, st);
      if (b.k === "class" || b.k === "builtin") c.base = b;
      else c.baseUnknown = true;
    }
    this.seenClasses.add(c);
    return c;
  }

  // ---------------------------------------------------------------- operators

  private binary(node: ts.BinaryExpression, st: State): Value {
    const op = node.operatorToken.kind;
    const K = ts.SyntaxKind;
    if (op === K.EqualsToken) {
      const left = unwrap(node.left);
      const init = unwrap(node.right);
      if (ts.isNewExpression(init)) {
        const name = ts.isIdentifier(left) ? left.text : ts.isPropertyAccessExpression(left) ? left.name.text : undefined;
        if (name) this.pendingName = { node: init, name, decl: node };
      }
      const v = this.evaluate(node.right, st);
      this.pendingName = undefined;
      this.assign(node.left, v, st);
      return v;
    }
    if (op === K.AmpersandAmpersandToken || op === K.BarBarToken || op === K.QuestionQuestionToken) {
      const l = this.evaluate(node.left, st);
      const t = op === K.QuestionQuestionToken ? (l.k === "undef" ? false : l.k === "unknown" || l.k === "unset" ? undefined : true) : truthy(l);
      const takesRight = op === K.AmpersandAmpersandToken ? t : t === undefined ? undefined : !t;
      if (takesRight === true) return this.evaluate(node.right, st);
      if (takesRight === false) return l;
      const other = st.clone();
      const r = this.evaluate(node.right, other);
      st.replaceWith(joinStates(st, other));
      return join(l, r);
    }
    if (op === K.AmpersandAmpersandEqualsToken || op === K.BarBarEqualsToken || op === K.QuestionQuestionEqualsToken) {
      const l = this.evaluate(node.left, st);
      const r = this.evaluate(node.right, st);
      const v = join(l, r);
      this.assign(node.left, v, st);
      return v;
    }
    if (op === K.CommaToken) {
      this.evaluate(node.left, st);
      return this.evaluate(node.right, st);
    }
    const compound = COMPOUND[op];
    if (compound !== undefined) {
      const l = this.evaluate(node.left, st);
      const r = this.evaluate(node.right, st);
      const v = arith(compound, l, r);
      this.assign(node.left, v, st);
      return v;
    }
    const l = this.evaluate(node.left, st);
    const r = this.evaluate(node.right, st);
    return arith(op, l, r);
  }

  private unary(node: ts.PrefixUnaryExpression | ts.PostfixUnaryExpression, st: State): Value {
    const K = ts.SyntaxKind;
    const v = this.evaluate(node.operand, st);
    switch (node.operator) {
      case K.PlusPlusToken:
      case K.MinusMinusToken: {
        const n = v.k === "num" && v.v !== undefined ? num(v.v + (node.operator === K.PlusPlusToken ? 1 : -1)) : num();
        this.assign(node.operand, n, st);
        return ts.isPrefixUnaryExpression(node) ? n : v.k === "num" ? v : num();
      }
      case K.MinusToken:
        return v.k === "num" && v.v !== undefined ? num(-v.v) : num();
      case K.PlusToken:
        return v.k === "num" ? v : num();
      case K.ExclamationToken: {
        const t = truthy(v);
        return t === undefined ? bool() : bool(!t);
      }
      case K.TildeToken:
        return v.k === "num" && v.v !== undefined ? num(~v.v) : num();
      default:
        return UNKNOWN;
    }
  }

  /** Assignment to an identifier, a property, an element or a destructuring pattern. */
  assign(target: ts.Expression, v: Value, st: State): void {
    const t = unwrap(target);
    if (ts.isIdentifier(t)) {
      const id = this.scope.lookup(t.text);
      if (id !== undefined) st.vars.set(id, v);
      return;
    }
    if (ts.isPropertyAccessExpression(t)) {
      const obj = this.evaluate(t.expression, st);
      this.setProp(obj, t.name.text, v, st);
      return;
    }
    if (ts.isElementAccessExpression(t)) {
      const obj = this.evaluate(t.expression, st);
      const idx = this.evaluate(t.argumentExpression, st);
      if (idx.k === "str" && idx.v !== undefined) this.setProp(obj, idx.v, v, st);
      else setIndexed(this, obj, idx, v, st);
      return;
    }
    if (ts.isArrayLiteralExpression(t)) {
      t.elements.forEach((el, i) => {
        if (ts.isOmittedExpression(el)) return;
        if (ts.isSpreadElement(el)) this.assign(el.expression, this.restOf(v, i, st, el), st);
        else if (ts.isBinaryExpression(el) && el.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
          let ev = indexValue(this, v, num(i), st);
          if (ev.k === "undef") ev = this.evaluate(el.right, st);
          this.assign(el.left, ev, st);
        } else this.assign(el, indexValue(this, v, num(i), st), st);
      });
      return;
    }
    if (ts.isObjectLiteralExpression(t)) {
      for (const p of t.properties) {
        if (ts.isPropertyAssignment(p)) {
          const key = propName(p.name);
          this.assign(p.initializer, key === undefined ? UNKNOWN : this.getProp(v, key, st, p), st);
        } else if (ts.isShorthandPropertyAssignment(p)) {
          const id = this.scope.lookup(p.name.text);
          if (id !== undefined) st.vars.set(id, this.getProp(v, p.name.text, st, p));
        }
      }
    }
  }
}

// ------------------------------------------------------------------ helpers

const COMPOUND: Partial<Record<ts.SyntaxKind, ts.SyntaxKind>> = {
  [ts.SyntaxKind.PlusEqualsToken]: ts.SyntaxKind.PlusToken,
  [ts.SyntaxKind.MinusEqualsToken]: ts.SyntaxKind.MinusToken,
  [ts.SyntaxKind.AsteriskEqualsToken]: ts.SyntaxKind.AsteriskToken,
  [ts.SyntaxKind.SlashEqualsToken]: ts.SyntaxKind.SlashToken,
  [ts.SyntaxKind.PercentEqualsToken]: ts.SyntaxKind.PercentToken,
  [ts.SyntaxKind.AsteriskAsteriskEqualsToken]: ts.SyntaxKind.AsteriskAsteriskToken,
  [ts.SyntaxKind.LessThanLessThanEqualsToken]: ts.SyntaxKind.LessThanLessThanToken,
  [ts.SyntaxKind.GreaterThanGreaterThanEqualsToken]: ts.SyntaxKind.GreaterThanGreaterThanToken,
  [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken]: ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken,
  [ts.SyntaxKind.AmpersandEqualsToken]: ts.SyntaxKind.AmpersandToken,
  [ts.SyntaxKind.BarEqualsToken]: ts.SyntaxKind.BarToken,
  [ts.SyntaxKind.CaretEqualsToken]: ts.SyntaxKind.CaretToken,
};

/** Arithmetic and comparisons on known numbers (dimensions are computed: `new Dense(2 * h, 3)`). */
function arith(op: ts.SyntaxKind, l: Value, r: Value): Value {
  const K = ts.SyntaxKind;
  const a = l.k === "num" ? l.v : l.k === "bool" && l.v !== undefined ? Number(l.v) : undefined;
  const b = r.k === "num" ? r.v : r.k === "bool" && r.v !== undefined ? Number(r.v) : undefined;
  const known = a !== undefined && b !== undefined;
  switch (op) {
    case K.PlusToken:
      if (l.k === "str" || r.k === "str") return str();
      if (l.k === "unknown" || r.k === "unknown") return UNKNOWN;
      return known ? num(a + b) : num();
    case K.MinusToken:
      return known ? num(a - b) : num();
    case K.AsteriskToken:
      return known ? num(a * b) : num();
    case K.SlashToken:
      return known ? num(a / b) : num();
    case K.PercentToken:
      return known ? num(a % b) : num();
    case K.AsteriskAsteriskToken:
      return known ? num(a ** b) : num();
    case K.LessThanLessThanToken:
      return known ? num(a << b) : num();
    case K.GreaterThanGreaterThanToken:
      return known ? num(a >> b) : num();
    case K.GreaterThanGreaterThanGreaterThanToken:
      return known ? num(a >>> b) : num();
    case K.AmpersandToken:
      return known ? num(a & b) : num();
    case K.BarToken:
      return known ? num(a | b) : num();
    case K.CaretToken:
      return known ? num(a ^ b) : num();
    case K.LessThanToken:
      return known ? bool(a < b) : bool();
    case K.GreaterThanToken:
      return known ? bool(a > b) : bool();
    case K.LessThanEqualsToken:
      return known ? bool(a <= b) : bool();
    case K.GreaterThanEqualsToken:
      return known ? bool(a >= b) : bool();
    case K.EqualsEqualsEqualsToken:
    case K.EqualsEqualsToken:
    case K.ExclamationEqualsEqualsToken:
    case K.ExclamationEqualsToken: {
      const neg = op === K.ExclamationEqualsEqualsToken || op === K.ExclamationEqualsToken;
      let eq: boolean | undefined;
      if (known) eq = a === b;
      else if (l.k === "str" && r.k === "str" && l.v !== undefined && r.v !== undefined) eq = l.v === r.v;
      return eq === undefined ? bool() : bool(neg ? !eq : eq);
    }
    default:
      return UNKNOWN;
  }
}

function isStatic(m: ts.ClassElement): boolean {
  return ts.canHaveModifiers(m) && (ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword) ?? false);
}

function isParameterPropertyModifier(k: ts.SyntaxKind): boolean {
  return k === ts.SyntaxKind.PublicKeyword || k === ts.SyntaxKind.PrivateKeyword || k === ts.SyntaxKind.ProtectedKeyword || k === ts.SyntaxKind.ReadonlyKeyword;
}

const buildsCache = new WeakMap<ts.Node, boolean>();

/**
 * True when a loop body makes objects or fills arrays (`new`, `.push(…)`, `a[i] = …`): then following
 * its few iterations one by one keeps what each makes apart. A training loop does neither.
 */
function builds(body: ts.Node): boolean {
  const known = buildsCache.get(body);
  if (known !== undefined) return known;
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (ts.isNewExpression(n)) found = true;
    else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && ["push", "unshift", "splice"].includes(n.expression.name.text)) found = true;
    else if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isElementAccessExpression(unwrap(n.left))) found = true;
    else ts.forEachChild(n, visit);
  };
  visit(body);
  buildsCache.set(body, found);
  return found;
}

const assignsCache = new WeakMap<ts.Node, Map<string, boolean>>();

/** True when `node` assigns `name` (`name = …`, `name += …`, `name++`) outside nested functions. */
function assigns(node: ts.Node, name: string): boolean {
  let byName = assignsCache.get(node);
  if (!byName) assignsCache.set(node, (byName = new Map()));
  const known = byName.get(name);
  if (known !== undefined) return known;
  const found = assignsUncached(node, name);
  byName.set(name, found);
  return found;
}

function assignsUncached(node: ts.Node, name: string): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found || ts.isFunctionLike(n)) return;
    if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment && ts.isIdentifier(unwrap(n.left)) && (unwrap(n.left) as ts.Identifier).text === name) found = true;
    else if ((ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) && (n.operator === ts.SyntaxKind.PlusPlusToken || n.operator === ts.SyntaxKind.MinusMinusToken) && ts.isIdentifier(n.operand) && n.operand.text === name) found = true;
    else ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

/** The engine class at the root of a class's chain (`Layer`, `Dense`, …), if it has one. */
export function rootBuiltin(cls: ClassV): string | undefined {
  let c: ClassV | BuiltinV | undefined = cls;
  let last: ClassV = cls;
  let plainLayer = false;
  while (c && c.k === "class") {
    last = c;
    if (declaresForwardAndBackward(c.decl)) plainLayer = true;
    c = c.base;
  }
  if (c?.k === "builtin") return c.name;
  // A plain class with forward and backward (the book's way) is made a layer when it is built
  // (extension/runner/duckLayers.ts → adoptLayer): the analysis counts it as one, as the run does.
  return plainLayer && !last.baseUnknown ? "Layer" : undefined;
}

function declaresForwardAndBackward(decl: ts.ClassLikeDeclaration): boolean {
  const names = new Set<string>();
  for (const m of decl.members) {
    if (!(ts.isMethodDeclaration(m) || ts.isPropertyDeclaration(m)) || ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword)) continue;
    if (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) names.add(m.name.text);
  }
  return names.has("forward") && names.has("backward");
}

/** What a block declares before it runs, found once per block. */
interface HoistPlan {
  /** let, const, class, function and enum names. */
  names: ts.Identifier[];
  /** `var` names anywhere in the block (they belong to the function when the block is its body); found when first needed. */
  vars?: ts.Identifier[];
  fns: ts.FunctionDeclaration[];
  /** Names whose value is unknown from the start (enums). */
  unknowns: ts.Identifier[];
  imports: (ts.ImportDeclaration | ts.ImportEqualsDeclaration)[];
}

const plans = new WeakMap<readonly ts.Statement[], HoistPlan>();

function bindingNames(name: ts.BindingName, out: ts.Identifier[]): void {
  if (ts.isIdentifier(name)) out.push(name);
  else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bindingNames(el.name, out);
}

function hoistPlan(statements: readonly ts.Statement[]): HoistPlan {
  const cached = plans.get(statements);
  if (cached) return cached;
  const plan: HoistPlan = { names: [], fns: [], unknowns: [], imports: [] };
  for (const s of statements) {
    if (ts.isVariableStatement(s)) {
      const isVar = (s.declarationList.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) === 0;
      if (!isVar) for (const d of s.declarationList.declarations) bindingNames(d.name, plan.names);
    } else if (ts.isFunctionDeclaration(s) && s.name && s.body) {
      plan.names.push(s.name);
      plan.fns.push(s);
    } else if (ts.isClassDeclaration(s) && s.name) {
      plan.names.push(s.name);
    } else if (ts.isEnumDeclaration(s)) {
      plan.names.push(s.name);
      plan.unknowns.push(s.name);
    } else if (ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s)) {
      plan.imports.push(s);
    }
  }
  plans.set(statements, plan);
  return plan;
}

function varNames(statements: readonly ts.Statement[], plan: HoistPlan): ts.Identifier[] {
  if (!plan.vars) {
    plan.vars = [];
    for (const d of collectVars(statements)) bindingNames(d, plan.vars);
  }
  return plan.vars;
}

const varsCache = new WeakMap<readonly ts.Statement[], ts.BindingName[]>();

/** The `var` declarations of a function body (they belong to the function, wherever they are); found once per body. */
function collectVars(statements: readonly ts.Statement[]): ts.BindingName[] {
  const cached = varsCache.get(statements);
  if (cached) return cached;
  const out: ts.BindingName[] = [];
  varsCache.set(statements, out);
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) || ts.isClassLike(n)) return;
    if (ts.isVariableDeclarationList(n) && (n.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) === 0) for (const d of n.declarations) out.push(d.name);
    ts.forEachChild(n, visit);
  };
  for (const s of statements) visit(s);
  return out;
}

export type { TensorV };
