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

/** What a core/ file breaks of the rule: imports that are not relative or leave core/, and Math.random. */
function coreViolations(file: string, source: string): string[] {
  const bad: string[] = [];
  // Comments may show model-file imports ("backprop-lens") and name what is forbidden.
  const text = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  for (const m of text.matchAll(/(?:import|export)[^;]*?from\s*["']([^"']+)["']|require\(\s*["']([^"']+)["']\s*\)|import\(\s*["']([^"']+)["']\s*\)/g)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? "";
    if (!spec.startsWith(".")) bad.push(`${path.relative(root, file)}: ${spec}`);
    else if (!path.resolve(path.dirname(file), spec).startsWith(path.join(root, "core"))) bad.push(`${path.relative(root, file)}: ${spec} (outside core/)`);
  }
  if (/\bMath\.random\(/.test(text)) bad.push(`${path.relative(root, file)}: Math.random (randomness must be injected)`);
  return bad;
}

/** An import of vscode or of Node's modules (the webview's rule; the runner's, CLI's and server's is vscode only). */
const VSCODE_OR_NODE = /from\s*["'](?:vscode|node:[\w/]+|fs|path|worker_threads)["']/;
const VSCODE = /from\s*["']vscode["']/;

describe("dependency rules", () => {
  it("the checks find what they forbid (so a pass means something)", () => {
    const f = path.join(root, "core", "x.ts");
    assert.equal(coreViolations(f, 'import * as fs from "node:fs";').length, 1);
    assert.equal(coreViolations(f, 'import * as vscode from "vscode";').length, 1);
    assert.equal(coreViolations(f, 'import { a } from "../extension/a";').length, 1);
    assert.equal(coreViolations(f, "const r = Math.random();").length, 1);
    assert.equal(coreViolations(f, 'import { a } from "./tensor";\n// import * as fs from "fs"').length, 0);
    assert.match('import * as path from "path";', VSCODE_OR_NODE);
    assert.match("import * as vscode from 'vscode';", VSCODE);
  });

  it("core/ imports only other core/ files", () => {
    const all = files(path.join(root, "core"));
    assert.ok(all.length > 20, `core/ has its files (${all.length})`);
    const bad = all.flatMap((f) => coreViolations(f, fs.readFileSync(f, "utf8")));
    assert.deepEqual(bad, []);
  });

  it("core/ is compiled without DOM or Node types", () => {
    const tsconfig = fs.readFileSync(path.join(root, "core", "tsconfig.json"), "utf8");
    assert.match(tsconfig, /"lib":\s*\["ES2022"\]/);
    assert.match(tsconfig, /"types":\s*\[\]/);
  });

  it("the runner, the CLI and the language server import nothing from vscode (they run without VS Code's API)", () => {
    for (const dir of ["runner", "cli", "server"]) {
      const all = files(path.join(root, "extension", dir));
      assert.ok(all.length > 0, `extension/${dir} has its files`);
      for (const f of all) assert.doesNotMatch(fs.readFileSync(f, "utf8"), VSCODE, f);
    }
  });

  it("the trace types import nothing (another producer writes them too), and the worker protocol no compiler", () => {
    const imports = (rel: string) => [...fs.readFileSync(path.join(root, rel), "utf8").matchAll(/^\s*(?:import|export)[^;]*?from\s*["']([^"']+)["']/gm)].map((m) => m[1]);
    assert.deepEqual(imports("core/trace/traceTypes.ts"), []);
    const protocol = imports("extension/runner/workerProtocol.ts");
    assert.ok(protocol.length > 0, "the worker protocol's imports are read");
    assert.deepEqual(protocol.filter((spec) => /compile|esbuild/.test(spec ?? "")), []);
  });

  it("the webview imports nothing from vscode or Node", () => {
    const all = files(path.join(root, "webview"));
    assert.ok(all.some((f) => f.endsWith(path.join("webview", "main.ts"))) && all.length > 10, `webview/ has its files (${all.length})`);
    for (const f of all) assert.doesNotMatch(fs.readFileSync(f, "utf8"), VSCODE_OR_NODE, f);
  });
});
