/**
 * The optimizer's update of a picked weight (core/explainUpdate.ts): below the chain rule of a
 * `dweights`/`dbiases` element, `w ← w − lr·dw` (or momentum, or Adam's moments) with the numbers,
 * checked against the weight the next recorded step used.
 */
import { explainUpdate } from "../../core/explainUpdate";
import type { CallSummary } from "../../core/run/runModel";
import { isParamGradientName } from "../../core/trace/tensorNames";
import type { LayerInfo, OptimizerStep, TensorData } from "../../core/trace/traceTypes";
import type { SelectedElement } from "../viewState";
import type { Ctx } from "./context";
import { h, icon } from "./dom";
import { math } from "./math";

function at(t: TensorData | undefined, index: readonly number[]): number {
  if (!t) return NaN;
  const cols = t.shape.length >= 2 ? (t.shape[t.shape.length - 1] as number) : 1;
  const r = index.length >= 2 ? (index[0] as number) : 0;
  const c = index.length >= 2 ? (index[1] as number) : (index[0] as number);
  return t.shape.length >= 2 ? (t.data[r * cols + c] ?? NaN) : (t.data[c] ?? NaN);
}

function topCall(ctx: Ctx, layer: number, step: number, phase: "forward" | "backward"): CallSummary | undefined {
  const calls = ctx.run.callsIn(layer, step).filter((c) => c.phase === phase && c.parent === undefined);
  return phase === "forward" ? calls[0] : calls[calls.length - 1];
}

/** The update section for a picked parameter gradient, or null for other tensors. */
export function updatePanel(ctx: Ctx, info: LayerInfo, sel: SelectedElement, call: CallSummary): HTMLElement | null {
  if (!isParamGradientName(sel.tensor)) return null;
  const param = sel.tensor.slice(1);
  const step = call.step;
  const opt = ctx.run.summaries.find((s) => s.step === step)?.optimizer;
  const target = `${param}${sel.index.map((i) => `[${i}]`).join("")}`;
  const el = h("section", { class: "update", testid: "update", attrs: { "aria-label": `The optimizer's update of ${info.name}.${target}`, "data-target": `${info.name}.${target}` } });
  const title = h("div", { class: "section-title sub" }, icon("arrow-swap"), ` Update of ${info.name}.${target} at step ${step}`);
  if (!opt && ctx.debug && ctx.debug.step === step) {
    const updating = /\bupdate\b/.test(ctx.debug.label);
    el.append(title, h("p", { class: "muted", testid: "update-not-yet" }, updating ? `The debugger is at the optimizer's update of this step (${ctx.debug.label}): its numbers are in the Variables view's Optimizer scope; this panel writes the update out once the step has ended.` : `Not computed yet at the debugger's position (${ctx.debug.label}, step ${step}): the optimizer updates this step's parameters later.`));
    return el;
  }
  if (!opt) {
    el.append(title, h("p", { class: "muted" }, ctx.run.summaries.some((s) => s.optimizer) ? "No optimizer update was recorded in this step." : "This run used no optimizer (or a producer that does not record its updates)."));
    return el;
  }
  el.append(title, h("p", { class: "muted" }, "Computing…"));
  const fw = ctx.run.forwardFor(call);
  // The earlier updates whose gradients momentum and Adam's moments carry (one update per step).
  const earlier: { step: number; call: CallSummary; opt: OptimizerStep }[] = [];
  for (let s = step - opt.iteration; s < step; s++) {
    const c = s >= 0 ? topCall(ctx, info.id, s, "backward") : undefined;
    const o = ctx.run.summaries.find((x) => x.step === s)?.optimizer;
    if (!c || !o || !(sel.tensor in c.tensors)) break;
    earlier.push({ step: s, call: c, opt: o });
  }
  const next = topCall(ctx, info.id, step + 1, "forward");
  const needs: Promise<TensorData | undefined>[] = [
    fw && param in fw.tensors ? ctx.tensor(fw.seq, param) : Promise.resolve(undefined),
    ctx.tensor(call.seq, sel.tensor),
    next && param in next.tensors ? ctx.tensor(next.seq, param) : Promise.resolve(undefined),
    ...(opt.kind === "Adam" || (opt.momentum ?? 0) > 0 ? earlier.map((e) => ctx.tensor(e.call.seq, sel.tensor)) : []),
  ];
  void Promise.all(needs).then(
    ([w, dw, after, ...hist]) => {
      const e = explainUpdate({
        target,
        optimizer: opt,
        w: at(w, sel.index),
        dw: at(dw, sel.index),
        history: hist.map((t, i) => ({ dw: at(t, sel.index), optimizer: (earlier[i] as { opt: OptimizerStep }).opt })),
        ...(after ? { after: { step: step + 1, value: at(after, sel.index) } } : {}),
      });
      const facts: Node[] = [];
      if (e.recorded) {
        facts.push(h("dt", {}, `used by step ${e.recorded.step}`), h("dd", { class: "mono", testid: "update-recorded" }, String(e.recorded.value)));
        if (!Number.isNaN(e.recorded.difference)) facts.push(h("dt", {}, "difference"), h("dd", { class: `mono ${e.recorded.difference > 1e-12 * Math.max(1, Math.abs(e.recorded.value)) ? "bad" : ""}`, testid: "update-difference" }, String(e.recorded.difference)));
      }
      el.replaceChildren(
        title,
        h("p", { class: "muted update-rule", testid: "update-rule" }, `${e.rule} (lr ${opt.learningRate}${opt.iteration ? `, update ${opt.iteration + 1}` : ", the first update"})`),
        ...e.lines.map((line, i) => math(line.latex, line.text, { display: true, testid: i === e.lines.length - 1 ? "update-equation" : "update-step" })),
        ...(facts.length ? [h("dl", { class: "facts" }, ...facts)] : []),
        ...(e.note ? [h("p", { class: "chain-note", testid: "update-note" }, icon("info"), ` ${e.note}`)] : []),
      );
      el.setAttribute("data-value", String(e.value));
    },
    (err: unknown) => el.replaceChildren(title, h("p", { class: "tensor-error" }, err instanceof Error ? err.message : String(err))),
  );
  return el;
}
