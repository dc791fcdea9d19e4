/**
 * The interpreters to try for a Python model, in contract 5's order for the extension: the one
 * selected in the Python extension (its public API through `@vscode/python-extension`, when the
 * extension is installed), else the setting `backpropLens.pythonPath`, else `python3`, else `python`.
 */
import { PythonExtension } from "@vscode/python-extension";
import * as vscode from "vscode";
import { pythonCandidates } from "./runner/python/interpreter";

/** The Python extension's interpreter for `resource`, or undefined when it is not installed or has none. */
async function fromPythonExtension(resource: vscode.Uri, log?: vscode.LogOutputChannel): Promise<string | undefined> {
  if (vscode.extensions.getExtension("ms-python.python") === undefined) return undefined;
  try {
    const api = await PythonExtension.api();
    const active = api.environments.getActiveEnvironmentPath(resource);
    const env = await api.environments.resolveEnvironment(active);
    return env?.executable.uri?.fsPath ?? active.path;
  } catch (e) {
    log?.warn(`the Python extension did not name an interpreter: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

export async function pythonInterpreters(resource: vscode.Uri, log?: vscode.LogOutputChannel): Promise<string[]> {
  const configured = vscode.workspace.getConfiguration("backpropLens", resource).get<string>("pythonPath", "");
  return pythonCandidates({ fromPythonExtension: await fromPythonExtension(resource, log), configured });
}
