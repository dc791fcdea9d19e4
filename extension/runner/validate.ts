/**
 * Checks that a value is a well-formed trace event before anything downstream (run store, inspector,
 * language server, saved trace) sees it. Every producer is untrusted: the model's worker thread (the
 * model shares its realm), a Python tracer, a saved trace file. A bad event is never repaired: the
 * caller drops it and says so.
 *
 * `validateEvent(x)` returns undefined for a good event, else a short reason naming the field.
 * Imports nothing from vscode or Node.
 */
import type { TraceEvent } from "../../core/host";

type TraceEventType = TraceEvent["type"];

/** Longest name, description or file path accepted. */
const MAX_NAME = 4096;
/** Longest message (console text is cut by the trace limiter before it gets here, at a lower length). */
const MAX_TEXT = 1 << 20;
/** Dimensions of a tensor. */
const MAX_RANK = 8;
/** Entries of small arrays (params, grads, frames, index, chain-rule steps). */
const MAX_LIST = 1 << 20;

type Check = (x: Record<string, unknown>) => string | undefined;

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x);
const isNum = (x: unknown): x is number => typeof x === "number";
const isInt = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x);
const isCount = (x: unknown): x is number => isInt(x) && x >= 0;
const isStr = (x: unknown, max = MAX_NAME): x is string => typeof x === "string" && x.length <= max;
const isBool = (x: unknown): x is boolean => typeof x === "boolean";

function opt(x: unknown, check: (v: unknown) => boolean): boolean {
  return x === undefined || check(x);
}

function site(x: unknown): boolean {
  return isObj(x) && isStr(x.file) && isCount(x.line) && isCount(x.column);
}

function list(x: unknown, each: (v: unknown) => boolean, max = MAX_LIST): boolean {
  if (!Array.isArray(x) || x.length > max) return false;
  for (const v of x) if (!each(v)) return false;
  return true;
}

function shape(x: unknown): x is number[] {
  return list(x, isCount, MAX_RANK);
}

function tensorData(x: unknown): string | undefined {
  if (!isObj(x)) return "is not an object";
  if (!shape(x.shape)) return "has a bad shape";
  if (!(x.data instanceof Float64Array)) return "has no Float64Array data";
  let size = 1;
  for (const d of x.shape as number[]) size *= d;
  if (x.data.length !== size) return `has ${x.data.length} values for shape [${(x.shape as number[]).join(", ")}]`;
  return undefined;
}

function stats(x: unknown): boolean {
  return isObj(x) && isNum(x.size) && isNum(x.min) && isNum(x.max) && isNum(x.mean) && isNum(x.std) && isNum(x.norm) && isNum(x.nonFinite) && isNum(x.zeros);
}

function record(x: unknown, each: (v: unknown, k: string) => string | undefined): string | undefined {
  if (!isObj(x)) return "is not an object";
  for (const [k, v] of Object.entries(x)) {
    if (k.length > MAX_NAME) return "has a key that is too long";
    const bad = each(v, k);
    if (bad) return `.${k} ${bad}`;
  }
  return undefined;
}

function runError(x: unknown): boolean {
  if (!isObj(x) || !isStr(x.kind, 64) || !isStr(x.message, MAX_TEXT) || !opt(x.site, site) || !opt(x.frames, (f) => list(f, site, 1000))) return false;
  const l = x.layer;
  return l === undefined || (isObj(l) && isStr(l.name) && isStr(l.className) && opt(l.id, isCount));
}

const LAYER_CALL: Check = (e) => {
  const c = e.call;
  if (!isObj(c)) return "call is not an object";
  if (!isCount(c.step) || !isCount(c.seq) || !isCount(c.layer)) return "call has a bad step, seq or layer";
  if (c.phase !== "forward" && c.phase !== "backward") return "call has a bad phase";
  if (!opt(c.site, site) || !opt(c.parent, isCount)) return "call has a bad site or parent";
  if (!opt(c.loss, isNum) || !opt(c.accuracy, isNum)) return "call has a bad loss or accuracy";
  const t = record(c.tensors, tensorData);
  if (t) return `call.tensors${t}`;
  const s = record(c.stats, (v) => (stats(v) ? undefined : "is not a statistics record"));
  if (s) return `call.stats${s}`;
  if (c.refs !== undefined) {
    const r = record(c.refs, (v) => (isObj(v) && isCount(v.seq) && isStr(v.name) ? undefined : "is not a { seq, name } reference"));
    if (r) return `call.refs${r}`;
  }
  return undefined;
};

const CHECKS: Record<TraceEventType, Check> = {
  "run/start": (e) => (isNum(e.version) && isStr(e.file) && isNum(e.startedAt) ? undefined : "run/start needs version, file and startedAt"),
  "layer/new": (e) => {
    const l = e.layer;
    if (!isObj(l)) return "layer is not an object";
    if (!isCount(l.id) || !isStr(l.name) || !isStr(l.kind, 64) || !isStr(l.className) || !isStr(l.description)) return "layer needs id, name, kind, className and description";
    if (!opt(l.site, site) || !isNum(l.paramCount)) return "layer has a bad site or paramCount";
    if (!list(l.params, (p) => isObj(p) && isStr(p.name) && shape(p.shape), 1000)) return "layer has bad params";
    return undefined;
  },
  "layer/call": LAYER_CALL,
  "step/summary": (e) => {
    const s = e.summary;
    if (!isObj(s) || !isCount(s.step)) return "summary needs a step";
    if (!opt(s.loss, isNum) || !opt(s.accuracy, isNum) || !opt(s.learningRate, isNum)) return "summary has a bad loss, accuracy or learning rate";
    if (!opt(s.grads, (g) => list(g, (x) => isObj(x) && isCount(x.layer) && record(x.norms, (n) => (isNum(n) ? undefined : "is not a number")) === undefined, 100_000))) return "summary has bad grads";
    return undefined;
  },
  "scalar/node": (e) => {
    const n = e.node;
    if (!isObj(n) || !isCount(n.id) || !isStr(n.label) || !isStr(n.op, 16) || !isNum(n.data) || !isCount(n.step)) return "scalar node needs id, label, op, data and step";
    return list(n.inputs, isCount, 1000) && list(n.local, isNum, 1000) && opt(n.site, site) ? undefined : "scalar node has bad inputs, local or site";
  },
  "scalar/backward": (e) => {
    const b = e.backward;
    if (!isObj(b) || !isCount(b.step) || !isCount(b.root) || !isNum(b.dvalue) || !opt(b.site, site)) return "scalar backward needs step, root and dvalue";
    const term = (t: unknown): boolean => isObj(t) && isStr(t.name) && isNum(t.value);
    const step = (s: unknown): boolean => isObj(s) && isCount(s.target) && isCount(s.node) && isStr(s.name) && term(s.upstream) && term(s.local) && isNum(s.value) && isBool(s.accumulated);
    if (!list(b.steps, step)) return "scalar backward has bad steps";
    return list(b.grads, (g) => isObj(g) && isCount(g.id) && isNum(g.grad)) ? undefined : "scalar backward has bad grads";
  },
  anomaly: (e) => {
    const a = e.anomaly;
    if (!isObj(a) || !isStr(a.code, 64) || !isStr(a.message, MAX_TEXT) || !isNum(a.step)) return "anomaly needs code, message and step";
    if (a.severity !== "error" && a.severity !== "warning" && a.severity !== "information") return "anomaly has a bad severity";
    return opt(a.layer, isCount) && opt(a.tensor, isStr) && opt(a.index, (i) => list(i, isCount, MAX_RANK)) && opt(a.site, site) ? undefined : "anomaly has a bad layer, tensor, index or site";
  },
  gradcheck: (e) => {
    const r = e.result;
    if (!isObj(r) || !isCount(r.layer) || !isNum(r.step) || !isBool(r.ok) || !opt(r.error, (x) => isStr(x, MAX_TEXT))) return "gradcheck needs layer, step and ok";
    const worst = (w: unknown): boolean => isObj(w) && list(w.index, isCount, MAX_RANK) && isNum(w.analytic) && isNum(w.numeric) && isNum(w.absErr) && isNum(w.relErr);
    const t = (x: unknown): boolean => isObj(x) && isStr(x.name) && isBool(x.ok) && isNum(x.checked) && isNum(x.total) && isNum(x.kinks) && isNum(x.rtol) && isNum(x.atol) && opt(x.worst, worst);
    return list(r.tensors, t, 1000) ? undefined : "gradcheck has bad tensors";
  },
  console: (e) => {
    if (e.level !== "log" && e.level !== "info" && e.level !== "warn" && e.level !== "error") return "console has a bad level";
    return isStr(e.text, MAX_TEXT) && opt(e.site, site) ? undefined : "console needs text";
  },
  "run/end": (e) => {
    if (!isBool(e.ok) || !isNum(e.steps) || !isNum(e.durationMs) || !list(e.keptSteps, isCount, 1_000_000)) return "run/end needs ok, steps, durationMs and keptSteps";
    return opt(e.error, runError) ? undefined : "run/end has a bad error";
  },
};

/** The event types this reader knows. */
export const EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(CHECKS));

/** Undefined when `x` is a well-formed trace event; otherwise why it is not. */
export function validateEvent(x: unknown): string | undefined {
  if (!isObj(x)) return "an event is not an object";
  const type = x.type;
  if (typeof type !== "string" || !EVENT_TYPES.has(type)) return `unknown event type ${JSON.stringify(typeof type === "string" ? type.slice(0, 40) : type)}`;
  try {
    const bad = CHECKS[type as TraceEventType](x);
    return bad === undefined ? undefined : `${type}: ${bad}`;
  } catch (e) {
    // A getter or a proxy in a forged object: not an event.
    return `${type}: ${e instanceof Error ? e.message : "unreadable"}`;
  }
}

/** Narrowing form of `validateEvent`. */
export function isTraceEvent(x: unknown): x is TraceEvent {
  return validateEvent(x) === undefined;
}
