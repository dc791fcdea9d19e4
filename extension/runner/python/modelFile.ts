/**
 * Which Python files are model files (the Run lens, the editor-title button, Ctrl+Alt+B): a `.py`
 * file that has the book's shape (a `forward`/`backward` method or call, the book's `dvalue(s)`) or
 * imports PyTorch. Comments are not parsed: a mention in a comment only adds a harmless Run lens.
 */
const PYTHON_MODEL_RE = /\bdef\s+(?:forward|backward)\s*\(|\.(?:forward|backward)\s*\(|^\s*(?:import\s+torch\b|from\s+torch\b)|\bdvalues?\b/m;

/** True when a Python file's text looks like a model Backprop Lens can run. */
export function looksLikePythonModel(text: string): boolean {
  return PYTHON_MODEL_RE.test(text);
}
