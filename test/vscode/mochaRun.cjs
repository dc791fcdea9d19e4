// Shared `run()` body for test modules that run INSIDE the VS Code extension host (the contract of
// @vscode/test-electron: the module exports `run(): Promise<void>`; resolve = pass, reject = fail).
//
//   // out/test/suite/index.js (CommonJS)
//   const { runMocha } = require('<repo>/test/vscode/mochaRun.cjs');
//   exports.run = () => runMocha({ testsRoot: __dirname, pattern: /\.test\.js$/ });
//   // or: runMocha({ files: [require.resolve('./a.test.js')], timeout: 30000 })
//
// - mocha is required from this file's location, i.e. <repo>/node_modules/mocha, so a test module that
//   lives anywhere (even outside the repo) works without bundling mocha.
// - Writes a JSON summary to $BPL_TEST_RESULT_FILE when set (runInVsCode.mjs sets it; the second signal
//   next to the workbench's exit code): { passed, failed, pending, total, durationMs, failures: [...] }.
// - $BPL_TEST_GREP filters tests (mocha --grep), $BPL_TEST_TIMEOUT sets the per-test timeout (ms).
// - Output goes through console.log (spec reporter, no colours unless $BPL_MOCHA_COLOR=1): the extension
//   host forwards it to the workbench, which hands it to runInVsCode.mjs (codeAutomationLog).
'use strict';
const fs = require('fs');
const path = require('path');

function findFiles(dir, pattern) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...findFiles(p, pattern));
    } else if (pattern.test(entry.name)) {
      out.push(p);
    }
  }
  return out.sort();
}

/**
 * @param {{ files?: string[], testsRoot?: string, pattern?: RegExp, timeout?: number, mochaOptions?: object }} opts
 * @returns {Promise<void>}
 */
function runMocha(opts = {}) {
  const Mocha = require('mocha');
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: process.env.BPL_MOCHA_COLOR === '1',
    timeout: Number(process.env.BPL_TEST_TIMEOUT) || opts.timeout || 20000,
    ...(opts.mochaOptions || {}),
  });
  if (process.env.BPL_TEST_GREP) mocha.grep(process.env.BPL_TEST_GREP);
  const files = opts.files || findFiles(opts.testsRoot, opts.pattern || /\.test\.c?js$/);
  if (!files.length) return Promise.reject(new Error(`no test files found (${opts.testsRoot})`));
  for (const f of files) mocha.addFile(f);

  const started = Date.now();
  const failures = [];
  return new Promise((resolve, reject) => {
    let runner;
    try {
      runner = mocha.run((failed) => {
        const stats = runner.stats || {};
        const summary = {
          passed: stats.passes ?? 0,
          failed: failed,
          pending: stats.pending ?? 0,
          total: runner.total,
          durationMs: Date.now() - started,
          failures,
        };
        const resultFile = process.env.BPL_TEST_RESULT_FILE;
        if (resultFile) {
          try {
            fs.mkdirSync(path.dirname(resultFile), { recursive: true });
            fs.writeFileSync(resultFile, JSON.stringify(summary, null, 2));
          } catch (e) {
            console.error(`could not write ${resultFile}: ${e.message}`);
          }
        }
        if (failed > 0) reject(new Error(`${failed} test(s) failed.`));
        else if (summary.passed === 0) reject(new Error('no test ran'));
        else resolve();
      });
      runner.on('fail', (test, err) => {
        failures.push({ fullTitle: test.fullTitle(), message: err && err.message, stack: err && err.stack });
      });
    } catch (e) {
      reject(e);
    }
  });
}

module.exports = { runMocha };
