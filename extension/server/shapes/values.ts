/**
 * The abstract values of the static shape analysis: what the analysis knows about each value of a
 * model file without running it. A dimension is a number or unknown; a tensor is a shape (or an
 * unknown rank); objects (layers, arrays, object literals, instances) live in a heap addressed by
 * allocation id, so that a layer's `output` can change as the program runs.
 *
 * Everything that is not known is `unknown`, and every check in the analysis only fires on what is
 * known on every path that reaches it, so that "unknown" never becomes a false error.
 */
import type * as ts from "typescript";

/** A dimension: a whole number, or undefined when unknown. */
export type Dim = number | undefined;

/** Where a tensor came from, for messages that name both layers. */
export interface Origin {
  /** The layer whose field this tensor is (allocation id). */
  layer?: number;
  /** `output`, `dinputs`, … */
  field?: string;
  /** The expression that made it, e.g. `spiralData(100, 3)`. */
  text?: string;
}

/**
 * A tensor or a nested array of numbers (`arr`: a JavaScript array, which `tensor()` turns into a
 * tensor of the same shape). `shape` undefined: unknown rank.
 */
export interface TensorV {
  k: "tensor";
  shape: Dim[] | undefined;
  /** A JavaScript (nested) array of numbers rather than a Tensor. */
  arr?: boolean;
  /** The values of a short 1-D array (undefined where unknown). */
  vals?: Dim[];
  /** The largest value it certainly holds (class indices: `spiralData(n, 3)`'s y holds 2). */
  maxLabel?: number;
  /** Shape inferred by the book's rule (a gradient has its tensor's shape), not computed: never checked. */
  guess?: boolean;
  origin?: Origin;
  /** The array literal it was written as (for the "transpose" code action). */
  lit?: ts.ArrayLiteralExpression;
}

export interface NumV {
  k: "num";
  v?: number;
}
export interface BoolV {
  k: "bool";
  v?: boolean;
}
export interface StrV {
  k: "str";
  v?: string;
}
/** A heap object: array, object literal, class instance, layer, Sequential, optimizer. */
export interface RefV {
  k: "ref";
  id: number;
}
/** A function written in the model file (or a class's method), with the scope it closes over. */
export interface FnV {
  k: "fn";
  decl: ts.FunctionLikeDeclaration;
  scope: Scope;
  /** `this` of an arrow function's creation, or of a bound method. */
  self?: Value;
  /** The class whose method this is (for `super`). */
  home?: ClassV;
}
/** A class written in the model file. */
export interface ClassV {
  k: "class";
  decl: ts.ClassLikeDeclaration;
  scope: Scope;
  /** The class it extends: a model-file class, an engine class, or unknown. */
  base?: ClassV | BuiltinV;
  baseUnknown?: boolean;
}
/** Something the engine exports (`Dense`, `spiralData`, …), a known global (`Math.max`), or a method of an engine object. */
export interface BuiltinV {
  k: "builtin";
  name: string;
  /** For methods: the object they belong to. */
  self?: Value;
}

export type Value =
  | { k: "unknown" }
  /** A field never assigned on this path (a layer's `output` before its forward). Reads give unknown. */
  | { k: "unset" }
  | { k: "undef" }
  | NumV
  | BoolV
  | StrV
  | TensorV
  | RefV
  | FnV
  | ClassV
  | BuiltinV;

export const UNKNOWN: Value = { k: "unknown" };
export const UNSET: Value = { k: "unset" };
export const UNDEF: Value = { k: "undef" };
export const num = (v?: number): NumV => (v === undefined || !Number.isFinite(v) ? { k: "num" } : { k: "num", v });
export const bool = (v?: boolean): BoolV => (v === undefined ? { k: "bool" } : { k: "bool", v });
export const str = (v?: string): StrV => (v === undefined ? { k: "str" } : { k: "str", v });

/** A tensor value of a shape (copied). */
export function tensorOf(shape: readonly Dim[] | undefined, extra: Partial<TensorV> = {}): TensorV {
  return { k: "tensor", shape: shape === undefined ? undefined : [...shape], ...extra };
}

/** A lexical scope of the running program: names → binding ids (the declaring identifier's position). */
export class Scope {
  readonly names = new Map<string, number>();
  constructor(
    readonly parent: Scope | undefined,
    /** A function's (or the file's) scope, where `var` lives. */
    readonly isFunction: boolean,
  ) {}

  lookup(name: string): number | undefined {
    const id = this.names.get(name);
    if (id !== undefined) return id;
    return this.parent?.lookup(name);
  }
}

// ------------------------------------------------------------------ shapes

export function isKnownShape(s: readonly Dim[] | undefined): s is number[] {
  return s !== undefined && s.every((d) => d !== undefined);
}

export function sizeOfShape(s: readonly Dim[] | undefined): Dim {
  if (!isKnownShape(s)) return undefined;
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

/** `[300, 3]`, with `?` for unknown dimensions and `[?]` … for an unknown rank. */
export function shapeText(s: readonly Dim[] | undefined): string {
  if (s === undefined) return "[…]";
  return `[${s.map((d) => (d === undefined ? "?" : String(d))).join(", ")}]`;
}

/** True when the value's shape is known in full and was computed, not guessed. */
export function hardShape(v: Value | undefined): v is TensorV & { shape: number[] } {
  return v !== undefined && v.k === "tensor" && !v.guess && isKnownShape(v.shape);
}

/** The tensor a value stands for when passed where the engine expects a tensor, or undefined when it cannot tell. */
export function asTensor(v: Value | undefined): TensorV | undefined {
  return v !== undefined && v.k === "tensor" ? v : undefined;
}

// ------------------------------------------------------------------ join and equality

function joinDims(a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): Dim[] | undefined {
  if (a === undefined || b === undefined || a.length !== b.length) return undefined;
  return a.map((d, i) => (d === b[i] ? d : undefined));
}

function sameOrigin(a: Origin | undefined, b: Origin | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.layer === b.layer && a.field === b.field && a.text === b.text;
}

/**
 * What is true of a value on both of two paths. A field that one path never set takes the other
 * path's value (reading it unset would fail for a reason that is not a shape).
 */
export function join(a: Value, b: Value): Value {
  if (a === b) return a;
  if (a.k === "unset") return b;
  if (b.k === "unset") return a;
  if (a.k !== b.k) return UNKNOWN;
  switch (a.k) {
    case "num":
      return a.v === (b as NumV).v ? a : num();
    case "bool":
      return a.v === (b as BoolV).v ? a : bool();
    case "str":
      return a.v === (b as StrV).v ? a : str();
    case "ref":
      return a.id === (b as RefV).id ? a : UNKNOWN;
    case "fn":
      return a.decl === (b as FnV).decl ? a : UNKNOWN;
    case "class":
      return a.decl === (b as ClassV).decl ? a : UNKNOWN;
    case "builtin": {
      const o = b as BuiltinV;
      return a.name === o.name && (a.self === o.self || (a.self !== undefined && o.self !== undefined && equal(a.self, o.self))) ? a : UNKNOWN;
    }
    case "tensor": {
      const o = b as TensorV;
      const out: TensorV = { k: "tensor", shape: joinDims(a.shape, o.shape) };
      if (a.arr && o.arr) out.arr = true;
      if (a.guess || o.guess) out.guess = true;
      if (a.vals && o.vals && a.vals.length === o.vals.length) out.vals = a.vals.map((v, i) => (v === o.vals?.[i] ? v : undefined));
      if (a.maxLabel !== undefined && o.maxLabel !== undefined) out.maxLabel = Math.min(a.maxLabel, o.maxLabel);
      if (sameOrigin(a.origin, o.origin) && a.origin) out.origin = a.origin;
      if (a.lit && a.lit === o.lit) out.lit = a.lit;
      return out;
    }
    default:
      return a;
  }
}

/** Structural equality (for loop fixpoints). */
export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a.k !== b.k) return false;
  switch (a.k) {
    case "num":
      return a.v === (b as NumV).v;
    case "bool":
      return a.v === (b as BoolV).v;
    case "str":
      return a.v === (b as StrV).v;
    case "ref":
      return a.id === (b as RefV).id;
    case "fn":
      return a.decl === (b as FnV).decl;
    case "class":
      return a.decl === (b as ClassV).decl;
    case "builtin":
      return a.name === (b as BuiltinV).name && (a.self === (b as BuiltinV).self || (a.self !== undefined && (b as BuiltinV).self !== undefined && equal(a.self, (b as BuiltinV).self as Value)));
    case "tensor": {
      const o = b as TensorV;
      const sa = a.shape;
      const sb = o.shape;
      if ((sa === undefined) !== (sb === undefined)) return false;
      if (sa && sb && (sa.length !== sb.length || sa.some((d, i) => d !== sb[i]))) return false;
      if (!!a.arr !== !!o.arr || !!a.guess !== !!o.guess || a.maxLabel !== o.maxLabel || a.lit !== o.lit) return false;
      if ((a.vals === undefined) !== (o.vals === undefined)) return false;
      if (a.vals && o.vals && (a.vals.length !== o.vals.length || a.vals.some((v, i) => v !== o.vals?.[i]))) return false;
      return sameOrigin(a.origin, o.origin);
    }
    default:
      return true;
  }
}

// ------------------------------------------------------------------ the heap and the state

/**
 * A map that copies in constant time: the entries set since the last copy sit in `own`, over a
 * frozen parent shared with the copy. Joining or comparing two maps that share a parent only looks
 * at what each set above it (in a loop, what the body changed), not at every binding of the file.
 * Values are never undefined (nothing is deleted).
 */
export class LMap<V> {
  private own = new Map<number, V>();
  private parent: LMap<V> | undefined;
  private depth = 0;
  /** A frozen layer's memo of values found below it (a frozen layer never changes, so they stay right). */
  private found: Map<number, V> | undefined;

  constructor(parent?: LMap<V>) {
    this.parent = parent;
    this.depth = parent ? parent.depth + 1 : 0;
  }

  get(k: number): V | undefined {
    const v = this.own.get(k);
    if (v !== undefined) return v;
    return this.parent?.frozenGet(k);
  }

  /** A lookup in a frozen layer: memoised, so a binding made early in the file is found in two steps. */
  private frozenGet(k: number): V | undefined {
    const v = this.own.get(k) ?? this.found?.get(k);
    if (v !== undefined) return v;
    let w: V | undefined;
    for (let m = this.parent; m; m = m.parent) {
      w = m.own.get(k) ?? m.found?.get(k);
      if (w !== undefined) break;
    }
    if (w !== undefined) (this.found ??= new Map()).set(k, w);
    return w;
  }

  /** This map's layers, newest first. */
  private *layers(): IterableIterator<LMap<V>> {
    yield this;
    for (let m = this.parent; m; m = m.parent) yield m;
  }

  set(k: number, v: V): void {
    this.own.set(k, v);
  }

  /** A copy; this map and the copy then change independently. */
  fork(): LMap<V> {
    if (this.own.size === 0) return new LMap<V>(this.parent);
    const frozen = new LMap<V>(this.parent);
    frozen.own = this.own;
    frozen.depth = this.depth;
    if (frozen.depth > 64) frozen.flatten();
    this.own = new Map();
    this.parent = frozen;
    this.depth = frozen.depth + 1;
    return new LMap<V>(frozen);
  }

  private flatten(): void {
    // Oldest layer first, newer values overwrite.
    const chain: Map<number, V>[] = [];
    for (let m: LMap<V> | undefined = this.parent; m; m = m.parent) chain.push(m.own);
    const all = new Map<number, V>();
    for (let i = chain.length - 1; i >= 0; i--) for (const [k, v] of chain[i] as Map<number, V>) all.set(k, v);
    for (const [k, v] of this.own) all.set(k, v);
    this.own = all;
    this.parent = undefined;
    this.depth = 0;
  }

  /** Every entry (the newest value of each key). */
  *entries(): IterableIterator<[number, V]> {
    const seen = new Set<number>();
    for (const m of this.layers()) {
      for (const [k, v] of m.own) {
        if (seen.has(k)) continue;
        seen.add(k);
        yield [k, v];
      }
    }
  }

  *keys(): IterableIterator<number> {
    for (const [k] of this.entries()) yield k;
  }

  get size(): number {
    let n = 0;
    for (const _ of this.entries()) n++;
    return n;
  }

  /** The keys set in this map's layers above `stop` (all of them when `stop` is undefined). */
  keysAbove(stop: LMap<V> | undefined, into: Set<number>): void {
    for (const m of this.layers()) {
      if (m === stop) return;
      for (const k of m.own.keys()) into.add(k);
    }
  }

  /** The nearest layer both maps share, if any. */
  static common<V>(a: LMap<V>, b: LMap<V>): LMap<V> | undefined {
    // Layers form a tree and each knows its depth: climb the deeper one, then both together.
    let x: LMap<V> | undefined = a;
    let y: LMap<V> | undefined = b;
    while (x && y && x.depth > y.depth) x = x.parent;
    while (x && y && y.depth > x.depth) y = y.parent;
    while (x && y && x !== y) {
      x = x.parent;
      y = y.parent;
    }
    return x && x === y ? x : undefined;
  }

  /** The keys where two maps may differ: those either set above their shared (frozen) layer. */
  static changed<V>(a: LMap<V>, b: LMap<V>): { base: LMap<V> | undefined; keys: Set<number> } {
    // Two states never share a live map (a copy forks it), so a shared layer is a frozen one.
    const base = a === b ? undefined : LMap.common(a, b);
    const keys = new Set<number>();
    a.keysAbove(base, keys);
    if (a !== b) b.keysAbove(base, keys);
    return { base, keys };
  }
}

/** The mutable part of a heap object. */
export interface ObjState {
  fields: Map<string, Value>;
  /** Array elements; undefined when the length is not known (then `elem` is what any element may be). */
  elems?: Value[];
  elem?: Value;
  /** The token of the state that may write this object in place (copy on write). */
  owner: object;
}

/**
 * The program state at one point: the value of every binding and the mutable part of every heap
 * object. Cloning is cheap (layered maps, copy on write per object); a dead state is one that no
 * path reaches (after `return`, `throw`, `break`).
 */
export class State {
  vars: LMap<Value>;
  heap: LMap<ObjState>;
  dead = false;
  /** The engine certainly threw on this path already (a shape error): later findings would only echo it. */
  failed = false;
  /** Objects owned by this token are written in place; cloning gives both states new tokens. */
  token: object = {};

  constructor(vars?: LMap<Value>, heap?: LMap<ObjState>) {
    this.vars = vars ?? new LMap();
    this.heap = heap ?? new LMap();
  }

  clone(): State {
    const s = new State(this.vars.fork(), this.heap.fork());
    s.dead = this.dead;
    s.failed = this.failed;
    this.token = {};
    return s;
  }

  /** Makes this state the other one (which must not be used afterwards). */
  replaceWith(other: State): void {
    this.vars = other.vars;
    this.heap = other.heap;
    this.token = other.token;
    this.dead = other.dead;
    this.failed = other.failed;
  }

  get(id: number): ObjState | undefined {
    return this.heap.get(id);
  }

  /** The object for writing (copied first when another state shares it). */
  write(id: number): ObjState {
    let o = this.heap.get(id);
    if (!o) {
      o = { fields: new Map(), owner: this.token };
      this.heap.set(id, o);
    } else if (o.owner !== this.token) {
      o = { fields: new Map(o.fields), ...(o.elems ? { elems: [...o.elems] } : {}), ...(o.elem ? { elem: o.elem } : {}), owner: this.token };
      this.heap.set(id, o);
    }
    return o;
  }

  field(id: number, name: string): Value | undefined {
    return this.heap.get(id)?.fields.get(name);
  }

  setField(id: number, name: string, v: Value): void {
    this.write(id).fields.set(name, v);
  }
}

/** The state on either of two paths (a dead one contributes nothing). */
export function joinStates(a: State, b: State): State {
  if (a.dead) return b;
  if (b.dead) return a;
  // Neither may write the objects the result shares with it from now on.
  a.token = {};
  b.token = {};
  const out = new State();
  out.failed = a.failed && b.failed;
  {
    const { base, keys } = LMap.changed(a.vars, b.vars);
    out.vars = new LMap(base);
    for (const k of keys) {
      const v = a.vars.get(k);
      const w = b.vars.get(k);
      out.vars.set(k, v === undefined ? (w as Value) : w === undefined ? v : join(v, w));
    }
  }
  {
    const { base, keys } = LMap.changed(a.heap, b.heap);
    out.heap = new LMap(base);
    for (const k of keys) {
      const oa = a.heap.get(k);
      const ob = b.heap.get(k);
      out.heap.set(k, !oa ? (ob as ObjState) : !ob || oa === ob ? oa : joinObj(oa, ob, out.token));
    }
  }
  return out;
}

function joinObj(a: ObjState, b: ObjState, owner: object): ObjState {
  const fields = new Map<string, Value>();
  for (const [k, v] of a.fields) {
    const w = b.fields.get(k);
    fields.set(k, w === undefined ? v : join(v, w));
  }
  for (const [k, w] of b.fields) if (!a.fields.has(k)) fields.set(k, w);
  const o: ObjState = { fields, owner };
  if (a.elems && b.elems && a.elems.length === b.elems.length) o.elems = a.elems.map((v, i) => join(v, b.elems?.[i] as Value));
  else {
    const all = [...(a.elems ?? []), ...(b.elems ?? []), ...(a.elem ? [a.elem] : []), ...(b.elem ? [b.elem] : [])];
    if (all.length > 0) o.elem = all.reduce(join);
  }
  return o;
}

function objEqual(oa: ObjState, ob: ObjState): boolean {
  if (oa === ob) return true;
  if (oa.fields.size !== ob.fields.size) return false;
  for (const [k, v] of oa.fields) {
    const w = ob.fields.get(k);
    if (w === undefined || !equal(v, w)) return false;
  }
  if ((oa.elems === undefined) !== (ob.elems === undefined)) return false;
  if (oa.elems && ob.elems && (oa.elems.length !== ob.elems.length || oa.elems.some((v, i) => !equal(v, ob.elems?.[i] as Value)))) return false;
  if ((oa.elem === undefined) !== (ob.elem === undefined) || (oa.elem && ob.elem && !equal(oa.elem, ob.elem))) return false;
  return true;
}

export function statesEqual(a: State, b: State): boolean {
  if (a.dead !== b.dead || a.failed !== b.failed) return false;
  {
    const { keys } = LMap.changed(a.vars, b.vars);
    for (const k of keys) {
      const v = a.vars.get(k);
      const w = b.vars.get(k);
      if (v === undefined || w === undefined || !equal(v, w)) return false;
    }
  }
  const { keys } = LMap.changed(a.heap, b.heap);
  for (const k of keys) {
    const oa = a.heap.get(k);
    const ob = b.heap.get(k);
    if (!oa || !ob || !objEqual(oa, ob)) return false;
  }
  return true;
}

/** `b` where it agrees with `a`, unknown elsewhere: ends a loop that does not settle. */
export function widen(a: State, b: State): State {
  const out = joinStates(a, b);
  const vk = LMap.changed(a.vars, out.vars).keys;
  for (const k of vk) {
    const v = out.vars.get(k);
    const w = a.vars.get(k);
    if (v !== undefined && (w === undefined || !equal(v, w))) out.vars.set(k, UNKNOWN);
  }
  const hk = LMap.changed(a.heap, out.heap).keys;
  for (const id of hk) {
    const o = out.heap.get(id);
    if (!o) continue;
    const prev = a.heap.get(id);
    const w = out.write(id);
    for (const [k, v] of o.fields) {
      const p = prev?.fields.get(k);
      if (p === undefined || !equal(v, p)) w.fields.set(k, UNKNOWN);
    }
    if (o.elems && (!prev?.elems || prev.elems.length !== o.elems.length || o.elems.some((v, i) => !equal(v, prev.elems?.[i] as Value)))) {
      delete w.elems;
      w.elem = UNKNOWN;
    }
  }
  return out;
}

/** Whether a value is truthy, or undefined when unknown. */
export function truthy(v: Value): boolean | undefined {
  switch (v.k) {
    case "num":
      return v.v === undefined ? undefined : v.v !== 0 && !Number.isNaN(v.v);
    case "bool":
      return v.v;
    case "str":
      return v.v === undefined ? undefined : v.v !== "";
    case "undef":
      return false;
    case "ref":
    case "fn":
    case "class":
    case "tensor":
      return true;
    default:
      return undefined;
  }
}
