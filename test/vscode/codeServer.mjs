// Launches code-server (VS Code 1.100.3, see installCodeServer.mjs) on a free 127.0.0.1 port with private,
// throw-away state, and stops it again (the whole process tree).
//
//   import { startCodeServer } from './codeServer.mjs';
//   const server = await startCodeServer({
//     folder: '/abs/workspace',              // opened by default (also put into the URL by the callers)
//     env: { MY_VAR: '1' },                  // extra env for code-server, so also for the Node extension host
//     workspaceTrust: 'disabled',            // 'disabled' (default, --disable-workspace-trust) | 'enabled'
//     settings: { 'workbench.colorTheme': 'Default Light Modern' },  // merged over DEFAULT_SETTINGS
//     installExtensions: ['/abs/x.vsix'],    // `code-server --install-extension` into the private extensions dir
//     logFile: '/abs/code-server.log',       // default <state>/code-server.log
//   });
//   server.url, server.port, server.stateDir, server.userDataDir, server.logFile
//   await server.stop();                     // SIGTERM then SIGKILL to every descendant; removes the state
//
// Where code-server reads user settings: <user-data-dir>/User/settings.json on the server (the web
// workbench's user data lives in the remote file system, not in the browser). DEFAULT_SETTINGS keeps the
// workbench quiet (no welcome page, release notes, telemetry notice, git scanning, update checks).
// Set BPL_KEEP_STATE=1 to keep the state folder after stop() (it is printed), BPL_DEBUG=1 to echo the
// server log to stderr.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureCodeServer } from './installCodeServer.mjs';

export const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'git.openRepositoryInParentFolders': 'never',
  'npm.autoDetect': 'off',
  'typescript.disableAutomaticTypeAcquisition': true,
  'typescript.surveys.enabled': false,
  'files.hotExit': 'off',
  'window.restoreWindows': 'none',
  'chat.commandCenter.enabled': false,
  'workbench.colorTheme': 'Default Dark Modern',
};

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => { req.destroy(); resolve(null); });
    req.on('error', () => resolve(null));
  });
}

/** All descendants of pid (Linux /proc walk), deepest first. */
export function descendants(pid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch { /* process ended */ }
  }
  const out = [];
  const walk = (p) => { for (const c of children.get(p) || []) { walk(c); out.push(c); } };
  walk(pid);
  return out;
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** SIGTERM the process, its process group and every descendant; SIGKILL what is left after graceMs. */
export async function killTree(pid, graceMs = 3000) {
  if (!pid) return;
  const targets = new Set([pid, ...descendants(pid)]);
  const signal = (sig) => {
    try { process.kill(-pid, sig); } catch { /* no such group */ }
    for (const p of targets) { try { process.kill(p, sig); } catch { /* gone */ } }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && [...targets].some(alive)) await new Promise((r) => setTimeout(r, 100));
  for (const p of descendants(pid)) targets.add(p);
  if ([...targets].some(alive)) signal('SIGKILL');
}

function killTreeSync(pid) {
  if (!pid) return;
  const targets = [pid, ...descendants(pid)];
  try { process.kill(-pid, 'SIGKILL'); } catch { /* */ }
  for (const p of targets) { try { process.kill(p, 'SIGKILL'); } catch { /* */ } }
}

const running = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if the caller forgets stop() or dies: never leave code-server behind.
  process.on('exit', () => { for (const s of running) killTreeSync(s.pid); });
}

/** Environment for code-server and everything it starts: private HOME/XDG, no gallery, no parent VS Code. */
function serverEnv(stateDir, extra) {
  const home = path.join(stateDir, 'home');
  const env = { ...process.env };
  // A harness started from a VS Code terminal or by @vscode/test-electron must not talk to that VS Code.
  for (const k of Object.keys(env)) {
    if (/^(VSCODE_|ELECTRON_RUN_AS_NODE$|ELECTRON_NO_ATTACH_CONSOLE$)/.test(k)) delete env[k];
  }
  // code-server reads these as defaults for its flags; keep the caller's from leaking in.
  for (const k of ['PASSWORD', 'HASHED_PASSWORD', 'PORT', 'CODE_SERVER_CONFIG', 'GITHUB_TOKEN', 'CS_DISABLE_FILE_DOWNLOADS']) delete env[k];
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    // code-server leaves vscode-ipc-*.sock and vscode-typescript*/ in $TMPDIR: keep them in the state dir.
    TMPDIR: path.join(stateDir, 'tmp'),
    EXTENSIONS_GALLERY: '{}',
    ...extra,
  };
}

/**
 * @param {object} [opts]
 * @param {string} [opts.folder]
 * @param {Record<string,string>} [opts.env]
 * @param {'disabled'|'enabled'} [opts.workspaceTrust]
 * @param {object} [opts.settings]
 * @param {string[]} [opts.installExtensions]
 * @param {string} [opts.logFile]
 * @param {number} [opts.port]
 * @param {number} [opts.healthTimeoutMs]
 */
export async function startCodeServer(opts = {}) {
  const {
    folder, env = {}, workspaceTrust = 'disabled', settings = {}, installExtensions = [],
    healthTimeoutMs = 60_000,
  } = opts;
  const entry = await ensureCodeServer();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-code-server-'));
  const userDataDir = path.join(stateDir, 'user-data');
  const extensionsDir = path.join(stateDir, 'extensions');
  const configFile = path.join(stateDir, 'config.yaml');
  for (const d of [userDataDir, path.join(userDataDir, 'User'), extensionsDir, path.join(stateDir, 'home', '.config'), path.join(stateDir, 'tmp')]) {
    fs.mkdirSync(d, { recursive: true });
  }
  fs.writeFileSync(configFile, ''); // empty config: nothing read from or written to ~/.config/code-server
  const allSettings = { ...DEFAULT_SETTINGS, ...settings };
  if (workspaceTrust === 'enabled') {
    // Trust is on: do not block start-up on the modal "Do you trust the authors?" dialog; the folder opens
    // in Restricted Mode (vscode.workspace.isTrusted === false) unless a test grants trust.
    allSettings['security.workspace.trust.enabled'] ??= true;
    allSettings['security.workspace.trust.startupPrompt'] ??= 'never';
    allSettings['security.workspace.trust.banner'] ??= 'never';
  }
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(allSettings, null, 2) + '\n');

  const procEnv = serverEnv(stateDir, env);
  const baseArgs = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const vsix of installExtensions) {
    const r = spawnSync(process.execPath, [entry, ...baseArgs, '--force', '--install-extension', path.resolve(vsix)], {
      env: procEnv, encoding: 'utf8', timeout: 120_000,
    });
    if (r.status !== 0) {
      fs.rmSync(stateDir, { recursive: true, force: true });
      throw new Error(`code-server --install-extension ${vsix} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
  }

  const port = opts.port || await freePort();
  const logFile = opts.logFile || path.join(stateDir, 'code-server.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const args = [
    ...baseArgs,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--disable-proxy',
    '--ignore-last-opened',
    ...(workspaceTrust === 'disabled' ? ['--disable-workspace-trust'] : []),
    ...(folder ? [path.resolve(folder)] : []),
  ];
  const logStream = fs.createWriteStream(logFile);
  const child = spawn(process.execPath, [entry, ...args], {
    env: procEnv, cwd: stateDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = {
    pid: child.pid, port, url: `http://127.0.0.1:${port}/`, stateDir, userDataDir, extensionsDir, logFile,
    exited: false, exitCode: null,
    /** Stop code-server and everything it started; remove the state folder (unless BPL_KEEP_STATE=1). */
    async stop() {
      if (server.stopped) return;
      server.stopped = true;
      await killTree(child.pid);
      running.delete(server);
      await new Promise((r) => logStream.end(r));
      if (process.env.BPL_KEEP_STATE) {
        process.stderr.write(`[code-server] state kept in ${stateDir}\n`);
      } else {
        fs.rmSync(stateDir, { recursive: true, force: true, maxRetries: 3 });
      }
    },
  };
  running.add(server);
  installExitHook();
  const debug = !!process.env.BPL_DEBUG;
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (d) => {
      logStream.write(d);
      if (debug) process.stderr.write(`[code-server] ${d}`);
    });
  }
  child.on('exit', (code, sig) => { server.exited = true; server.exitCode = code ?? sig; });

  const deadline = Date.now() + healthTimeoutMs;
  for (;;) {
    if (server.exited) {
      await server.stop().catch(() => {});
      throw new Error(`code-server exited (${server.exitCode}) before it was healthy; log:\n${readTail(logFile)}`);
    }
    const r = await httpGet(`${server.url}healthz`);
    if (r && r.status === 200) break;
    if (Date.now() > deadline) {
      const tail = readTail(logFile);
      await server.stop();
      throw new Error(`code-server not healthy after ${healthTimeoutMs} ms; log:\n${tail}`);
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  return server;
}

export function readTail(file, lines = 40) {
  try { return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
}

/** Workbench URL for a folder (or a .code-workspace file) with an optional payload (array of [key, value]). */
export function workbenchUrl(server, { folder, payload } = {}) {
  const u = new URL(server.url);
  if (folder) {
    const abs = path.resolve(folder);
    u.searchParams.set(abs.endsWith('.code-workspace') ? 'workspace' : 'folder', abs);
  }
  if (payload && payload.length) u.searchParams.set('payload', JSON.stringify(payload));
  return u.toString();
}

/** vscode-remote URI of a server-side path, as the web workbench's payload needs it. */
export function remoteUri(server, p) {
  return `vscode-remote://127.0.0.1:${server.port}${path.resolve(p)}`;
}
