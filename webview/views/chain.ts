/**
 * The chain-rule panel: the picked element's derivative written out with the real numbers
 * (core/explain), rendered with KaTeX, with the forward and backward calls it came from.
 */
import { explainElement, explainNeeds, eqNumber, type Explanation } from "../../core/explain";
import type { LayerInfo, TensorData } from "../../core/trace/traceTypes";
import { siteLabel } from "../model";
import type { SelectedElement } from "../viewState";
import type { Ctx } from "./context";
import { h, icon, iconButton, siteLink } from "./dom";
import { math } from "./math";

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

export function chainPanel(ctx: Ctx, info: LayerInfo, sel: SelectedElement): HTMLElement {
  const body = h("div", { class: "chain-body" }, h("p", { class: "muted" }, "Computing…"));
  const target = `${info.name}.${sel.tensor}[${sel.index.join("][")}]`;
  const el = h(
    "section",
    { class: "chain", testid: "chain-rule", attrs: { "aria-label": `Chain rule for ${target}`, "data-target": target } },
    h("div", { class: "section-title" }, icon("symbol-operator"), " Chain rule: ", h("span", { class: "mono" }, target), iconButton("close", "Close the chain rule", () => ctx.actions.selectElement(undefined), "chain-close")),
    body,
  );
  const call = ctx.run.call(sel.seq);
  if (!call) {
    body.replaceChildren(h("p", { class: "muted" }, "That call is not in this run any more."));
    return el;
  }
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
