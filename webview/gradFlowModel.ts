/**
 * Gradient flow over training, as data (no DOM): for every layer's gradients (`dense1.dweights`,
 * `dense2.dbiases`, `activation1.dinputs`, …) the L2 norm and the mean |gradient| of each summarised
 * step, from the step summaries. Vanishing gradients show as norms falling by orders of magnitude
 * towards the first layers, exploding ones as norms shooting up over the steps.
 */
import type { RunModel } from "../core/run/runModel";

export interface FlowSeries {
  layer: number;
  /** `dense1.dweights`. */
  label: string;
  /** The gradient's name (`dweights`). */
  name: string;
  /** Per step of `steps`: the norm and the mean |value| (NaN where the step lacks one). */
  norms: number[];
  meanAbs: number[];
}

export interface GradFlow {
  steps: number[];
  series: FlowSeries[];
}

/**
 * The gradients of parameters (`dweights`, `dbiases`, …) of every layer in network order, plus each
 * layer's `dinputs` when `withInputs` (the gradient that flows on to the layer before).
 */
export function gradFlow(run: RunModel, withInputs = false): GradFlow {
  const order = run.layerOrder({ topLevelOnly: true });
  const steps: number[] = [];
  const series = new Map<string, FlowSeries>();
  const keyed: FlowSeries[] = [];
  for (const l of order) {
    // The names in the order the layer reports them, parameters first.
    for (const s of run.summaries) {
      const g = s.grads?.find((x) => x.layer === l.id);
      if (!g) continue;
      for (const name of Object.keys(g.norms)) {
        if (name === "dinputs" && !withInputs) continue;
        const key = `${l.id}:${name}`;
        if (series.has(key)) continue;
        const fs: FlowSeries = { layer: l.id, label: `${l.name}.${name}`, name, norms: [], meanAbs: [] };
        series.set(key, fs);
        keyed.push(fs);
      }
    }
  }
  for (const s of run.summaries) {
    if (!s.grads || s.grads.length === 0) continue;
    steps.push(s.step);
    for (const fs of keyed) {
      const g = s.grads.find((x) => x.layer === fs.layer);
      fs.norms.push(g?.norms[fs.name] ?? NaN);
      fs.meanAbs.push(g?.meanAbs?.[fs.name] ?? NaN);
    }
  }
  // Parameters first within a layer (dweights, dbiases), dinputs last.
  keyed.sort((a, b) => order.findIndex((l) => l.id === a.layer) - order.findIndex((l) => l.id === b.layer) || (a.name === "dinputs" ? 1 : 0) - (b.name === "dinputs" ? 1 : 0));
  return { steps, series: keyed };
}

/** The index in `steps` of the step nearest to `step` (for a clicked point, or the shown step). */
export function nearestStep(steps: readonly number[], step: number): number {
  let best = 0;
  for (let i = 1; i < steps.length; i++) if (Math.abs((steps[i] as number) - step) < Math.abs((steps[best] as number) - step)) best = i;
  return best;
}

/** `4 parameter gradients over 30 steps; click the curves to pick a step` (one step: no curves to click). */
export function flowHint(series: number, steps: number): string {
  const grads = `${series} parameter gradient${series === 1 ? "" : "s"}`;
  return steps > 1 ? `${grads} over ${steps.toLocaleString("en-US")} steps; click the curves to pick a step` : `${grads}, ${steps === 1 ? "one step" : "no step"} summarised`;
}
