/**
 * Test helpers: run models fed from the committed traces in test/fixtures/traces (recorded with
 * `node dist/cli.js run|check <model> --json <trace>`, see that folder's README), with the
 * recording machine's repository path replaced by this checkout's, so sites point at real files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { RunModel } from "../../core/run/runModel";
import { decodeTrace } from "../../core/trace/encode";
import { buildRunReport } from "../../extension/runReport";
import type { LayerReport, RunReport } from "../../extension/server/lspProtocol";

/** This checkout's root (tests run from out/test/server). */
export const ROOT = path.resolve(__dirname, "../../..");

/** A RunModel fed every event of `test/fixtures/traces/<name>.json`, recorded from the model at `model` (relative to the root). */
export function storeFromTrace(name: string, model: string, runId = 1): RunModel {
  let text = fs.readFileSync(path.join(ROOT, "test/fixtures/traces", `${name}.json`), "utf8");
  const recorded = decodeTrace(text).file;
  const suffix = model.split("/").join(path.sep);
  const oldRoot = recorded.endsWith(suffix) ? recorded.slice(0, recorded.length - suffix.length) : undefined;
  if (oldRoot === undefined) throw new Error(`trace ${name} was not recorded from ${model} (file ${recorded})`);
  const esc = (s: string): string => JSON.stringify(s).slice(1, -1);
  text = text.split(esc(oldRoot)).join(esc(ROOT + path.sep));
  const trace = decodeTrace(text);
  const store = new RunModel({ runId, file: trace.file, startedAt: 1_700_000_000_000 });
  for (const e of trace.events) store.ingest(e);
  return store;
}

/** The report of a committed trace. */
export function reportFromTrace(name: string, model: string, runId = 1): RunReport {
  return buildRunReport(storeFromTrace(name, model, runId));
}

/** Absolute path of a file of this checkout. */
export function abs(rel: string): string {
  return path.join(ROOT, rel);
}

/** The lines of a file of this checkout. */
export function linesOf(rel: string): string[] {
  return fs.readFileSync(abs(rel), "utf8").split(/\r\n|\r|\n/);
}

const NO_STATS = { size: 0, min: 0, max: 0, mean: 0, std: 0, norm: 0, nonFinite: 0, zeros: 0 };

/** A hand-made layer report (for shapes of runs no committed trace has). */
export function makeLayer(id: number, name: string, description: string, file: string, line: number, extra: Partial<LayerReport> = {}): LayerReport {
  return {
    info: { id, name, kind: "dense", className: description.replace(/\(.*$/, ""), description, site: { file, line, column: 1 }, params: [], paramCount: 0 },
    callSites: [],
    step: 0,
    tensors: { output: { shape: [300, 3], stats: { ...NO_STATS, size: 900 }, corner: [] } },
    gradNorms: {},
    ...extra,
  };
}

/** A hand-made report of `file`. */
export function makeReport(file: string, extra: Partial<RunReport> = {}): RunReport {
  return { runId: 1, file, finishedAt: 1, ok: true, steps: 1, durationMs: 1, layers: [], anomalies: [], ...extra };
}
