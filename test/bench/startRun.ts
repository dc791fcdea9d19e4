/**
 * What the user waits for when a run starts (part of `npm run bench`, run by process.mjs): from the
 * run's request to the model's first line (`RunResult.startMs`: the compile, and the model process and
 * its worker starting, or a warm spare's hand-over), through the real `runModel` path the extension and
 * the CLI use, in two ways that alternate run by run:
 *
 * - warm: with a `ProcessPool`, as the extension runs models: a spare process, forked and its worker
 *   loaded after the previous run, takes the run (the pool is refilled and the spare ready before the
 *   next request, as it is when a user clicks Run again);
 * - cold: a process forked for the run (as the CLI does, and the extension's very first run when the
 *   spare is not ready yet).
 *
 * The esbuild service is started by a first, unmeasured run (it lives as long as the host: the editor
 * starts it once per window). Bundled by process.mjs into out/bench/startRun.cjs; needs a built dist/.
 * Prints one line `@@RESULT <json>`.
 *
 *   node out/bench/startRun.cjs <dist> <model.ts> <runs>
 */
import { ProcessPool } from "../../extension/runner/supervisor";
import { type RunResult, runModel } from "../../extension/runner/runModel";
import * as path from "node:path";

const [dist = "dist", model = "examples/04-spiral-model.ts", runsArg = "10"] = process.argv.slice(2);
const runs = Number(runsArg);
const workerScript = path.resolve(dist, "worker.js");
const processScript = path.resolve(dist, "modelProcess.js");
const file = path.resolve(model);
const memoryLimitMb = 1024;
const pool = new ProcessPool(processScript);

async function once(warm: boolean): Promise<{ startMs: number; totalMs: number; compileMs: number }> {
  const t0 = performance.now();
  const h = runModel({ file, workerScript, processScript, memoryLimitMb, ...(warm ? { pool } : {}) });
  const r: RunResult = await h.result;
  const totalMs = performance.now() - t0;
  if (!r.ok || r.startMs === undefined) throw new Error(`the run failed: ${r.error?.message ?? "no start time"}`);
  return { startMs: r.startMs, totalMs, compileMs: r.compileMs };
}

/** Waits until the pool's spare (forked after the last run) has loaded its worker. */
async function spareReady(): Promise<void> {
  pool.refill(workerScript, memoryLimitMb, 0);
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 25));
    const spare = (pool as unknown as { spare?: { readyAt?: number } }).spare;
    if (spare?.readyAt !== undefined) break;
  }
  await new Promise((r) => setTimeout(r, 50)); // let its start-up settle, as between two clicks
}

async function main(): Promise<void> {
  await once(false); // starts the esbuild service and warms the file cache
  const samples: Record<"warm" | "cold", { startMs: number; totalMs: number; compileMs: number }[]> = { warm: [], cold: [] };
  for (let i = 0; i < runs; i++) {
    for (const kind of i % 2 === 0 ? (["warm", "cold"] as const) : (["cold", "warm"] as const)) {
      if (kind === "warm") await spareReady();
      else await new Promise((r) => setTimeout(r, 75));
      samples[kind].push(await once(kind === "warm"));
    }
  }
  pool.dispose();
  process.stdout.write(`@@RESULT ${JSON.stringify({ startRun: { model: path.relative(process.cwd(), file), runs, samples } })}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`[startRun] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
