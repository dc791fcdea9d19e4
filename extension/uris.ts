import * as vscode from "vscode";

/** A URI from a command argument: a Uri, a URI string, or an absolute path; undefined otherwise. */
export function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === "string" && arg.length > 0) return arg.includes("://") ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  return undefined;
}
