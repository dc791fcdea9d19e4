/**
 * Evaluates the debugger's expressions (`expr.ts`) against an environment: the model's worker at a live
 * position (the layers' own fields) or the host at a recorded one (the tensors the run kept). Both use
 * this one evaluator, so a condition means the same wherever it is checked.
 *
 * Values are numbers, booleans, strings, tensors (`{ shape, data }`, row-major), lists of numbers
 * (a shape) and objects (a layer, a step). Tensor properties: `norm` (L2), `max`, `min`, `mean`, `sum`,
 * `std`, `maxAbs`, `size`, `zeros` (elements exactly 0), `nonFinite` (NaN or ±Infinity elements),
 * `shape`, `rows`, `cols`. `t[i]` is row i (a tensor one rank lower; negative counts from the end),
 * `t[i][j]` an element.
 */
import { editDistance } from "../suggest";
import type { Expr } from "./expr";

/** A tensor as the evaluator sees it (a row of a tensor is a view: `data` may be a subarray). */
export interface TensorValue {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** Something with named members: a layer, a call, a step. */
export interface ObjectValue {
  readonly kind: "object";
  /** What it is, for display (`dense1 = Dense(2, 64)`). */
  readonly label: string;
  get(name: string): DebugValue | undefined;
  /** Member names, for display and for "did you mean" messages. */
  keys(): string[];
}

export type DebugValue = number | boolean | string | TensorValue | ObjectValue | readonly number[];

/** Names an expression may use at the top level. */
export interface EvalEnv {
  lookup(name: string): DebugValue | undefined;
  /** The names known here (for the message when a name is unknown). */
  names(): string[];
}

/** An expression that parsed but cannot be evaluated here (an unknown name, a tensor compared with a number). */
export class ExprEvalError extends Error {
  override name = "ExprEvalError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export const TENSOR_PROPERTIES = ["norm", "max", "min", "mean", "sum", "std", "maxAbs", "size", "zeros", "nonFinite", "shape", "rows", "cols"] as const;

const CONSTANTS: Record<string, DebugValue> = { true: true, false: false, NaN: NaN, Infinity: Infinity };

export function isTensorValue(v: unknown): v is TensorValue {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as { shape?: unknown; data?: unknown };
  return Array.isArray(o.shape) && typeof o.data === "object" && o.data !== null && typeof (o.data as ArrayLike<number>).length === "number";
}

export function isObjectValue(v: unknown): v is ObjectValue {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "object" && typeof (v as ObjectValue).get === "function";
}

/** An object value over a plain record (members that are `undefined` do not exist). */
export function objectValue(label: string, members: Record<string, DebugValue | undefined>): ObjectValue {
  return {
    kind: "object",
    label,
    get: (name) => (Object.prototype.hasOwnProperty.call(members, name) ? members[name] : undefined),
    keys: () => Object.keys(members).filter((k) => members[k] !== undefined),
  };
}

/** An environment over a record of names. */
export function recordEnv(names: Record<string, DebugValue | undefined>, parent?: EvalEnv): EvalEnv {
  return {
    lookup: (n) => (Object.prototype.hasOwnProperty.call(names, n) && names[n] !== undefined ? names[n] : parent?.lookup(n)),
    names: () => [...new Set([...Object.keys(names).filter((k) => names[k] !== undefined), ...(parent?.names() ?? [])])],
  };
}

/** Evaluates `e` in `env`; throws `ExprEvalError` with a sentence saying what went wrong. */
export function evaluate(e: Expr, env: EvalEnv): DebugValue {
  switch (e.k) {
    case "num":
      return e.v;
    case "name": {
      const v = env.lookup(e.name);
      if (v !== undefined) return v;
      const c = CONSTANTS[e.name];
      if (c !== undefined) return c;
      throw new ExprEvalError(`'${e.name}' is not known here${suggest(e.name, env.names())}`, e.at);
    }
    case "member": {
      const obj = evaluate(e.obj, env);
      return member(obj, e.name, e.at, e.obj);
    }
    case "index": {
      const obj = evaluate(e.obj, env);
      const i = evaluate(e.index, env);
      if (typeof i !== "number" || !Number.isInteger(i)) throw new ExprEvalError(`an index must be a whole number, not ${describe(i)}`, e.index.at);
      return index(obj, i, e.at);
    }
    case "unary": {
      const v = evaluate(e.arg, env);
      if (e.op === "!") return !truthy(v, e.arg.at);
      return -num(v, e.arg.at, "-");
    }
    case "binary": {
      if (e.op === "&&") return truthy(evaluate(e.left, env), e.left.at) && truthy(evaluate(e.right, env), e.right.at);
      if (e.op === "||") return truthy(evaluate(e.left, env), e.left.at) || truthy(evaluate(e.right, env), e.right.at);
      const a = evaluate(e.left, env);
      const b = evaluate(e.right, env);
      if ((e.op === "==" || e.op === "!=") && typeof a === "boolean" && typeof b === "boolean") return e.op === "==" ? a === b : a !== b;
      if ((e.op === "==" || e.op === "!=") && typeof a === "string" && typeof b === "string") return e.op === "==" ? a === b : a !== b;
      const x = num(a, e.left.at, e.op);
      const y = num(b, e.right.at, e.op);
      switch (e.op) {
        case "==":
          return x === y;
        case "!=":
          return x !== y;
        case "<":
          return x < y;
        case "<=":
          return x <= y;
        case ">":
          return x > y;
        case ">=":
          return x >= y;
        case "+":
          return x + y;
        case "-":
          return x - y;
        case "*":
          return x * y;
        case "/":
          return x / y;
        case "%":
          return x % y;
      }
    }
  }
}

/** Evaluates a condition: true when the value is `true` or a non-zero number. */
export function evaluateCondition(e: Expr, env: EvalEnv): boolean {
  return truthy(evaluate(e, env), e.at);
}

function truthy(v: DebugValue, at: number): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0 && v === v;
  throw new ExprEvalError(`${describe(v)} is not true or false; compare it (e.g. '> 0')${isTensorValue(v) ? " or use one of its properties (.norm, .max, .nonFinite)" : ""}`, at);
}

function num(v: DebugValue, at: number, op: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") throw new ExprEvalError(`'${op}' needs numbers, not a true/false value`, at);
  if (isTensorValue(v)) {
    throw new ExprEvalError(
      `'${op}' needs a number, and this is a tensor ${showShape(v.shape)}: use one of its numbers (${v.shape.length > 1 ? "t[0][0]" : "t[0]"}) or a property (.norm, .max, .min, .mean, .zeros, .nonFinite)`,
      at,
    );
  }
  throw new ExprEvalError(`'${op}' needs a number, not ${describe(v)}`, at);
}

function member(obj: DebugValue, name: string, at: number, objExpr: Expr): DebugValue {
  if (isTensorValue(obj)) {
    const v = tensorProperty(obj, name);
    if (v === undefined) throw new ExprEvalError(`a tensor has no property '${name}'; it has ${TENSOR_PROPERTIES.join(", ")}`, at);
    return v;
  }
  if (isObjectValue(obj)) {
    const v = obj.get(name);
    if (v === undefined) {
      const keys = obj.keys();
      const close = keys.filter((k) => editDistance(k.toLowerCase(), name.toLowerCase()) <= Math.max(1, Math.floor(name.length / 4)));
      const hint = close.length > 0 ? ` (did you mean ${close.slice(0, 3).map((c) => `'${c}'`).join(" or ")}?)` : "";
      throw new ExprEvalError(`${objName(objExpr)} has no '${name}' here${hint}${keys.length ? `; it has ${keys.slice(0, 12).join(", ")}${keys.length > 12 ? ", …" : ""}` : ""}`, at);
    }
    return v;
  }
  if (Array.isArray(obj) && name === "length") return obj.length;
  throw new ExprEvalError(`${describe(obj)} has no properties (asked for '${name}')`, at);
}

function index(obj: DebugValue, i: number, at: number): DebugValue {
  if (Array.isArray(obj)) {
    const list = obj as readonly number[];
    const j = i < 0 ? list.length + i : i;
    if (j < 0 || j >= list.length) throw new ExprEvalError(`index ${i} is out of range for a list of ${list.length}`, at);
    return list[j] as number;
  }
  if (isTensorValue(obj)) {
    const rank = obj.shape.length;
    if (rank === 0) throw new ExprEvalError("a scalar tensor has no rows to index", at);
    const n = obj.shape[0] as number;
    const j = i < 0 ? n + i : i;
    if (j < 0 || j >= n) throw new ExprEvalError(`index ${i} is out of range for ${rank > 1 ? "rows" : "elements"} 0..${n - 1} of a tensor ${showShape(obj.shape)}`, at);
    if (rank === 1) return obj.data[j] as number;
    const inner = obj.shape.slice(1);
    const size = inner.reduce((a, b) => a * b, 1);
    return { shape: inner, data: sub(obj.data, j * size, (j + 1) * size) };
  }
  throw new ExprEvalError(`${describe(obj)} cannot be indexed`, at);
}

function sub(data: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  const d = data as Float64Array;
  if (typeof d.subarray === "function") return d.subarray(from, to);
  return Array.prototype.slice.call(data, from, to) as number[];
}

/** A tensor's property, or undefined when there is no such property. */
export function tensorProperty(t: TensorValue, name: string): DebugValue | undefined {
  const d = t.data;
  const n = d.length;
  switch (name) {
    case "shape":
      return [...t.shape];
    case "size":
      return n;
    case "rows":
      return t.shape[0] ?? 1;
    case "cols":
      return t.shape.length > 1 ? (t.shape[1] as number) : (t.shape[0] ?? 1);
    case "norm": {
      let s = 0;
      for (let i = 0; i < n; i++) s += (d[i] as number) * (d[i] as number);
      return Math.sqrt(s);
    }
    case "sum":
    case "mean": {
      let s = 0;
      for (let i = 0; i < n; i++) s += d[i] as number;
      return name === "sum" ? s : n === 0 ? NaN : s / n;
    }
    case "std": {
      if (n === 0) return NaN;
      let s = 0;
      for (let i = 0; i < n; i++) s += d[i] as number;
      const m = s / n;
      let q = 0;
      for (let i = 0; i < n; i++) q += ((d[i] as number) - m) ** 2;
      return Math.sqrt(q / n);
    }
    case "max":
    case "min":
    case "maxAbs": {
      // NaN wins, as in NumPy: a tensor with a NaN has no meaningful max.
      let r = name === "max" || name === "maxAbs" ? -Infinity : Infinity;
      if (name === "maxAbs") r = 0;
      for (let i = 0; i < n; i++) {
        const v = name === "maxAbs" ? Math.abs(d[i] as number) : (d[i] as number);
        if (v !== v) return NaN;
        if (name === "min" ? v < r : v > r) r = v;
      }
      return n === 0 ? NaN : r;
    }
    case "zeros": {
      let c = 0;
      for (let i = 0; i < n; i++) if (d[i] === 0) c++;
      return c;
    }
    case "nonFinite": {
      let c = 0;
      for (let i = 0; i < n; i++) {
        const v = d[i] as number;
        if (v - v !== 0) c++;
      }
      return c;
    }
    default:
      return undefined;
  }
}

function objName(e: Expr): string {
  return e.k === "name" ? `'${e.name}'` : e.k === "member" ? `'${e.name}'` : "this";
}

function describe(v: DebugValue): string {
  if (typeof v === "number") return `the number ${v}`;
  if (typeof v === "boolean") return `the value ${v}`;
  if (typeof v === "string") return `the text "${v}"`;
  if (Array.isArray(v)) return `the list [${v.join(", ")}]`;
  if (isTensorValue(v)) return `a tensor ${showShape(v.shape)}`;
  return (v as ObjectValue).label;
}

function showShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** ` (did you mean 'dense1'?)` when a known name is close, else the known names. */
function suggest(name: string, known: string[]): string {
  const close = known.filter((k) => editDistance(k.toLowerCase(), name.toLowerCase()) <= Math.max(1, Math.floor(name.length / 4)));
  if (close.length > 0) return ` (did you mean ${close.slice(0, 3).map((c) => `'${c}'`).join(" or ")}?)`;
  return known.length > 0 ? `; known here: ${known.slice(0, 16).join(", ")}${known.length > 16 ? ", …" : ""}` : "";
}

/** Short text of a number for the debugger's views: 4 significant digits, exponent when tiny or huge. */
export function shortNumber(v: number): string {
  if (v !== v) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v === 0) return "0";
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace("e+", "e");
  return String(Number(v.toPrecision(4)));
}

/** Display text of a value: `[300, 64] ‖·‖ 5.6e-4` for a tensor, `0.4400` for a number. */
export function formatValue(v: DebugValue): string {
  if (typeof v === "number") return shortNumber(v);
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return `[${v.join(", ")}]`;
  if (isTensorValue(v)) {
    if (v.shape.length === 1 && v.shape[0] !== undefined && v.shape[0] <= 8) return `[${Array.from(v.data, shortNumber).join(", ")}]`;
    const bad = tensorProperty(v, "nonFinite") as number;
    return `${showShape(v.shape)} ‖·‖ ${shortNumber(tensorProperty(v, "norm") as number)}${bad > 0 ? ` ⚠ ${bad} non-finite` : ""}`;
  }
  return (v as ObjectValue).label;
}
