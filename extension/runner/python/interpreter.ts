/**
 * Which Python runs a `.py` model: the interpreter selected in the Python extension (when it is
 * installed; the extension host asks its API and passes the path here), else the setting
 * `backpropLens.pythonPath`, else `python3`, else `python` on the PATH. Tests use the same order
 * behind `BPL_PYTHON` (contract 5, `test/helpers/python.ts`).
 */

export interface PythonChoice {
  /** From the Python extension's `environments.getActiveEnvironmentPath()`, when it answered. */
  fromPythonExtension?: string | undefined;
  /** The `backpropLens.pythonPath` setting. */
  configured?: string | undefined;
}

/** The interpreters to try, in order, without duplicates. */
export function pythonCandidates(choice: PythonChoice = {}): string[] {
  const out: string[] = [];
  for (const p of [choice.fromPythonExtension, choice.configured, "python3", "python"]) {
    const t = p?.trim();
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

/** Where a missing interpreter is explained: one sentence, how to fix it. */
export function noPythonMessage(tried: readonly string[]): string {
  return (
    `Backprop Lens needs Python 3.8 or newer to run a .py model, and found none (tried ${tried.map((t) => `"${t}"`).join(", ")}). ` +
    "Install Python (with NumPy: `python3 -m pip install numpy`), then select it with the Python extension's " +
    '"Python: Select Interpreter" or set backpropLens.pythonPath to its path.'
  );
}
