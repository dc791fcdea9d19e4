/**
 * The recorder's anomaly rules: what it says about a broken or diverging model, as `Anomaly` values the
 * recorder emits. Each rule is a function (or, when it remembers earlier steps, a small class) of what
 * the recorder kept; adding a rule means a function here and one call where the recorder has what it
 * needs (`TraceRecorder.endStep` for per-step rules, `finish` for end-of-run rules).
 */
import { showShape } from "../errors";
import { shortNumber } from "../format";
import type { Tensor } from "../tensor";
import { type Anomaly, type GradCheckTensor, type LayerInfo, type SourceSite, baseName } from "./traceTypes";
import { type CallRecord, orderOfNames } from "./callRecord";
import { firstNonFinite, unflatIndex } from "./stats";

/**
 * Exploding gradients: a gradient norm above `threshold` and 100× the norm's first value, reported once
 * per layer. Remembers each norm's first value.
 */
export class ExplodingGradientRule {
  private readonly firstGradNorm = new Map<string, number>();
  private readonly reported = new Set<number>();

  constructor(private readonly threshold: number) {}

  /** Checks a backward record's gradient norms; the anomalies to emit (at most one per layer and run). */
  check(rec: CallRecord, norms: Record<string, number>, info: LayerInfo): Anomaly[] {
    const found: Anomaly[] = [];
    for (const [name, n] of Object.entries(norms)) {
      if (name === "dinputs" && rec.state.layer.paramNames().length > 0) continue;
      const key = `${rec.state.id}:${name}`;
      if (!this.firstGradNorm.has(key) && Number.isFinite(n) && n > 0) this.firstGradNorm.set(key, n);
      const first = this.firstGradNorm.get(key);
      // Gradients of a fresh 0.01-scaled network start tiny and grow while it learns: only a norm that is
      // both large in absolute terms and far above its first value counts as exploding.
      const grew = first === undefined || n > 100 * first;
      if (n > this.threshold && grew && Number.isFinite(n) && !this.reported.has(rec.state.id)) {
        this.reported.add(rec.state.id);
        found.push({
          code: "exploding-gradient",
          severity: "warning",
          step: rec.step,
          layer: info.id,
          tensor: name,
          ...siteOf(rec.site, info.site),
          message:
            `exploding gradient: ‖${info.name}.${name}‖ = ${fmt(n)} at step ${rec.step}` +
            (first !== undefined ? ` (${fmt(n / first)}× its first value ${fmt(first)})` : "") +
            `; try a smaller learning rate`,
        });
      }
    }
    return found;
  }
}

/**
 * A non-finite loss (or, with `loss` undefined, a model without a loss layer): the first tensor, in call
 * order over `records` (the previous and the current step), that holds a NaN or ±Infinity; undefined
 * when none does.
 */
export function firstNonFiniteAnomaly(records: readonly CallRecord[], infoOf: (rec: CallRecord) => LayerInfo, loss: number | undefined): Anomaly | undefined {
  for (const rec of records) {
    for (const name of orderOfNames(rec)) {
      const t = rec.tensors[name] as Tensor;
      const i = firstNonFinite(t);
      if (i < 0) continue;
      const info = infoOf(rec);
      const index = unflatIndex(t.shape, i);
      const v = t.data[i] as number;
      const where = rec.site ? ` (${rec.phase} called at ${baseName(rec.site.file)}:${rec.site.line})` : "";
      return {
        code: "non-finite",
        severity: "error",
        step: rec.step,
        layer: info.id,
        tensor: name,
        index,
        ...siteOf(rec.site, info.site),
        message:
          `${fmt(v)} first appeared in ${info.name}.${name}[${index.join("][")}] of shape ${showShape(t.shape)} ` +
          `at step ${rec.step}${where}, in ${info.description}${info.site ? ` built at ${baseName(info.site.file)}:${info.site.line}` : ""}; ` +
          (loss !== undefined ? `the loss became ${fmt(loss)}` : "the model has no loss layer, so the run went on"),
      };
    }
  }
  return undefined;
}

/** A non-finite loss no kept tensor explains. */
export function nonFiniteLossAnomaly(step: number, loss: number): Anomaly {
  return { code: "non-finite", severity: "error", step, message: `the loss became ${fmt(loss)} at step ${step}` };
}

/**
 * Dead ReLUs: units of a top-level ReLU forward call (a [samples, units] output) that output 0 for every
 * sample; a warning from half the units on. Undefined when none is dead.
 */
export function deadReluAnomaly(rec: CallRecord, info: LayerInfo): Anomaly | undefined {
  const out = rec.tensors.output;
  if (!out || out.shape.length !== 2) return undefined;
  const [r, c] = out.shape as [number, number];
  if (r < 2) return undefined;
  let dead = 0;
  for (let j = 0; j < c; j++) {
    let alive = false;
    for (let i = 0; i < r && !alive; i++) alive = (out.data[i * c + j] as number) !== 0;
    if (!alive) dead++;
  }
  if (dead === 0) return undefined;
  const frac = dead / c;
  return {
    code: "dead-relu",
    severity: frac >= 0.5 ? "warning" : "information",
    step: rec.step,
    layer: info.id,
    tensor: "output",
    ...siteOf(info.site, rec.site),
    message: `dead ReLU: ${dead} of ${c} units of ${info.name} output 0 for all ${r} samples at step ${rec.step}, so no gradient flows through them`,
  };
}

/** A step with more layer calls than the recorder emits; `site` is the line of the first call left out. */
export function truncatedAnomaly(step: number, maxCalls: number, site?: SourceSite): Anomaly {
  return {
    code: "truncated",
    severity: "information",
    step,
    ...(site ? { site } : {}),
    message: `step ${step} made more than ${maxCalls} layer calls; the inspector shows the first ${maxCalls} (a step ends at the first forward after a backward or an optimizer update)`,
  };
}

/**
 * A layer that ran without being traced: its `forward`/`backward` are function fields (`forward = (…) =>
 * …`), which replace the recorder's wrappers after the base constructor ran, and it was called before
 * the recorder's next event (another layer or optimizer built, another layer called) could wrap them.
 */
export function unseenLayerAnomaly(info: LayerInfo): Anomaly {
  return {
    code: "untraced-layer",
    severity: "error",
    step: 0,
    layer: info.id,
    ...siteOf(info.site, undefined),
    message:
      `${info.name} (${info.className}) ran but was not traced or gradient-checked: its forward/backward are function fields ` +
      `(forward = (inputs) => …), which replace the methods Backprop Lens wraps when the layer is built, and it was called ` +
      `before any other layer or optimizer was built or called; write forward(inputs) { … } and backward(dvalues) { … } as methods`,
  };
}

/** A gradient that failed its check, at its worst element; undefined for one that passed. */
export function gradientCheckAnomaly(t: GradCheckTensor, info: LayerInfo, step: number, site: SourceSite | undefined): Anomaly | undefined {
  if (t.ok || t.worst === undefined) return undefined;
  const w = t.worst;
  return {
    code: "gradient-check",
    severity: "error",
    step,
    layer: info.id,
    tensor: t.name,
    index: w.index,
    ...siteOf(site, info.site),
    message:
      `gradient check failed: ${info.name}.${t.name}[${w.index.join("][")}] is ${fmt(w.analytic)} ` +
      `but central differences give ${fmt(w.numeric)} (|error| ${fmt(w.absErr)} > ${fmt(t.atol)} + ${fmt(t.rtol)}·|numeric|); ` +
      `check ${info.className}.backward`,
  };
}

/** `{ site }` from the first of two sites that is known, or nothing. */
function siteOf(a: SourceSite | undefined, b: SourceSite | undefined): { site?: SourceSite } {
  return a ? { site: a } : b ? { site: b } : {};
}

/** Numbers in messages: the product's one notation (`shortNumber`, 6 significant digits). */
function fmt(v: number): string {
  return shortNumber(v, 6);
}
