/** Shared by the runner's tests: run a model file through `runModel` (the real model process) and collect what it sends. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TraceEvent } from "../../core/host";
import type { ControlMessage } from "../../extension/runner/control";
import { type RunHandle, type RunModelOptions, type RunResult, runModel } from "../../extension/runner/runModel";

export const root = path.resolve(__dirname, "..", "..", "..");
export const workerScript = path.join(root, "dist", "worker.js");
export const processScript = path.join(root, "dist", "modelProcess.js");

export const hostile = (name: string): string => path.join(root, "test", "fixtures", "hostile", name);
export const fixture = (name: string): string => path.join(root, "test", "fixtures", "models", name);
export const example = (name: string): string => path.join(root, "examples", name);

export interface Collected {
  handle: RunHandle;
  events: TraceEvent[];
  controls: ControlMessage[];
  /** Everything in arrival order, to check that control messages come in order with events. */
  order: string[];
  result: Promise<RunResult>;
}

export function start(file: string, options: Partial<RunModelOptions> = {}): Collected {
  const events: TraceEvent[] = [];
  const controls: ControlMessage[] = [];
  const order: string[] = [];
  const handle = runModel({
    file,
    workerScript,
    processScript,
    timeLimitMs: 20_000,
    ...options,
    onEvent: (e) => {
      events.push(e);
      order.push(e.type);
      options.onEvent?.(e);
    },
  });
  handle.onControl((m) => {
    controls.push(m);
    order.push(`control:${m.type}`);
  });
  return { handle, events, controls, order, result: handle.result };
}

export async function run(file: string, options: Partial<RunModelOptions> = {}): Promise<{ result: RunResult; events: TraceEvent[] }> {
  const c = start(file, options);
  return { result: await c.result, events: c.events };
}

/** Polls until `check` is truthy (never a fixed sleep). */
export async function until<T>(check: () => T, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A temporary model file with this source. */
export function modelFile(name: string, source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-runner-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, source);
  return file;
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
