#!/usr/bin/env node
/**
 * The product's own run, as whole processes (part of `npm run bench`, run by run.mjs; or alone):
 *
 * - `backprop-lens check examples/05-spiral-training.ts` (the CLI: compile, the model process and its
 *   worker, the tracer, the gradient checks, the report) against the same file run untraced in plain
 *   Node (bundled with esbuild, "backprop-lens" resolved to the engine, no tracer), and the same with
 *   `backprop-lens run` (no gradient checks). Each round runs the three back to back, in an order that
 *   rotates from round to round, and gives one ratio per variant (its time ÷ that round's plain Node);
 *   the figure is the **median of those per-round ratios** over `--runs` rounds (default 9, --quick 3).
 *   A burst of load from elsewhere then spoils one round's ratio, not the median, where the ratio of two
 *   medians would mix rounds that saw different loads.
 * - Node's own start (`node -e 0`), and a model of one tiny Dense forward through the CLI and in plain
 *   Node (the CLI's whole fixed cost), alternating the same way.
 * - What the user waits for at Run (test/bench/startRun.ts): from the run's request to the model's first
 *   line through the real `runModel`, with the extension's warm spare process and cold.
 *
 * Needs a built dist/ (`npm run build`). Prints one line `@@RESULT <json>`.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const outDir = path.join(root, "out", "bench");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const runs = Number(args.find((a) => a.startsWith("--runs="))?.slice(7) ?? (quick ? 3 : 9));
const startRuns = Number(args.find((a) => a.startsWith("--start-runs="))?.slice(13) ?? (quick ? 5 : 15));
/** `--baseline=<dir>`: another build's dist/ (say, main's), run as a fourth variant of the same rounds (before/after in one run). */
const baseline = args.find((a) => a.startsWith("--baseline="))?.slice(11);
/** `--spiral-only`: only the spiral training rounds (no tiny model, no start of a run): a quicker before/after. */
const spiralOnly = args.includes("--spiral-only");
/**
 * `--cpu`: also the CPU time of the thread that ran the model (the worker's, by BACKPROP_LENS_CPU_TIMES;
 * plain Node's main thread, by cpuTimesPreload.cjs), from the run's start to its end, and the time it
 * waited for a CPU. Needs builds that write it (this tree's; a baseline from before it has none).
 */
const cpu = args.includes("--cpu");
const cpuFile = path.join(os.tmpdir(), `bpl-cpu-times-${process.pid}.jsonl`);
const preload = path.join(here, "cpuTimesPreload.cjs");

function log(msg) {
  process.stderr.write(`[process] ${msg}\n`);
}

/** `--dist=<dir>`: the build under test (default dist/), e.g. a copy, so that a rebuild during the run does not change it. */
const distDir = path.resolve(args.find((a) => a.startsWith("--dist="))?.slice(7) ?? path.join(root, "dist"));
const cli = path.join(distDir, "cli.js");
if (!fs.existsSync(cli)) {
  log("dist/cli.js is missing: run npm run build first");
  process.exit(1);
}

fs.mkdirSync(outDir, { recursive: true });
const esbuild = await import("esbuild");
const example = path.join(root, "examples", "05-spiral-training.ts");
const tiny = path.join(outDir, "tiny-model.ts");
fs.writeFileSync(tiny, 'import { Dense } from "backprop-lens";\nconst d = new Dense(2, 3);\nd.forward([[1, 2]]);\nconsole.log(d.output.data.length);\n');
/** The model file as a plain Node program: "backprop-lens" is the engine itself, and nothing traces it. */
async function plainBundle(file, name) {
  const outfile = path.join(outDir, name);
  await esbuild.build({
    entryPoints: [file],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile,
    alias: { "backprop-lens": path.join(root, "core", "index.ts") },
    logLevel: "warning",
  });
  return outfile;
}
const plainExample = await plainBundle(example, "ex05-plain.cjs");
const plainTiny = await plainBundle(tiny, "tiny-plain.cjs");

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), raw: xs });
const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));

/** CPU times of the runs, by variant (with --cpu): { threadCpuMs, threadWaitMs, durationMs }. */
const cpuTimes = {};

function timed(name, cmd, cmdArgs) {
  if (cpu) fs.rmSync(cpuFile, { force: true });
  const plainRun = cpu && cmdArgs[0]?.endsWith(".cjs");
  const env = cpu ? { ...process.env, BACKPROP_LENS_CPU_TIMES: cpuFile } : process.env;
  const t0 = performance.now();
  const res = spawnSync(cmd, plainRun ? ["-r", preload, ...cmdArgs] : cmdArgs, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024, env });
  const ms = performance.now() - t0;
  if (res.status !== 0) {
    log(`${name} failed (exit ${res.status}): ${(res.stderr ?? "").slice(0, 400)}`);
    process.exit(1);
  }
  if (cpu) {
    const lines = fs.existsSync(cpuFile) ? fs.readFileSync(cpuFile, "utf8").trim().split("\n").filter(Boolean) : [];
    const last = lines.length > 0 ? JSON.parse(lines[lines.length - 1]) : undefined;
    (cpuTimes[name] ??= []).push(last);
  }
  return ms;
}

/** Rounds of variants back to back, rotating their order; returns each variant's times. */
function rounds(variants, n, label) {
  const names = Object.keys(variants);
  const times = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + r) % names.length];
      const [cmd, cmdArgs] = variants[name];
      times[name].push(timed(name, cmd, cmdArgs));
    }
    log(`${label} round ${r + 1} of ${n} (load ${load().join(" ")}): ${names.map((k) => `${k} ${times[k][r].toFixed(0)} ms`).join(", ")}`);
  }
  return times;
}

const loadAtStart = load();
const big = rounds(
  {
    "plain Node, untraced": [process.execPath, [plainExample]],
    "CLI check (gradient checks)": [process.execPath, [cli, "check", example]],
    "CLI run": [process.execPath, [cli, "run", example]],
    ...(baseline ? { "baseline CLI check": [process.execPath, [path.resolve(baseline, "cli.js"), "check", example]] } : {}),
  },
  runs,
  "spiral training",
);
if (spiralOnly) {
  const plain = big["plain Node, untraced"];
  const per = (name) => stats(big[name].map((t, i) => t / plain[i]));
  const ratios = {
    "CLI check ÷ plain Node": per("CLI check (gradient checks)"),
    "CLI run ÷ plain Node": per("CLI run"),
    ...(baseline ? { "baseline CLI check ÷ plain Node": per("baseline CLI check"), "CLI check ÷ baseline CLI check": stats(big["CLI check (gradient checks)"].map((t, i) => t / big["baseline CLI check"][i])) } : {}),
  };
  if (cpu) {
    const field = (name, f) => (cpuTimes[name] ?? []).map((x) => x?.[f]);
    const pairs = (a, b) => a.map((x, i) => (x !== undefined && b[i] !== undefined ? x / b[i] : undefined)).filter((x) => x !== undefined);
    const plainCpu = field("plain Node, untraced", "threadCpuMs");
    for (const name of Object.keys(cpuTimes)) {
      const c = field(name, "threadCpuMs").filter((x) => x !== undefined);
      if (c.length === 0) continue;
      log(`${name}: model thread CPU median ${median(c).toFixed(0)} ms (${Math.min(...c).toFixed(0)}–${Math.max(...c).toFixed(0)}), waited for a CPU ${median(field(name, "threadWaitMs").filter((x) => x !== undefined)).toFixed(0)} ms, run ${median(field(name, "durationMs").filter((x) => x !== undefined)).toFixed(0)} ms`);
      if (name !== "plain Node, untraced") {
        const r = pairs(field(name, "threadCpuMs"), plainCpu);
        if (r.length > 0) ratios[`${name}: model thread CPU ÷ plain Node's`] = stats(r);
      }
    }
    if (cpuTimes["baseline CLI check"]?.some((x) => x?.threadCpuMs !== undefined)) ratios["CLI check ÷ baseline CLI check: model thread CPU"] = stats(pairs(field("CLI check (gradient checks)", "threadCpuMs"), field("baseline CLI check", "threadCpuMs")));
  }
  for (const [k, v] of Object.entries(ratios)) log(`${k}: median ${v.median.toFixed(3)} (${v.min.toFixed(3)}–${v.max.toFixed(3)})`);
  process.stdout.write(`@@RESULT ${JSON.stringify({ process: { runs, loadAtStart, loadAtEnd: load(), timings: Object.fromEntries(Object.entries(big).map(([n, xs]) => [n, stats(xs)])), ratios, ...(cpu ? { cpuTimes } : {}) } })}\n`);
  process.exit(0);
}
const small = rounds(
  {
    "node -e 0": [process.execPath, ["-e", "0"]],
    "tiny model, plain Node": [process.execPath, [plainTiny]],
    "tiny model, CLI run": [process.execPath, [cli, "run", tiny]],
  },
  runs * 2,
  "tiny model",
);
const perRound = (num, den) => num.map((t, i) => t / den[i]);
const plain = big["plain Node, untraced"];
const ratios = {
  "CLI check ÷ plain Node": stats(perRound(big["CLI check (gradient checks)"], plain)),
  "CLI run ÷ plain Node": stats(perRound(big["CLI run"], plain)),
  ...(baseline
    ? {
        "baseline CLI check ÷ plain Node": stats(perRound(big["baseline CLI check"], plain)),
        "CLI check ÷ baseline CLI check": stats(perRound(big["CLI check (gradient checks)"], big["baseline CLI check"])),
      }
    : {}),
};
const fixed = stats(small["tiny model, CLI run"].map((t, i) => t - small["tiny model, plain Node"][i]));

// What the user waits for at Run: runModel's start time, warm spare and cold.
const startBundle = path.join(outDir, "startRun.cjs");
await esbuild.build({
  entryPoints: [path.join(here, "startRun.ts")],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  outfile: startBundle,
  external: ["esbuild"],
  logLevel: "warning",
});
const startModel = path.join(root, "examples", "04-spiral-model.ts");
const sr = spawnSync(process.execPath, [startBundle, distDir, startModel, String(startRuns)], { cwd: root, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
const line = sr.stdout?.split("\n").find((l) => l.startsWith("@@RESULT "));
if (sr.status !== 0 || !line) {
  log(`startRun failed (exit ${sr.status}): ${(sr.stderr ?? "").slice(0, 400)}`);
  process.exit(1);
}
const startRun = JSON.parse(line.slice(9)).startRun;
const start = Object.fromEntries(
  Object.entries(startRun.samples).map(([k, xs]) => [k, { startMs: stats(xs.map((s) => s.startMs)), compileMs: stats(xs.map((s) => s.compileMs)), totalMs: stats(xs.map((s) => s.totalMs)) }]),
);
log(`start of a run (${startRun.model}, ${startRuns} each): warm ${start.warm.startMs.median.toFixed(0)} ms, cold ${start.cold.startMs.median.toFixed(0)} ms (median; load ${load().join(" ")})`);

const result = {
  runs,
  loadAtStart,
  loadAtEnd: load(),
  timings: Object.fromEntries([...Object.entries(big), ...Object.entries(small)].map(([n, xs]) => [n, stats(xs)])),
  ratios,
  fixedCostMs: fixed,
  start: { model: startRun.model, runs: startRuns, ...start },
};
process.stdout.write(`@@RESULT ${JSON.stringify({ process: result })}\n`);
