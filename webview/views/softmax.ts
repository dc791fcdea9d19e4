/**
 * The softmax panel: the Jacobian `diag(s) − s·sᵀ` of a chosen sample, and the check that the
 * separate path (CCE backward, then each sample's Jacobian) equals the combined `(ŷ − y)/n`, with
 * both matrices and the largest difference.
 */
import { compareSoftmaxCcePaths } from "../../core/layers/crossEntropy";
import { softmaxJacobian } from "../../core/layers/softmax";
import type { CallSummary } from "../../core/run/runModel";
import type { LayerInfo, TensorData } from "../../core/trace/traceTypes";
import { eqNumber } from "../../core/explain";
import type { Ctx } from "./context";
import { h, icon, iconButton } from "./dom";
import { math } from "./math";
import { tensorPanel } from "./tensorPanel";

interface Sources {
  probs?: { seq: number; name: string; from: string };
  targets?: { seq: number; name: string; from: string };
}

/** Where the probabilities and the targets of a softmax layer's step come from. */
export function softmaxSources(ctx: Ctx, info: LayerInfo, calls: CallSummary[]): Sources {
  const out: Sources = {};
  const fw = [...calls].reverse().find((c) => c.phase === "forward" && c.tensors.output);
  const bw = [...calls].reverse().find((c) => c.phase === "backward");
  if (fw) out.probs = { seq: fw.seq, name: "output", from: `${info.name}.output` };
  else if (info.kind === "softmax-cce" && bw?.tensors.dvalues) out.probs = { seq: bw.seq, name: "dvalues", from: `${info.name} backward dvalues (the softmax outputs)` };
  if (info.kind === "softmax-cce") {
    const t = [bw, fw].find((c) => c?.tensors.targets);
    if (t) out.targets = { seq: t.seq, name: "targets", from: `${info.name}.targets` };
  } else {
    // A separate Softmax: the targets of a categorical cross-entropy called in the same step.
    const cce = ctx.run.callsInStep(ctx.step).filter((c) => ctx.run.layers.get(c.layer)?.kind === "cce" && c.tensors.targets);
    const c = cce[cce.length - 1];
    if (c) out.targets = { seq: c.seq, name: "targets", from: `${ctx.run.layers.get(c.layer)?.name ?? "loss"}.targets` };
  }
  return out;
}

/** A core Tensor (readonly shape) as trace data. */
function td(t: { shape: readonly number[]; data: Float64Array }): TensorData {
  return { shape: [...t.shape], data: t.data };
}

function row(t: TensorData, n: number): TensorData {
  const k = t.shape[1] ?? t.shape[0] ?? 0;
  return { shape: [1, k], data: t.data.slice(n * k, n * k + k) };
}

export function softmaxPanel(ctx: Ctx, info: LayerInfo, calls: CallSummary[]): HTMLElement | null {
  const src = softmaxSources(ctx, info, calls);
  if (!src.probs) return null;
  const probsCall = ctx.run.call(src.probs.seq);
  const shape = probsCall?.tensors[src.probs.name]?.shape ?? [0, 0];
  const samples = shape[0] ?? 0;
  const k = shape[1] ?? 0;
  const sample = Math.min(Math.max(0, ctx.view.samples[String(info.id)] ?? 0), Math.max(0, samples - 1));
  const go = (n: number): void => ctx.actions.setSample(info.id, Math.min(Math.max(0, n), samples - 1));
  const input = h("input", {
    class: "sample-input",
    testid: "sample-input",
    attrs: { type: "number", min: 0, max: samples - 1, step: 1, value: sample, "aria-label": `Sample (0 to ${samples - 1})` },
    on: {
      change: (e) => go(Number((e.target as HTMLInputElement).value)),
      keydown: (e) => {
        if (e.key === "Enter") go(Number((e.target as HTMLInputElement).value));
      },
    },
  });
  const picker = h(
    "div",
    { class: "sample-picker", testid: "sample-picker" },
    h("label", {}, "Sample ", input),
    ` of ${samples} `,
    iconButton("chevron-left", "Previous sample", () => go(sample - 1), "sample-prev"),
    iconButton("chevron-right", "Next sample", () => go(sample + 1), "sample-next"),
  );
  const jac = h("div", { class: "softmax-jacobian" });
  const check = h("div", { class: "softmax-check-slot" });
  const el = h(
    "section",
    { class: "softmax", testid: "softmax-panel", attrs: { "aria-label": "Softmax Jacobian" } },
    h("div", { class: "section-title" }, icon("symbol-misc"), " Softmax Jacobian ", math("J = \\operatorname{diag}(s) - s\\,s^{\\top}", "J = diag(s) − s·sᵀ", { class: "inline" }), h("span", { class: "muted" }, ` of one sample (s from ${src.probs.from}, ${k} classes)`)),
    picker,
    jac,
    check,
  );
  const probs = src.probs;
  ctx.whenVisible(el, () => {
    void Promise.all([ctx.tensor(probs.seq, probs.name), src.targets ? ctx.tensor(src.targets.seq, src.targets.name) : Promise.resolve(undefined)]).then(
      ([p, y]) => {
        const s = row(p, sample);
        const J = td(softmaxJacobian(s.data));
        jac.replaceChildren(
          h(
            "div",
            { class: "tensor-row" },
            tensorPanel({ ctx, source: { data: s }, name: `s (sample ${sample})`, label: `s`, shape: s.shape, testid: "softmax-sample" }),
            tensorPanel({ ctx, source: { data: J }, name: "jacobian", label: `J_${sample}`, shape: J.shape, note: `diag(s) − s·sᵀ of sample ${sample}`, testid: "jacobian" }),
          ),
        );
        if (!y) {
          check.replaceChildren(h("p", { class: "muted" }, "No targets recorded in this step, so there is no combined/separate check."));
          return;
        }
        let cmp: { combined: TensorData; separate: TensorData; maxDiff: number; maxDiffAt: [number, number] };
        try {
          const c = compareSoftmaxCcePaths(p, y);
          cmp = { combined: td(c.combined), separate: td(c.separate), maxDiff: c.maxDiff, maxDiffAt: c.maxDiffAt };
        } catch (err) {
          check.replaceChildren(h("p", { class: "tensor-error" }, `The check could not run: ${err instanceof Error ? err.message : String(err)}`));
          return;
        }
        const small = (p.shape[0] ?? 0) <= 12;
        const rowOf = (t: TensorData, label: string, testid: string): HTMLElement => tensorPanel({ ctx, source: { data: row(t, sample) }, name: `${label}, sample ${sample}`, label, shape: [1, k], testid });
        check.replaceChildren(
          h(
            "div",
            { class: "softmax-check", testid: "softmax-check", attrs: { "data-max-diff": String(cmp.maxDiff) } },
            h("div", { class: "section-title" }, icon("git-compare"), " Separate path vs combined gradient"),
            h(
              "p",
              { class: "explain" },
              "Combined: ",
              math("\\frac{\\hat{y} - y}{n}", "(ŷ − y)/n", { class: "inline" }),
              ". Separate: cross-entropy backward ",
              math("-\\frac{y}{\\hat{y}\\,n}", "−y/(ŷ·n)", { class: "inline" }),
              ", then each sample's Jacobian. They must agree to rounding.",
            ),
            h(
              "div",
              { class: "tensor-row" },
              tensorPanel({ ctx, source: { data: cmp.combined }, name: "combined", label: "combined", shape: cmp.combined.shape, note: "(ŷ − y) / n", testid: "combined", maxHeight: 200 }),
              tensorPanel({ ctx, source: { data: cmp.separate }, name: "separate", label: "separate", shape: cmp.separate.shape, note: "J · CCE backward", testid: "separate", maxHeight: 200 }),
              small ? null : rowOf(cmp.combined, "combined", "combined-row"),
              small ? null : rowOf(cmp.separate, "separate", "separate-row"),
            ),
            h(
              "p",
              { class: `max-diff ${cmp.maxDiff < 1e-10 ? "ok" : "bad"}`, testid: "max-diff", attrs: { "data-value": String(cmp.maxDiff) } },
              icon(cmp.maxDiff < 1e-10 ? "pass" : "error"),
              ` Largest difference: ${eqNumber(cmp.maxDiff)} at [${cmp.maxDiffAt.join("][")}]`,
              h("span", { class: "muted" }, ` (${String(cmp.maxDiff)})`),
            ),
          ),
        );
      },
      (err: unknown) => jac.replaceChildren(h("p", { class: "tensor-error" }, err instanceof Error ? err.message : String(err))),
    );
  });
  return el;
}
