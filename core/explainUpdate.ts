/**
 * The optimizer's update of one weight, written out with the numbers (the inspector's "update" panel
 * beside the chain rule): `w ← w − lr·dw` for SGD, the velocity for SGD with momentum, the first and
 * second moments and their bias corrections for Adam, each as the engine computes them
 * (core/optim/sgd.ts, core/optim/adam.ts), checked against the weight the next recorded step used.
 *
 * Momentum and Adam's moments carry every earlier step's gradient: they are exact when every step
 * before this one was recorded in full (steps 0, 1, 2 by default); otherwise the panel says which
 * steps are missing and shows the update as measured (the next step's weight minus this one's).
 * Pure: no DOM.
 */
import { eqNumber, latexNumber } from "./explain";
import type { OptimizerStep } from "./trace/traceTypes";

export interface UpdateRequest {
  /** `weights[1][0]`. */
  target: string;
  /** The optimizer's update of the step. */
  optimizer: OptimizerStep;
  /** The weight as this step's forward used it, and its gradient of this step. */
  w: number;
  dw: number;
  /** The element's gradients of the earlier updates, oldest first, each with its update's settings (for momentum and moments). */
  history?: { dw: number; optimizer: OptimizerStep }[];
  /** The weight the next step's forward used, when that step was recorded. */
  after?: { step: number; value: number };
}

export interface UpdateLine {
  /** Plain text with the numbers, e.g. `m = 0.9·0 + 0.1·0.25 = 0.025`. */
  text: string;
  latex: string;
}

export interface UpdateExplanation {
  /** `SGD: w ← w − lr·dw` in words. */
  rule: string;
  lines: UpdateLine[];
  /** The new value of the weight (NaN when the state is unknown). */
  value: number;
  /** The weight the next recorded step used, and the difference. */
  recorded?: { step: number; value: number; difference: number };
  /** What could not be shown, e.g. the missing steps of Adam's moments. */
  note?: string;
}

const f = eqNumber;
const l = latexNumber;
/** A number as a factor: negative ones in parentheses. */
const pf = (v: number): string => (v < 0 ? `(${f(v)})` : f(v));
const pl = (v: number): string => (v < 0 ? `(${l(v)})` : l(v));
/** `a − b·c` written with the sign of the product folded in. */
function minus(a: number, b: number, c: number): [string, string] {
  return [`${f(a)} − ${f(b)}·${pf(c)}`, `${l(a)} - ${l(b)} \\cdot ${pl(c)}`];
}

export function explainUpdate(req: UpdateRequest): UpdateExplanation {
  const o = req.optimizer;
  const lr = o.learningRate;
  const { w, dw, target } = req;
  const history = req.history ?? [];
  // The state is exact when every earlier update's gradient is known.
  const complete = history.length === o.iteration;
  const lines: UpdateLine[] = [];
  let value = NaN;
  let rule: string;
  let note: string | undefined;
  if (o.kind === "Adam") {
    const b1 = o.beta1 ?? 0.9;
    const b2 = o.beta2 ?? 0.999;
    const eps = o.epsilon ?? 1e-7;
    rule = "Adam: m ← β₁·m + (1 − β₁)·dw; v ← β₂·v + (1 − β₂)·dw²; m̂ = m/(1 − β₁ᵗ); v̂ = v/(1 − β₂ᵗ); w ← w − lr·m̂/(√v̂ + ε)";
    if (complete) {
      let m = 0;
      let v = 0;
      for (const h of history) {
        m = b1 * m + (1 - b1) * h.dw;
        v = b2 * v + (1 - b2) * h.dw * h.dw;
      }
      const m1 = b1 * m + (1 - b1) * dw;
      const v1 = b2 * v + (1 - b2) * dw * dw;
      const t = o.iteration + 1;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const mh = m1 / c1;
      const vh = v1 / c2;
      value = w + (-lr * mh) / (Math.sqrt(vh) + eps);
      lines.push(
        { text: `m = ${f(b1)}·${pf(m)} + ${f(1 - b1)}·${pf(dw)} = ${f(m1)}`, latex: `m = ${l(b1)} \\cdot ${pl(m)} + ${l(1 - b1)} \\cdot ${pl(dw)} = ${l(m1)}` },
        { text: `v = ${f(b2)}·${pf(v)} + ${f(1 - b2)}·${pf(dw)}² = ${f(v1)}`, latex: `v = ${l(b2)} \\cdot ${pl(v)} + ${l(1 - b2)} \\cdot ${pl(dw)}^2 = ${l(v1)}` },
        { text: `m̂ = ${f(m1)}/(1 − ${f(b1)}^${t}) = ${f(mh)},  v̂ = ${f(v1)}/(1 − ${f(b2)}^${t}) = ${f(vh)}`, latex: `\\hat m = \\frac{${l(m1)}}{1 - ${l(b1)}^{${t}}} = ${l(mh)},\\quad \\hat v = \\frac{${l(v1)}}{1 - ${l(b2)}^{${t}}} = ${l(vh)}` },
        {
          text: `${target} ← ${f(w)} − ${f(lr)}·${f(mh)}/(√${f(vh)} + ${f(eps)}) = ${f(value)}`,
          latex: `\\mathrm{${target.replace(/\[.*$/, "")}} \\leftarrow ${l(w)} - ${l(lr)} \\cdot \\frac{${l(mh)}}{\\sqrt{${l(vh)}} + ${l(eps)}} = ${l(value)}`,
        },
      );
    } else note = `Adam's moments m and v carry the gradients of all ${o.iteration} earlier updates; only ${history.length} of them were recorded in full, so they cannot be written out here.`;
  } else if (o.kind === "SGD" && (o.momentum ?? 0) > 0) {
    const mu = o.momentum as number;
    rule = "SGD with momentum: u ← μ·u − lr·dw; w ← w + u";
    if (complete) {
      let u = 0;
      for (const h of history) u = mu * u - h.optimizer.learningRate * h.dw;
      const u1 = mu * u - lr * dw;
      value = w + u1;
      lines.push(
        { text: `u = ${f(mu)}·${pf(u)} − ${f(lr)}·${pf(dw)} = ${f(u1)}`, latex: `u = ${l(mu)} \\cdot ${pl(u)} - ${l(lr)} \\cdot ${pl(dw)} = ${l(u1)}` },
        { text: `${target} ← ${f(w)} + ${pf(u1)} = ${f(value)}`, latex: `w \\leftarrow ${l(w)} + ${pl(u1)} = ${l(value)}` },
      );
    } else note = `the velocity u carries the gradients of all ${o.iteration} earlier updates; only ${history.length} of them were recorded in full.`;
  } else if (o.kind === "SGD") {
    rule = "SGD: w ← w − lr·dw";
    value = w + -lr * dw;
    const [t, x] = minus(w, lr, dw);
    lines.push({ text: `${target} ← ${t} = ${f(value)}`, latex: `w \\leftarrow ${x} = ${l(value)}` });
  } else {
    rule = `${o.kind}: the update is the optimizer's own code`;
    note = `Backprop Lens writes out SGD, SGD with momentum and Adam; ${o.kind} is shown as measured.`;
  }
  const after = req.after;
  if (after && Number.isNaN(value)) {
    lines.push({ text: `measured: ${target} went from ${f(w)} to ${f(after.value)} (${after.value - w >= 0 ? "+" : ""}${f(after.value - w)})`, latex: `\\Delta w = ${l(after.value)} - ${l(w)} = ${l(after.value - w)}` });
  }
  return {
    rule,
    lines,
    value,
    ...(after ? { recorded: { step: after.step, value: after.value, difference: Number.isNaN(value) ? NaN : Math.abs(value - after.value) } } : {}),
    ...(note ? { note } : {}),
  };
}
