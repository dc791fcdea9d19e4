/**
 * Wires the shape analysis into the language server (server.ts calls this): analyses open model
 * files as they change (service.ts, in a worker thread), publishes their static diagnostics with the
 * run's, answers hovers and inlay hints together with the run's, and serves go to definition,
 * document symbols and quick fixes.
 *
 * Requests never wait long for an analysis: a hover that the last run can answer answers at once;
 * otherwise a request waits for the analysis of the current text at most `WAIT_MS`.
 */
import * as path from "node:path";
import type { CodeActionParams, Connection, Diagnostic, DocumentSymbol, Hover, InlayHint, Location, LocationLink, Position, ServerCapabilities } from "vscode-languageserver/node";
import { CodeActionKind } from "vscode-languageserver/node";
import type { FileDiagnostics } from "../diagnostics";
import type { OpenDocument } from "../documents";
import { importsBackpropLens } from "../modelFile";
import type { ReportStore } from "../reportStore";
import { type RunLines, combineHover, shapeCodeActions, shapeDefinition, shapeDiagnostics, shapeInlayHints, shapeSymbols } from "./features";
import { ShapeService } from "./service";

/** How long a request waits for the analysis of the text it is about, ms. */
const WAIT_MS = 1500;

/** TypeScript and JavaScript files, by extension (as the runner compiles them). */
const SCRIPT_RE = /\.(?:[cm]?[jt]s|[jt]sx)$/i;

/**
 * Which open documents get the static analysis: TypeScript/JavaScript model files (by extension and
 * language, and importing "backprop-lens"). A Python model is a model file too (it gets the Run lens),
 * but the analysis reads TypeScript: Python text, which often parses as TypeScript, would get shapes
 * and errors that are not its own, so it gets none.
 */
export function analysable(d: OpenDocument, text: string): boolean {
  return SCRIPT_RE.test(d.file) && d.doc.languageId !== "python" && importsBackpropLens(text);
}

export interface ShapeFeaturesOptions {
  connection: Connection;
  store: ReportStore;
  document(uri: string): OpenDocument | undefined;
  /** The analysis of a file changed: republish diagnostics (with the run's). */
  republish(): void;
  /** Re-request inlay hints. */
  refreshHints(): void;
  log(message: string): void;
  /** dist/shapesWorker.js (default: beside this bundle). */
  workerScript?: string;
  debounceMs?: number;
}

export class ShapeFeatures {
  readonly service: ShapeService;
  private linkSupport = false;

  constructor(private readonly o: ShapeFeaturesOptions) {
    this.service = new ShapeService({
      workerScript: o.workerScript ?? path.join(__dirname, "shapesWorker.js"),
      ...(o.debounceMs !== undefined ? { debounceMs: o.debounceMs } : {}),
      onResult: () => {
        o.republish();
        o.refreshHints();
      },
      log: o.log,
    });
    const c = o.connection;
    c.onDefinition(async (p) => this.definition(p.textDocument.uri, p.position));
    c.onDocumentSymbol(async (p) => this.symbols(p.textDocument.uri));
    c.onCodeAction(async (p) => this.codeActions(p));
  }

  /** What the server adds to its capabilities. */
  capabilities(linkSupport: boolean): Partial<ServerCapabilities> {
    this.linkSupport = linkSupport;
    return {
      definitionProvider: true,
      documentSymbolProvider: { label: "Backprop Lens: layers in network order" },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    };
  }

  /** A document was opened or changed (after the change was applied). */
  changed(uri: string): void {
    const d = this.o.document(uri);
    if (!d) return;
    const text = d.doc.getText();
    if (analysable(d, text)) this.service.set(uri, d.file, d.doc.version, text);
    else if (this.service.has(uri)) {
      this.service.close(uri);
      this.o.republish();
    }
  }

  closed(uri: string): void {
    if (!this.service.has(uri)) return;
    this.service.close(uri);
    this.o.republish();
  }

  private async analysis(uri: string): Promise<{ d: OpenDocument; result: NonNullable<ReturnType<ShapeService["latest"]>>["result"] } | undefined> {
    const d = this.o.document(uri);
    if (!d || !this.service.has(uri)) return undefined;
    const a = await this.service.current(uri, d.doc.version, WAIT_MS);
    // The document may have changed while waiting: only an analysis of the text as it is now fits.
    if (!a || this.o.document(uri)?.doc.version !== a.version) return undefined;
    return { d, result: a.result };
  }

  /** The hover: the run's at once when it is fresh, else the static shapes (and the run's below them). */
  async hover(uri: string, position: Position, run: Hover | null, runFresh: boolean): Promise<Hover | null> {
    if (run && runFresh) return run;
    const a = await this.analysis(uri);
    const fact = a ? await this.service.hover(uri, a.d.doc.version, position) : undefined;
    return combineHover(run, runFresh, fact);
  }

  /** The run's inlay hints, and static ones on the lines the run has none for. */
  async inlayHints(uri: string, from: number, to: number, run: InlayHint[]): Promise<InlayHint[]> {
    const a = await this.analysis(uri);
    if (!a) return run;
    const runLines = new Set(run.map((h) => h.position.line));
    return [...run, ...shapeInlayHints(a.result, from, to, runLines, a.d.doc.lineCount)].sort((x, y) => x.position.line - y.position.line || x.position.character - y.position.character);
  }

  /** The run's diagnostics plus each open model file's static ones where the run does not disagree. */
  withDiagnostics(run: Map<string, FileDiagnostics>): Map<string, FileDiagnostics> {
    const out = new Map(run);
    const store = this.o.store;
    for (const { uri, file, analysis } of this.service.all()) {
      const key = store.keyOf(file);
      const runFile = run.get(key);
      const lines: RunLines = {
        diagnostics: new Set((runFile?.diagnostics ?? []).map((d) => d.range.start.line)),
        executed: new Set(
          store
            .layersInFile(file)
            .filter((i) => !i.changed && (i.roles.includes("forward") || i.roles.includes("backward")))
            .map((i) => i.line),
        ),
      };
      const diags: Diagnostic[] = shapeDiagnostics(analysis.result, uri, lines);
      if (diags.length === 0) continue;
      out.set(key, { file, uri, diagnostics: [...(runFile?.diagnostics ?? []), ...diags] });
    }
    return out;
  }

  private async definition(uri: string, position: Position): Promise<Location[] | LocationLink[]> {
    const a = await this.analysis(uri);
    return a ? shapeDefinition(a.result, uri, position, this.linkSupport) : [];
  }

  private async symbols(uri: string): Promise<DocumentSymbol[]> {
    const a = await this.analysis(uri);
    return a ? shapeSymbols(a.result) : [];
  }

  private async codeActions(p: CodeActionParams): Promise<ReturnType<typeof shapeCodeActions>> {
    const uri = p.textDocument.uri;
    if (!p.context.diagnostics.some((d) => d.source !== undefined && d.source.startsWith("Backprop Lens ("))) return [];
    const a = await this.analysis(uri);
    return a ? shapeCodeActions(a.result, uri, p.context.diagnostics) : [];
  }

  dispose(): void {
    this.service.dispose();
  }
}
