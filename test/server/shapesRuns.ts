/**
 * Test helpers for the shape analysis: run a model with the real CLI (`dist/cli.js run --json`) and
 * read, for every recorded layer call, its line and the shapes of its tensors, so that tests can
 * compare what the analysis says before running with what the run reported.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodeTrace } from "../../core/host";
import type { RunError } from "../../core/trace/traceTypes";
import type { ShapeCall, ShapeResult } from "../../extension/server/shapes/types";
import { ROOT } from "./fixtures";

export interface RunCall {
  /** 0-based line of the call. */
  line: number;
  layer: string;
  phase: "forward" | "backward";
  shapes: Record<string, number[]>;
}

export interface RunOutcome {
  ok: boolean;
  error?: RunError;
  calls: RunCall[];
}

const CLI = path.join(ROOT, "dist", "cli.js");

/** Runs a model file with the CLI and returns its layer calls (with the shapes the trace recorded) and its end. */
export function runModelFile(file: string, timeLimitS = 60, keepSteps = 1): RunOutcome {
  assert.ok(fs.existsSync(CLI), "dist/cli.js exists (npm run build)");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-shapes-run-"));
  const json = path.join(dir, "trace.json");
  try {
    const r = spawnSync(process.execPath, [CLI, "run", file, "--json", json, "--time-limit", String(timeLimitS), "--memory-limit", "256", "--keep-steps", String(keepSteps)], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    if (!fs.existsSync(json)) {
      // The CLI could not write the trace (a model that made too much of it): only the failure is known.
      assert.notEqual(r.status, 0, `the CLI wrote no trace for ${file} but succeeded`);
      return { ok: false, error: { kind: "internal", message: r.stderr }, calls: [] };
    }
    const trace = decodeTrace(fs.readFileSync(json, "utf8"));
    const names = new Map<number, string>();
    const calls: RunCall[] = [];
    // Trace format 2 records a tensor that is another call's as a reference: resolve through it.
    type Call = { seq: number; layer: number; phase: "forward" | "backward"; site?: { line: number }; tensors: Record<string, { shape: number[] }>; refs?: Record<string, { seq: number; name: string }> };
    const bySeq = new Map<number, Call>();
    let end: { ok: boolean; error?: RunError } = { ok: false };
    for (const e of trace.events) {
      if (e.type === "layer/new") names.set(e.layer.id, e.layer.name);
      if (e.type === "run/end") end = { ok: e.ok, ...(e.error ? { error: e.error } : {}) };
      if (e.type !== "layer/call") continue;
      const c = e.call as unknown as Call;
      bySeq.set(c.seq, c);
      if (!c.site) continue;
      const shapes: Record<string, number[]> = {};
      for (const [name, t] of Object.entries(c.tensors)) shapes[name] = [...t.shape];
      for (const [name, ref] of Object.entries(c.refs ?? {})) {
        const t = bySeq.get(ref.seq)?.tensors[ref.name];
        if (t) shapes[name] = [...t.shape];
      }
      calls.push({ line: c.site.line - 1, layer: names.get(c.layer) ?? "?", phase: c.phase, shapes });
    }
    return { ...end, calls };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The tensors both sides name. */
const COMPARED = ["inputs", "output", "dvalues", "dinputs", "dweights", "dbiases"];

/**
 * Asserts that every layer call the run recorded was followed by the analysis at the same line and
 * phase, with the same shape for every tensor the analysis knows (`strict`: it must know them all).
 * Returns how many shapes were compared.
 */
export function assertSameShapes(label: string, result: ShapeResult, run: RunOutcome, strict: boolean): number {
  let compared = 0;
  // Several calls on one line (a loop over layers, Sequential): matched by name, else in order.
  const seen = new Map<string, number>();
  for (const rc of run.calls) {
    const candidates = result.calls.filter((c) => c.line === rc.line && c.phase === rc.phase);
    assert.ok(candidates.length > 0, `${label}: the analysis followed ${rc.layer}.${rc.phase} at line ${rc.line + 1}`);
    const key = `${rc.line}:${rc.phase}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    const byName = candidates.filter((c) => c.layer === rc.layer);
    const sc: ShapeCall = byName.length === 1 ? (byName[0] as ShapeCall) : (candidates[k % candidates.length] as ShapeCall);
    for (const name of COMPARED) {
      const want = rc.shapes[name];
      if (!want) continue;
      const got = sc.shapes[name];
      if (strict) assert.ok(got && got.every((d) => d !== null), `${label}: ${rc.layer}.${name} at line ${rc.line + 1} is known before running (got ${JSON.stringify(got)})`);
      if (!got) continue;
      assert.equal(got.length, want.length, `${label}: rank of ${rc.layer}.${name} at line ${rc.line + 1}: static ${JSON.stringify(got)}, run ${JSON.stringify(want)}`);
      got.forEach((d, i) => {
        if (d !== null) assert.equal(d, want[i], `${label}: ${rc.layer}.${name} at line ${rc.line + 1}: static ${JSON.stringify(got)}, run ${JSON.stringify(want)}`);
      });
      compared++;
    }
  }
  return compared;
}

/** The static errors (not warnings) of an analysis, as `line: code`. */
export function staticErrors(result: ShapeResult): { line: number; code: string; message: string }[] {
  return result.diagnostics.filter((d) => d.severity === "error").map((d) => ({ line: d.range.start.line, code: d.code, message: d.message }));
}

/** Applies LSP edits (of one document) to a text. */
export function applyEdits(text: string, edits: readonly { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  const off = (p: { line: number; character: number }): number => (starts[p.line] ?? text.length) + p.character;
  const sorted = [...edits].sort((a, b) => off(b.range.start) - off(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, off(e.range.start)) + e.newText + out.slice(off(e.range.end));
  return out;
}
