/**
 * What the static shape analysis of one model file produces (plain data: it crosses from the
 * analysis worker to the language server's main thread by structured clone). Ranges are LSP ranges
 * (0-based lines, UTF-16 characters) in the text that was analysed.
 */
import type { Position, Range } from "vscode-languageserver";

/** A text edit of a quick fix. */
export interface ShapeEdit {
  range: Range;
  newText: string;
}

/** A quick fix for a static diagnostic ("Transpose the weights", "Change dense2 to Dense(3, 3)"). */
export interface ShapeFix {
  title: string;
  edits: ShapeEdit[];
  /** The fix VS Code applies with "Quick Fix…" → the first entry / auto fix. */
  preferred?: boolean;
}

/** Something that cannot work, found before running. */
export interface ShapeDiagnostic {
  range: Range;
  severity: "error" | "warning";
  /** `forward-shape`, `backward-shape`, `targets`, `initial-weights`, `not-2d`, `op-shape`, … */
  code: string;
  message: string;
  /** The other places the message names (the layer's construction, the call that led here). */
  related: { range: Range; message: string }[];
  fixes: ShapeFix[];
}

/** A hover: what the analysis knows at a range (an expression, a layer call, a construction). */
export interface ShapeFact {
  range: Range;
  kind: "value" | "call" | "construction";
  /** Markdown, names already escaped. */
  markdown: string;
}

/** An inlay hint: `: [300, 2]` after a variable, `→ [300, 3]` after a forward call. */
export interface ShapeHint {
  position: Position;
  label: string;
  /** `decl` hints sit after a variable's name; `call` hints at the end of a line that calls a layer. */
  kind: "decl" | "call";
}

/** A layer for the outline, in network order. */
export interface ShapeSymbol {
  name: string;
  detail: string;
  /** The construction (`new Dense(2, 3)`'s statement). */
  range: Range;
  selectionRange: Range;
}

/** Go to definition: from a use of a layer to where it was built. */
export interface ShapeDefinition {
  origin: Range;
  targets: Range[];
}

/** One layer call as the analysis followed it (for tests that compare with a run, and for hovers). */
export interface ShapeCall {
  /** 0-based line of the call. */
  line: number;
  layer: string;
  phase: "forward" | "backward";
  /** Tensor name → shape (null: unknown dimension), or null when nothing is known. */
  shapes: Record<string, (number | null)[] | null>;
}

export interface ShapeResult {
  /** Analysis time (parse included), ms. */
  ms: number;
  /** Parse errors in the text; diagnostics after the first one are dropped (hovers are kept). */
  parseErrors: number;
  /** True when the analysis stopped early (its budget ran out): what it found stands, the rest is unknown. */
  truncated: boolean;
  diagnostics: ShapeDiagnostic[];
  facts: ShapeFact[];
  hints: ShapeHint[];
  symbols: ShapeSymbol[];
  definitions: ShapeDefinition[];
  calls: ShapeCall[];
}
