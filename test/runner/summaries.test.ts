/**
 * What the worker's batching and the recorder's cheap path on steps that are not kept must not change:
 * every step summary of a run (loss, accuracy, learning rate, optimizer, the sampled gradient norms)
 * arrives once, in order, with the same values as the same loop traced in this process by a
 * `TraceRecorder` that emits everything at once; and the kept and last steps hold the same tensors.
 * Runs `dist/` (npm run build).
 */
import * as assert from "node:assert/strict";
import { Adam, Dense, ReLU, SoftmaxCategoricalCrossentropy, TraceRecorder, type TraceEvent, accuracy, seed, spiralData } from "../../core/host";
import { modelFile, run } from "./helpers";

const STEPS = 2500;

/** The model file's loop and the in-process loop are the same code. */
const LOOP = `
const [X, y] = spiralData(100, 3);
const dense1 = new Dense(2, 64);
const activation1 = new ReLU();
const dense2 = new Dense(64, 3);
const lossActivation = new SoftmaxCategoricalCrossentropy();
const optimizer = new Adam({ learningRate: 0.05, decay: 1e-4 });
for (let epoch = 0; epoch < ${STEPS}; epoch++) {
  dense1.forward(X);
  activation1.forward(dense1.output);
  dense2.forward(activation1.output);
  lossActivation.forward(dense2.output, y);
  accuracy(lossActivation.output, y);
  lossActivation.backward(lossActivation.output, y);
  dense2.backward(lossActivation.dinputs);
  activation1.backward(dense2.dinputs);
  dense1.backward(activation1.dinputs);
  optimizer.preUpdateParams();
  optimizer.updateParams(dense1);
  optimizer.updateParams(dense2);
  optimizer.postUpdateParams();
}
`;

function inProcess(): TraceEvent[] {
  const events: TraceEvent[] = [];
  const rec = new TraceRecorder({ sink: { emit: (e) => void events.push(e) }, keepSteps: 3 });
  seed(0); // as every run starts
  rec.install();
  try {
    new Function("Adam", "Dense", "ReLU", "SoftmaxCategoricalCrossentropy", "accuracy", "spiralData", LOOP)(Adam, Dense, ReLU, SoftmaxCategoricalCrossentropy, accuracy, spiralData);
  } finally {
    rec.uninstall();
  }
  rec.finish();
  return events;
}

const summaries = (events: TraceEvent[]): unknown[] => events.flatMap((e) => (e.type === "step/summary" ? [e.summary] : []));
/** A kept call's numbers, without what depends on where it ran (sites). */
const calls = (events: TraceEvent[]): unknown[] =>
  events.flatMap((e) => (e.type === "layer/call" ? [{ step: e.call.step, layer: e.call.layer, phase: e.call.phase, tensors: e.call.tensors, refs: e.call.refs, stats: e.call.stats, loss: e.call.loss, accuracy: e.call.accuracy }] : []));

describe("runner: step summaries through the worker's batches", function () {
  this.timeout(120_000);

  it(`a ${STEPS}-step training run: every summary once, in order, the same values as in-process; the same kept tensors`, async () => {
    const file = modelFile("summaries.ts", `import { Adam, Dense, ReLU, SoftmaxCategoricalCrossentropy, accuracy, spiralData } from "backprop-lens";\n${LOOP}`);
    const { result, events } = await run(file, { keepSteps: 3, gradCheck: false, timeLimitMs: 100_000 });
    assert.equal(result.ok, true, result.error?.message);
    const got = summaries(events) as { step: number }[];
    assert.deepEqual(
      got.map((s) => s.step),
      Array.from({ length: STEPS }, (_, i) => i),
    );
    const want = inProcess();
    assert.deepEqual(got, summaries(want));
    const sampled = got.filter((s) => (s as { grads?: unknown }).grads !== undefined).length;
    assert.ok(sampled > 100 && sampled < STEPS, `sampled steps with norms: ${sampled}`);
    assert.deepEqual(calls(events), calls(want));
    assert.deepEqual(
      [...new Set(calls(events).map((c) => (c as { step: number }).step))],
      [0, 1, 2, STEPS - 1],
    );
  });
});
