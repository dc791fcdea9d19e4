/**
 * The static shape analysis of one model file: parse it with the TypeScript parser (no type
 * checker, no other files), follow it with the abstract interpreter (interpreter.ts, engine.ts),
 * and turn what it found into plain data for the language server (types.ts): diagnostics with
 * quick fixes, hovers, inlay hints, the outline of layers in network order, definitions and the
 * shapes of every layer call.
 *
 * A file with syntax errors is analysed as far as it parses: hovers and hints everywhere, but no
 * diagnostic at or after the first syntax error (the run reports that one).
 */
import ts from "typescript";
import { layerName } from "./engine";
import { type AllocInfo, Analyzer, type AnalyzerOptions } from "./interpreter";
import type { Entry } from "./record";
import { STATIC_NOTE, layerTitle } from "./render";
import type { ShapeCall, ShapeDefinition, ShapeDiagnostic, ShapeFact, ShapeHint, ShapeResult, ShapeSymbol } from "./types";
import { shapeText } from "./values";

export type { ShapeResult } from "./types";

function scriptKind(fileName: string): ts.ScriptKind {
  if (/\.(m|c)?js$/i.test(fileName)) return ts.ScriptKind.JS;
  if (/\.jsx$/i.test(fileName)) return ts.ScriptKind.JSX;
  if (/\.tsx$/i.test(fileName)) return ts.ScriptKind.TSX;
  return ts.ScriptKind.TS;
}

/** A hover whose Markdown is made when it is asked for (most are never shown). */
export interface LazyFact {
  range: ShapeFact["range"];
  kind: ShapeFact["kind"];
  markdown(): string;
}

/** An analysis whose hovers are rendered on demand (what the worker keeps): `result.facts` is empty. */
export interface LazyAnalysis {
  result: ShapeResult;
  facts: LazyFact[];
}

/**
 * Analyses a model file's text, leaving the hovers' text to be made on demand. Never throws on bad
 * input; the time it took (parse, analysis, results) is in `result.ms`.
 */
export function analyzeModelLazy(text: string, fileName = "model.ts", options: AnalyzerOptions = {}): LazyAnalysis {
  const t0 = performance.now();
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, false, scriptKind(fileName));
  // The parser's own list of syntax errors (a SourceFile property since TypeScript 1.x).
  const parseDiagnostics = (sf as unknown as { parseDiagnostics?: readonly ts.Diagnostic[] }).parseDiagnostics ?? [];
  const firstError = parseDiagnostics.reduce((m, d) => Math.min(m, d.start ?? 0), Number.POSITIVE_INFINITY);
  const an = new Analyzer(sf, options);
  an.run();
  const built = build(an, sf, firstError);
  built.result.parseErrors = parseDiagnostics.length;
  built.result.ms = performance.now() - t0;
  return built;
}

/** Analyses a model file's text, hovers included. Never throws on bad input. */
export function analyzeModel(text: string, fileName = "model.ts", options: AnalyzerOptions = {}): ShapeResult {
  const a = analyzeModelLazy(text, fileName, options);
  a.result.facts = a.facts.map((f) => ({ range: f.range, kind: f.kind, markdown: f.markdown() }));
  return a.result;
}

function build(an: Analyzer, sf: ts.SourceFile, firstError: number): LazyAnalysis {
  const pos = (p: number): { line: number; character: number } => sf.getLineAndCharacterOfPosition(p);
  const range = (n: ts.Node): ShapeFact["range"] => ({ start: pos(n.getStart(sf)), end: pos(n.end) });
  const lineStarts = sf.getLineStarts();
  const lineEnd = (line: number): number => {
    const next = lineStarts[line + 1] ?? sf.text.length;
    let e = next;
    while (e > (lineStarts[line] ?? 0) && /[\r\n]/.test(sf.text[e - 1] ?? "")) e--;
    return e - (lineStarts[line] ?? 0);
  };
  const log = an.rec.log;

  // ---- diagnostics: one per place and kind, none at, around or after the first syntax error: a call
  // that contains it (`dense1.backward([[1, )` half typed) holds what the parser made up to recover
  // (a missing element), and so does a call on its way (a helper called with it)
  const diagnostics: ShapeDiagnostic[] = [];
  const seen = new Set<string>();
  for (const e of log) {
    if (e.t !== "diag") continue;
    const start = e.node.getStart(sf);
    if (start >= firstError || e.node.end > firstError || e.calls.some((c) => c.end > firstError)) continue;
    const key = `${start}:${e.node.end}:${e.code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const related = [
      ...(e.related ?? []).map((r) => ({ range: range(r.node), message: r.message })),
      ...e.calls
        .slice()
        .reverse()
        .map((c) => ({ range: range(c), message: "called from here" })),
    ];
    diagnostics.push({
      range: range(e.node),
      severity: e.severity,
      code: e.code,
      message: e.message,
      related,
      fixes: (e.fixes ?? []).map((f) => ({ title: f.title, edits: f.edits.map((x) => ({ range: { start: pos(x.pos), end: pos(x.end) }, newText: x.newText })), ...(f.preferred ? { preferred: true } : {}) })),
    });
  }

  // ---- hovers: merged per range (a loop or Sequential calls several layers at one place), made when asked for
  type Merged = { node: ts.Node; kind: ShapeFact["kind"]; parts: (string | (() => string))[] };
  const factMap = new Map<ts.Node, Partial<Record<ShapeFact["kind"], Merged>>>();
  const merged: Merged[] = [];
  for (const e of log) {
    if (e.t !== "fact") continue;
    let byKind = factMap.get(e.node);
    if (!byKind) factMap.set(e.node, (byKind = {}));
    let f = byKind[e.kind];
    if (!f) merged.push((byKind[e.kind] = f = { node: e.node, kind: e.kind, parts: [] }));
    f.parts.push(e.markdown);
  }
  const facts: LazyFact[] = [];
  for (const f of merged) {
    let made: string | undefined;
    const render = (): string => {
      const bodies: string[] = [];
      for (const p of f.parts) {
        const text = typeof p === "function" ? p() : p;
        const body = text.endsWith(STATIC_NOTE) ? text.slice(0, -STATIC_NOTE.length).trimEnd() : text;
        if (!bodies.includes(body)) bodies.push(body);
      }
      const parts = bodies.length > 8 ? [...bodies.slice(0, 8), `… and ${bodies.length - 8} more`] : bodies;
      return [...parts, STATIC_NOTE].join("\n\n");
    };
    facts.push({ range: range(f.node), kind: f.kind, markdown: () => (made ??= render()) });
  }

  // ---- calls, by layer (for constructions, the outline and tests)
  const calls: ShapeCall[] = [];
  const callsByLayer = new Map<number, Extract<Entry, { t: "call" }>[]>();
  for (const e of log) {
    if (e.t !== "call") continue;
    const line = pos(e.node.getStart(sf)).line;
    const a = an.allocs.get(e.layer);
    calls.push({ line, layer: layerName(a), phase: e.phase, shapes: e.shapes });
    let list = callsByLayer.get(e.layer);
    if (!list) callsByLayer.set(e.layer, (list = []));
    list.push(e);
  }

  // ---- layers: constructions (hover), outline in network order
  const layers = [...an.allocs.values()].filter((a): a is AllocInfo => a.kind === "layer" && !a.speculative && a.node.pos >= 0 && ts.isNewExpression(a.node));
  const symbols: ShapeSymbol[] = [];
  const seenCtor = new Set<ts.Node>();
  const ordered = [...layers].sort((x, y) => (x.order ?? Number.MAX_SAFE_INTEGER) - (y.order ?? Number.MAX_SAFE_INTEGER) || x.node.pos - y.node.pos);
  for (const a of ordered) {
    if (seenCtor.has(a.node)) continue;
    seenCtor.add(a.node);
    const list = callsByLayer.get(a.id) ?? [];
    const fwd = list.find((c) => c.phase === "forward");
    const bwd = list.find((c) => c.phase === "backward");
    const wire = (s: (number | null)[] | null | undefined): string => shapeText(s === null || s === undefined ? undefined : s.map((d) => (d === null ? undefined : d)));
    const lines: string[] = [layerTitle({ name: layerName(a), description: a.description ?? a.className ?? "layer", kind: a.layerKind ?? "custom" })];
    const flow: string[] = [];
    if (fwd) flow.push(`forward at line ${pos(fwd.node.getStart(sf)).line + 1}: \`inputs ${wire(fwd.shapes.inputs)} → output ${wire(fwd.shapes.output)}\``);
    if (bwd) {
      const grads = Object.entries(bwd.shapes)
        .filter(([n]) => n !== "dvalues" && n !== "dinputs")
        .map(([n, s]) => `${n} \`${wire(s)}\``);
      flow.push(`backward at line ${pos(bwd.node.getStart(sf)).line + 1}: \`dvalues ${wire(bwd.shapes.dvalues)} → dinputs ${wire(bwd.shapes.dinputs)}\`${grads.length ? ` · ${grads.join(" · ")}` : ""}`);
    }
    if (flow.length === 0) flow.push("not called in this file (as far as the analysis can follow)");
    lines.push(...flow, STATIC_NOTE);
    const declNode = a.declNode ?? a.node;
    const markdown = lines.join("\n\n");
    facts.push({ range: range(declNode), kind: "construction", markdown: () => markdown });
    const detailShape = fwd ? ` · ${wire(fwd.shapes.inputs)} → ${wire(fwd.shapes.output)}` : " · not called";
    const selection = declNode !== a.node && ts.isVariableDeclaration(declNode) ? declNode.name : a.node;
    symbols.push({ name: layerName(a), detail: `${a.description ?? a.className}${detailShape}`, range: range(declNode), selectionRange: range(selection) });
  }

  // ---- hints: declarations where they are; layer calls at the end of their line, one per line
  const hints: ShapeHint[] = [];
  const declSeen = new Map<number, ShapeHint>();
  const callLines = new Map<number, string[]>();
  for (const e of log) {
    if (e.t !== "hint") continue;
    if (e.kind === "decl") {
      const prev = declSeen.get(e.pos);
      if (prev) {
        if (!prev.label.split(" | ").includes(e.label.slice(2))) prev.label = `${prev.label} | ${e.label.slice(2)}`;
        continue;
      }
      const h: ShapeHint = { position: pos(e.pos), label: e.label, kind: "decl" };
      declSeen.set(e.pos, h);
      hints.push(h);
    } else {
      const line = pos(e.pos).line;
      let l = callLines.get(line);
      if (!l) callLines.set(line, (l = []));
      if (!l.includes(e.label)) l.push(e.label);
    }
  }
  for (const [line, labels] of callLines) {
    const label = labels.length > 3 ? `${labels.length} layer calls: ${labels[0]} … ${labels[labels.length - 1]}` : labels.join("  ");
    hints.push({ position: { line, character: lineEnd(line) }, label, kind: "call" });
  }
  hints.sort((x, y) => x.position.line - y.position.line || x.position.character - y.position.character);

  // ---- definitions: a use of a layer → where it was built
  const defMap = new Map<ts.Node, Set<ts.Node>>();
  for (const e of log) {
    if (e.t !== "def") continue;
    const a = an.allocs.get(e.layer);
    if (!a || a.speculative || !ts.isNewExpression(a.node)) continue;
    // Not the construction's own name.
    if (a.declNode && ts.isVariableDeclaration(a.declNode) && a.declNode.name === e.node) continue;
    let set = defMap.get(e.node);
    if (!set) defMap.set(e.node, (set = new Set()));
    set.add(a.node);
  }
  const definitions: ShapeDefinition[] = [...defMap].map(([node, targets]) => ({ origin: range(node), targets: [...targets].map(range) }));

  return { result: { ms: 0, parseErrors: 0, truncated: an.truncated, diagnostics, facts: [], hints, symbols, definitions, calls }, facts };
}
