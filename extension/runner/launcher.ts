/**
 * How a producer other than the TypeScript engine plugs into the supervisor: a program to start and the
 * stream it speaks. The Python tracer's host code (`extension/runner/python/**`) builds one and passes it
 * as `runModel({ file, launcher, … })`. Everything else is the same as for a TypeScript model: the model
 * process that starts and watches the program, the time limit (not counting paused time) and the memory
 * limit (the program's RSS, polled on Linux and macOS), Stop (the program and its supervisor are
 * killed), validation and the trace budget, the end state, the control channel; the run ends in the same
 * `RunHandle`/`RunResult`/`TraceEvent` stream.
 *
 * The program's stdout is a stream of frames, each an object with a kind `k`:
 * - `{ k: "hello", … }`: the program is up (logged);
 * - `{ k: "event", event }` or `{ k: "events", events: […] }`: trace events (docs/trace-format.md). A `run/end` is the program's claim:
 *   the run's final `run/end` is written by the supervisor, from that claim and how the program exited;
 * - `{ k: "control", message: { type, … } }`: a control message (contract 6), in order with the events;
 * - `{ k: "where", site }`: the answer to the `where` command (below): the user's line now, or null;
 * - `{ k: "memory", site?, frames? }`: the program is at the memory limit (at that line): it is stopped;
 * - `{ k: "exit" }`: the program is about to exit.
 * How frames are written is the `transport`:
 * - `"json-lines"`: one frame per line of JSON; an event's tensors as in a trace file
 *   (`{ "shape": […], "data": […] }`, non-finite numbers as `"NaN"`, `"Infinity"`, `"-Infinity"`);
 * - `"bpl1"`: the Python tracer's binary frames (python/backprop_lens_tracer/wire.py; its decoder is
 *   `extension/runner/python/wire.ts`), registered in modelProcess.ts (`TRANSPORTS`).
 * Commands of the control channel go to the program's stdin as JSON lines, after `stdin` (its settings).
 * The program's stderr lines become `error` console lines of the run, and its last lines are quoted
 * when it dies without ending the run.
 */
import type { ControlMessage } from "./control";

export interface ProcessLauncher {
  /** What messages call the program, e.g. `python3`. */
  name: string;
  /** The executable (absolute path or a name on PATH). */
  command: string;
  /** Tried in order when `command` cannot be started (not found, not executable). */
  alternatives?: string[];
  args: string[];
  /** Working directory (default: the model file's folder). */
  cwd?: string;
  /** Added to (and overriding) the environment of the model process. */
  env?: Record<string, string>;
  /** Written to the program's stdin when it starts (e.g. its settings as one JSON line, with a newline). */
  stdin?: string;
  /** How the program's stdout is framed. */
  transport: "json-lines" | "bpl1";
  /** The command that asks the program where the model is now (answered by a `where` frame); a timeout then names that line. */
  where?: ControlMessage;
  /** Exit codes that mean "this command is not the program" (Windows' Store alias exits 9009): the next alternative is tried, when nothing was written yet. */
  retryExitCodes?: number[];
}
