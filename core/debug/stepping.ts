/**
 * Stepping over a timeline of positions (ordered by completion, `positions.ts`):
 *
 * - Step Over (`next`): the next position at this depth or shallower;
 * - Step Into (`stepIn`): the next position, whatever its depth (into the calls a custom layer makes,
 *   into an optimizer update per parameter);
 * - Step Out (`stepOut`): the next position shallower than this one; from depth 0, the first position
 *   of the next training step;
 * - Continue: the next breakpoint hit;
 * - Step Back (`stepBack`): the previous position at this depth or shallower (Step Over backwards);
 * - Reverse Continue: the previous breakpoint hit, else the first position the timeline holds.
 *
 * Forward steps first walk what the host already knows (after stepping back); past its end they go on
 * live in the model's worker with the same rule (`StopRule`), which the worker checks itself.
 */
import { type Position, depthOf } from "./positions";

export type StepKind = "next" | "stepIn" | "stepOut" | "continue" | "stepBack" | "reverseContinue";

/** Which positions a forward step stops at (breakpoints stop it anyway). */
export interface StopRule {
  /** Stop at a position at most this deep. */
  maxDepth?: number;
  /** Stop at a position of this step or later. */
  minStep?: number;
}

/** The rule of a forward step from `from`; `null` for Continue (only breakpoints and filters stop it). */
export function stopRule(kind: "next" | "stepIn" | "stepOut" | "continue", from: Pick<Position, "open" | "step">): StopRule | null {
  switch (kind) {
    case "next":
      return { maxDepth: depthOf(from) };
    case "stepIn":
      return {};
    case "stepOut":
      return depthOf(from) > 0 ? { maxDepth: depthOf(from) - 1 } : { minStep: from.step + 1 };
    case "continue":
      return null;
  }
}

/** True when `p` satisfies `rule`. */
export function satisfies(rule: StopRule, p: Pick<Position, "open" | "step">): boolean {
  if (rule.maxDepth !== undefined && p.open.length > rule.maxDepth) return false;
  if (rule.minStep !== undefined && p.step < rule.minStep) return false;
  return true;
}

export type StepPlan =
  /** Move to `timeline[index]`. */
  | { to: number; reason: "step" | "breakpoint" }
  /** Nothing known fits: let the model run on with this rule (null: until a breakpoint). */
  | { live: StopRule | null }
  /** Nothing known fits and the model is not paused at the end of the timeline (it finished). */
  | { end: true }
  /** Going back, nothing fits: the first position the timeline holds. */
  | { start: number };

/**
 * Plans a step from `timeline[at]`. `hit` says whether a breakpoint stops at a known position (host side);
 * `liveAtEnd` is true when the model is paused at the timeline's last position.
 */
export function planStep(kind: StepKind, timeline: readonly Position[], at: number, hit: (p: Position) => boolean, liveAtEnd: boolean): StepPlan {
  const from = timeline[at];
  if (from === undefined) return liveAtEnd ? { live: null } : { end: true };
  if (kind === "stepBack" || kind === "reverseContinue") {
    const d = depthOf(from);
    for (let i = at - 1; i >= 0; i--) {
      const p = timeline[i] as Position;
      if (hit(p)) return { to: i, reason: "breakpoint" };
      if (kind === "stepBack" && depthOf(p) <= d) return { to: i, reason: "step" };
    }
    return { start: 0 };
  }
  const rule = stopRule(kind, from);
  for (let i = at + 1; i < timeline.length; i++) {
    const p = timeline[i] as Position;
    if (hit(p)) return { to: i, reason: "breakpoint" };
    if (rule && satisfies(rule, p)) return { to: i, reason: "step" };
  }
  return liveAtEnd ? { live: rule } : { end: true };
}

/** The positions missing between two neighbours of a timeline (not recorded), as a sentence, or undefined. */
export function gapText(a: Position, b: Position): string | undefined {
  const lo = a.id < b.id ? a : b;
  const hi = a.id < b.id ? b : a;
  if (hi.id - lo.id <= 1) return undefined;
  const missing = hi.id - lo.id - 1;
  const steps = hi.step - lo.step - 1;
  if (steps > 0) {
    const which = steps === 1 ? `step ${lo.step + 1} was` : `steps ${lo.step + 1}–${hi.step - 1} were`;
    return `${which} not kept: jumped between step ${lo.step} and step ${hi.step} (${missing} positions in between)`;
  }
  return `${missing} position${missing === 1 ? " was" : "s were"} not kept between these two`;
}
