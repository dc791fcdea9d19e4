/**
 * Which documents are model files: those that import "backprop-lens" (ES import or export-from,
 * dynamic import, require), with single, double or backtick quotes, also subpaths like
 * "backprop-lens/extra". Comments are not parsed: a commented-out import still counts, which only
 * adds a harmless "Run" lens.
 */
const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*(?:\(\s*)?|\brequire\s*\(\s*)(["'`])backprop-lens(?:\/[^"'`\s]*)?\1/;

/** True when `text` imports or requires "backprop-lens". */
export function importsBackpropLens(text: string): boolean {
  return IMPORT_RE.test(text);
}
