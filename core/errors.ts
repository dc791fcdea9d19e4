/**
 * Errors the engine throws. Each one names the operation, the argument and the shapes, so that the
 * runner can add the file, line and layer and show one readable sentence.
 */

/** A tensor had the wrong shape for an operation. */
export class ShapeError extends Error {
  override name = "ShapeError";
  constructor(
    message: string,
    /** The operation that refused the shapes, e.g. `"Dense.forward"`. */
    readonly op: string,
    /** The shapes involved, by argument name. */
    readonly shapes: Readonly<Record<string, readonly number[]>> = {},
  ) {
    super(message);
  }
}

/** A value was NaN or ±Infinity where a finite number is needed. */
export class NonFiniteError extends Error {
  override name = "NonFiniteError";
  constructor(
    message: string,
    /** Where the first non-finite value was made, when the tracer found it (file, 1-based line and column). */
    readonly site?: { file: string; line: number; column: number },
  ) {
    super(message);
  }
}

/** A tensor would exceed the element limit of this run (see `configureLimits`). */
export class TensorTooLargeError extends Error {
  override name = "TensorTooLargeError";
  constructor(
    message: string,
    readonly shape: readonly number[],
  ) {
    super(message);
  }
}

/** An argument had the wrong type or an impossible value (not a shape problem). */
export class ArgumentError extends Error {
  override name = "ArgumentError";
}

/** Formats a shape the way the messages print it: `[3, 4]`. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
