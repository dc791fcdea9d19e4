/**
 * The debugger's VS Code side: the `backprop-lens` debug type with its inline adapter
 * (`DebugAdapterInlineImplementation`), a configuration provider (F5 on a model file works without a
 * launch.json), the "Debug Backward Pass" command, the trust check (a debug session runs the model's
 * code, so it is refused in Restricted Mode like a run), and "stale" sessions (the model file edited
 * while it is debugged).
 */
import * as path from "node:path";
import * as vscode from "vscode";
import type { DebugPositionInfo } from "../../core/host";
import { InspectorPanel } from "../inspectorPanel";
import type { LensContext } from "../lensContext";
import { buildRunReport } from "../runReport";
import { isModelDocument } from "../modelFile";
import { toUri } from "../uris";
import type { DebugLauncher, DebugRuntime } from "./runtime";
import { BackpropDebugSession } from "./session";

export const DEBUG_TYPE = "backprop-lens";

/** The live adapters, by VS Code session id (the extension marks them stale and tests read them). */
export const liveSessions = new Map<string, BackpropDebugSession>();

export function activateDebugger(ctx: LensContext): vscode.Disposable[] {
  const launcher = vscodeLauncher(ctx);
  const refuseUntrusted = (): void => {
    void vscode.window
      .showWarningMessage(
        "Backprop Lens debugs your model file by running its code, so it only does so in a trusted workspace. Trust this folder (Manage Workspace Trust) if you wrote or checked its code.",
        "Manage Workspace Trust",
      )
      .then((pick) => (pick ? vscode.commands.executeCommand("workbench.trust.manage") : undefined));
  };
  const subs: vscode.Disposable[] = [];
  subs.push(
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
      createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
        const adapter = new BackpropDebugSession(launcher);
        liveSessions.set(session.id, adapter);
        followDebugger(ctx, adapter.debugRuntime);
        return new vscode.DebugAdapterInlineImplementation(adapter);
      },
    }),
  );
  subs.push(vscode.debug.onDidTerminateDebugSession((s) => liveSessions.delete(s.id)));
  subs.push(vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigurationProvider()));
  subs.push(
    vscode.commands.registerCommand("backpropLens.debugBackwardPass", async (arg?: unknown) => {
      const uri = toUri(Array.isArray(arg) ? (arg[0] as unknown) : arg) ?? modelEditor()?.document.uri;
      if (!uri) {
        void vscode.window.showInformationMessage('Backprop Lens: open a model file (one that imports "backprop-lens", or a Python file with the book\'s forward/backward classes) to debug its backward pass.');
        return false;
      }
      // Like Run Backward Pass: say so here (VS Code's own trust prompt for debugging is a modal dialog).
      if (!vscode.workspace.isTrusted) {
        refuseUntrusted();
        return false;
      }
      return vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(uri), {
        type: DEBUG_TYPE,
        request: "launch",
        name: `Debug Backward Pass: ${path.basename(uri.fsPath)}`,
        program: uri.fsPath,
      });
    }),
  );
  // "Show Chain Rule" on an element of a gradient in the Variables view (its context menu): the inspector
  // selects that element of that call and opens its chain rule, with the numbers at this position.
  subs.push(
    vscode.commands.registerCommand("backpropLens.showChainRule", async (arg?: { sessionId?: string; variable?: { evaluateName?: string; name?: string } }) => {
      const session = vscode.debug.activeDebugSession;
      const expression = arg?.variable?.evaluateName;
      if (!session || session.type !== DEBUG_TYPE || !expression) {
        void vscode.window.showInformationMessage("Backprop Lens: Show Chain Rule works on an element of a gradient (dinputs, dweights, dbiases) in the Variables view while a model is paused.");
        return undefined;
      }
      try {
        const e = (await session.customRequest("backpropLens/element", { expression })) as { layer: number; seq: number; step: number; tensor: string; index: number[] };
        await InspectorPanel.createOrShow(ctx.runs, true).reveal(e.layer, e.step, { seq: e.seq, tensor: e.tensor, index: e.index });
        return e;
      } catch (err) {
        void vscode.window.showWarningMessage(`Backprop Lens: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
    }),
  );
  // F5 on a model file debugs it when the workspace has no launch configurations (package.json keybinding).
  const updateLaunchContext = (): void => {
    const configs = vscode.workspace.getConfiguration("launch").get<unknown[]>("configurations") ?? [];
    void vscode.commands.executeCommand("setContext", "backpropLens.hasLaunchConfigurations", Array.isArray(configs) && configs.length > 0);
  };
  updateLaunchContext();
  subs.push(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration("launch") && updateLaunchContext()));
  // An edit of a model file that is being debugged makes that session stale.
  subs.push(
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length === 0) return;
      for (const [id, adapter] of liveSessions) {
        const rt = adapter.debugRuntime;
        if (rt.file && e.document.uri.fsPath === rt.file && rt.running) {
          rt.markStale();
          ctx.log.info(`debug session ${id}: ${path.basename(rt.file)} was edited while it is being debugged`);
        }
      }
    }),
  );
  return subs;
}

/**
 * One position everywhere: at each stop the inspector shows that step with the current call's card
 * highlighted (calls after it not computed yet), and the editor's hovers and inline hints show each
 * layer as it was at that position.
 */
function followDebugger(ctx: LensContext, rt: DebugRuntime): void {
  rt.on("stopped", () => {
    const store = rt.store;
    const p = rt.current();
    if (!store || !p) return;
    const seq = rt.seqAt(p);
    const panel = InspectorPanel.instance;
    const calls = rt.publish();
    const position: DebugPositionInfo = { step: p.step, seq, ...(p.layer !== undefined ? { layer: p.layer } : {}), label: rt.label(p), live: rt.atLive };
    if (panel?.isReady) {
      panel.postEvents(store.runId, calls);
      panel.debugPosition(store.runId, position);
    } else if (panel) {
      // A panel still loading gets the calls in its replay of the run model; the position once it is ready.
      void panel.whenReady().then(() => rt.current() === p && panel.debugPosition(store.runId, position));
    }
    void ctx
      .client()
      .then((c) => c.sendReport(buildRunReport(store, seq)))
      .catch((e: unknown) => ctx.log.warn(`language server: ${String(e)}`));
  });
  const clear = (ended: boolean): void => {
    const store = rt.store;
    if (store) InspectorPanel.instance?.debugPosition(store.runId, undefined, ended);
  };
  rt.on("continued", () => clear(false));
  rt.on("end", () => clear(true));
}

function modelEditor(): vscode.TextEditor | undefined {
  const active = vscode.window.activeTextEditor;
  if (active && isModelDocument(active.document)) return active;
  return vscode.window.visibleTextEditors.find((e) => isModelDocument(e.document));
}

/** F5 without a launch.json on a model file: debug that file. */
class ConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [{ type: DEBUG_TYPE, request: "launch", name: "Debug Backward Pass", program: "${file}" }];
  }

  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.ProviderResult<vscode.DebugConfiguration> {
    if (!config.type && !config.request && !config.name) {
      const editor = modelEditor();
      if (!editor) {
        void vscode.window.showInformationMessage('Backprop Lens: open a model file (one that imports "backprop-lens", or a Python file with the book\'s forward/backward classes) and press F5 to debug its backward pass.');
        return undefined;
      }
      return { type: DEBUG_TYPE, request: "launch", name: "Debug Backward Pass", program: editor.document.uri.fsPath };
    }
    if (!config.program) {
      const editor = modelEditor();
      if (!editor) {
        void vscode.window.showInformationMessage('Backprop Lens: the launch configuration needs "program" (the model file), e.g. "${file}".');
        return undefined;
      }
      config.program = editor.document.uri.fsPath;
    }
    return config;
  }
}

/** Debug runs go through the run controller, so the inspector, the status bar and the hovers follow them. */
function vscodeLauncher(ctx: LensContext): DebugLauncher {
  return {
    async start(file, options, onEvent) {
      // VS Code asks for trust before it starts any debug session; this is the second line of defence.
      if (!vscode.workspace.isTrusted) return { refused: "debugging runs the model's code, so it needs a trusted workspace (this one is in Restricted Mode)" };
      const uri = vscode.Uri.file(file);
      return new Promise((resolve) => {
        let started = false;
        void ctx.runs
          .run(uri, {
            ...options,
            onEvent,
            onStart: (handle, store, source) => {
              started = true;
              resolve({ handle, store, source });
            },
          })
          .then(() => {
            if (!started) resolve({ refused: `could not start ${path.basename(file)}` });
          });
      });
    },
    currentText(file) {
      return vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file)?.getText();
    },
  };
}
