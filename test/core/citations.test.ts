/**
 * What the comments of the build and lint configurations cite exists in the repository: every file or
 * folder they name (build outputs under dist/ excepted) and every section of a doc they quote
 * (`docs/architecture.md ("Dependencies between the parts")` must be a heading of that page).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.join(__dirname, "..", "..", "..");

/**
 * The comment text of a JavaScript file, lines joined with spaces (so citations may wrap). Block comments
 * count where they start a line (a glob such as "dist/**" in code is not one).
 */
function commentText(source: string): string {
  const blocks = [...source.matchAll(/^\s*\/\*[\s\S]*?\*\//gm)].map((m) => m[0].replace(/^\s*\/?\*+\/?/gm, " "));
  const lines = [...source.matchAll(/(?:^|\s)\/\/(.*)$/gm)].map((m) => m[1] ?? "");
  return [...blocks, lines.join(" ")].join(" ").replace(/\s+/g, " ");
}

/** What a comment cites that is missing: paths (relative to the repository) and quoted sections of docs. */
function missingCitations(comments: string, exists: (rel: string) => boolean, headings: (rel: string) => string[]): string[] {
  const missing: string[] = [];
  for (const m of comments.matchAll(/(?<![\w/.:-])((?:[\w.-]+\/)+(?:[\w.-]*[\w-])?|[\w-]+\.md\b)/g)) {
    const rel = (m[1] ?? "").replace(/\/$/, "");
    if (rel.startsWith("dist") || rel.startsWith("out") || !/[a-z]/i.test(rel)) continue;
    if (!exists(rel)) missing.push(rel);
  }
  for (const m of comments.matchAll(/((?:[\w.-]+\/)*[\w-]+\.md)((?:[^"]{0,12}"[^"]+")+)/g)) {
    const doc = m[1] ?? "";
    if (!exists(doc)) continue; // already said above
    const have = headings(doc);
    for (const q of (m[2] ?? "").matchAll(/"([^"]+)"/g)) if (!have.includes(q[1] ?? "")) missing.push(`${doc} "${q[1]}"`);
  }
  return missing;
}

const existsInRepo = (rel: string): boolean => fs.existsSync(path.join(root, rel));
const headingsOf = (rel: string): string[] =>
  fs
    .readFileSync(path.join(root, rel), "utf8")
    .split("\n")
    .filter((l) => /^#+ /.test(l))
    .map((l) => l.replace(/^#+ /, "").trim());

describe("citations in the configurations' comments", () => {
  it("the check finds a missing file, a missing section and a bare file name (so a pass means something)", () => {
    const docs = (rel: string) => (rel === "docs/a.md" ? ["Here"] : []);
    const exists = (rel: string) => rel === "docs/a.md" || rel === "core";
    assert.deepEqual(missingCitations('see docs/a.md ("Here") and core/', exists, docs), []);
    assert.deepEqual(missingCitations('see docs/a.md ("Gone")', exists, docs), ['docs/a.md "Gone"']);
    assert.deepEqual(missingCitations("see docs/b.md and MODELS.md", exists, docs), ["docs/b.md", "MODELS.md"]);
    assert.deepEqual(missingCitations("built into dist/webview/ from node:fs", exists, docs), []);
    const text = commentText('// one "a"\n/**\n * two\n */\nconst x = "docs/none.md";');
    assert.match(text, /one "a".*two|two.*one "a"/);
    assert.doesNotMatch(text, /none/, "code is not a comment");
    assert.doesNotMatch(commentText('const x = "docs/none.md"; // fine'), /none/);
    assert.doesNotMatch(commentText('ignores: ["dist/**", "docs/none/**"], // fine'), /none/);
  });

  for (const file of ["esbuild.mjs", "eslint.config.mjs"]) {
    it(`${file}: every file, folder and doc section its comments cite exists`, () => {
      const comments = commentText(fs.readFileSync(path.join(root, file), "utf8"));
      assert.ok(comments.length > 200, "its comments are read");
      assert.deepEqual(missingCitations(comments, existsInRepo, headingsOf), []);
    });
  }
});
