#!/usr/bin/env node
// Runs an extension's integration tests inside a REAL VS Code (code-server 1.100.3's Node extension host),
// driven by headless Debian Chromium through playwright-core. Offline; no VS Code download.
//
// CLI (desktop-style arguments, so @vscode/test-electron can call it through ./code-server-as-vscode):
//   node test/vscode/runInVsCode.mjs --extensionDevelopmentPath=/abs/ext --extensionTestsPath=/abs/ext/out/test/suite/index.js /abs/folder
//   options of ours: --timeout=<seconds> (default $BPL_TEST_TIMEOUT_S or 600), --artifacts=<dir>
//     (default $BPL_ARTIFACTS or <repo>/test-artifacts), --name=<label for artifacts>, --headed,
//     --enable-workspace-trust (trust on; the folder opens untrusted, no modal), --env=KEY=VALUE (repeatable),
//     --setting=key=<json value> (repeatable; user settings.json), --theme=light|dark
//   ignored (desktop flags): --disable-extensions, --no-sandbox, --user-data-dir=..., --extensions-dir=...,
//     --skip-welcome, --disable-gpu..., and any other --flag. --disable-workspace-trust is the default.
//   exit code: the tests' (0 pass, 1 fail/timeout/crash). Last line: "vscode: N passed, N failed".
//
// API:
//   import { runInVsCode } from './runInVsCode.mjs';
//   const { exitCode, result } = await runInVsCode({ extensionDevelopmentPath, extensionTestsPath, folder,
//     env, workspaceTrust: 'disabled'|'enabled', settings, timeoutMs, artifactsDir, name });
//
// The test module (CommonJS, exports run(): Promise<void>) runs in the extension host with these env vars:
//   BPL_TEST_RESULT_FILE  where to write a JSON summary ({ passed, failed, failures }) -> see mochaRun.cjs
//   BPL_ARTIFACTS         artifacts folder; BPL_WORKSPACE_FOLDER the opened folder; BPL_IN_CODE_SERVER=1
// Results: the workbench calls window.codeAutomationExit(code) when run() settles; the mocha output comes
// through window.codeAutomationLog(type, message). On failure a screenshot, the code-server log and the
// browser console are saved into the artifacts folder.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { remoteUri, startCodeServer, workbenchUrl, readTail } from './codeServer.mjs';
import { CHROMIUM_PATH, REPO_ROOT, checkPrerequisites, ensureCodeServer } from './installCodeServer.mjs';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-default-apps',
  '--disable-features=Translate,MediaRouter,OptimizationHints', '--no-default-browser-check',
];

// Workbench start-up chatter that codeAutomationLog also receives (shown with BPL_DEBUG=1).
const WORKBENCH_NOISE = /^(Resolving connection token|Resolved connection token|Creating a socket|Ignoring fetching additional builtin extensions|Updating additional builtin extensions cache|\[Service Worker\]|ChatSessionStore: Migrating|Started local extension host|Loading development extension|Extension host \(\w+\) is started)/;

export function artifactsDir() {
  return path.resolve(process.env.BPL_ARTIFACTS || path.join(REPO_ROOT, 'test-artifacts'));
}

export const THEMES = { light: 'Default Light Modern', dark: 'Default Dark Modern' };

/** playwright-core, resolved from the repo (it is a devDependency of the project). */
export async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch {
    const { createRequire } = await import('node:module');
    const req = createRequire(path.join(REPO_ROOT, 'package.json'));
    return req('playwright-core');
  }
}

/** Chromium with the offline-safe flags; every request not to loopback/data:/blob: is aborted. */
export async function launchBrowser({ headless = true, extraArgs = [] } = {}) {
  const problems = checkPrerequisites({ forInstall: false, forBrowser: true });
  if (problems.length) throw new Error(problems.join('\n'));
  const { chromium } = await loadPlaywright();
  // Private HOME/XDG: otherwise Chromium creates ~/.config/chromium/Crash Reports.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-chromium-home-'));
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_CACHE_HOME: path.join(home, '.cache') };
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless, args: [...CHROMIUM_ARGS, ...extraArgs], env });
  } catch (e) {
    fs.rmSync(home, { recursive: true, force: true });
    throw e;
  }
  browser.on('disconnected', () => fs.rmSync(home, { recursive: true, force: true, maxRetries: 3 }));
  return browser;
}

export async function newIsolatedPage(browser, { viewport = { width: 1400, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, serviceWorkers: 'allow' });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (/^(data|blob):/.test(url)) return route.continue();
    try {
      const u = new URL(url);
      if (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname.endsWith('.localhost')) return route.continue();
    } catch { /* unparsable: abort */ }
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  return { context, page };
}

function safeName(s) {
  return String(s).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'run';
}

/**
 * @param {object} o
 * @param {string|string[]} o.extensionDevelopmentPath
 * @param {string} o.extensionTestsPath
 * @param {string} [o.folder]
 * @param {Record<string,string>} [o.env]
 * @param {'disabled'|'enabled'} [o.workspaceTrust]
 * @param {object} [o.settings]
 * @param {number} [o.timeoutMs]
 * @param {string} [o.artifactsDir]
 * @param {string} [o.name]
 * @param {boolean} [o.headless]
 * @param {(line: string) => void} [o.print]
 * @param {string[]} [o.installExtensions]  .vsix files installed first (e.g. the packaged extension, for the soak)
 * @param {string[]} [o.browserArgs]  more Chromium flags
 * @param {(page: import('playwright-core').Page) => void} [o.onPage]  called with the workbench page once it loads
 */
export async function runInVsCode(o) {
  const print = o.print || ((line) => process.stdout.write(line.endsWith('\n') ? line : `${line}\n`));
  const devPaths = [].concat(o.extensionDevelopmentPath || []).map((p) => path.resolve(p));
  if (!devPaths.length) throw new Error('--extensionDevelopmentPath is required');
  if (!o.extensionTestsPath) throw new Error('--extensionTestsPath is required');
  const testsPath = path.resolve(o.extensionTestsPath);
  const folder = o.folder ? path.resolve(o.folder) : undefined;
  if (folder && !fs.existsSync(folder)) throw new Error(`workspace folder does not exist: ${folder}`);
  for (const p of devPaths) if (!fs.existsSync(path.join(p, 'package.json'))) throw new Error(`no package.json in extensionDevelopmentPath ${p}`);
  const timeoutMs = o.timeoutMs || (Number(process.env.BPL_TEST_TIMEOUT_S) || 600) * 1000;
  const artifacts = path.resolve(o.artifactsDir || artifactsDir());
  const name = safeName(o.name || path.basename(path.dirname(testsPath)) + '-' + path.basename(testsPath, '.js'));

  await ensureCodeServer(); // not counted in the timeout (first run: about 40 s)
  const t0 = Date.now();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-run-'));
  const resultFile = path.join(runDir, 'result.json');
  const timings = {};
  let server; let browser; let page;
  const consoleLines = [];
  let exitCode = null;
  let reason = '';
  try {
    server = await startCodeServer({
      folder,
      workspaceTrust: o.workspaceTrust || 'disabled',
      settings: o.settings,
      installExtensions: o.installExtensions || [],
      env: {
        BPL_TEST_RESULT_FILE: resultFile,
        BPL_ARTIFACTS: artifacts,
        BPL_IN_CODE_SERVER: '1',
        ...(folder ? { BPL_WORKSPACE_FOLDER: folder } : {}),
        ...(o.env || {}),
      },
    });
    timings.serverMs = Date.now() - t0;

    browser = await launchBrowser({ headless: o.headless !== false, extraArgs: o.browserArgs || [] });
    ({ page } = await newIsolatedPage(browser));

    let resolveExit;
    const exited = new Promise((r) => { resolveExit = r; });
    await page.exposeFunction('codeAutomationLog', (type, message) => {
      // message = the console arguments of the extension host (printf style, as mocha's reporter logs)
      // or one string of the workbench's own log.
      const text = Array.isArray(message) ? format(...message) : String(message ?? '');
      if (!process.env.BPL_DEBUG && WORKBENCH_NOISE.test(text)) return;
      print(text);
    });
    await page.exposeFunction('codeAutomationExit', (code) => resolveExit({ code: Number(code) || 0, via: 'codeAutomationExit' }));
    page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
    page.on('crash', () => resolveExit({ code: 1, via: 'page crashed' }));

    const payload = [
      ...devPaths.map((p) => ['extensionDevelopmentPath', remoteUri(server, p)]),
      ['extensionTestsPath', remoteUri(server, testsPath)],
    ];
    const url = workbenchUrl(server, { folder, payload });
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    o.onPage?.(page);
    page.waitForSelector('.monaco-workbench', { timeout: 120_000 })
      .then(() => { timings.workbenchMs = Date.now() - t0; })
      .catch(() => {});

    // Second signal: the result file. If it appears but the exit callback does not follow, take the file.
    const fromFile = (async () => {
      for (;;) {
        if (fs.existsSync(resultFile)) {
          await new Promise((r) => setTimeout(r, 15_000));
          const res = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
          return { code: res.failed > 0 || res.passed === 0 ? 1 : 0, via: 'result file (no codeAutomationExit)' };
        }
        if (server.exited) return { code: 1, via: `code-server exited (${server.exitCode})` };
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    let timer;
    const timeout = new Promise((r) => { timer = setTimeout(() => r({ code: 1, via: `timeout after ${timeoutMs / 1000} s` }), timeoutMs - (Date.now() - t0)); });
    const outcome = await Promise.race([exited, fromFile, timeout]);
    clearTimeout(timer);
    exitCode = outcome.code;
    reason = outcome.via;
  } catch (e) {
    exitCode = 1;
    reason = `harness error: ${e.stack || e.message}`;
  }

  let result = null;
  try { result = JSON.parse(fs.readFileSync(resultFile, 'utf8')); } catch { /* no result file */ }
  if (result && result.failed > 0 && exitCode === 0) {
    exitCode = 1;
    reason += '; result file reports failures';
  }
  if (exitCode === 0 && !result) {
    print('[runInVsCode] note: the test module wrote no result file ($BPL_TEST_RESULT_FILE); exit code from the workbench only');
  }

  if (exitCode !== 0) {
    fs.mkdirSync(artifacts, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const base = path.join(artifacts, `${name}-failure-${stamp}`);
    if (page) {
      try { await page.screenshot({ path: `${base}.png`, timeout: 10_000 }); print(`[runInVsCode] screenshot: ${base}.png`); } catch (e) { print(`[runInVsCode] no screenshot: ${e.message}`); }
    }
    try { fs.writeFileSync(`${base}.browser-console.log`, consoleLines.join('\n') + '\n'); } catch { /* */ }
    if (server) {
      try { fs.copyFileSync(server.logFile, `${base}.code-server.log`); } catch { /* */ }
      // The remote extension host's own log, when there is one.
      try {
        const logsRoot = path.join(server.userDataDir, 'logs');
        for (const f of walk(logsRoot)) {
          if (/remoteexthost|exthost/i.test(f)) fs.copyFileSync(f, `${base}.${path.basename(path.dirname(f))}-${path.basename(f)}`);
        }
      } catch { /* */ }
    }
    print(`[runInVsCode] FAILED (${reason}); artifacts in ${artifacts}`);
    if (reason.startsWith('harness error') || reason.startsWith('timeout') || reason.startsWith('code-server exited')) {
      if (server) print(`[runInVsCode] code-server log tail:\n${readTail(server.logFile, 20)}`);
    }
  }

  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop().catch(() => {});
  fs.rmSync(runDir, { recursive: true, force: true });

  timings.totalMs = Date.now() - t0;
  print(`[runInVsCode] server ${fmt(timings.serverMs)}, workbench ${fmt(timings.workbenchMs)}, total ${fmt(timings.totalMs)} (${reason})`);
  if (result && result.failures?.length) {
    for (const f of result.failures) print(`[runInVsCode] failed: ${f.fullTitle}: ${String(f.message).split('\n')[0]}`);
  }
  // Closing line in the form CI reads ("N passed, N failed"); a run that died without a result counts as 1 failure.
  if (result) print(`vscode: ${result.passed} passed, ${result.failed} failed`);
  else if (exitCode !== 0) print('vscode: 0 passed, 1 failed');
  return { exitCode, result, reason, timings };
}

function fmt(ms) {
  return ms == null ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

function* walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

// Desktop flags that take their value as the next argument (when not written --flag=value).
const DESKTOP_FLAGS_WITH_VALUE = new Set([
  'user-data-dir', 'extensions-dir', 'locale', 'log', 'profile', 'sync', 'category', 'crash-reporter-directory',
  'install-extension', 'uninstall-extension', 'enable-proposed-api', 'inspect-extensions', 'inspect-brk-extensions',
]);

export function parseArgs(argv) {
  const o = { extensionDevelopmentPath: [], env: {}, settings: {}, positionals: [], ignored: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { o.positionals.push(a); continue; }
    const eq = a.indexOf('=');
    const key = a.slice(2, eq === -1 ? undefined : eq);
    const takeValue = () => (eq !== -1 ? a.slice(eq + 1) : argv[++i]);
    switch (key) {
      case 'extensionDevelopmentPath': o.extensionDevelopmentPath.push(takeValue()); break;
      case 'extensionTestsPath': o.extensionTestsPath = takeValue(); break;
      case 'timeout': o.timeoutMs = Number(takeValue()) * 1000; break;
      case 'artifacts': o.artifactsDir = takeValue(); break;
      case 'name': o.name = takeValue(); break;
      case 'headed': o.headless = false; break;
      case 'enable-workspace-trust': o.workspaceTrust = 'enabled'; break;
      case 'disable-workspace-trust': o.workspaceTrust = 'disabled'; break;
      case 'theme': { const t = takeValue(); o.settings['workbench.colorTheme'] = THEMES[t] || t; break; }
      case 'env': { const kv = takeValue(); const j = kv.indexOf('='); o.env[kv.slice(0, j)] = kv.slice(j + 1); break; }
      case 'setting': {
        const kv = takeValue(); const j = kv.indexOf('=');
        const raw = kv.slice(j + 1);
        let v; try { v = JSON.parse(raw); } catch { v = raw; }
        o.settings[kv.slice(0, j)] = v;
        break;
      }
      case 'version': o.version = true; break;
      default:
        o.ignored.push(a);
        if (eq === -1 && DESKTOP_FLAGS_WITH_VALUE.has(key) && argv[i + 1] && !argv[i + 1].startsWith('--')) o.ignored.push(argv[++i]);
    }
  }
  return o;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  if (o.version) {
    // What `code --version` prints (some tools ask).
    process.stdout.write('1.100.3\n(code-server 4.100.3)\nx64\n');
    process.exit(0);
  }
  if (o.positionals.length > 1) process.stderr.write(`[runInVsCode] only the first folder is opened; ignoring ${o.positionals.slice(1).join(' ')}\n`);
  if (process.env.BPL_DEBUG && o.ignored.length) process.stderr.write(`[runInVsCode] ignoring desktop flags: ${o.ignored.join(' ')}\n`);
  let code = 1;
  const onSignal = (sig) => { process.stderr.write(`[runInVsCode] ${sig}: stopping\n`); process.exit(130); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    ({ exitCode: code } = await runInVsCode({ ...o, folder: o.positionals[0] }));
  } catch (e) {
    process.stderr.write(`[runInVsCode] ${e.stack || e.message}\n`);
    code = 1;
  }
  process.exit(code);
}
