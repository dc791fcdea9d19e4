#!/usr/bin/env node
/**
 * The product's own run, as whole processes (part of `npm run bench`, run by run.mjs; or alone):
 *
 * - `backprop-lens check examples/05-spiral-training.ts` (the CLI: compile, the model process and its
 *   worker, the tracer, the gradient checks, the report) against the same file run untraced in plain
 *   Node (bundled with esbuild, "backprop-lens" resolved to the engine, no tracer);
 * - the same with `backprop-lens run` (no gradient checks);
 * - compile and start: the CLI on a model of one tiny Dense forward, against that model in plain Node,
 *   and `node -e 0` (Node's own start).
 *
 * The variants alternate run by run (so load from elsewhere falls on all of them); the figure is the
 * median wall time of `--runs` runs (default 5, --quick 3). Needs a built dist/ (`npm run build`).
 * Prints one line `@@RESULT <json>`.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const outDir = path.join(root, "out", "bench");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const runs = Number(args.find((a) => a.startsWith("--runs="))?.slice(7) ?? (quick ? 3 : 5));

function log(msg) {
  process.stderr.write(`[process] ${msg}\n`);
}

const cli = path.join(root, "dist", "cli.js");
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

const variants = {
  "plain Node, untraced": [process.execPath, [plainExample]],
  "CLI check (gradient checks)": [process.execPath, [cli, "check", example]],
  "CLI run": [process.execPath, [cli, "run", example]],
  "node -e 0": [process.execPath, ["-e", "0"]],
  "tiny model, plain Node": [process.execPath, [plainTiny]],
  "tiny model, CLI run": [process.execPath, [cli, "run", tiny]],
};

const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const names = Object.keys(variants);
for (let r = 0; r < runs; r++) {
  for (let j = 0; j < names.length; j++) {
    const name = names[(j + r) % names.length];
    const [cmd, cmdArgs] = variants[name];
    const t0 = performance.now();
    const res = spawnSync(cmd, cmdArgs, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
    const ms = performance.now() - t0;
    if (res.status !== 0) {
      log(`${name} failed (exit ${res.status}): ${(res.stderr ?? "").slice(0, 400)}`);
      process.exit(1);
    }
    times[name].push(ms);
  }
  log(`round ${r + 1} of ${runs}: ${names.map((n) => `${n} ${times[n][r].toFixed(0)} ms`).join(", ")}`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const result = { runs, timings: Object.fromEntries(names.map((n) => [n, { median: median(times[n]), min: Math.min(...times[n]), max: Math.max(...times[n]), raw: times[n] }])) };
process.stdout.write(`@@RESULT ${JSON.stringify({ process: result })}\n`);
