/**
 * Breakpoints as the debugger's worker and host both understand them: where (a line of a model file,
 * or a layer and phase by name), an optional condition (an `expr.ts` AST) and an optional hit count.
 * The host parses everything the user typed (`compileBreakpoint`), so a mistake is an error on the
 * breakpoint, and the worker only gets well-formed specs.
 *
 * A line breakpoint stops at every position whose call was made on that line, in any step; on a line
 * inside a layer's own `forward`/`backward` method that makes no traced call itself, it stops when that
 * method's call completes (the worker knows each method's lines, `MethodRange`).
 */
import type { Phase } from "../trace/traceTypes";
import { type Expr, ExprSyntaxError, parseExpr } from "./expr";
import type { Position } from "./positions";

export type HitOp = "==" | ">=" | ">" | "<" | "<=" | "%";

/** Stop when the breakpoint's hit count `n` (hits whose condition held, from 1) satisfies `count op n`. */
export interface HitCondition {
  op: HitOp;
  n: number;
}

export type BreakpointWhere =
  | { kind: "line"; file: string; line: number }
  /** `dense2.backward`: `name` is a layer's name or class name; no phase means any phase. `*` is any layer. */
  | { kind: "function"; name: string; phase?: Phase | "update" };

export interface BreakpointSpec {
  id: number;
  where: BreakpointWhere;
  condition?: Expr;
  /** The condition as typed (for messages). */
  conditionText?: string;
  hit?: HitCondition;
  /** A logpoint: print this (with `{expr}` parts evaluated) instead of stopping. */
  log?: string;
}

/** The lines of a layer class's `forward` or `backward` method in the user's file (1-based, inclusive). */
export interface MethodRange {
  className: string;
  phase: Phase;
  file: string;
  startLine: number;
  endLine: number;
}

/** What the user typed for one breakpoint, as DAP delivers it. */
export interface BreakpointInput {
  id: number;
  where: BreakpointWhere;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

/** A compiled breakpoint, or the reason it cannot be used. */
export type Compiled = { ok: true; spec: BreakpointSpec } | { ok: false; id: number; message: string };

/**
 * Parses a hit condition: `5` (the 5th hit), `== 5`, `>= 5`, `> 5`, `< 5`, `<= 5`, `% 10` (every 10th).
 * Throws `ExprSyntaxError` otherwise.
 */
export function parseHitCondition(text: string): HitCondition {
  const m = /^\s*(==?=?|>=|>|<=|<|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) {
    throw new ExprSyntaxError(`hit count '${text.trim()}': expected a whole number, optionally after ==, >=, >, <, <= or % (e.g. '>= 100', '% 10')`, 0, "a hit count");
  }
  const raw = m[1] ?? "==";
  const op: HitOp = raw.startsWith("=") ? "==" : (raw as HitOp);
  const n = Number(m[2]);
  if (op === "%" && n === 0) throw new ExprSyntaxError(`hit count '% 0': every 0th hit never comes; use % 1 or more`, 0, "a number ≥ 1");
  return { op, n };
}

/** True when the `count`-th hit (from 1) stops. */
export function hitSatisfied(h: HitCondition, count: number): boolean {
  switch (h.op) {
    case "==":
      return count === h.n;
    case ">=":
      return count >= h.n;
    case ">":
      return count > h.n;
    case "<":
      return count < h.n;
    case "<=":
      return count <= h.n;
    case "%":
      return count % h.n === 0;
  }
}

const PHASES = ["forward", "backward", "update"] as const;

/**
 * Parses a function breakpoint's name: `dense2.backward`, `dense2` (any phase), `LeakyReLU.backward`
 * (by class), `*.backward` (every layer), `dense1.update` (the optimizer's update of dense1).
 */
export function parseFunctionName(text: string): { name: string; phase?: Phase | "update" } {
  const t = text.trim();
  const m = /^([A-Za-z_$*][\w$]*)(?:\.(\w+)(?:\(\s*\))?)?$/.exec(t);
  if (!m || (m[1] === "*" && m[2] === undefined)) {
    throw new ExprSyntaxError(`'${t}': expected a layer and a phase, e.g. dense2.backward, dense1.forward, LeakyReLU.backward or *.backward`, 0, "layer.phase");
  }
  const phase = m[2];
  if (phase !== undefined && !(PHASES as readonly string[]).includes(phase)) {
    throw new ExprSyntaxError(`'${t}': the phase must be forward, backward or update, not '${phase}'`, (m[1] as string).length + 1, "forward, backward or update");
  }
  return { name: m[1] as string, ...(phase !== undefined ? { phase: phase as Phase | "update" } : {}) };
}

/** Compiles what the user typed; a condition or hit count that does not parse is a message, not a spec. */
export function compileBreakpoint(input: BreakpointInput): Compiled {
  const spec: BreakpointSpec = { id: input.id, where: input.where };
  if (input.condition !== undefined && input.condition.trim() !== "") {
    try {
      spec.condition = parseExpr(input.condition);
      spec.conditionText = input.condition.trim();
    } catch (e) {
      if (e instanceof ExprSyntaxError) return { ok: false, id: input.id, message: `condition '${input.condition.trim()}': ${e.message}` };
      throw e;
    }
  }
  if (input.hitCondition !== undefined && input.hitCondition.trim() !== "") {
    try {
      spec.hit = parseHitCondition(input.hitCondition);
    } catch (e) {
      if (e instanceof ExprSyntaxError) return { ok: false, id: input.id, message: e.message };
      throw e;
    }
  }
  if (input.logMessage !== undefined && input.logMessage !== "") {
    const problem = logTemplateProblem(input.logMessage);
    if (problem) return { ok: false, id: input.id, message: problem };
    spec.log = input.logMessage;
  }
  return { ok: true, spec };
}

/** The `{expr}` parts of a logpoint message, parsed; undefined when they all parse. */
function logTemplateProblem(text: string): string | undefined {
  for (const part of logParts(text)) {
    if (typeof part === "string") continue;
    try {
      parseExpr(part.expr);
    } catch (e) {
      if (e instanceof ExprSyntaxError) return `log message part {${part.expr}}: ${e.message}`;
      throw e;
    }
  }
  return undefined;
}

/** A logpoint message split into text and `{expr}` parts. */
export function logParts(text: string): (string | { expr: string })[] {
  const out: (string | { expr: string })[] = [];
  let i = 0;
  for (const m of text.matchAll(/\{([^{}]+)\}/g)) {
    if ((m.index ?? 0) > i) out.push(text.slice(i, m.index));
    out.push({ expr: m[1] as string });
    i = (m.index ?? 0) + m[0].length;
  }
  if (i < text.length) out.push(text.slice(i));
  return out;
}

/** What the matcher needs to know about layers: name and class by id. */
export interface LayerIdentity {
  name: string;
  className: string;
}

/** Normalises a path for comparison (separators; Windows drive letters are case-insensitive). */
export function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  const n = (p: string): string => p.replace(/\\/g, "/").replace(/^([A-Za-z]):/, (_, d: string) => `${d.toLowerCase()}:`);
  return n(a) === n(b);
}

/**
 * Does breakpoint `where` sit at position `p`? `layers` names layers; `ranges` are the known methods of
 * layer classes; `callLines` says whether a line of a file is the site of some traced call (a line
 * breakpoint on a call line inside a method stops at that call, not again at the method's end).
 */
export function matchesLocation(
  where: BreakpointWhere,
  p: Pick<Position, "kind" | "layer" | "phase" | "site">,
  layers: (id: number) => LayerIdentity | undefined,
  ranges: readonly MethodRange[],
  callLines: (file: string, line: number) => boolean,
): boolean {
  if (where.kind === "function") {
    if (p.kind === "scalar" || p.kind === "scalar-backward") return where.name === "backward" && where.phase === undefined && p.kind === "scalar-backward";
    if (p.kind === "param") return false;
    const phase = p.kind === "update" ? "update" : p.phase;
    if (where.phase !== undefined && where.phase !== phase) return false;
    if (where.phase === undefined && phase === "update") return false; // `dense1` stops at its calls, not its updates
    if (where.name === "*") return true;
    const l = p.layer !== undefined ? layers(p.layer) : undefined;
    return l !== undefined && (l.name === where.name || l.className === where.name);
  }
  if (p.site && p.site.line === where.line && samePath(p.site.file, where.file)) return true;
  if (p.kind === "layer" && p.layer !== undefined && (p.phase === "forward" || p.phase === "backward")) {
    const l = layers(p.layer);
    if (!l) return false;
    for (const r of ranges) {
      if (r.className === l.className && r.phase === p.phase && where.line >= r.startLine && where.line <= r.endLine && samePath(r.file, where.file)) {
        return !callLines(where.file, where.line);
      }
    }
  }
  return false;
}
