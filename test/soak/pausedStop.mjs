#!/usr/bin/env node
// Stop while paused in the debugger (issue 12, contract 6): a debug run of examples/05-spiral-training.ts
// with the real worker and debugger (dist/worker.js), stopped on entry — the model's thread blocked in
// Atomics.wait — and then stopped. Measures, 20 times, the time from Stop to the run's end and to the
// model process's exit (the process is killed: nothing of it is left). Prints the figures as a
// Markdown table row; `npm run soak` runs it after the editor's soak. Expects `npm run build` and
// `tsc -p test/tsconfig.json` (npm run soak does both).
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(import.meta.url);
const { runModel, liveModelWorkers } = require(path.join(repo, "out", "extension", "runner", "runModel.js"));
const { defaultFilters } = require(path.join(repo, "out", "core", "debug", "filters.js"));

const N = Number(process.argv.find((a) => a.startsWith("--runs="))?.slice(7) ?? 20);
const file = path.join(repo, "examples", "05-spiral-training.ts");
const toEnd = [];
const toExit = [];
for (let i = 0; i < N; i++) {
  const h = runModel({ file, workerScript: path.join(repo, "dist", "worker.js"), control: true, timeLimitMs: 60_000 });
  const stopped = new Promise((resolve) => h.onControl((m) => m.type === "debug/stopped" && resolve(m)));
  h.send({ type: "debug/configure", breakpoints: [], filters: defaultFilters(), stopOnEntry: true });
  await stopped;
  await new Promise((r) => setTimeout(r, 100)); // paused for a moment
  const t0 = performance.now();
  h.cancel();
  const r = await h.result;
  toEnd.push(performance.now() - t0);
  while (liveModelWorkers() > 0) await new Promise((res) => setImmediate(res));
  toExit.push(performance.now() - t0);
  if (r.error?.kind !== "cancelled") throw new Error(`run ${i}: ended ${r.error?.kind ?? "ok"}, not stopped`);
}
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(1);
const load = (await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ");
console.log(`Stop while paused in the debugger, ${N} runs (load average ${load}):`);
console.log(`| to the run's end: median ${q(toEnd, 0.5)} ms, max ${q(toEnd, 1)} ms | to the model process's exit: median ${q(toExit, 0.5)} ms, max ${q(toExit, 1)} ms |`);
process.exit(toExit.some((x) => x > 200) ? 1 : 0);
