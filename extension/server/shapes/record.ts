/**
 * What the analysis finds as it walks the model file, in one log: diagnostics, hovers, hints,
 * definitions and layer calls. A loop's body is walked until its state settles; what a pass that
 * was not the last one recorded is dropped again (`truncate`), so everything kept describes the
 * settled state.
 */
import type * as ts from "typescript";

/** An edit of a quick fix, by source offsets. */
export interface EditSpec {
  pos: number;
  end: number;
  newText: string;
}

export interface FixSpec {
  title: string;
  edits: EditSpec[];
  preferred?: boolean;
}

export interface DiagSpec {
  node: ts.Node;
  severity: "error" | "warning";
  code: string;
  message: string;
  related?: { node: ts.Node; message: string }[];
  fixes?: FixSpec[];
}

export type Entry =
  | ({ t: "diag"; calls: ts.Node[] } & DiagSpec)
  | { t: "fact"; node: ts.Node; kind: "value" | "call" | "construction"; markdown: string | (() => string) }
  | { t: "hint"; pos: number; label: string; kind: "decl" | "call" }
  | { t: "def"; node: ts.Node; layer: number }
  | { t: "call"; node: ts.Node; layer: number; phase: "forward" | "backward"; shapes: Record<string, (number | null)[] | null> };

export class Recorder {
  readonly log: Entry[] = [];
  /** Above zero, diagnostics are not kept (code the model may never run: uncalled functions). */
  quiet = 0;
  /** Above zero, nothing is kept (a loop's first pass, whose findings the next pass replaces). */
  muted = 0;

  mark(): number {
    return this.log.length;
  }

  truncate(mark: number): void {
    this.log.length = mark;
  }

  diag(d: DiagSpec, calls: readonly ts.Node[]): void {
    if (this.quiet > 0 || this.muted > 0) return;
    this.log.push({ t: "diag", ...d, calls: [...calls] });
  }

  /** A hover; its text may be made later (most are dropped with a loop's earlier passes). */
  fact(node: ts.Node, kind: "value" | "call" | "construction", markdown: string | (() => string)): void {
    if (this.muted > 0) return;
    this.log.push({ t: "fact", node, kind, markdown });
  }

  hint(pos: number, label: string, kind: "decl" | "call"): void {
    if (this.muted > 0) return;
    this.log.push({ t: "hint", pos, label, kind });
  }

  def(node: ts.Node, layer: number): void {
    if (this.muted > 0) return;
    this.log.push({ t: "def", node, layer });
  }

  call(node: ts.Node, layer: number, phase: "forward" | "backward", shapes: Record<string, (number | null)[] | null>): void {
    if (this.muted > 0) return;
    this.log.push({ t: "call", node, layer, phase, shapes });
  }
}
