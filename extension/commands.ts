/**
 * Command factories (rust-analyzer's `createCommands()` style): each id maps to a function that
 * takes the extension's context and returns the handler.
 */
import * as vscode from "vscode";
import { InspectorPanel } from "./inspectorPanel";
import { newModelFile } from "./newModelFile";
import { toUri } from "./uris";
import { afterSetup, installEnginePackage, setupFolderFor } from "./workspaceSetup";
import type { LensContext } from "./lensContext";

type Factory = (ctx: LensContext) => (...args: unknown[]) => unknown;

/** `{ layer, file }` or `[{ layer, file }]` (command links pass an argument array). */
function toLayerRef(arg: unknown): { layer: number; file?: string } | undefined {
  const a = Array.isArray(arg) ? (arg[0] as unknown) : arg;
  if (typeof a !== "object" || a === null) return undefined;
  const o = a as { layer?: unknown; file?: unknown };
  return typeof o.layer === "number" ? { layer: o.layer, ...(typeof o.file === "string" ? { file: o.file } : {}) } : undefined;
}

export const commands: Record<string, Factory> = {
  "backpropLens.runBackwardPass": (ctx) => (arg) => ctx.runs.run(toUri(arg)),
  "backpropLens.stopRun": (ctx) => () => ctx.runs.stop(),
  "backpropLens.recordStep": (ctx) => (arg) => ctx.runs.recordStep(typeof arg === "number" ? arg : undefined),
  "backpropLens.openInspector": (ctx) => () => {
    InspectorPanel.createOrShow(ctx.runs, false);
  },
  "backpropLens.revealLayer": (ctx) => async (arg) => {
    const ref = toLayerRef(arg);
    if (!ref) return;
    await InspectorPanel.createOrShow(ctx.runs, true).reveal(ref.layer);
  },
  "backpropLens.showLog": (ctx) => () => ctx.log.show(true),
  "backpropLens.clearResults": (ctx) => () => ctx.runs.clear(),
  "backpropLens.newModelFile": (ctx) => (arg) => newModelFile(ctx.extension.extensionUri, ctx.log, arg),
  "backpropLens.setUpWorkspace": (ctx) => async (arg) => {
    const target = toUri(arg) ?? vscode.window.activeTextEditor?.document.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    if (!target) {
      void vscode.window.showInformationMessage("Backprop Lens: open a folder first.");
      return undefined;
    }
    const folder = setupFolderFor(target);
    const result = await installEnginePackage(ctx.extension.extensionUri, folder);
    ctx.log.info(`set up ${folder.fsPath}: ${result}`);
    await afterSetup(folder, result, ctx.log);
    return result;
  },
};
