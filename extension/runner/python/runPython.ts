/**
 * Runs a Python model file under the tracer (`python/bpl_run.py`) in a child process and turns its
 * stream into the same `TraceEvent`s, `RunHandle` and `RunResult` as a TypeScript run (`runModel`).
 *
 * - The interpreter: the first of `python.interpreters` that starts (see interpreter.ts).
 * - Settings go on the child's stdin as the first JSON line (with the unsaved text when there is
 *   one: nothing is written to disk); commands follow as JSON lines (contract 6: `send`).
 * - Time limit: when it passes, the tracer is asked `where` the model is (its command thread answers
 *   even while the model loops), then the process is killed and the run ends with a `timeout` error
 *   at that line. Memory: the tracer limits its data segment (Linux) and watches its resident size;
 *   past the limit it reports the line and exits, and the run ends with a `memory` error.
 * - Every run ends with exactly one `run/end` event (synthesised here when the process ended without
 *   one), and `result` resolves with the same outcome; it never rejects.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { RUN_LIMITS, type RunError, type SourceSite, TRACE_FORMAT_VERSION, type TraceEvent, baseName } from "../../../core/host";
import type { RunHandle, RunModelOptions, RunResult } from "../runModel";
import { noPythonMessage, pythonCandidates } from "./interpreter";
import { type Frame, FrameDecoder } from "./wire";

export interface PythonRunOptions {
  /** Interpreters to try in order (default: `python3`, then `python`). */
  interpreters?: readonly string[];
  /** Absolute path of `python/bpl_run.py` (default: found next to the bundle). */
  tracer?: string;
}

/** Control messages from the tracer (contract 6), in order with the trace events. */
export type ControlListener = (message: { type: string; [key: string]: unknown }) => void;

export interface PythonRunHandle extends RunHandle {
  /** Sends a command to the tracer (a JSON line on its stdin). */
  send(cmd: { type: string; [key: string]: unknown }): void;
  onControl(cb: ControlListener): () => void;
  /** The interpreter and library versions the tracer reported (once it started). */
  readonly hello: Promise<PythonHello | undefined>;
}

export interface PythonHello {
  python: string;
  executable: string;
  numpy: string | null;
  torch: string | null;
  pid: number;
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

const STDERR_KEEP = 16 * 1024;
/** How long the tracer has to answer `where` before the process is killed anyway. */
const WHERE_TIMEOUT_MS = 700;

export function runPythonModel(options: RunModelOptions, py: PythonRunOptions = {}): PythonRunHandle {
  const candidates = py.interpreters && py.interpreters.length > 0 ? [...py.interpreters] : pythonCandidates();
  const tracer = py.tracer ?? defaultTracerScript();
  const timeLimitMs = options.timeLimitMs ?? RUN_LIMITS.timeLimitSeconds.default * 1000;
  const memoryLimitMb = options.memoryLimitMb ?? RUN_LIMITS.memoryLimitMb.default;
  const controlListeners = new Set<ControlListener>();
  const emit = (e: TraceEvent): void => {
    try {
      options.onEvent?.(e);
    } catch {
      // a consumer's bug must not break the run
    }
  };
  let child: ChildProcess | undefined;
  let settle: ((error: RunError) => void) | undefined;
  let cancelled = false;
  let resolveHello: (h: PythonHello | undefined) => void = () => undefined;
  const hello = new Promise<PythonHello | undefined>((r) => {
    resolveHello = r;
  });

  const result = new Promise<RunResult>((resolve) => {
    const started = performance.now();
    let settled = false;
    let steps = 0;
    let lastSite: SourceSite | undefined;
    let end: Extract<TraceEvent, { type: "run/end" }> | undefined;
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    let whereWaiter: ((site: SourceSite | undefined) => void) | undefined;
    let startMs = 0;
    const decoder = new FrameDecoder();

    const finish = (r: RunResult): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolveHello(undefined);
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      resolve(r);
    };
    const fail = (error: RunError): void => {
      if (settled) return;
      const durationMs = performance.now() - started;
      emit({ type: "run/end", ok: false, steps, durationMs, keptSteps: end?.keptSteps ?? [], error });
      finish({ ok: false, error, steps, keptSteps: [], compileMs: startMs, durationMs });
    };
    settle = fail;

    const onFrame = (f: Frame): void => {
      if (settled) return;
      switch (f.k) {
        case "hello":
          startMs = performance.now() - started;
          resolveHello(f as unknown as PythonHello);
          options.debug?.(`python: ${String(f.executable)} ${String(f.python)}, numpy ${String(f.numpy)}, torch ${String(f.torch)}`);
          break;
        case "event":
        case "events":
          for (const e of f.k === "event" ? [f.event as TraceEvent] : (f.events as TraceEvent[])) {
            if (e.type === "step/summary") steps = e.summary.step + 1;
            else if (e.type === "layer/call" && e.call.site) lastSite = e.call.site;
            if (e.type === "run/end") {
              end = e;
              steps = e.steps;
            }
            emit(e);
          }
          break;
        case "control":
          for (const l of controlListeners) {
            try {
              l(f.message as { type: string });
            } catch {
              // a listener's bug must not break the run
            }
          }
          break;
        case "where":
          whereWaiter?.((f.site as SourceSite | null) ?? undefined);
          break;
        case "memory": {
          const site = (f.site as SourceSite | null) ?? lastSite;
          const at = site ? ` at ${baseName(site.file)}:${site.line}` : "";
          fail({
            kind: "memory",
            message: `${baseName(options.file)}: the model used more than the memory limit of ${memoryLimitMb} MB and was stopped${at}; look for data that grows without bound, or raise backpropLens.memoryLimitMb (CLI --memory-limit)`,
            ...(site ? { site } : {}),
            ...(Array.isArray(f.frames) && f.frames.length > 0 ? { frames: f.frames as SourceSite[] } : {}),
          });
          break;
        }
        case "exit":
          if (end !== undefined) {
            const durationMs = performance.now() - started;
            finish({ ok: end.ok, ...(end.error ? { error: end.error } : {}), steps: end.steps, keptSteps: end.keptSteps, compileMs: startMs, durationMs });
          }
          break;
        default:
          break;
      }
    };

    const spawnNext = (i: number): void => {
      const exe = candidates[i];
      if (exe === undefined) {
        fail({ kind: "import", message: noPythonMessage(candidates) });
        return;
      }
      const args = ["-B", "-u", tracer];
      const p = spawn(exe, args, {
        cwd: path.dirname(options.file),
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", PYTHONIOENCODING: "utf-8", PYTHONUNBUFFERED: "1", PYTHONFAULTHANDLER: "1" },
        stdio: ["pipe", "pipe", "pipe"],
        windowsHide: true,
      });
      let spawned = false;
      p.once("spawn", () => {
        spawned = true;
        child = p;
        if (cancelled) {
          fail({ kind: "cancelled", message: "the run was cancelled" });
          return;
        }
        const config = {
          file: options.file,
          ...(options.source !== undefined ? { source: options.source } : {}),
          keepSteps: options.keepSteps ?? RUN_LIMITS.keepSteps.default,
          gradCheck: options.gradCheck ? options.gradCheck : null,
          memoryLimitMb,
          traceVersion: TRACE_FORMAT_VERSION,
        };
        p.stdin?.write(`${JSON.stringify(config)}\n`);
        timer = setTimeout(() => void onTimeout(), timeLimitMs);
      });
      p.once("error", (err: NodeJS.ErrnoException) => {
        if (!spawned && (err.code === "ENOENT" || err.code === "EACCES" || err.code === "ENOTDIR")) {
          options.debug?.(`python: "${exe}" could not start (${err.code}), trying the next interpreter`);
          spawnNext(i + 1);
          return;
        }
        fail({ kind: "internal", message: `${baseName(options.file)}: could not run ${exe}: ${err.message}` });
      });
      p.stdin?.on("error", () => undefined); // the tracer may exit before reading every command
      p.stdout?.on("data", (chunk: Buffer) => {
        if (settled) return;
        let frames: Frame[];
        try {
          frames = decoder.push(chunk);
        } catch (e) {
          fail({ kind: "internal", message: `${baseName(options.file)}: ${e instanceof Error ? e.message : String(e)}` });
          return;
        }
        for (const f of frames) onFrame(f);
      });
      p.stderr?.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_KEEP);
      });
      p.once("close", (code, signal) => {
        if (settled || !spawned) return;
        if (stderr.trim()) options.debug?.(`python stderr: ${stderr.trim()}`);
        if (code === 9009 && process.platform === "win32" && end === undefined && i + 1 < candidates.length) {
          spawnNext(i + 1); // the Microsoft Store's "python3" alias, which is not Python
          return;
        }
        if (end !== undefined) {
          const durationMs = performance.now() - started;
          finish({ ok: end.ok, ...(end.error ? { error: end.error } : {}), steps: end.steps, keptSteps: end.keptSteps, compileMs: startMs, durationMs });
          return;
        }
        const tail = stderr.trim().split("\n").slice(-6).join("\n");
        if (code === 3 && /Python \d+\.\d+ or newer is needed/.test(stderr)) {
          fail({ kind: "import", message: tail.replace(/^backprop-lens: /, "") });
          return;
        }
        if (/No module named ['"]?(encodings|backprop_lens_tracer)/.test(stderr) || (code !== 0 && startMs === 0 && /SyntaxError/.test(stderr))) {
          fail({ kind: "import", message: `${exe} could not start the Backprop Lens tracer (Python 3.8 or newer is needed): ${tail}` });
          return;
        }
        const how = signal ? `killed by signal ${signal}` : `exit code ${String(code)}`;
        const at = lastSite ? ` (last traced call at ${baseName(lastSite.file)}:${lastSite.line})` : "";
        fail({
          kind: "internal",
          message: `${baseName(options.file)}: the model's process died: ${how}${at}${tail ? `: ${tail}` : ""}`,
          ...(lastSite ? { site: lastSite } : {}),
        });
      });
    };

    const onTimeout = async (): Promise<void> => {
      if (settled) return;
      // Ask the tracer where the main thread is (its command thread answers even in an endless loop).
      const site = await new Promise<SourceSite | undefined>((r) => {
        const t = setTimeout(() => r(undefined), WHERE_TIMEOUT_MS);
        whereWaiter = (s) => {
          clearTimeout(t);
          r(s);
        };
        try {
          child?.stdin?.write(`${JSON.stringify({ type: "where" })}\n`);
        } catch {
          r(undefined);
        }
      });
      const at = site ?? lastSite;
      const where = at ? ` at ${baseName(at.file)}:${at.line}` : "";
      const secs = (timeLimitMs / 1000).toFixed(timeLimitMs % 1000 ? 1 : 0);
      fail({
        kind: "timeout",
        message: `${baseName(options.file)}: the model ran longer than the time limit of ${secs} s and was stopped${where}${site ? "" : steps > 0 ? ` (step ${steps})` : ""}; raise the time limit if it is meant to run this long (setting backpropLens.timeLimitSeconds, CLI --time-limit)`,
        ...(at ? { site: at } : {}),
      });
    };

    spawnNext(0);
  });

  return {
    result,
    hello,
    cancel(): void {
      if (cancelled) return;
      cancelled = true;
      settle?.({ kind: "cancelled", message: "the run was cancelled" });
    },
    send(cmd): void {
      try {
        child?.stdin?.write(`${JSON.stringify(cmd)}\n`);
      } catch {
        // the process has ended
      }
    },
    onControl(cb): () => void {
      controlListeners.add(cb);
      return () => controlListeners.delete(cb);
    },
  };
}
