#!/usr/bin/env node
// The same integration suites through @vscode/test-electron's runTests(), the way they run under
// desktop VS Code: it downloads VS Code 1.100.3 when it can; offline (as here) it says so and runs the
// suites unchanged in code-server through test/vscode/code-server-as-vscode. `--code-server` skips the
// download attempt. Expects `npm run build` and `tsc -p test/tsconfig.json` first.
//
//   node test/integration/runDesktop.mjs [--code-server] [--suite=trusted|fresh]
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(path.join(repo, "package.json"));
const { downloadAndUnzipVSCode, runTests } = require("@vscode/test-electron");
const wrapper = path.join(repo, "test", "vscode", "code-server-as-vscode");

let vscodeExecutablePath = wrapper;
if (!process.argv.includes("--code-server")) {
  try {
    vscodeExecutablePath = await downloadAndUnzipVSCode("1.100.3");
    console.log(`desktop VS Code: ${vscodeExecutablePath}`);
  } catch (e) {
    console.log(`desktop VS Code could not be downloaded (${String(e?.message ?? e).split("\n")[0]}): running the suites in code-server through ${path.relative(repo, wrapper)}`);
  }
}

const only = process.argv.find((a) => a.startsWith("--suite="))?.slice("--suite=".length);
let failed = 0;
for (const suite of ["trusted", "fresh"].filter((s) => !only || s === only)) {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), `bpl-desktop-${suite}-`));
  if (suite === "trusted") {
    for (const dir of [path.join(repo, "examples"), path.join(repo, "test", "fixtures", "models")]) {
      for (const f of fs.readdirSync(dir)) if (f.endsWith(".ts")) fs.copyFileSync(path.join(dir, f), path.join(ws, f));
    }
  }
  try {
    await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: repo,
      extensionTestsPath: path.join(repo, "out", "test", "integration", "index.js"),
      launchArgs: [ws, "--disable-extensions"],
      extensionTestsEnv: { BPL_SUITE: suite },
    });
    console.log(`suite ${suite}: passed`);
  } catch (e) {
    console.error(`suite ${suite}: failed (${e?.message ?? e})`);
    failed++;
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
