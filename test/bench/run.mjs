#!/usr/bin/env node
/**
 * `npm run bench`: the engine against TensorFlow.js (CPU and WASM backends), NumPy and PyTorch on the
 * same training steps, in one run, printed as tables with ratios.
 *
 *   node test/bench/run.mjs [--quick] [--markdown] [--rounds=2] [--only=engine,tfjs-cpu,tfjs-wasm,python,process,inspector,shapes,debugger]
 *                           [--engine-only=steps,softmax,trace,kernel,gradcheck] [--from=out/bench/results.json]
 *
 * Each implementation runs in its own process, one after the other (never two at once: they would
 * share the cores): the engine (test/bench/engine.ts, bundled here with esbuild into out/bench/engine.cjs),
 * TF.js with its CPU backend, TF.js with its WASM backend (test/bench/tfjs.mjs), and Python
 * (test/bench/numpy_bench.py) with one BLAS thread, when a Python with NumPy or PyTorch is found
 * (BENCH_PYTHON, then `python3` on PATH, /usr/bin/python3, `python`). Each child prints one
 * `@@RESULT <json>` line; the tables are made from those, and everything is also written to
 * out/bench/results.json. `--markdown` prints the tables as Markdown (for docs/performance.md).
 *
 * Then the product's own run as whole processes (test/bench/process.mjs: the CLI on the spiral training
 * example against the same loop untraced in plain Node, as the median of per-round ratios, and the start
 * of a run through runModel, warm spare and cold), which needs a built dist/; and the inspector in the
 * real VS Code (test/bench/inspectorTiming.mjs: first cards and every card drawn; needs code-server).
 * The "Targets" block at the end prints every target of issue 11 with its figure.
 *
 * The training steps are measured in `--rounds` rounds (default 2; each implementation once per round,
 * with half the time budget) and the samples of all rounds pooled: load from other processes that comes
 * and goes then falls on every implementation rather than on whichever ran at that moment.
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
const markdown = args.includes("--markdown");
const only = args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const engineOnly = args.find((a) => a.startsWith("--engine-only="))?.slice(14);
/** `--from=out/bench/results.json`: print the tables of an earlier run instead of measuring. */
const from = args.find((a) => a.startsWith("--from="))?.slice(7);
const want = (s) => only === undefined || only.includes(s);
const started = Date.now();

function note(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

// ------------------------------------------------------------------ machine

function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"));
    if (m) return m[1].trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? "unknown";
}

const machine = {
  date: new Date().toISOString(),
  cpus: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
  cpuModel: cpuModel(),
  node: process.version,
  v8: process.versions.v8,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  loadAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
};

// ------------------------------------------------------------------ children

/** Runs a child; returns the parsed `@@RESULT` object or undefined (and says why). */
function runChild(label, cmd, cmdArgs, env = {}) {
  note(`${label}: ${[cmd, ...cmdArgs].join(" ")}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, cmdArgs, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.error) {
    note(`${label}: could not start (${r.error.message})`);
    return undefined;
  }
  const line = (r.stdout ?? "").split("\n").find((l) => l.startsWith("@@RESULT "));
  if (r.status !== 0 || line === undefined) {
    note(`${label}: failed (exit ${r.status}) after ${secs} s`);
    return undefined;
  }
  note(`${label}: done in ${secs} s`);
  return JSON.parse(line.slice("@@RESULT ".length));
}

async function buildEngineBench() {
  // The engine's WebAssembly kernels are assembled from core/ops/wasm/kernels.wat first.
  const { writeKernels } = await import("../../core/ops/wasm/assemble.mjs");
  await writeKernels();
  const esbuild = await import("esbuild");
  fs.mkdirSync(outDir, { recursive: true });
  // CommonJS, like every bundle the product ships (extension, worker, CLI, npm package).
  const outfile = path.join(outDir, "engine.cjs");
  await esbuild.build({
    entryPoints: [path.join(here, "engine.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile,
    sourcemap: true,
    logLevel: "warning",
  });
  return outfile;
}

/** Which interpreters have NumPy and PyTorch. */
function findPythons() {
  const candidates = [process.env.BENCH_PYTHON, "python3", "/usr/bin/python3", "python"].filter(Boolean);
  const probe =
    "import json, os, sys, importlib.util as u; print(json.dumps({'exe': os.path.realpath(sys.executable), 'version': sys.version.split()[0], " +
    "'numpy': u.find_spec('numpy') is not None, 'torch': u.find_spec('torch') is not None}))";
  const seen = new Map();
  for (const c of candidates) {
    const r = spawnSync(c, ["-c", probe], { encoding: "utf8" });
    if (r.status !== 0) continue;
    try {
      const info = JSON.parse(r.stdout.trim());
      if (!seen.has(info.exe)) seen.set(info.exe, { ...info, command: c });
    } catch {
      // not a Python we understand
    }
  }
  return [...seen.values()];
}

let results = { machine, engine: undefined, tfjs: [], python: undefined, pythons: [], process: undefined };
const rounds = from ? 0 : quick ? 1 : Math.max(1, Number(args.find((a) => a.startsWith("--rounds="))?.slice(9) ?? 2));
machine.rounds = rounds;
const scaleArg = rounds > 1 ? [`--scale=${(1 / rounds).toFixed(3)}`] : [];

/** Pools the raw samples of a timing from several rounds (median of everything). */
function pool(timings) {
  const t = timings.filter(Boolean);
  if (t.length === 0) return undefined;
  const raw = t.flatMap((x) => x.raw ?? []);
  if (raw.length === 0) return t[0];
  const s = [...raw].sort((a, b) => a - b);
  const q = (p) => {
    const x = (s.length - 1) * p;
    const i = Math.floor(x);
    return s[i] + (x - i) * ((s[Math.min(i + 1, s.length - 1)] ?? s[i]) - s[i]);
  };
  return { median: q(0.5), p25: q(0.25), p75: q(0.75), min: s[0], samples: s.length, rounds: t.length, roundMedians: t.map((x) => x.median) };
}

/** Merges `steps` arrays of several rounds by workload id. */
function mergeSteps(list, keys = ["timing"]) {
  const first = list.find(Boolean);
  if (!first) return undefined;
  return first.map((s) => {
    const same = list.map((r) => r?.find((x) => x.id === s.id));
    const out = { ...s };
    for (const k of keys) out[k] = pool(same.map((x) => x?.[k]));
    return out;
  });
}

let pythonPlan = [];
const threads = { OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1", VECLIB_MAXIMUM_THREADS: "1" };
if (want("python") && !from) {
  const pythons = findPythons();
  results.pythons = pythons;
  for (const p of pythons) note(`python: ${p.exe} (${p.version}) numpy ${p.numpy ? "yes" : "no"}, torch ${p.torch ? "yes" : "no"}`);
  const np = pythons.find((p) => p.numpy);
  const th = pythons.find((p) => p.torch);
  if (np && th && np.exe === th.exe) pythonPlan = [[np, []]];
  else pythonPlan = [...(np ? [[np, ["--skip-torch"]]] : []), ...(th ? [[th, ["--skip-numpy"]]] : [])];
  if (!np) note("no Python with NumPy found: NumPy columns skipped");
  if (!th) note("no Python with PyTorch found: PyTorch columns skipped");
}

const engineRounds = [];
const tfjsRounds = { cpu: [], wasm: [] };
const pyRounds = [];
let engineBundle;
for (let r = 0; r < rounds; r++) {
  note(`round ${r + 1} of ${rounds}`);
  if (want("engine")) {
    engineBundle ??= await buildEngineBench();
    // The interleaved comparisons (softmax, trace, kernel) run once, in the first round.
    const sections = r === 0 ? engineOnly : "steps";
    if (r === 0 || engineOnly === undefined || engineOnly.split(",").includes("steps")) {
      engineRounds.push(runChild("engine", process.execPath, [engineBundle, ...(quick ? ["--quick"] : []), ...scaleArg, ...(sections ? [`--only=${sections}`] : [])]));
    }
  }
  for (const b of ["cpu", "wasm"]) {
    if (want(`tfjs-${b}`)) tfjsRounds[b].push(runChild(`TF.js ${b}`, process.execPath, [path.join(here, "tfjs.mjs"), b, ...(quick ? ["--quick"] : []), ...scaleArg]));
  }
  for (const [p, extra] of pythonPlan) {
    const script = path.join(here, "numpy_bench.py");
    const r2 = runChild(`python ${p.exe}`, p.command, [script, ...(quick ? ["--quick"] : []), ...scaleArg, ...(r > 0 ? ["--steps-only"] : []), ...extra], threads);
    if (r2) pyRounds.push(r2);
  }
}

if (want("process") && !from) {
  const r = runChild("process", process.execPath, [path.join(here, "process.mjs"), ...(quick ? ["--quick"] : [])]);
  if (r) results.process = r.process;
}

// The inspector in the real VS Code (code-server + Chromium; test/bench/inspectorTiming.mjs): first cards and every card drawn.
if (want("inspector") && !from) {
  const r = runChild("inspector", process.execPath, [path.join(here, "inspectorTiming.mjs"), "--result", `--runs=${quick ? 3 : 5}`]);
  if (r) results.inspector = r.inspector;
  else note("inspector: not measured (it needs code-server and Chromium: bash .ci/setup)");
}

if (engineRounds.length) {
  const first = engineRounds.find(Boolean);
  if (first) results.engine = { ...first, steps: mergeSteps(engineRounds.map((e) => e?.steps), ["timing", "timingNoFirstDinputs"]) };
}
for (const b of ["cpu", "wasm"]) {
  const list = tfjsRounds[b].filter(Boolean);
  if (list.length) results.tfjs.push({ ...list[0], steps: mergeSteps(list.map((x) => x.steps)) });
}
if (want("python") && !from) {
  const merged = { results: [], errors: [...new Set(pyRounds.flatMap((x) => x.errors))], used: [...new Set(pyRounds.map((x) => x.python))] };
  for (const impl of ["numpy", "torch"]) {
    const list = pyRounds.flatMap((x) => x.results.filter((y) => y.impl === impl).map((y) => ({ ...y, python: x.python, pythonVersion: x.pythonVersion })));
    if (list.length) merged.results.push({ ...list[0], steps: mergeSteps(list.map((x) => x.steps)) });
  }
  results.python = merged;
}
// The static shape analysis (test/bench/shapes.mjs, its own child process and tables).
if (want("shapes") && !from) results.shapes = runChild("shapes", process.execPath, [path.join(here, "shapes.mjs"), ...(quick ? ["--quick"] : [])]);

if (from) {
  results = JSON.parse(fs.readFileSync(path.resolve(from), "utf8"));
  Object.assign(machine, results.machine);
} else {
  machine.loadAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  machine.seconds = Math.round((Date.now() - started) / 1000);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "results.json"), JSON.stringify(results, null, 2));
}

// ------------------------------------------------------------------ tables

const ms = (t) => (t === undefined ? "—" : t.median >= 100 ? t.median.toFixed(0) : t.median >= 10 ? t.median.toFixed(1) : t.median >= 1 ? t.median.toFixed(2) : t.median.toFixed(3));
const gf = (flops, t) => (t === undefined ? "" : ` (${(flops / (t.median * 1e6)).toFixed(1)})`);
const ratio = (a, b) => (a === undefined || b === undefined ? "—" : `${(a.median / b.median).toFixed(a.median / b.median >= 10 ? 0 : 1)}×`);
const pct = (t, base) => {
  if (t === undefined || base === undefined) return "—";
  const p = (t.median / base.median - 1) * 100;
  return `${p >= 0 ? "+" : "−"}${Math.abs(p).toFixed(0)}%`;
};

function table(title, head, rows, notes = []) {
  const lines = [];
  if (markdown) {
    lines.push(`**${title}**`, "");
    lines.push(`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
    for (const r of rows) lines.push(`| ${r.join(" | ")} |`);
    if (notes.length) lines.push("", ...notes.map((n) => `${n}  `));
  } else {
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
    const fmt = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join("  ");
    lines.push(title, fmt(head), w.map((x) => "-".repeat(x)).join("  "), ...rows.map(fmt));
    if (notes.length) lines.push(...notes.map((n) => `  ${n}`));
  }
  console.log(lines.join("\n") + "\n");
}

// The debugger's cost when no breakpoint is hit (test/bench/debugger.ts, owned by the debugger's code).
let debuggerBench;
if (want("debugger") && !from) {
  const esbuild = await import("esbuild");
  const outfile = path.join(outDir, "debugger.cjs");
  await esbuild.build({ entryPoints: [path.join(here, "debugger.ts")], bundle: true, platform: "node", format: "cjs", target: "node20", outfile, logLevel: "warning" });
  debuggerBench = runChild("debugger", process.execPath, [outfile, ...(quick ? ["--quick"] : [])]);
}

const byImpl = (impl) => (impl === "numpy" || impl === "torch" ? results.python?.results.find((r) => r.impl === impl) : results.tfjs.find((r) => r.impl === impl));
const stepOf = (impl, id) => byImpl(impl)?.steps?.find((s) => s.id === id)?.timing;
const eng = results.engine;
const engSteps = eng?.steps ?? [];
const numpyRes = byImpl("numpy");
const torchRes = byImpl("torch");

console.log(
  `${markdown ? "" : "Backprop Lens benchmark — "}${machine.date.slice(0, 10)}, ${machine.cpus} vCPU ${machine.cpuModel}, Node ${machine.node} (V8 ${machine.v8}), ` +
    `load average ${machine.loadAtStart[0]} at start, ${machine.loadAtEnd[0]} at end, ${machine.seconds} s${quick ? " (--quick)" : ""}\n`,
);

if (engSteps.length) {
  const heads = ["workload", "MFLOP", "engine f64", "engine f64, TypeScript kernels", "TF.js CPU f32", "TF.js WASM f32"];
  if (numpyRes) heads.push("NumPy f64");
  if (torchRes) heads.push("PyTorch f32");
  const rows = engSteps.map((s) => {
    const r = [s.title, (s.flops / 1e6).toFixed(2), ms(s.timing) + gf(s.flops, s.timing), ms(s.timingTypeScript) + gf(s.flops, s.timingTypeScript)];
    for (const impl of ["tfjs-cpu", "tfjs-wasm"]) r.push(ms(stepOf(impl, s.id)) + gf(s.flopsNoFirstDinputs, stepOf(impl, s.id)));
    if (numpyRes) r.push(ms(stepOf("numpy", s.id)) + gf(s.flops, stepOf("numpy", s.id)));
    if (torchRes) r.push(ms(stepOf("torch", s.id)) + gf(s.flopsNoFirstDinputs, stepOf("torch", s.id)));
    return r;
  });
  table("Full SGD step (forward, loss, backward, update): median ms per step (GFLOP/s of the matrix products)", heads, rows, [
    "MFLOP: the step's matrix products as the book computes them (every layer's dinputs). TF.js and PyTorch skip the first layer's dinputs; their GFLOP/s count only what they compute.",
    "TF.js and PyTorch compute in float32, the engine and NumPy in float64. One thread everywhere.",
    "engine f64: the WebAssembly SIMD kernels (what the worker and the CLI run); TypeScript kernels: the same step with them switched off (the fallback).",
  ]);

  const rh = ["workload", "vs TF.js CPU", "vs TF.js WASM"];
  if (numpyRes) rh.push("vs NumPy");
  if (torchRes) rh.push("vs PyTorch");
  const rrows = [];
  for (const s of engSteps) {
    const r = [s.title, ratio(stepOf("tfjs-cpu", s.id), s.timing), ratio(stepOf("tfjs-wasm", s.id), s.timing)];
    if (numpyRes) r.push(ratio(stepOf("numpy", s.id), s.timing));
    if (torchRes) r.push(ratio(stepOf("torch", s.id), s.timing));
    rrows.push(r);
  }
  for (const s of engSteps) {
    const r = [`${s.id} engine without the first layer's dinputs (${ms(s.timingNoFirstDinputs)} ms)`, ratio(stepOf("tfjs-cpu", s.id), s.timingNoFirstDinputs), ratio(stepOf("tfjs-wasm", s.id), s.timingNoFirstDinputs)];
    if (numpyRes) r.push("—");
    if (torchRes) r.push(ratio(stepOf("torch", s.id), s.timingNoFirstDinputs));
    rrows.push(r);
  }
  table("How many times faster the engine is (peer's median ÷ engine's median; below 1× the peer is faster)", rh, rrows, [
    "The last rows are a side measurement: the same step with the first layer's dinputs (which nobody needs) left out, as TF.js and PyTorch do.",
  ]);
}

if (eng?.softmax) {
  const heads = ["softmax + CCE backward", "engine combined", "engine separate", "separate ÷ combined"];
  const npSm = numpyRes?.softmax;
  if (npSm) heads.push("NumPy combined", "NumPy separate", "NumPy separate ÷ combined", "engine vs NumPy (combined)");
  const rows = eng.softmax.map((s) => {
    const r = [`${s.n}×${s.k}`, ms(s.combined), ms(s.separate), ratio(s.separate, s.combined)];
    const n = npSm?.find((x) => x.n === s.n && x.k === s.k);
    if (npSm) r.push(ms(n?.combined), ms(n?.separate), ratio(n?.separate, n?.combined), ratio(n?.combined, s.combined));
    return r;
  });
  table("The book's two backward paths through softmax + cross-entropy: median ms", heads, rows, [
    "combined: SoftmaxCategoricalCrossentropy.backward, (ŷ − y)/n. separate: CategoricalCrossentropy.backward (−y/ŷ/n) then Softmax.backward.",
    "The engine's Softmax.backward applies each sample's Jacobian as s ⊙ g − s (s·g) without building it; the book's NumPy code builds diag(s) − s·sᵀ per sample in a Python loop.",
    `Largest |combined − separate|: ${eng.softmax.map((s) => `${s.n}×${s.k} ${s.maxDiff.toExponential(1)}`).join(", ")}.`,
  ]);
}

if (eng?.trace) {
  const names = Object.keys(eng.trace[0]?.timings ?? {});
  const rows = eng.trace.map((t) => [t.title, ...names.map((n) => (n === "untraced" ? `${ms(t.timings[n])} ms` : `${ms(t.timings[n])} ms (${pct(t.timings[n], t.timings.untraced)})`))]);
  table("Tracing overhead (steady state, after the 3 kept steps): median ms per step", ["workload", ...names], rows, [
    "traced: TraceRecorder({ sink: { emit() {} }, keepSteps: 3 }) installed before the layers are built, as the runner does. Target: at most +20%.",
    "frame sites: a site provider that captures V8's structured frames on every call (the runner's method, without its cached source-map lookup); Error().stack sites: the formatted stack string instead.",
    "Steps below 100 also compute every gradient's norm (isSampled), then ever fewer.",
  ]);
}

if (eng?.kernel) {
  const rows = eng.kernel.map((k) => [
    k.name,
    `${k.M}×${k.N}×${k.K}`,
    `${ms(k.wasm)}${gf(k.flops, k.wasm)}`,
    `${ms(k.typescript)}${gf(k.flops, k.typescript)}`,
    ratio(k.typescript, k.wasm),
  ]);
  table("The matrix-multiply kernel alone (gemm, float64, random dense operands): median ms (GFLOP/s)", ["product", "M×N×K", "WebAssembly SIMD", "TypeScript", "speed-up"], rows, [
    "WebAssembly: copying the operands into the module's memory and the result out is included.",
  ]);
}

if (eng?.gradcheck) {
  const g = eng.gradcheck;
  table(
    `Gradient check of a ${g.layer} on ${g.samples} samples (${g.maxElements} elements of each gradient): median ms`,
    ["method", "forward passes", "ms"],
    [
      ["by independent parts (built-in forward)", String(g.forwardsParts), ms(g.parts)],
      ["one element at a time (a forward the check does not know)", String(g.forwardsSingle), ms(g.single)],
    ],
  );
}

const proc = results.process;
const pt = (name) => proc?.timings?.[name];
/** The median of the per-round ratios (process.mjs), or, for results.json files of older runs, the ratio of the medians. */
const procRatio = (label, num) => proc?.ratios?.[label]?.median ?? (pt(num) && pt("plain Node, untraced") ? pt(num).median / pt("plain Node, untraced").median : undefined);
const fixedMs = () => proc?.fixedCostMs?.median ?? (pt("tiny model, CLI run") ? pt("tiny model, CLI run").median - pt("tiny model, plain Node").median : undefined);
if (proc) {
  const rows = Object.entries(proc.timings).map(([name, t]) => [name, `${t.median.toFixed(0)} ms`, `${t.min.toFixed(0)}–${t.max.toFixed(0)} ms`]);
  const r = (label) => proc.ratios?.[label];
  const rr = (label) => (r(label) ? `${r(label).median.toFixed(2)}× (per round ${r(label).min.toFixed(2)}–${r(label).max.toFixed(2)}×)` : "—");
  table(`The product's own run, whole processes: median wall time of ${proc.runs} rounds (each round runs the variants back to back, rotating)`, ["process", "median", "range"], rows, [
    `CLI check ÷ plain Node: ${rr("CLI check ÷ plain Node")}; CLI run ÷ plain Node: ${rr("CLI run ÷ plain Node")}${r("baseline CLI check ÷ plain Node") ? `; baseline CLI check ÷ plain Node: ${rr("baseline CLI check ÷ plain Node")}` : ""} (examples/05-spiral-training.ts, 10,001 steps; the median of the rounds' ratios).`,
    `The CLI's fixed cost (tiny model, CLI run − plain Node, per round): ${fixedMs()?.toFixed(0) ?? "—"} ms; Node's own start: ${pt("node -e 0").median.toFixed(0)} ms.${proc.loadAtStart ? ` Load average ${proc.loadAtStart[0]} at the start, ${proc.loadAtEnd?.[0]} at the end.` : ""}`,
  ]);
  if (proc.start) {
    const st = proc.start;
    const row = (k, label) => [label, `${st[k].startMs.median.toFixed(0)} ms`, `${st[k].startMs.min.toFixed(0)}–${st[k].startMs.max.toFixed(0)} ms`, `${st[k].compileMs.median.toFixed(0)} ms`, `${st[k].totalMs.median.toFixed(0)} ms`];
    table(
      `Start of a run through runModel (${st.model}): request to the model's first line, ${st.runs} runs each, alternating`,
      ["start", "median", "range", "of which compile", "request to result"],
      [row("warm", "warm (the extension: a spare model process, its worker loaded)"), row("cold", "cold (a process forked for the run: the CLI)")],
      ["The esbuild service is started by a first, unmeasured run (the editor starts it once per window). Compile overlaps the cold process's start."],
    );
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const insp = results.inspector;
if (insp) {
  const range = (xs) => (xs?.length ? `${Math.min(...xs)}–${Math.max(...xs)} ms` : "—");
  const rows = [
    ["spiral example (04-spiral-model.ts), cold: the window's first run", `${insp.spiral.firstCardsColdMs ?? "—"} ms`, "", `${insp.spiral.coldMs} ms`],
    ["spiral example, warm (the next runs)", `${insp.spiral.firstCardsWarmMedianMs} ms`, range(insp.spiral.firstCardsWarmMs), `${insp.spiral.warmMedianMs} ms`],
    ...(insp.dense784?.firstCardsMs ? [["Dense(784, 128) on 256×784 (dense784.ts)", `${insp.dense784.firstCardsMedianMs} ms`, range(insp.dense784.firstCardsMs), `${insp.dense784.allCardsMedianMs} ms`]] : []),
    ...(insp.w2?.firstCardsMs ? [["W2 (test/fixtures/models/w2.ts, 6 layers)", `${median(insp.w2.firstCardsMs)} ms`, range(insp.w2.firstCardsMs), `${median(insp.w2.runMs)} ms`]] : []),
  ];
  table(`The Gradient Inspector in the real VS Code (code-server + Chromium): from the command to the cards, median of ${insp.runs} runs`, ["model", "first cards", "range", "every card drawn"], rows, [
    "first cards: the new run's first layer card in the page and every heatmap in the page drawn; every card drawn: the run done, every layer's card in the page, every heatmap drawn.",
    `W2's largest matrix (${insp.w2?.matrix ?? "784×128"}): drawn in ${insp.w2?.drawMedianMs ?? "—"} ms in the webview; scrolled into view to drawn (fetched from the host as bytes) ${insp.w2?.scrollToDrawnMedianMs ?? "—"} ms. Load average ${insp.load?.[0]} at the start.`,
  ]);
}

// ------------------------------------------------------------------ targets

{
  const lines = [];
  const wasm = (id) => stepOf("tfjs-wasm", id);
  const np = (id) => stepOf("numpy", id);
  const s = (id) => engSteps.find((x) => x.id === id)?.timing;
  const yes = (b) => (b === undefined ? "not measured" : b ? "met" : "NOT met");
  const both = (a, b) => (a === undefined || b === undefined ? undefined : a && b);
  const x = (t, base) => (t === undefined || base === undefined ? "—" : `${(t.median / base.median).toFixed(2)}×`);
  if (engSteps.length) {
    lines.push(`W1 at most 0.8× NumPy's time: ${yes(np("W1") && s("W1") ? s("W1").median <= 0.8 * np("W1").median : undefined)} (engine ${x(s("W1"), np("W1"))} NumPy's time)`);
    const w2a = wasm("W2") && s("W2") ? s("W2").median * 2 <= wasm("W2").median : undefined;
    const w2b = np("W2") && s("W2") ? s("W2").median <= 3 * np("W2").median : undefined;
    lines.push(`W2 at least 2× faster than TF.js WASM and within 3× of NumPy: ${yes(both(w2a, w2b))} (${ratio(wasm("W2"), s("W2"))} faster than TF.js WASM; ${x(s("W2"), np("W2"))} NumPy's time)`);
    lines.push(`W3 at least 4× faster than TF.js WASM: ${yes(wasm("W3") && s("W3") ? s("W3").median * 4 <= wasm("W3").median : undefined)} (${ratio(wasm("W3"), s("W3"))})`);
    for (const t of eng?.trace ?? []) {
      const over = t.timings.traced.median / t.timings.untraced.median - 1;
      lines.push(`tracing costs at most 20% on ${t.id}: ${yes(over <= 0.2)} (${pct(t.timings.traced, t.timings.untraced)}; with a site provider ${pct(t.timings["traced + frame sites"], t.timings.untraced)})`);
    }
  }
  if (proc) {
    const r = procRatio("CLI check ÷ plain Node", "CLI check (gradient checks)");
    lines.push(`the CLI (check, gradient checks included) on examples/05-spiral-training.ts at most 1.2× the untraced loop, whole processes: ${yes(r <= 1.2)} (${r.toFixed(2)}×, the median of ${proc.runs} rounds' ratios)`);
    if (proc.start) {
      const w = proc.start.warm.startMs.median;
      const c = proc.start.cold.startMs.median;
      lines.push(`compile and worker start at most 150 ms, request to the model's first line with the extension's warm spare (the target's measure): ${yes(w <= 150)} (${w.toFixed(0)} ms; cold, a process forked for the run as the CLI does: ${c.toFixed(0)} ms, ${c <= 150 ? "also" : "not"} within 150)`);
    } else {
      const start = fixedMs();
      lines.push(`compile and start at most 150 ms (tiny model, CLI run − plain Node): ${yes(start <= 150)} (${start.toFixed(0)} ms)`);
    }
  }
  const ins = results.inspector;
  if (ins?.dense784 || ins?.spiral) {
    if (ins.dense784) lines.push(`the inspector's first cards of a Dense(784, 128) model on 256×784 data within 1 s of the command: ${yes(ins.dense784.firstCardsMedianMs <= 1000)} (${ins.dense784.firstCardsMedianMs} ms, median of ${ins.dense784.firstCardsMs.length}; every card drawn ${ins.dense784.allCardsMedianMs} ms)`);
    if (ins.spiral) lines.push(`the spiral example's first cards within 300 ms warm: ${yes(ins.spiral.firstCardsWarmMedianMs <= 300)} (${ins.spiral.firstCardsWarmMedianMs} ms, median of ${ins.spiral.firstCardsWarmMs.length}; every card drawn ${ins.spiral.warmMedianMs} ms; cold ${ins.spiral.coldMs} ms)`);
  } else if (want("inspector")) {
    lines.push("the inspector's first cards: not measured (see the inspector section's note)");
  }
  if (lines.length) {
    if (markdown) console.log(["**Targets**", "", ...lines.map((l) => `- ${l}`)].join("\n") + "\n");
    else console.log(["Targets", ...lines.map((l) => `  ${l}`)].join("\n") + "\n");
  }
}

if (debuggerBench?.rows?.length) {
  const t = debuggerBench.rows;
  table(
    "Debugger, no breakpoint hit (median ms per step)",
    ["workload", "untraced", "traced", "traced + debugger", "debugger's cost (% of untraced)"],
    t.map((r) => [r.title, `${ms(r.timings.untraced)} ms`, `${ms(r.timings.traced)} ms`, `${ms(r.timings["traced + debugger"])} ms`, `${(r.overhead * 100).toFixed(1)}%`]),
    ["traced + debugger: the worker-side debugger of a debug run (a line breakpoint no call reaches, `*.backward` with the condition `step == -1`, the default exception filters). Target: at most 10%."],
  );
}

(await import("./shapes.mjs")).shapesTables(results.shapes, table);

const used = [
  eng?.kernels ? `engine kernels: ${eng.kernels.kernels}${eng.kernels.reason ? ` (${eng.kernels.reason})` : ""}` : "",
  results.tfjs.map((t) => `${t.impl} ${t.version}${t.impl === "tfjs-wasm" ? ` (SIMD ${t.wasmSimd}, threads ${t.wasmThreads})` : ""}`).join(", "),
  results.python?.results.map((r) => `${r.impl} ${r.version}${r.blas ? ` (${r.blas})` : ""} on ${r.python} (Python ${r.pythonVersion})`).join(", "),
  results.python?.errors.length ? `Python notes: ${results.python.errors.join("; ")}` : "",
  results.pythons?.length === 0 && want("python") ? "no Python found" : "",
]
  .filter(Boolean)
  .join("\n");
console.log(`${used}\nResults: ${path.relative(root, path.join(outDir, "results.json"))}`);
