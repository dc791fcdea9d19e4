/**
 * core/ imports nothing from vscode, the DOM or Node (its tsconfig has no DOM or Node types, so
 * using them does not compile; this test also rejects every import that is not a relative path).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.join(__dirname, "..", "..", "..");

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
}

describe("dependency rules", () => {
  it("core/ imports only other core/ files", () => {
    const bad: string[] = [];
    for (const f of files(path.join(root, "core"))) {
      // Comments may show model-file imports ("backprop-lens") and name what is forbidden.
      const text = fs.readFileSync(f, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      for (const m of text.matchAll(/(?:import|export)[^;]*?from\s*["']([^"']+)["']|require\(\s*["']([^"']+)["']\s*\)|import\(\s*["']([^"']+)["']\s*\)/g)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? "";
        if (!spec.startsWith(".")) bad.push(`${path.relative(root, f)}: ${spec}`);
        else if (!path.resolve(path.dirname(f), spec).startsWith(path.join(root, "core"))) bad.push(`${path.relative(root, f)}: ${spec} (outside core/)`);
      }
      if (/\bMath\.random\(/.test(text)) bad.push(`${path.relative(root, f)}: Math.random (randomness must be injected)`);
    }
    assert.deepEqual(bad, []);
  });

  it("core/ is compiled without DOM or Node types", () => {
    const tsconfig = fs.readFileSync(path.join(root, "core", "tsconfig.json"), "utf8");
    assert.match(tsconfig, /"lib":\s*\["ES2022"\]/);
    assert.match(tsconfig, /"types":\s*\[\]/);
  });

  it("the runner and the CLI import nothing from vscode (the CLI runs without VS Code)", () => {
    for (const dir of ["runner", "cli"]) {
      for (const f of files(path.join(root, "extension", dir))) {
        assert.doesNotMatch(fs.readFileSync(f, "utf8"), /from\s*["']vscode["']/, f);
      }
    }
  });

  it("the webview imports nothing from vscode or Node", () => {
    const dir = path.join(root, "webview");
    if (!fs.existsSync(dir)) return;
    for (const f of files(dir)) {
      assert.doesNotMatch(fs.readFileSync(f, "utf8"), /from\s*["'](?:vscode|node:[\w/]+|fs|path|worker_threads)["']/, f);
    }
  });
});
