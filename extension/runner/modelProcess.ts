/**
 * The model process: a child process of the host (forked by supervisor.ts, one per run) whose main
 * thread supervises the producer of the trace and never runs model code. The producer is either
 * - a worker thread running the compiled TypeScript/JavaScript model (`worker.ts`), or
 * - another program (the Python tracer), started from a `ProcessLauncher` and read as JSON lines.
 *
 * The main thread
 * - validates every message of the producer and drops what is malformed (counted, said once);
 * - holds the trace to the budget (traceBudget.ts) and batches it to the host, at most HOST_WINDOW
 *   batches unacknowledged; when the host falls behind it stops passing on the worker's batches, and the
 *   worker waits (backpressure) — or stops reading the program's stdout;
 * - enforces one memory limit that counts everything the model adds to the process (its RSS over the
 *   level before the model started, polled every 50 ms; the heap also through `resourceLimits`), and the
 *   time limit, not counting time paused in the debugger; at either it asks V8 where the model is (the
 *   user's line) and stops it;
 * - relays the control channel (control.ts);
 * - reports the end as it saw it, then exits. The host decides the end state the user sees.
 *
 * Talks to the host with frames.ts: host → process on stdin, process → host on fd 3 (see
 * processProtocol.ts). When the host goes away (stdin closes) the process exits.
 * Entry point of `dist/modelProcess.js`; started with `--prestart=<worker.js> --memory-limit-mb=<n>`
 * it loads the worker before a run is known (a warm spare).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { Worker, receiveMessageOnPort } from "node:worker_threads";
import { type RunError, type SourceSite, type TraceEvent, baseName, decodeEvent } from "../../core/host";
import { type ControlMessage, SAB, isControlMessage } from "./control";
import { FrameReader, LineReader, encodeFrame } from "./frames";
import { locatePausedWorker } from "./locate";
import { BATCH_BYTES, BATCH_EVENTS, HOST_WINDOW, type HostToProcess, MESSAGE_FD, type ProcessEnd, type ProcessToHost, type ProgramExit, type RunSpec, signalText } from "./processProtocol";
import { FrameDecoder } from "./python/wire";
import { TraceLimiter, tensorBytesOf } from "./traceBudget";
import { validateEvent } from "./validate";
import type { MainToWorker, WorkerBoot, WorkerMessage } from "./workerProtocol";

// ------------------------------------------------------------------ the channel to the host

const out = new net.Socket({ fd: MESSAGE_FD, readable: false, writable: true });
let token = "";
let outDrained = true;
out.on("drain", () => {
  outDrained = true;
  pump();
});
out.on("error", () => process.exit(0)); // the host is gone

function write(m: ProcessToHost, done?: () => void): void {
  if (!out.write(encodeFrame(m), done)) outDrained = false;
}

const fromHost = new FrameReader(
  (m) => onHost(m as HostToProcess),
  (reason) => die(`the host's messages could not be read: ${reason}`),
);
process.stdin.on("data", (c: Buffer) => fromHost.push(c));
process.stdin.on("end", () => die());
process.stdin.on("error", () => die());

/** Exits at once (the host is gone or broke the protocol), taking the producer with it. */
function die(reason?: string): never {
  if (reason) process.stderr.write(`backprop-lens model process: ${reason}\n`);
  producer?.kill();
  process.exit(0);
}

// ------------------------------------------------------------------ what goes to the host, in order

type Item = { k: "event"; e: TraceEvent } | { k: "control"; m: ControlMessage; transfer: number } | { k: "release"; n: number };

const queue: Item[] = [];
let queuedEvents = 0;
let queuedBytes = 0;
let seq = 0;
let inFlight = 0;
let endFrame: ProcessEnd | undefined;
let endSent = false;

function enqueue(e: TraceEvent): void {
  queue.push({ k: "event", e });
  queuedEvents++;
  queuedBytes += tensorBytesOf(e);
}

/** Sends what the window and the pipe allow; passes the worker's batches on as they leave. */
function pump(): void {
  let released = 0;
  while (queue.length > 0 && inFlight < HOST_WINDOW && outDrained) {
    const head = queue[0] as Item;
    if (head.k === "release") {
      queue.shift();
      released += head.n;
      continue;
    }
    if (head.k === "control") {
      queue.shift();
      inFlight++;
      write({ t: "control", token, seq: seq++, message: head.m });
      continue;
    }
    const batch: TraceEvent[] = [];
    let bytes = 0;
    while (queue.length > 0 && batch.length < BATCH_EVENTS && bytes < BATCH_BYTES) {
      const it = queue[0] as Item;
      if (it.k === "control") break;
      queue.shift();
      if (it.k === "release") {
        released += it.n;
        continue;
      }
      const b = tensorBytesOf(it.e);
      batch.push(it.e);
      bytes += b;
      queuedEvents--;
      queuedBytes -= b;
    }
    if (batch.length > 0) {
      inFlight++;
      write({ t: "events", token, seq: seq++, events: batch });
    }
  }
  if (released > 0) producer?.release(released);
  producer?.flowing(queuedEvents < 4 * BATCH_EVENTS && queuedBytes < 2 * BATCH_BYTES);
  if (endFrame && !endSent && queue.length === 0) {
    endSent = true;
    const end = endFrame;
    write({ t: "end", token, end }, () => process.exit(0));
  }
}

/** Writes everything queued, whatever the window, then `last`; `done` once it is in the pipe. */
function flushAll(done: () => void, last: ProcessToHost): void {
  for (const x of (limiter as TraceLimiter).finish()) enqueue(x);
  const events: TraceEvent[] = [];
  for (const it of queue.splice(0)) {
    if (it.k === "event") events.push(it.e);
    else if (it.k === "control") write({ t: "control", token, seq: seq++, message: it.m });
  }
  queuedEvents = 0;
  queuedBytes = 0;
  if (events.length > 0) write({ t: "events", token, seq: seq++, events });
  write(last, done);
}

// ------------------------------------------------------------------ the run

interface Producer {
  /** Passes on `n` of the producer's batches (backpressure credit). */
  release(n: number): void;
  /** Whether the producer may send more (false: the host has fallen behind). */
  flowing(ok: boolean): void;
  command(m: ControlMessage): void;
  /** Stops the model now (time or memory limit); `end` is called when it has stopped. */
  stop(error: RunError): void;
  kill(): void;
  /** Where the model is now, if the producer can tell (the user's line). */
  locate(timeoutMs: number): Promise<SourceSite | undefined>;
  /** Resident memory of the model's process, bytes. */
  rss(): Promise<number | undefined>;
}

let producer: Producer | undefined;
let spec: RunSpec | undefined;
let limiter: TraceLimiter | undefined;
/** The producer's own run/end: a claim, checked against how it ended. */
let claim: Extract<TraceEvent, { type: "run/end" }> | undefined;
let stopError: RunError | undefined;
let badEvents = 0;
let firstBad = "";
let lastSite: SourceSite | undefined;
let steps = 0;
let settled = false;

// Time: the model's running time, not counting time paused in the debugger.
let runStart = 0;
let pausedTotal = 0;
let pausedSince: number | undefined;
const activeMs = (): number => performance.now() - runStart - pausedTotal - (pausedSince !== undefined ? performance.now() - pausedSince : 0);
let timeTimer: ReturnType<typeof setTimeout> | undefined;
let memoryTimer: ReturnType<typeof setInterval> | undefined;
let memoryBase = 0;

function onHost(m: HostToProcess): void {
  if (typeof m !== "object" || m === null) return die("a message from the host is not an object");
  switch (m.t) {
    case "init":
      if (spec) return die("init arrived twice");
      token = m.token;
      spec = m.spec;
      start(m.spec);
      break;
    case "ack":
      inFlight = Math.max(0, inFlight - 1);
      pump();
      break;
    case "control":
      if (isControlMessage(m.message)) producer?.command(m.message);
      break;
  }
}

/** One event from the producer: validated, run/end kept as the claim, the rest through the budget. */
function take(raw: unknown): void {
  const bad = validateEvent(raw);
  if (bad !== undefined) {
    if (badEvents++ === 0) firstBad = bad;
    return;
  }
  const e = raw as TraceEvent;
  if (e.type === "run/end") {
    claim ??= e;
    return;
  }
  if (claim) return; // nothing after the end
  if (e.type === "step/summary") steps = Math.max(steps, e.summary.step + 1);
  else if (e.type === "layer/call" && e.call.site) lastSite = e.call.site;
  for (const x of (limiter as TraceLimiter).admit(e)) enqueue(x);
}

function takeControl(m: unknown, transfer = 0): void {
  if (!isControlMessage(m)) {
    if (badEvents++ === 0) firstBad = "a control message without a type";
    return;
  }
  queue.push({ k: "control", m, transfer });
}

function modelStarted(childPid?: number): void {
  runStart = performance.now();
  write({ t: "started", token, startMs: runStart - initAt, ...(childPid !== undefined ? { childPid } : {}) });
  scheduleTimeLimit();
  void producer?.rss().then((r) => {
    memoryBase = r ?? 0;
    memoryTimer = setInterval(() => void checkMemory(), 50);
  });
}

function setPaused(paused: boolean): void {
  if (paused && pausedSince === undefined) pausedSince = performance.now();
  if (!paused && pausedSince !== undefined) {
    pausedTotal += performance.now() - pausedSince;
    pausedSince = undefined;
  }
  write({ t: "paused", token, paused });
}

function scheduleTimeLimit(): void {
  const limit = (spec as RunSpec).timeLimitMs;
  if (timeTimer) clearTimeout(timeTimer);
  timeTimer = setTimeout(
    () => {
      if (stopError || endFrame) return;
      if (pausedSince !== undefined || activeMs() < limit) return scheduleTimeLimit();
      void onTimeLimit();
    },
    Math.max(10, limit - activeMs()),
  );
}

async function onTimeLimit(): Promise<void> {
  const s = spec as RunSpec;
  const paused = settled ? undefined : await (producer as Producer).locate(1000);
  const site = paused ?? lastSite;
  const at = site ? ` at ${baseName(site.file)}:${site.line}` : "";
  const sec = (s.timeLimitMs / 1000).toFixed(s.timeLimitMs % 1000 ? 1 : 0);
  const why = settled
    ? "; its code had finished, but something kept it running (a timer or interval that is never cleared, an open handle)"
    : `${at}${paused ? "" : steps > 0 ? ` (step ${steps})` : ""}`;
  producer?.stop({
    kind: "timeout",
    message: `${s.fileName}: the model ran longer than the time limit of ${sec} s and was stopped${why}; raise the time limit if it is meant to run this long (setting backpropLens.timeLimitSeconds, CLI --time-limit)`,
    ...(site && !settled ? { site } : {}),
  });
}

let checkingMemory = false;
async function checkMemory(): Promise<void> {
  if (checkingMemory || stopError || endFrame || !producer) return;
  checkingMemory = true;
  try {
    const s = spec as RunSpec;
    const rss = await producer.rss();
    if (rss === undefined) return;
    const used = rss - memoryBase;
    if (used <= s.memoryLimitMb * 2 ** 20 || stopError) return;
    // Pausing the model to find its line takes a moment; if it keeps growing fast meanwhile, stop it without the line.
    const hard = s.memoryLimitMb * 2 ** 20 + Math.max(256 * 2 ** 20, s.memoryLimitMb * 2 ** 18);
    let watching = true;
    const runaway = new Promise<undefined>((resolve) => {
      const poll = (): void => {
        if (!watching) return;
        void producer?.rss().then((r) => (r !== undefined && r - memoryBase > hard ? resolve(undefined) : setTimeout(poll, 20)));
      };
      poll();
    });
    const located = await Promise.race([producer.locate(1000), runaway]);
    watching = false;
    const site = located ?? lastSite;
    const at = site ? ` at ${baseName(site.file)}:${site.line}` : "";
    producer.stop({
      kind: "memory",
      message: `${s.fileName}: the model used ${(used / 2 ** 20).toFixed(0)} MB, more than the memory limit of ${s.memoryLimitMb} MB, and was stopped${at}; look for data that grows without bound, or raise the limit (setting backpropLens.memoryLimitMb, CLI --memory-limit)`,
      ...(site ? { site } : {}),
    });
  } finally {
    checkingMemory = false;
  }
}

/** The producer has stopped: say how, after everything it sent. */
function ended(how: { code: number | null; signal: NodeJS.Signals | null; error?: Error & { code?: string }; stderr?: string[]; program?: ProgramExit }): void {
  if (endFrame) return;
  if (timeTimer) clearTimeout(timeTimer);
  if (memoryTimer) clearInterval(memoryTimer);
  const s = spec as RunSpec;
  for (const x of (limiter as TraceLimiter).finish()) enqueue(x);
  if (badEvents > 0) {
    enqueue({
      type: "anomaly",
      anomaly: { code: "truncated", severity: "warning", step: steps, message: `${badEvents} malformed trace message${badEvents === 1 ? " was" : "s were"} dropped (the first: ${firstBad})` },
    });
  }
  const durationMs = runStart ? activeMs() : 0;
  let end: ProcessEnd;
  if (stopError) {
    end = { ok: false, error: stopError, steps, keptSteps: claim?.keptSteps ?? [], durationMs };
  } else if (claim) {
    const exitBad = (how.code ?? 0) !== 0 || how.signal !== null;
    end = claim.ok && exitBad
      ? { ok: false, error: { kind: "internal", message: `${s.fileName}: the model reported its end, then its process exited with ${how.signal ? `signal ${how.signal}` : `code ${how.code}`}` }, steps: claim.steps, keptSteps: claim.keptSteps, durationMs }
      : { ok: claim.ok, ...(claim.error ? { error: claim.error } : {}), steps: claim.steps, keptSteps: claim.keptSteps, durationMs };
  } else if (how.error && (how.error.code === "ERR_WORKER_OUT_OF_MEMORY" || /heap out of memory|memory limit/i.test(how.error.message))) {
    const at = lastSite ? ` (last traced call at ${baseName(lastSite.file)}:${lastSite.line})` : "";
    end = {
      ok: false,
      error: { kind: "memory", message: `${s.fileName}: the model's JavaScript heap grew over the memory limit of ${s.memoryLimitMb} MB and it was stopped${at}; look for data that grows without bound, or raise the limit (setting backpropLens.memoryLimitMb, CLI --memory-limit)`, ...(lastSite ? { site: lastSite } : {}) },
      steps,
      keptSteps: [],
      durationMs,
    };
  } else {
    const tail = how.stderr && how.stderr.length > 0 ? `; its last output: ${how.stderr.slice(-5).join(" / ")}` : "";
    const message =
      s.producer.kind === "worker"
        ? `${s.fileName}: the model's thread ${how.error ? `failed: ${how.error.message}` : `exited with code ${how.code}`} before the run ended${tail}`
        : `${s.fileName}: the model's process died: ${how.signal ? `killed by ${signalText(how.signal)}` : how.error ? how.error.message : `exited with code ${how.code}`}, before the run ended (${s.producer.launcher.name})${tail}`;
    end = { ok: false, error: { kind: "lost", message }, steps, keptSteps: [], durationMs };
  }
  if (how.program) end.program = how.program;
  endFrame = end;
  producer?.flowing(true);
  pump();
}

let initAt = 0;

function start(s: RunSpec): void {
  initAt = performance.now();
  limiter = new TraceLimiter(s.keepSteps);
  if (s.producer.kind === "worker") {
    const w = prestarted && prestarted.matches(s.producer.workerScript, s.memoryLimitMb) ? prestarted : startWorker(s.producer.workerScript, s.memoryLimitMb);
    if (w !== prestarted) prestarted?.kill();
    prestarted = undefined;
    producer = w;
    w.run({ kind: "start", input: s.producer.input });
  } else {
    prestarted?.kill();
    prestarted = undefined;
    producer = startProgram(s);
  }
}

// ------------------------------------------------------------------ producer: the worker thread

interface WorkerProducer extends Producer {
  matches(script: string, memoryLimitMb: number): boolean;
  run(m: MainToWorker): void;
}

function startWorker(script: string, memoryLimitMb: number, onReady?: () => void): WorkerProducer {
  const sab = new SharedArrayBuffer(SAB.LENGTH * 4);
  const i32 = new Int32Array(sab);
  const { port1: events, port2: eventsW } = new MessageChannel();
  const { port1: control, port2: controlW } = new MessageChannel();
  const boot: WorkerBoot = { events: eventsW as unknown as WorkerBoot["events"], control: controlW as unknown as WorkerBoot["control"], sab, memoryLimitMb };
  const worker = new Worker(script, {
    workerData: boot,
    transferList: [eventsW as never, controlW as never],
    name: "backprop-lens model",
    resourceLimits: { maxOldGenerationSizeMb: memoryLimitMb, maxYoungGenerationSizeMb: 64, stackSizeMb: 8 },
    stdout: true, // the model's process.stdout writes come here, as console lines
    stderr: true,
    execArgv: [],
  });
  let ready = false;
  let startMsg: MainToWorker | undefined;
  let error: (Error & { code?: string }) | undefined;
  let forged = 0;
  let map = "";
  let bundle = "";
  worker.on("message", () => {
    // parentPort is reachable by the model; the supervisor never reads it.
    forged++;
  });
  const onWorker = (m: WorkerMessage): void => {
    if (typeof m !== "object" || m === null) return;
    switch (m.kind) {
      case "ready":
        ready = true;
        onReady?.();
        if (startMsg) events.postMessage(startMsg);
        break;
      case "running":
        if (!runStart) modelStarted();
        break;
      case "settled":
        settled = true;
        break;
      case "events":
        if (Array.isArray(m.events)) for (const e of m.events) take(e);
        queue.push({ k: "release", n: 1 });
        // The model's thread has reported its end: say it to the host now, not after the thread has shut
        // down. Node 20 has been seen to abort the whole process in a worker's teardown (a concurrent
        // compile job meets a disposed isolate: "NodePlatform::ForIsolate … Assertion failed"); the end is
        // in the pipe before that, and the process is not used again.
        if (claim && !stopError) ended({ code: 0, signal: null });
        else pump();
        break;
      case "control":
        takeControl(m.message);
        pump();
        break;
      case "paused":
        setPaused(true);
        break;
      case "resumed":
        setPaused(false);
        break;
      case "killing":
        // Everything before it has been taken in (messages come in order): send it all now, then let the signal go.
        flushAll(() => {
          Atomics.store(i32, SAB.KILL_ACK, 1);
          Atomics.notify(i32, SAB.KILL_ACK);
        }, { t: "dying", token, signal: String(m.signal), ...(isSite(m.site) ? { site: m.site } : {}) });
        break;
    }
  };
  events.on("message", onWorker);
  worker.on("error", (e) => {
    error = e as Error & { code?: string };
  });
  worker.on("exit", (code) => {
    // What the worker posted just before it ended may still be queued on the port: take it in first.
    for (let m = receiveMessageOnPort(events); m !== undefined; m = receiveMessageOnPort(events)) onWorker(m.message as WorkerMessage);
    if (forged > 0) write({ t: "log", token, message: `the model posted ${forged} message(s) on the worker's parentPort; they were ignored` });
    events.close();
    ended({ code, signal: null, ...(error ? { error } : {}) });
  });
  for (const [stream, level] of [
    [worker.stdout, "log"],
    [worker.stderr, "error"],
  ] as const) {
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      if (partial.length > 65536) {
        lines.push(partial);
        partial = "";
      }
      for (const text of lines) if (limiter && !endFrame) for (const x of limiter.admit({ type: "console", level, text })) enqueue(x);
      pump();
    });
  }
  return {
    matches: (s, m) => s === script && m === memoryLimitMb,
    run(m) {
      map = m.input.compiled.map;
      bundle = `backprop-lens-model:${m.input.compiled.file}`;
      startMsg = m;
      if (ready) events.postMessage(m);
    },
    release(n) {
      Atomics.add(i32, SAB.RELEASED, n);
      Atomics.notify(i32, SAB.RELEASED);
    },
    flowing() {
      // The worker waits on its own once WORKER_WINDOW batches are not released.
    },
    command(m) {
      control.postMessage(m);
      Atomics.add(i32, SAB.COMMAND, 1);
      Atomics.notify(i32, SAB.COMMAND);
    },
    stop(e) {
      stopError ??= e;
      // What the worker posted, then the run's end, go into the pipe before the worker is terminated, and
      // the process exits once they are written: whatever terminate() does to this process (Node has been
      // seen to abort in it), the host already has how the run ended.
      for (let m = receiveMessageOnPort(events); m !== undefined; m = receiveMessageOnPort(events)) onWorker(m.message as WorkerMessage);
      ended({ code: null, signal: null });
      if (endFrame && !endSent) {
        endSent = true;
        flushAll(() => process.exit(0), { t: "end", token, end: endFrame });
      }
      void worker.terminate();
    },
    kill() {
      void worker.terminate();
    },
    locate: (timeoutMs) => {
      if (!map) return Promise.resolve(undefined);
      const t0 = performance.now();
      return locatePausedWorker(worker, map, bundle, timeoutMs, (m) => write({ t: "log", token, message: m }))
        .catch(() => undefined)
        .then((site) => {
          write({ t: "log", token, message: `locate: ${site ? `${baseName(site.file)}:${site.line}` : "no line"} in ${(performance.now() - t0).toFixed(0)} ms` });
          return site;
        });
    },
    rss: () => Promise.resolve(process.memoryUsage.rss()),
  };
}

// ------------------------------------------------------------------ producer: another program (Python)

/** A frame of a program's stdout (launcher.ts). */
interface ProgramFrame {
  k: string;
  [key: string]: unknown;
}

/** Turns a program's stdout bytes into frames; `onError` once when the stream is broken. */
type Transport = (onFrame: (f: ProgramFrame) => void, onError: (reason: string) => void) => { push(chunk: Buffer): void };

/** The stream formats a `ProcessLauncher` may name (launcher.ts). */
export const TRANSPORTS: Record<string, Transport> = {
  "json-lines": (onFrame, onError) => {
    const reader = new LineReader((v) => {
      if (typeof v !== "object" || v === null || typeof (v as { k?: unknown }).k !== "string") return onError("a line that is not a frame (an object with a kind `k`)");
      const f = v as ProgramFrame;
      if (f.k === "event") {
        try {
          f.event = decodeEvent(f.event);
        } catch (e) {
          return onError(e instanceof Error ? e.message : String(e));
        }
      }
      onFrame(f);
    }, onError);
    return { push: (c) => reader.push(c) };
  },
  // The Python tracer's binary frames (python/backprop_lens_tracer/wire.py): JSON with tensors as raw float64.
  bpl1: (onFrame, onError) => {
    const decoder = new FrameDecoder();
    let failed = false;
    return {
      push: (c) => {
        if (failed) return;
        let frames: ProgramFrame[];
        try {
          frames = decoder.push(c) as ProgramFrame[];
        } catch (e) {
          failed = true;
          return onError(e instanceof Error ? e.message : String(e));
        }
        for (const f of frames) onFrame(f);
      },
    };
  },
};

function startProgram(s: RunSpec): Producer {
  if (s.producer.kind !== "process") throw new Error("not a program");
  const l = s.producer.launcher;
  const transport = TRANSPORTS[l.transport];
  const commands = [l.command, ...(l.alternatives ?? [])];
  const stderrTail: string[] = [];
  let child: ChildProcess | undefined;
  let whereWaiter: ((site: SourceSite | undefined) => void) | undefined;
  let paused = false;
  let frames = 0;
  let command = commands[0] as string;
  const onFrame = (f: ProgramFrame): void => {
    frames++;
    switch (f.k) {
      case "events":
        if (Array.isArray(f.events)) for (const e of f.events) take(e);
        return;
      case "hello":
        write({ t: "log", token, message: `${l.name}: ${JSON.stringify(f).slice(0, 500)}` });
        return;
      case "event":
        take(f.event);
        return;
      case "control":
        takeControl(f.message);
        return;
      case "where":
        whereWaiter?.(isSite(f.site) ? f.site : undefined);
        return;
      case "memory": {
        // The program stopped itself at the memory limit (Python watches its own heap).
        const site = isSite(f.site) ? f.site : lastSite;
        const at = site ? ` at ${baseName(site.file)}:${site.line}` : "";
        stopError ??= {
          kind: "memory",
          message: `${s.fileName}: the model used more than the memory limit of ${s.memoryLimitMb} MB and was stopped${at}; look for data that grows without bound, or raise the limit (setting backpropLens.memoryLimitMb, CLI --memory-limit)`,
          ...(site ? { site } : {}),
        };
        child?.kill("SIGKILL");
        return;
      }
      case "exit":
        return;
    }
  };
  const broken = (reason: string): void => {
    if (badEvents++ === 0) firstBad = reason;
    stopError ??= { kind: "internal", message: `${s.fileName}: ${l.name}'s output could not be read (${reason}); the run was stopped` };
    child?.kill("SIGKILL");
  };
  const exit = (code: number | null, signal: NodeJS.Signals | null, started: boolean): ProgramExit => ({ command, started, frames, code, signal, stderr: [...stderrTail] });
  const launch = (i: number): void => {
    command = commands[i] as string;
    const c = spawn(command, l.args, {
      ...(l.cwd ? { cwd: l.cwd } : {}),
      env: { ...process.env, ...(l.env ?? {}) },
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    let spawned = false;
    c.once("error", (e: NodeJS.ErrnoException) => {
      if (spawned) return;
      if ((e.code === "ENOENT" || e.code === "EACCES" || e.code === "ENOTDIR") && i + 1 < commands.length) return launch(i + 1);
      stopError ??= { kind: "internal", message: `${s.fileName}: could not start ${l.name} (${commands.join(", ")}): ${e.message}` };
      ended({ code: null, signal: null, program: exit(null, null, false) });
    });
    c.once("spawn", () => {
      spawned = true;
      child = c;
      if (!transport) return broken(`unknown transport "${l.transport}"`);
      const reader = transport(onFrame, broken);
      c.stdout?.on("data", (chunk: Buffer) => {
        reader.push(chunk);
        pump();
      });
      let partial = "";
      c.stderr?.setEncoding("utf8");
      c.stderr?.on("data", (chunk: string) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const text of lines) {
          stderrTail.push(text.slice(0, 500));
          if (stderrTail.length > 20) stderrTail.shift();
          if (limiter && !endFrame) for (const x of limiter.admit({ type: "console", level: "error", text })) enqueue(x);
        }
        pump();
      });
      c.stdin?.on("error", () => undefined); // the program may exit before reading every command
      if (l.stdin) c.stdin?.write(l.stdin);
      c.once("close", (code, signal) => {
        // Not the program after all (the Store's python3 alias on Windows): try the next one.
        if (code !== null && (l.retryExitCodes ?? []).includes(code) && frames === 0 && !claim && i + 1 < commands.length) {
          stderrTail.length = 0;
          return launch(i + 1);
        }
        ended({ code, signal, stderr: stderrTail, program: exit(code, signal, true) });
      });
      if (!runStart) modelStarted(c.pid);
      else write({ t: "started", token, startMs: performance.now() - initAt, ...(c.pid !== undefined ? { childPid: c.pid } : {}) });
    });
  };
  launch(0);
  return {
    release() {
      // Flow control is by pausing stdout (below).
    },
    flowing(ok) {
      if (ok === !paused) return;
      paused = !ok;
      if (ok) child?.stdout?.resume();
      else child?.stdout?.pause();
    },
    command(m) {
      try {
        child?.stdin?.write(`${JSON.stringify(m)}\n`);
      } catch {
        // the program has ended
      }
    },
    stop(e) {
      stopError ??= e;
      child?.kill("SIGKILL");
    },
    kill() {
      child?.kill("SIGKILL");
    },
    locate(timeoutMs) {
      if (!l.where || !child) return Promise.resolve(undefined);
      const where = l.where;
      return new Promise((resolve) => {
        const t = setTimeout(() => resolve(undefined), timeoutMs);
        whereWaiter = (site) => {
          clearTimeout(t);
          whereWaiter = undefined;
          resolve(site);
        };
        this.command(where);
      });
    },
    rss: () => rssOf(child?.pid),
  };
}

function isSite(x: unknown): x is SourceSite {
  return typeof x === "object" && x !== null && typeof (x as SourceSite).file === "string" && typeof (x as SourceSite).line === "number";
}

/** Resident memory of another process: /proc on Linux, `ps` on macOS; undefined where neither works. */
function rssOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return Promise.resolve(undefined);
  if (process.platform === "linux") {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return Promise.resolve(m ? Number(m[1]) * 1024 : undefined);
    } catch {
      return Promise.resolve(undefined);
    }
  }
  if (process.platform === "darwin") {
    return new Promise((resolve) => execFile("ps", ["-o", "rss=", "-p", String(pid)], (err, stdout) => resolve(err ? undefined : Number(stdout.trim()) * 1024 || undefined)));
  }
  return Promise.resolve(undefined);
}

// ------------------------------------------------------------------ start-up

let prestarted: WorkerProducer | undefined;
const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const prestartScript = arg("prestart");
const prestartMb = Number(arg("memory-limit-mb"));
// `hello` says the process is ready: for a warm spare, once its worker has loaded.
if (prestartScript && prestartMb > 0) prestarted = startWorker(prestartScript, prestartMb, () => write({ t: "hello", pid: process.pid, prestarted: true }));
else write({ t: "hello", pid: process.pid, prestarted: false });
