/**
 * Runs a model file in a model process of its own (supervisor.ts, modelProcess.ts): a TypeScript or
 * JavaScript model is compiled here (esbuild) and run in a worker thread of that process; another
 * producer (the Python tracer) is started there from a `ProcessLauncher`. Either way the run has one
 * memory limit that counts everything the model allocates, the time limit (not counting time paused in
 * the debugger), Stop that ends it at once whatever the model does, a trace held to a budget
 * (traceBudget.ts), and a truthful end (done, failed, stopped, lost).
 *
 * Every run ends with exactly one `run/end` event, written here, and `result` resolves with the same
 * outcome; it never rejects. Imports nothing from vscode: the CLI and the extension share it.
 */
import * as path from "node:path";
import * as engine from "../../core/index";
import { type GradCheckOptions, RUN_LIMITS, type RunError, type TraceEvent } from "../../core/host";
import { CompileError, type Compiled, compileModel } from "./compile";
import type { ControlMessage } from "./control";
import type { ProcessLauncher } from "./launcher";
import type { ProgramExit, RunSpec } from "./processProtocol";
import { ModelProcess, type ProcessPool, type SupervisedEnd, supervise } from "./supervisor";
import { explainPythonExit, pythonLauncher } from "./python/launch";
import { type PythonRunOptions, isPythonModelFile } from "./python/runPython";

export interface RunModelOptions {
  /** Absolute path of the model file. */
  file: string;
  /** Its unsaved text, if any. */
  source?: string;
  /** Other unsaved files, by absolute path. */
  overlays?: ReadonlyMap<string, string>;
  /** Absolute path of `dist/worker.js`. */
  workerScript: string;
  /** Absolute path of `dist/modelProcess.js` (default: next to `workerScript`). */
  processScript?: string;
  /** esbuild binary when the esbuild package is bundled (the extension). */
  esbuildBinary?: string;
  /** Stop the model after this long (not counting time paused in the debugger). Default: `RUN_LIMITS.timeLimitSeconds` (core/limits.ts). */
  timeLimitMs?: number;
  /** Memory the model may add to its process, heap and everything else. Default: `RUN_LIMITS.memoryLimitMb`. */
  memoryLimitMb?: number;
  /** Steps emitted in full from step 0. Default: `RUN_LIMITS.keepSteps`. */
  keepSteps?: number;
  /** More steps to emit in full (a re-run that records step 1234). */
  recordSteps?: number[];
  /** Gradient-check every layer at the end (within `budgetMs` in all, when given). Default off. */
  gradCheck?: (GradCheckOptions & { budgetMs?: number }) | false;
  /** A debug run: the control channel is used (`RunHandle.send`/`onControl`; the worker's `workerControl()`). */
  control?: true;
  /** Run this program instead of compiling `file` (see launcher.ts; a `.py` file gets the Python tracer's). */
  launcher?: ProcessLauncher;
  /** Turns how the launcher's program ended into the run's error, when its owner knows better (e.g. "no Python found"). */
  explainExit?: (exit: ProgramExit, error: RunError | undefined) => RunError | undefined;
  /** Where a warm spare process comes from (the extension keeps one); without it a process is forked per run. */
  pool?: ProcessPool;
  /** Receives every trace event, in order, while the model runs. */
  onEvent?: (event: TraceEvent) => void;
  /** Diagnostics of the runner itself (not of the model). */
  debug?: (message: string) => void;
  /** For `.py` files: the interpreters to try and the tracer script (extension/runner/python). */
  python?: PythonRunOptions;
}

export interface RunResult {
  ok: boolean;
  error?: RunError;
  /** Steps the model ran. */
  steps: number;
  /** Steps whose tensors were recorded. */
  keptSteps: number[];
  compileMs: number;
  /** From the model's start to the end of the run, not counting paused time. */
  durationMs: number;
  /** From the run's request to the model's first line: the compile, and the process and worker start (overlapping it) or a spare's hand-over. */
  startMs?: number;
}

export interface RunHandle {
  readonly result: Promise<RunResult>;
  /** Stops the run (compile or process) at once; `result` resolves with a `cancelled` error. */
  cancel(): void;
  /** Sends a command to the model's thread (or the Python tracer's stdin): queued until the model process runs, ignored once the run has ended. */
  send(cmd: ControlMessage): void;
  /** Control messages from the model, in order with the trace events; returns the unsubscribe. */
  onControl(cb: (m: ControlMessage) => void): () => void;
}

/** done / failed / stopped / lost: how a run ended, in the words the editor shows. */
export type EndState = "done" | "failed" | "stopped" | "lost";

export function endStateOf(r: { ok: boolean; error?: RunError }): EndState {
  if (r.ok) return "done";
  return r.error?.kind === "cancelled" ? "stopped" : r.error?.kind === "lost" ? "lost" : "failed";
}

let liveProcesses = 0;

/**
 * Model processes started for runs (not the warm spare) that have not exited yet, in this process: the
 * tests check that nothing is left behind after Stop or a closed debug session.
 */
export function liveModelWorkers(): number {
  return liveProcesses;
}

/** Runtime names the engine exports, for the compiler's virtual `"backprop-lens"` module. */
export const ENGINE_EXPORTS: readonly string[] = Object.keys(engine);

const CANCELLED: RunError = { kind: "cancelled", message: "the run was stopped" };

export function runModel(given: RunModelOptions): RunHandle {
  // A Python model: the tracer is the producer, started by the same supervisor (python/launch.ts).
  const options: RunModelOptions =
    isPythonModelFile(given.file) && !given.launcher ? { ...given, launcher: pythonLauncher(given, given.python), explainExit: explainPythonExit(given.python) } : given;
  let cancelled = false;
  let running: { stop(e: RunError): void; send(c: ControlMessage): void } | undefined;
  const listeners = new Set<(m: ControlMessage) => void>();
  const memoryLimitMb = options.memoryLimitMb ?? RUN_LIMITS.memoryLimitMb.default;
  /** Commands sent before the process runs the model (the debugger configures at once). */
  let early: ControlMessage[] | undefined = [];
  const processScript = options.processScript ?? path.join(path.dirname(options.workerScript), "modelProcess.js");
  const emit = (e: TraceEvent): void => {
    try {
      options.onEvent?.(e);
    } catch (err) {
      options.debug?.(`a trace consumer failed: ${String(err)}`); // a consumer's bug must not break the run
    }
  };
  // Start the process while the model compiles: the two overlap.
  const proc = options.launcher
    ? new ModelProcess({ script: processScript, ...(options.debug ? { debug: options.debug } : {}) })
    : (options.pool?.take(options.workerScript, memoryLimitMb) ?? new ModelProcess({ script: processScript, prestart: { workerScript: options.workerScript, memoryLimitMb }, ...(options.debug ? { debug: options.debug } : {}) }));
  if (proc.alive) {
    liveProcesses++;
    proc.child.once("exit", () => liveProcesses--);
  }
  const result = (async (): Promise<RunResult> => {
    const end = (given: SupervisedEnd, compileMs: number): RunResult => {
      early = undefined;
      const explained = given.program && options.explainExit && given.error?.kind !== "cancelled" ? options.explainExit(given.program, given.error) : undefined;
      const r: SupervisedEnd = explained ? { ...given, ok: false, error: explained } : given;
      emit({ type: "run/end", ok: r.ok, steps: r.steps, durationMs: r.durationMs, keptSteps: r.keptSteps, ...(r.error ? { error: r.error } : {}) });
      return { ok: r.ok, ...(r.error ? { error: r.error } : {}), steps: r.steps, keptSteps: r.keptSteps, compileMs, durationMs: r.durationMs, ...(r.startMs !== undefined ? { startMs: r.startMs } : {}) };
    };
    const t0 = performance.now();
    let spec: RunSpec;
    const fileName = path.basename(options.file);
    const limits = { memoryLimitMb, timeLimitMs: options.timeLimitMs ?? RUN_LIMITS.timeLimitSeconds.default * 1000, keepSteps: options.keepSteps ?? RUN_LIMITS.keepSteps.default, fileName };
    if (options.launcher) {
      spec = { producer: { kind: "process", launcher: { cwd: path.dirname(options.file), ...options.launcher } }, ...limits };
    } else {
      let compiled: Compiled;
      try {
        compiled = await compileModel({
          file: options.file,
          ...(options.source !== undefined ? { source: options.source } : {}),
          ...(options.overlays ? { overlays: options.overlays } : {}),
          engineExports: ENGINE_EXPORTS,
          ...(options.esbuildBinary ? { esbuildBinary: options.esbuildBinary } : {}),
        });
      } catch (e) {
        const error = e instanceof CompileError ? e.error : { kind: "internal" as const, message: `could not compile ${options.file}: ${String(e)}` };
        proc.kill();
        options.pool?.refill(options.workerScript, memoryLimitMb);
        return end({ ok: false, error, steps: 0, keptSteps: [], durationMs: 0 }, performance.now() - t0);
      }
      spec = {
        producer: {
          kind: "worker",
          workerScript: options.workerScript,
          input: {
            compiled: { file: compiled.file, code: compiled.code, map: compiled.map, sources: compiled.sources },
            memoryLimitMb,
            keepSteps: limits.keepSteps,
            gradCheck: options.gradCheck ?? false,
            ...(options.recordSteps ? { recordSteps: options.recordSteps } : {}),
            control: options.control === true,
          },
        },
        ...limits,
      };
    }
    const compileMs = performance.now() - t0;
    if (cancelled) {
      proc.kill();
      return end({ ok: false, error: CANCELLED, steps: 0, keptSteps: [], durationMs: 0 }, compileMs);
    }
    const s = supervise(proc, {
      spec,
      requestedAt: t0,
      onEvent: emit,
      onControl: (m) => {
        for (const l of listeners) {
          try {
            l(m);
          } catch (err) {
            options.debug?.(`a control listener failed: ${String(err)}`);
          }
        }
      },
      ...(options.debug ? { debug: options.debug } : {}),
    });
    running = s;
    for (const c of early ?? []) s.send(c);
    early = undefined;
    const r = await s.end;
    running = undefined;
    if (!options.launcher) options.pool?.refill(options.workerScript, memoryLimitMb);
    return end(r, compileMs);
  })();
  return {
    result,
    cancel(): void {
      if (cancelled) return;
      cancelled = true;
      if (running) running.stop(CANCELLED);
      else proc.kill();
    },
    send(cmd: ControlMessage): void {
      if (running) running.send(cmd);
      else if (early && !cancelled) early.push(cmd);
    },
    onControl(cb: (m: ControlMessage) => void): () => void {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
  };
}
