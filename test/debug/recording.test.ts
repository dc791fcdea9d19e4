/**
 * What a plain run keeps besides the first steps and the last: the step of the first anomaly and the one
 * before; and any step asked for (`recordSteps`, the runner's re-run for "record step 1234").
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { RunModel } from "../../core/host";
import { runModel } from "../../extension/runner/runModel";

const repo = path.resolve(__dirname, "..", "..", "..");
const model = (name: string): string => path.join(repo, "test", "fixtures", "models", name);

async function run(file: string, o: { keepSteps: number; recordSteps?: number[] }): Promise<{ store: RunModel; keptSteps: number[] }> {
  const store = new RunModel({ runId: 1, file, startedAt: 0 });
  const r = await runModel({ file, workerScript: path.join(repo, "dist", "worker.js"), keepSteps: o.keepSteps, ...(o.recordSteps ? { recordSteps: o.recordSteps } : {}), onEvent: (e) => void store.ingest(e) }).result;
  return { store, keptSteps: r.keptSteps };
}

describe("recorded steps of a plain run", function () {
  this.timeout(60_000);

  it("keeps the step of the first anomaly and the one before (SGD at learning rate 50: the gradient explodes at step 1)", async () => {
    const { store, keptSteps } = await run(model("debug-diverge.ts"), { keepSteps: 1 });
    const exploding = store.anomalies.find((a) => a.code === "exploding-gradient");
    assert.equal(exploding?.step, 1);
    // step 0 (kept from the start), 0–1 around the first anomaly, 3 (the last, where the loss became NaN)
    assert.deepEqual(keptSteps, [0, 1, 3]);
    const dense1 = [...store.layers.values()].find((l) => l.name === "dense1");
    const step1 = store.calls.filter((c) => c.step === 1 && c.layer === dense1?.id);
    assert.deepEqual(step1.map((c) => c.phase), ["forward", "backward"]);
    assert.ok(store.tensor((step1[1] as { seq: number }).seq, "dweights"), "step 1's tensors are there");
    // the store keeps calls in seq order although step 1 arrived after step 0's end
    assert.deepEqual(store.calls.map((c) => c.seq), [...store.calls.map((c) => c.seq)].sort((a, b) => a - b));
  });

  it("records any step asked for (a re-run for 'record step 7')", async () => {
    const { store, keptSteps } = await run(model("debug-training.ts"), { keepSteps: 1, recordSteps: [7] });
    assert.deepEqual(keptSteps, [0, 7, 19]);
    const step7 = store.calls.filter((c) => c.step === 7);
    assert.equal(step7.length, 8); // 4 forward and 4 backward calls
    assert.equal(step7[0]?.site?.line, 13);
  });
});
