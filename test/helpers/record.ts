/** Test helpers: record a model function with the trace recorder in this process, and a small training loop. */
import { Adam, Dense, ReLU, SoftmaxCategoricalCrossentropy, type TraceEvent, TraceRecorder, TRACE_FORMAT_VERSION, spiralData } from "../../core/host";

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
      d1.forward(X);
      a1.forward(d1.output);
      d2.forward(a1.output);
      loss.forward(d2.output, y);
      loss.backward(loss.output, y);
      d2.backward(loss.dinputs);
      a1.backward(d2.dinputs);
      d1.backward(a1.dinputs);
      opt.step(d1, d2);
    }
  };
}
