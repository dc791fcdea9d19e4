/**
 * Gradient flow over training (gradFlowModel.ts): the well-known `plot_grad_flow` bars (one pair per
 * layer parameter, in network order: mean |gradient| and ‖gradient‖, log scale, own SVG) for one
 * step, and the norms of every parameter gradient over all summarised steps as curves (uPlot, log
 * scale). Click a point of the curves to see that step's bars, and, when the step was recorded in
 * full, to show it in the cards.
 */
import { shortNumber } from "../../core/format";
import { flowHint, gradFlow, nearestStep, type GradFlow } from "../gradFlowModel";
import { gaps, lineChart, paletteColor } from "./charts";
import type { Ctx } from "./context";
import { h, icon, s } from "./dom";

const BAR_H = 150;

export function gradFlowSection(ctx: Ctx): HTMLElement | null {
  const flow = gradFlow(ctx.run);
  if (flow.steps.length === 0 || flow.series.length === 0) return null;
  const width = Math.max(260, Math.min(ctx.contentWidth - 32, 960));
  const bars = h("div", { class: "flow-bars" });
  const stepOf = (i: number): number => flow.steps[i] as number;
  let shown = nearestStep(flow.steps, ctx.step ?? flow.steps[flow.steps.length - 1] ?? 0);
  const showBars = (i: number): void => {
    shown = i;
    bars.replaceChildren(barChart(flow, i, width));
  };
  showBars(shown);
  const el = h(
    "section",
    { class: "grad-flow", testid: "grad-flow", attrs: { "aria-label": "Gradient flow over training" } },
    h("div", { class: "section-title" }, icon("pulse"), " Gradient flow", h("span", { class: "muted flow-hint" }, flowHint(flow.series.length, flow.steps.length))),
    bars,
  );
  if (flow.steps.length > 1) {
    const chart = lineChart(ctx, {
      title: "‖gradient‖ of each parameter over steps (log scale)",
      x: flow.steps,
      series: flow.series.map((f, i) => ({ label: f.label, values: gaps(f.norms.map((v) => (v > 0 ? v : NaN))), legend: f.norms, color: paletteColor(ctx, i) })),
      width,
      height: 170,
      logY: true,
      testid: "grad-flow-curves",
      describe: `L2 norms of ${flow.series.map((f) => f.label).join(", ")} for ${flow.steps.length} steps`,
    });
    // A click picks the step under the pointer (uPlot's cursor index).
    chart.plot.over.addEventListener("click", () => {
      const idx = chart.plot.cursor.idx;
      if (idx == null) return;
      showBars(idx);
      const step = stepOf(idx);
      el.setAttribute("data-picked-step", String(step));
      if (ctx.run.steps.includes(step)) ctx.actions.selectStep(step);
    });
    el.appendChild(chart.el);
  }
  el.setAttribute("data-picked-step", String(stepOf(shown)));
  return el;
}

/** `plot_grad_flow`: per parameter, a bar of mean |gradient| and a taller one of ‖gradient‖, log scale. */
function barChart(flow: GradFlow, i: number, width: number): SVGSVGElement {
  const step = flow.steps[i] as number;
  const rows = flow.series.map((f) => ({ label: f.label, norm: f.norms[i] as number, mean: f.meanAbs[i] as number }));
  const vals = rows.flatMap((r) => [r.norm, r.mean]).filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.floor(Math.log10(Math.min(...vals, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...vals, 1e-12)));
  const top = hi > lo ? hi : lo + 1;
  const left = 52;
  const bottom = 64;
  const plotW = Math.max(120, width - left - 8);
  const slot = plotW / Math.max(1, rows.length);
  const topPad = 18;
  const y = (v: number): number => topPad + (v > 0 && Number.isFinite(v) ? BAR_H - ((Math.log10(v) - lo) / (top - lo)) * BAR_H : BAR_H);
  const svg = s("svg", { class: "flow-svg", testid: "grad-flow-bars", attrs: { viewBox: `0 0 ${left + plotW + 8} ${BAR_H + bottom + topPad}`, role: "img", "data-step": step, "aria-label": `Gradient flow at step ${step}: ${rows.map((r) => `${r.label} ‖·‖ ${shortNumber(r.norm, 3)}, mean |·| ${shortNumber(r.mean, 3)}`).join("; ")}` } });
  svg.style.width = "100%";
  svg.style.maxWidth = `${left + plotW + 8}px`;
  for (let e = lo; e <= top; e++) {
    const yy = topPad + BAR_H - ((e - lo) / (top - lo)) * BAR_H;
    svg.appendChild(s("line", { class: "flow-grid", attrs: { x1: left, x2: left + plotW, y1: yy, y2: yy } }));
    svg.appendChild(s("text", { class: "flow-tick", attrs: { x: left - 4, y: yy + 4, "text-anchor": "end" } }, `1e${e < 0 ? "−" : ""}${Math.abs(e)}`));
  }
  rows.forEach((r, k) => {
    const x = left + k * slot;
    const bw = Math.max(3, Math.min(22, slot / 3));
    const g = s("g", { class: "flow-bar", testid: "grad-flow-bar", attrs: { "data-label": r.label, "data-norm": String(r.norm), "data-mean-abs": String(r.mean) } });
    const norm = s("rect", { class: "flow-norm", attrs: { x: x + slot / 2 - bw, y: y(r.norm), width: bw, height: topPad + BAR_H - y(r.norm) } });
    const mean = s("rect", { class: "flow-mean", attrs: { x: x + slot / 2, y: y(r.mean), width: bw, height: topPad + BAR_H - y(r.mean) } });
    norm.appendChild(s("title", {}, `${r.label}: ‖·‖ = ${shortNumber(r.norm, 4)}`));
    mean.appendChild(s("title", {}, `${r.label}: mean |·| = ${shortNumber(r.mean, 4)}`));
    g.append(norm, mean);
    if (!(r.norm > 0)) g.appendChild(s("text", { class: "flow-zero", attrs: { x: x + slot / 2, y: topPad + BAR_H - 4, "text-anchor": "middle" } }, r.norm === 0 ? "0" : "–"));
    const lbl = s("text", { class: "flow-label", attrs: { x: x + slot / 2, y: topPad + BAR_H + 12, "text-anchor": "end", transform: `rotate(-35 ${x + slot / 2} ${topPad + BAR_H + 12})` } }, r.label.length > 24 ? `…${r.label.slice(-23)}` : r.label);
    g.appendChild(lbl);
    svg.appendChild(g);
  });
  svg.appendChild(
    s(
      "text",
      { class: "flow-caption", attrs: { x: left + plotW, y: 10, "text-anchor": "end" } },
      `step ${step}: `,
      s("tspan", { class: "flow-norm-key" }, "■"),
      " ‖gradient‖  ",
      s("tspan", { class: "flow-mean-key" }, "■"),
      " mean |gradient|",
    ),
  );
  return svg;
}

