#!/usr/bin/env node
/**
 * The ratios over several runs of `npm run bench`: each run's ratio, the median of the runs and
 * their range, so one noisy run does not decide a target.
 *
 *   node test/bench/summary.mjs out/bench/run1.json out/bench/run2.json … [--markdown] [--stat=min]
 *
 * `--stat=min` compares the fastest step of each implementation instead of the median step (on a loaded
 * machine the fastest step is the better estimate of an unloaded one; the median is the headline).
 *
 * (Each file is a copy of out/bench/results.json from one run.)
 */
import fs from "node:fs";

const args = process.argv.slice(2);
const markdown = args.includes("--markdown");
const stat = args.find((a) => a.startsWith("--stat="))?.slice(7) === "min" ? "min" : "median";
const files = args.filter((a) => !a.startsWith("--"));
if (files.length === 0) {
  console.error("usage: node test/bench/summary.mjs results1.json results2.json … [--markdown]");
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(fs.readFileSync(f, "utf8")));

const step = (r, impl, id) => {
  if (impl === "engine") return r.engine?.steps?.find((s) => s.id === id)?.timing?.[stat];
  if (impl === "engine-ts") return r.engine?.steps?.find((s) => s.id === id)?.timingTypeScript?.[stat];
  const res = impl === "numpy" || impl === "torch" ? r.python?.results?.find((x) => x.impl === impl) : r.tfjs?.find((x) => x.impl === impl);
  return res?.steps?.find((s) => s.id === id)?.timing?.[stat];
};
const proc = (r, name) => r.process?.timings?.[name]?.[stat];
const trace = (r, id, variant) => {
  const t = r.engine?.trace?.find((x) => x.id === id)?.timings;
  return t && t[variant] && t.untraced ? t[variant][stat] / t.untraced[stat] : undefined;
};

/** [label, (run) => value, target test, how the value reads] */
const rows = [
  ["W1 engine ÷ NumPy (target ≤ 0.8)", (r) => step(r, "engine", "W1") / step(r, "numpy", "W1"), (v) => v <= 0.8, "×"],
  ["W2 TF.js WASM ÷ engine (target ≥ 2)", (r) => step(r, "tfjs-wasm", "W2") / step(r, "engine", "W2"), (v) => v >= 2, "×"],
  ["W2 engine ÷ NumPy (target ≤ 3)", (r) => step(r, "engine", "W2") / step(r, "numpy", "W2"), (v) => v <= 3, "×"],
  ["W3 TF.js WASM ÷ engine (target ≥ 4)", (r) => step(r, "tfjs-wasm", "W3") / step(r, "engine", "W3"), (v) => v >= 4, "×"],
  ["W1 PyTorch ÷ engine", (r) => step(r, "torch", "W1") / step(r, "engine", "W1"), undefined, "×"],
  ["W2 PyTorch ÷ engine", (r) => step(r, "torch", "W2") / step(r, "engine", "W2"), undefined, "×"],
  ["W3 PyTorch ÷ engine", (r) => step(r, "torch", "W3") / step(r, "engine", "W3"), undefined, "×"],
  ["W1 TypeScript kernels ÷ WebAssembly", (r) => step(r, "engine-ts", "W1") / step(r, "engine", "W1"), undefined, "×"],
  ["W2 TypeScript kernels ÷ WebAssembly", (r) => step(r, "engine-ts", "W2") / step(r, "engine", "W2"), undefined, "×"],
  ["W3 TypeScript kernels ÷ WebAssembly", (r) => step(r, "engine-ts", "W3") / step(r, "engine", "W3"), undefined, "×"],
  ["W1 traced ÷ untraced (target ≤ 1.2)", (r) => trace(r, "W1", "traced + frame sites"), (v) => v <= 1.2, "×"],
  ["W2 traced ÷ untraced (target ≤ 1.2)", (r) => trace(r, "W2", "traced + frame sites"), (v) => v <= 1.2, "×"],
  // The median of the per-round ratios where the run has them (process.mjs since 2026-12-02), else the ratio of the medians.
  ["CLI check ÷ plain Node, whole processes (target ≤ 1.2)", (r) => r.process?.ratios?.["CLI check ÷ plain Node"]?.[stat] ?? proc(r, "CLI check (gradient checks)") / proc(r, "plain Node, untraced"), (v) => v <= 1.2, "×"],
  ["start of a run, warm spare: request to first line, ms (target ≤ 150)", (r) => r.process?.start?.warm?.startMs?.[stat], (v) => v <= 150, " ms"],
  ["start of a run, cold (the CLI): request to first line, ms", (r) => r.process?.start?.cold?.startMs?.[stat], undefined, " ms"],
  ["the CLI's fixed cost (tiny model, CLI − plain Node), ms", (r) => r.process?.fixedCostMs?.[stat] ?? proc(r, "tiny model, CLI run") - proc(r, "tiny model, plain Node"), undefined, " ms"],
  ["inspector: Dense(784, 128) on 256×784, first cards, ms (target ≤ 1000)", (r) => r.inspector?.dense784?.firstCardsMedianMs, (v) => v <= 1000, " ms"],
  ["inspector: spiral example warm, first cards, ms (target ≤ 300)", (r) => r.inspector?.spiral?.firstCardsWarmMedianMs, (v) => v <= 300, " ms"],
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (v, unit) => (v === undefined || Number.isNaN(v) ? "—" : unit === " ms" ? `${v.toFixed(0)} ms` : `${v.toFixed(2)}×`);

const head = ["ratio", ...runs.map((r, i) => `run ${i + 1} (load ${r.machine?.loadAtStart?.[0] ?? "?"})`), "median", "verdict"];
const body = [];
for (const [label, f, ok, unit] of rows) {
  const vals = runs.map((r) => {
    try {
      const v = f(r);
      return Number.isFinite(v) ? v : undefined;
    } catch {
      return undefined;
    }
  });
  const have = vals.filter((v) => v !== undefined);
  if (have.length === 0) continue;
  const m = median(have);
  body.push([label, ...vals.map((v) => fmt(v, unit)), fmt(m, unit), ok ? (ok(m) ? "met" : "NOT met") : ""]);
}
if (markdown) {
  console.log(`| ${head.join(" | ")} |`);
  console.log(`|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
  for (const r of body) console.log(`| ${r.join(" | ")} |`);
} else {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join("  ");
  console.log(line(head));
  console.log(w.map((x) => "-".repeat(x)).join("  "));
  for (const r of body) console.log(line(r));
}
