/**
 * The end-of-run gradient check: every layer's backward against central differences (float64) on its
 * last top-level call of the last step, with a time budget for all layers together. Emits one
 * `gradcheck` event per layer, and an anomaly per gradient that failed.
 */
import { type GradCheckOptions, gradCheckLayer } from "../gradcheck";
import type { Layer } from "../layers/layer";
import { forwardOf } from "../run/calls";
import type { Tensor } from "../tensor";
import { gradientCheckAnomaly } from "./anomalyRules";
import { type CallRecord, type LayerState, safeParams } from "./callRecord";
import type { TraceEvent } from "./traceTypes";

export type GradCheckPassOptions = GradCheckOptions & { budgetMs?: number };

/** Checks each layer of `layers` that has a forward and a backward among `records` (the last step's). */
export function gradCheckPass(layers: readonly LayerState[], records: readonly CallRecord[], options: GradCheckPassOptions, emit: (e: TraceEvent) => void): void {
  // A time budget for all layers together (each tensor still gets a few elements checked).
  const { budgetMs, ...rest } = options;
  const checkOptions: GradCheckOptions = budgetMs !== undefined ? { ...rest, deadline: Date.now() + budgetMs } : rest;
  for (const state of layers) {
    if (state.info === undefined) continue;
    const calls = records.filter((r) => r.state === state && r.parent === undefined);
    const lastBackward = [...calls].reverse().find((r) => r.phase === "backward");
    if (lastBackward === undefined) continue;
    const forward = forwardOf(calls, lastBackward);
    if (forward === undefined) continue;
    const layer = state.layer as unknown as Record<string, unknown>;
    // Bypass the wrappers (own properties) so the check's many calls are not traced: the layer's own
    // functions (class methods, or function fields) stand in for them meanwhile.
    const wrappedF = layer.forward;
    const wrappedB = layer.backward;
    layer.forward = state.originals.forward;
    layer.backward = state.originals.backward;
    const saved = snapshotParams(state.layer);
    try {
      const report = gradCheckLayer(state.layer, forward.args, lastBackward.args, checkOptions);
      emit({ type: "gradcheck", result: { layer: state.id, step: forward.step, ok: report.ok, tensors: report.tensors } });
      for (const t of report.tensors) {
        const anomaly = gradientCheckAnomaly(t, state.info, forward.step, lastBackward.site);
        if (anomaly) emit({ type: "anomaly", anomaly });
      }
    } catch (e) {
      emit({ type: "gradcheck", result: { layer: state.id, step: forward.step, ok: false, tensors: [], error: e instanceof Error ? e.message : String(e) } });
    } finally {
      restoreParams(saved);
      layer.forward = wrappedF;
      layer.backward = wrappedB;
    }
  }
}

function snapshotParams(l: Layer): { value: Tensor; copy: Float64Array }[] {
  return safeParams(l).map((p) => ({ value: p.value, copy: p.value.data.slice() }));
}

function restoreParams(saved: { value: Tensor; copy: Float64Array }[]): void {
  for (const s of saved) s.value.data.set(s.copy);
}
