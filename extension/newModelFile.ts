/**
 * "New Model File": creates a model from a template that follows chapter 9, sets the folder up so
 * TypeScript knows "backprop-lens", and opens it, ready for "Run Backward Pass".
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as vscode from "vscode";
import { TEMPLATES, type Template } from "./templates";
import { toUri } from "./uris";
import { installEnginePackage, setupFolderFor } from "./workspaceSetup";

/** Arguments for scripted use (tests, walkthrough links); every field is asked for when missing. */
export interface NewModelArgs {
  /** A template id (see templates.ts). */
  template?: string;
  /** The folder to create the file in. */
  folder?: vscode.Uri | string;
  /** The new file's name. */
  name?: string;
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** A name like `spiral-model-2.ts` that does not exist yet in `dir`. */
async function freeName(dir: string, name: string): Promise<string> {
  const ext = path.extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? name : `${stem}-${i}${ext}`;
    if (!(await exists(path.join(dir, candidate)))) return candidate;
  }
}

/**
 * Creates the model file and returns its URI (undefined when the user cancelled). `arg` is the
 * explorer's folder (context menu), a NewModelArgs object, or nothing (command palette).
 */
export async function newModelFile(extensionUri: vscode.Uri, log: vscode.LogOutputChannel, arg?: unknown): Promise<vscode.Uri | undefined> {
  const args: NewModelArgs = arg instanceof vscode.Uri ? { folder: arg } : typeof arg === "object" && arg !== null ? (arg as NewModelArgs) : {};
  let template: Template | undefined = TEMPLATES.find((t) => t.id === args.template);
  if (template === undefined) {
    const pick = await vscode.window.showQuickPick(
      TEMPLATES.map((t) => ({ label: t.label, detail: t.description, template: t })),
      // ignoreFocusOut: started from the walkthrough, the picker must survive the walkthrough page moving on.
      { title: "New Model File", placeHolder: "Start from which chapter-9 model?", matchOnDetail: true, ignoreFocusOut: true },
    );
    if (pick === undefined) return undefined;
    template = pick.template;
  }
  let folder = toUri(args.folder);
  if (folder === undefined) {
    const active = vscode.window.activeTextEditor?.document.uri;
    folder = active?.scheme === "file" ? vscode.Uri.file(path.dirname(active.fsPath)) : vscode.workspace.workspaceFolders?.[0]?.uri;
  }
  if (folder === undefined) {
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: "Create Model Here" });
    folder = picked?.[0];
    if (folder === undefined) return undefined;
  }
  let name = args.name;
  if (name === undefined) {
    const suggestion = await freeName(folder.fsPath, template.defaultName);
    name = await vscode.window.showInputBox({
      title: `New Model File: ${template.label}`,
      prompt: `File name in ${path.basename(folder.fsPath)}`,
      value: suggestion,
      ignoreFocusOut: true,
      valueSelection: [0, suggestion.length - path.extname(suggestion).length],
      validateInput: async (v) => {
        if (!/\.[cm]?[jt]s$/.test(v)) return "A model file ends in .ts or .js";
        if (await exists(path.join((folder as vscode.Uri).fsPath, v))) return `${v} already exists`;
        return undefined;
      },
    });
    if (name === undefined) return undefined;
  }
  const target = vscode.Uri.file(path.join(folder.fsPath, name));
  if (await exists(target.fsPath)) throw new Error(`${target.fsPath} already exists`);
  let text = await fs.readFile(path.join(extensionUri.fsPath, "dist", "templates", template.file), "utf8");
  // A JavaScript model keeps the same code without the TypeScript-only syntax the templates use.
  if (/\.[cm]?js$/.test(name)) text = toJavaScript(text);
  await fs.mkdir(folder.fsPath, { recursive: true });
  await fs.writeFile(target.fsPath, text);
  const result = await installEnginePackage(extensionUri, setupFolderFor(target));
  if (result === "installed" || result === "updated") log.info(`node_modules/backprop-lens ${result} in ${setupFolderFor(target).fsPath}`);
  const doc = await vscode.workspace.openTextDocument(target);
  await vscode.window.showTextDocument(doc, { preview: false });
  return target;
}

/** Strips the few TypeScript-only constructs the templates use (type imports, annotations, `!`). */
export function toJavaScript(ts: string): string {
  return ts
    .replace(/,\s*type\s+\w+/g, "")
    .replace(/\btype\s+(\w+),\s*/g, "")
    .replace(/(\w)!(?=[.)\],;\s])/g, "$1")
    .replace(/\):\s*[A-Za-z_][\w<>[\]]*(\s*\{)/g, ")$1")
    .replace(/\(([^()]*?)\)/g, (m: string, inner: string) => `(${inner.replace(/(\b\w+)\s*:\s*[A-Za-z_][\w<>[\]]*/g, "$1")})`)
    .replace(/\breadonly\s+(\w+\s*=)/g, "$1");
}
