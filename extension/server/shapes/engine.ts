/**
 * The engine's API as the shape analysis sees it: what each constructor, layer method and function
 * of "backprop-lens" (core/index.ts) does to shapes, and when it certainly throws. The checks
 * mirror the engine's own (core/layers/*.ts, core/ops/ops.ts, core/tensor.ts): a diagnostic here is
 * an error the engine would raise at that call, found before running.
 *
 * Known JavaScript globals (Math, Array.from, console, …) and array methods are modelled too, as
 * far as shapes need them.
 */
import ts from "typescript";
import type { AllocInfo, Analyzer } from "./interpreter";
import type { FixSpec } from "./record";
import { propName, unwrap } from "./syntax";
import { type LayerKindName, type LayerLabel, STATIC_NOTE, backwardFormulas, callMarkdown, forwardFormulas, hintShape, layerTitle, valueText } from "./render";
import {
  type BuiltinV,
  type Dim,
  type RefV,
  type State,
  type TensorV,
  UNDEF,
  UNKNOWN,
  UNSET,
  type Value,
  bool,
  hardShape,
  isKnownShape,
  join,
  num,
  shapeText,
  sizeOfShape,
  str,
  tensorOf,
  truthy,
} from "./values";

// ------------------------------------------------------------------ what the engine exports

const LAYER_KINDS: Record<string, LayerKindName> = {
  Layer: "custom",
  Dense: "dense",
  ReLU: "relu",
  Softmax: "softmax",
  SoftmaxCategoricalCrossentropy: "softmax-cce",
  CategoricalCrossentropy: "cce",
};
const OPTIMIZERS = new Set(["Optimizer", "SGD", "Adam"]);
const OTHER_CLASSES = new Set(["Rng", "Value", "ShapeError", "NonFiniteError", "TensorTooLargeError", "ArgumentError"]);

/**
 * Every runtime export of core/index.ts, modelled or not (a test checks this list against the engine).
 * Exports without a shape effect (formatting, scalar values, gradient checks) return unknown values.
 */
export const ENGINE_FUNCTIONS = new Set([
  "tensor", "zeros", "full", "fromData", "clone", "reshape", "toArray", "at", "sizeOf", "isTensor", "sameShape", "expectShape", "rowsOf", "colsOf",
  "dot", "transpose", "addRowInPlace", "sumRows", "sumCols", "map", "zip", "addScaled", "addScaledInPlace", "scale", "argmaxRows", "mean", "maxAbsDiff",
  "gemm", "seed", "defaultRng", "randn", "uniform", "spiralData", "verticalData", "isLayer", "adoptLayer", "softmaxRows", "softmaxJacobian", "softmaxBackward",
  "accuracy", "compareSoftmaxCcePaths", "readTargets", "classIndices", "value", "mul", "sum", "relu", "max", "topologicalOrder",
  "gradCheckLayer", "gradCheckModel", "checkTensor", "formatTensor", "formatNumber",
]);
export const ENGINE_CLASSES = new Set([...Object.keys(LAYER_KINDS), ...OPTIMIZERS, ...OTHER_CLASSES, "Sequential"]);
export const ENGINE_CONSTANTS = new Set(["CLIP"]);

/** The value of `import { name } from "backprop-lens"`. */
export function engineExport(name: string): Value {
  if (ENGINE_FUNCTIONS.has(name) || ENGINE_CLASSES.has(name)) return { k: "builtin", name };
  if (name === "CLIP") return num(1e-7);
  return UNKNOWN;
}

const LAYER_CLASS_NAMES = new Set(Object.keys(LAYER_KINDS));

export function isLayerClass(name: string): boolean {
  return LAYER_CLASS_NAMES.has(name);
}

export function layerKindOf(name: string): LayerKindName {
  return LAYER_KINDS[name] ?? "custom";
}

export function builtinKind(name: string): AllocInfo["kind"] {
  if (isLayerClass(name)) return "layer";
  if (OPTIMIZERS.has(name)) return "optimizer";
  if (name === "Sequential") return "sequential";
  return "instance";
}

const GLOBALS = new Set(["Math", "Array", "console", "Number", "JSON", "Object", "String", "performance", "Date", "Float64Array", "Float32Array", "Int32Array", "require", "parseInt", "parseFloat", "isNaN", "isFinite", "Boolean", "Error", "process"]);

/** An identifier the file does not declare. */
export function globalValue(name: string): Value {
  if (name === "undefined") return UNDEF;
  if (name === "NaN" || name === "Infinity") return num();
  if (GLOBALS.has(name)) return { k: "builtin", name: `global:${name}` };
  return UNKNOWN;
}

// ------------------------------------------------------------------ tensors and arrays

/** The tensor a value is when the engine reads it as one (a Tensor, nested arrays, a Float64Array), or undefined. */
export function asTensorLike(an: Analyzer, v: Value | undefined, st: State): TensorV | undefined {
  if (!v) return undefined;
  if (v.k === "tensor") return v;
  if (v.k !== "ref" || an.info(v)?.kind !== "array") return undefined;
  const o = st.get(v.id);
  if (!o) return undefined;
  if (o.elems) return arrayOf(o.elems, undefined);
  const e = o.elem;
  if (e?.k === "num") return tensorOf([undefined], { arr: true });
  if (e?.k === "tensor" && e.arr && e.shape) return tensorOf([undefined, ...e.shape], { arr: true });
  return undefined;
}

/** A nested array of numbers from its elements, or undefined when they are not all numbers or rows. */
function arrayOf(elems: readonly Value[], lit: ts.ArrayLiteralExpression | undefined): TensorV | undefined {
  if (elems.length === 0) return tensorOf([0], { arr: true, vals: [] });
  if (elems.every((e) => e.k === "num")) {
    const vals = elems.map((e) => (e as { v?: number }).v);
    const t: TensorV = tensorOf([elems.length], { arr: true });
    if (vals.length <= 4096) t.vals = vals;
    if (vals.every((x) => x !== undefined && Number.isInteger(x) && x >= 0)) t.maxLabel = Math.max(...(vals as number[]));
    if (lit) t.lit = lit;
    return t;
  }
  if (elems.every((e) => e.k === "tensor" && e.arr && e.shape !== undefined)) {
    const rows = elems as TensorV[];
    const rank = (rows[0]?.shape as Dim[]).length;
    if (!rows.every((r) => r.shape?.length === rank)) return undefined;
    const inner = (rows[0]?.shape as Dim[]).map((d, i) => (rows.every((r) => r.shape?.[i] === d) ? d : undefined));
    const t = tensorOf([elems.length, ...inner], { arr: true });
    if (lit) t.lit = lit;
    if (rows.some((r) => r.guess)) t.guess = true;
    return t;
  }
  return undefined;
}

/** An array literal: a nested array of numbers (a tensor-like value) or an array object. */
export function arrayLiteral(an: Analyzer, node: ts.ArrayLiteralExpression, elems: Value[], st: State): Value {
  if (elems.length > 0) {
    const t = arrayOf(elems, node);
    if (t) return t;
  }
  const ref = an.alloc(node, { kind: "array" });
  st.write(ref.id).elems = elems;
  return ref;
}

function newArray(an: Analyzer, node: ts.Node, elems: Value[] | undefined, st: State, elem?: Value): RefV {
  const ref = an.alloc(node, { kind: "array" });
  const w = st.write(ref.id);
  if (elems) {
    w.elems = elems;
    delete w.elem;
  } else {
    delete w.elems;
    w.elem = elem ?? UNKNOWN;
  }
  return ref;
}

/** A row of a nested array (or an element of a 1-D one). */
function rowOf(t: TensorV, i?: number): Value {
  if (t.shape === undefined) return UNKNOWN;
  if (t.shape.length <= 1) return num(i === undefined ? undefined : t.vals?.[i]);
  return tensorOf(t.shape.slice(1), { arr: true, ...(t.guess ? { guess: true } : {}) });
}

/** The elements of an array whose elements are known one by one (short arrays), else undefined. */
export function elementsOf(an: Analyzer, v: Value, st: State): Value[] | undefined {
  if (v.k === "ref") {
    const o = st.get(v.id);
    return an.info(v)?.kind === "array" && o?.elems ? o.elems : undefined;
  }
  if (v.k === "tensor" && v.arr && v.shape?.[0] !== undefined && v.shape[0] <= 64) {
    const n = v.shape[0];
    return Array.from({ length: n }, (_, i) => rowOf(v, i));
  }
  return undefined;
}

/** What any element of an array may be. */
export function elementOf(an: Analyzer, v: Value, st: State): Value {
  if (v.k === "ref") {
    const o = st.get(v.id);
    if (!o || an.info(v)?.kind !== "array") return UNKNOWN;
    if (o.elems) return o.elems.length ? o.elems.reduce(join) : UNKNOWN;
    return o.elem ?? UNKNOWN;
  }
  if (v.k === "tensor" && v.arr) return rowOf(v);
  if (v.k === "str") return str();
  return UNKNOWN;
}

/** `obj[i]` */
export function indexValue(an: Analyzer, obj: Value, idx: Value, st: State): Value {
  const i = idx.k === "num" ? idx.v : undefined;
  if (obj.k === "ref") {
    const info = an.info(obj);
    const o = st.get(obj.id);
    if (info?.kind === "array") {
      if (o?.elems) {
        if (i !== undefined) return o.elems[i] ?? UNDEF;
        return o.elems.length ? o.elems.reduce(join) : UNKNOWN;
      }
      return o?.elem ?? UNKNOWN;
    }
    if (i !== undefined) return o?.fields.get(String(i)) ?? UNKNOWN;
    return UNKNOWN;
  }
  if (obj.k === "tensor" && obj.arr) {
    if (i !== undefined && obj.shape?.[0] !== undefined && (i < 0 || i >= obj.shape[0])) return UNDEF;
    return rowOf(obj, i);
  }
  if (obj.k === "str") return str();
  return UNKNOWN;
}

/** `obj[i] = v` */
export function setIndexed(an: Analyzer, obj: Value, idx: Value, v: Value, st: State): void {
  if (obj.k !== "ref") return;
  const info = an.info(obj);
  const i = idx.k === "num" ? idx.v : undefined;
  if (info?.kind !== "array") {
    if (i !== undefined) st.setField(obj.id, String(i), v);
    return;
  }
  const w = st.write(obj.id);
  if (w.elems) {
    if (i !== undefined && Number.isInteger(i) && i >= 0 && i < w.elems.length) w.elems[i] = v;
    else if (i !== undefined && i === w.elems.length) w.elems.push(v);
    else {
      w.elem = [...w.elems, v].reduce(join);
      delete w.elems;
    }
  } else w.elem = w.elem ? join(w.elem, v) : v;
}

/** Dimensions from a shape argument (`[256, 784]`, `x.shape`), undefined when not an array. */
function dimsOf(an: Analyzer, v: Value | undefined, st: State): Dim[] | undefined {
  if (!v) return undefined;
  if (v.k === "tensor" && v.arr && v.shape?.length === 1) {
    const n = v.shape[0];
    if (v.vals && v.vals.length === n) return [...v.vals];
    return n === undefined ? undefined : Array.from({ length: n }, () => undefined);
  }
  if (v.k === "ref") {
    const elems = elementsOf(an, v, st);
    if (elems) return elems.map((e) => (e.k === "num" ? e.v : undefined));
  }
  return undefined;
}

/** `[300, 2]`, `≈[300, 2]` for an inferred shape. */
export function shapeLabel(v: TensorV): string {
  return hintShape(v);
}

// ------------------------------------------------------------------ layers: names and texts

/** The layer's name as the runner gives it: its variable, else `ClassName#n` (n: construction order). */
export function layerName(a: AllocInfo | undefined): string {
  if (!a) return "layer";
  return a.name ?? `${a.className ?? "Layer"}${a.ordinal !== undefined ? `#${a.ordinal}` : ""}`;
}

export function layerLabel(an: Analyzer, id: number): LayerLabel {
  const a = an.allocs.get(id);
  return { name: layerName(a), description: a?.description ?? a?.className ?? "layer", kind: a?.layerKind ?? "custom" };
}

function nameOf(an: Analyzer, id: number | undefined): string {
  if (id === undefined) return "the layer";
  return layerLabel(an, id).name;
}

/** `Dense(2, 3)` from the constructor's numbers (as the runner describes layers). */
export function describeLayer(an: Analyzer, obj: RefV, st: State): void {
  const a = an.allocs.get(obj.id);
  if (!a) return;
  const nIn = st.field(obj.id, "nInputs");
  const nOut = st.field(obj.id, "nNeurons");
  const cls = a.className ?? a.builtin ?? "Layer";
  a.description = nIn?.k === "num" && nOut?.k === "num" ? `${cls}(${nIn.v ?? "?"}, ${nOut.v ?? "?"})` : cls;
}

/** Where a tensor came from, for messages: the layer field, and the last layer with neurons before it. */
function provenance(an: Analyzer, v: TensorV | undefined, st: State): { text?: string; through: string[]; neurons?: { id: number; n: number } } {
  const through: string[] = [];
  let cur = v;
  let text: string | undefined;
  for (let hops = 0; cur?.origin && hops < 12; hops++) {
    const o = cur.origin;
    if (o.text) {
      text ??= o.text;
      break;
    }
    if (o.layer === undefined) break;
    const a = an.allocs.get(o.layer);
    text ??= `${nameOf(an, o.layer)}.${o.field ?? "output"}`;
    if (o.field !== "output") break;
    if (a?.layerKind === "dense") {
      const n = st.field(o.layer, "nNeurons");
      if (n?.k === "num" && n.v !== undefined) return { text, through, neurons: { id: o.layer, n: n.v } };
      break;
    }
    if (a?.layerKind === "relu" || a?.layerKind === "softmax" || a?.layerKind === "custom") {
      through.push(nameOf(an, o.layer));
      const inputs = st.field(o.layer, "inputs");
      cur = inputs?.k === "tensor" ? inputs : undefined;
      continue;
    }
    break;
  }
  return { ...(text !== undefined ? { text } : {}), through };
}

/** Hover of a tensor value. */
export function valueMarkdown(an: Analyzer, label: string, v: TensorV): string {
  let from: string | undefined;
  if (v.origin?.text && v.origin.text !== label) from = `\`${v.origin.text.replace(/`/g, "'")}\``;
  else if (v.origin?.layer !== undefined) {
    const a = an.allocs.get(v.origin.layer);
    const text = `${a?.name ?? "layer"}.${v.origin.field}`;
    if (text !== label) from = `\`${text}\` (${a?.description ?? "layer"})`;
  }
  return valueText(label, v, from);
}

/** Hover of a layer value: what it is and its shapes at this point of the program (made when shown). */
export function layerMarkdown(an: Analyzer, id: number, st: State): () => string {
  const fields: [string, TensorV][] = [];
  for (const f of ["weights", "biases", "inputs", "output", "dvalues", "dinputs", "dweights", "dbiases"]) {
    const v = st.field(id, f);
    if (v?.k === "tensor" && v.shape !== undefined) fields.push([f, v]);
  }
  return () => {
    const out = [layerTitle(layerLabel(an, id))];
    if (fields.length > 0) out.push(fields.map(([f, v]) => `${f} \`${hintShape(v)}\``).join(" · "));
    out.push(STATIC_NOTE);
    return out.join("\n\n");
  };
}

/** Hover of an array of layers (`[dense1, relu1, dense2]`). */
export function arrayMarkdown(an: Analyzer, label: string, id: number, st: State): (() => string) | undefined {
  const elems = st.get(id)?.elems;
  if (!elems || elems.length === 0 || elems.length > 16) return undefined;
  const ids = elems.map((e) => (e.k === "ref" && an.info(e)?.kind === "layer" ? e.id : undefined));
  if (ids.some((n) => n === undefined)) return undefined;
  return () => {
    const names = (ids as number[]).map((i) => layerLabel(an, i));
    return `\`${label.replace(/`/g, "'")}\`: ${names.map((n) => `\`${n.name}\` ${n.description}`).join(" → ")}\n\n${STATIC_NOTE}`;
  };
}

// ------------------------------------------------------------------ members of values that are not heap objects

/** `x.name` where x is not a heap object (a tensor, a string, the engine's namespace, a global). */
export function valueMember(v: Value, name: string): Value {
  if (v.k === "tensor") {
    if (name === "shape") {
      if (v.shape === undefined) return tensorOf([undefined], { arr: true });
      return tensorOf([v.shape.length], { arr: true, vals: [...v.shape] });
    }
    if (name === "data") return tensorOf([sizeOfShape(v.shape)], { arr: true });
    if (v.arr) {
      if (name === "length") return num(v.shape?.[0]);
      return { k: "builtin", name: `Array#${name}`, self: v };
    }
    return UNKNOWN;
  }
  if (v.k === "str") {
    if (name === "length") return num(v.v?.length);
    return { k: "builtin", name: "String.method" };
  }
  if (v.k === "builtin") {
    if (v.name === "ns:backprop-lens") return engineExport(name);
    if (v.name === "global:Math") {
      const c = (Math as unknown as Record<string, unknown>)[name];
      if (typeof c === "number") return num(c);
      return { k: "builtin", name: `Math.${name}` };
    }
    if (v.name.startsWith("global:")) return { k: "builtin", name: `${v.name.slice(7)}.${name}` };
  }
  return UNKNOWN;
}

/** A member of an engine object (layer, Sequential, optimizer, generator) that is not one of its fields. */
export function builtinMember(info: AllocInfo, obj: RefV, name: string): Value {
  const b = info.builtin ?? "";
  if (isLayerClass(b)) {
    if (name === "kind") return str(info.layerKind);
    if (name === "name") return str(info.name);
    if (["forward", "backward", "calculate", "jacobian", "params", "paramNames"].includes(name)) {
      if (b === "Layer" && (name === "forward" || name === "backward")) return UNKNOWN;
      return { k: "builtin", name: `${b}.${name}`, self: obj };
    }
    return UNKNOWN;
  }
  if (b === "Sequential" && ["predict", "forward", "backward", "trainStep"].includes(name)) return { k: "builtin", name: `Sequential.${name}`, self: obj };
  if (OPTIMIZERS.has(b)) {
    if (name === "currentLearningRate" || name === "learningRate" || name === "iterations") return num();
    return { k: "builtin", name: "Optimizer.method", self: obj };
  }
  if (b === "Rng") return { k: "builtin", name: "Rng.method", self: obj };
  return UNKNOWN;
}

// ------------------------------------------------------------------ construction

/** `new X(…)` of an engine class (or a known global class). */
export function constructBuiltin(an: Analyzer, name: string, args: Value[], node: ts.NewExpression, st: State, named?: { name: string; decl: ts.Node }): Value {
  if (isLayerClass(name)) {
    if (name === "Layer") return UNKNOWN;
    const obj = an.alloc(node, {
      kind: "layer",
      builtin: name,
      layerKind: layerKindOf(name),
      className: name,
      ...(named ? { name: named.name, declNode: named.decl } : {}),
      ...(node.arguments ? { args: node.arguments } : {}),
    });
    st.write(obj.id);
    constructBuiltinInto(an, name, obj, args, node, st);
    describeLayer(an, obj, st);
    return obj;
  }
  if (name === "Sequential") {
    const obj = an.alloc(node, { kind: "sequential", builtin: name, className: name, ...(named ? { name: named.name } : {}) });
    const layers = args[0] ?? UNDEF;
    const elems = elementsOf(an, layers, st);
    if (elems && elems.length === 0) {
      an.diag({ node, severity: "error", code: "sequential", message: "Sequential: give at least one layer" });
    }
    let loss = args[1];
    if (!loss || loss.k === "undef") {
      loss = an.alloc(node.expression, { kind: "layer", builtin: "SoftmaxCategoricalCrossentropy", layerKind: "softmax-cce", className: "SoftmaxCategoricalCrossentropy", name: "loss", description: "SoftmaxCategoricalCrossentropy" });
      st.write(loss.id);
      constructBuiltinInto(an, "SoftmaxCategoricalCrossentropy", loss, [], node, st);
    }
    st.setField(obj.id, "layers", layers);
    st.setField(obj.id, "loss", loss);
    return obj;
  }
  if (OPTIMIZERS.has(name)) {
    const obj = an.alloc(node, { kind: "optimizer", builtin: name, className: name });
    st.setField(obj.id, "currentLearningRate", num());
    return obj;
  }
  if (name === "Rng" || OTHER_CLASSES.has(name)) return an.alloc(node, { kind: "other", builtin: name, className: name });
  if (name === "global:Float64Array" || name === "global:Float32Array" || name === "global:Int32Array") {
    const a = args[0];
    if (a?.k === "num") return tensorOf([a.v], { arr: true });
    const t = asTensorLike(an, a, st);
    return t ? tensorOf([sizeOfShape(t.shape)], { arr: true }) : tensorOf([undefined], { arr: true });
  }
  if (name === "global:Array") {
    const a = args[0];
    if (args.length === 1 && a?.k === "num") return newArray(an, node, a.v !== undefined && a.v <= 4096 ? Array.from({ length: a.v }, () => UNDEF) : undefined, st);
    return newArray(an, node, args, st);
  }
  if (name === "global:Error") return an.alloc(node, { kind: "other" });
  an.havoc(args, st);
  return UNKNOWN;
}

/** The engine constructor's work on an object (also `super(…)` of a user class extending an engine class). */
export function constructBuiltinInto(an: Analyzer, name: string, obj: RefV, args: Value[], node: ts.Node, st: State): void {
  if (name === "Dense") return constructDense(an, obj, args, node, st);
  if (isLayerClass(name)) {
    for (const f of ["inputs", "output", "dinputs"]) if (st.field(obj.id, f) === undefined) st.setField(obj.id, f, UNSET);
    if (name === "SoftmaxCategoricalCrossentropy") st.setField(obj.id, "loss", num());
  }
}

function constructDense(an: Analyzer, obj: RefV, args: Value[], node: ts.Node, st: State): void {
  const a = args[0];
  const b = args[1];
  const nIn = a?.k === "num" ? a.v : undefined;
  const nOut = b?.k === "num" ? b.v : undefined;
  const desc = `Dense(${nIn ?? "?"}, ${nOut ?? "?"})`;
  const bad = (v: number | undefined): boolean => v !== undefined && (!Number.isInteger(v) || v < 1);
  if (bad(nIn) || bad(nOut)) {
    an.diag({ node, severity: "error", code: "layer-size", message: `${desc}: the number of inputs and of neurons must be whole numbers ≥ 1` });
  }
  st.setField(obj.id, "nInputs", num(nIn));
  st.setField(obj.id, "nNeurons", num(nOut));
  const opts = args[2];
  const optNode = ts.isNewExpression(node) ? node.arguments?.[2] : undefined;
  const get = (key: string): Value => (opts?.k === "ref" ? an.getProp(opts, key, st, node) : UNKNOWN);
  const propNode = (key: string): ts.Node | undefined => {
    const o = optNode && unwrap(optNode);
    if (!o || !ts.isObjectLiteralExpression(o)) return undefined;
    const p = o.properties.find((x) => x.name && propName(x.name) === key);
    return p && ts.isPropertyAssignment(p) ? p.initializer : p;
  };
  const w = asTensorLike(an, get("weights"), st);
  if (w && hardShape(w) && nIn !== undefined && nOut !== undefined && (w.shape.length !== 2 || w.shape[0] !== nIn || w.shape[1] !== nOut)) {
    const fixes: FixSpec[] = [];
    const transposed = w.shape.length === 2 && w.shape[0] === nOut && w.shape[1] === nIn;
    if (transposed && w.lit) {
      const fix = transposeFix(an, w.lit, nIn, nOut);
      if (fix) fixes.push(fix);
    }
    an.diag({
      node: propNode("weights") ?? node,
      severity: "error",
      code: "initial-weights",
      message:
        `${desc}: initial weights are ${shapeText(w.shape)}, expected [${nIn}, ${nOut}] ([inputs, neurons])` +
        (transposed ? `: this is the book's hand-written [neurons, inputs] list; the layer takes its transpose` : ""),
      fixes,
    });
  }
  const bs = asTensorLike(an, get("biases"), st);
  if (bs && hardShape(bs) && nOut !== undefined) {
    const size = sizeOfShape(bs.shape);
    if (size !== nOut || (bs.shape.length === 2 && bs.shape[0] !== 1)) {
      an.diag({ node: propNode("biases") ?? node, severity: "error", code: "initial-biases", message: `${desc}: initial biases are ${shapeText(bs.shape)}, expected [1, ${nOut}]` });
    }
  }
  st.setField(obj.id, "weights", tensorOf([nIn, nOut]));
  st.setField(obj.id, "biases", tensorOf([1, nOut]));
  for (const f of ["inputs", "output", "dinputs", "dweights", "dbiases"]) st.setField(obj.id, f, UNSET);
}

/** Rewrites a `[neurons, inputs]` literal as `[inputs, neurons]`, only when that literal is used for these weights alone. */
function transposeFix(an: Analyzer, lit: ts.ArrayLiteralExpression, nIn: number, nOut: number): FixSpec | undefined {
  const rows = lit.elements.map((e) => unwrap(e));
  if (rows.length !== nOut || !rows.every((r) => ts.isArrayLiteralExpression(r) && r.elements.length === nIn)) return undefined;
  const cells = rows.map((r) => (r as ts.ArrayLiteralExpression).elements.map((e) => an.text(e)));
  const cols = Array.from({ length: nIn }, (_, j) => cells.map((row) => row[j] as string));
  const text = an.sf.text;
  const start = lit.getStart(an.sf);
  const multiline = an.text(lit).includes("\n");
  // Only when no other code reads the literal: it is written inline, or in a const used once.
  if (!usedOnlyHere(an, lit)) return undefined;
  let newText: string;
  if (multiline) {
    const lineStart = text.lastIndexOf("\n", start - 1) + 1;
    const indent = /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? "";
    newText = `[\n${cols.map((c) => `${indent}  [${c.join(", ")}],`).join("\n")}\n${indent}]`;
  } else newText = `[${cols.map((c) => `[${c.join(", ")}]`).join(", ")}]`;
  return { title: `Transpose the weights to [${nIn}, ${nOut}] ([inputs, neurons])`, edits: [{ pos: start, end: lit.end, newText }], preferred: true };
}

function usedOnlyHere(an: Analyzer, lit: ts.ArrayLiteralExpression): boolean {
  // The literal is a declaration's initializer `const w = [...]`: that name must be read exactly once.
  const before = an.sf.text.slice(0, lit.getStart(an.sf));
  const m = /(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=\s*$/.exec(before);
  if (!m) return true;
  const name = m[1] as string;
  let reads = 0;
  const visit = (n: ts.Node): void => {
    if (ts.isPropertyAccessExpression(n)) {
      visit(n.expression);
      return;
    }
    if (ts.isPropertyAssignment(n)) {
      if (ts.isComputedPropertyName(n.name)) visit(n.name);
      visit(n.initializer);
      return;
    }
    if (ts.isVariableDeclaration(n)) {
      if (!ts.isIdentifier(n.name)) visit(n.name);
      if (n.initializer) visit(n.initializer);
      return;
    }
    if (ts.isIdentifier(n) && n.text === name) reads++;
    else if (ts.isShorthandPropertyAssignment(n) && n.name.text === name) reads++;
    else ts.forEachChild(n, visit);
  };
  visit(an.sf);
  return reads === 1;
}

// ------------------------------------------------------------------ layer calls

function tensorField(st: State, id: number, name: string): TensorV | undefined {
  const v = st.field(id, name);
  return v?.k === "tensor" ? v : undefined;
}

function wireShape(v: TensorV | undefined): (number | null)[] | null {
  if (!v || v.shape === undefined) return null;
  return v.shape.map((d) => (d === undefined ? null : d));
}

/** A call of a layer's `forward` or `backward` (built-in or the user's): runs it, then records its shapes. */
export function layerCall(an: Analyzer, self: RefV, phase: "forward" | "backward", args: Value[], node: ts.Node, st: State, fn: Value, impl: () => Value): Value {
  if (phase === "forward") an.ordered(self.id);
  const id = self.id;
  const info = an.allocs.get(id);
  const declared = phase === "forward" && fn.k === "fn" ? declaredShape(an, fn.decl) : undefined;
  // The engine already threw on this path (an earlier shape error): the run never gets here.
  const unreached = st.failed;
  let result: Value;
  an.layerStack.push({ id, phase });
  try {
    if (declared) result = declaredForward(an, self, declared, args, node, st);
    else result = impl();
  } finally {
    an.layerStack.pop();
  }
  if (fn.k === "fn" && phase === "backward") gradientRule(id, st);
  // A loop's unrecorded pass: nothing of the rest would be kept.
  if (an.rec.muted > 0) return result;
  const kind = info?.layerKind ?? "custom";
  const l = layerLabel(an, id);
  const arg0 = asTensorLike(an, args[0], st);
  const targets = kind === "softmax-cce" || kind === "cce" ? asTensorLike(an, args[1], st) : undefined;
  let md: () => { flow: string; formulas: string };
  const shapes: Record<string, (number | null)[] | null> = {};
  if (phase === "forward") {
    const inputs = arg0 ?? tensorField(st, id, "inputs");
    let output = tensorField(st, id, "output");
    if (!output && result.k === "tensor") output = result;
    shapes.inputs = wireShape(inputs);
    shapes.output = wireShape(output);
    const classes = targets?.maxLabel !== undefined ? targets.maxLabel + 1 : undefined;
    const weights = tensorField(st, id, "weights")?.shape;
    const biases = tensorField(st, id, "biases")?.shape;
    const out = output;
    md = () => ({
      flow: `inputs ${shapeText(inputs?.shape)} → output ${shapeText(out?.shape)}`,
      formulas: forwardFormulas(kind, { inputs: inputs?.shape, output: out?.shape, weights, biases, targets: targets?.shape, ...(classes !== undefined ? { classes } : {}) }),
    });
    const hint = kind === "softmax-cce" || kind === "cce" ? undefined : output?.shape !== undefined ? `→ ${hintShape(output)}` : undefined;
    if (hint) an.rec.hint(node.end, hint, "call");
  } else {
    const dvalues = arg0;
    const dinputs = tensorField(st, id, "dinputs");
    shapes.dvalues = wireShape(dvalues);
    shapes.dinputs = wireShape(dinputs);
    const grads: [string, TensorV["shape"]][] = [];
    for (const p of paramNames(st, id)) {
      const g = tensorField(st, id, `d${p}`);
      shapes[`d${p}`] = wireShape(g);
      grads.push([`d${p}`, g?.shape]);
    }
    const inputs = tensorField(st, id, "inputs")?.shape;
    const weights = tensorField(st, id, "weights")?.shape;
    md = () => ({
      flow: `dvalues ${shapeText(dvalues?.shape)} → dinputs ${shapeText(dinputs?.shape)}`,
      formulas: backwardFormulas(kind, { dvalues: dvalues?.shape, dinputs: dinputs?.shape, inputs, weights, grads, targets: targets?.shape }),
    });
    if (dinputs?.shape !== undefined) {
      const dw = tensorField(st, id, "dweights");
      an.rec.hint(node.end, `← ${hintShape(dinputs)}${dw?.shape !== undefined ? `, dweights ${hintShape(dw)}` : ""}`, "call");
    }
  }
  an.rec.call(node, id, phase, shapes);
  an.rec.fact(node, "call", () => callMarkdown([{ layer: l, phase, ...md(), ...(unreached ? { unreached } : {}) }]));
  return result;
}

/** The layer's parameters: tensor fields P with a gradient field dP (weights, biases, …). */
function paramNames(st: State, id: number): string[] {
  const o = st.get(id);
  if (!o) return [];
  const out: string[] = [];
  for (const [k, v] of o.fields) {
    if (["inputs", "output", "dinputs", "dvalues"].includes(k) || k.startsWith("d")) continue;
    if (v.k === "tensor" && o.fields.has(`d${k}`)) out.push(k);
  }
  return out;
}

/** A readable text of an argument, for messages (`activation1.output`), or a placeholder when long. */
function argText(an: Analyzer, node: ts.Node, index: number, direct = true): string | undefined {
  if (!ts.isCallExpression(node)) return undefined;
  if (direct) {
    // Only the arguments of a direct call (`dense2.forward(x)`), not of `model.trainStep(X, y)`.
    const callee = unwrap(node.expression);
    if (!ts.isPropertyAccessExpression(callee) || !["forward", "backward", "calculate"].includes(callee.name.text)) return undefined;
  }
  const a = node.arguments[index];
  if (!a) return undefined;
  const t = an.text(a).replace(/\s+/g, " ");
  return t.length <= 40 ? t : undefined;
}

function relatedBuilt(an: Analyzer, id: number | undefined, extra = ""): { node: ts.Node; message: string }[] {
  if (id === undefined) return [];
  const a = an.allocs.get(id);
  if (!a) return [];
  return [{ node: a.node, message: `${layerName(a)} = ${a.description ?? a.className}${extra}: built here` }];
}

/** `Dense.forward`: inputs `[batch, nIn]` → output `[batch, nOut]`, checked against the weights. */
function denseForward(an: Analyzer, self: RefV, args: Value[], node: ts.Node, st: State): Value {
  const id = self.id;
  const x = asTensorLike(an, args[0], st);
  const w = tensorField(st, id, "weights");
  const nOut = w?.shape?.[1];
  const name = nameOf(an, id);
  const desc = layerLabel(an, id).description;
  if (x && hardShape(x)) {
    if (x.shape.length !== 2) {
      an.diag({
        node,
        severity: "error",
        code: "not-2d",
        message: `${name}.forward: inputs must be 2-D [samples, features] but are ${shapeText(x.shape)}${x.shape.length === 1 ? ": one sample is still a batch of one, [[…]]" : ""}`,
        related: relatedBuilt(an, id),
      });
    } else {
      const cols = x.shape[1];
      const wr = w?.shape?.[0];
      if (wr !== undefined && cols !== wr) {
        const src = provenance(an, x, st);
        const arg = argText(an, node, 0) ?? src.text ?? "the inputs";
        const via = src.through.length > 0 ? `, through ${src.through.join(", ")}` : "";
        const from = src.neurons ? ` (${nameOf(an, src.neurons.id)} = ${layerLabel(an, src.neurons.id).description} has ${src.neurons.n} neurons${via})` : "";
        const fixes: FixSpec[] = [];
        const a = an.allocs.get(id);
        const argNode = a?.builtin === "Dense" && a.className === "Dense" ? a.args?.[0] : undefined;
        if (argNode && ts.isNumericLiteral(unwrap(argNode))) {
          fixes.push({
            title: `Change ${name} to Dense(${cols}, ${nOut ?? "…"}) (${arg} has ${cols} value${cols === 1 ? "" : "s"} per sample)`,
            edits: [{ pos: argNode.getStart(an.sf), end: argNode.end, newText: String(cols) }],
            preferred: true,
          });
        }
        an.diag({
          node,
          severity: "error",
          code: "forward-shape",
          message:
            `${name}.forward: ${name} = ${desc} takes ${wr} inputs per sample, but ${arg} is ${shapeText(x.shape)}, ${cols} value${cols === 1 ? "" : "s"} per sample${from}. ` +
            `A layer takes as many inputs as the previous layer has neurons: ${name} should be Dense(${cols}, ${nOut ?? "…"})`,
          related: [...relatedBuilt(an, id), ...(src.neurons ? relatedBuilt(an, src.neurons.id, `, ${src.neurons.n} neurons`) : [])],
          fixes,
        });
      }
    }
  }
  st.setField(id, "inputs", x ?? tensorOf(undefined));
  const rows = x?.shape?.length === 2 ? x.shape[0] : undefined;
  const out = tensorOf([rows, nOut], { origin: { layer: id, field: "output" }, ...(x?.guess ? { guess: true } : {}) });
  st.setField(id, "output", out);
  return out;
}

/** A layer that should receive `layer`'s output gradient: the one whose inputs are `layer`'s output. */
function consumerOf(an: Analyzer, layer: number, st: State): string | undefined {
  for (const [id, a] of an.allocs) {
    if (a.kind !== "layer") continue;
    const inputs = st.field(id, "inputs");
    if (inputs?.k === "tensor" && inputs.origin?.layer === layer && inputs.origin.field === "output") return `${nameOf(an, id)}.dinputs`;
  }
  return undefined;
}

function backwardMismatch(an: Analyzer, id: number, node: ts.Node, dy: TensorV, expected: Dim[], st: State, sizeOnly: boolean): void {
  const name = nameOf(an, id);
  const arg = argText(an, node, 0) ?? "dvalues";
  const src = dy.origin?.layer !== undefined && dy.origin.field === "dinputs" ? `, the gradient of ${nameOf(an, dy.origin.layer)}'s inputs,` : "";
  const want = consumerOf(an, id, st);
  an.diag({
    node,
    severity: "error",
    code: "backward-shape",
    message:
      `${name}.backward: dvalues ${arg}${src} is ${shapeText(dy.shape)} but ${name}'s ${sizeOnly ? "inputs were" : "output was"} ${shapeText(expected)}: ` +
      `dvalues is the gradient of the layer's output and has its shape${want && want !== arg ? ` (pass ${want})` : ""}`,
    related: relatedBuilt(an, id),
  });
}

/** `Dense.backward`: dweights `[nIn, nOut]`, dbiases `[1, nOut]`, dinputs `[batch, nIn]`. */
function denseBackward(an: Analyzer, self: RefV, args: Value[], node: ts.Node, st: State): Value {
  const id = self.id;
  const dy = asTensorLike(an, args[0], st);
  const x = tensorField(st, id, "inputs");
  const w = tensorField(st, id, "weights");
  const nIn = w?.shape?.[0];
  const nOut = w?.shape?.[1];
  if (dy && hardShape(dy)) {
    if (dy.shape.length !== 2) {
      an.diag({ node, severity: "error", code: "not-2d", message: `${nameOf(an, id)}.backward: dvalues must be 2-D [samples, neurons] but are ${shapeText(dy.shape)}`, related: relatedBuilt(an, id) });
    } else {
      const xr = x && !x.guess && x.shape?.length === 2 ? x.shape[0] : undefined;
      const [r, c] = dy.shape as [number, number];
      if ((xr !== undefined && r !== xr) || (nOut !== undefined && c !== nOut)) backwardMismatch(an, id, node, dy, [xr ?? r, nOut ?? c], st, false);
    }
  }
  const rows = dy?.shape?.length === 2 ? dy.shape[0] : x?.shape?.length === 2 ? x.shape[0] : undefined;
  const guess = dy?.guess ? { guess: true } : {};
  st.setField(id, "dweights", tensorOf([nIn, nOut], { origin: { layer: id, field: "dweights" } }));
  st.setField(id, "dbiases", tensorOf([1, nOut], { origin: { layer: id, field: "dbiases" } }));
  const dinputs = tensorOf([rows, nIn], { origin: { layer: id, field: "dinputs" }, ...guess });
  st.setField(id, "dinputs", dinputs);
  return dinputs;
}

function elementwiseForward(an: Analyzer, self: RefV, args: Value[], node: ts.Node, st: State, twoD: string | undefined): Value {
  const id = self.id;
  const x = asTensorLike(an, args[0], st);
  if (twoD && x && hardShape(x) && x.shape.length !== 2) {
    an.diag({ node, severity: "error", code: "not-2d", message: `${nameOf(an, id)}.forward: ${twoD} needs 2-D inputs [samples, classes] but they are ${shapeText(x.shape)}`, related: relatedBuilt(an, id) });
  }
  st.setField(id, "inputs", x ?? tensorOf(undefined));
  const out = tensorOf(x?.shape, { origin: { layer: id, field: "output" }, ...(x?.guess ? { guess: true } : {}) });
  st.setField(id, "output", out);
  return out;
}

function elementwiseBackward(an: Analyzer, self: RefV, args: Value[], node: ts.Node, st: State, against: "inputs" | "output", twoD: boolean): Value {
  const id = self.id;
  const dy = asTensorLike(an, args[0], st);
  const ref = tensorField(st, id, against);
  if (dy && hardShape(dy)) {
    if (twoD && dy.shape.length !== 2) {
      an.diag({ node, severity: "error", code: "not-2d", message: `${nameOf(an, id)}.backward: dvalues must be 2-D [samples, classes] but are ${shapeText(dy.shape)}`, related: relatedBuilt(an, id) });
    } else if (ref && hardShape(ref) && sizeOfShape(ref.shape) !== sizeOfShape(dy.shape)) {
      backwardMismatch(an, id, node, dy, ref.shape, st, against === "inputs");
    }
  }
  const dinputs = tensorOf(dy?.shape, { origin: { layer: id, field: "dinputs" }, ...(dy?.guess ? { guess: true } : {}) });
  st.setField(id, "dinputs", dinputs);
  return dinputs;
}

/**
 * The engine's `readTargets`: sparse class indices `[n]` (or `[n, 1]`), or one-hot `[n, k]`, for
 * predictions `[n, k]`. Checks the number of samples and, when the indices are known, the classes.
 */
function checkTargets(an: Analyzer, op: string, layer: number | undefined, yv: Value | undefined, pred: TensorV | undefined, node: ts.Node, st: State, yIndex: number): void {
  const y = asTensorLike(an, yv, st);
  if (!y || !hardShape(y) || !pred || pred.guess || pred.shape?.length !== 2) return;
  const [n, k] = pred.shape;
  const yText = argText(an, node, yIndex) ?? "the targets";
  const predText = argText(an, node, 0) ?? "the predictions";
  const rank = y.shape.length;
  if (rank === 1 || (rank === 2 && y.shape[1] === 1 && k !== undefined && k !== 1)) {
    const size = sizeOfShape(y.shape) as number;
    if (n !== undefined && size !== n) {
      an.diag({ node, severity: "error", code: "targets", message: `${op}: ${size} targets for ${n} samples (targets ${shapeText(y.shape)}, predictions ${shapeText(pred.shape)}): one class index per sample`, related: relatedBuilt(an, layer) });
      return;
    }
    if (y.maxLabel !== undefined && k !== undefined && y.maxLabel >= k) {
      const classes = y.maxLabel + 1;
      const src = y.origin?.text ? ` (${y.origin.text})` : "";
      const p = provenance(an, pred, st);
      const last = p.neurons && p.through.length === 0 ? p.neurons.id : pred.origin?.layer;
      const lastInfo = last !== undefined ? an.allocs.get(last) : undefined;
      const fixes: FixSpec[] = [];
      const outArg = lastInfo?.className === "Dense" ? lastInfo.args?.[1] : undefined;
      if (outArg && ts.isNumericLiteral(unwrap(outArg))) {
        const nIn = st.field(last as number, "nInputs");
        fixes.push({
          title: `Change ${nameOf(an, last)} to Dense(${nIn?.k === "num" && nIn.v !== undefined ? nIn.v : "…"}, ${classes}): one neuron per class`,
          edits: [{ pos: outArg.getStart(an.sf), end: outArg.end, newText: String(classes) }],
          preferred: true,
        });
      }
      const lastText = lastInfo?.layerKind === "dense" ? ` (${nameOf(an, last)} = ${lastInfo.description} has ${k} neurons)` : "";
      an.diag({
        node,
        severity: "error",
        code: "targets",
        message: `${op}: ${yText}${src} holds class indices up to ${y.maxLabel}, ${classes} classes, but ${predText} has ${k} columns${lastText}: the last layer needs one neuron per class`,
        related: [...relatedBuilt(an, layer), ...(lastInfo && last !== layer ? relatedBuilt(an, last) : [])],
        fixes,
      });
    }
    return;
  }
  if (rank === 2) {
    const [r, c] = y.shape as [number, number];
    if ((n !== undefined && r !== n) || (k !== undefined && c !== k)) {
      an.diag({
        node,
        severity: "error",
        code: "targets",
        message: `${op}: targets are ${shapeText(y.shape)} but predictions are ${shapeText(pred.shape)}: targets must be [${n ?? "n"}] class indices or [${n ?? "n"}, ${k ?? "k"}] one-hot rows`,
        related: relatedBuilt(an, layer),
      });
    }
    return;
  }
  an.diag({ node, severity: "error", code: "targets", message: `${op}: targets are ${shapeText(y.shape)}: they must be [${n ?? "n"}] class indices or [${n ?? "n"}, ${k ?? "k"}] one-hot rows`, related: relatedBuilt(an, layer) });
}

function lossForward(an: Analyzer, self: RefV, args: Value[], node: ts.Node, st: State, combined: boolean): Value {
  const id = self.id;
  const x = asTensorLike(an, args[0], st);
  const op = `${nameOf(an, id)}.forward`;
  if (x && hardShape(x) && x.shape.length !== 2) {
    an.diag({ node, severity: "error", code: "not-2d", message: `${op}: ${combined ? "inputs" : "predictions"} must be 2-D [samples, classes] but are ${shapeText(x.shape)}`, related: relatedBuilt(an, id) });
  } else checkTargets(an, op, id, args[1], x, node, st, 1);
  st.setField(id, "inputs", x ?? tensorOf(undefined));
  const n = x?.shape?.length === 2 ? x.shape[0] : undefined;
  const guess = x?.guess ? { guess: true } : {};
  if (combined) {
    st.setField(id, "output", tensorOf(x?.shape?.length === 2 ? x.shape : undefined, { origin: { layer: id, field: "output" }, ...guess }));
    st.setField(id, "sampleLosses", tensorOf([n]));
    st.setField(id, "loss", num());
    return num();
  }
  const out = tensorOf([n], { origin: { layer: id, field: "output" }, ...guess });
  st.setField(id, "output", out);
  st.setField(id, "sampleLosses", out);
  return out;
}

function lossBackward(an: Analyzer, self: RefV, args: Value[], node: ts.Node, st: State): Value {
  const id = self.id;
  const d = asTensorLike(an, args[0], st);
  const op = `${nameOf(an, id)}.backward`;
  if (d && hardShape(d) && d.shape.length !== 2) {
    an.diag({ node, severity: "error", code: "not-2d", message: `${op}: dvalues must be 2-D [samples, classes] but are ${shapeText(d.shape)}`, related: relatedBuilt(an, id) });
  } else checkTargets(an, op, id, args[1], d, node, st, 1);
  const dinputs = tensorOf(d?.shape?.length === 2 ? d.shape : undefined, { origin: { layer: id, field: "dinputs" }, ...(d?.guess ? { guess: true } : {}) });
  st.setField(id, "dinputs", dinputs);
  return dinputs;
}

function layerMethod(an: Analyzer, cls: string, method: string, self: RefV, args: Value[], node: ts.Node, st: State): Value {
  switch (`${cls}.${method}`) {
    case "Dense.forward":
      return denseForward(an, self, args, node, st);
    case "Dense.backward":
      return denseBackward(an, self, args, node, st);
    case "ReLU.forward":
      return elementwiseForward(an, self, args, node, st, undefined);
    case "ReLU.backward":
      return elementwiseBackward(an, self, args, node, st, "inputs", false);
    case "Softmax.forward":
      return elementwiseForward(an, self, args, node, st, "softmax");
    case "Softmax.backward":
      return elementwiseBackward(an, self, args, node, st, "output", true);
    case "Softmax.jacobian": {
      const k = tensorField(st, self.id, "output")?.shape?.[1];
      return tensorOf([k, k]);
    }
    case "SoftmaxCategoricalCrossentropy.forward":
      return lossForward(an, self, args, node, st, true);
    case "CategoricalCrossentropy.forward":
      return lossForward(an, self, args, node, st, false);
    case "CategoricalCrossentropy.calculate":
      lossForward(an, self, args, node, st, false);
      return num();
    case "SoftmaxCategoricalCrossentropy.backward":
    case "CategoricalCrossentropy.backward":
      return lossBackward(an, self, args, node, st);
    default:
      return UNKNOWN;
  }
}

// ------------------------------------------------------------------ Sequential

function methodCall(an: Analyzer, obj: Value, name: string, args: Value[], node: ts.Node, st: State): Value {
  const fn = an.getProp(obj, name, st, node);
  const info = an.info(obj);
  if (info?.kind === "layer" && (name === "forward" || name === "backward")) return layerCall(an, obj as RefV, name, args, node, st, fn, () => an.invoke(fn, obj, args, node, st));
  return an.invoke(fn, obj, args, node, st);
}

function sequential(an: Analyzer, method: string, self: RefV, args: Value[], node: ts.Node, st: State): Value {
  const layersV = st.field(self.id, "layers") ?? UNKNOWN;
  const loss = st.field(self.id, "loss") ?? UNKNOWN;
  const layers = elementsOf(an, layersV, st);
  if (!layers) {
    an.havoc([layersV, loss], st);
    return UNKNOWN;
  }
  const predict = (X: Value): Value => {
    let x = X;
    for (const l of layers) {
      const r = methodCall(an, l, "forward", [x], node, st);
      const out = l.k === "ref" ? st.field(l.id, "output") : undefined;
      x = out && out.k !== "unset" ? out : r;
    }
    return x;
  };
  const lossInfo = an.info(loss);
  const forward = (X: Value, y: Value): Value => {
    const logits = predict(X);
    methodCall(an, loss, "forward", [logits, y], node, st);
    const probs = lossInfo?.layerKind === "softmax-cce" && loss.k === "ref" ? (st.field(loss.id, "output") ?? UNKNOWN) : logits;
    const p = asTensorLike(an, probs, st);
    if (p && hardShape(p) && p.shape.length === 2) checkTargets(an, "accuracy", undefined, y, p, node, st, 1);
    const r = an.alloc(node, { kind: "object", closed: true });
    st.setField(r.id, "loss", num());
    st.setField(r.id, "accuracy", num());
    return r;
  };
  const backward = (y: Value): void => {
    if (loss.k !== "ref") return;
    const d0 = lossInfo?.layerKind === "softmax-cce" ? st.field(loss.id, "output") : st.field(loss.id, "inputs");
    methodCall(an, loss, "backward", [d0 ?? UNKNOWN, y], node, st);
    let d: Value = st.field(loss.id, "dinputs") ?? UNKNOWN;
    for (let i = layers.length - 1; i >= 0; i--) {
      const l = layers[i] as Value;
      methodCall(an, l, "backward", [d], node, st);
      d = l.k === "ref" ? (st.field(l.id, "dinputs") ?? UNKNOWN) : UNKNOWN;
    }
  };
  switch (method) {
    case "predict":
      return predict(args[0] ?? UNDEF);
    case "forward":
      return forward(args[0] ?? UNDEF, args[1] ?? UNDEF);
    case "backward":
      backward(args[0] ?? UNDEF);
      return UNDEF;
    case "trainStep": {
      const r = forward(args[0] ?? UNDEF, args[1] ?? UNDEF);
      backward(args[1] ?? UNDEF);
      return r;
    }
    default:
      return UNKNOWN;
  }
}

// ------------------------------------------------------------------ functions

/** `dense1.forward (MyDense): ` when the operation runs inside a layer's method. */
function inLayer(an: Analyzer): string {
  const top = an.layerStack[an.layerStack.length - 1];
  if (!top) return "";
  const l = layerLabel(an, top.id);
  return `${l.name}.${top.phase} (${l.description}): `;
}

function opDiag(an: Analyzer, node: ts.Node, message: string): void {
  const top = an.layerStack[an.layerStack.length - 1];
  an.diag({ node, severity: "error", code: "op-shape", message: `${inLayer(an)}${message}`, ...(top ? { related: relatedBuilt(an, top.id) } : {}) });
}

function need2d(an: Analyzer, op: string, arg: string, t: TensorV | undefined, node: ts.Node): boolean {
  if (t && hardShape(t) && t.shape.length !== 2) {
    an.diag({ node, severity: "error", code: "not-2d", message: `${inLayer(an)}${op}: '${arg}' must be 2-D [samples, features] but is ${shapeText(t.shape)}` });
    return false;
  }
  return true;
}

function g(...ts_: (TensorV | undefined)[]): { guess?: boolean } {
  return ts_.some((x) => x?.guess) ? { guess: true } : {};
}

function sameSizeOrDiag(an: Analyzer, op: string, a: TensorV | undefined, b: TensorV | undefined, node: ts.Node): void {
  if (a && b && hardShape(a) && hardShape(b) && sizeOfShape(a.shape) !== sizeOfShape(b.shape)) opDiag(an, node, `${op}: shapes ${shapeText(a.shape)} and ${shapeText(b.shape)} differ`);
}

/** Options like `{ transA: true }`. */
function flag(an: Analyzer, opts: Value | undefined, key: string, st: State): boolean | undefined {
  if (!opts || opts.k === "undef") return false;
  if (opts.k !== "ref") return undefined;
  const v = an.getProp(opts, key, st, an.sf);
  if (v.k === "undef") return false;
  return truthy(v);
}

function dataSet(an: Analyzer, name: string, args: Value[], node: ts.Node, st: State): Value {
  const s = args[0]?.k === "num" ? args[0].v : undefined;
  const c = args[1]?.k === "num" ? args[1].v : undefined;
  const n = s !== undefined && c !== undefined ? s * c : undefined;
  const text = ts.isCallExpression(node) ? an.text(node).replace(/\s+/g, " ") : name;
  const origin = { text: text.length <= 48 ? text : name };
  const X = tensorOf([n, 2], { origin });
  const y = tensorOf([n], { origin, ...(c !== undefined && s !== undefined && s >= 1 && c >= 1 ? { maxLabel: c - 1 } : {}) });
  return newArray(an, node, [X, y], st);
}

/** Calls of engine functions, engine methods, known globals and array methods. */
export function callBuiltin(an: Analyzer, fn: BuiltinV, args: Value[], node: ts.Node, st: State): Value {
  const T = (i: number): TensorV | undefined => asTensorLike(an, args[i], st);
  const name = fn.name;
  const dot = name.indexOf(".");
  if (dot > 0 && fn.self?.k === "ref") {
    const cls = name.slice(0, dot);
    const method = name.slice(dot + 1);
    if (isLayerClass(cls)) return layerMethod(an, cls, method, fn.self, args, node, st);
    if (cls === "Sequential") return sequential(an, method, fn.self, args, node, st);
    if (cls === "Optimizer" || cls === "Rng") return cls === "Rng" ? num() : UNDEF;
  }
  if (name.startsWith("Array#")) return arrayMethod(an, name.slice(6), fn.self ?? UNKNOWN, args, node, st);
  switch (name) {
    case "tensor": {
      const x = T(0);
      const shape = args[1] && args[1].k !== "undef" ? dimsOf(an, args[1], st) : undefined;
      if (shape) {
        const size = sizeOfShape(shape);
        if (x && hardShape(x) && size !== undefined && sizeOfShape(x.shape) !== size) opDiag(an, node, `tensor: ${sizeOfShape(x.shape)} values do not fill a tensor of shape ${shapeText(shape)}`);
        return tensorOf(shape, g(x));
      }
      if (!x) return tensorOf(undefined);
      const out: TensorV = { ...x, arr: false };
      delete out.lit;
      delete out.vals;
      if (!out.arr) delete out.arr;
      return out;
    }
    case "zeros":
    case "full":
    case "randn":
    case "uniform":
      return tensorOf(dimsOf(an, args[0], st));
    case "fromData": {
      const shape = dimsOf(an, args[0], st);
      const d = T(1);
      if (shape && d && hardShape(d) && isKnownShape(shape) && sizeOfShape(d.shape) !== sizeOfShape(shape)) opDiag(an, node, `fromData: ${sizeOfShape(d.shape)} values do not fill a tensor of shape ${shapeText(shape)}`);
      return tensorOf(shape);
    }
    case "clone": {
      const x = T(0);
      return tensorOf(x?.shape, g(x));
    }
    case "reshape": {
      const x = T(0);
      const shape = dimsOf(an, args[1], st);
      if (shape && x && hardShape(x) && isKnownShape(shape) && sizeOfShape(x.shape) !== sizeOfShape(shape)) opDiag(an, node, `fromData: ${sizeOfShape(x.shape)} values do not fill a tensor of shape ${shapeText(shape)}`);
      return tensorOf(shape, g(x));
    }
    case "toArray": {
      const x = T(0);
      return tensorOf(x?.shape && x.shape.length > 2 ? [sizeOfShape(x.shape.slice(0, -1)), x.shape[x.shape.length - 1]] : x?.shape, { arr: true, ...g(x) });
    }
    case "at":
    case "sizeOf":
    case "rowsOf":
    case "colsOf":
    case "mean":
      return num();
    case "maxAbsDiff":
      sameSizeOrDiag(an, "maxAbsDiff", T(0), T(1), node);
      return num();
    case "isTensor":
    case "sameShape":
    case "isLayer":
      return bool();
    case "expectShape": {
      const t = T(2);
      const want = dimsOf(an, args[3], st);
      const op = args[0]?.k === "str" ? args[0].v : undefined;
      const arg = args[1]?.k === "str" ? args[1].v : undefined;
      if (t && hardShape(t) && want && isKnownShape(want) && (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i]))) {
        opDiag(an, node, `${op ?? "expectShape"}: '${arg ?? "tensor"}' is ${shapeText(t.shape)}, expected ${shapeText(want)}`);
      }
      return UNDEF;
    }
    case "dot": {
      const a = T(0);
      const b = T(1);
      const ok = need2d(an, "dot", "a", a, node) && need2d(an, "dot", "b", b, node);
      const transA = flag(an, args[2], "transA", st);
      const transB = flag(an, args[2], "transB", st);
      if (!ok || transA === undefined || transB === undefined || a?.shape?.length !== 2 || b?.shape?.length !== 2) return tensorOf(a?.shape && b?.shape ? [undefined, undefined] : undefined, g(a, b));
      const [ar, ac] = a.shape;
      const [br, bc] = b.shape;
      const M = transA ? ac : ar;
      const K = transA ? ar : ac;
      const Kb = transB ? bc : br;
      const N = transB ? br : bc;
      if (hardShape(a) && hardShape(b) && K !== Kb) {
        const an_ = transA ? "aᵀ" : "a";
        const bn = transB ? "bᵀ" : "b";
        opDiag(an, node, `dot: cannot multiply ${an_} ${shapeText([M, K])} by ${bn} ${shapeText([Kb, N])}: ${an_} has ${K} columns but ${bn} has ${Kb} rows`);
      }
      return tensorOf([M, N], g(a, b));
    }
    case "transpose": {
      const a = T(0);
      if (!need2d(an, "transpose", "a", a, node) || a?.shape?.length !== 2) return tensorOf(a?.shape ? [undefined, undefined] : undefined, g(a));
      return tensorOf([a.shape[1], a.shape[0]], g(a));
    }
    case "addRowInPlace": {
      const x = T(0);
      const row = T(1);
      if (need2d(an, "addRow", "x", x, node) && x && row && hardShape(x) && hardShape(row) && sizeOfShape(row.shape) !== x.shape[1]) {
        opDiag(an, node, `addRow: cannot add a row of shape ${shapeText(row.shape)} to each row of ${shapeText(x.shape)}`);
      }
      return args[0] ?? UNKNOWN;
    }
    case "sumRows": {
      const x = T(0);
      if (!need2d(an, "sumRows", "x", x, node) || x?.shape?.length !== 2) return tensorOf([1, undefined], g(x));
      return tensorOf([1, x.shape[1]], g(x));
    }
    case "sumCols": {
      const x = T(0);
      if (!need2d(an, "sumCols", "x", x, node) || x?.shape?.length !== 2) return tensorOf([undefined, 1], g(x));
      return tensorOf([x.shape[0], 1], g(x));
    }
    case "map":
    case "scale": {
      const x = T(0);
      return tensorOf(x?.shape, g(x));
    }
    case "zip":
    case "addScaled": {
      const a = T(0);
      const b = T(1);
      sameSizeOrDiag(an, name, a, b, node);
      return tensorOf(a?.shape, g(a));
    }
    case "addScaledInPlace":
      sameSizeOrDiag(an, "addScaledInPlace", T(0), T(1), node);
      return args[0] ?? UNKNOWN;
    case "argmaxRows": {
      const x = T(0);
      if (!need2d(an, "argmaxRows", "x", x, node) || x?.shape?.length !== 2) return tensorOf([undefined], { arr: true });
      return tensorOf([x.shape[0]], { arr: true });
    }
    case "softmaxRows": {
      const x = T(0);
      need2d(an, "softmax", "inputs", x, node);
      return tensorOf(x?.shape, g(x));
    }
    case "softmaxJacobian": {
      const s = T(0);
      const k = sizeOfShape(s?.shape);
      return tensorOf([k, k], g(s));
    }
    case "softmaxBackward": {
      const o = T(0);
      const d = T(1);
      if (need2d(an, "Softmax.backward", "dvalues", d, node)) sameSizeOrDiag(an, "Softmax.backward", d, o, node);
      return tensorOf(d?.shape, g(d));
    }
    case "accuracy": {
      const p = T(0);
      if (need2d(an, "accuracy", "yPred", p, node)) checkTargets(an, "accuracy", undefined, args[1], p, node, st, 1);
      return num();
    }
    case "compareSoftmaxCcePaths": {
      const p = T(0);
      if (need2d(an, "compareSoftmaxCcePaths", "probs", p, node)) checkTargets(an, "compareSoftmaxCcePaths", undefined, args[1], p, node, st, 1);
      const r = an.alloc(node, { kind: "object", closed: true });
      for (const f of ["combined", "separate", "cceDinputs"]) st.setField(r.id, f, tensorOf(p?.shape, g(p)));
      st.setField(r.id, "maxDiff", num());
      return r;
    }
    case "readTargets":
    case "classIndices":
      return UNKNOWN;
    case "spiralData":
    case "verticalData":
      return dataSet(an, name, args, node, st);
    case "seed":
    case "gemm":
      return UNDEF;
    case "defaultRng":
      return an.alloc(node, { kind: "other", builtin: "Rng", className: "Rng" });
    case "formatTensor":
    case "formatNumber":
      return str();
    case "value":
    case "mul":
    case "sum":
    case "relu":
    case "max":
    case "topologicalOrder":
    case "gradCheckLayer":
    case "gradCheckModel":
    case "checkTensor":
      return UNKNOWN;
    // ---- globals
    case "global:require": {
      const m = args[0];
      if (m?.k === "str" && m.v !== undefined && /^backprop-lens(\/.*)?$/.test(m.v)) return { k: "builtin", name: "ns:backprop-lens" };
      return UNKNOWN;
    }
    case "global:parseInt":
    case "global:parseFloat":
    case "global:Number":
      return num();
    case "global:isNaN":
    case "global:isFinite":
    case "global:Boolean":
    case "Array.isArray":
      return bool();
    case "global:String":
    case "JSON.stringify":
      return str();
    case "Array.from": {
      const src = args[0];
      const f = args[1];
      let len: Dim;
      let elem: Value = UNKNOWN;
      if (src?.k === "ref" && an.info(src)?.kind === "object") {
        const l = st.field(src.id, "length");
        len = l?.k === "num" ? l.v : undefined;
        elem = UNDEF;
      } else {
        const t = asTensorLike(an, src, st);
        const elems = src ? elementsOf(an, src, st) : undefined;
        if (elems) {
          len = elems.length;
          if (!f) return newArray(an, node, [...elems], st);
        } else if (t) {
          len = t.shape?.[0];
          elem = rowOf(t);
        } else return UNKNOWN;
      }
      if (f && f.k !== "undef") elem = an.invoke(f, UNDEF, [elem, num()], node, st);
      if (elem.k === "num") return tensorOf([len], { arr: true });
      if (elem.k === "tensor" && elem.arr && elem.shape) return tensorOf([len, ...elem.shape], { arr: true });
      return newArray(an, node, len !== undefined && len <= 64 ? Array.from({ length: len }, () => elem) : undefined, st, elem);
    }
    case "Array.of":
      return arrayLiteralLike(an, node, args, st);
    case "Float64Array.from":
    case "Float32Array.from": {
      const t = asTensorLike(an, args[0], st);
      return tensorOf([sizeOfShape(t?.shape)], { arr: true });
    }
    case "String.method":
      return UNKNOWN;
    default:
      break;
  }
  if (name.startsWith("Math.")) {
    const f = (Math as unknown as Record<string, unknown>)[name.slice(5)];
    const nums = args.map((a) => (a.k === "num" ? a.v : undefined));
    if (typeof f === "function" && nums.every((x) => x !== undefined) && name !== "Math.random") return num((f as (...a: number[]) => number)(...(nums as number[])));
    return num();
  }
  if (name.startsWith("console.") || name.startsWith("performance.") || name.startsWith("Date.") || name === "global:Date") return name === "performance.now" || name === "Date.now" ? num() : UNDEF;
  if (name.startsWith("Object.") || name.startsWith("JSON.") || name.startsWith("Number.") || name.startsWith("process.")) {
    if (name === "Object.freeze") return args[0] ?? UNKNOWN;
    if (name.startsWith("Number.")) return name === "Number.isInteger" || name === "Number.isFinite" || name === "Number.isNaN" ? bool() : num();
    if (name === "Object.assign") an.havoc(args.slice(0, 1), st);
    return UNKNOWN;
  }
  an.havoc(args, st);
  return UNKNOWN;
}

function arrayLiteralLike(an: Analyzer, node: ts.Node, elems: Value[], st: State): Value {
  if (elems.length > 0) {
    const t = arrayOf(elems, undefined);
    if (t) return t;
  }
  return newArray(an, node, elems, st);
}

/** Methods of arrays (array objects, and nested arrays of numbers). */
function arrayMethod(an: Analyzer, method: string, self: Value, args: Value[], node: ts.Node, st: State): Value {
  const elems = elementsOf(an, self, st);
  const t = self.k === "tensor" ? self : undefined;
  const len: Dim = elems ? elems.length : t?.shape?.[0];
  const f = args[0];
  const each = (cb: (e: Value, i: number | undefined) => void): void => {
    if (elems) elems.forEach((e, i) => cb(e, i));
    else cb(elementOf(an, self, st), undefined);
  };
  switch (method) {
    case "map": {
      if (!f) return UNKNOWN;
      const out: Value[] = [];
      each((e, i) => out.push(an.invoke(f, UNDEF, [e, num(i), self], node, st)));
      if (elems) return arrayLiteralLike(an, node, out, st);
      const r = out[0] ?? UNKNOWN;
      if (r.k === "num") return tensorOf([len], { arr: true });
      if (r.k === "tensor" && r.arr && r.shape) return tensorOf([len, ...r.shape], { arr: true, ...g(r) });
      return newArray(an, node, undefined, st, r);
    }
    case "forEach":
      if (f) each((e, i) => an.invoke(f, UNDEF, [e, num(i), self], node, st));
      return UNDEF;
    case "reduce":
    case "reduceRight": {
      if (!f || !elems) {
        if (f) each((e) => an.invoke(f, UNDEF, [UNKNOWN, e, num()], node, st));
        return UNKNOWN;
      }
      const list = method === "reduce" ? elems : [...elems].reverse();
      let acc = args.length > 1 ? (args[1] as Value) : (list[0] ?? UNDEF);
      list.slice(args.length > 1 ? 0 : 1).forEach((e, i) => {
        acc = an.invoke(f, UNDEF, [acc, e, num(i), self], node, st);
      });
      return acc;
    }
    case "filter":
      if (f) each((e, i) => an.invoke(f, UNDEF, [e, num(i), self], node, st));
      if (t) return tensorOf(t.shape ? [undefined, ...t.shape.slice(1)] : undefined, { arr: true });
      return newArray(an, node, undefined, st, elementOf(an, self, st));
    case "find":
    case "findLast":
      if (f) each((e, i) => an.invoke(f, UNDEF, [e, num(i), self], node, st));
      return join(elementOf(an, self, st), UNDEF);
    case "some":
    case "every":
    case "includes":
      if (f && method !== "includes") each((e, i) => an.invoke(f, UNDEF, [e, num(i), self], node, st));
      return bool();
    case "indexOf":
    case "lastIndexOf":
    case "findIndex":
      return num();
    case "join":
    case "toString":
      return str();
    case "at":
      return indexValue(an, self, args[0] ?? UNDEF, st);
    case "slice": {
      const a = args[0]?.k === "num" ? args[0].v : args[0] === undefined ? 0 : undefined;
      const b = args[1]?.k === "num" ? args[1].v : args[1] === undefined ? len : undefined;
      if (elems && a !== undefined && b !== undefined) return newArrayOrTensor(an, node, elems.slice(a, b), st, t);
      if (t) {
        const n = a !== undefined && b !== undefined && len !== undefined ? Math.max(0, Math.min(b < 0 ? len + b : b, len) - (a < 0 ? len + a : a)) : undefined;
        return tensorOf(t.shape ? [n, ...t.shape.slice(1)] : undefined, { arr: true });
      }
      return newArray(an, node, undefined, st, elementOf(an, self, st));
    }
    case "concat": {
      const parts = [self, ...args].map((a) => elementsOf(an, a, st) ?? (a.k === "tensor" || a.k === "ref" ? undefined : [a]));
      if (parts.every((p) => p !== undefined)) return newArrayOrTensor(an, node, (parts as Value[][]).flat(), st, t);
      return UNKNOWN;
    }
    case "reverse":
    case "sort":
    case "toReversed":
    case "toSorted": {
      if (self.k === "ref" && elems) {
        const out = method === "reverse" || method === "toReversed" ? [...elems].reverse() : elems.map((e) => e).reduce<Value[]>((acc, e) => [...acc, e], []);
        if (method === "reverse" || method === "sort") {
          if (method === "sort") {
            const w = st.write(self.id);
            w.elem = elems.length ? elems.reduce(join) : UNKNOWN;
            delete w.elems;
          } else st.write(self.id).elems = out;
          return self;
        }
        return newArray(an, node, out, st);
      }
      return self;
    }
    case "push":
    case "unshift": {
      if (self.k === "ref") {
        const w = st.write(self.id);
        if (w.elems) {
          if (method === "push") w.elems.push(...args);
          else w.elems.unshift(...args);
          return num(w.elems.length);
        }
        w.elem = [...args, ...(w.elem ? [w.elem] : [])].reduce(join, UNSET);
      }
      return num();
    }
    case "pop":
    case "shift": {
      if (self.k === "ref") {
        const w = st.write(self.id);
        if (w.elems) return (method === "pop" ? w.elems.pop() : w.elems.shift()) ?? UNDEF;
        return w.elem ?? UNKNOWN;
      }
      return elementOf(an, self, st);
    }
    case "fill": {
      if (self.k === "ref") {
        const w = st.write(self.id);
        if (w.elems) w.elems = w.elems.map(() => args[0] ?? UNDEF);
        else w.elem = args[0] ?? UNDEF;
        return self;
      }
      return t ? tensorOf(t.shape, { arr: true }) : UNKNOWN;
    }
    case "splice":
      if (self.k === "ref") an.havoc([self], st);
      return UNKNOWN;
    default:
      return UNKNOWN;
  }
}

function newArrayOrTensor(an: Analyzer, node: ts.Node, elems: Value[], st: State, t: TensorV | undefined): Value {
  if (t) {
    const a = arrayOf(elems, undefined);
    if (a) return a;
  }
  return newArray(an, node, elems, st);
}

// ------------------------------------------------------------------ user layers: declared shapes and the gradient rule

/** A `@shape [batch, nIn] -> [batch, nOut]` declaration in the doc comment of a user layer's forward. */
interface DeclaredShape {
  inputs: (number | string)[];
  output: (number | string)[];
  text: string;
}

const SHAPE_TAG = /@shape\s+(\[[^\]]*\])\s*(?:->|→)\s*(\[[^\]]*\])/;

function parseDims(text: string): (number | string)[] | undefined {
  const inner = text.trim().slice(1, -1).trim();
  if (inner === "") return [];
  const out: (number | string)[] = [];
  for (const part of inner.split(",")) {
    const p = part.trim();
    if (/^\d+$/.test(p)) out.push(Number(p));
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out.push(p);
    else return undefined;
  }
  return out;
}

export function declaredShape(an: Analyzer, decl: ts.Node): DeclaredShape | undefined {
  const ranges = ts.getLeadingCommentRanges(an.sf.text, decl.pos) ?? [];
  for (const r of ranges) {
    const m = SHAPE_TAG.exec(an.sf.text.slice(r.pos, r.end));
    if (!m) continue;
    const inputs = parseDims(m[1] as string);
    const output = parseDims(m[2] as string);
    if (inputs && output) return { inputs, output, text: `${m[1]} → ${m[2]}` };
  }
  return undefined;
}

/**
 * A forward whose shapes the layer declares: names are the layer's numeric fields (`nIn` →
 * `this.nIn`) or stand for whatever the inputs have there (`batch`). A mismatch with known
 * dimensions is a warning (the declaration is the layer's own contract, the engine does not check it).
 */
function declaredForward(an: Analyzer, self: RefV, d: DeclaredShape, args: Value[], node: ts.Node, st: State): Value {
  const id = self.id;
  const x = asTensorLike(an, args[0], st);
  const vars = new Map<string, Dim>();
  const dimOf = (n: number | string): Dim => {
    if (typeof n === "number") return n;
    const f = st.field(id, n);
    if (f?.k === "num") return f.v;
    return vars.get(n);
  };
  let mismatch = false;
  if (x && x.shape && !x.guess) {
    if (x.shape.length !== d.inputs.length) mismatch = true;
    else {
      d.inputs.forEach((n, i) => {
        const actual = (x.shape as Dim[])[i];
        const want = dimOf(n);
        if (want === undefined) {
          if (typeof n === "string") vars.set(n, actual);
        } else if (actual !== undefined && actual !== want) mismatch = true;
      });
    }
  }
  if (mismatch && x && hardShape(x)) {
    const name = nameOf(an, id);
    an.diag({
      node,
      severity: "warning",
      code: "declared-shape",
      message: `${name}.forward: inputs are ${shapeText(x.shape)} but ${layerLabel(an, id).description} declares @shape ${d.text} (inputs ${shapeText(d.inputs.map(dimOf))})`,
      related: relatedBuilt(an, id),
    });
  }
  st.setField(id, "inputs", x ?? tensorOf(undefined));
  const out = tensorOf(mismatch ? undefined : d.output.map(dimOf), { origin: { layer: id, field: "output" } });
  st.setField(id, "output", out);
  return out;
}

/**
 * After a user layer's backward: a gradient the analysis could not compute takes the shape of what
 * it is the gradient of (dinputs ← inputs, dP ← P), marked as inferred so that no check relies on it.
 */
function gradientRule(id: number, st: State): void {
  const o = st.get(id);
  if (!o) return;
  const unknownShape = (v: Value | undefined): boolean => v !== undefined && (v.k === "unknown" || (v.k === "tensor" && v.shape === undefined));
  const inputs = o.fields.get("inputs");
  if (unknownShape(o.fields.get("dinputs")) && inputs?.k === "tensor" && inputs.shape) {
    st.setField(id, "dinputs", tensorOf(inputs.shape, { guess: true, origin: { layer: id, field: "dinputs" } }));
  }
  for (const [k, v] of [...o.fields]) {
    if (!k.startsWith("d") || k.length < 2 || k === "dinputs" || k === "dvalues") continue;
    const p = o.fields.get(k.slice(1));
    if (unknownShape(v) && p?.k === "tensor" && p.shape) st.setField(id, k, tensorOf(p.shape, { guess: true, origin: { layer: id, field: k } }));
  }
}
