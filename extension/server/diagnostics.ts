/**
 * Diagnostics from the last runs: the run's error and its anomalies, on the file and line they
 * name (a model file or a file it imports), following the lines through edits.
 *
 * | what                                   | severity                                       |
 * |----------------------------------------|------------------------------------------------|
 * | run error (syntax, import, throw, shape, non-finite, timeout, memory, too-large, internal) | Error |
 * | run error `cancelled`                  | none (the user stopped the run)                |
 * | anomaly `non-finite`, `gradient-check`, `untraced-layer` | Error                       |
 * | anomaly `exploding-gradient`           | Warning                                        |
 * | anomaly `dead-relu`                    | Warning if its severity is warning, else Information |
 * | anomaly `truncated`                    | none                                           |
 *
 * Source "Backprop Lens", code = the error or anomaly kind, message as the run gave it, range = the
 * line trimmed to its non-whitespace text. A site-less error or anomaly goes to its layer's
 * construction line, else to the first line of the model file. An anomaly that repeats the error
 * (same file, line and kind, e.g. the NaN that ended the run) is shown once.
 */
import { findMethod } from "./methods";
import { type Diagnostic, type DiagnosticRelatedInformation, DiagnosticSeverity, type Range } from "vscode-languageserver";
import type { Anomaly, RunError, SourceSite } from "../../core/trace/traceTypes";
import type { ReportStore } from "./reportStore";

export const DIAGNOSTIC_SOURCE = "Backprop Lens";
/** LSP's largest character offset: "to the end of the line" when the line's text is unknown. */
const LINE_END = 2147483647;

/** What diagnostics need from the outside: current line texts and URIs of files. */
export interface DiagnosticContext {
  /** Line `line` (0-based) of `file` as it is now, or undefined when unknown. */
  lineText(file: string, line: number): string | undefined;
  /** The URI to publish `file`'s diagnostics under. */
  uriOf(file: string): string;
}

/** The diagnostics of one file. */
export interface FileDiagnostics {
  file: string;
  uri: string;
  diagnostics: Diagnostic[];
}

/** The severity an anomaly is shown with, or undefined when it is not shown. */
export function anomalySeverity(a: Anomaly): DiagnosticSeverity | undefined {
  switch (a.code) {
    case "non-finite":
    case "gradient-check":
      return DiagnosticSeverity.Error;
    case "exploding-gradient":
      return DiagnosticSeverity.Warning;
    case "dead-relu":
      return a.severity === "warning" || a.severity === "error" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information;
    case "truncated":
      return undefined;
    default:
      return a.severity === "error" ? DiagnosticSeverity.Error : a.severity === "warning" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information;
  }
}

/** The severity a run error is shown with, or undefined when it is not shown. */
export function errorSeverity(e: RunError): DiagnosticSeverity | undefined {
  return e.kind === "cancelled" ? undefined : DiagnosticSeverity.Error;
}

/** The range of a line's non-whitespace text (the whole line when it is blank or unknown). */
export function trimmedLineRange(line: number, text: string | undefined): Range {
  if (text === undefined) return { start: { line, character: 0 }, end: { line, character: LINE_END } };
  const start = text.search(/\S/);
  if (start < 0) return { start: { line, character: 0 }, end: { line, character: text.length } };
  return { start: { line, character: start }, end: { line, character: text.trimEnd().length } };
}

/** Lines a file is read to for a class's method. */
const MAX_METHOD_LINES = 20000;

/** The site of `className.backward` in `file` (read through the context), if the class is written there. */
export function methodSite(file: string, className: string, ctx: DiagnosticContext): SourceSite | undefined {
  const lines: string[] = [];
  for (let n = 0; n < MAX_METHOD_LINES; n++) {
    const t = ctx.lineText(file, n);
    if (t === undefined) break;
    lines.push(t);
  }
  const m = findMethod(lines, className, "backward");
  return m ? { file, line: m.line + 1, column: m.column + 1 } : undefined;
}

/** Every file's diagnostics over all reports, keyed by the store's file key. */
export function computeDiagnostics(store: ReportStore, ctx: DiagnosticContext): Map<string, FileDiagnostics> {
  const out = new Map<string, FileDiagnostics>();
  for (const report of store.reports) {
    const seen = new Set<string>();
    const layerSite = (id: number | undefined): SourceSite | undefined => (id === undefined ? undefined : report.layers.find((l) => l.info.id === id)?.info.site);
    const fallback: SourceSite = { file: report.file, line: 1, column: 1 };
    const place = (site: SourceSite): { key: string; range: Range } | undefined => {
      const now = store.now(report, site);
      if (now === null) return undefined;
      return { key: store.keyOf(site.file), range: trimmedLineRange(now.line, ctx.lineText(site.file, now.line)) };
    };
    const related = (site: SourceSite, message: string): DiagnosticRelatedInformation | undefined => {
      const at = place(site);
      return at ? { location: { uri: ctx.uriOf(site.file), range: at.range }, message } : undefined;
    };
    // The error's key is file, line and kind (an anomaly repeating it has a different wording);
    // anomalies also differ by message (two dead ReLUs called on one line are two diagnostics).
    const add = (site: SourceSite, d: Omit<Diagnostic, "range" | "source">, isError: boolean): void => {
      const at = place(site);
      if (!at) return;
      const where = `${at.key}\0${at.range.start.line}\0${String(d.code)}`;
      if (seen.has(where) || seen.has(`${where}\0${d.message}`)) return;
      seen.add(isError ? where : `${where}\0${d.message}`);
      let entry = out.get(at.key);
      if (!entry) out.set(at.key, (entry = { file: site.file, uri: ctx.uriOf(site.file), diagnostics: [] }));
      entry.diagnostics.push({ range: at.range, source: DIAGNOSTIC_SOURCE, ...d });
    };

    const error = report.error;
    const severity = error ? errorSeverity(error) : undefined;
    if (error && severity !== undefined) {
      const site = error.site ?? error.frames?.[0] ?? layerSite(error.layer?.id) ?? fallback;
      const info: DiagnosticRelatedInformation[] = [];
      for (const f of error.frames ?? []) {
        if (f.file === site.file && f.line === site.line) continue;
        const r = related(f, "called from here");
        if (r) info.push(r);
      }
      const built = layerSite(error.layer?.id);
      if (built && !(built.file === site.file && built.line === site.line)) {
        const r = related(built, `${error.layer?.name ?? "the layer"} was built here`);
        if (r) info.push(r);
      }
      add(site, { severity, code: error.kind, message: error.message, ...(info.length > 0 ? { relatedInformation: info } : {}) }, true);
    }
    for (const a of report.anomalies) {
      const sev = anomalySeverity(a);
      if (sev === undefined) continue;
      const site = a.site ?? layerSite(a.layer) ?? fallback;
      const built = layerSite(a.layer);
      const info: DiagnosticRelatedInformation[] = [];
      if (built && !(built.file === site.file && built.line === site.line)) {
        const layer = report.layers.find((l) => l.info.id === a.layer);
        const r = related(built, `${layer ? `${layer.info.name} = ${layer.info.description}` : "the layer"} was built here`);
        if (r) info.push(r);
      }
      // A failed gradient check of the user's own layer also points at its backward method (issue 13).
      const layer = report.layers.find((l) => l.info.id === a.layer);
      if (a.code === "gradient-check" && layer && layer.info.kind === "custom" && built) {
        const m = methodSite(built.file, layer.info.className, ctx);
        const r = m ? related(m, `${layer.info.className}.backward, the method whose gradient the check found wrong`) : undefined;
        if (r) info.unshift(r);
      }
      add(site, { severity: sev, code: a.code, message: a.message, ...(info.length > 0 ? { relatedInformation: info } : {}) }, false);
    }
  }
  return out;
}

/**
 * Publishes diagnostics the way LSP wants them: the full list per file, an empty list for a file
 * that no longer has any, and nothing for a file whose list did not change.
 */
export class DiagnosticsPublisher {
  /** What was last published, by URI (as JSON, to skip repeats). */
  private readonly published = new Map<string, string>();

  constructor(private readonly send: (uri: string, diagnostics: Diagnostic[]) => void) {}

  publish(next: ReadonlyMap<string, FileDiagnostics>): void {
    const now = new Map<string, Diagnostic[]>();
    for (const f of next.values()) now.set(f.uri, [...(now.get(f.uri) ?? []), ...f.diagnostics]);
    for (const uri of [...this.published.keys()]) {
      if (!now.has(uri)) {
        this.published.delete(uri);
        this.send(uri, []);
      }
    }
    for (const [uri, diagnostics] of now) {
      const json = JSON.stringify(diagnostics);
      if (this.published.get(uri) === json) continue;
      this.published.set(uri, json);
      this.send(uri, diagnostics);
    }
  }

  /** The URIs that currently have diagnostics. */
  get uris(): string[] {
    return [...this.published.keys()];
  }
}
