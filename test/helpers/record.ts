/** Test helpers: record a model function with the trace recorder in this process, and a small training loop. */
import { Adam, Dense, type Layer, ReLU, SoftmaxCategoricalCrossentropy, type Tensor, type TraceEvent, TraceRecorder, TRACE_FORMAT_VERSION, spiralData } from "../../core/host";

export interface Recorded {
  events: TraceEvent[];
  error?: unknown;
  recorder: TraceRecorder;
}

/** Records a model function with the recorder installed (sites are `/m.ts`, one line per capture); returns every event. */
export function record(model: () => void, options: { keepSteps?: number; gradCheck?: boolean } = {}): Recorded {
  const events: TraceEvent[] = [];
  let n = 0;
  const recorder = new TraceRecorder({
    sink: { emit: (e) => void events.push(e) },
    sites: { capture: () => ({ file: "/m.ts", line: ++n, column: 1 }), nameAt: () => undefined },
    keepSteps: options.keepSteps ?? 1,
    ...(options.gradCheck ? { gradCheck: {} } : {}),
  });
  recorder.install();
  let error: unknown;
  try {
    model();
  } catch (e) {
    error = e;
  }
  try {
    recorder.finish({ completed: error === undefined });
  } catch (e) {
    error ??= e;
  } finally {
    recorder.uninstall();
  }
  return { events, error, recorder };
}

/** A whole run as the worker streams it: `run/start`, the recorded events, `run/end`. */
export function recordRun(model: () => void, keepSteps = 2): TraceEvent[] {
  const { events, error, recorder } = record(model, { keepSteps });
  if (error !== undefined) throw error;
  return [
    { type: "run/start", version: TRACE_FORMAT_VERSION, file: "/m.ts", startedAt: 0 },
    ...events,
    { type: "run/end", ok: true, steps: recorder.stepCount, durationMs: 1, keptSteps: recorder.keptSteps },
  ];
}

/** The chapter's spiral model trained for `epochs` steps with Adam: Dense(2, 8) → ReLU → Dense(8, 3) → softmax + CCE. */
export function train(epochs: number, lr = 0.05) {
  return (): void => {
    const [X, y] = spiralData(20, 3);
    const d1 = new Dense(2, 8);
    const a1 = new ReLU();
    const d2 = new Dense(8, 3);
    const loss = new SoftmaxCategoricalCrossentropy();
    const opt = new Adam({ learningRate: lr });
    for (let e = 0; e < epochs; e++) {
      pass([d1, a1, d2], loss, X, y);
      opt.step(d1, d2);
    }
  };
}

/**
 * One pass the book's way: each layer's forward on the previous layer's output, the loss, its backward
 * from the softmax output, then each layer's backward on the next one's `dinputs`, in reverse. Returns
 * the loss.
 */
export function pass(layers: readonly Layer[], loss: SoftmaxCategoricalCrossentropy, X: Tensor, y: Tensor): number {
  let out = X;
  for (const l of layers) out = (l.forward(out), l.output);
  const value = loss.forward(out, y);
  loss.backward(loss.output, y);
  let d = loss.dinputs;
  for (const l of [...layers].reverse()) d = (l.backward(d), l.dinputs);
  return value;
}
