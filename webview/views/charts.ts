/**
 * Line charts with uPlot (canvas, CSP-clean): loss and accuracy over steps, and per-layer gradient
 * norms. Colours come from the theme's `--vscode-charts-*` variables.
 */
import uPlot from "uplot";
import { shortNumber } from "../../core/format";
import { logSplits } from "../chartScale";
import type { Ctx } from "./context";
import { h } from "./dom";

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  /** Scale key (`y` left, another key gets its own right axis). */
  scale?: string;
  /** The values the legend reads when they differ from those drawn (a 0 is a gap on a log scale but reads 0). */
  legend?: readonly number[];
}

export interface ChartOptions {
  title: string;
  x: number[];
  series: Series[];
  width: number;
  height: number;
  logY?: boolean;
  testid: string;
  /** Labels of the axes, for the accessible description. */
  describe: string;
}

const PALETTE = ["--vscode-charts-blue", "--vscode-charts-orange", "--vscode-charts-green", "--vscode-charts-purple", "--vscode-charts-red", "--vscode-charts-yellow"];

export function paletteColor(ctx: Ctx, i: number): string {
  return ctx.cssVar(PALETTE[i % PALETTE.length] as string, ctx.cssVar("--vscode-foreground", "#888"));
}

/** A chart in a figure; returns the figure and a function that updates its data in place. */
export function lineChart(ctx: Ctx, o: ChartOptions): { el: HTMLElement; setData: (x: number[], ys: (number | null)[][]) => void; plot: uPlot } {
  const fg = ctx.cssVar("--vscode-descriptionForeground", ctx.cssVar("--vscode-foreground", "#888"));
  const grid = ctx.cssVar("--vscode-widget-border", ctx.cssVar("--vscode-panel-border", "rgba(128,128,128,0.25)"));
  const font = `11px ${ctx.cssVar("--vscode-font-family", "sans-serif")}`;
  const scales = [...new Set(o.series.map((s) => s.scale ?? "y"))];
  const axis = (scale: string, side: number): uPlot.Axis => ({
    scale,
    side,
    stroke: fg,
    font,
    labelFont: font,
    grid: { show: side === 3, stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1 },
    values: tickValues,
    // A log scale over many decades (a gradient that vanishes to 1e−20) gets one labelled tick per few
    // decades; uPlot's own splits put 1…9 of every decade on the axis, labels on top of each other.
    ...(o.logY ? { splits: (_u: uPlot, _i: number, min: number, max: number) => logSplits(min, max, Math.max(2, Math.floor(o.height / 30))) } : {}),
    size: 56,
  });
  const opts: uPlot.Options = {
    width: o.width,
    height: o.height,
    title: "",
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false } },
    scales: Object.fromEntries([["x", { time: false }], ...scales.map((k) => [k, o.logY ? { distr: 3 as const } : {}])]),
    // Steps are integers: no 0.5 ticks on short runs.
    axes: [{ stroke: fg, font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000] }, ...scales.map((k, i) => axis(k, i === 0 ? 3 : 1))],
    // Legend values in the inspector's one number style: a gradient norm of 4.5e−5 is not "0".
    series: [
      { label: "step", value: (_u: uPlot, v: number | null) => (v == null ? "–" : String(v)) },
      ...o.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, scale: s.scale ?? "y", spanGaps: true, points: { show: o.x.length < 40 }, value: (_u: uPlot, v: number | null, _si: number, idx: number | null) => legendValue(idx != null && s.legend ? (s.legend[idx] ?? v) : v) })),
    ],
  };
  const holder = h("div", { class: "chart-holder" });
  const el = h("figure", { class: "chart", testid: o.testid, attrs: { role: "img", "aria-label": `${o.title}: ${o.describe}` } }, h("figcaption", {}, o.title), holder);
  const data = [o.x, ...o.series.map((s) => s.values)] as uPlot.AlignedData;
  // Until the pointer is over the chart, the legend reads the last step's values (not "–").
  const showLast = (u: uPlot = plot): void => {
    const n = u.data[0]?.length ?? 0;
    if (n > 0 && u.cursor.idx == null) u.setLegend({ idx: n - 1 });
  };
  opts.hooks = { ready: [(u) => showLast(u)] };
  const plot: uPlot = new uPlot(opts, data, holder);
  holder.addEventListener("mouseleave", () => setTimeout(() => showLast(), 0));
  return {
    el,
    plot,
    setData: (x, ys) => {
      plot.setData([x, ...ys] as uPlot.AlignedData);
      showLast();
    },
  };
}

/** A legend value: `–` for a gap, else 4 significant digits (never a small value rounded to 0). */
export function legendValue(v: number | null | undefined): string {
  return v == null ? "–" : shortNumber(v, 4);
}

/** Axis tick labels in the same style (uPlot's own drop digits: 0.00002 and 0.00004 both read 0). */
export function tickValues(_u: uPlot, splits: (number | null)[]): string[] {
  // A log axis filters its minor ticks to null: they get no label (shortNumber(null) read "−∞").
  return splits.map((v) => (v == null ? "" : shortNumber(v, 3)));
}

/** NaN → null (uPlot's gap). */
export function gaps(values: number[]): (number | null)[] {
  return values.map((v) => (Number.isFinite(v) ? v : null));
}
