/**
 * Makes `import … from "backprop-lens"` resolve in VS Code's TypeScript service in any workspace: the
 * engine is an ordinary npm package (types and CommonJS code, built into dist/npm/backprop-lens), and
 * setting up a folder copies it into `<folder>/node_modules/backprop-lens`, the way `npm install`
 * would, offline. The TypeScript service then finds it by plain module resolution: completions,
 * signatures and hover documentation, no configuration. Copies made here are marked in their
 * package.json and refreshed when the extension updates; a package installed by the user is left alone.
 * See docs/writing-models.md ("Why node_modules").
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as vscode from "vscode";

export type SetupResult = "installed" | "updated" | "present" | "user-package";

interface Manifest {
  name?: string;
  version?: string;
  backpropLens?: { managedBy?: string };
}

async function readManifest(file: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
}

/** The folder whose node_modules should hold the package: the file's workspace folder, else its own folder. */
export function setupFolderFor(file: vscode.Uri): vscode.Uri {
  return vscode.workspace.getWorkspaceFolder(file)?.uri ?? vscode.Uri.file(path.dirname(file.fsPath));
}

/**
 * True when "backprop-lens" resolves from `file`: a node_modules/backprop-lens above it, or a
 * tsconfig/jsconfig above it that maps the name (`paths`), as this repository's examples/ do.
 */
export async function engineResolvesFrom(file: string): Promise<boolean> {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if ((await readManifest(path.join(dir, "node_modules", "backprop-lens", "package.json")))?.name === "backprop-lens") return true;
    for (const config of ["tsconfig.json", "jsconfig.json"]) {
      const text = await fs.readFile(path.join(dir, config), "utf8").catch(() => "");
      if (/"paths"[\s\S]*"backprop-lens"/.test(text)) return true;
    }
    if (path.dirname(dir) === dir) return false;
  }
}

/** Copies (or refreshes) the engine package into `<folder>/node_modules/backprop-lens`. */
export async function installEnginePackage(extensionUri: vscode.Uri, folder: vscode.Uri): Promise<SetupResult> {
  const source = path.join(extensionUri.fsPath, "dist", "npm", "backprop-lens");
  const target = path.join(folder.fsPath, "node_modules", "backprop-lens");
  const ours = await readManifest(path.join(source, "package.json"));
  if (ours?.version === undefined) throw new Error(`the engine package is missing from the extension (${source}); rebuild it with npm run build`);
  const theirs = await readManifest(path.join(target, "package.json"));
  if (theirs !== undefined) {
    if (theirs.backpropLens?.managedBy === undefined) return "user-package";
    if (theirs.version === ours.version) return "present";
  }
  await fs.rm(target, { recursive: true, force: true });
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.cp(source, target, { recursive: true });
  return theirs === undefined ? "installed" : "updated";
}

const NEVER_KEY = "backpropLens.neverOfferSetup";

/**
 * When a model file whose import of "backprop-lens" cannot resolve is opened in a trusted workspace,
 * offers to set the folder up (once per folder; "Don't Ask Again" remembers it).
 */
export async function offerSetup(context: vscode.ExtensionContext, doc: vscode.TextDocument, log: vscode.LogOutputChannel): Promise<void> {
  if (!vscode.workspace.isTrusted || doc.uri.scheme !== "file") return;
  const folder = setupFolderFor(doc.uri);
  const never = context.workspaceState.get<string[]>(NEVER_KEY, []);
  if (never.includes(folder.fsPath) || (await engineResolvesFrom(doc.uri.fsPath))) return;
  const pick = await vscode.window.showInformationMessage(
    `"backprop-lens" is not installed in ${path.basename(folder.fsPath)}, so TypeScript cannot show the engine's API. Add it to node_modules (offline, from this extension)?`,
    "Set Up",
    "Don't Ask Again",
  );
  if (pick === "Set Up") {
    const result = await installEnginePackage(context.extensionUri, folder);
    log.info(`set up ${folder.fsPath}: ${result}`);
  } else if (pick === "Don't Ask Again") {
    await context.workspaceState.update(NEVER_KEY, [...never, folder.fsPath]);
  }
}
