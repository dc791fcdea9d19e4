#!/usr/bin/env node
// Proves that suites written for @vscode/test-electron run unchanged here: calls its runTests() with
// vscodeExecutablePath = ./code-server-as-vscode (code-server + headless Chromium instead of a downloaded
// desktop VS Code). Defaults to the fixture extension and a temporary folder.
//
//   node test/vscode/runWithTestElectron.mjs
//   node test/vscode/runWithTestElectron.mjs --extensionDevelopmentPath=<dir> --extensionTestsPath=<index.js> [folder]
//
// For the project's own suites the same call works with the project's paths; on a machine with internet
// (or a cached desktop VS Code) drop vscodeExecutablePath and runTests() downloads desktop VS Code instead.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const require = createRequire(path.join(repo, 'package.json'));
const { runTests } = require('@vscode/test-electron');

const args = process.argv.slice(2);
const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const extensionDevelopmentPath = path.resolve(opt('extensionDevelopmentPath') || path.join(here, 'fixture-ext'));
const extensionTestsPath = path.resolve(opt('extensionTestsPath') || path.join(here, 'fixture-ext', 'suite', 'index.js'));
let folder = args.find((a) => !a.startsWith('--'));
let tmp;
if (!folder) {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-te-ws-'));
  folder = tmp;
}

let code = 0;
try {
  await runTests({
    vscodeExecutablePath: path.join(here, 'code-server-as-vscode'),
    extensionDevelopmentPath,
    extensionTestsPath,
    launchArgs: [path.resolve(folder), '--disable-extensions'],
    extensionTestsEnv: { BPL_FIXTURE_ENV: 'from-test-electron' },
  });
  console.log('runTests() resolved: tests passed');
} catch (e) {
  console.error(`runTests() rejected: ${e.message}`);
  code = 1;
} finally {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
