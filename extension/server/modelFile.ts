/**
 * Which files are model files: the one test behind the editor-title Run button, Ctrl+Alt+B and Run on
 * Save (the client, `extension/modelFile.ts`) and the ▶ Run code lens (the language server), so they
 * always agree. Free of `vscode`, so both sides import it. A file is a model file by its extension and text:
 * - TypeScript/JavaScript (`.ts`, `.tsx`, `.mts`, `.cts`, `.js`, `.jsx`, `.mjs`, `.cjs`) that imports
 *   "backprop-lens" (ES import or export-from, dynamic import, require), with single, double or backtick
 *   quotes, also subpaths like "backprop-lens/extra";
 * - Python (`.py`, `.pyw`) that has the book's shape (`runner/python/modelFile.ts`).
 * The extension decides, as the runner does (it compiles or interprets a file by its extension).
 * Comments are not parsed: a commented-out import still counts, which only adds a harmless Run lens.
 */
import { looksLikePythonModel } from "../runner/python/modelFile";

const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*(?:\(\s*)?|\brequire\s*\(\s*)(["'`])backprop-lens(?:\/[^"'`\s]*)?\1/;
const SCRIPT_RE = /\.(?:[cm]?[jt]s|[jt]sx)$/i;
const PYTHON_RE = /\.pyw?$/i;

/** True when `text` imports or requires "backprop-lens". */
export function importsBackpropLens(text: string): boolean {
  return IMPORT_RE.test(text);
}

/** True when the file at `file` (a path) with this text is a model file Backprop Lens can run. */
export function isModelFile(file: string, text: string): boolean {
  if (PYTHON_RE.test(file)) return looksLikePythonModel(text);
  return SCRIPT_RE.test(file) && importsBackpropLens(text);
}
