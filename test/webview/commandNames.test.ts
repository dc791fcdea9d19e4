/**
 * The inspector's texts name commands that exist (issue 12: the empty inspector told users to run
 * "Backprop Lens: Run Model", which is no command). Every "Backprop Lens: <title>" in the webview's
 * sources must be the title of a command the extension contributes.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(__dirname, "..", "..", "..");

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? (e.name === "dev" ? [] : sources(p)) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("webview texts name real commands", () => {
  it("every “Backprop Lens: …” in the inspector is a contributed command's title", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { contributes: { commands: { title: string; category?: string }[] } };
    const titles = new Set(manifest.contributes.commands.map((c) => c.title));
    const named: string[] = [];
    for (const file of sources(path.join(root, "webview"))) {
      for (const m of fs.readFileSync(file, "utf8").matchAll(/Backprop Lens: ([A-Z][\w ]*?[a-z])(?=[^\w ]|$| \(| \u25b6)/g)) named.push(m[1] as string);
    }
    assert.ok(named.length > 0, "the empty inspector names a command");
    for (const t of named) assert.ok(titles.has(t), `"Backprop Lens: ${t}" is not a command (${[...titles].join(", ")})`);
  });
});
