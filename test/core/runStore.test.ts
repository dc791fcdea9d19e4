/** The run store: live events and a replay give the inspector the same messages. */
import * as assert from "node:assert/strict";
import { Dense, RunStore, type ToWebview, type TraceEvent, TraceRecorder } from "../../core/host";

describe("run store", () => {
  it("turns trace events into inspector messages, keeps tensors by call, and replays the same run", () => {
    const events: TraceEvent[] = [];
    const rec = new TraceRecorder({ sink: { emit: (e) => void events.push(e) }, keepSteps: 1 });
    rec.install();
    const d = new Dense(4, 3, { weights: [[0.2, 0.5, -0.26], [0.8, -0.91, -0.27], [-0.5, 0.26, 0.17], [1, -0.5, 0.87]] });
    d.forward([[1, 2, 3, 2.5]]);
    d.backward([[1, 1, 1]]);
    rec.finish();
    events.push({ type: "run/end", ok: true, steps: 1, durationMs: 1, keptSteps: [0] });

    const store = new RunStore({ runId: 7, file: "/m.ts", startedAt: 0 });
    const live: ToWebview[] = [{ type: "run/started", run: store.header }];
    for (const e of events) live.push(...store.ingest(e));
    assert.equal(store.layers.size, 1);
    assert.equal(store.calls.length, 2);
    const back = store.calls[1];
    assert.equal(back?.phase, "backward");
    assert.deepEqual(back?.tensors.dinputs?.shape, [1, 4]);
    const dinputs = store.tensor(back?.seq ?? -1, "dinputs");
    assert.deepEqual(
      Array.from(dinputs?.data ?? []).map((v) => Math.round(v * 100) / 100),
      [0.44, -0.38, -0.07, 1.37],
    );
    assert.equal(store.tensor(99, "dinputs"), undefined);
    // Replay sends the same kinds of messages, in an order that rebuilds the same state.
    const kinds = (ms: ToWebview[]): string[] => [...new Set(ms.map((m) => m.type))].sort();
    assert.deepEqual(kinds(store.replay()), kinds(live));
    assert.ok(store.replay().every((m) => !("runId" in m) || m.runId === 7));
    assert.equal(store.end?.ok, true);
  });
});
