/**
 * The Backprop Lens language server (entry of dist/server.js; the client starts it over IPC).
 * It never runs user code: it shows what the extension's last run of each model file found, as
 * hovers, diagnostics, code lenses and inlay hints, and keeps them on the right lines while the
 * user edits. This file only wires the LSP connection to the pure modules beside it.
 */
import * as fs from "node:fs";
import {
  CodeLensRefreshRequest,
  type Connection,
  type Hover,
  type InitializeResult,
  MarkupKind,
  ProposedFeatures,
  TextDocumentSyncKind,
  createConnection,
} from "vscode-languageserver/node";
import { DiagnosticsPublisher, computeDiagnostics, trimmedLineRange } from "./diagnostics";
import { OpenDocuments, lineOf } from "./documents";
import { hoverMarkdown } from "./hover";
import { codeLenses, inlayHints } from "./lenses";
import {
  CLEAR_REPORTS_NOTIFICATION,
  LAYER_AT_REQUEST,
  type LayerAtParams,
  type LayerAtResult,
  RUN_REPORT_NOTIFICATION,
  type RunReport,
  decodeWire,
  encodeWire,
} from "./lspProtocol";
import { pathToUri, uriToPath } from "./paths";
import { ReportStore } from "./reportStore";
import { ShapeFeatures } from "./shapes/lsp";

/** Edits come in bursts (typing); diagnostics follow them after this pause. */
const REPUBLISH_DELAY_MS = 150;

function isReport(x: unknown): x is RunReport {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Partial<RunReport>;
  return typeof r.file === "string" && typeof r.runId === "number" && Array.isArray(r.layers) && Array.isArray(r.anomalies);
}

export function startServer(connection: Connection): void {
  const store = new ReportStore();
  const documents = new OpenDocuments(store.keyOf);
  const publisher = new DiagnosticsPublisher((uri, diagnostics) => void connection.sendDiagnostics({ uri, diagnostics }));
  let codeLensRefresh = false;
  let inlayHintRefresh = false;
  let republishTimer: NodeJS.Timeout | undefined;

  const log = (message: string, e?: unknown): void => {
    connection.console.error(`${message}${e === undefined ? "" : `: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`}`);
  };
  // Static shapes as you type (shapes/): analysed in a worker thread, merged with the runs' findings.
  const shapes = new ShapeFeatures({
    connection,
    store,
    document: (uri) => documents.get(uri),
    republish: () => publish(),
    refreshHints: () => {
      if (inlayHintRefresh) void connection.languages.inlayHint.refresh().catch(() => undefined);
    },
    log: (m) => log(`Backprop Lens: ${m}`),
  });

  const publish = (): void => {
    if (republishTimer) clearTimeout(republishTimer);
    republishTimer = undefined;
    // Files that are not open are read from disk once per publish.
    const disk = new Map<string, string[] | undefined>();
    const lineText = (file: string, line: number): string | undefined => {
      const open = documents.byFile(file);
      if (open) return line < open.doc.lineCount ? lineOf(open.doc, line) : undefined;
      const key = store.keyOf(file);
      if (!disk.has(key)) {
        try {
          disk.set(key, fs.readFileSync(file, "utf8").split(/\r\n|\r|\n/));
        } catch {
          disk.set(key, undefined);
        }
      }
      return disk.get(key)?.[line];
    };
    const uriOf = (file: string): string => documents.byFile(file)?.uri ?? pathToUri(file);
    try {
      publisher.publish(shapes.withDiagnostics(computeDiagnostics(store, { lineText, uriOf })));
    } catch (e) {
      log("Backprop Lens: could not compute diagnostics", e);
    }
  };

  const refreshEditors = (): void => {
    if (codeLensRefresh) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
    if (inlayHintRefresh) void connection.languages.inlayHint.refresh().catch(() => undefined);
  };

  connection.onInitialize((params): InitializeResult => {
    const ws = params.capabilities.workspace;
    codeLensRefresh = ws?.codeLens?.refreshSupport === true;
    inlayHintRefresh = ws?.inlayHint?.refreshSupport === true;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        codeLensProvider: { resolveProvider: false },
        inlayHintProvider: true,
        ...shapes.capabilities(params.capabilities.textDocument?.definition?.linkSupport === true),
      },
      serverInfo: { name: "Backprop Lens" },
    };
  });

  connection.onDidOpenTextDocument(({ textDocument: d }) => {
    documents.open(d.uri, d.languageId, d.version, d.text);
    shapes.changed(d.uri);
  });
  connection.onDidCloseTextDocument(({ textDocument }) => {
    documents.close(textDocument.uri);
    shapes.closed(textDocument.uri);
  });
  connection.onDidChangeTextDocument(({ textDocument, contentChanges }) => {
    let moved = false;
    documents.change(textDocument.uri, textDocument.version, contentChanges, (d, change) => {
      if (store.applyChange(d.file, change, (n) => lineOf(d.doc, n), d.doc.lineCount)) moved = true;
    });
    shapes.changed(textDocument.uri);
    const d = documents.get(textDocument.uri);
    // Ranges are trimmed to the current text, so any edit of a tracked file may change them.
    if (moved || (d && store.tracks(d.file))) {
      if (republishTimer) clearTimeout(republishTimer);
      republishTimer = setTimeout(publish, REPUBLISH_DELAY_MS);
    }
  });

  connection.onNotification(RUN_REPORT_NOTIFICATION, (params: unknown) => {
    const report = decodeWire<unknown>(params);
    if (!isReport(report)) {
      log("Backprop Lens: ignored a malformed run report");
      return;
    }
    store.set(report);
    connection.console.info(`run ${report.runId} of ${report.file}: ${report.ok ? "ok" : `failed (${report.error?.kind ?? "?"})`}, ${report.layers.length} layers, ${report.anomalies.length} anomalies`);
    publish();
    refreshEditors();
  });

  connection.onNotification(CLEAR_REPORTS_NOTIFICATION, () => {
    store.clear();
    publish();
    refreshEditors();
  });

  connection.onRequest(LAYER_AT_REQUEST, (params: LayerAtParams): unknown => {
    // A closed file is still answered from its URI (e.g. a command asking about it).
    const file = documents.get(params.uri)?.file ?? uriToPath(params.uri);
    if (file === undefined) return null;
    const item = store.layersOnLine(file, params.line)[0];
    const result: LayerAtResult = item ? { runId: item.report.runId, layer: item.layer, roles: item.roles, changed: item.changed } : null;
    return encodeWire(result);
  });

  connection.onHover(async (params): Promise<Hover | null> => {
    const d = documents.get(params.textDocument.uri);
    if (!d) return null;
    const line = params.position.line;
    const items = store.layersOnLine(d.file, line);
    const markdown = hoverMarkdown(items, store);
    const run: Hover | null = markdown === null ? null : { contents: { kind: MarkupKind.Markdown, value: markdown }, range: trimmedLineRange(line, lineOf(d.doc, line)) };
    // The run's hover answers at once; static shapes answer where it has nothing or is out of date.
    return shapes.hover(d.uri, params.position, run, run !== null && !items.some((i) => i.changed));
  });

  connection.onCodeLens((params) => {
    const d = documents.get(params.textDocument.uri);
    return d ? codeLenses(store, d.file, d.uri, d.doc.getText()) : [];
  });

  connection.languages.inlayHint.on(async (params) => {
    const d = documents.get(params.textDocument.uri);
    if (!d) return [];
    const lines = d.doc.getText().split(/\r\n|\r|\n/);
    const run = inlayHints(store, d.file, lines, params.range.start.line, params.range.end.line);
    return shapes.inlayHints(d.uri, params.range.start.line, params.range.end.line, run);
  });

  connection.onShutdown(() => shapes.dispose());

  connection.listen();
}

startServer(createConnection(ProposedFeatures.all));
