import * as vscode from "vscode";
import { isModelFile } from "./server/modelFile";

/** Languages a TypeScript/JavaScript model file may be written in. */
export const MODEL_LANGUAGES = ["typescript", "javascript", "typescriptreact", "javascriptreact"];

/**
 * True for a model file on disk: the same test as the language server's Run lens
 * (`server/modelFile.ts`, by the file's extension and text).
 */
export function isModelDocument(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === "file" && isModelFile(doc.uri.fsPath, doc.getText());
}
