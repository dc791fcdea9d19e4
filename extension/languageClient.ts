/**
 * The client side of the Backprop Lens language server (lsp-sample's `client/`): starts
 * dist/server.js over IPC for TypeScript and JavaScript files and tells it what each run found.
 * The server only shows results of runs (it never runs user code), so it may run in untrusted
 * workspaces too.
 */
import * as vscode from "vscode";
import { LanguageClient, type LanguageClientOptions, RevealOutputChannelOn, type ServerOptions, State, TransportKind } from "vscode-languageclient/node";
import {
  CLEAR_REPORTS_NOTIFICATION,
  LAYER_AT_REQUEST,
  type LayerAtParams,
  type LayerAtResult,
  REVEAL_LAYER_COMMAND,
  RUN_COMMAND,
  RUN_REPORT_NOTIFICATION,
  type RunReport,
  decodeWire,
  encodeWire,
} from "./server/lspProtocol";

/** Model files: TypeScript and JavaScript (.ts/.mts/.cts, .js/.mjs/.cjs, and the React variants) on disk. */
export const MODEL_DOCUMENT_SELECTOR = ["typescript", "typescriptreact", "javascript", "javascriptreact", "python"].map((language) => ({ scheme: "file", language }));

export class LensLanguageClient implements vscode.Disposable {
  private disposed: Promise<void> | undefined;
  /** The last report of each model file (wire form), sent again when the server restarts after a crash. */
  private readonly reports = new Map<string, unknown>();
  private readonly stateListener: vscode.Disposable;

  private constructor(
    private readonly client: LanguageClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    let started = false;
    this.stateListener = client.onDidChangeState((e) => {
      if (e.newState !== State.Running) return;
      if (!started) {
        started = true;
        return;
      }
      // The client restarted a crashed server: it starts empty, so hand it the results again.
      log.warn(`language server restarted; sending ${this.reports.size} run report(s) again`);
      for (const wire of this.reports.values()) void client.sendNotification(RUN_REPORT_NOTIFICATION, wire).catch(() => undefined);
    });
    if (client.state === State.Running) started = true;
  }

  /** Starts the server (dist/server.js, IPC) and resolves once it is running. */
  static async start(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<LensLanguageClient> {
    const module = context.asAbsolutePath("dist/server.js");
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ["--nolazy", "--inspect=6011"] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: MODEL_DOCUMENT_SELECTOR,
      outputChannel: log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // Hovers link to these commands ("Open in Gradient Inspector"); nothing else may run from a hover.
      markdown: { isTrusted: { enabledCommands: [REVEAL_LAYER_COMMAND, RUN_COMMAND] } },
    };
    const client = new LanguageClient("backpropLens", "Backprop Lens", serverOptions, clientOptions);
    await client.start();
    log.info("language server started");
    return new LensLanguageClient(client, log);
  }

  /** Hands the server a run's report; it replaces the previous report of the same model file. */
  async sendReport(report: RunReport): Promise<void> {
    if (this.disposed) return;
    const wire = encodeWire(report);
    this.reports.set(report.file, wire);
    await this.client.sendNotification(RUN_REPORT_NOTIFICATION, wire);
  }

  /** Makes the server forget every report (hovers, diagnostics, lenses and hints disappear). */
  async clear(): Promise<void> {
    if (this.disposed) return;
    this.reports.clear();
    await this.client.sendNotification(CLEAR_REPORTS_NOTIFICATION);
  }

  /** The layer that line `line` (0-based) of `uri` constructs or calls, as the last run saw it. */
  async layerAt(uri: vscode.Uri, line: number): Promise<LayerAtResult> {
    if (this.disposed) return null;
    const params: LayerAtParams = { uri: uri.toString(), line };
    return decodeWire<LayerAtResult>(await this.client.sendRequest(LAYER_AT_REQUEST, params));
  }

  /** Stops the server; safe to call more than once. */
  dispose(): Promise<void> {
    this.stateListener.dispose();
    this.disposed ??= this.client.dispose(2000).then(
      () => this.log.info("language server stopped"),
      (e: unknown) => this.log.warn(`language server did not stop cleanly: ${e instanceof Error ? e.message : String(e)}`),
    );
    return this.disposed;
  }
}
