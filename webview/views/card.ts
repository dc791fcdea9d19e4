/**
 * A layer's card: `dense1 = Dense(2, 3)`, kind, parameters, source link, gradient check and
 * anomalies; then, for the selected step, each call (forward, backward) with its tensors; the
 * softmax panel for softmax layers; the chain-rule panel when an element of this layer is picked;
 * the gradient norms over steps.
 */
import type { CallSummary } from "../../core/run/runModel";
import { isExplainable } from "../../core/explain";
import { readRunGradCheck } from "../../core/run/gradCheckVerdict";
import type { GradCheckResult, LayerInfo } from "../../core/trace/traceTypes";
import { siteLabel } from "../model";
import { chainPanel, pendingChain } from "./chain";
import { elementAt } from "../selection";
import { gaps, lineChart, paletteColor } from "./charts";
import type { Ctx } from "./context";
import { h, icon, linkButton, siteLink, Slot } from "./dom";
import { anomalyItem } from "./problems";
import { softmaxPanel } from "./softmax";
import { statNumber, tensorPanel } from "./tensorPanel";

const FORWARD_ORDER = ["inputs", "targets", "output"];
const BACKWARD_ORDER = ["dvalues", "targets", "dinputs", "dweights", "dbiases"];

/** Tensor names of a call in the book's order, then the rest (custom layers) alphabetically. */
export function orderedTensors(call: CallSummary, params: string[]): string[] {
  const names = Object.keys(call.tensors);
  const order = call.phase === "forward" ? [...FORWARD_ORDER, ...params] : BACKWARD_ORDER;
  const known = order.filter((n) => names.includes(n));
  return [...known, ...names.filter((n) => !known.includes(n)).sort()];
}

export class LayerCard {
  readonly el: HTMLElement;
  private readonly head: Slot;
  private readonly checks: Slot;
  private readonly calls: Slot;
  private readonly softmax: Slot;
  private readonly chain: Slot;
  private readonly norms: Slot;
  private readonly body: HTMLElement;
  private chart: ReturnType<typeof lineChart> | undefined;

  constructor(readonly layerId: number) {
    const bodyId = `layer-body-${layerId}`;
    this.head = new Slot(h("header", { class: "card-head" }));
    this.checks = new Slot(h("div", { class: "card-checks" }));
    this.calls = new Slot(h("div", { class: "card-calls" }));
    this.softmax = new Slot(h("div", { class: "card-softmax" }));
    this.chain = new Slot(h("div", { class: "card-chain" }));
    this.norms = new Slot(h("div", { class: "card-norms" }));
    this.body = h("div", { class: "card-body", attrs: { id: bodyId } }, this.checks.el, this.calls.el, this.chain.el, this.softmax.el, this.norms.el);
    this.el = h("section", { class: "card", testid: "layer-card", attrs: { id: `layer-${layerId}`, tabindex: -1, "data-layer-id": layerId } }, this.head.el, this.body);
  }

  update(ctx: Ctx, info: LayerInfo): void {
    const { run, view, step } = ctx;
    const collapsed = view.collapsed.includes(info.id);
    const calls = run.callsIn(info.id, step);
    const anomalies = run.anomaliesOf(info.id);
    const check = run.gradCheckOf(info.id);
    this.el.setAttribute("data-layer", info.name);
    this.el.setAttribute("aria-label", `${info.name} = ${info.description}`);
    this.el.classList.toggle("collapsed", collapsed);
    this.el.classList.toggle("has-error", anomalies.some((a) => a.severity === "error") || (check !== undefined && !check.ok));
    // The debugger is paused at this layer's call (or update) in the step shown.
    this.el.classList.toggle("debug-current", ctx.debug !== undefined && ctx.debug.layer === info.id && ctx.debug.step === step);
    this.body.hidden = collapsed;
    this.head.update(JSON.stringify([info, collapsed, check?.ok, anomalies.length, calls.length]), () => this.renderHead(ctx, info, collapsed, check, anomalies.length));
    if (collapsed) return;
    this.checks.update(JSON.stringify([run.version === 0 ? 0 : anomalies.length, check ? JSON.stringify(check) : "", step, run.steps.length]), () => this.renderChecks(ctx, info, check));
    // The element under the cursor follows the step shown (and the debugger's position): webview/selection.ts.
    const at = view.selectedElement && view.selectedElement.layer === info.id ? elementAt(run, view.selectedElement, step, ctx.debug) : undefined;
    const sel = at?.kind === "shown" ? at.sel : undefined;
    const width = Math.round(ctx.contentWidth / 40);
    // Re-rendering the calls moves focus away from a heatmap: remember which one had it.
    const active = document.activeElement;
    const focused = active instanceof HTMLCanvasElement && this.calls.el.contains(active) ? active.closest("figure")?.getAttribute("data-key") : undefined;
    const debugKey = ctx.debug && ctx.debug.step === step ? [ctx.debug.seq, ctx.debug.label] : null;
    const rebuilt = this.calls.update(JSON.stringify([step, calls.map((c) => c.seq), view.zoom, ctx.theme, width, sel ?? null, run.steps.length, debugKey]), () => this.renderCalls(ctx, info, calls, sel));
    if (rebuilt && focused) (this.calls.el.querySelector(`figure[data-key="${CSS.escape(focused)}"] canvas`) as HTMLCanvasElement | null)?.focus();
    if (info.kind === "softmax" || info.kind === "softmax-cce") {
      const sample = view.samples[String(info.id)] ?? 0;
      const cceCalls = info.kind === "softmax" ? run.callsInStep(step).filter((c) => run.layers.get(c.layer)?.kind === "cce" && c.tensors.targets).map((c) => c.seq) : [];
      this.softmax.update(JSON.stringify([step, calls.map((c) => c.seq), cceCalls, sample, view.zoom, ctx.theme, width]), () => softmaxPanel(ctx, info, calls));
    }
    const pending = at?.kind === "pending" ? at.why : null;
    this.chain.update(JSON.stringify([sel ?? null, pending, ctx.theme, check?.ok, ctx.debug && ctx.debug.step === step ? ctx.debug.label : null]), () => (sel ? chainPanel(ctx, info, sel) : pending && view.selectedElement ? pendingChain(ctx, info, view.selectedElement, pending) : null));
    this.updateNorms(ctx, info);
  }

  private renderHead(ctx: Ctx, info: LayerInfo, collapsed: boolean, check: GradCheckResult | undefined, anomalyCount: number): Node[] {
    const toggle = h(
      "button",
      {
        class: "twisty",
        title: collapsed ? "Expand" : "Collapse",
        attrs: { type: "button", "aria-expanded": String(!collapsed), "aria-controls": `layer-body-${info.id}`, "aria-label": `${collapsed ? "Expand" : "Collapse"} ${info.name}` },
        on: { click: () => ctx.actions.toggleCard(info.id) },
      },
      icon(collapsed ? "chevron-right" : "chevron-down"),
    );
    const title = h(
      "h2",
      { class: "card-title", attrs: { id: `layer-title-${info.id}` } },
      h("span", { class: "layer-name", testid: "layer-name" }, info.name),
      h("span", { class: "eq" }, " = "),
      h("span", { class: "layer-desc" }, info.description),
    );
    const chips: Node[] = [h("span", { class: "chip kind", title: `class ${info.className}` }, info.kind)];
    chips.push(h("span", { class: "chip", testid: "param-count" }, `${info.paramCount.toLocaleString("en-US")} parameter${info.paramCount === 1 ? "" : "s"}`));
    if (check) {
      const reading = readRunGradCheck(ctx.run, check);
      const vacuous = reading.verdict === "vacuous";
      chips.push(
        h(
          "span",
          { class: `chip ${vacuous ? "warn" : check.ok ? "ok" : "bad"}`, testid: "gradcheck-badge", attrs: { "data-verdict": reading.verdict }, title: vacuous ? "the gradient check compared only zeros: it checked nothing meaningful" : check.ok ? "gradient check passed" : "gradient check failed" },
          icon(vacuous ? "warning" : check.ok ? "pass" : "error"),
          vacuous ? " grad check: only zeros" : check.ok ? " grad check ok" : " grad check failed",
        ),
      );
    }
    if (anomalyCount > 0) chips.push(h("span", { class: "chip warn", testid: "anomaly-badge" }, icon("warning"), ` ${anomalyCount}`));
    const site = info.site ? siteLink(info.site, siteLabel(info.site), ctx.actions.openSource, "layer-source") : null;
    if (site) site.setAttribute("aria-label", `Open the construction of ${info.name} at line ${info.site?.line}`);
    return [toggle, title, h("div", { class: "chips" }, ...chips), site ?? h("span")];
  }

  private renderChecks(ctx: Ctx, info: LayerInfo, check: GradCheckResult | undefined): Node[] {
    const out: Node[] = [];
    // The worst element links to its chain-rule panel when the checked step's backward call is shown.
    const worstLink = (tensor: string, index: number[]): Node => {
      const label = `[${index.join(", ")}]`;
      const call = ctx.run.callsIn(info.id, ctx.step).find((c) => c.phase === "backward" && c.tensors[tensor]);
      if (!call || !isExplainable(tensor)) return h("span", { class: "mono" }, label);
      return linkButton(label, `Show ${info.name}.${tensor}${label}`, () => ctx.actions.selectElement({ layer: info.id, seq: call.seq, tensor, index }), "gradcheck-worst");
    };
    const anomalies = ctx.run.anomaliesOf(info.id);
    if (anomalies.length > 0) out.push(h("ul", { class: "anomalies", testid: "card-anomalies" }, ...anomalies.map((a) => anomalyItem(ctx, a, false))));
    if (check) {
      const reading = readRunGradCheck(ctx.run, check);
      const rows = check.tensors.map((t) =>
        h(
          "tr",
          { class: t.ok ? (reading.reasons[t.name] ? "vacuous" : "ok") : "bad", attrs: { "data-tensor": t.name, ...(reading.reasons[t.name] ? { title: reading.reasons[t.name] } : {}) } },
          // Name and verdict in one cell, the kinks under the count: the table fits a 500 px panel.
          h("th", { attrs: { scope: "row" } }, icon(t.ok ? (reading.reasons[t.name] ? "warning" : "pass") : "error"), ` ${t.name}`, h("span", { class: "gc-verdict" }, t.ok ? (reading.reasons[t.name] ? " only zeros" : " ok") : " FAIL")),
          // (data-label: a narrow panel shows each row as labelled values instead of columns, card.css)
          h("td", { attrs: { "data-label": "checked" } }, `${t.checked.toLocaleString("en-US")}/${t.total.toLocaleString("en-US")}`, t.kinks ? h("span", { class: "gc-kinks" }, ` (${t.kinks.toLocaleString("en-US")} kink${t.kinks === 1 ? "" : "s"} skipped)`) : null),
          h("td", { attrs: { "data-label": "worst at" } }, t.worst ? worstLink(t.name, t.worst.index) : "–"),
          h("td", { class: "mono", attrs: { "data-label": "analytic" } }, t.worst ? statNumber(t.worst.analytic) : "–"),
          h("td", { class: "mono", attrs: { "data-label": "numeric" } }, t.worst ? statNumber(t.worst.numeric) : "–"),
          h("td", { class: "mono", attrs: { "data-label": "rel. error" } }, t.worst ? statNumber(t.worst.relErr) : "–"),
        ),
      );
      out.push(
        h(
          "div",
          { class: `gradcheck ${check.ok ? "ok" : "bad"}`, testid: "gradcheck", attrs: { "data-ok": String(check.ok) } },
          h("div", { class: "section-title" }, icon(check.ok ? (reading.verdict === "vacuous" ? "warning" : "pass") : "error"), ` Gradient check (central differences, step ${check.step}): ${check.ok ? (reading.verdict === "vacuous" ? "checked nothing meaningful" : "ok") : "failed"}`),
          check.error ? h("div", { class: "gradcheck-error" }, check.error) : null,
          reading.vacuous.length > 0
            ? h(
                "p",
                { class: "gradcheck-vacuous", testid: "gradcheck-vacuous" },
                icon("warning"),
                ` ${reading.vacuous.length === check.tensors.length ? "Nothing meaningful was checked" : `${reading.vacuous.join(", ")}: nothing meaningful was checked`}: ${Object.values(reading.reasons).join("; ")}. A gradient that is 0 everywhere agrees with any backward that also returns 0; check a step where gradients flow.`,
              )
            : null,
          h(
            "table",
            {},
            h("thead", {}, h("tr", {}, ...["tensor", "checked", "worst at", "analytic", "numeric", "rel. error"].map((c) => h("th", { attrs: { scope: "col" } }, c)))),
            h("tbody", {}, ...rows),
          ),
        ),
      );
    }
    return out;
  }

  private renderCalls(ctx: Ctx, info: LayerInfo, calls: CallSummary[], sel: Ctx["view"]["selectedElement"]): Node[] {
    const { run, step } = ctx;
    const debugHere = ctx.debug && ctx.debug.step === step ? ctx.debug : undefined;
    // At the debugger's position, a phase this layer ran in other steps but not yet in this one is still to come.
    const notYet = (phase: "forward" | "backward"): Node | null => {
      if (!debugHere || calls.some((c) => c.phase === phase) || !run.callsOf(info.id).some((c) => c.phase === phase)) return null;
      return h(
        "div",
        { class: `call ${phase} not-yet`, testid: "call-not-yet", attrs: { "data-phase": phase } },
        h("div", { class: "call-head" }, icon(phase === "forward" ? "arrow-right" : "arrow-left"), h("span", { class: "phase" }, phase === "forward" ? "Forward" : "Backward")),
        h("p", { class: "muted" }, `Not computed yet at the debugger's position (${debugHere.label}, step ${debugHere.step}).`),
      );
    };
    if (calls.length === 0 && debugHere) {
      const pending = [notYet("forward"), notYet("backward")].filter((n): n is Node => n !== null);
      if (pending.length > 0) return pending;
    }
    if (calls.length === 0) {
      const other = run.stepsOf(info.id);
      if (other.length === 0) return [h("p", { class: "muted" }, ctx.run.end ? "This layer was never called." : "Not called yet.")];
      return [
        h(
          "p",
          { class: "muted not-called", testid: "not-called" },
          `Not called in step ${step ?? "–"}. Called in step${other.length > 1 ? "s" : ""} `,
          ...other.slice(0, 8).flatMap((s, i) => [i > 0 ? ", " : "", linkButton(String(s), `Show step ${s}`, () => ctx.actions.selectStep(s))]),
          ".",
        ),
      ];
    }
    const params = info.params.map((p) => p.name);
    const debug = debugHere;
    const rendered = calls.map((call) => {
      const names = orderedTensors(call, params);
      // Past the debugger's position in this step: the call has not happened yet there.
      if (debug && call.seq > debug.seq) {
        return h(
          "div",
          { class: `call ${call.phase} not-yet`, testid: "call-not-yet", attrs: { "data-phase": call.phase, "data-seq": call.seq } },
          h("div", { class: "call-head" }, icon(call.phase === "forward" ? "arrow-right" : "arrow-left"), h("span", { class: "phase" }, call.phase === "forward" ? "Forward" : "Backward"), call.site ? h("span", { class: "muted" }, `line ${call.site.line}`) : null),
          h("p", { class: "muted" }, `Not computed yet at the debugger's position (${debug.label}, step ${debug.step}): ${names.join(", ")} come when this call runs.`),
        );
      }
      const head = h(
        "div",
        { class: "call-head" },
        icon(call.phase === "forward" ? "arrow-right" : "arrow-left"),
        h("span", { class: "phase" }, call.phase === "forward" ? "Forward" : "Backward"),
        call.site ? siteLink(call.site, `line ${call.site.line}`, ctx.actions.openSource, "call-source") : null,
        call.loss !== undefined ? h("span", { class: "chip" }, `loss ${statNumber(call.loss)}`) : null,
        call.accuracy !== undefined ? h("span", { class: "chip" }, `accuracy ${statNumber(call.accuracy)}`) : null,
        call.phase === "backward" ? h("span", { class: "hint" }, "click an element of a gradient to see its chain rule") : null,
        debug && call.seq === debug.seq ? h("span", { class: "chip debug-here", testid: "debug-here" }, icon("debug-pause"), debug.live ? " debugger paused here" : " debugger here (recorded)") : null,
      );
      const panels = names.map((name) => {
        const t = call.tensors[name];
        if (!t) return null;
        const pickable = call.phase === "backward" && isExplainable(name);
        const isParam = call.phase === "forward" && params.includes(name);
        const selected = sel && sel.seq === call.seq && sel.tensor === name ? sel.index : undefined;
        // The same tensor as another call's (trace format 2): `dvalues = activation2.dinputs`.
        const from = run.origin(call.seq, name);
        const origin = from ? `${run.layers.get(from.call.layer)?.name ?? "?"}.${from.name}${from.call.step !== call.step ? ` (step ${from.call.step})` : ""}` : undefined;
        const panel = tensorPanel({
          ctx,
          source: { seq: call.seq, name },
          name,
          label: `${info.name}.${name}`,
          shape: t.shape,
          stats: t.stats,
          ...(t.dtype !== undefined ? { dtype: t.dtype } : {}),
          ...(isParam ? { note: "parameter, as the forward used it" } : name === "targets" ? { note: "targets" } : origin ? { note: `= ${origin}` } : {}),
          selected,
          onPick: pickable ? (index) => ctx.actions.selectElement({ layer: info.id, seq: call.seq, tensor: name, index }) : undefined,
          attrs: { "data-phase": call.phase, "data-seq": call.seq, "data-key": `${call.seq}:${name}` },
        });
        return panel;
      });
      const current = debug && call.seq === debug.seq ? " debug-current-call" : "";
      return h("div", { class: `call ${call.phase}${current}`, testid: "call", attrs: { "data-phase": call.phase, "data-seq": call.seq } }, head, h("div", { class: "tensor-row" }, ...panels));
    });
    const later = notYet("backward");
    return later ? [...rendered, later] : rendered;
  }

  private updateNorms(ctx: Ctx, info: LayerInfo): void {
    const { steps, series } = ctx.run.gradNorms(info.id);
    if (steps.length < 2 || series.size === 0) {
      this.norms.update("none", () => null);
      this.chart = undefined;
      return;
    }
    const names = [...series.keys()];
    // The card's inner width: the panel less its padding and the card's padding and border.
    const width = Math.max(220, Math.min(ctx.contentWidth - 64, 720));
    const rebuilt = this.norms.update(JSON.stringify([names, ctx.theme, width]), () => {
      this.chart = lineChart(ctx, {
        title: `Gradient norms of ${info.name} over steps`,
        x: steps,
        series: names.map((n, i) => ({ label: `‖${n}‖`, values: gaps(series.get(n) ?? []), color: paletteColor(ctx, i) })),
        width,
        height: 150,
        logY: true,
        testid: "grad-norms",
        describe: `L2 norms of ${names.join(", ")} for ${steps.length} steps (log scale)`,
      });
      return this.chart.el;
    });
    if (!rebuilt && this.chart && (this.chart.plot.data[0]?.length ?? 0) !== steps.length) this.chart.setData(steps, names.map((n) => gaps(series.get(n) ?? [])));
  }
}
