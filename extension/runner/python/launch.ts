/**
 * The Python tracer as a producer of the model process (contract 3): `runModel` on a `.py` file runs
 * `python -B -u python/bpl_run.py` through the same supervisor as a TypeScript model (launcher.ts), so
 * it gets the same time limit (the tracer is asked `where` it is), memory limit (its RSS; the tracer also
 * watches its own and reports the line), Stop, validation, trace budget, backpressure and end states.
 *
 * - `pythonLauncher`: the interpreters to try in order, the tracer's settings as the first line of its
 *   stdin (with the unsaved text: nothing is written to disk), its `bpl1` frames on stdout (wire.ts).
 * - `explainPythonExit`: what only the Python side can tell from how the program ended — no interpreter
 *   found, a Python too old, a tracer that could not start.
 */
import * as path from "node:path";
import { type RunError, TRACE_FORMAT_VERSION } from "../../../core/host";
import type { ProcessLauncher } from "../launcher";
import type { ProgramExit } from "../processProtocol";
import type { RunModelOptions } from "../runModel";
import { noPythonMessage, pythonCandidates } from "./interpreter";
import { type PythonRunOptions, defaultTracerScript } from "./runPython";

export function pythonLauncher(options: RunModelOptions, py: PythonRunOptions = {}): ProcessLauncher {
  const candidates = py.interpreters && py.interpreters.length > 0 ? [...py.interpreters] : pythonCandidates();
  const config = {
    file: options.file,
    ...(options.source !== undefined ? { source: options.source } : {}),
    keepSteps: options.keepSteps ?? 3,
    gradCheck: options.gradCheck ? options.gradCheck : null,
    memoryLimitMb: options.memoryLimitMb ?? 1024,
    traceVersion: TRACE_FORMAT_VERSION,
  };
  return {
    name: "Python",
    command: candidates[0] ?? "python3",
    alternatives: candidates.slice(1),
    args: ["-B", "-u", py.tracer ?? defaultTracerScript()],
    cwd: path.dirname(options.file),
    env: { PYTHONDONTWRITEBYTECODE: "1", PYTHONIOENCODING: "utf-8", PYTHONUNBUFFERED: "1", PYTHONFAULTHANDLER: "1" },
    stdin: `${JSON.stringify(config)}\n`,
    transport: "bpl1",
    where: { type: "where" },
    // The Microsoft Store's "python3" alias on Windows is not Python: it exits 9009.
    retryExitCodes: process.platform === "win32" ? [9009] : [],
  };
}

/** The run's error for how the tracer's process ended, when there is more to say than "it died". */
export function explainPythonExit(py: PythonRunOptions = {}): (exit: ProgramExit, error: RunError | undefined) => RunError | undefined {
  const candidates = py.interpreters && py.interpreters.length > 0 ? [...py.interpreters] : pythonCandidates();
  return (exit, error) => {
    if (!exit.started) return { kind: "import", message: noPythonMessage(candidates) };
    if (error === undefined || error.kind === "timeout" || error.kind === "memory") return undefined;
    const stderr = exit.stderr.join("\n");
    const tail = exit.stderr.slice(-6).join("\n").trim();
    if (exit.code === 3 && /Python \d+\.\d+ or newer is needed/.test(stderr)) return { kind: "import", message: tail.replace(/^backprop-lens: /, "") };
    if (/No module named ['"]?(encodings|backprop_lens_tracer)/.test(stderr) || (exit.code !== 0 && exit.frames === 0 && /SyntaxError/.test(stderr))) {
      return { kind: "import", message: `${exit.command} could not start the Backprop Lens tracer (Python 3.8 or newer is needed): ${tail}` };
    }
    return undefined;
  };
}
