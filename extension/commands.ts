/**
 * Command factories (rust-analyzer's `createCommands()` style): each id maps to a function that
 * takes the extension's context and returns the handler.
 */
import * as vscode from "vscode";
import { InspectorPanel } from "./inspectorPanel";
import type { LensContext } from "./lensContext";

type Factory = (ctx: LensContext) => (...args: unknown[]) => unknown;

function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === "string" && arg.length > 0) return arg.includes("://") ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  return undefined;
}

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
};
