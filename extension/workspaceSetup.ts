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
import { engineResolvesFrom } from "./engineResolves";

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

export { engineResolvesFrom } from "./engineResolves";

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
    await afterSetup(folder, result, log);
  } else if (pick === "Don't Ask Again") {
    await context.workspaceState.update(NEVER_KEY, [...never, folder.fsPath]);
  }
}

/** What Set Up says when it is done, for each result. */
export function setupMessage(folder: vscode.Uri, result: SetupResult): string {
  return {
    installed: `"backprop-lens" added to ${folder.fsPath}/node_modules: the folder is set up, and TypeScript now knows the engine's API.`,
    updated: `"backprop-lens" in ${folder.fsPath}/node_modules updated to this extension's version.`,
    present: `"backprop-lens" is already set up in ${folder.fsPath}.`,
    "user-package": `${folder.fsPath}/node_modules/backprop-lens was installed by you; it was left as it is.`,
  }[result];
}

/**
 * After a setup: TypeScript's service keeps a failed module lookup of the files it has open (the file
 * the user had open showed "cannot find module" for a long time while files opened later were fine),
 * so it is restarted to look again at once; then the folder is confirmed in a message.
 */
export async function afterSetup(folder: vscode.Uri, result: SetupResult, log: vscode.LogOutputChannel): Promise<void> {
  if (result === "installed" || result === "updated") {
    try {
      await vscode.commands.executeCommand("typescript.restartTsServer");
    } catch (e) {
      // No TypeScript extension (or it is disabled): nothing holds a stale lookup.
      log.info(`set up: TypeScript service not restarted (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  void vscode.window.showInformationMessage(`Backprop Lens: ${setupMessage(folder, result)}`);
}
