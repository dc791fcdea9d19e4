#!/usr/bin/env node
/**
 * Self and total time by function from V8 .cpuprofile files (the worker's, written with
 * BACKPROP_LENS_CPU_PROFILE: extension/runner/worker.ts; or any `--cpu-prof` file). With several files, the
 * times are summed over them.
 *
 *   node test/bench/profileSummary.mjs [--top=15] [--markdown] a.cpuprofile [b.cpuprofile …]
 *
 * Self time: the samples in which the function was on top of the stack. Total: the samples in which it
 * was anywhere on the stack (counted once per sample, however often it recurses). Functions are told
 * apart by name, script and line (the bundles keep names; the script is shortened to its base name).
 * `--under=endStep` keeps only the samples with a function of that name on the stack (what it calls).
 */
import fs from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith("--top="))?.slice(6) ?? 15);
const markdown = args.includes("--markdown");
/** `--under=<name>`: only the samples with a function of that name (the part before the script) on the stack. */
const under = args.find((a) => a.startsWith("--under="))?.slice(8);
const files = args.filter((a) => !a.startsWith("--"));
if (files.length === 0) {
  process.stderr.write("usage: node test/bench/profileSummary.mjs [--top=15] [--markdown] file.cpuprofile …\n");
  process.exit(2);
}

const self = new Map();
const total = new Map();
let all = 0;
for (const file of files) {
  const profile = JSON.parse(fs.readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n) => {
    const f = n.callFrame;
    const script = f.url ? path.basename(f.url.replace(/^backprop-lens-model:/, "")) : "";
    return `${f.functionName || "(anonymous)"} ${script}${script ? `:${f.lineNumber + 1}` : ""}`.trim();
  };
  const keys = new Map(profile.nodes.map((n) => [n.id, keyOf(n)]));
  // The stack of keys per leaf node, computed once.
  const stackKeys = new Map();
  const stackOf = (id) => {
    let s = stackKeys.get(id);
    if (s) return s;
    const set = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) set.add(keys.get(at));
    stackKeys.set(id, (s = [...set]));
    return s;
  };
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the time after it (the next delta) is what sample i stands for.
    const dt = (timeDeltas[i + 1] ?? timeDeltas[i] ?? 0) / 1000;
    if (dt < 0) continue;
    const id = samples[i];
    if (!byId.has(id)) continue;
    const k = keys.get(id);
    if (under !== undefined && !stackOf(id).some((s) => s.split(" ")[0] === under)) continue;
    self.set(k, (self.get(k) ?? 0) + dt);
    for (const s of stackOf(id)) total.set(s, (total.get(s) ?? 0) + dt);
    all += dt;
  }
}

const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
const pct = (ms) => `${((100 * ms) / all).toFixed(1)}%`;
if (markdown) {
  process.stdout.write(`| function | self ms | self % | total ms | total % |\n|---|---:|---:|---:|---:|\n`);
  for (const [k, ms] of rows) process.stdout.write(`| \`${k}\` | ${ms.toFixed(0)} | ${pct(ms)} | ${(total.get(k) ?? 0).toFixed(0)} | ${pct(total.get(k) ?? 0)} |\n`);
} else {
  process.stdout.write(`${all.toFixed(0)} ms sampled in ${files.length} profile(s)\n`);
  process.stdout.write(`${"self ms".padStart(9)} ${"self".padStart(6)} ${"total ms".padStart(9)} ${"total".padStart(6)}  function\n`);
  for (const [k, ms] of rows) process.stdout.write(`${ms.toFixed(0).padStart(9)} ${pct(ms).padStart(6)} ${(total.get(k) ?? 0).toFixed(0).padStart(9)} ${pct(total.get(k) ?? 0).padStart(6)}  ${k}\n`);
}
