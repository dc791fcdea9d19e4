/**
 * The shape analysis as editor features (pure functions over an analysis result, so tests call
 * them directly): hovers, inlay hints, diagnostics (merged with a run's), quick fixes, go to
 * definition and document symbols.
 *
 * How static findings and a run's meet:
 * - hovers: on a line the last run reported on (and that was not edited since), the run's hover
 *   answers as before; elsewhere, or on an edited line, the static shapes do (with the run's
 *   outdated hover after them);
 * - inlay hints: the run's hint wins on its lines; static hints fill the rest;
 * - diagnostics: a static one is dropped where the run disagrees: the run reported a problem on the
 *   same line (its own message replaces the static one), or the run executed that line's layer call
 *   without a problem and the line was not edited since.
 */
import {
  type CodeAction,
  CodeActionKind,
  type Diagnostic,
  DiagnosticSeverity,
  type DocumentSymbol,
  type Hover,
  type InlayHint,
  InlayHintKind,
  type Location,
  type LocationLink,
  MarkupKind,
  type Position,
  type Range,
  SymbolKind,
} from "vscode-languageserver";
import type { ShapeFact, ShapeFix, ShapeResult } from "./types";

/** The `source` of static diagnostics (run diagnostics say "Backprop Lens"). */
export const STATIC_SOURCE = "Backprop Lens (before running)";

function contains(r: Range, p: Position): boolean {
  const afterStart = p.line > r.start.line || (p.line === r.start.line && p.character >= r.start.character);
  const beforeEnd = p.line < r.end.line || (p.line === r.end.line && p.character <= r.end.character);
  return afterStart && beforeEnd;
}

function size(r: Range): number {
  return (r.end.line - r.start.line) * 100_000 + (r.end.character - r.start.character);
}

/** The fact to show at a position: the innermost one containing it, else the line's layer call or construction. */
export function factAt<F extends Pick<ShapeFact, "range" | "kind">>(facts: readonly F[], p: Position): F | undefined {
  let best: F | undefined;
  for (const f of facts) {
    if (!contains(f.range, p)) continue;
    if (!best || size(f.range) < size(best.range)) best = f;
  }
  if (best) return best;
  const onLine = facts.filter((f) => f.kind !== "value" && f.range.start.line <= p.line && f.range.end.line >= p.line);
  onLine.sort((a, b) => (a.kind === "call" ? 0 : 1) - (b.kind === "call" ? 0 : 1) || size(a.range) - size(b.range));
  return onLine[0];
}

/**
 * The hover: the run's when it is fresh (`runFresh`), else the static shapes at the position followed
 * by the run's (out of date) hover, if any.
 */
export function combineHover(run: Hover | null, runFresh: boolean, fact: ShapeFact | undefined): Hover | null {
  if (run && runFresh) return run;
  if (!fact) return run;
  const runText = run && typeof run.contents === "object" && "value" in run.contents ? run.contents.value : undefined;
  const value = runText ? `${fact.markdown}\n\n---\n\n${runText}` : fact.markdown;
  return { contents: { kind: MarkupKind.Markdown, value }, range: fact.range };
}

/** Static inlay hints in a range, leaving out lines the run already has a hint on. */
export function shapeInlayHints(result: ShapeResult, from: number, to: number, runLines: ReadonlySet<number>, lineCount: number): InlayHint[] {
  const out: InlayHint[] = [];
  for (const h of result.hints) {
    const line = h.position.line;
    if (line < from || line > to || line >= lineCount) continue;
    if (h.kind === "call" && runLines.has(line)) continue;
    out.push({
      position: h.position,
      label: h.label,
      kind: InlayHintKind.Type,
      paddingLeft: h.kind === "call",
      tooltip: "Backprop Lens: shape before running (static analysis of the current text)",
    });
  }
  return out;
}

/** What the run says about a file's lines (0-based, current text). */
export interface RunLines {
  /** Lines with a diagnostic of the run. */
  diagnostics: ReadonlySet<number>;
  /** Lines whose layer call the run executed and that were not edited since. */
  executed: ReadonlySet<number>;
}

/** The data a static diagnostic carries for its quick fixes. */
export interface StaticDiagnosticData {
  backpropLensStatic: true;
  fixes: ShapeFix[];
}

/** LSP diagnostics of an analysis, where the run does not disagree. */
export function shapeDiagnostics(result: ShapeResult, uri: string, run: RunLines): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const d of result.diagnostics) {
    const line = d.range.start.line;
    if (run.diagnostics.has(line) || run.executed.has(line)) continue;
    const data: StaticDiagnosticData = { backpropLensStatic: true, fixes: d.fixes };
    out.push({
      range: d.range,
      severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
      source: STATIC_SOURCE,
      code: d.code,
      message: d.message,
      ...(d.related.length > 0 ? { relatedInformation: d.related.map((r) => ({ location: { uri, range: r.range }, message: r.message })) } : {}),
      data,
    });
  }
  return out;
}

function isStaticData(x: unknown): x is StaticDiagnosticData {
  return typeof x === "object" && x !== null && (x as StaticDiagnosticData).backpropLensStatic === true && Array.isArray((x as StaticDiagnosticData).fixes);
}

function sameRange(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

/**
 * Quick fixes for the static diagnostics the editor passes back. Only from an analysis of the
 * current text (`result`), so the edits fit.
 */
export function shapeCodeActions(result: ShapeResult, uri: string, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== STATIC_SOURCE) continue;
    const own = result.diagnostics.find((x) => x.code === d.code && sameRange(x.range, d.range));
    if (!own) continue;
    const fixes = own.fixes.length > 0 ? own.fixes : isStaticData(d.data) ? d.data.fixes : [];
    for (const f of fixes) {
      out.push({
        title: f.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        ...(f.preferred ? { isPreferred: true } : {}),
        edit: { changes: { [uri]: f.edits.map((e) => ({ range: e.range, newText: e.newText })) } },
      });
    }
  }
  return out;
}

/** Go to definition from a use of a layer: where it was built. */
export function shapeDefinition(result: ShapeResult, uri: string, p: Position, links: boolean): Location[] | LocationLink[] {
  let best: ShapeResult["definitions"][number] | undefined;
  for (const d of result.definitions) if (contains(d.origin, p) && (!best || size(d.origin) < size(best.origin))) best = d;
  if (!best) return [];
  const b = best;
  if (links) return b.targets.map((t) => ({ originSelectionRange: b.origin, targetUri: uri, targetRange: t, targetSelectionRange: t }));
  return b.targets.map((t) => ({ uri, range: t }));
}

/** The model's layers for the outline, in network order. */
export function shapeSymbols(result: ShapeResult): DocumentSymbol[] {
  return result.symbols.map((s, i) => ({
    name: s.name,
    detail: `${i + 1}. ${s.detail}`,
    kind: SymbolKind.Object,
    range: s.range,
    selectionRange: s.selectionRange,
  }));
}
