#!/usr/bin/env node
// Runs the integration suites in a real VS Code (code-server, see test/vscode/README.md): the trusted
// suite, the untrusted one (workspace trust enabled, folder untrusted), and the fresh-workspace one
// (an empty folder, as a new user has). The first two run in a temporary copy of examples/ plus the
// broken-model and hostile-model fixtures. Expects `npm run build` and
// `tsc -p test/tsconfig.json` to have run (npm run test:integration does both).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { runInVsCode } from "../vscode/runInVsCode.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const ws = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-ws-"));
for (const dir of [path.join(repo, "examples"), path.join(repo, "test", "fixtures", "models"), path.join(repo, "test", "fixtures", "hostile")]) {
  for (const f of fs.readdirSync(dir)) if (f.endsWith(".ts")) fs.copyFileSync(path.join(dir, f), path.join(ws, f));
}
// The Python examples (python.test.ts runs them with the tests' interpreter, contract 5).
for (const f of fs.readdirSync(path.join(repo, "examples", "python"))) {
  if (f.endsWith(".py")) fs.copyFileSync(path.join(repo, "examples", "python", f), path.join(ws, f));
}
// The "fresh" suite starts in an empty folder: no node_modules, no tsconfig, as a new user's workspace.
const fresh = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-fresh-"));
const only = process.argv.find((a) => a.startsWith("--suite="))?.slice("--suite=".length);
const suites = [
  { name: "trusted", trust: false, folder: ws },
  { name: "debug", trust: false, folder: ws },
  { name: "untrusted", trust: true, folder: ws },
  { name: "fresh", trust: false, folder: fresh },
].filter((s) => !only || s.name === only);

let failed = 0;
for (const s of suites) {
  console.log(`\n=== integration suite: ${s.name}`);
  const { exitCode } = await runInVsCode({
    extensionDevelopmentPath: repo,
    extensionTestsPath: path.join(repo, "out", "test", "integration", "index.js"),
    folder: s.folder,
    name: `integration-${s.name}`,
    workspaceTrust: s.trust ? "enabled" : "disabled",
    env: { BPL_SUITE: s.name },
  });
  if (exitCode !== 0) failed++;
}
fs.rmSync(ws, { recursive: true, force: true });
fs.rmSync(fresh, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
