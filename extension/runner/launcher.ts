/**
 * How a producer other than the TypeScript engine plugs into the supervisor: a program to start and the
 * stream it speaks. The Python tracer (`extension/runner/python/**`) builds one of these and passes it
 * as `runModel({ file, launcher, … })`; everything else — the model process that supervises it, the
 * time and memory limits, Stop, validation and the trace budget, the end state, the control channel —
 * is the same as for a TypeScript model, and the run ends in the same `RunHandle`/`RunResult`/
 * `TraceEvent` stream.
 *
 * The stream (`transport: "json-lines"`):
 * - the program writes one JSON object per line on its **stdout**: either a trace event exactly as in a
 *   trace file's `events` array (docs/trace-format.md: tensors as `{ "shape": […], "data": […] }`,
 *   non-finite numbers as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`), or a control message
 *   wrapped as `{ "type": "control", "message": { "type": "…", … } }`;
 * - it starts with `run/start` and ends with `run/end` (which the supervisor takes as the program's
 *   claim: the run's final `run/end` is written by the supervisor, from that claim and how the program
 *   exited);
 * - commands of the control channel arrive on its **stdin**, one JSON object per line;
 * - its **stderr** is the model's error output: each line becomes an `error` console line of the run
 *   (and the last lines are quoted when the program dies without ending the run).
 */
export interface ProcessLauncher {
  /** What messages call the program, e.g. `python3`. */
  name: string;
  /** The executable (absolute path or a name on PATH). */
  command: string;
  args: string[];
  /** Working directory (default: the model file's folder). */
  cwd?: string;
  /** Added to (and overriding) the environment of the model process. */
  env?: Record<string, string>;
  transport: "json-lines";
}
