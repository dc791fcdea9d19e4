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
  if (isInt(x.selectedLayer)) s.selectedLayer = x.selectedLayer;
  if (isInt(x.selectedStep)) s.selectedStep = x.selectedStep;
  if (isInt(x.selectedScalar)) s.selectedScalar = x.selectedScalar;
  if (typeof x.zoom === "number" && Number.isFinite(x.zoom)) s.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, x.zoom));
  if (Array.isArray(x.collapsed)) s.collapsed = x.collapsed.filter(isInt);
  if (isObj(x.samples)) for (const [k, v] of Object.entries(x.samples)) if (isInt(v)) s.samples[k] = v;
  if (typeof x.outputOpen === "boolean") s.outputOpen = x.outputOpen;
  const e = x.selectedElement;
  if (isObj(e) && isInt(e.layer) && isInt(e.seq) && typeof e.tensor === "string" && Array.isArray(e.index) && e.index.every(isInt)) {
    s.selectedElement = { layer: e.layer, seq: e.seq, tensor: e.tensor, index: e.index as number[] };
  }
  return s;
}
