/**
 * The pieces between a producer and the host, without processes: framing (frames.ts), event validation
 * (validate.ts) and the trace budget (traceBudget.ts).
 */
import * as assert from "node:assert/strict";
import fc from "fast-check";
import type { TraceEvent } from "../../core/host";
import { FrameReader, LineReader, encodeFrame } from "../../extension/runner/frames";
import { TRACE_BUDGET, TraceLimiter, keepsSummary } from "../../extension/runner/traceBudget";
import { validateEvent } from "../../extension/runner/validate";

const stats = { size: 2, min: 0, max: 1, mean: 0.5, std: 0.5, norm: 1, nonFinite: 0, zeros: 1 };
const call = (step: number, seq: number, values = 2): TraceEvent => ({
  type: "layer/call",
  call: { step, seq, layer: 0, phase: "forward", tensors: { output: { shape: [1, values], data: new Float64Array(values) } }, stats: { output: stats } },
});

describe("frames: v8 frames and JSON lines over a byte stream", () => {
  it("reads the same values however the stream is cut into chunks", () => {
    const values = [{ t: "events", events: [{ type: "console", level: "log", text: "é ✓" }] }, { a: new Float64Array([1, NaN, -0]) }, "x".repeat(70_000)];
    const bytes = Buffer.concat(values.map(encodeFrame));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length }), { maxLength: 12 }), (cuts) => {
        const got: unknown[] = [];
        const reader = new FrameReader((v) => got.push(v), (r) => assert.fail(r));
        const at = [...new Set(cuts)].sort((a, b) => a - b);
        let prev = 0;
        for (const c of [...at, bytes.length]) {
          reader.push(bytes.subarray(prev, c));
          prev = c;
        }
        assert.equal(got.length, 3);
        assert.deepEqual(got[0], values[0]);
        const arr = (got[1] as { a: Float64Array }).a;
        assert.ok(arr instanceof Float64Array && arr[0] === 1 && Number.isNaN(arr[1]) && Object.is(arr[2], -0));
        assert.equal(got[2], values[2]);
      }),
      { numRuns: 60 },
    );
  });

  it("reports bytes that are not frames once, and stops (never throws into the reader's caller)", () => {
    const errors: string[] = [];
    const got: unknown[] = [];
    const reader = new FrameReader((v) => got.push(v), (r) => errors.push(r));
    reader.push(Buffer.from([0, 0, 0, 5, 1, 2, 3, 4, 5, 255, 255]));
    reader.push(encodeFrame({ ok: true }));
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? "", /a message could not be read/);
    assert.deepEqual(got, []);
    const big: string[] = [];
    new FrameReader(() => undefined, (r) => big.push(r), 1024).push(Buffer.from([0, 0, 0x10, 0]));
    assert.match(big[0] ?? "", /a message of 4096 bytes is over the limit of 1024/);
  });

  it("JSON lines: values across chunks, blank lines skipped, a bad line and an overlong line reported", () => {
    const got: unknown[] = [];
    const errors: string[] = [];
    const r = new LineReader((v) => got.push(v), (e) => errors.push(e));
    r.push(Buffer.from('{"a":1}\n\n{"b":'));
    r.push(Buffer.from('[1,2]}\r\n{"c":"é'));
    r.push(Buffer.from('"}\n'));
    assert.deepEqual(got, [{ a: 1 }, { b: [1, 2] }, { c: "é" }]);
    r.push(Buffer.from("not json\n"));
    assert.match(errors[0] ?? "", /a line is not JSON .*"not json"/);
    const long: string[] = [];
    new LineReader(() => undefined, (e) => long.push(e), 10).push(Buffer.from("x".repeat(11)));
    assert.match(long[0] ?? "", /over the limit of 10 bytes/);
  });
});

describe("validateEvent: every event is checked before the host uses it", () => {
  it("accepts the events a run makes", () => {
    const good: TraceEvent[] = [
      { type: "run/start", version: 1, file: "/m.ts", startedAt: 1 },
      { type: "layer/new", layer: { id: 0, name: "dense1", kind: "dense", className: "Dense", description: "Dense(2, 3)", params: [{ name: "weights", shape: [2, 3] }], paramCount: 9 } },
      call(0, 0),
      { type: "step/summary", summary: { step: 0, loss: NaN, grads: [{ layer: 0, norms: { dweights: 1 } }] } },
      { type: "console", level: "warn", text: "hi", site: { file: "/m.ts", line: 3, column: 1 } },
      { type: "anomaly", anomaly: { code: "non-finite", severity: "error", message: "NaN", step: 0, index: [0, 1] } },
      { type: "run/end", ok: false, steps: 1, durationMs: 2, keptSteps: [0], error: { kind: "lost", message: "died" } },
    ];
    for (const e of good) assert.equal(validateEvent(e), undefined, JSON.stringify(e));
  });

  it("names what is wrong with a malformed one", () => {
    const bad: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ type: "run/end", ok: "yes" }, /run\/end needs ok/],
      [{ type: "forged" }, /unknown event type "forged"/],
      [{ type: "layer/call", call: { step: 0, seq: 0, layer: 0, phase: "forward", tensors: { output: { shape: [2, 2], data: new Float64Array(3) } }, stats: {} } }, /call\.tensors\.output has 3 values for shape \[2, 2\]/],
      [{ type: "layer/call", call: { step: 0, seq: 0, layer: 0, phase: "forward", tensors: { output: { shape: [1], data: [1] } }, stats: {} } }, /has no Float64Array data/],
      [{ type: "layer/new", layer: { id: -1, name: "x" } }, /layer needs id, name/],
      [{ type: "console", level: "shout", text: "x" }, /bad level/],
      [{ type: "step/summary", summary: { step: 1.5 } }, /summary needs a step/],
      [{ type: "anomaly", anomaly: { code: "x", severity: "fatal", message: "m", step: 0 } }, /bad severity/],
    ];
    for (const [e, why] of bad) assert.match(validateEvent(e) ?? "(accepted)", why);
  });

  it("survives objects that throw when read", () => {
    const trap = { type: "console", get level(): string { throw new Error("trap"); } };
    assert.match(validateEvent(trap) ?? "", /console: trap/);
  });
});

describe("TraceLimiter: the trace budget", () => {
  it("keeps every summary of the first 10,000 steps, then about 5,000 per doubling, and the last step", () => {
    const lim = new TraceLimiter(3);
    let kept = 0;
    for (let s = 0; s < 1_600_000; s++) kept += lim.admit({ type: "step/summary", summary: { step: s, loss: 1 } }).length;
    const tail = lim.finish();
    assert.ok(kept > 40_000 && kept < 50_000, `${kept} summaries`);
    assert.deepEqual(tail.map((e) => e.type === "step/summary" && e.summary.step), [1_599_999]);
    assert.equal(keepsSummary(9_999, 10_000), true);
    assert.equal(keepsSummary(10_001, 10_000), false);
  });

  it("passes a non-finite loss whatever the step", () => {
    const lim = new TraceLimiter(3);
    assert.equal(lim.admit({ type: "step/summary", summary: { step: 123_457, loss: NaN } }).length, 1);
  });

  it("holds tensors to 128 MB (96 MB for the first steps), drops whole calls and says so once", () => {
    const lim = new TraceLimiter(3);
    const values = 2 ** 20; // 8 MB per call
    let passed = 0;
    const notes: string[] = [];
    for (let i = 0; i < 20; i++) {
      for (const e of lim.admit(call(0, i, values))) {
        if (e.type === "layer/call") passed++;
        else if (e.type === "anomaly") notes.push(e.anomaly.message);
      }
    }
    assert.equal(passed, 12, "96 MB of early calls");
    for (let i = 0; i < 10; i++) for (const e of lim.admit(call(5, 100 + i, values))) if (e.type === "layer/call") passed++;
    assert.equal(passed, 16, "the rest of the 128 MB goes to later steps");
    assert.ok(lim.bytes <= TRACE_BUDGET.tensorBytes);
    assert.deepEqual(notes, ["the trace keeps at most 128 MB of tensors per run; later layer calls were not recorded"]);
  });

  it("caps calls per step at 512", () => {
    const lim = new TraceLimiter(3);
    let n = 0;
    for (let i = 0; i < 600; i++) n += lim.admit(call(0, i)).filter((e) => e.type === "layer/call").length;
    assert.equal(n, 512);
  });

  it("cuts long console lines and counts what it drops", () => {
    const lim = new TraceLimiter(3);
    const [first] = lim.admit({ type: "console", level: "log", text: "y".repeat(10_000) });
    assert.ok(first?.type === "console");
    assert.match(first.text, /^y{8192}… \[1,808 more characters\]$/);
    let n = 1;
    for (let i = 0; i < 20_000; i++) n += lim.admit({ type: "console", level: "log", text: "x" }).filter((e) => e.type === "console").length;
    assert.equal(n, 10_000);
    const [tail] = lim.finish();
    assert.ok(tail?.type === "console" && /… 10,001 more lines were not kept/.test(tail.text));
  });

  it("never passes the producer's run/end or a second run/start", () => {
    const lim = new TraceLimiter(3);
    assert.equal(lim.admit({ type: "run/start", version: 1, file: "f", startedAt: 0 }).length, 1);
    assert.equal(lim.admit({ type: "run/start", version: 1, file: "g", startedAt: 0 }).length, 0);
    assert.equal(lim.admit({ type: "run/end", ok: true, steps: 0, durationMs: 0, keptSteps: [] }).length, 0);
  });
});
