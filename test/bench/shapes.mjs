#!/usr/bin/env node
/**
 * The static shape analysis under `npm run bench` (run.mjs runs this file as a child and prints its
 * tables): a 1,000-line model file (shapesModel.mjs) analysed once per change, as the language server
 * does while the user types. The budget is 50 ms per change.
 *
 * - analysis per change: parse + analysis + results (`analyzeModelLazy`, what the worker runs), each
 *   sample a different text; next to it the TypeScript parse alone (the floor) and the CPU time;
 * - one hover rendered from the analysis (the worker does it when the editor asks);
 * - through the worker thread (dist/shapesWorker.js): from posting the text to the result back,
 *   structured clone included;
 * - the language server's main thread (dist/server.js over stdio): the latency of a hover the last
 *   run answers, idle and while the same file is re-analysed after every keystroke burst, to show the
 *   analysis does not hold run-report hovers up.
 *
 *   node test/bench/shapes.mjs [--quick] [--write=model.ts]
 * Prints one `@@RESULT <json>` line (run.mjs reads it). Needs `npm run build` for the worker and server.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { bigModel } from "./shapesModel.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");

const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  const x = (s.length - 1) * p;
  const i = Math.floor(x);
  return s[i] + (x - i) * ((s[Math.min(i + 1, s.length - 1)] ?? s[i]) - s[i]);
};
const summary = (xs) => ({ median: q(xs, 0.5), p25: q(xs, 0.25), p75: q(xs, 0.75), p95: q(xs, 0.95), min: Math.min(...xs), max: Math.max(...xs), samples: xs.length });

/** The analysis bundled as it ships (esbuild, CommonJS), into out/bench/. */
async function buildAnalysis() {
  const esbuild = await import("esbuild");
  const outfile = path.join(root, "out", "bench", "shapes.cjs");
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  await esbuild.build({
    stdin: {
      contents: `export { analyzeModelLazy } from "./extension/server/shapes/analyze"; export { factAt } from "./extension/server/shapes/features"; export { WORKER_LIMITS } from "./extension/server/shapes/service"; export { default as ts } from "typescript";`,
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile,
    logLevel: "warning",
  });
  const { createRequire } = await import("node:module");
  return createRequire(import.meta.url)(outfile);
}

async function measureInProcess(quick) {
  const { Bench } = await import("tinybench");
  const { analyzeModelLazy, factAt, ts } = await buildAnalysis();
  const texts = Array.from({ length: 16 }, (_, i) => bigModel(1000, (i % 8) * 2));
  const lines = texts[0].split("\n").length;
  // The model is valid and the analysis follows all of it (else the timing would flatter it).
  const check = analyzeModelLazy(texts[0], "big.ts");
  if (check.result.diagnostics.length > 0 || check.result.truncated) throw new Error(`the benchmark model: ${JSON.stringify(check.result.diagnostics.slice(0, 2))}, truncated ${check.result.truncated}`);
  let i = 0;
  const cpu = [];
  // A long warm-up: the analysis is a lot of code, and the editor runs it warm (every burst of typing).
  const bench = new Bench({ time: quick ? 1500 : 8000, iterations: quick ? 15 : 60, warmupTime: quick ? 500 : 3000, warmupIterations: quick ? 5 : 40, throws: true });
  bench.add("parse only", () => {
    ts.createSourceFile("big.ts", texts[i++ % texts.length], ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  });
  bench.add("analysis per change", () => {
    const c0 = process.cpuUsage();
    analyzeModelLazy(texts[i++ % texts.length], "big.ts");
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  });
  bench.runSync();
  const out = {};
  for (const t of bench.tasks) out[t.name] = summary(t.result?.latency?.samples ?? []);
  // Rendering one hover (what the worker does when the editor asks), on fresh analyses (it is memoised after).
  const hoverAt = { line: texts[0].split("\n").findIndex((l) => l.includes("dense13a.backward(")), character: 3 };
  const first = [];
  for (let k = 0; k < (quick ? 5 : 15); k++) {
    const a = analyzeModelLazy(texts[k % texts.length], "big.ts");
    const t0 = performance.now();
    factAt(a.facts, hoverAt)?.markdown();
    first.push(performance.now() - t0);
  }
  out["one hover rendered"] = summary(first);
  out["analysis per change (CPU)"] = summary(cpu);
  return { lines, calls: check.result.calls.length, facts: check.facts.length, tasks: out };
}

async function measureWorker(quick) {
  const script = path.join(root, "dist", "shapesWorker.js");
  if (!fs.existsSync(script)) return { skipped: "dist/shapesWorker.js is missing (npm run build)" };
  // The worker made as the server makes it.
  const { WORKER_LIMITS } = await buildAnalysis();
  const t0 = performance.now();
  const w = new Worker(script, { resourceLimits: WORKER_LIMITS });
  const texts = Array.from({ length: 8 }, (_, i) => bigModel(1000, i * 2));
  const ask = (m) =>
    new Promise((resolve) => {
      const on = (r) => {
        if (r.id !== m.id || r.ready) return;
        w.off("message", on);
        resolve(r);
      };
      w.on("message", on);
      w.postMessage(m);
    });
  const first = await ask({ type: "analyze", id: 1, uri: "file:///big.ts", version: 0, file: "big.ts", text: texts[0] });
  const firstMs = performance.now() - t0;
  // Warm up as the editor does while you type (the first analyses run cold code).
  for (let k = 0; k < (quick ? 3 : 15); k++) await ask({ type: "analyze", id: 100_000 + k, uri: "file:///big.ts", version: -1 - k, file: "big.ts", text: texts[k % texts.length] });
  const rounds = [];
  const inside = [];
  const hovers = [];
  for (let k = 2; k <= (quick ? 11 : 31); k++) {
    const a = performance.now();
    const r = await ask({ type: "analyze", id: k, uri: "file:///big.ts", version: k, file: "big.ts", text: texts[k % texts.length] });
    rounds.push(performance.now() - a);
    if ("error" in r) throw new Error(r.error);
    inside.push(r.result.ms);
    const h = performance.now();
    await ask({ type: "hover", id: 10_000 + k, uri: "file:///big.ts", version: k, position: { line: 500, character: 4 } });
    hovers.push(performance.now() - h);
  }
  await w.terminate();
  return { startAndFirstMs: firstMs, firstAnalysisMs: first.result.ms, analysisInWorker: summary(inside), roundTrip: summary(rounds), hoverRoundTrip: summary(hovers) };
}

/** The server over stdio: run-report hover latency, idle and while the file is re-analysed after every edit burst. */
async function measureServer(quick) {
  const server = path.join(root, "dist", "server.js");
  if (!fs.existsSync(server)) return { skipped: "dist/server.js is missing (npm run build)" };
  const { createProtocolConnection, StreamMessageReader, StreamMessageWriter } = await import("vscode-languageserver-protocol/node.js");
  const child = spawn(process.execPath, [server, "--stdio"], { stdio: ["pipe", "pipe", "ignore"] });
  const conn = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  // Each finished analysis asks the editor to refresh its inlay hints: that is how this counts them.
  let published = 0;
  conn.onRequest("workspace/inlayHint/refresh", () => {
    published++;
    return null;
  });
  conn.onRequest("workspace/codeLens/refresh", () => null);
  conn.listen();
  try {
    await conn.sendRequest("initialize", { processId: process.pid, rootUri: null, capabilities: { workspace: { inlayHint: { refreshSupport: true } } }, workspaceFolders: null });
    await conn.sendNotification("initialized", {});
    const file = path.join(root, "out", "bench", "big-model.ts");
    const uri = pathToFileURL(file).href;
    let text = bigModel(1000, 0);
    fs.writeFileSync(file, text);
    const lines = text.split("\n");
    const runLine = lines.findIndex((l) => l.includes("dense1a.forward("));
    const editLine = lines.findIndex((l) => l.includes("const dense19a = new Dense("));
    let version = 1;
    await conn.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "typescript", version, text } });
    // What a run of this file reported about one layer (enough for the run's hover on its line).
    const site = { file, line: runLine + 1, column: 3 };
    const report = {
      runId: 1,
      file,
      finishedAt: Date.now(),
      ok: true,
      steps: 2,
      durationMs: 500,
      anomalies: [],
      layers: [
        {
          info: { id: 0, name: "dense1a", kind: "dense", className: "Dense", description: "Dense(2, 6)", site: { file, line: runLine - 8, column: 17 }, params: [], paramCount: 18 },
          callSites: [{ phase: "forward", site }],
          step: 1,
          tensors: { output: { shape: [63, 6], stats: { size: 378, min: 0, max: 1, mean: 0.5, std: 0.1, norm: 3, nonFinite: 0, zeros: 0 }, corner: [[0.1, 0.2]] } },
          gradNorms: {},
        },
      ],
    };
    await conn.sendNotification("backpropLens/runReport", report);
    const hover = async () => {
      const t0 = performance.now();
      const h = await conn.sendRequest("textDocument/hover", { textDocument: { uri }, position: { line: runLine, character: 4 } });
      if (!h?.contents?.value?.includes("Step 1 of run 1")) throw new Error(`not the run's hover: ${JSON.stringify(h).slice(0, 200)}`);
      return performance.now() - t0;
    };
    // Let the first analysis (worker start-up) finish.
    for (let k = 0; k < 400 && published === 0; k++) await new Promise((r) => setTimeout(r, 25));
    const n = quick ? 20 : 60;
    const idle = [];
    for (let k = 0; k < n; k++) {
      idle.push(await hover());
      await new Promise((r) => setTimeout(r, 10));
    }
    // Now keep editing one line (same length, so no line moves) while hovering: bursts of three
    // keystrokes 40 ms apart, then a pause longer than the server's debounce, so each burst is re-analysed.
    let typing = true;
    const typist = (async () => {
      let d = 0;
      for (let key = 0; typing; key++) {
        if (key % 3 === 0) await new Promise((r) => setTimeout(r, 260));
        d = (d + 1) % 10;
        const next = lines[editLine].replace(/new Dense\(2, \d+\)/, `new Dense(2, 1${d})`);
        text = text.replace(lines[editLine], next);
        lines[editLine] = next;
        version++;
        await conn.sendNotification("textDocument/didChange", {
          textDocument: { uri, version },
          contentChanges: [{ range: { start: { line: editLine, character: 0 }, end: { line: editLine, character: next.length } }, text: next }],
        });
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const before = published;
    const busy = [];
    for (let k = 0; k < n; k++) {
      busy.push(await hover());
      await new Promise((r) => setTimeout(r, 10));
    }
    typing = false;
    await typist;
    return { idle: summary(idle), whileAnalysing: summary(busy), analysesPublished: published - before };
  } finally {
    conn.dispose();
    child.kill();
  }
}

/** The tables run.mjs prints for this part (`table(title, head, rows, notes)` is run.mjs's printer). */
export function shapesTables(r, table) {
  if (!r) return;
  const ms = (t) => (t === undefined ? "—" : t.median >= 10 ? t.median.toFixed(1) : t.median.toFixed(2));
  const p = (t, k) => (t === undefined ? "—" : t[k] >= 10 ? t[k].toFixed(1) : t[k].toFixed(2));
  const t = r.inProcess?.tasks ?? {};
  const row = (label, x) => [label, p(x, "min"), ms(x), p(x, "p75"), p(x, "max")];
  const rows = [
    row("TypeScript parse only (the floor)", t["parse only"]),
    row(`analysis per change (${r.inProcess?.lines ?? "?"} lines: parse + analysis + results)`, t["analysis per change"]),
    row("  the same, CPU time of this thread", t["analysis per change (CPU)"]),
    row("one hover rendered on demand", t["one hover rendered"]),
  ];
  if (r.worker?.roundTrip) {
    rows.push(row("the analysis inside the worker thread (dist/shapesWorker.js)", r.worker.analysisInWorker));
    rows.push(row("through the worker thread (post text → result back)", r.worker.roundTrip));
    rows.push(row("  a hover from the worker (round trip)", r.worker.hoverRoundTrip));
  }
  const verdict = (x) => (x === undefined ? "not measured" : `${ms(x)} ms, ${x.median <= 50 ? "met" : "NOT met"}`);
  const load = r.load ? `load average ${r.load.start} at the start, ${r.load.end} at the end, on ${r.load.cpus} CPUs` : "load unknown";
  table("Static shape analysis of a 1,000-line model (test/bench/shapes.mjs): ms", ["", "min", "median", "p75", "max"], rows, [
    `Budget, at most 50 ms per change: median wall time ${verdict(t["analysis per change"])}; median CPU time ${verdict(t["analysis per change (CPU)"])} (${load}; wall time includes waiting for other processes).`,
    `${r.inProcess?.calls ?? "?"} layer calls followed, ${r.inProcess?.facts ?? "?"} hovers ready; the worker starts and analyses the file the first time in ${r.worker?.startAndFirstMs?.toFixed(0) ?? "?"} ms.`,
  ]);
  if (r.server?.idle) {
    const s = r.server;
    table("Language server: a hover the last run answers, over stdio (ms)", ["", "median", "p95", "max"], [
      ["idle", ms(s.idle), p(s.idle, "p95"), p(s.idle, "max")],
      [`while the file is re-analysed after every edit (${s.analysesPublished} analyses published)`, ms(s.whileAnalysing), p(s.whileAnalysing, "p95"), p(s.whileAnalysing, "max")],
    ]);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const write = args.find((a) => a.startsWith("--write="))?.slice(8);
  if (write) {
    fs.writeFileSync(write, bigModel(1000, 0));
    process.exit(0);
  }
  const os = await import("node:os");
  const start = os.loadavg()[0].toFixed(2);
  const result = { inProcess: await measureInProcess(quick), worker: await measureWorker(quick), server: await measureServer(quick) };
  result.load = { start, end: os.loadavg()[0].toFixed(2), cpus: os.availableParallelism?.() ?? os.cpus().length };
  console.log(`@@RESULT ${JSON.stringify(result)}`);
}
