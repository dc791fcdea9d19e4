/**
 * What the inspector persists across reloads with `setState`: the view, never the data. Tensors and
 * run events are requested again after a reload (the host replays the run).
 */

/** Bump when `ViewState` changes shape; a stored state of another version is dropped. */
export const VIEW_STATE_VERSION = 1;

/** A picked element of a layer's gradient (for the chain-rule panel). */
export interface SelectedElement {
  layer: number;
  /** The backward call's `seq` within the selected step. */
  seq: number;
  tensor: string;
  index: number[];
}

export interface ViewState {
  v: number;
  /** Which run the selections below belong to (`runKey`): another run starts from its defaults. */
  run?: string;
  /** Layer id of the last card the user worked with. */
  selectedLayer?: number;
  selectedStep?: number;
  selectedElement?: SelectedElement;
  /** Scalar value id whose chain is highlighted (single-neuron graph). */
  selectedScalar?: number;
  /** Heatmap zoom factor (1 = default cell size). */
  zoom: number;
  /** Layer ids whose cards are collapsed. */
  collapsed: number[];
  /** Softmax sample index per layer id. */
  samples: Record<string, number>;
  outputOpen: boolean;
  /** The "compare two steps" choice: a layer's tensor of a phase at steps a and b. */
  compare?: { layer: number; phase: "forward" | "backward"; tensor: string; a: number; b: number };
  /** The heatmap zoomed into a region (`seq:name` and the region), if any. */
  heatZoom?: { key: string; r0: number; c0: number; rows: number; cols: number };
}

export const MIN_ZOOM = 0.5;
export const MAX_ZOOM = 4;

export function defaultViewState(): ViewState {
  return { v: VIEW_STATE_VERSION, zoom: 1, collapsed: [], samples: {}, outputOpen: false };
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

const isInt = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0;

/**
 * Accepts a stored view state: `undefined` when it is missing, malformed or of another
 * `VIEW_STATE_VERSION` (the inspector then starts from the defaults). Unknown fields are dropped.
 */
export function parseViewState(x: unknown): ViewState | undefined {
  if (!isObj(x) || x.v !== VIEW_STATE_VERSION) return undefined;
  const s = defaultViewState();
  if (typeof x.run === "string" && x.run.length < 4096) s.run = x.run;
  if (isInt(x.selectedLayer)) s.selectedLayer = x.selectedLayer;
  if (isInt(x.selectedStep)) s.selectedStep = x.selectedStep;
  if (isInt(x.selectedScalar)) s.selectedScalar = x.selectedScalar;
  if (typeof x.zoom === "number" && Number.isFinite(x.zoom)) s.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, x.zoom));
  if (Array.isArray(x.collapsed)) s.collapsed = x.collapsed.filter(isInt);
  if (isObj(x.samples)) for (const [k, v] of Object.entries(x.samples)) if (isInt(v)) s.samples[k] = v;
  if (typeof x.outputOpen === "boolean") s.outputOpen = x.outputOpen;
  const cmp = x.compare;
  if (isObj(cmp) && isInt(cmp.layer) && (cmp.phase === "forward" || cmp.phase === "backward") && typeof cmp.tensor === "string" && cmp.tensor.length < 200 && isInt(cmp.a) && isInt(cmp.b)) s.compare = { layer: cmp.layer, phase: cmp.phase, tensor: cmp.tensor, a: cmp.a, b: cmp.b };
  const z = x.heatZoom;
  if (isObj(z) && typeof z.key === "string" && z.key.length < 200 && isInt(z.r0) && isInt(z.c0) && isInt(z.rows) && isInt(z.cols) && z.rows > 0 && z.cols > 0) s.heatZoom = { key: z.key, r0: z.r0, c0: z.c0, rows: z.rows, cols: z.cols };
  const e = x.selectedElement;
  if (isObj(e) && isInt(e.layer) && isInt(e.seq) && typeof e.tensor === "string" && Array.isArray(e.index) && e.index.every(isInt)) {
    s.selectedElement = { layer: e.layer, seq: e.seq, tensor: e.tensor, index: e.index as number[] };
  }
  return s;
}

/** What tells runs apart: the run id, the file and the start time (a replay of the same run has the same key). */
export function runKey(header: { runId: number; file: string; startedAt: number }): string {
  return `${header.runId}|${header.startedAt}|${header.file}`;
}

/**
 * The view state for a run: unchanged for the run it was saved with (a replay, a reload of the panel);
 * for another run, or another file, the run's own defaults: no chosen step, element, scalar value or
 * softmax sample of the previous run, and (another file) no collapsed cards, since layer ids then mean
 * other layers. Zoom and the Output section's state are the user's, not the run's, and stay. A state
 * that names no run is taken to be this run's.
 */
export function viewForRun(view: ViewState, header: { runId: number; file: string; startedAt: number }): ViewState {
  const key = runKey(header);
  if (view.run === key) return view;
  // A state saved before it named its run (or restored into a fresh panel by hand): it belongs to this one.
  if (view.run === undefined) return { ...view, run: key };
  const sameFile = view.run !== undefined && view.run.slice(view.run.indexOf("|", view.run.indexOf("|") + 1) + 1) === header.file;
  return { v: view.v, run: key, zoom: view.zoom, outputOpen: view.outputOpen, collapsed: sameFile ? view.collapsed : [], samples: {} };
}
