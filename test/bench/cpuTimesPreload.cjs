// Preloaded (node -r) into the plain-Node run of a model by process.mjs --cpu: appends the same JSON line
// as the worker's BACKPROP_LENS_CPU_TIMES (extension/runner/worker.ts) for the main thread, from here to the exit.
"use strict";
const fs = require("node:fs");
const file = process.env.BACKPROP_LENS_CPU_TIMES;
const sched = () => {
  try {
    return fs.readFileSync("/proc/thread-self/schedstat", "utf8").trim().split(/\s+/).map(Number);
  } catch {
    return undefined;
  }
};
if (file) {
  const t0 = performance.now();
  const s0 = sched();
  const c0 = process.cpuUsage();
  process.on("exit", () => {
    const s1 = sched();
    const c = process.cpuUsage(c0);
    const line = { file: "plain", durationMs: performance.now() - t0, ...(s0 && s1 ? { threadCpuMs: (s1[0] - s0[0]) / 1e6, threadWaitMs: (s1[1] - s0[1]) / 1e6 } : {}), processCpuMs: (c.user + c.system) / 1000 };
    fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
  });
}
