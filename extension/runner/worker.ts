/**
 * The worker thread that runs one model: installs the trace recorder, runs the compiled bundle with
 * `"backprop-lens"` answered by this worker's engine, streams trace events to the parent (tensors
 * transferred, not copied), and reports any failure as a run error naming file, line, layer and shapes.
 *
 * Entry point of `dist/worker.js`; started by `runModel` with `workerData: WorkerInput`.
 */
import { createRequire } from "node:module";
import { format as utilFormat, inspect } from "node:util";
import * as vm from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import * as engine from "../../core/index";
import {
  type ConsoleLevel,
  NonFiniteError,
  type RunError,
  ShapeError,
  TRACE_FORMAT_VERSION,
  TensorTooLargeError,
  TraceRecorder,
  type TraceEvent,
  baseName,
  configureLimits,
  errorContext,
  formatTensor,
  isTensor,
  runtime,
} from "../../core/host";
import { BundleSites, engineConstructorOf, framesOf, installStackMapping } from "./sites";
import { workerControl } from "./control";
import { debuggerFor } from "../debug/worker/setup";
import { ENGINE_RUNTIME_ID, type WorkerInput, type WorkerMessage } from "./workerProtocol";

/** Thrown by the allocation hook when the model's tensors exceed the memory limit. */
class MemoryLimitError extends Error {
  override name = "MemoryLimitError";
}

const input = workerData as WorkerInput;
const port = parentPort;
if (port === null) throw new Error("worker.ts must run in a worker thread");

const BUNDLE = `backprop-lens-model:${input.compiled.file}`;
const started = performance.now();

// ------------------------------------------------------------------ streaming

let pending: TraceEvent[] = [];
let pendingTransfer: ArrayBuffer[] = [];
let lastFlush = 0;

function flush(): void {
  if (pending.length === 0) return;
  const msg: WorkerMessage = { kind: "events", events: pending };
  port?.postMessage(msg, pendingTransfer);
  pending = [];
  pendingTransfer = [];
  lastFlush = performance.now();
}

/** Summaries are batched (at most one message per 50 ms); everything else goes out at once so the inspector fills live. */
function emit(event: TraceEvent, transfer?: ArrayBuffer[]): void {
  pending.push(event);
  if (transfer) pendingTransfer.push(...transfer);
  if (event.type !== "step/summary" || performance.now() - lastFlush > 50) flush();
}

// ------------------------------------------------------------------ limits

const limitBytes = input.memoryLimitMb * 2 ** 20;
configureLimits({ maxElements: Math.floor(limitBytes / 8) });
let sinceCheck = 0;
runtime.onAlloc = (bytes) => {
  sinceCheck += bytes;
  if (sinceCheck < 32 * 2 ** 20) return;
  sinceCheck = 0;
  const used = process.memoryUsage().arrayBuffers;
  if (used + bytes > limitBytes) {
    throw new MemoryLimitError(
      `the model holds ${(used / 2 ** 20).toFixed(0)} MB of tensors, over the memory limit of ${input.memoryLimitMb} MB`,
    );
  }
};

// ------------------------------------------------------------------ tracing

const sites = new BundleSites(BUNDLE, input.compiled.map, input.compiled.sources);
installStackMapping(sites);
// Debug runs (contract 6): the control channel and the debugger's worker-side code (extension/debug/worker).
const control = input.control ? workerControl(input.control, (m, transfer) => port?.postMessage(m, transfer ?? []), flush) : undefined;
const debug = control ? debuggerFor(control, sites, input.compiled.code, input.keepSteps) : undefined;
const recorder = new TraceRecorder({
  sink: { emit: debug ? (e, transfer): void => (emit(e, transfer), debug.onEvent(e)) : emit },
  sites,
  keepSteps: input.keepSteps,
  gradCheck: input.gradCheck,
  ...(input.recordSteps ? { recordSteps: input.recordSteps } : {}),
  ...(debug ? { observer: debug } : {}),
});

// ------------------------------------------------------------------ console

function show(x: unknown): unknown {
  if (isTensor(x)) return `${formatTensor(x)}`;
  if (x instanceof engine.Value) return x.toString();
  return x;
}

for (const level of ["log", "info", "warn", "error", "debug"] as const) {
  (console as unknown as Record<string, unknown>)[level] = (...args: unknown[]): void => {
    const text = utilFormat(...args.map(show));
    const site = sites.capture("call");
    emit({ type: "console", level: (level === "debug" ? "log" : level) as ConsoleLevel, text, ...(site ? { site } : {}) });
  };
}

// ------------------------------------------------------------------ errors

/** A run error with the user's file and line, the layer and call, and where its inputs came from. */
function toRunError(e: unknown): RunError {
  const frames = sites.userFrames(framesOf(e));
  const ctx = errorContext(e);
  // A non-finite value is reported where it was made, not where the next step noticed it.
  const site = (e instanceof NonFiniteError ? e.site : undefined) ?? frames[0] ?? ctx?.site;
  const kind: RunError["kind"] =
    e instanceof ShapeError
      ? "shape"
      : e instanceof NonFiniteError
        ? "non-finite"
        : e instanceof TensorTooLargeError
          ? "too-large"
          : e instanceof MemoryLimitError || (e instanceof RangeError && /allocation failed|Array buffer allocation/i.test(e.message))
            ? "memory"
            : "throw";
  const err = e instanceof Error ? e : undefined;
  const what = err ? (kind === "throw" && err.name !== "Error" ? `${err.name}: ${err.message}` : err.message) : `threw ${inspect(e)}`;
  const at = site ? `${baseName(site.file)}:${site.line}: ` : "";
  let message: string;
  if (e instanceof NonFiniteError) {
    message = `${at}${what}`;
  } else if (ctx !== undefined) {
    const l = ctx.layer;
    message = `${at}${l.name}.${ctx.phase} failed: ${what}`;
    if (ctx.detail) message += `; ${ctx.detail}`;
    message += `. ${l.name} is ${l.description}${l.site ? `, built at ${baseName(l.site.file)}:${l.site.line}` : ""}.`;
  } else {
    const ctor = engineConstructorOf(e, BUNDLE);
    const name = ctor && site ? sites.nameAt(site) : undefined;
    const chain = frames.length > 1 ? ` (called from ${frames.slice(1, 4).map((f) => `${baseName(f.file)}:${f.line}`).join(" ← ")})` : "";
    message = ctor ? `${at}${name ? `${name} = ` : ""}new ${ctor}(…) failed: ${what}` : `${at}${what}${chain}`;
  }
  if (kind === "memory" && !/memory limit/.test(message)) message += ` (memory limit ${input.memoryLimitMb} MB)`;
  if (kind === "too-large") message += ` (memory limit ${input.memoryLimitMb} MB)`;
  return {
    kind,
    message,
    ...(site ? { site } : {}),
    ...(ctx ? { layer: { id: ctx.layer.id, name: ctx.layer.name, className: ctx.layer.className } } : {}),
    ...(frames.length > 0 ? { frames } : {}),
  };
}

// ------------------------------------------------------------------ run

async function main(): Promise<void> {
  emit({ type: "run/start", version: TRACE_FORMAT_VERSION, file: input.compiled.file, startedAt: Date.now() });
  const userRequire = createRequire(input.compiled.file);
  const requireShim = (id: string): unknown => (id === ENGINE_RUNTIME_ID ? engine : userRequire(id));
  let error: RunError | undefined;
  let completed = false;
  debug?.start();
  recorder.install();
  try {
    const fn = vm.compileFunction(input.compiled.code, ["exports", "require", "module", "__filename", "__dirname"], { filename: BUNDLE });
    const mod = { exports: {} as Record<string, unknown> };
    const dir = input.compiled.file.slice(0, Math.max(input.compiled.file.lastIndexOf("/"), input.compiled.file.lastIndexOf("\\")));
    fn.call(mod.exports, mod.exports, requireShim, mod, input.compiled.file, dir);
    // A model may export `main` (or a default function), possibly async: run it and wait.
    const entry = mod.exports.main ?? mod.exports.default;
    if (typeof entry === "function") await (entry as () => unknown)();
    completed = true;
  } catch (e) {
    error = toRunError(e);
    debug?.onError(e, error.message);
  }
  try {
    recorder.finish({ completed });
  } catch (e) {
    error ??= toRunError(e);
    debug?.onError(e, error.message);
  }
  emit({ type: "run/end", ok: error === undefined, steps: recorder.stepCount, durationMs: performance.now() - started, keptSteps: recorder.keptSteps, ...(error ? { error } : {}) });
  flush();
  const done: WorkerMessage = { kind: "done" };
  port?.postMessage(done);
}

process.on("unhandledRejection", (reason) => {
  emit({ type: "console", level: "error", text: `unhandled promise rejection: ${toRunError(reason).message}` });
});

void main();
