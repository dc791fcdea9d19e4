/**
 * The engine's only process-wide state, kept in one object so it is easy to find and to reset.
 *
 * A model file never touches this; the runner (CLI or extension worker) configures it before the
 * model runs. Untraced, unlimited use (tests, benchmarks, a plain script) leaves the defaults.
 */
import type { Tracer } from "./trace/tracer";

export interface Runtime {
  /** Largest number of elements one tensor may have; a bigger allocation throws `TensorTooLargeError`. */
  maxElements: number;
  /** The tracer observing this run, or undefined (then nothing is observed and nothing is paid). */
  tracer: Tracer | undefined;
  /** Told of every tensor allocation (bytes, shape) so the runner can enforce a memory limit; may throw. */
  onAlloc: ((bytes: number, shape: readonly number[]) => void) | undefined;
}

export const runtime: Runtime = {
  maxElements: 2 ** 28,
  tracer: undefined,
  onAlloc: undefined,
};

/** Sets the element limit for every tensor the engine allocates from now on. */
export function configureLimits(limits: { maxElements?: number }): void {
  if (limits.maxElements !== undefined) runtime.maxElements = limits.maxElements;
}
