/**
 * The inspector's data state: one union rendered by a switch (`AppState`), and the reducer that
 * folds host messages into it. The run itself is core's `RunModel` (core/run), fed the trace events
 * of `run/events` without tensor data; live runs and replayed runs arrive as the same events.
 *
 * A `RunModel` only grows while its run lasts and a training run streams tens of thousands of events,
 * so `reduce` folds events into the current model in place (its `version` counts the changes) instead
 * of copying it; a new `run/started` creates a fresh model.
 */
import { PROTOCOL_VERSION, type ToWebview } from "../core/protocol";
import { RunModel } from "../core/run/runModel";
import { type SourceSite, baseName } from "../core/trace/traceTypes";

export type AppState =
  /** Waiting for `session/ready`. */
  | { kind: "connecting" }
  /** Connected; no run yet, or (`cleared`) the results were cleared. */
  | { kind: "empty"; cleared?: true }
  | { kind: "run"; run: RunModel }
  /** The host speaks another protocol version (the panel outlived an update). */
  | { kind: "incompatible"; message: string };

/** Folds one host message into the state. `ui/reveal` is not state (the app handles it). */
export function reduce(state: AppState, msg: ToWebview): AppState {
  switch (msg.type) {
    case "session/ready":
      if (msg.protocolVersion !== PROTOCOL_VERSION) {
        return { kind: "incompatible", message: `The extension speaks protocol version ${msg.protocolVersion}, this panel version ${PROTOCOL_VERSION}. Close and reopen the Gradient Inspector.` };
      }
      if (msg.run) {
        // The replay that follows starts with run/started; keep what we have of the same run until then.
        if (state.kind === "run" && state.run.header.runId === msg.run.runId) return state;
        return { kind: "run", run: new RunModel(msg.run, { keepTensors: false }) };
      }
      return state.kind === "run" ? state : { kind: "empty" };
    case "run/started":
      // A new run (or the replay of the current one) replaces whatever was shown.
      return { kind: "run", run: new RunModel(msg.run, { keepTensors: false }) };
    case "run/cleared":
      return { kind: "empty", cleared: true };
    case "run/events":
      if (state.kind !== "run" || msg.runId !== state.run.header.runId) return state; // a stale run's events
      for (const e of msg.events) state.run.apply(e);
      return state;
    case "ui/reveal":
    case "debug/position":
      return state;
  }
}

/** The step to show: the chosen one if recorded, else step 0 (or the first recorded). */
export function effectiveStep(run: RunModel, chosen: number | undefined): number | undefined {
  if (chosen !== undefined && run.steps.includes(chosen)) return chosen;
  if (run.steps.includes(0)) return 0;
  return run.steps[0];
}

export { baseName };

/** `file.ts:12`. */
export function siteLabel(site: SourceSite): string {
  return `${baseName(site.file)}:${site.line}`;
}
