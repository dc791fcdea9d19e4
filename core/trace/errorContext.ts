/**
 * The layer and call an error was thrown in: the recorder attaches it to an error thrown inside a traced
 * call (a non-enumerable symbol property, so the error itself is unchanged), and the runner reads it to
 * name the layer, the call site and where the layer's input came from.
 */
import { showShape } from "../errors";
import { isTensor } from "../tensor";
import { type LayerInfo, type Phase, type SourceSite, baseName } from "./traceTypes";

/** Error thrown inside a traced call, with the layer and call that were running. */
export interface ErrorContext {
  layer: LayerInfo;
  phase: Phase;
  site?: SourceSite;
  /** e.g. `inputs [300, 64] came from activation1.output (ReLU, model.ts:12)` */
  detail?: string;
}

const CONTEXT = Symbol.for("backprop-lens.errorContext");

/** The layer and call an error was thrown in, when it was thrown inside a traced call. */
export function errorContext(e: unknown): ErrorContext | undefined {
  return typeof e === "object" && e !== null ? ((e as Record<symbol, ErrorContext | undefined>)[CONTEXT] ?? undefined) : undefined;
}

/** Whether `e` can take a context and has none yet (the innermost traced call names the error). */
export function needsContext(e: unknown): e is object {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[CONTEXT] === undefined;
}

/**
 * Where the first argument of a failed call came from, e.g. `its inputs [300, 64] came from
 * activation1.output (ReLU, built at model.ts:12)`; undefined when no traced layer made it.
 */
export function originDetail(phase: Phase, arg: unknown, from: { info: LayerInfo; name: string } | undefined): string | undefined {
  if (from === undefined) return undefined;
  const shape = isTensor(arg) ? showShape(arg.shape) : undefined;
  const src = from.info;
  const where = src.site ? `, built at ${baseName(src.site.file)}:${src.site.line}` : "";
  return `its ${phase === "forward" ? "inputs" : "dvalues"}${shape ? ` ${shape}` : ""} came from ${src.name}.${from.name} (${src.description}${where})`;
}

/** Attaches `ctx` to the error (frozen error objects keep their own message). */
export function attachContext(e: object, ctx: ErrorContext): void {
  try {
    Object.defineProperty(e, CONTEXT, { value: ctx, enumerable: false });
  } catch {
    // frozen error objects keep their own message
  }
}

/**
 * A hint for the error a learner gets when treating a `Tensor` as nested arrays (`inputs.map(…)`,
 * `inputs.length`, `inputs[0][1]`): undefined when the message is not such an error.
 */
export function arrayUseHint(e: unknown): string | undefined {
  if (!(e instanceof TypeError)) return undefined;
  const m = /\.(map|forEach|reduce|filter|slice|some|every|flat|flatMap|push|join|concat|at)\b.* is not a function|Cannot read properties of undefined \(reading '(?:\d+|length)'\)/.exec(e.message);
  return m ? "the engine's tensors are not arrays: use map, zip, dot, sumRows … on them, at(t, i, j) for one element, or toArray(t) for nested arrays" : undefined;
}
