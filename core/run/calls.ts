/**
 * How layer calls go together, for any list of calls: a recorded `LayerCall`, the run model's
 * `CallSummary`, or the recorder's own records while the model runs. Written once here so that the
 * recorder (gradient checks), the run model (inspector, language server, CLI) and later the debugger
 * pair a backward call with its forward call the same way.
 */
import type { Phase } from "../trace/traceTypes";

/** What pairing needs to know of a call. `seq` orders calls by completion (a nested call completes first). */
export interface CallKey {
  layer: number;
  phase: Phase;
  step: number;
  seq: number;
}

/**
 * The forward call a backward call goes with: the last forward call of the same layer in the same step
 * before it. `calls` may hold other layers' and steps' calls; undefined when there is none.
 */
export function forwardOf<C extends CallKey>(calls: readonly C[], backward: CallKey): C | undefined {
  let best: C | undefined;
  for (const c of calls) {
    if (c.layer === backward.layer && c.phase === "forward" && c.step === backward.step && c.seq < backward.seq && (best === undefined || c.seq > best.seq)) best = c;
  }
  return best;
}

/** The backward call that goes with a forward call: the first backward of the same layer and step whose forward it is. */
export function backwardOf<C extends CallKey>(calls: readonly C[], forward: CallKey): C | undefined {
  let best: C | undefined;
  for (const c of calls) {
    if (c.layer !== forward.layer || c.phase !== "backward" || c.step !== forward.step || c.seq <= forward.seq) continue;
    if (best !== undefined && c.seq >= best.seq) continue;
    if (forwardOf(calls, c)?.seq === forward.seq) best = c;
  }
  return best;
}

/** The last call of `phase` among `calls` (by `seq`), or undefined. */
export function lastOf<C extends CallKey>(calls: readonly C[], phase: Phase): C | undefined {
  let best: C | undefined;
  for (const c of calls) if (c.phase === phase && (best === undefined || c.seq > best.seq)) best = c;
  return best;
}
