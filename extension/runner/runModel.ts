/**
 * Compiles and runs a model file in a worker thread, with a time limit (watchdog `terminate()`),
 * a memory limit (`resourceLimits` for the heap, the engine's allocation hook for tensors) and
 * cancellation, streaming the worker's trace events to `onEvent` as they arrive.
 *
 * Every run ends with exactly one `run/end` event (synthesised here when the worker was stopped),
 * and `result` resolves with the same outcome; it never rejects.
 */
import { Worker } from "node:worker_threads";
import * as engine from "../../core/index";
import { type GradCheckOptions, RUN_LIMITS, type RunError, type SourceSite, type TraceEvent, baseName } from "../../core/host";
import { CompileError, type Compiled, compileModel } from "./compile";
import { type ControlMessage, hostControl } from "./control";
import { locatePausedWorker } from "./locate";
import type { WorkerInput, WorkerMessage } from "./workerProtocol";
import { type PythonRunOptions, isPythonModelFile, runPythonModel } from "./python/runPython";

export interface RunModelOptions {
  /** Absolute path of the model file. */
  file: string;
  /** Its unsaved text, if any. */
  source?: string;
  /** Other unsaved files, by absolute path. */
  overlays?: ReadonlyMap<string, string>;
  /** Absolute path of `dist/worker.js`. */
  workerScript: string;
  /** esbuild binary when the esbuild package is bundled (the extension). */
  esbuildBinary?: string;
  /** Stop the model after this long. Default: `RUN_LIMITS.timeLimitSeconds` (core/limits.ts). */
  timeLimitMs?: number;
  /** Heap and tensor memory limit. Default: `RUN_LIMITS.memoryLimitMb`. */
  memoryLimitMb?: number;
  /** Steps emitted in full from step 0. Default: `RUN_LIMITS.keepSteps`. */
  keepSteps?: number;
  /** More steps to emit in full (a re-run that records step 1234). */
  recordSteps?: number[];
  /** Gradient-check every layer at the end (within `budgetMs` in all, when given). Default off. */
  gradCheck?: (GradCheckOptions & { budgetMs?: number }) | false;
  /** Receives every trace event, in order, while the model runs. */
  onEvent?: (event: TraceEvent) => void;
  /** Open the control channel (debug runs): `RunHandle.send` and `onControl` (contract 6). */
  control?: true;
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
  /** From worker start to the end of the run. */
  durationMs: number;
}

export interface RunHandle {
  readonly result: Promise<RunResult>;
  /** Stops the run (compile or worker); `result` resolves with a `cancelled` error. */
  cancel(): void;
  /** Host → worker command (runs started with `control: true`; queued until the worker starts). */
  send(cmd: ControlMessage): void;
  /** Worker → host control messages, in order with the trace events. Returns an unsubscribe function. */
  onControl(cb: (m: ControlMessage) => void): () => void;
}

let liveWorkers = 0;

/** Model workers started and not yet exited in this process (tests check that nothing is left behind). */
export function liveModelWorkers(): number {
  return liveWorkers;
}

/** Runtime names the engine exports, for the compiler's virtual `"backprop-lens"` module. */
export const ENGINE_EXPORTS: readonly string[] = Object.keys(engine);

export function runModel(options: RunModelOptions): RunHandle {
  if (isPythonModelFile(options.file)) return runPythonModel(options, options.python);
  let cancelled = false;
  let stop: ((error: RunError) => void) | undefined;
  const control = options.control ? hostControl() : undefined;
  const listeners = new Set<(m: ControlMessage) => void>();
  const onControl = (m: ControlMessage): void => {
    for (const l of [...listeners]) {
      try {
        l(m);
      } catch {
        // a listener's bug must not break the run
      }
    }
  };
  const result = (async (): Promise<RunResult> => {
    let compiled: Compiled;
    const emit = (e: TraceEvent): void => {
      try {
        options.onEvent?.(e);
      } catch {
        // a consumer's bug must not break the run
      }
    };
    const fail = (error: RunError, compileMs: number, durationMs: number, steps = 0, keptSteps: number[] = []): RunResult => {
      emit({ type: "run/end", ok: false, steps, durationMs, keptSteps, error });
      return { ok: false, error, steps, keptSteps, compileMs, durationMs };
    };
    const t0 = performance.now();
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
      return fail(error, performance.now() - t0, 0);
    }
    const compileMs = performance.now() - t0;
    if (cancelled) return fail({ kind: "cancelled", message: "the run was cancelled" }, compileMs, 0);
    return runCompiled(compiled, options, compileMs, emit, (s) => {
      stop = s;
    }, () => cancelled, control?.channel, onControl);
  })();
  void result.then(() => control?.close());
  return {
    result,
    cancel(): void {
      if (cancelled) return;
      cancelled = true;
      stop?.({ kind: "cancelled", message: "the run was cancelled" });
    },
    send(cmd: ControlMessage): void {
      if (!control) throw new Error("runModel: send() needs a run started with control: true");
      control.send(cmd);
    },
    onControl(cb: (m: ControlMessage) => void): () => void {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
  };
}

function runCompiled(
  compiled: Compiled,
  options: RunModelOptions,
  compileMs: number,
  emit: (e: TraceEvent) => void,
  setStop: (s: (error: RunError) => void) => void,
  isCancelled: () => boolean,
  control: WorkerInput["control"],
  onControl: (m: ControlMessage) => void,
): Promise<RunResult> {
  const memoryLimitMb = options.memoryLimitMb ?? RUN_LIMITS.memoryLimitMb.default;
  const timeLimitMs = options.timeLimitMs ?? RUN_LIMITS.timeLimitSeconds.default * 1000;
  const input: WorkerInput = {
    compiled: { file: compiled.file, code: compiled.code, map: compiled.map, sources: compiled.sources },
    memoryLimitMb,
    keepSteps: options.keepSteps ?? RUN_LIMITS.keepSteps.default,
    gradCheck: options.gradCheck ?? false,
    ...(options.recordSteps ? { recordSteps: options.recordSteps } : {}),
    ...(control ? { control } : {}),
  };
  const started = performance.now();
  return new Promise<RunResult>((resolve) => {
    let settled = false;
    let steps = 0;
    let lastSite: SourceSite | undefined;
    let end: Extract<TraceEvent, { type: "run/end" }> | undefined;
    const worker = new Worker(options.workerScript, {
      workerData: input,
      ...(control ? { transferList: [control.port] } : {}),
      name: "backprop-lens model",
      resourceLimits: { maxOldGenerationSizeMb: memoryLimitMb, maxYoungGenerationSizeMb: 64, stackSizeMb: 8 },
      stdout: true, // the model's process.stdout writes stay in the worker instead of the host's output
      stderr: true,
    });
    liveWorkers++;
    worker.once("exit", () => liveWorkers--);
    const finish = (r: RunResult): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      void worker.terminate();
      resolve(r);
    };
    const stopWith = (error: RunError): void => {
      if (settled) return;
      const durationMs = performance.now() - started;
      emit({ type: "run/end", ok: false, steps, durationMs, keptSteps: [], error });
      finish({ ok: false, error, steps, keptSteps: [], compileMs, durationMs });
    };
    setStop(stopWith);
    if (isCancelled()) stopWith({ kind: "cancelled", message: "the run was cancelled" });
    // The time limit counts only the time the model runs: a worker paused in the debugger has its clock stopped.
    let remainingMs = timeLimitMs;
    let armedAt = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onTimeout = (): void => {
      void (async () => {
        // Ask V8 where the model is before stopping it, so the message names the line that never ends.
        const paused = await locatePausedWorker(worker, compiled.map, `backprop-lens-model:${compiled.file}`, 1000, options.debug).catch((e: unknown) => {
          options.debug?.(`locate failed: ${String(e)}`);
          return undefined;
        });
        const site = paused ?? lastSite;
        const at = site ? ` at ${baseName(site.file)}:${site.line}` : "";
        stopWith({
          kind: "timeout",
          message: `${baseName(compiled.file)}: the model ran longer than the time limit of ${(timeLimitMs / 1000).toFixed(timeLimitMs % 1000 ? 1 : 0)} s and was stopped${at}${
            paused ? "" : steps > 0 ? ` (step ${steps})` : ""
          }; raise the time limit if it is meant to run this long (setting backpropLens.timeLimitSeconds, CLI --time-limit)`,
          ...(site ? { site } : {}),
        });
      })();
    };
    timer = setTimeout(onTimeout, remainingMs);
    worker.on("message", (msg: WorkerMessage) => {
      if (settled) return;
      if (msg.kind === "waiting") {
        if (msg.waiting && timer !== undefined) {
          clearTimeout(timer);
          timer = undefined;
          remainingMs = Math.max(0, remainingMs - (performance.now() - armedAt));
        } else if (!msg.waiting && timer === undefined) {
          armedAt = performance.now();
          timer = setTimeout(onTimeout, remainingMs);
        }
      } else if (msg.kind === "control") {
        onControl(msg.message);
      } else if (msg.kind === "events") {
        for (const e of msg.events) {
          if (e.type === "step/summary") steps = e.summary.step + 1;
          else if (e.type === "layer/call" && e.call.site) lastSite = e.call.site;
          if (e.type === "run/end") end = e;
          emit(e);
        }
      } else if (msg.kind === "done") {
        const durationMs = performance.now() - started;
        if (end === undefined) {
          stopWith({ kind: "internal", message: "the worker ended without reporting the end of the run" });
          return;
        }
        finish({ ok: end.ok, ...(end.error ? { error: end.error } : {}), steps: end.steps, keptSteps: end.keptSteps, compileMs, durationMs });
      }
    });
    worker.on("error", (err: Error & { code?: string }) => {
      const outOfMemory = err.code === "ERR_WORKER_OUT_OF_MEMORY" || /heap out of memory|memory limit/i.test(err.message);
      const at = lastSite ? ` (last traced call at ${baseName(lastSite.file)}:${lastSite.line})` : "";
      stopWith(
        outOfMemory
          ? {
              kind: "memory",
              message: `${baseName(compiled.file)}: the model used more than the memory limit of ${memoryLimitMb} MB and was stopped${at}; look for data that grows without bound, or raise backpropLens.memoryLimitMb`,
              ...(lastSite ? { site: lastSite } : {}),
            }
          : { kind: "internal", message: `${baseName(compiled.file)}: the model's worker failed: ${err.message}` },
      );
    });
    worker.on("exit", (code) => {
      if (!settled) stopWith({ kind: "internal", message: `${baseName(compiled.file)}: the model's worker exited (code ${code}) before the run ended` });
    });
  });
}
