import * as assert from "node:assert/strict";
import fc from "fast-check";
import { TextDocument } from "vscode-languageserver-textdocument";
import { type LineChange, type TrackedLine, shiftLine, shiftLines } from "../../extension/server/lineShift";

/** Applies `change` to `text` and returns where tracked line `line` went, checked against the new text. */
function shift(text: string, line: number, change: LineChange, edited = false): { now: TrackedLine | null; lines: string[] } {
  const old = text.split("\n");
  const now = shiftLine({ line, edited }, change, (n) => old[n] ?? "", old.length);
  const doc = TextDocument.create("file:///m.ts", "typescript", 1, text);
  const after = TextDocument.update(doc, [change.range ? { range: change.range, text: change.text } : { text: change.text }], 2).getText();
  return { now, lines: after.split("\n") };
}

const at = (line: number, character: number) => ({ line, character });
const range = (l1: number, c1: number, l2: number, c2: number) => ({ start: at(l1, c1), end: at(l2, c2) });

const SRC = ["import { Dense } from \"backprop-lens\";", "", "const dense1 = new Dense(2, 3);", "  dense1.forward(X);", "dense1.backward(d);"].join("\n");

describe("lineShift: a reported line through one edit", () => {
  it("lines inserted above move it down, unedited", () => {
    const { now, lines } = shift(SRC, 2, { range: range(1, 0, 1, 0), text: "// a\n// b\n" });
    assert.deepEqual(now, { line: 4, edited: false });
    assert.equal(lines[4], "const dense1 = new Dense(2, 3);");
  });

  it("lines deleted above move it up, unedited (Ctrl+Shift+K on the line above)", () => {
    const { now, lines } = shift(SRC, 3, { range: range(1, 0, 2, 0), text: "" });
    assert.deepEqual(now, { line: 2, edited: false });
    assert.equal(lines[2], "  dense1.forward(X);");
    const down = shift(SRC, 4, { range: range(0, 0, 2, 0), text: "" });
    assert.deepEqual(down.now, { line: 2, edited: false });
    assert.equal(down.lines[2], "dense1.backward(d);");
  });

  it("an edit below or on another line leaves it alone", () => {
    assert.deepEqual(shift(SRC, 2, { range: range(4, 0, 4, 6), text: "dense9" }).now, { line: 2, edited: false });
    assert.deepEqual(shift(SRC, 2, { range: range(0, 0, 0, 6), text: "export" }).now, { line: 2, edited: false });
  });

  it("Enter at the start of the line (in the indentation) moves the content down, unedited", () => {
    const r = shift(SRC, 2, { range: range(2, 0, 2, 0), text: "\n" });
    assert.deepEqual(r.now, { line: 3, edited: false });
    assert.equal(r.lines[3], "const dense1 = new Dense(2, 3);");
    const indented = shift(SRC, 3, { range: range(3, 1, 3, 1), text: "\n " });
    assert.deepEqual(indented.now, { line: 4, edited: false });
    assert.equal(indented.lines[4]?.trim(), "dense1.forward(X);");
  });

  it("Enter at the end of the line keeps it where it is, unedited", () => {
    const r = shift(SRC, 2, { range: range(2, 31, 2, 31), text: "\n" });
    assert.deepEqual(r.now, { line: 2, edited: false });
    assert.deepEqual(shift(SRC, 4, { range: range(3, 20, 3, 20), text: "\n  " }).now, { line: 5, edited: false });
  });

  it("typing inside the line's code marks it edited and keeps it", () => {
    const r = shift(SRC, 2, { range: range(2, 25, 2, 26), text: "4" });
    assert.deepEqual(r.now, { line: 2, edited: true });
    assert.equal(r.lines[2], "const dense1 = new Dense(4, 3);");
  });

  it("code added after the content (a comment, a semicolon) marks it edited", () => {
    assert.deepEqual(shift(SRC, 2, { range: range(2, 31, 2, 31), text: " // hidden" }).now, { line: 2, edited: true });
  });

  it("code typed before the content marks it edited", () => {
    assert.deepEqual(shift(SRC, 2, { range: range(2, 0, 2, 0), text: "export " }).now, { line: 2, edited: true });
  });

  it("joining the line onto the one above (Backspace at column 0) moves it up, edited when code precedes it", () => {
    const blankAbove = shift(SRC, 2, { range: range(1, 0, 2, 0), text: "" });
    assert.deepEqual(blankAbove.now, { line: 1, edited: false });
    const joined = shift(SRC, 3, { range: range(2, 31, 3, 0), text: "" });
    assert.deepEqual(joined.now, { line: 2, edited: true });
    assert.equal(joined.lines[2], "const dense1 = new Dense(2, 3);  dense1.forward(X);");
  });

  it("deleting the whole line drops it (also the last line of the file)", () => {
    assert.equal(shift(SRC, 2, { range: range(2, 0, 3, 0), text: "" }).now, null);
    assert.equal(shift(SRC, 4, { range: range(3, 20, 4, 19), text: "" }).now, null);
  });

  it("replacing the line's code with other code keeps it, edited", () => {
    const r = shift(SRC, 2, { range: range(2, 0, 2, 31), text: "const dense1 = new Dense(2, 64);" });
    assert.deepEqual(r.now, { line: 2, edited: true });
  });

  it("a multi-line replacement that starts above keeps the line inside the new text, edited", () => {
    const r = shift(SRC, 3, { range: range(2, 5, 3, 4), text: "X\nY" });
    assert.deepEqual(r.now, { line: 3, edited: true });
  });

  it("an edited line stays edited when it later moves", () => {
    assert.deepEqual(shift(SRC, 2, { range: range(0, 0, 0, 0), text: "\n" }, true).now, { line: 3, edited: true });
  });

  it("CRLF and lone CR count as one line break each", () => {
    assert.deepEqual(shift(SRC, 2, { range: range(1, 0, 1, 0), text: "a\r\nb\rc\n" }).now, { line: 5, edited: false });
  });

  it("a change without a range (the whole text) keeps lines it can place and marks them edited", () => {
    const r = shift(SRC, 2, { text: `${SRC}\n` });
    assert.deepEqual(r.now, { line: 2, edited: true });
    assert.equal(shift(SRC, 2, { text: "" }).now, null);
  });

  it("a reversed range is treated like the forward one", () => {
    assert.deepEqual(shift(SRC, 3, { range: { start: at(2, 0), end: at(1, 0) }, text: "" }).now, { line: 2, edited: false });
  });

  it("shiftLines maps several lines with one change", () => {
    const old = SRC.split("\n");
    const out = shiftLines(
      [
        { line: 2, edited: false },
        { line: 3, edited: false },
        { line: 4, edited: false },
      ],
      { range: range(3, 0, 4, 0), text: "" },
      (n) => old[n] ?? "",
      old.length,
    );
    assert.deepEqual(out, [{ line: 2, edited: false }, null, { line: 3, edited: false }]);
  });

  it("property: a line reported unedited after any edit has exactly its old code at its new position", () => {
    const line = fc.array(fc.constantFrom("a", "b", " ", "(", ")"), { maxLength: 6 }).map((cs) => cs.join(""));
    const doc = fc.array(line, { minLength: 1, maxLength: 6 });
    const insert = fc.array(fc.constantFrom("x", " ", "\n"), { maxLength: 4 }).map((cs) => cs.join(""));
    fc.assert(
      fc.property(doc, fc.nat(), fc.nat(), fc.nat(), fc.nat(), fc.nat(), insert, (lines, tl, l1, c1, l2, c2, text) => {
        const src = lines.join("\n");
        const L = tl % lines.length;
        const p1 = at(l1 % lines.length, 0);
        p1.character = c1 % ((lines[p1.line] as string).length + 1);
        const p2 = at(l2 % lines.length, 0);
        p2.character = c2 % ((lines[p2.line] as string).length + 1);
        const [s, e] = p1.line < p2.line || (p1.line === p2.line && p1.character <= p2.character) ? [p1, p2] : [p2, p1];
        const { now, lines: after } = shift(src, L, { range: { start: s, end: e }, text });
        if (now === null) return;
        assert.ok(now.line >= 0 && now.line < after.length, `line ${now.line} of ${after.length}`);
        if (!now.edited) assert.equal(after[now.line]?.trim(), lines[L]?.trim());
      }),
      { numRuns: 3000 },
    );
  });
});
