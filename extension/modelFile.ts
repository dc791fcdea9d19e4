import * as vscode from "vscode";
import { looksLikePythonModel } from "./runner/python/modelFile";

/** Languages a model file may be written in. */
export const MODEL_LANGUAGES = ["typescript", "javascript", "typescriptreact", "javascriptreact"];

const IMPORTS_ENGINE = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["']backprop-lens["']/;

/** True when the text imports "backprop-lens" (import, import type, dynamic import or require). */
export function importsEngine(text: string): boolean {
  return IMPORTS_ENGINE.test(text);
}

/** True for a TypeScript/JavaScript file on disk that imports "backprop-lens", or a Python model file (runner/python/modelFile.ts). */
export function isModelDocument(doc: vscode.TextDocument): boolean {
  if (doc.uri.scheme !== "file") return false;
  if (doc.languageId === "python") return looksLikePythonModel(doc.getText());
  return MODEL_LANGUAGES.includes(doc.languageId) && importsEngine(doc.getText());
}
