/**
 * The debugger's messages over the control channel between the host and the model's producer (the
 * TypeScript worker or the Python tracer; contract 4 of the plan). JSON-serialisable, tagged `debug/*`.
 *
 * Host → producer:
 * - `debug/configure`: the breakpoints (compiled: conditions as ASTs) and exception filters; sent before
 *   the model starts and again whenever they change (also while paused);
 * - `debug/resume`: run on until a position satisfies `rule` (null: only breakpoints and filters stop);
 * - `debug/pause`: stop at the next position;
 * - `debug/detach`: run to the end without stopping again.
 *
 * Producer → host:
 * - `debug/stopped`: the producer is paused at position `live` and waits for a command. `positions`
 *   are the positions of the current and previous training step that it had not sent before (with
 *   their tensors), `show` the position the stop is about (the live one, or an earlier one for a
 *   filter that noticed a problem after it appeared, such as the first NaN);
 * - `debug/positions`: positions of a recorded step, sent as the step ends (their layer tensors travel in
 *   the trace's `layer/call` events);
 * - `debug/output`: a logpoint's text, or a condition that failed to evaluate (then `breakpoint` is set).
 */
import type { BreakpointSpec, MethodRange } from "./breakpoints";
import type { FilterId, FilterSettings } from "./filters";
import type { Position } from "./positions";
import type { StopRule } from "./stepping";

export type StopReason = "entry" | "step" | "breakpoint" | "function breakpoint" | "exception" | "pause";

export type DebugCommand =
  | { type: "debug/configure"; breakpoints: BreakpointSpec[]; filters: FilterSettings; stopOnEntry?: boolean }
  | { type: "debug/resume"; rule: StopRule | null }
  | { type: "debug/pause" }
  | { type: "debug/detach" };

export type DebugEvent =
  | {
      type: "debug/stopped";
      reason: StopReason;
      /** The position the producer is paused at. */
      live: number;
      /** The position to show (an earlier one when a filter found the problem after it appeared). */
      show: number;
      positions: Position[];
      ranges: MethodRange[];
      /** Breakpoints that caused the stop. */
      hits: number[];
      /** For exceptions: which filter, and a sentence. */
      filter?: FilterId;
      text?: string;
    }
  | { type: "debug/positions"; positions: Position[]; ranges: MethodRange[] }
  | { type: "debug/output"; text: string; category: "console" | "stderr"; breakpoint?: number; position?: number };

const COMMANDS = new Set(["debug/configure", "debug/resume", "debug/pause", "debug/detach"]);
const EVENTS = new Set(["debug/stopped", "debug/positions", "debug/output"]);

/** Accepts a debug command (the producer's guard). */
export function isDebugCommand(x: unknown): x is DebugCommand {
  if (typeof x !== "object" || x === null) return false;
  const o = x as Record<string, unknown>;
  if (typeof o.type !== "string" || !COMMANDS.has(o.type)) return false;
  if (o.type === "debug/configure") return Array.isArray(o.breakpoints) && typeof o.filters === "object" && o.filters !== null;
  if (o.type === "debug/resume") return o.rule === null || (typeof o.rule === "object" && o.rule !== undefined);
  return true;
}

/** Accepts a debug event (the host's guard). */
export function isDebugEvent(x: unknown): x is DebugEvent {
  if (typeof x !== "object" || x === null) return false;
  const o = x as Record<string, unknown>;
  if (typeof o.type !== "string" || !EVENTS.has(o.type)) return false;
  if (o.type === "debug/stopped") return typeof o.live === "number" && typeof o.show === "number" && Array.isArray(o.positions);
  if (o.type === "debug/positions") return Array.isArray(o.positions);
  return typeof o.text === "string";
}
