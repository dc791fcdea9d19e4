/**
 * The heatmaps' colour scales (d3-scale-chromatic): diverging RdBu reversed (negative blue, 0 white,
 * positive red) for signed values, Viridis (dark to yellow, readable in light, dark and high-contrast
 * themes and for colour-blind readers) for non-negative values and probabilities, Tableau10 for classes.
 */
import { interpolateRdBu, interpolateViridis, schemeTableau10 } from "d3-scale-chromatic";
import { buildColorTable, parseColor, type ColorTable, type ScaleTables } from "./heatmapCore";

export function divergingTable(): ColorTable {
  return buildColorTable(interpolateRdBu, true);
}

/** The three scales' tables. */
export function scaleTables(): ScaleTables {
  const categorical = new Uint8Array(schemeTableau10.length * 3);
  schemeTableau10.forEach((c, i) => categorical.set(parseColor(c), i * 3));
  return { diverging: divergingTable(), sequential: buildColorTable(interpolateViridis, false), categorical };
}

/** A CSS colour (as computed: `rgb(…)` or `#rrggbb`) to RGB. */
export function cssColorToRgb(s: string): [number, number, number] {
  return parseColor(s);
}

/** CSS `rgb()` of the diverging scale at value v of [−max, max] (for legends). */
export function scaleCss(v: number, max: number): string {
  return interpolateRdBu(1 - (v / max + 1) / 2);
}

/** CSS colour of the sequential scale at t ∈ [0, 1]. */
export function sequentialCss(t: number): string {
  return interpolateViridis(t);
}

/** CSS colour of class i. */
export function categoricalCss(i: number): string {
  return schemeTableau10[i % schemeTableau10.length] as string;
}
