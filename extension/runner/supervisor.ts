/**
 * The host's side of a model process (modelProcess.ts): starts it, reads its messages, and decides how
 * the run ended. Used by `runModel` in the extension host and in the CLI alike.
 *
 * - The process is forked (spawned the way `fork` does it) from `dist/modelProcess.js` with its own pipes: messages to it on its stdin,
 *   from it on fd 3, framed by frames.ts (never Node's IPC channel, whose parser throws in the parent
 *   on malformed bytes). Its stdout and stderr are read for the log, capped.
 * - Every message is checked: the run's token (sent in `init`, known only to the process's main
 *   thread), its shape, and every trace event (validate.ts); the trace is held to the budget a second
 *   time as a safety net. A broken message ends the run as failed and kills the process.
 * - Messages are taken in one at a time (one per turn of the event loop) and acknowledged after they
 *   were handled: that acknowledgement is the backpressure that reaches the model when the host is busy.
 * - Stop kills the process (and a program it started) with SIGKILL and resolves at once: nothing the
 *   model does can delay it. A process that dies is reported as it died ("the model's process died:
 *   killed by signal 9"). The final `run/end` is always written here, never taken from the process.
 * - A `ProcessPool` keeps one process forked and its worker loaded ahead of the next run (a warm spare),
 *   so a run's start costs the compile and little else.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { type RunError, type SourceSite, type TraceEvent, baseName } from "../../core/host";
import { type ControlMessage, isControlMessage } from "./control";
import { FrameReader, encodeFrame } from "./frames";
import { MESSAGE_FD, type ProcessEnd, type ProcessToHost, type ProgramExit, type RunSpec, signalText } from "./processProtocol";
import { TRACE_BUDGET, tensorBytesOf } from "./traceBudget";
import { validateEvent } from "./validate";

export interface ModelProcessOptions {
  /** Absolute path of `dist/modelProcess.js`. */
  script: string;
  /** Load the worker now, for a run with this memory limit (a warm spare). */
  prestart?: { workerScript: string; memoryLimitMb: number };
  /** Diagnostics of the runner itself. */
  debug?: (message: string) => void;
}

/** Most of the process's own stdout/stderr kept per run (for the log and for a death message). */
const MAX_OUTPUT_CHARS = 64 * 1024;
/** How long a message may take in one turn of the host's event loop before the rest waits for the next turn. */
const SLICE_MS = 8;

/** One forked model process, used for at most one run. */
export class ModelProcess {
  readonly child: ChildProcess;
  /** Resolves when the process has said hello (for a warm spare: when its worker has loaded). */
  readonly ready: Promise<void>;
  readonly forkedAt = performance.now();
  readyAt: number | undefined;
  readonly prestart: ModelProcessOptions["prestart"];
  private used = false;
  private exited = false;
  private readonly onExit: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
  private onMessage: ((m: ProcessToHost) => void) | undefined;
  private readonly early: ProcessToHost[] = [];
  private broken: ((reason: string) => void) | undefined;
  private brokenReason: string | undefined;
  output = "";

  constructor(readonly options: ModelProcessOptions) {
    this.prestart = options.prestart;
    const args = options.prestart ? [`--prestart=${options.prestart.workerScript}`, `--memory-limit-mb=${options.prestart.memoryLimitMb}`] : [];
    // What `fork` does, without its IPC channel (see frames.ts): this Node (in VS Code's desktop extension
    // host the executable is Electron, run as Node the way vscode-languageclient forks its servers), no
    // inherited --inspect or other flags, and a fourth pipe for the process's messages.
    this.child = spawn(process.execPath, [options.script, ...args], {
      stdio: ["pipe", "pipe", "pipe", "pipe"],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
      windowsHide: true,
    });
    let resolveReady: () => void = () => undefined;
    this.ready = new Promise<void>((r) => (resolveReady = r));
    const reader = new FrameReader(
      (v) => {
        const m = v as ProcessToHost;
        if (typeof m === "object" && m !== null && m.t === "hello") {
          this.readyAt ??= performance.now();
          resolveReady();
          return;
        }
        if (this.onMessage) this.onMessage(m);
        else this.early.push(m);
      },
      (reason) => this.fail(reason),
    );
    const pipe = this.child.stdio[MESSAGE_FD] as Readable | null;
    pipe?.on("data", (c: Buffer) => reader.push(c));
    pipe?.on("error", () => undefined);
    (this.child.stdin as Writable | null)?.on("error", () => undefined);
    for (const s of [this.child.stdout, this.child.stderr]) {
      s?.setEncoding("utf8");
      s?.on("data", (t: string) => {
        if (this.output.length < MAX_OUTPUT_CHARS) this.output += t.slice(0, MAX_OUTPUT_CHARS - this.output.length);
      });
    }
    this.child.on("error", (e) => this.fail(`the model process could not start: ${e.message}`));
    // 'exit' can come before the last bytes of the message pipe have been read (Node documents that the
    // stdio streams may still be open): the end is reported once the pipe has closed too, so that a
    // process that wrote its end and exited is never taken for one that died (at most 500 ms later).
    let pipeClosed = pipe === null || pipe === undefined;
    let exit: [number | null, NodeJS.Signals | null] | undefined;
    const exited = (): void => {
      if (!exit || this.exited) return;
      this.exited = true;
      resolveReady();
      const [code, signal] = exit;
      for (const f of this.onExit.splice(0)) f(code, signal);
    };
    pipe?.once("close", () => {
      pipeClosed = true;
      exited();
    });
    this.child.on("exit", (code, signal) => {
      exit = [code, signal];
      if (pipeClosed) exited();
      else setTimeout(exited, 500).unref?.();
    });
    // A spare must never keep a CLI alive; `claim` refs it for its run.
    this.setRef(false);
  }

  private setRef(on: boolean): void {
    const handles = [this.child, this.child.stdin, this.child.stdout, this.child.stderr, this.child.stdio[MESSAGE_FD]] as ({ ref?(): void; unref?(): void } | null)[];
    for (const h of handles) (on ? h?.ref : h?.unref)?.call(h);
  }

  get alive(): boolean {
    return !this.exited && this.child.exitCode === null && this.child.signalCode === null;
  }

  send(m: unknown): void {
    if (!this.alive) return;
    try {
      this.child.stdin?.write(encodeFrame(m));
    } catch {
      // the process is gone; its exit is reported
    }
  }

  kill(): void {
    if (this.alive) this.child.kill("SIGKILL");
  }

  /** Takes the process for one run (a process runs one model only). */
  claim(handlers: { message: (m: ProcessToHost) => void; broken: (reason: string) => void; exit: (code: number | null, signal: NodeJS.Signals | null) => void }): void {
    if (this.used) throw new Error("a model process runs one model only");
    this.used = true;
    this.setRef(true);
    this.onMessage = handlers.message;
    this.broken = handlers.broken;
    if (this.brokenReason !== undefined) handlers.broken(this.brokenReason);
    for (const m of this.early.splice(0)) handlers.message(m);
    if (this.exited) handlers.exit(this.child.exitCode, this.child.signalCode);
    else this.onExit.push(handlers.exit);
  }

  private fail(reason: string): void {
    this.brokenReason ??= reason;
    this.broken?.(reason);
  }
}

/** Keeps one spare model process ready (forked, worker loaded) for the next run. */
export class ProcessPool {
  private spare: ModelProcess | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(private readonly script: string) {}

  /** A ready spare that fits, else undefined (the caller forks one). */
  take(workerScript: string, memoryLimitMb: number): ModelProcess | undefined {
    const s = this.spare;
    this.spare = undefined;
    if (s && s.alive && s.prestart?.workerScript === workerScript && s.prestart.memoryLimitMb === memoryLimitMb) return s;
    s?.kill();
    return undefined;
  }

  /** Forks a spare after `delayMs` (after a run, so it does not compete with the run for the CPU). */
  refill(workerScript: string, memoryLimitMb: number, delayMs = 300): void {
    if (this.disposed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.disposed) return;
      if (this.spare?.alive && this.spare.prestart?.workerScript === workerScript && this.spare.prestart.memoryLimitMb === memoryLimitMb) return;
      this.spare?.kill();
      this.spare = new ModelProcess({ script: this.script, prestart: { workerScript, memoryLimitMb } });
    }, delayMs);
    this.timer.unref?.();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.spare?.kill();
    this.spare = undefined;
  }
}

/** How a supervised run ended, as the host tells it. */
export interface SupervisedEnd {
  ok: boolean;
  error?: RunError;
  steps: number;
  keptSteps: number[];
  durationMs: number;
  /** From the run's request (before its compile) to the model's first line. */
  startMs?: number;
  /** How a program producer ended (for the launcher's owner to explain). */
  program?: ProgramExit;
}

export interface SuperviseOptions {
  spec: RunSpec;
  /** When the run was asked for (`performance.now()`, before its compile), for `startMs`. */
  requestedAt?: number;
  onEvent: (e: TraceEvent) => void;
  onControl: (m: ControlMessage) => void;
  debug?: (message: string) => void;
}

export interface Supervised {
  readonly end: Promise<SupervisedEnd>;
  /** Kills the run now; `end` resolves with `error`. */
  stop(error: RunError): void;
  send(cmd: ControlMessage): void;
}


/** Runs `spec` in `proc` and reports everything it sends, until the run ends. */
export function supervise(proc: ModelProcess, o: SuperviseOptions): Supervised {
  const token = randomBytes(16).toString("hex");
  const file = o.spec.fileName;
  let settled = false;
  let resolveEnd: (e: SupervisedEnd) => void = () => undefined;
  const end = new Promise<SupervisedEnd>((r) => (resolveEnd = r));
  let steps = 0;
  let startMs: number | undefined;
  let childPid: number | undefined;
  const startedAt = performance.now();
  let pausedTotal = 0;
  let pausedSince: number | undefined;
  let tensorBytes = 0;
  let events = 0;
  let bad = 0;
  let firstBad = "";
  const inbox: ProcessToHost[] = [];
  let draining = false;
  let claimEnd: ProcessEnd | undefined;
  /** The model announced that it signals its own process (process.kill), from this line. */
  let dying: { signal: string; site?: SourceSite } | undefined;

  const killAll = (): void => {
    proc.kill();
    if (childPid !== undefined) {
      try {
        process.kill(childPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  const finish = (e: SupervisedEnd): void => {
    if (settled) return;
    settled = true;
    clearTimeout(backstop);
    inbox.length = 0;
    if (bad > 0) {
      o.onEvent({ type: "anomaly", anomaly: { code: "truncated", severity: "warning", step: steps, message: `${bad} malformed message${bad === 1 ? " was" : "s were"} dropped (the first: ${firstBad})` } });
    }
    if (proc.output.trim()) o.debug?.(`model process output: ${proc.output.trim().slice(0, 2000)}`);
    resolveEnd({ ...e, ...(startMs !== undefined ? { startMs } : {}) });
  };
  const elapsed = (): number => performance.now() - startedAt;
  const fail = (error: RunError): void => {
    killAll();
    finish({ ok: false, error, steps, keptSteps: [], durationMs: elapsed() - pausedTotal });
  };
  const protocolError = (reason: string): void =>
    fail({ kind: "internal", message: `${file}: the model's process broke its message channel (${reason}); the run was stopped. Something in the model may have written to the process's file descriptor ${MESSAGE_FD}.` });

  // The model process enforces the time limit (and names the line); this is the safety net if it cannot.
  const backstopMs = o.spec.timeLimitMs + 10_000;
  let backstop: ReturnType<typeof setTimeout>;
  const armBackstop = (): void => {
    clearTimeout(backstop);
    backstop = setTimeout(() => {
      if (pausedSince !== undefined) return armBackstop();
      if (elapsed() - pausedTotal < backstopMs) return armBackstop();
      fail({ kind: "timeout", message: `${file}: the model's process did not stop at the time limit of ${(o.spec.timeLimitMs / 1000).toFixed(0)} s and was killed` });
    }, Math.max(100, backstopMs - (elapsed() - pausedTotal)));
    backstop.unref?.();
  };
  armBackstop();

  const take = (m: ProcessToHost): void => {
    if (typeof m !== "object" || m === null || typeof m.t !== "string") return protocolError("a message that is not an object");
    if (m.t === "hello") return;
    if ((m as { token?: unknown }).token !== token) return protocolError(`a "${String(m.t).slice(0, 20)}" message without the run's token`);
    switch (m.t) {
      case "started":
        // From the run's request (o.requestedAt: before the compile) to the model's first line, on the host's clock.
        startMs = performance.now() - (o.requestedAt ?? startedAt);
        if (typeof m.childPid === "number") childPid = m.childPid;
        return;
      case "events": {
        if (!Array.isArray(m.events)) return protocolError("a batch that is not a list");
        for (const e of m.events) {
          const why = validateEvent(e);
          if (why !== undefined) {
            if (bad++ === 0) firstBad = why;
            continue;
          }
          const ev = e as TraceEvent;
          if (ev.type === "run/end") continue; // the host writes the end
          tensorBytes += tensorBytesOf(ev);
          events++;
          if (tensorBytes > TRACE_BUDGET.tensorBytes * 1.25 || events > TRACE_BUDGET.events * 1.25) return protocolError("more trace than the budget allows");
          if (ev.type === "step/summary") steps = Math.max(steps, ev.summary.step + 1);
          try {
            o.onEvent(ev);
          } catch (err) {
            o.debug?.(`a consumer of the trace failed: ${String(err)}`);
          }
          if (settled) return; // a consumer stopped the run
        }
        proc.send({ t: "ack", seq: m.seq });
        return;
      }
      case "control":
        if (isControlMessage(m.message)) {
          try {
            o.onControl(m.message);
          } catch (err) {
            o.debug?.(`a control listener failed: ${String(err)}`);
          }
        } else if (bad++ === 0) firstBad = "a control message without a type";
        proc.send({ t: "ack", seq: m.seq });
        return;
      case "paused":
        if (m.paused && pausedSince === undefined) pausedSince = performance.now();
        if (!m.paused && pausedSince !== undefined) {
          pausedTotal += performance.now() - pausedSince;
          pausedSince = undefined;
        }
        return;
      case "log":
        if (typeof m.message === "string") o.debug?.(m.message.slice(0, 2000));
        return;
      case "end":
        claimEnd = m.end;
        return;
      case "dying":
        dying = { signal: String(m.signal).slice(0, 20), ...(m.site ? { site: m.site } : {}) };
        return;
    }
    return protocolError(`an unknown message "${String((m as { t: unknown }).t).slice(0, 20)}"`);
  };

  /** The process's report of the end, checked (its fields came over the wire). */
  const fromClaim = (c: ProcessEnd): SupervisedEnd => ({
    ok: c.ok === true,
    ...(c.error && typeof c.error.message === "string" ? { error: c.error } : c.ok === true ? {} : { error: { kind: "internal", message: `${file}: the run ended without saying why` } }),
    steps: typeof c.steps === "number" ? c.steps : steps,
    keptSteps: Array.isArray(c.keptSteps) ? c.keptSteps.filter((k) => typeof k === "number") : [],
    durationMs: typeof c.durationMs === "number" ? c.durationMs : elapsed() - pausedTotal,
    ...(c.program && typeof c.program === "object" ? { program: c.program } : {}),
  });

  /** Handles queued messages for a few milliseconds, then yields the event loop. */
  const drain = (): void => {
    draining = false;
    const t0 = performance.now();
    while (inbox.length > 0 && !settled) {
      take(inbox.shift() as ProcessToHost);
      if (performance.now() - t0 > SLICE_MS) break;
    }
    if (settled) return;
    if (inbox.length > 0) schedule();
    else if (claimEnd) {
      const c = claimEnd;
      finish(fromClaim(c));
    }
  };
  const schedule = (): void => {
    if (draining) return;
    draining = true;
    setImmediate(drain);
  };

  proc.claim({
    message: (m) => {
      if (settled) return;
      inbox.push(m);
      schedule();
    },
    broken: (reason) => {
      if (!settled) protocolError(reason);
    },
    exit: (code, signal) => {
      if (settled) return;
      // Take in what it sent before it went.
      const rest = inbox.splice(0);
      for (const m of rest) {
        take(m);
        if (settled) return;
      }
      if (claimEnd) {
        const c = claimEnd;
        finish(fromClaim(c));
        return;
      }
      const how = signal ? `killed by ${signalText(signal)}` : `exited with code ${code}`;
      const self = dying?.site ? `${baseName(dying.site.file)}:${dying.site.line}` : undefined;
      const hint = dying
        ? `: the model called process.kill(process.pid, ${JSON.stringify(dying.signal)})${self ? ` at ${self}` : ""}`
        : signal === "SIGKILL"
          ? " (by the model itself, another program, or the system when memory ran out)"
          : "";
      const tail = proc.output.trim() ? `; its last output: ${proc.output.trim().split("\n").slice(-3).join(" / ").slice(0, 500)}` : "";
      finish({
        ok: false,
        error: { kind: "lost", message: `${file}: the model's process died: ${how}${hint}${tail}`, ...(dying?.site ? { site: dying.site } : {}) },
        steps,
        keptSteps: [],
        durationMs: elapsed() - pausedTotal,
      });
    },
  });
  proc.send({ t: "init", token, spec: o.spec });

  return {
    end,
    stop(error) {
      if (settled) return;
      killAll();
      finish({ ok: false, error, steps, keptSteps: [], durationMs: elapsed() - pausedTotal });
    },
    send(cmd) {
      if (!settled && isControlMessage(cmd)) proc.send({ t: "control", message: cmd });
    },
  };
}
