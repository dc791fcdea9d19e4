/**
 * Backprop Lens: activate and deactivate only. Everything else is created here once and registered
 * for disposal; commands come from factories in commands.ts.
 */
import * as vscode from "vscode";
import { commands } from "./commands";
import { InspectorPanel } from "./inspectorPanel";
import { LensLanguageClient } from "./languageClient";
import type { LensContext } from "./lensContext";
import { isModelDocument } from "./modelFile";
import { RunController } from "./runController";
import { StatusBar } from "./statusBar";
import { readConfig } from "./config";
import { offerSetup } from "./workspaceSetup";
import { activateDebugger, liveSessions } from "./debug/activate";
import type { BackpropDebugSession } from "./debug/session";
import { liveModelWorkers } from "./runner/runModel";

/** What `activate` returns: used by the integration tests, not a public API. */
export interface LensTestApi {
  readonly ctx: LensContext;
  /** The open Gradient Inspector (the extension's own module instance, not a test bundle's copy). */
  inspector(): InspectorPanel | undefined;
  /** The debugger's live adapters by VS Code session id, and the model workers still running. */
  debug: { sessions: ReadonlyMap<string, BackpropDebugSession>; liveWorkers(): number };
}

export async function activate(context: vscode.ExtensionContext): Promise<LensTestApi> {
  const log = vscode.window.createOutputChannel("Backprop Lens", { log: true });
  context.subscriptions.push(log);
  try {
    const status = new StatusBar();
    context.subscriptions.push(status);
    // The language server starts when it is first needed, so a window without model files pays nothing.
    let clientStart: Promise<LensLanguageClient> | undefined;
    const client = (): Promise<LensLanguageClient> => {
      clientStart ??= LensLanguageClient.start(context, log).then((c) => {
        context.subscriptions.push({ dispose: () => void c.dispose() });
        return c;
      });
      return clientStart;
    };
    const runs = new RunController(context, log, status, client);
    context.subscriptions.push(runs);
    const ctx: LensContext = { extension: context, log, status, runs, client };

    for (const [id, make] of Object.entries(commands)) context.subscriptions.push(vscode.commands.registerCommand(id, make(ctx)));
    context.subscriptions.push(...activateDebugger(ctx));

    context.subscriptions.push(
      vscode.window.registerWebviewPanelSerializer(InspectorPanel.viewType, {
        deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => {
          InspectorPanel.revive(panel, runs);
        },
      }),
    );

    // The editor-title button shows on model files only.
    const offered = new Set<string>();
    const updateContext = (editor: vscode.TextEditor | undefined): void => {
      const isModel = editor !== undefined && isModelDocument(editor.document);
      void vscode.commands.executeCommand("setContext", "backpropLens.isModelFile", isModel);
      if (isModel) {
        void client();
        runs.warmUp(editor.document.uri); // a model process ready before the first run
      }
      // A model file whose "backprop-lens" import cannot resolve: offer to set the folder up, once per session.
      if (isModel && editor.document.languageId !== "python" && !offered.has(editor.document.uri.fsPath)) {
        offered.add(editor.document.uri.fsPath);
        void offerSetup(context, editor.document, log);
      }
    };
    updateContext(vscode.window.activeTextEditor);
    context.subscriptions.push(vscode.window.onDidChangeActiveTextEditor(updateContext));
    context.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document) updateContext(vscode.window.activeTextEditor);
      }),
    );
    context.subscriptions.push(
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (readConfig(doc.uri).runOnSave && isModelDocument(doc) && vscode.workspace.isTrusted) void runs.run(doc.uri);
      }),
    );

    if (vscode.window.visibleTextEditors.some((e) => isModelDocument(e.document))) void client();
    void runs.restoreLastRun();

    // The README's run command opens VS Code with this set, so the default example's backward pass is shown.
    const autorun = process.env.BACKPROP_LENS_AUTORUN;
    if (autorun) void openAndRun(autorun, runs);

    log.info("Backprop Lens activated");
    return { ctx, inspector: () => InspectorPanel.instance, debug: { sessions: liveSessions, liveWorkers: liveModelWorkers } };
  } catch (e) {
    // VS Code shows nothing when activation fails: say it, then rethrow.
    const msg = e instanceof Error ? e.message : String(e);
    log.error(`activation failed: ${msg}`);
    void vscode.window.showErrorMessage(`Backprop Lens could not start: ${msg}`);
    throw e;
  }
}

async function openAndRun(file: string, runs: RunController): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = file.startsWith("/") || !folder ? vscode.Uri.file(file) : vscode.Uri.joinPath(folder, file);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
  await runs.run(uri);
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
