/**
 * The soak (issue 12), inside the extension host of a real VS Code running the *packaged* extension
 * (test/soak/run.mjs starts it): the probe's figures for the hostile models, 100 runs in a row, and
 * hostile saved traces. Not mocha: every scenario is measured and recorded (BPL_SOAK_RESULT, JSON);
 * run.mjs compares the figures with the targets.
 *
 * The probe: `monitorEventLoopDelay` on this thread (the extension host's event loop) during each run
 * and for 3 s after it, the time from Stop to the run's end, and the host's heap after a full GC.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import * as vscode from "vscode";
import type { LensTestApi } from "../../extension/extension";
import type { RunModel } from "../../core/run/runModel";
import type { RunResult } from "../../extension/runner/runModel";

const EXTENSION_ID = "backprop-lens.backprop-lens";
const soakDir = process.env.BPL_SOAK_DIR ?? "";
const resultFile = process.env.BPL_SOAK_RESULT ?? path.join(soakDir, "result.json");

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

interface Delay {
  p99: number;
  max: number;
  mean: number;
  /** Event-loop utilization (0–1): the share of the time the host's loop was busy, not waiting. */
  elu: number;
  /** CPU time the host's main thread used meanwhile (ms), and the wall time: what the run cost the editor, whatever else the machine runs. */
  cpuMs: number;
  wallMs: number;
}

/** CPU time of the extension host's main thread (its event loop), ms: Linux /proc, clock ticks of 10 ms; -1 elsewhere. */
function mainThreadCpuMs(): number {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 100 Hz ticks
  } catch {
    return -1;
  }
}

function probe(): { stop(): Delay } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = mainThreadCpuMs();
  const t0 = performance.now();
  h.enable();
  return {
    stop(): Delay {
      h.disable();
      const ms = (ns: number): number => Math.round((ns / 1e6) * 10) / 10;
      const elu = performance.eventLoopUtilization(elu0);
      const cpu = cpu0 < 0 ? -1 : mainThreadCpuMs() - cpu0;
      return { p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean), elu: Math.round(elu.utilization * 1000) / 1000, cpuMs: cpu, wallMs: Math.round(performance.now() - t0) };
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function heapMb(): { heap: number; rss: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: Math.round((m.heapUsed / 2 ** 20) * 10) / 10, rss: Math.round(m.rss / 2 ** 20) };
}

async function until<T>(check: () => T, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) return undefined;
    await sleep(20);
  }
}

let api: LensTestApi;
const folder = (): string => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? "";
const uri = (name: string): vscode.Uri => vscode.Uri.file(path.join(folder(), name));

async function setLimit(seconds: number): Promise<void> {
  await vscode.workspace.getConfiguration("backpropLens").update("timeLimitSeconds", seconds, vscode.ConfigurationTarget.Workspace);
}

interface RunFigures {
  model: string;
  what: string;
  end: string;
  message?: string;
  steps: number;
  durationMs: number;
  compileMs: number;
  startMs?: number;
  stopMs?: number;
  during: Delay;
  after: Delay;
  heapBefore: number;
  heapAfter: number;
  rssAfter: number;
  consoleLines: number;
  summaries: number;
  calls: number;
}

/** One run with the probe on: optionally stopped by the user once `stopWhen` holds. */
async function measure(model: string, what: string, o: { stopWhen?: (run: RunModel) => boolean; stopAfterMs?: number } = {}): Promise<RunFigures> {
  const doc = await vscode.workspace.openTextDocument(uri(model));
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
  const before = heapMb();
  const previous = api.ctx.runs.currentRun();
  /** This run's model, once it has started (never the previous run's). */
  const thisRun = (): RunModel | undefined => {
    const r = api.ctx.runs.currentRun();
    return r !== previous ? r : undefined;
  };
  const p = probe();
  const t0 = Date.now();
  const pending = vscode.commands.executeCommand<RunResult | undefined>("backpropLens.runBackwardPass", uri(model));
  let stopMs: number | undefined;
  if (o.stopWhen || o.stopAfterMs !== undefined) {
    await until(() => {
      const r = thisRun();
      return r !== undefined && (o.stopWhen ? o.stopWhen(r) : Date.now() - t0 >= (o.stopAfterMs ?? 0));
    }, 120_000);
    const ts = Date.now();
    await vscode.commands.executeCommand("backpropLens.stopRun");
    await pending;
    stopMs = Date.now() - ts;
  }
  const result = (await pending) as RunResult;
  const during = p.stop();
  const q = probe();
  await sleep(3000);
  const after = q.stop();
  const heapAfter = heapMb();
  const store = api.ctx.runs.currentRun();
  const end = result.ok ? "done" : result.error?.kind === "cancelled" ? "stopped" : result.error?.kind === "lost" ? "lost" : "failed";
  return {
    model,
    what,
    end,
    ...(result.error ? { message: result.error.message } : {}),
    steps: result.steps,
    durationMs: Math.round(result.durationMs),
    compileMs: Math.round(result.compileMs),
    ...(result.startMs !== undefined ? { startMs: Math.round(result.startMs) } : {}),
    ...(stopMs !== undefined ? { stopMs } : {}),
    during,
    after,
    heapBefore: before.heap,
    heapAfter: heapAfter.heap,
    rssAfter: heapAfter.rss,
    consoleLines: store?.console.length ?? 0,
    summaries: store?.summaries.length ?? 0,
    calls: store?.calls.length ?? 0,
  };
}

/** Tells run.mjs (outside, with the browser) that run `i` of the 100 has ended, and waits until it has measured the webview. */
async function webviewSample(i: number): Promise<number | undefined> {
  const progress = path.join(soakDir, "progress.json");
  const ack = path.join(soakDir, "ack.json");
  fs.writeFileSync(progress, JSON.stringify({ i }));
  const got = await until(() => {
    try {
      const a = JSON.parse(fs.readFileSync(ack, "utf8")) as { i: number; heapMb?: number };
      return a.i === i ? a : undefined;
    } catch {
      return undefined;
    }
  }, 5000);
  return got?.heapMb;
}

interface FileFigures {
  file: string;
  bytes: number;
  restoreMs: number;
  during: Delay;
  restored: string;
  events: number;
  note?: string;
}

function storage(): string {
  const dir = (api.ctx.extension.storageUri ?? api.ctx.extension.globalStorageUri).fsPath;
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Restores `text` as the saved run, as a reload would, with the probe on. */
async function restore(name: string, write: (target: string) => void): Promise<FileFigures> {
  const dir = storage();
  const target = path.join(dir, "last-run.json");
  write(target);
  fs.writeFileSync(path.join(dir, "last-run.state.json"), JSON.stringify({ runId: 1, file: uri("04-spiral-model.ts").fsPath, startedAt: Date.now(), state: "ended", saved: true }));
  await api.ctx.runs.clearView();
  const p = probe();
  const t0 = Date.now();
  await api.ctx.runs.restoreLastRun();
  const restoreMs = Date.now() - t0;
  const during = p.stop();
  const store = api.ctx.runs.currentRun();
  const note = store?.anomalies.find((a) => a.code === "truncated")?.message;
  return {
    file: name,
    bytes: fs.statSync(target).size,
    restoreMs,
    during,
    restored: store ? `${store.end ? (store.end.ok ? "done" : store.end.error?.kind) : "no end"}` : "nothing",
    events: store ? store.calls.length + store.summaries.length + store.console.length + store.layers.size : 0,
    ...(note ? { note } : {}),
  };
}

/** A saved trace of `bytes` or so: one event per line, layer calls with large tensors. */
function bigTrace(target: string, bytes: number, file: string): void {
  const fd = fs.openSync(target, "w");
  const w = (s: string): void => void fs.writeSync(fd, s);
  w(`${JSON.stringify({ format: "backprop-lens-trace", version: 1, file, createdAt: new Date().toISOString(), producer: "soak" }).slice(0, -1)},"events":[\n`);
  w(`${JSON.stringify({ type: "run/start", version: 1, file, startedAt: 1 })},\n`);
  w(`${JSON.stringify({ type: "layer/new", layer: { id: 0, name: "dense1", kind: "dense", className: "Dense", description: "Dense(784, 512)", params: [], paramCount: 0 } })},\n`);
  const values = 128 * 512;
  const data = JSON.stringify(Array.from({ length: values }, (_, i) => Math.sin(i) * 0.123456789));
  const stats = { size: values, min: -0.12, max: 0.12, mean: 0, std: 0.08, norm: 20, nonFinite: 0, zeros: 0 };
  let written = 0;
  for (let seq = 0; written < bytes; seq++) {
    const line = `{"type":"layer/call","call":{"step":${seq % 3},"seq":${seq},"layer":0,"phase":"forward","tensors":{"output":{"shape":[128,512],"data":${data}}},"stats":{"output":${JSON.stringify(stats)}}}},\n`;
    w(line);
    written += line.length;
  }
  w(`${JSON.stringify({ type: "run/end", ok: true, steps: 3, durationMs: 10, keptSteps: [0, 1, 2] })}\n]}\n`);
  fs.closeSync(fd);
}

interface ClearedFigures {
  model: string;
  end: string;
  steps: number;
  durationMs: number;
  /** Host heap after a GC: with the results cleared before the run, with the run held, after Clear Results. */
  heapBefore: number;
  heapHeld: number;
  heapCleared: number;
  /** What the host's run model held: step summaries, recorded calls (with tensors), console lines. */
  summaries: number;
  calls: number;
  consoleLines: number;
  /** Bytes of tensor values the host held for the run's calls, and of the saved trace on disk. */
  tensorBytes: number;
  traceFileBytes: number;
}

/**
 * What the host's run model holds for the current run, as numbers only: in a function of its own, so that
 * no reference to the run (or its tensors) stays in the caller's frame while the heap after Clear Results
 * is measured.
 */
function heldFigures(): Pick<ClearedFigures, "summaries" | "calls" | "consoleLines" | "tensorBytes" | "traceFileBytes"> {
  const store = api.ctx.runs.currentRun();
  const buffers = new Set<Float64Array>();
  for (const c of store?.calls ?? []) {
    for (const name of Object.keys(c.tensors)) {
      const t = store?.tensor(c.seq, name);
      if (t) buffers.add(t.data);
    }
  }
  let tensorBytes = 0;
  for (const b of buffers) tensorBytes += b.byteLength;
  let traceFileBytes = 0;
  try {
    traceFileBytes = fs.statSync(path.join(storage(), "last-run.json")).size;
  } catch {
    // no saved trace
  }
  return { summaries: store?.summaries.length ?? 0, calls: store?.calls.length ?? 0, consoleLines: store?.console.length ?? 0, tensorBytes, traceFileBytes };
}

/** A long run (examples/05-spiral-training.ts: 10,001 steps), then Clear Results: the host's heap after each. */
async function runThenClear(model: string): Promise<ClearedFigures> {
  await vscode.commands.executeCommand("backpropLens.clearResults");
  await sleep(500);
  const before = heapMb();
  const doc = await vscode.workspace.openTextDocument(uri(model));
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
  const result = (await vscode.commands.executeCommand<RunResult>("backpropLens.runBackwardPass", uri(model))) as RunResult;
  await sleep(1000); // the trace file's last writes
  const held = heapMb();
  const figures = { model, end: result.ok ? "done" : (result.error?.kind ?? "failed"), steps: result.steps, durationMs: Math.round(result.durationMs), ...heldFigures() };
  await vscode.commands.executeCommand("backpropLens.clearResults");
  await sleep(1000);
  const cleared = heapMb();
  return { ...figures, heapBefore: before.heap, heapHeld: held.heap, heapCleared: cleared.heap };
}

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension<LensTestApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not installed`);
  api = await ext.activate();
  const out: { startedAt: string; load?: string; extension: string; idle: Delay; hostile: RunFigures[]; cleared: ClearedFigures[]; hundred: { i: number; heap: number; rss: number; webviewMb?: number; ms: number; startMs?: number }[]; files: FileFigures[]; problems: string[] } = {
    startedAt: new Date().toISOString(),
    load: fs.existsSync("/proc/loadavg") ? fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ") : undefined,
    extension: `${ext.packageJSON.version as string} (${ext.extensionPath})`,
    idle: { p99: 0, max: 0, mean: 0, elu: 0, cpuMs: 0, wallMs: 0 },
    hostile: [],
    cleared: [],
    hundred: [],
    files: [],
    problems: [],
  };
  const save = (): void => fs.writeFileSync(resultFile, JSON.stringify(out, null, 2));
  const log = (s: string): void => console.log(`[soak] ${s}`);
  try {
    // Warm up (first compile, language server, inspector), then the idle baseline of the probe.
    await measure("02-layer-batch.ts", "warm-up");
    const idle = probe();
    await sleep(3000);
    out.idle = idle.stop();
    log(`idle event-loop delay: p99 ${out.idle.p99} ms, max ${out.idle.max} ms`);

    // BPL_SOAK_ONLY=cleared (npm run soak -- --only=cleared): only the long runs and Clear Results.
    const only = process.env.BPL_SOAK_ONLY;
    await setLimit(30);
    const scenarios: [string, string, Parameters<typeof measure>[2]][] = only && only !== "hostile" ? [] : [
      ["trace-flood.ts", "dense1.forward/backward forever, to the 30 s time limit", {}],
      ["big-dense.ts", "Dense(784, 512) training, stopped after 10 s", { stopAfterMs: 10_000 }],
      ["console-flood.ts", "100,000 lines, stopped once 1,000 arrived (1 of 5)", { stopWhen: (r) => r.console.length >= 1000 }],
      ["console-flood.ts", "100,000 lines, stopped once 1,000 arrived (2 of 5)", { stopWhen: (r) => r.console.length >= 1000 }],
      ["console-flood.ts", "100,000 lines, stopped once 1,000 arrived (3 of 5)", { stopWhen: (r) => r.console.length >= 1000 }],
      ["console-flood.ts", "100,000 lines, stopped once 1,000 arrived (4 of 5)", { stopWhen: (r) => r.console.length >= 1000 }],
      ["console-flood.ts", "100,000 lines, stopped once 1,000 arrived (5 of 5)", { stopWhen: (r) => r.console.length >= 1000 }],
      ["console-flood.ts", "100,000 lines, to the end", {}],
      ["kill-self.ts", "process.kill(process.pid, \"SIGKILL\")", {}],
      ["raw-buffers.ts", "24 raw Float64Arrays of 128 MB", {}],
      ["infinite-loop.ts", "for(;;) stopped after 2 s", { stopAfterMs: 2000 }],
    ];
    for (const [model, what, o] of scenarios) {
      log(`${model}: ${what}`);
      const f = await measure(model, what, o);
      out.hostile.push(f);
      log(`  ${f.end}${f.message ? ` (${f.message.slice(0, 120)})` : ""}; during p99 ${f.during.p99} max ${f.during.max} ms; after max ${f.after.max} ms; stop ${f.stopMs ?? "-"} ms; heap ${f.heapBefore} → ${f.heapAfter} MB`);
      save();
    }

    await setLimit(60);
    for (let i = 1; i <= (only && only !== "cleared" ? 0 : 3); i++) {
      log(`05-spiral-training.ts (10,001 steps), then Clear Results (${i} of 3)`);
      const f = await runThenClear("05-spiral-training.ts");
      out.cleared.push(f);
      log(`  ${f.end}, ${f.steps} steps in ${f.durationMs} ms; ${f.summaries} summaries, ${f.calls} calls, ${(f.tensorBytes / 2 ** 20).toFixed(1)} MB of tensors, trace file ${(f.traceFileBytes / 2 ** 20).toFixed(1)} MB; host heap ${f.heapBefore} → ${f.heapHeld} (held) → ${f.heapCleared} MB (cleared)`);
      save();
    }

    await setLimit(30);
    log("100 runs of 04-spiral-model.ts");
    for (let i = 1; i <= (only && only !== "hundred" ? 0 : 100); i++) {
      const doc = await vscode.workspace.openTextDocument(uri("04-spiral-model.ts"));
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
      const t0 = Date.now();
      const r = await vscode.commands.executeCommand<RunResult>("backpropLens.runBackwardPass", doc.uri);
      const ms = Date.now() - t0;
      if (!r?.ok) out.problems.push(`run ${i} of 100 did not end ok: ${r?.error?.message ?? "?"}`);
      await sleep(300);
      const h = heapMb();
      const webviewMb = await webviewSample(i);
      out.hundred.push({ i, heap: h.heap, rss: h.rss, ...(webviewMb !== undefined ? { webviewMb } : {}), ms, ...(r?.startMs !== undefined ? { startMs: Math.round(r.startMs) } : {}) });
      if (i % 10 === 0) {
        log(`  run ${i}: host heap ${h.heap} MB, rss ${h.rss} MB, webview ${webviewMb ?? "?"} MB, ${ms} ms`);
        save();
      }
    }

    log("hostile saved traces");
    const spiral = uri("04-spiral-model.ts").fsPath;
    const files: [string, (t: string) => void][] = [
      ["a valid trace of 60 MB (the largest the save limit keeps)", (t) => bigTrace(t, 60 * 2 ** 20, spiral)],
      ["a trace of 197 MB (over the read limit)", (t) => bigTrace(t, 197 * 2 ** 20, spiral)],
      ["a 60 MB trace cut off in the middle", (t) => {
        bigTrace(t, 60 * 2 ** 20, spiral);
        fs.truncateSync(t, 30 * 2 ** 20 + 12345);
      }],
      ["one malformed event in a small trace", (t) => {
        const lines = [
          `{"format":"backprop-lens-trace","version":1,"file":${JSON.stringify(spiral)},"createdAt":"x","producer":"soak","events":[`,
          `{"type":"run/start","version":1,"file":${JSON.stringify(spiral)},"startedAt":1},`,
          '{"type":"layer/new","layer":{"id":0,"name":"<img src=x onerror=alert(1)>"}},',
          `{"type":"layer/new","layer":{"id":1,"name":"dense1","kind":"dense","className":"Dense","description":"Dense(2, 3)","params":[],"paramCount":9}},`,
          '{"type":"run/end","ok":true,"steps":1,"durationMs":1,"keptSteps":[0]}',
          "]}",
        ];
        fs.writeFileSync(t, lines.join("\n"));
      }],
      ["binary junk", (t) => fs.writeFileSync(t, Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256)))],
    ];
    for (const [name, write] of only && only !== "files" ? [] : files) {
      const f = await restore(name, write);
      out.files.push(f);
      log(`  ${name}: ${f.restored} in ${f.restoreMs} ms (${f.events} items), during p99 ${f.during.p99} max ${f.during.max} ms${f.note ? `; ${f.note}` : ""}`);
      save();
    }
    fs.rmSync(path.join(storage(), "last-run.json"), { force: true });
  } catch (e) {
    out.problems.push(`the soak itself failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  save();
  log(`results in ${resultFile}`);
}
