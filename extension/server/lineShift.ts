/**
 * Keeps a run's results on the right lines while the user edits: given one incremental change of a
 * document (an LSP `TextDocumentContentChangeEvent`), where does a line that the run reported
 * end up, and was its code touched?
 *
 * A tracked line's *content* is its non-whitespace span `[a, b)`. A change replaces the range
 * `[s, e)` with text `T` (n line breaks):
 * - range wholly above the line: the line moves by `n − (e.line − s.line)`;
 * - range ends at or before the content (`e ≤ (L, a)`), e.g. lines inserted or deleted above, Enter
 *   in the indentation: the content moves to line `s.line + n`; it is *edited* when other code now
 *   stands before it on that line;
 * - range starts at or after the content (`s ≥ (L, b)`), e.g. Enter at the end of the line: the line
 *   stays; it is *edited* when code now follows the content on that line (a `;`, a comment);
 * - otherwise the content itself was touched: if the range covers it all and `T` is blank, the line
 *   was deleted (`null`); else the line is edited and stays where the change put its start.
 * Pure: no LSP connection, no documents, only the text of the old lines through a callback.
 */

export interface Position {
  /** 0-based line. */
  line: number;
  /** 0-based UTF-16 offset in the line. */
  character: number;
}

/** One content change as LSP sends it; without a range, `text` replaces the whole document. */
export interface LineChange {
  range?: { start: Position; end: Position };
  text: string;
}

/** A line the server follows through edits. */
export interface TrackedLine {
  /** 0-based line in the current text. */
  line: number;
  /** True once the line's code was changed by an edit since the run. */
  edited: boolean;
}

const NON_WS = /\S/;

function before(p: Position, q: Position): boolean {
  return p.line < q.line || (p.line === q.line && p.character < q.character);
}

/** Line breaks of `text` (`\r\n`, `\n` or `\r`), the text before the first and after the last. */
function splitBreaks(text: string): { breaks: number; first: string; last: string } {
  const parts = text.split(/\r\n|\r|\n/);
  return { breaks: parts.length - 1, first: parts[0] as string, last: parts[parts.length - 1] as string };
}

/**
 * Where tracked line `t` is after `change`, or null when the change deleted it.
 * `oldLine(n)` is the text of line n before the change (no line break); `lineCount` the number of
 * lines before the change (used only for a change without a range).
 */
export function shiftLine(t: TrackedLine, change: LineChange, oldLine: (line: number) => string, lineCount: number): TrackedLine | null {
  const last = Math.max(0, lineCount - 1);
  let s = change.range?.start ?? { line: 0, character: 0 };
  let e = change.range?.end ?? { line: last, character: oldLine(last).length };
  if (before(e, s)) [s, e] = [e, s];
  const L = t.line;
  const { breaks: n, first, last: lastPart } = splitBreaks(change.text);
  if (L < s.line) return t;
  if (L > e.line) return { line: L + n - (e.line - s.line), edited: t.edited };

  const text = oldLine(L);
  const a = text.search(NON_WS);
  const blank = a < 0;
  const start = blank ? 0 : a;
  const end = blank ? 0 : text.trimEnd().length;
  const contentStart = { line: L, character: start };
  const contentEnd = { line: L, character: end };

  if (!before(contentStart, e)) {
    // The change ends at or before the content: the content moves to the line where T ends.
    const prefix = n === 0 ? oldLine(s.line).slice(0, s.character) + change.text : lastPart;
    return { line: s.line + n, edited: t.edited || NON_WS.test(prefix) };
  }
  if (!before(s, contentEnd)) {
    // The change starts at or after the content (so on this line): the content stays.
    const suffix = n === 0 ? change.text + oldLine(e.line).slice(e.character) : first;
    return { line: L, edited: t.edited || NON_WS.test(suffix) };
  }
  const covered = !before(contentStart, s) && !before(e, contentEnd);
  if (covered && !NON_WS.test(change.text)) return null;
  return { line: s.line + Math.min(L - s.line, n), edited: true };
}

/** `shiftLine` over several lines (same change, same old text). */
export function shiftLines(lines: readonly TrackedLine[], change: LineChange, oldLine: (line: number) => string, lineCount: number): (TrackedLine | null)[] {
  return lines.map((t) => shiftLine(t, change, oldLine, lineCount));
}
