/** Helpers for the integration suites: they run inside the extension host of a real VS Code. */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as vscode from "vscode";
import type { LensTestApi } from "../../extension/extension";

export const EXTENSION_ID = "backprop-lens.backprop-lens";

/** The workspace folder the suite runs in (a temporary copy of examples/ and the broken-model fixtures). */
export function workspaceFolder(): string {
  const f = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(f, "a workspace folder is open");
  return f;
}

export function fileUri(name: string): vscode.Uri {
  return vscode.Uri.file(path.join(workspaceFolder(), name));
}

/** The activated extension's test API. */
export async function lens(): Promise<LensTestApi> {
  const ext = vscode.extensions.getExtension<LensTestApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  return ext.isActive ? ext.exports : ext.activate();
}

/** Polls `check` until it returns a truthy value or the deadline passes (never a fixed sleep). */
export async function until<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Opens a file of the workspace in an editor. */
export async function open(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(fileUri(name));
  return vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
}

/** 0-based number of the first line containing `text`. */
export function lineOf(doc: vscode.TextDocument, text: string): number {
  for (let i = 0; i < doc.lineCount; i++) if (doc.lineAt(i).text.includes(text)) return i;
  throw new Error(`"${text}" is not in ${doc.uri.fsPath}`);
}

/** The text of every hover at a position. */
export async function hoverText(uri: vscode.Uri, position: vscode.Position): Promise<string> {
  const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", uri, position)) ?? [];
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === "string" ? c : "value" in c ? c.value : ""))
    .join("\n");
}

/** Backprop Lens diagnostics of a file. */
export function lensDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === "Backprop Lens");
}

/** Sets a `backpropLens.*` setting for the workspace and returns a function that restores it. */
export async function setting(key: string, value: unknown): Promise<() => Promise<void>> {
  const c = vscode.workspace.getConfiguration("backpropLens");
  const before = c.inspect(key)?.workspaceValue;
  await c.update(key, value, vscode.ConfigurationTarget.Workspace);
  return async () => {
    await vscode.workspace.getConfiguration("backpropLens").update(key, before, vscode.ConfigurationTarget.Workspace);
  };
}
