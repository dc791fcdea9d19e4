#!/usr/bin/env node
// Self-test of the harness with the fixture extension (about 1 minute once code-server is installed):
//   1. mocha suite in the extension host via runInVsCode (workspace trust disabled, isTrusted === true)
//   2. the same suite with workspace trust enabled: the folder is untrusted (isTrusted === false), no modal
//   3. the same suite through @vscode/test-electron's runTests() with ./code-server-as-vscode
//   4. the UI e2e demo (F1 command, webview text, light/dark screenshots, hover, cursor, reload restore)
//   node test/vscode/selftest.mjs        -> last line "harness: N passed, N failed"; exit 1 on any failure
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const fx = path.join(here, 'fixture-ext');
const suite = [`--extensionDevelopmentPath=${fx}`, `--extensionTestsPath=${path.join(fx, 'suite', 'index.js')}`];
const steps = [
  ['extension host suite (trust disabled)', [path.join(here, 'runInVsCode.mjs'), ...suite, '--env=BPL_EXPECT_TRUSTED=true', '--name=selftest-trusted', path.join(fx, 'workspace')]],
  ['extension host suite (trust enabled, folder untrusted)', [path.join(here, 'runInVsCode.mjs'), ...suite, '--enable-workspace-trust', '--env=BPL_EXPECT_TRUSTED=false', '--name=selftest-untrusted', path.join(fx, 'workspace')]],
  ['@vscode/test-electron runTests()', [path.join(here, 'runWithTestElectron.mjs')]],
  ['UI e2e demo', [path.join(fx, 'e2e.mjs')]],
];
let passed = 0;
let failed = 0;
for (const [name, args] of steps) {
  const t = Date.now();
  console.log(`\n### ${name}`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  const ok = r.status === 0;
  if (ok) passed++; else failed++;
  console.log(`### ${ok ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`}: ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}
console.log(`harness: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
