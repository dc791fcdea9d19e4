/**
 * The chain-rule panel: the picked element's derivative written out with the real numbers
 * (core/explain), rendered with KaTeX, with the forward and backward calls it came from.
 */
import { explainElement, explainNeeds, eqNumber, type Explanation } from "../../core/explain";
import type { CallSummary } from "../../core/run/runModel";
import type { GradCheckTensor, LayerInfo, TensorData } from "../../core/trace/traceTypes";
import { tensorPanel } from "./tensorPanel";
import { siteLabel } from "../model";
import type { SelectedElement } from "../viewState";
import type { Ctx } from "./context";
import { h, icon, iconButton, siteLink } from "./dom";
import { math } from "./math";
import { updatePanel } from "./update";

async function fetchAll(ctx: Ctx, seq: number | undefined, names: string[], have: Record<string, unknown> | undefined): Promise<Record<string, TensorData | undefined>> {
  const out: Record<string, TensorData | undefined> = {};
  if (seq === undefined || !have) return out;
  await Promise.all(
    names.map(async (n) => {
      if (!(n in have)) return;
      out[n] = await ctx.tensor(seq, n);
    }),
  );
  return out;
}

/** The element stays selected, but its chain rule cannot be written at this step or position: say why. */
export function pendingChain(ctx: Ctx, info: LayerInfo, sel: SelectedElement, why: string): HTMLElement {
  const target = `${info.name}.${sel.tensor}[${sel.index.join("][")}]`;
  return h(
    "section",
    { class: "chain pending", testid: "chain-rule", attrs: { "aria-label": `Chain rule for ${target}`, "data-target": target, "data-pending": "true" } },
    h("div", { class: "section-title" }, icon("symbol-operator"), " Chain rule: ", h("span", { class: "mono" }, target), iconButton("close", "Close the chain rule", () => ctx.actions.selectElement(undefined), "chain-close")),
    h("p", { class: "muted", testid: "chain-pending" }, why),
  );
}

export function chainPanel(ctx: Ctx, info: LayerInfo, sel: SelectedElement): HTMLElement {
  const body = h("div", { class: "chain-body" }, h("p", { class: "muted" }, "Computing…"));
  const target = `${info.name}.${sel.tensor}[${sel.index.join("][")}]`;
  const call = ctx.run.call(sel.seq);
  const where = call ? `Step ${call.step}${ctx.debug && ctx.debug.step === call.step ? `, at the debugger's position (${ctx.debug.label})` : ""}` : "";
  const el = h(
    "section",
    { class: "chain", testid: "chain-rule", attrs: { "aria-label": `Chain rule for ${target}`, "data-target": target, "data-seq": sel.seq, ...(call ? { "data-step": call.step } : {}) } },
    h("div", { class: "section-title" }, icon("symbol-operator"), " Chain rule: ", h("span", { class: "mono" }, target), iconButton("close", "Close the chain rule", () => ctx.actions.selectElement(undefined), "chain-close")),
    where ? h("p", { class: "muted chain-where", testid: "chain-step" }, where) : null,
    body,
  );
  if (!call) {
    body.replaceChildren(h("p", { class: "muted" }, "That call is not in this run any more."));
    return el;
  }
  const update = updatePanel(ctx, info, sel, call);
  if (update) el.appendChild(update);
  const fw = ctx.run.forwardFor(call);
  const needs = explainNeeds(info.kind, sel.tensor);
  const check = ctx.run.gradCheckOf(info.id)?.tensors.find((t) => t.name === sel.tensor);
  void Promise.all([fetchAll(ctx, fw?.seq, needs.forward, fw?.tensors), fetchAll(ctx, call.seq, needs.backward, call.tensors)]).then(
    ([forward, backward]) => {
      const e = explainElement({
        kind: info.kind,
        tensor: sel.tensor,
        index: sel.index,
        forward,
        backward,
        ...(fw?.site ? { forwardSite: fw.site } : {}),
        ...(call.site ? { backwardSite: call.site } : {}),
        ...(check ? { gradCheck: check } : {}),
      });
      body.replaceChildren(...renderExplanation(ctx, e));
      // A custom layer has no formula: show what can be shown (issue 13).
      if (info.kind === "custom" || e.rule === "") body.appendChild(customDetails(ctx, info, sel, call, fw, check));
    },
    (err: unknown) => body.replaceChildren(h("p", { class: "tensor-error" }, err instanceof Error ? err.message : String(err))),
  );
  return el;
}

function renderExplanation(ctx: Ctx, e: Explanation): Node[] {
  const out: Node[] = [];
  if (e.rule) out.push(h("div", { class: "chain-rule-general" }, h("span", { class: "muted" }, "Rule "), math(e.ruleLatex, e.rule, { testid: "chain-general", class: "inline" })));
  if (e.latex && !e.note?.startsWith("needs")) out.push(math(e.latex, e.text, { display: true, testid: "chain-equation" }));
  else out.push(h("p", { class: "chain-text mono", testid: "chain-equation", attrs: { "data-text": e.text } }, e.text));
  if (e.terms.length > 1 && e.terms.length <= 12 && e.terms[0]?.labels.length) {
    out.push(
      h(
        "table",
        { class: "terms", testid: "chain-terms" },
        h("tbody", {}, ...e.terms.map((t) => h("tr", {}, h("td", { class: "mono" }, t.labels.join(" · ")), h("td", { class: "mono" }, t.factors.map((f) => eqNumber(f)).join(" · ")), h("td", { class: "mono" }, `= ${eqNumber(t.value)}`)))),
      ),
    );
  }
  const facts: Node[] = [];
  if (e.recorded !== undefined) facts.push(h("dt", {}, "recorded by backward"), h("dd", { class: "mono", testid: "chain-recorded" }, String(e.recorded)));
  if (e.terms.length > 0 && Number.isFinite(e.value)) facts.push(h("dt", {}, "sum of the terms"), h("dd", { class: "mono" }, String(e.value)));
  if (e.difference !== undefined && e.terms.length > 0) facts.push(h("dt", {}, "difference"), h("dd", { class: `mono ${e.difference > 1e-9 * Math.max(1, Math.abs(e.value)) ? "bad" : ""}` }, String(e.difference)));
  if (facts.length) out.push(h("dl", { class: "facts" }, ...facts));
  if (e.note) out.push(h("p", { class: "chain-note", testid: "chain-note" }, icon("info"), ` ${e.note}`));
  const src: Node[] = [];
  if (e.forwardSite) src.push(h("span", {}, "forward call ", siteLink(e.forwardSite, siteLabel(e.forwardSite), ctx.actions.openSource, "chain-forward-source")));
  if (e.backwardSite) src.push(h("span", {}, "backward call ", siteLink(e.backwardSite, siteLabel(e.backwardSite), ctx.actions.openSource, "chain-backward-source")));
  if (src.length) out.push(h("p", { class: "chain-sources" }, ...src.flatMap((n, i) => (i ? [" · ", n] : [n]))));
  return out;
}

/** The element's neighbours in the call (same index): `dvalues`, `output`, `inputs`, when they have its shape. */
function elementOf(t: TensorData | undefined, index: readonly number[], shape: readonly number[]): number | undefined {
  if (!t || t.shape.join() !== shape.join()) return undefined;
  const cols = shape.length >= 2 ? (shape[shape.length - 1] as number) : 1;
  const flat = shape.length >= 2 ? (index[0] as number) * cols + (index[1] as number) : (index[0] as number);
  return t.data[flat];
}

/**
 * For a custom layer's element: its dvalues, output and inputs at the same index, the analytic value
 * (what backward wrote) and the numeric one (central differences), their ratio (2 points at a missing
 * factor), and |analytic − numeric| over the tensor as a heatmap with the worst element marked.
 */
function customDetails(ctx: Ctx, info: LayerInfo, sel: SelectedElement, call: CallSummary, fw: CallSummary | undefined, check: GradCheckTensor | undefined): HTMLElement {
  const box = h("div", { class: "chain-custom", testid: "chain-custom" }, h("p", { class: "muted" }, "Loading the element's values…"));
  const names: [CallSummary | undefined, string][] = [
    [call, "dvalues"],
    [fw, "output"],
    [fw, "inputs"],
    [call, sel.tensor],
  ];
  void Promise.all(names.map(([c, n]) => (c && n in c.tensors ? ctx.tensor(c.seq, n) : Promise.resolve(undefined)))).then(
    ([dv, out, inp, own]) => {
      const shape = own?.shape ?? [];
      const flatOf = (idx: readonly number[]): number => (shape.length >= 2 ? (idx[0] as number) * (shape[shape.length - 1] as number) + (idx[1] as number) : (idx[0] as number));
      const analytic = own ? own.data[flatOf(sel.index)] : undefined;
      let numeric: number | undefined;
      const at = check?.numeric?.indices.indexOf(flatOf(sel.index)) ?? -1;
      if (at >= 0) numeric = check?.numeric?.values[at];
      else if (check?.worst && check.worst.index.join() === sel.index.join()) numeric = check.worst.numeric;
      const ref = `[${sel.index.join("][")}]`;
      const rows: Node[] = [];
      const row = (k: string, v: number | undefined, testid: string): void => {
        if (v === undefined) return;
        rows.push(h("dt", {}, k), h("dd", { class: "mono", testid, attrs: { "data-value": String(v) } }, String(v)));
      };
      row(`dvalues${ref}`, elementOf(dv, sel.index, shape), "custom-dvalues");
      row(`output${ref}`, elementOf(out, sel.index, shape), "custom-output");
      row(`inputs${ref}`, elementOf(inp, sel.index, shape), "custom-inputs");
      row(`${sel.tensor}${ref} (your backward)`, analytic, "custom-analytic");
      row("central differences", numeric, "custom-numeric");
      const ratio = analytic !== undefined && numeric !== undefined && numeric !== 0 ? analytic / numeric : undefined;
      if (ratio !== undefined) row("ratio analytic / numeric", ratio, "custom-ratio");
      const parts: Node[] = [h("dl", { class: "facts" }, ...rows)];
      if (ratio !== undefined && Number.isFinite(ratio) && Math.abs(ratio - 1) > 1e-3) {
        const r = Math.round(ratio);
        const hint = Math.abs(ratio - r) < 0.05 && r !== 0 && r !== 1 ? `a ratio of ${r} points at a missing or extra factor of ${r} in backward` : Math.abs(ratio + 1) < 0.05 ? "a ratio of −1 points at a sign error in backward" : "the two disagree: compare backward with the derivative of forward";
        parts.push(h("p", { class: "chain-note", testid: "custom-hint" }, icon("lightbulb"), ` ${hint}`));
      } else if (numeric === undefined) parts.push(h("p", { class: "muted" }, "This element was not among the elements the gradient check compared."));
      const nums = check?.numeric;
      if (own && nums && nums.indices.length > 0) {
        // |analytic − numeric| where checked; elements the check did not compare stay empty (NaN, drawn grey).
        const err = new Float64Array(own.data.length).fill(NaN);
        let worst = -1;
        nums.indices.forEach((i, k) => {
          err[i] = Math.abs((own.data[i] as number) - (nums.values[k] as number));
          if (worst < 0 || (err[i] as number) > (err[worst] as number)) worst = i;
        });
        const cols = shape.length >= 2 ? (shape[shape.length - 1] as number) : shape[0] ?? 1;
        const marked: [number, number] | undefined = worst >= 0 ? (shape.length >= 2 ? [Math.floor(worst / cols), worst % cols] : [0, worst]) : undefined;
        const max = Math.max(...nums.indices.map((i) => err[i] as number).filter(Number.isFinite), 0);
        parts.push(
          tensorPanel({
            ctx: { ...ctx, special: [128, 128, 128] },
            source: { data: { shape: [...shape], data: err } },
            name: `|analytic − numeric|`,
            label: `|${info.name}.${sel.tensor} − numeric|`,
            shape: [...shape],
            note: `${nums.indices.length.toLocaleString("en-US")} of ${own.data.length.toLocaleString("en-US")} elements compared (grey: not compared); the worst is marked`,
            testid: "custom-error-map",
            scale: { kind: "sequential", lo: 0, hi: max > 0 ? max : 1 },
            ...(marked ? { marked } : {}),
            zoomKey: `custom:${call.seq}:${sel.tensor}`,
          }),
        );
      }
      box.replaceChildren(h("div", { class: "section-title sub" }, `What can be shown for ${info.name}.${sel.tensor}${ref}`), ...parts);
    },
    (err: unknown) => box.replaceChildren(h("p", { class: "tensor-error" }, err instanceof Error ? err.message : String(err))),
  );
  return box;
}
