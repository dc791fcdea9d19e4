/**
 * The worker thread that runs one model, inside the model process (modelProcess.ts starts it, possibly
 * before the model is known: a warm spare). It installs the trace recorder, runs the compiled bundle
 * with `"backprop-lens"` answered by this worker's engine, streams trace events to the process's main
 * thread on a private port (tensors transferred, not copied), and reports any failure as a run error
 * naming file, line, layer and shapes.
 *
 * The model's code runs in this thread's realm. What it cannot reach: the private ports and the shared
 * buffer (taken out of `workerData` before it runs), the supervisor's channel to the host (another
 * thread's), the time and memory limits (enforced by the main thread). What arrives on `parentPort` is
 * not read by anyone.
 *
 * A run ends the way a Node program does: when the top level and an exported `main()` have run and
 * nothing is left to do (timers and promises run as in Node), at an uncaught exception or unhandled
 * rejection (at the user's line), or at `process.exit()`. The last event is the worker's `run/end`,
 * which the supervisor takes as a claim and checks against how the thread ended.
 *
 * Entry point of `dist/worker.js`.
 */
import * as fs from "node:fs";
import { Session } from "node:inspector";
import { createRequire } from "node:module";
import { format as utilFormat, inspect } from "node:util";
import * as vm from "node:vm";
import { MessagePort, workerData } from "node:worker_threads";
import * as engine from "../../core/index";
import {
  type ConsoleLevel,
  NonFiniteError,
  type RunError,
  type SourceSite,
  ShapeError,
  TRACE_FORMAT_VERSION,
  TensorTooLargeError,
  TraceRecorder,
  type TraceEvent,
  baseName,
  configureLimits,
  arrayUseHint,
  errorContext,
  formatTensor,
  isTensor,
  runtime,
} from "../../core/host";
import { SAB, WORKER_STATE, WORKER_WINDOW } from "./control";
import { BundleSites, engineConstructorOf, framesOf, installStackMapping } from "./sites";
import { controlIsOwned, createWorkerControl, modelStarting } from "./workerControl";
import { debuggerFor } from "../debug/worker/setup";
import type { WorkerDebugger } from "../debug/worker/workerDebugger";
import { ENGINE_RUNTIME_ID, type MainToWorker, type WorkerBoot, type WorkerInput, type WorkerMessage } from "./workerProtocol";

/** Thrown by the allocation hook when the model's tensors exceed the memory limit. */
class MemoryLimitError extends Error {
  override name = "MemoryLimitError";
}

// ------------------------------------------------------------------ boot: take the private channel out of reach

const boot = workerData as WorkerBoot | null;
if (boot === null || !(boot.events instanceof MessagePort)) throw new Error("worker.ts runs only as the model process's worker");
const events = boot.events;
const controlPort = boot.control;
const sab = new Int32Array(boot.sab);
for (const k of Object.keys(boot)) delete (boot as unknown as Record<string, unknown>)[k];

// Primordials the sending path uses, captured before the model can replace them.
const rawPost = MessagePort.prototype.postMessage;
const apply = Reflect.apply;
const now = performance.now.bind(performance);
const atomicsLoad = Atomics.load;
const atomicsAdd = Atomics.add;
const atomicsStore = Atomics.store;
const atomicsWait = Atomics.wait;
const realExit = process.exit.bind(process);
const realKill = process.kill.bind(process);

/**
 * Debug-only: `BACKPROP_LENS_CPU_PROFILE=<file.cpuprofile | directory>` in the environment of the CLI or
 * the editor writes a V8 CPU profile of this thread (the model, the recorder, the posts) from the run's
 * start to its end (`--cpu-prof` does not work here: the process exits right after the run). Off by default;
 * read before the model runs. Summarise it with `node test/bench/profileSummary.mjs <file>`.
 */
const profileTarget = process.env.BACKPROP_LENS_CPU_PROFILE;
let profiler: Session | undefined;

function startProfile(): void {
  if (!profileTarget) return;
  try {
    profiler = new Session();
    profiler.connect();
    profiler.post("Profiler.enable");
    profiler.post("Profiler.setSamplingInterval", { interval: Number(process.env.BACKPROP_LENS_CPU_PROFILE_US) || 200 });
    profiler.post("Profiler.start");
  } catch (e) {
    process.stderr.write(`BACKPROP_LENS_CPU_PROFILE: ${String(e)}\n`);
    profiler = undefined;
  }
}

/** Writes the profile (synchronously: the thread may end right after the run). */
function stopProfile(): void {
  const session = profiler;
  if (!session || !profileTarget) return;
  profiler = undefined;
  session.post("Profiler.stop", (err, result) => {
    if (err || !result) return;
    let file = profileTarget;
    if (!file.endsWith(".cpuprofile")) file = `${file.replace(/[/\\]+$/, "")}/worker-${process.pid}-${Date.now()}.cpuprofile`;
    try {
      fs.writeFileSync(file, JSON.stringify(result.profile));
    } catch {
      // debug-only: a profile that cannot be written is not the run's failure
    }
  });
  session.disconnect();
}

/**
 * Debug-only, for benchmarks: `BACKPROP_LENS_CPU_TIMES=<file>` appends one JSON line per run to that file:
 * the run's duration, this thread's CPU time and its time waiting for a CPU (Linux, from
 * /proc/thread-self/schedstat), and the process's CPU time, from the run's start to its end
 * (test/bench/process.mjs --cpu reads it: on a loaded machine the CPU time says more than the wall time).
 */
const cpuTimesFile = process.env.BACKPROP_LENS_CPU_TIMES;
let cpuAtStart: { sched: number[] | undefined; process: NodeJS.CpuUsage } | undefined;

function threadSchedstat(): number[] | undefined {
  try {
    return fs.readFileSync("/proc/thread-self/schedstat", "utf8").trim().split(/\s+/).map(Number);
  } catch {
    return undefined;
  }
}

function startCpuTimes(): void {
  if (cpuTimesFile) cpuAtStart = { sched: threadSchedstat(), process: process.cpuUsage() };
}

function writeCpuTimes(durationMs: number): void {
  const start = cpuAtStart;
  if (!cpuTimesFile || !start) return;
  cpuAtStart = undefined;
  const sched = threadSchedstat();
  const cpu = process.cpuUsage(start.process);
  const line = {
    file: baseName(input.compiled.file),
    durationMs,
    ...(sched && start.sched ? { threadCpuMs: ((sched[0] as number) - (start.sched[0] as number)) / 1e6, threadWaitMs: ((sched[1] as number) - (start.sched[1] as number)) / 1e6 } : {}),
    processCpuMs: (cpu.user + cpu.system) / 1000,
  };
  try {
    fs.appendFileSync(cpuTimesFile, `${JSON.stringify(line)}\n`);
  } catch {
    // debug-only
  }
}

function send(message: WorkerMessage, transfer?: ArrayBuffer[]): void {
  apply(rawPost, events, transfer && transfer.length > 0 ? [message, transfer] : [message]);
}

// ------------------------------------------------------------------ streaming

let pending: TraceEvent[] = [];
let pendingTransfer: ArrayBuffer[] = [];
let pendingBytes = 0;
let lastFlush = 0;
let flushTimer: ReturnType<typeof setTimeout> | undefined;

/** Posts the pending events as one batch; waits first while the main thread has not passed on WORKER_WINDOW batches (backpressure). */
function flush(): void {
  if (flushTimer !== undefined) {
    clearTimeout(flushTimer);
    flushTimer = undefined;
  }
  if (pending.length === 0) return;
  if (atomicsLoad(sab, SAB.POSTED) - atomicsLoad(sab, SAB.RELEASED) >= WORKER_WINDOW) {
    atomicsStore(sab, SAB.STATE, WORKER_STATE.BACKPRESSURE);
    for (;;) {
      const released = atomicsLoad(sab, SAB.RELEASED);
      if (atomicsLoad(sab, SAB.POSTED) - released < WORKER_WINDOW) break;
      atomicsWait(sab, SAB.RELEASED, released, 1000);
    }
    atomicsStore(sab, SAB.STATE, WORKER_STATE.RUNNING);
  }
  const batch = pending;
  const transfer = pendingTransfer;
  pending = [];
  pendingTransfer = [];
  pendingBytes = 0;
  atomicsAdd(sab, SAB.POSTED, 1);
  send({ kind: "events", events: batch }, transfer);
  lastFlush = now();
}

/**
 * Layer calls, layers, anomalies and the end go out at once (cards fill while the model runs); step
 * summaries and console lines are batched (a flood costs a few hundred messages, not a million), and
 * sent within BATCH_MS when the model gives the event loop a turn, else with the next event after it.
 *
 * Why BATCH_MS is 50 and not less: a `postMessage` to the process's main thread costs the model's
 * thread about 0.5–1 ms on a quiet 2-CPU machine and 2 ms and more on a busy one (it wakes the other
 * thread; an empty post costs as much as one of 50 summaries), and the main thread and the host then
 * handle one frame per batch. At 10 ms the spiral training example (10,001 steps) posted 440 batches; at
 * 50 ms the posts still grow with the run's length (200–270 posts, 0.46–0.62 s of a 9–14 s run under
 * load). 200 ms after the run's first second (a third of the posts on a long run, the curve updating 5
 * times a second) was tried and did not move the CLI's time beyond the noise of a loaded machine (the CLI
 * ÷ the 50 ms build 1.06×, 0.78–1.44, by CPU 1.06×, 0.95–1.19, over 9 rounds), so the loss curve keeps
 * its 20 updates a second. docs/performance.md, "The product's own run".
 */
const BATCH_MS = 50;
const BATCH_MAX_EVENTS = 1024;

function emit(event: TraceEvent, transfer?: ArrayBuffer[]): void {
  pending.push(event);
  if (transfer) {
    pendingTransfer.push(...transfer);
    for (const b of transfer) pendingBytes += b.byteLength;
  }
  const batched = event.type === "step/summary" || event.type === "console";
  if (!batched || pending.length >= BATCH_MAX_EVENTS || pendingBytes >= 4 * 2 ** 20 || now() - lastFlush > BATCH_MS) flush();
  else flushTimer ??= setTimeout(flush, BATCH_MS).unref();
}

// ------------------------------------------------------------------ the run

const MEMORY_CHECK_MIN_BYTES = 32 * 2 ** 20;

/** Bytes of new tensors after which the allocation hook reads the memory again (see startRun). */
function memoryCheckAfter(used: number, limitBytes: number): number {
  return Math.max(MEMORY_CHECK_MIN_BYTES, (limitBytes - used) / 4);
}

let input: WorkerInput;
let sites: BundleSites;
let recorder: TraceRecorder;
/** The debugger's worker side, on a debug run (extension/debug/worker): the recorder's observer. */
let debug: WorkerDebugger | undefined;
let bundle = "";
let started = 0;
let ended = false;
let mainSettled = false;
/** Where the top level or main() is, for messages about what happened after it. */
let phase: "loading" | "top level" | "main" | "callbacks" = "loading";

function startRun(message: MainToWorker): void {
  input = message.input;
  bundle = `backprop-lens-model:${input.compiled.file}`;
  const limitBytes = input.memoryLimitMb * 2 ** 20;
  configureLimits({ maxElements: Math.floor(limitBytes / 8) });
  // `process.memoryUsage()` costs about 0.1 ms (it reads the RSS too): read it when the tensors made since
  // the last reading could have used a quarter of what was left under the limit, and at least every 32 MB
  // (a run far below the limit reads it every few hundred MB instead of every 32). Tensors alone cannot
  // pass the limit between two readings by more than they could before; the rest of the process's memory
  // is the main thread's to watch (its RSS poll).
  let sinceCheck = 0;
  let nextCheck = MEMORY_CHECK_MIN_BYTES;
  runtime.onAlloc = (bytes) => {
    sinceCheck += bytes;
    if (sinceCheck < nextCheck) return;
    sinceCheck = 0;
    const used = process.memoryUsage().arrayBuffers;
    if (used + bytes > limitBytes) {
      throw new MemoryLimitError(`the model holds ${(used / 2 ** 20).toFixed(0)} MB of tensors, over the memory limit of ${input.memoryLimitMb} MB`);
    }
    nextCheck = memoryCheckAfter(used, limitBytes);
  };
  sites = new BundleSites(bundle, input.compiled.map, input.compiled.sources);
  installStackMapping(sites);
  // Debug runs (contract 6): the control channel and the debugger's worker-side code (extension/debug/worker).
  const control = input.control ? createWorkerControl({ control: controlPort, sab, flush, send: (m, t) => send(m, t) }) : undefined;
  const dbg = control && !controlIsOwned() ? debuggerFor(control, sites, input.compiled.code, input.keepSteps) : undefined;
  debug = dbg;
  recorder = new TraceRecorder({
    sink: { emit: dbg ? (e, transfer): void => (emit(e, transfer), dbg.onEvent(e)) : emit },
    sites,
    keepSteps: input.keepSteps,
    gradCheck: input.gradCheck,
    ...(input.recordSteps ? { recordSteps: input.recordSteps } : {}),
    ...(dbg ? { observer: dbg } : {}),
  });
  installConsole();
  installProcessHooks();
  // The model's own event loop decides when the run is over, as in Node: our ports keep nothing alive.
  events.unref();
  controlPort.unref();
  startProfile();
  startCpuTimes();
  started = now();
  send({ kind: "running" });
  emit({ type: "run/start", version: TRACE_FORMAT_VERSION, file: input.compiled.file, startedAt: Date.now() });
  try {
    modelStarting({ control, recorder, file: input.compiled.file });
    // The debugger waits for the host's breakpoints (paused: not counted towards the time limit).
    dbg?.start();
  } catch (e) {
    endRun({ kind: "internal", message: `${baseName(input.compiled.file)}: the runner's worker-side code failed before the model started: ${e instanceof Error ? e.message : String(e)}` });
    realExit(0);
    return;
  }
  void runTopLevel();
}

async function runTopLevel(): Promise<void> {
  const userRequire = createRequire(input.compiled.file);
  const requireShim = (id: string): unknown => (id === ENGINE_RUNTIME_ID ? engine : userRequire(id));
  recorder.install();
  try {
    const fn = vm.compileFunction(input.compiled.code, ["exports", "require", "module", "__filename", "__dirname"], { filename: bundle });
    const mod = { exports: {} as Record<string, unknown> };
    const dir = input.compiled.file.slice(0, Math.max(input.compiled.file.lastIndexOf("/"), input.compiled.file.lastIndexOf("\\")));
    phase = "top level";
    fn.call(mod.exports, mod.exports, requireShim, mod, input.compiled.file, dir);
    // A model may export `main` (or a default function), possibly async: run it and wait.
    const entry = mod.exports.main ?? mod.exports.default;
    if (typeof entry === "function") {
      phase = "main";
      await (entry as () => unknown)();
    }
  } catch (e) {
    // As in Node, an error out of the top level or main() ends the program.
    endRun(toRunError(e), false, { value: e });
    realExit(0);
    return;
  }
  mainSettled = true;
  phase = "callbacks";
  send({ kind: "settled" });
}

/**
 * Ends the run once: the recorder's last step and checks, then the worker's `run/end`. `thrown` is what
 * the model threw, if it did: on a debug run the debugger stops there first (its Errors filter).
 */
function endRun(error: RunError | undefined, completed = error === undefined, thrown?: { value: unknown }): void {
  if (ended) return;
  ended = true;
  if (thrown && error) debuggerSeesError(thrown.value, error.message);
  try {
    recorder.finish({ completed });
  } catch (e) {
    const late = toRunError(e);
    if (error === undefined) debuggerSeesError(e, late.message);
    error ??= late;
  }
  // The recorder has emitted its last step: the debugger sends that step's positions (Step Back reaches it).
  try {
    debug?.finish();
  } catch {
    // the run's end is reported all the same
  }
  const durationMs = now() - started;
  // Before the end goes out: the process may exit as soon as the host has it.
  writeCpuTimes(durationMs);
  stopProfile();
  emit({
    type: "run/end",
    ok: error === undefined,
    steps: recorder.stepCount,
    durationMs,
    keptSteps: recorder.keptSteps,
    ...(error ? { error } : {}),
  });
  flush();
}

/** The debugger's exception stop; a failure in it must not lose the run's end. */
function debuggerSeesError(e: unknown, message: string): void {
  try {
    debug?.onError(e, message);
  } catch {
    // the run's end is reported all the same
  }
}

// ------------------------------------------------------------------ console

function show(x: unknown): unknown {
  if (isTensor(x)) return `${formatTensor(x)}`;
  if (x instanceof engine.Value) return x.toString();
  return x;
}

function installConsole(): void {
  for (const level of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    (console as unknown as Record<string, unknown>)[level] = (...args: unknown[]): void => {
      const text = utilFormat(...args.map(show));
      const site = sites.capture("call");
      const lvl: ConsoleLevel = level === "debug" || level === "trace" ? "log" : level;
      emit({ type: "console", level: lvl, text, ...(site ? { site } : {}) });
    };
  }
}

// ------------------------------------------------------------------ process: exits, uncaught errors, the end of the event loop

function installProcessHooks(): void {
  process.exit = ((code?: number | string | null): never => {
    const c = Number(code ?? process.exitCode ?? 0) || 0;
    const site = sites.capture("call");
    const at = site ? `${baseName(site.file)}:${site.line}: ` : "";
    if (c === 0) {
      emit({ type: "console", level: "info", text: `${at}the model called process.exit(0); the run ended there`, ...(site ? { site } : {}) });
      endRun(undefined);
    } else {
      endRun({ kind: "throw", message: `${at}the model called process.exit(${c}); the run ended there, as a failure`, ...(site ? { site } : {}) });
    }
    return realExit(0);
  }) as typeof process.exit;

  // A signal to its own process would end the run before the host has what the model did up to here, and
  // one to the editor's process would take the editor down: pass everything on first, refuse the second.
  process.kill = ((pid: number, signal?: string | number): true => {
    if (pid === process.ppid) throw new Error(`a model may not send signals to the editor's process (pid ${pid})`);
    if (pid === process.pid || pid === 0 || pid === -process.pid) {
      const site = sites.capture("call");
      const name = typeof signal === "number" ? String(signal) : (signal ?? "SIGTERM");
      flush();
      atomicsStore(sab, SAB.KILL_ACK, 0);
      send({ kind: "killing", signal: name, ...(site ? { site } : {}) });
      atomicsWait(sab, SAB.KILL_ACK, 0, 1000);
    }
    return realKill(pid, signal);
  }) as typeof process.kill;

  process.on("uncaughtException", (e) => {
    // A model with its own handler keeps running, as in Node.
    if (process.listenerCount("uncaughtException") > 1) return;
    endRun(toRunError(e, phase === "callbacks" || phase === "main" ? "thrown in a callback: a timer, an event or a promise continuation" : undefined), false, { value: e });
    realExit(0);
  });
  process.on("unhandledRejection", (reason) => {
    if (process.listenerCount("unhandledRejection") > 1) return;
    endRun(toRunError(reason, "a promise rejection that nothing handled"), false, { value: reason });
    realExit(0);
  });
  process.on("beforeExit", () => {
    // Nothing is left to run: the model's program is over, as it would be in Node.
    if (ended) return;
    if (!mainSettled) {
      endRun({
        kind: "throw",
        message: `${baseName(input.compiled.file)}: main() returned a promise that never settled, and nothing else was left to run (Node would exit here with "unsettled top-level await"); is an await waiting for something that never happens?`,
      });
      return;
    }
    const code = Number(process.exitCode ?? 0) || 0;
    endRun(code === 0 ? undefined : { kind: "throw", message: `${baseName(input.compiled.file)}: the model set process.exitCode = ${code}; the run counts as failed` }, true);
  });
}

// ------------------------------------------------------------------ errors

/**
 * Where a value that is not an Error was thrown: it has no stack, so look for the one `throw <that
 * value>` in the user's sources (e.g. `throw 42`, `throw null`, `throw "bad input"`).
 */
function findThrowSite(value: unknown): SourceSite | undefined {
  const literals: string[] = [];
  if (value === null || value === undefined || typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") literals.push(String(value) + (typeof value === "bigint" ? "n" : ""));
  else if (typeof value === "string") literals.push(JSON.stringify(value), `'${value.replace(/'/g, "\\'")}'`, `\`${value}\``);
  else return undefined;
  const found: SourceSite[] = [];
  for (const [file, text] of Object.entries(input.compiled.sources)) {
    const lines = text.split(/\r?\n/);
    lines.forEach((line, i) => {
      for (const lit of literals) {
        const at = line.search(new RegExp(`\\bthrow\\s+${lit.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w.])`));
        if (at >= 0) found.push({ file, line: i + 1, column: at + 1 });
      }
    });
  }
  return found.length === 1 ? found[0] : undefined;
}

/** A run error with the user's file and line, the layer and call, and where its inputs came from. */
function toRunError(e: unknown, how?: string): RunError {
  const err = e instanceof Error ? e : undefined;
  const frames = err ? sites.userFrames(framesOf(e)) : [];
  const ctx = errorContext(e);
  const thrownSite = err ? undefined : findThrowSite(e);
  // A non-finite value is reported where it was made, not where the next step noticed it.
  const site = (e instanceof NonFiniteError ? e.site : undefined) ?? frames[0] ?? ctx?.site ?? thrownSite;
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
  const what = err
    ? kind === "throw" && err.name !== "Error"
      ? `${err.name}: ${err.message}`
      : err.message
    : `threw ${inspect(e, { depth: 2, breakLength: Infinity }).slice(0, 500)}, which is not an Error${site ? "" : ", so it carries no stack and no line (throw new Error(…) to see where it came from)"}`;
  const at = site ? `${baseName(site.file)}:${site.line}: ` : "";
  let message: string;
  if (e instanceof NonFiniteError) {
    message = `${at}${what}`;
  } else if (ctx !== undefined) {
    const l = ctx.layer;
    message = `${at}${l.name}.${ctx.phase} failed: ${what}`;
    if (ctx.detail) message += `; ${ctx.detail}`;
    message += `. ${l.name} is ${l.description}${l.site ? `, built at ${baseName(l.site.file)}:${l.site.line}` : ""}.`;
    const hint = arrayUseHint(e);
    if (hint) message += ` Hint: ${hint}.`;
  } else {
    const ctor = err ? engineConstructorOf(e, bundle) : undefined;
    const name = ctor && site ? sites.nameAt(site) : undefined;
    const chain = frames.length > 1 ? ` (called from ${frames.slice(1, 4).map((f) => `${baseName(f.file)}:${f.line}`).join(" ← ")})` : "";
    message = ctor ? `${at}${name ? `${name} = ` : ""}new ${ctor}(…) failed: ${what}` : `${at}${what}${chain}`;
  }
  if (!site && !err) message = `${baseName(input.compiled.file)}: the model ${what}`;
  if (how) message += ` (${how})`;
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

// ------------------------------------------------------------------ wait for the run

events.once("message", (m: MainToWorker) => {
  if (m?.kind === "start") startRun(m);
});
send({ kind: "ready" });
