/** The heatmaps' own diverging scale (RdBu reversed: negative blue, 0 white, positive red). */
import { interpolateRdBu } from "d3-scale-chromatic";
import { buildColorTable, parseColor, type ColorTable } from "./heatmapCore";

export function divergingTable(): ColorTable {
  return buildColorTable(interpolateRdBu, true);
}

/** A CSS colour (as computed: `rgb(…)` or `#rrggbb`) to RGB. */
export function cssColorToRgb(s: string): [number, number, number] {
  return parseColor(s);
}

/** CSS `rgb()` of the scale at value v of [−max, max] (for legends). */
export function scaleCss(v: number, max: number): string {
  return interpolateRdBu(1 - (v / max + 1) / 2);
}
