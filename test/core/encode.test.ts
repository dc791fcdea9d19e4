/** The JSON trace format round-trips bit for bit, non-finite numbers included. */
import * as assert from "node:assert/strict";
import { TRACE_FORMAT_VERSION, type TraceEvent, decodeTrace, encodeTrace } from "../../core/host";
import { decodeMarked, decodeTraceNumber, encodeJson } from "../../core/jsonNumbers";

describe("trace encoding", () => {
  it("round-trips tensors, NaN and ±Infinity, and refuses newer versions", () => {
    const data = Float64Array.from([0.1 + 0.2, -0, NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308]);
    const events: TraceEvent[] = [
      { type: "run/start", version: 1, file: "/m.ts", startedAt: 1 },
      {
        type: "layer/call",
        call: {
          step: 0,
          seq: 0,
          layer: 0,
          phase: "forward",
          tensors: { output: { shape: [1, 7], data } },
          stats: { output: { size: 7, min: NaN, max: Infinity, mean: NaN, std: NaN, norm: Infinity, nonFinite: 3, zeros: 1 } },
          loss: NaN,
        },
      },
      { type: "step/summary", summary: { step: 0, loss: NaN, grads: [{ layer: 0, norms: { dweights: Infinity } }] } },
      { type: "console", level: "log", text: "NaN" },
    ];
    const back = decodeTrace(encodeTrace("/m.ts", events, "test"));
    assert.equal(back.version, TRACE_FORMAT_VERSION);
    const call = back.events[1];
    assert.ok(call?.type === "layer/call");
    const got = call.call.tensors.output?.data;
    assert.ok(got instanceof Float64Array);
    assert.deepEqual(Array.from(got), Array.from(data));
    assert.ok(Object.is(got[1], -0) || got[1] === 0);
    assert.ok(Number.isNaN(call.call.loss));
    assert.equal(call.call.stats.output?.max, Infinity);
    const summary = back.events[2];
    assert.ok(summary?.type === "step/summary");
    assert.equal(summary.summary.grads?.[0]?.norms.dweights, Infinity);
    const text = back.events[3];
    assert.ok(text?.type === "console");
    assert.equal(text.text, "NaN", "strings stay strings");
    assert.throws(() => decodeTrace(JSON.stringify({ format: "backprop-lens-trace", version: 99, events: [] })), /newer/);
    assert.throws(() => decodeTrace("{}"), /not a Backprop Lens trace/);
  });

  it("one codec, two spellings: the trace file's strings and the wire's self-describing markers", () => {
    const value = { a: [NaN, Infinity, -Infinity, -0, 1.5], t: Float64Array.from([NaN, 2]), gone: undefined };
    assert.deepEqual(encodeJson(value, "trace"), { a: ["NaN", "Infinity", "-Infinity", "-0", 1.5], t: ["NaN", 2] });
    const marked = encodeJson(value, "marker");
    assert.deepEqual(marked, { a: [{ $nonFinite: "NaN" }, { $nonFinite: "Infinity" }, { $nonFinite: "-Infinity" }, -0, 1.5], t: [{ $nonFinite: "NaN" }, 2] });
    assert.deepEqual(decodeMarked(JSON.parse(JSON.stringify(marked))), { a: [NaN, Infinity, -Infinity, 0, 1.5], t: [NaN, 2] });
    assert.ok(Object.is(decodeTraceNumber("-0"), -0));
    assert.throws(() => decodeTraceNumber("1"), /expected a number/);
  });
});
