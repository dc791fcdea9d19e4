/**
 * The inspector's state reducer against real trace events: a streamed run (`run/events` batches as
 * the host sends them) and its replay give the same state, a new run replaces the old, stale events
 * are ignored, another protocol version is refused; and the step shown by default.
 */
import * as assert from "node:assert/strict";
import { PROTOCOL_VERSION, type RunEvent, type RunHeader, type ToWebview } from "../../core/protocol";
import { RunModel } from "../../core/run/runModel";
import { effectiveStep, reduce, type AppState } from "../../webview/model";
import { recordRun, train } from "../helpers/record";

const header = (runId: number, file = "/m.ts"): RunHeader => ({ runId, file, startedAt: 0 });

function fold(msgs: ToWebview[], start: AppState = { kind: "connecting" }): AppState {
  let s = start;
  for (const m of msgs) s = reduce(s, m);
  return s;
}

function runOf(s: AppState): RunModel {
  assert.equal(s.kind, "run");
  return (s as { run: RunModel }).run;
}

/** What the host sends when a panel opens on `host`'s run: session/ready, run/started, the replay. */
function opening(host: RunModel): ToWebview[] {
  return [
    { type: "session/ready", protocolVersion: PROTOCOL_VERSION, run: host.header },
    { type: "run/started", run: host.header },
    { type: "run/events", runId: host.runId, events: host.replay() },
  ];
}

describe("webview state: live and replay", () => {
  const events = recordRun(train(6), 2);

  it("Clear Results empties the shown run (and says it was cleared); the next run shows again; its stale events do not", () => {
    const host = new RunModel(header(1));
    for (const e of events) host.ingest(e);
    const shown = fold(opening(host));
    assert.equal(shown.kind, "run");
    const cleared = reduce(shown, { type: "run/cleared" });
    assert.deepEqual(cleared, { kind: "empty", cleared: true });
    // Events of the cleared run still in flight change nothing.
    assert.deepEqual(reduce(cleared, { type: "run/events", runId: 1, events: host.replay() }), { kind: "empty", cleared: true });
    const next = runOf(reduce(cleared, { type: "run/started", run: header(2) }));
    assert.equal(next.header.runId, 2);
  });

  it("a streamed run and its replay give the same state, equal to the host's model", () => {
    const host = new RunModel(header(1));
    const liveMsgs: ToWebview[] = [{ type: "session/ready", protocolVersion: PROTOCOL_VERSION }, { type: "run/started", run: host.header }];
    // Batches of a few events, as the panel flushes them.
    let batch: RunEvent[] = [];
    for (const e of events) {
      batch.push(host.ingest(e));
      if (batch.length === 5) {
        liveMsgs.push({ type: "run/events", runId: 1, events: batch });
        batch = [];
      }
    }
    liveMsgs.push({ type: "run/events", runId: 1, events: batch });
    const a = runOf(fold(liveMsgs));
    const b = runOf(fold(opening(host)));
    for (const m of [a, b]) {
      assert.deepEqual(m.calls, host.calls);
      assert.deepEqual(m.layerOrder(), host.layerOrder());
      assert.deepEqual(m.steps, [0, 1, 5]); // keepSteps 2 + the last
      assert.deepEqual(m.summaries, host.summaries);
      assert.equal(m.summaries.length, 6);
      assert.deepEqual(m.end, host.end);
      assert.equal(m.status(), "done");
      assert.equal(m.tensor(0, "inputs"), undefined, "the webview's model holds no tensor data");
    }
    assert.deepEqual(a.replay(), b.replay());
  });

  it("a replay after a reload replaces what was shown (no duplicated calls)", () => {
    const host = new RunModel(header(1));
    for (const e of events) host.ingest(e);
    const once = fold(opening(host));
    const twice = fold(opening(host), once);
    assert.equal(runOf(twice).calls.length, host.calls.length);
    assert.notEqual(runOf(twice), runOf(once));
  });

  it("a new run replaces the previous one; events of the old run are ignored", () => {
    const s1 = new RunModel(header(1, "/a.ts"));
    for (const e of events) s1.ingest(e);
    let s = fold(opening(s1));
    s = reduce(s, { type: "run/started", run: header(2, "/b.ts") });
    const run2 = runOf(s);
    assert.equal(run2.header.file, "/b.ts");
    assert.equal(run2.calls.length, 0);
    s = reduce(s, { type: "run/events", runId: 1, events: s1.replay() });
    assert.equal(runOf(s).calls.length, 0, "run 1's calls must not land in run 2");
    assert.equal(runOf(s).status(), "running");
  });

  it("refuses a host of another protocol version", () => {
    const s = reduce({ kind: "connecting" }, { type: "session/ready", protocolVersion: PROTOCOL_VERSION + 1 });
    assert.equal(s.kind, "incompatible");
    assert.match((s as { message: string }).message, /protocol version/);
  });

  it("is empty after session/ready without a run", () => {
    assert.equal(reduce({ kind: "connecting" }, { type: "session/ready", protocolVersion: PROTOCOL_VERSION }).kind, "empty");
  });
});

describe("webview state: the step shown", () => {
  const host = new RunModel(header(1));
  for (const e of recordRun(train(3), 3)) host.ingest(e);
  const run = runOf(fold(opening(host)));

  it("defaults to step 0 and keeps a chosen recorded step", () => {
    assert.equal(effectiveStep(run, undefined), 0);
    assert.equal(effectiveStep(run, 2), 2);
    assert.equal(effectiveStep(run, 99), 0);
  });

  it("without step 0 recorded, shows the first recorded step; nothing when none is", () => {
    const m = new RunModel(header(2));
    assert.equal(effectiveStep(m, undefined), undefined);
    const call = host.calls.find((c) => c.step === 2);
    assert.ok(call);
    m.apply({ type: "layer/call", call });
    assert.equal(effectiveStep(m, undefined), 2);
  });
});
