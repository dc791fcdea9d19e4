/**
 * What every view gets from the app: the data, the view state, the tensor client and the actions
 * (no view reaches for globals).
 */
import type { DebugPositionInfo } from "../../core/protocol";
import type { SourceSite, TensorData } from "../../core/trace/traceTypes";
import type { ScaleTables } from "../heatmapCore";
import type { HeatZoom } from "./heatmap";
import type { RunModel } from "../../core/run/runModel";
import type { SelectedElement, ViewState } from "../viewState";

export interface Actions {
  openSource(site: SourceSite): void;
  selectStep(step: number): void;
  selectElement(e: SelectedElement | undefined): void;
  selectScalar(id: number | undefined): void;
  toggleCard(layer: number): void;
  setSample(layer: number, sample: number): void;
  reveal(layer: number, step?: number): void;
  setZoom(zoom: number): void;
  setOutputOpen(open: boolean): void;
  runAgain(): void;
  stop(): void;
  /** Re-run the model recording a step in full (the host asks which when undefined). */
  recordStep(step?: number): void;
}

export interface Ctx {
  run: RunModel;
  view: ViewState;
  /** The step shown (undefined when nothing is recorded yet). */
  step: number | undefined;
  actions: Actions;
  /** Fetches a tensor of a call (cached). */
  tensor(seq: number, name: string): Promise<TensorData>;
  /** A cached tensor, synchronously. */
  peekTensor(seq: number, name: string): TensorData | undefined;
  /** Calls `cb` once when `el` first comes near the viewport. */
  whenVisible(el: Element, cb: () => void): void;
  /** The heatmaps' colour tables (diverging, sequential, categorical). */
  tables: ScaleTables;
  /** Which heatmap is zoomed into a region (one at a time). */
  heatZoom: HeatZoom;
  /** RGB of the colour for NaN/±Infinity cells (the theme's error colour). */
  special: [number, number, number];
  /** Current value of a CSS variable (theme colours for charts). */
  cssVar(name: string, fallback?: string): string;
  /** Changes when the theme does (part of view signatures). */
  theme: number;
  /** Width available to a card's content, in CSS pixels. */
  contentWidth: number;
  /** Records a heatmap draw time (ms) for the dev page's measurements. */
  recordDraw(key: string, ms: number): void;
  /** Where the debugger is paused in this run, if it is. */
  debug?: DebugPositionInfo;
}
