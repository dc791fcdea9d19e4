/**
 * The lines of a user-written layer method (`LeakyReLU.backward`) in the user's file, so a breakpoint
 * on a line inside it can stop when its call completes. The method's source text (what
 * `Function.prototype.toString` gives for a method written in the bundle) is found in the bundle and
 * both ends are mapped back through the source map. Engine classes are not in the bundle: no range.
 */
import type { MethodRange } from "../../../core/debug/index";
import type { Phase } from "../../../core/host";
import type { BundleSites } from "../../runner/sites";

export function methodRangeFinder(code: string, sites: BundleSites): (fn: (...a: never[]) => unknown, className: string, phase: Phase) => MethodRange | undefined {
  return (fn, className, phase) => {
    let text: string;
    try {
      text = Function.prototype.toString.call(fn);
    } catch {
      return undefined;
    }
    if (text.length < 8 || text.includes("[native code]")) return undefined;
    const at = code.indexOf(text);
    if (at < 0) return undefined;
    const start = lineColumn(code, at);
    const end = lineColumn(code, at + text.length - 1);
    const a = sites.mapPosition(start.line, start.column);
    const b = sites.mapPosition(end.line, end.column);
    if (a === null || b === null || a.file !== b.file || b.line < a.line) return undefined;
    return { className, phase, file: a.file, startLine: a.line, endLine: b.line };
  };
}

/** 1-based line and column of an offset. */
function lineColumn(code: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = code.indexOf("\n"); i >= 0 && i < offset; i = code.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}
