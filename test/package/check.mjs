#!/usr/bin/env node
// Packages the extension the way it ships (`npm run package`: vsce package --no-dependencies) and checks that vsce
// printed no warning and that the VSIX holds only what runs: the bundles, the esbuild binary, the
// webview assets, the engine package and templates, the icon and walkthrough images, and the manifest
// files. No sources, tests, source maps or node_modules.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bpl-pkg-")), "backprop-lens.vsix");
// The project's own packaging command (`npm run package`), into a temporary file.
const r = spawnSync("npm", ["run", "--silent", "package", "--", "--out", out], { cwd: repo, encoding: "utf8" });
const text = `${r.stdout}\n${r.stderr}`;
assert.equal(r.status, 0, `vsce package failed:\n${text}`);
assert.doesNotMatch(text, /WARNING|warning:/i, `vsce printed a warning:\n${text}`);

const list = spawnSync("unzip", ["-Z1", out], { encoding: "utf8" });
assert.equal(list.status, 0, list.stderr);
const files = list.stdout.split("\n").filter((f) => f.startsWith("extension/")).map((f) => f.slice("extension/".length));
const allowed = [/^dist\/(extension|server|shapesWorker|worker|modelProcess|traceFile)\.js$/, /^dist\/bin\/esbuild(\.exe)?$/, /^dist\/webview\/[^/]+\.(js|css|woff2?|ttf)$/, /^dist\/npm\/backprop-lens\//, /^dist\/templates\/[\w-]+\.ts$/, /^media\/icon\.png$/, /^python\/bpl_run\.py$/, /^python\/backprop_lens_tracer\/[\w/]+\.py$/, /^media\/walkthrough\/[\w-]+\.png$/, /^(package\.json|README\.md|CHANGELOG\.md|LICENSE\.txt|LICENSE)$/i];
const unexpected = files.filter((f) => !allowed.some((re) => re.test(f)));
assert.deepEqual(unexpected, [], "files that do not run are in the VSIX");
for (const needed of ["dist/extension.js", "dist/server.js", "dist/shapesWorker.js", "dist/worker.js", "dist/modelProcess.js", "dist/traceFile.js", "dist/webview/main.js", "dist/webview/main.css", "dist/npm/backprop-lens/types/index.d.ts", "dist/templates/04-spiral-model.ts", "python/bpl_run.py", "python/backprop_lens_tracer/runner.py", "python/backprop_lens_tracer/fallback/nnfs/datasets/__init__.py", "package.json"]) {
  assert.ok(files.includes(needed), `${needed} is in the VSIX`);
}
assert.ok(files.some((f) => f.startsWith("dist/bin/esbuild")), "the esbuild binary is in the VSIX");
const size = fs.statSync(out).size;
console.log(`package: ok, ${files.length} files, ${(size / 2 ** 20).toFixed(1)} MB, no warnings (${out})`);
fs.rmSync(path.dirname(out), { recursive: true, force: true });
