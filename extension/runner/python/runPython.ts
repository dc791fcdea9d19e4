/**
 * What a Python model's run needs besides the model process's supervisor (`../modelProcess.ts`, which
 * spawns the tracer through `launch.ts`): the options that pick the interpreter and the tracer script,
 * the test for a Python model file, and where `python/bpl_run.py` is.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface PythonRunOptions {
  /** Interpreters to try in order (default: `python3`, then `python`). */
  interpreters?: readonly string[];
  /** Absolute path of `python/bpl_run.py` (default: found next to the bundle). */
  tracer?: string;
}

/** True for a file the Python producer runs. */
export function isPythonModelFile(file: string): boolean {
  return /\.pyw?$/i.test(file);
}

/** `python/bpl_run.py` in the extension (next to `dist/`) or the repository (tests run from `out/`). */
export function defaultTracerScript(from: string = __dirname): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "python", "bpl_run.py");
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return path.join(from, "..", "python", "bpl_run.py");
}
