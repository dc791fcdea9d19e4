/**
 * The element under the cursor, at the step shown: the chain-rule view follows the debugger. An
 * element picked in a gradient's heatmap (click, or Enter at the heatmap's keyboard cursor), or sent
 * by the debugger's "Show Chain Rule" in the Variables view, is remembered as layer + tensor + index and
 * the call it was picked in. When another step is shown (the debugger moved, the step picker), it stands
 * for the same element of the same call of that step — the layer's n-th backward call in the step, as
 * it was the n-th where it was picked — so the chain rule is written with that step's numbers. At the
 * debugger's position a call that has not run yet is said to be not computed yet. Pure: the run model
 * and the position in, a verdict out (test/webview/selection.test.ts).
 */
import type { DebugPositionInfo } from "../core/protocol";
import type { CallSummary, RunModel } from "../core/run/runModel";
import type { SelectedElement } from "./viewState";

export type ElementAt =
  /** Shown with the numbers of `call` (the element's call in the step shown). */
  | { kind: "shown"; sel: SelectedElement; call: CallSummary }
  /** Remembered, but not computable at this step or position: why, in a sentence. */
  | { kind: "pending"; why: string };

/** Where the selected element `sel` of its layer is at `step` (with the debugger at `debug`), or undefined when the layer has no such call there. */
export function elementAt(run: RunModel, sel: SelectedElement, step: number | undefined, debug: DebugPositionInfo | undefined): ElementAt | undefined {
  const origin = run.call(sel.seq);
  const phase = origin?.phase ?? "backward";
  const name = run.layers.get(sel.layer)?.name ?? `layer ${sel.layer}`;
  let call: CallSummary | undefined;
  if (origin && origin.step === step) call = origin;
  else {
    const ordinal = origin ? Math.max(0, run.callsIn(sel.layer, origin.step).filter((c) => c.phase === phase).findIndex((c) => c.seq === origin.seq)) : 0;
    const here = run.callsIn(sel.layer, step).filter((c) => c.phase === phase);
    call = here[ordinal] ?? here[here.length - 1];
  }
  const at = debug && debug.step === step ? debug : undefined;
  if (!call) {
    // The layer ran this phase in other steps: at the debugger's position it is still to come.
    if (at && run.callsOf(sel.layer).some((c) => c.phase === phase)) return { kind: "pending", why: `Not computed yet at the debugger's position (${at.label}, step ${at.step}): ${name}.${phase} has not run in this step; its chain rule comes when it does (Step Over or Continue).` };
    return undefined;
  }
  if (at && call.seq > at.seq) return { kind: "pending", why: `Not computed yet at the debugger's position (${at.label}, step ${at.step}): ${name}.${phase} runs later in this step; its chain rule comes when it does (Step Over or Continue).` };
  const shape = call.tensors[sel.tensor]?.shape;
  if (!shape) return { kind: "pending", why: `${name}'s ${phase} call of step ${call.step} has no ${sel.tensor}.` };
  const fits = sel.index.length === Math.max(1, Math.min(2, shape.length)) && sel.index.every((i, d) => i >= 0 && i < (shape.length === 1 ? (shape[0] as number) : (shape[d] as number)));
  if (!fits) return { kind: "pending", why: `${name}.${sel.tensor} has shape [${shape.join(", ")}] in step ${call.step}: [${sel.index.join("][")}] is not in it.` };
  return { kind: "shown", sel: call.seq === sel.seq ? sel : { ...sel, seq: call.seq }, call };
}
