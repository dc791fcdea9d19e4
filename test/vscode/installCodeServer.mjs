#!/usr/bin/env node
// Installs code-server (VS Code 1.100.3 as a web workbench with a real Node extension host) into a cache
// folder OUTSIDE the extension's own dependency tree, so that `npm ci` of the project stays fast.
//
//   node test/vscode/installCodeServer.mjs            # install if missing (idempotent, ~45 s the first time)
//   node test/vscode/installCodeServer.mjs --force    # wipe the cache folder and reinstall
//   node test/vscode/installCodeServer.mjs --check    # only check prerequisites and the installed copy
//
//   import { ensureCodeServer } from './installCodeServer.mjs';
//   const entry = await ensureCodeServer();           // absolute path of code-server's out/node/entry.js
//
// Cache folder: $BPL_CODE_SERVER_DIR, default ~/.cache/backprop-lens/code-server-4.100.3/ (it gets its own
// package.json and install.log). Needs Node 20 (code-server 4.100.x refuses other majors) and the
// Debian packages chromium, ripgrep, libkrb5-dev, build-essential, python3, pkg-config.
//
// Why the extra steps (see README.md, "Pitfalls"):
// - @vscode/ripgrep's postinstall downloads rg from GitHub; we seed its download cache (in $TMPDIR, here a
//   folder inside the cache folder) with Debian's /usr/bin/rg packed as the archive it expects.
// - npm_config_unsafe_perm=true: code-server's postinstall refuses to run as root without it.
// - npm_config_yes=true: node-pty's build runs `npx node-gyp`.
// - npm_config_nodedir=/usr: node-gyp uses Debian/NodeSource's installed headers instead of downloading them.
// - kerberos and argon2 try to download prebuilt binaries (fails offline) and fall back to compiling:
//   needs build-essential, python3 and libkrb5-dev.
// - npm 11 has an "allowScripts" policy for dependency install scripts. Today it only warns, but to keep
//   working once it blocks: the cache package.json approves code-server + argon2; the install runs in two
//   phases (`npm install --ignore-scripts`, then approve the packages that code-server's postinstall builds
//   in its nested `npm install` by writing "allowScripts" into lib/vscode/package.json, then `npm rebuild`).
//   `--allow-scripts`/`npm_config_allow_scripts` can't be used: npm 11 refuses them in project installs, and
//   npm passes config down to the nested install as env, where it is refused too (EALLOWSCRIPTS).
//   Afterwards every native artifact is verified, so a blocked script fails loudly here, not at test time.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
// @vscode/ripgrep version pinned by code-server 4.100.3's lib/vscode/npm-shrinkwrap.json, and the rg
// release its postinstall looks for.
const RIPGREP_PKG_VERSION = '1.15.11';
const RIPGREP_RELEASE = 'v13.0.0-10';

// Packages whose install scripts code-server needs (top level, then lib/vscode's nested install).
const TOP_LEVEL_SCRIPTS = ['code-server', 'argon2'];
const NESTED_SCRIPTS = [
  '@parcel/watcher', '@vscode/deviceid', '@vscode/ripgrep', '@vscode/spdlog', '@vscode/windows-process-tree',
  '@vscode/windows-registry', 'kerberos', 'native-watchdog', 'node-pty',
  'esbuild', // lib/vscode/extensions (only flagged under --strict-allow-scripts)
];

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..');

/**
 * Where code-server lives: $BPL_CODE_SERVER_DIR, else a per-user cache shared by every clone
 * (~/.cache/backprop-lens/code-server-<version>), so `npm start`, `npm test` and CI install it once.
 */
export function codeServerDir() {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.resolve(process.env.BPL_CODE_SERVER_DIR || path.join(cache, 'backprop-lens', `code-server-${CODE_SERVER_VERSION}`));
}

export function codeServerPackageDir(dir = codeServerDir()) {
  return path.join(dir, 'node_modules', 'code-server');
}

/** Absolute path of code-server's Node entry point (run it with `node <entry> ...`). */
export function codeServerEntry(dir = codeServerDir()) {
  return path.join(codeServerPackageDir(dir), 'out', 'node', 'entry.js');
}

export const CHROMIUM_PATH = process.env.BPL_CHROMIUM || '/usr/bin/chromium';

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Checks what the install (and the test run) needs. Returns a list of problems, each naming the fix.
 * @param {{ forInstall?: boolean, forBrowser?: boolean }} what
 */
export function checkPrerequisites({ forInstall = true, forBrowser = true } = {}) {
  const problems = [];
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20) {
    problems.push(`Node ${process.versions.node}: code-server ${CODE_SERVER_VERSION} needs Node 20 (its postinstall and native modules refuse other majors).`);
  }
  if (forBrowser && !fs.existsSync(CHROMIUM_PATH)) {
    problems.push(`${CHROMIUM_PATH} not found: apt-get install -y --no-install-recommends chromium`);
  }
  if (forInstall) {
    if (!fs.existsSync('/usr/bin/rg') && !which('rg')) {
      problems.push('rg (ripgrep) not found: apt-get install -y --no-install-recommends ripgrep');
    }
    if (!fs.existsSync('/usr/include/krb5.h') && !fs.existsSync('/usr/include/krb5/krb5.h') && !which('krb5-config')) {
      problems.push('Kerberos headers (krb5.h / krb5-config) not found: apt-get install -y --no-install-recommends libkrb5-dev');
    }
    for (const tool of ['g++', 'make']) {
      if (!which(tool)) problems.push(`${tool} not found: apt-get install -y --no-install-recommends build-essential`);
    }
    if (!which('python3')) problems.push('python3 not found (node-gyp needs it): apt-get install -y --no-install-recommends python3');
    if (!which('pkg-config')) problems.push('pkg-config not found: apt-get install -y --no-install-recommends pkg-config');
    if (!fs.existsSync(nodeHeadersDir() ? path.join(nodeHeadersDir(), 'include', 'node', 'node.h') : '/nonexistent')) {
      problems.push(`Node headers not found under ${nodeHeadersDir() || '(none)'}/include/node: node-gyp would try to download them (fails offline). Install Node from a package that ships headers (Debian/NodeSource nodejs does) or set BPL_NODEDIR.`);
    }
  }
  return problems;
}

function nodeHeadersDir() {
  if (process.env.BPL_NODEDIR) return process.env.BPL_NODEDIR;
  // /usr/bin/node -> /usr ; /opt/node/bin/node -> /opt/node
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node.h')) ? prefix : null;
}

/** Files that exist only when every needed install script ran. */
function expectedArtifacts(dir) {
  const pkg = codeServerPackageDir(dir);
  const vs = path.join(pkg, 'lib', 'vscode');
  const nm = path.join(vs, 'node_modules');
  return [
    [codeServerEntry(dir), 'code-server itself'],
    [path.join(vs, 'node_modules.asar'), 'code-server postinstall (symlink lib/vscode/node_modules.asar)'],
    [path.join(vs, 'extensions', 'node_modules'), 'code-server postinstall (built-in extensions deps)'],
    [path.join(nm, 'node-pty', 'build', 'Release', 'pty.node'), 'node-pty install script (node-gyp)'],
    [path.join(nm, 'kerberos', 'build', 'Release', 'kerberos.node'), 'kerberos install script (node-gyp; libkrb5-dev)'],
    [path.join(nm, '@vscode', 'spdlog', 'build', 'Release', 'spdlog.node'), '@vscode/spdlog install script (node-gyp)'],
    [path.join(nm, 'native-watchdog', 'build', 'Release', 'watchdog.node'), 'native-watchdog install script (node-gyp)'],
    [path.join(nm, '@vscode', 'ripgrep', 'bin', 'rg'), '@vscode/ripgrep postinstall (seeded from /usr/bin/rg)'],
    [path.join(dir, 'node_modules', 'argon2', 'lib', 'binding', 'napi-v3', 'argon2.node'), 'argon2 install script (node-pre-gyp, falls back to compiling)'],
  ];
}

export function verifyInstall(dir = codeServerDir()) {
  return expectedArtifacts(dir).filter(([f]) => !fs.existsSync(f)).map(([f, what]) => `missing ${path.relative(dir, f)} (from ${what})`);
}

const MARKER = '.bpl-installed.json';

export function isInstalled(dir = codeServerDir()) {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'));
    // Native modules are built for one Node ABI: a different Node means reinstall.
    return m.version === CODE_SERVER_VERSION && m.abi === process.versions.modules && verifyInstall(dir).length === 0;
  } catch {
    return false;
  }
}

function ripgrepTarget() {
  const arch = process.env.npm_config_arch || os.arch();
  if (arch === 'x64') return 'x86_64-unknown-linux-musl';
  if (arch === 'arm64') return 'aarch64-unknown-linux-musl';
  throw new Error(`unsupported architecture for the ripgrep seed: ${arch}`);
}

function seedRipgrepCache(tmpDir) {
  const rg = fs.existsSync('/usr/bin/rg') ? '/usr/bin/rg' : which('rg');
  const cache = path.join(tmpDir, `vscode-ripgrep-cache-${RIPGREP_PKG_VERSION}`);
  fs.mkdirSync(cache, { recursive: true });
  const archive = path.join(cache, `ripgrep-${RIPGREP_RELEASE}-${ripgrepTarget()}.tar.gz`);
  const r = spawnSync('tar', ['czf', archive, '-C', path.dirname(rg), path.basename(rg)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`could not pack ${rg} into ${archive}`);
}

function log(msg) {
  process.stderr.write(`[install-code-server] ${msg}\n`);
}

/**
 * Installs code-server into `dir` unless a verified install is already there.
 * @returns {Promise<string>} the entry point path
 */
export async function ensureCodeServer({ dir = codeServerDir(), force = false, quiet = false } = {}) {
  if (!force && isInstalled(dir)) return codeServerEntry(dir);

  const problems = checkPrerequisites({ forInstall: true, forBrowser: false });
  if (problems.length) {
    throw new Error(`cannot install code-server ${CODE_SERVER_VERSION}:\n  - ${problems.join('\n  - ')}`);
  }

  const started = Date.now();
  if (!quiet) log(`installing code-server@${CODE_SERVER_VERSION} into ${dir} (about a minute; log: ${path.join(dir, 'install.log')})`);
  // A half-finished earlier install (no marker) is thrown away.
  for (const f of ['node_modules', 'package-lock.json', MARKER, '.tmp']) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });

  const allowScripts = Object.fromEntries(TOP_LEVEL_SCRIPTS.map((n) => [n, true]));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'bpl-code-server-cache',
    private: true,
    description: 'code-server for the Backprop Lens VS Code test harness (test/vscode/installCodeServer.mjs). Not part of the extension.',
    dependencies: { 'code-server': CODE_SERVER_VERSION },
    allowScripts,
  }, null, 2) + '\n');

  const tmpDir = path.join(dir, '.tmp');
  fs.mkdirSync(tmpDir, { recursive: true });
  seedRipgrepCache(tmpDir);

  const env = {
    ...process.env,
    TMPDIR: tmpDir,
    npm_config_unsafe_perm: 'true',
    npm_config_yes: 'true',
    npm_config_nodedir: nodeHeadersDir(),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  // `npm ci`/`npm install` run from a parent npm script pass npm_* variables down; the ones that name the
  // parent project would confuse the nested installs.
  for (const k of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|config_local_prefix|config_prefix$)/i.test(k)) delete env[k];
  }

  const logPath = path.join(dir, 'install.log');
  const logFd = fs.openSync(logPath, 'w');
  const npm = (args) => new Promise((resolve) => {
    fs.writeSync(logFd, `\n$ npm ${args.join(' ')}\n`);
    const child = spawn('npm', args, { cwd: dir, env, stdio: ['ignore', logFd, logFd] });
    child.on('error', (e) => { fs.writeSync(logFd, `spawn error: ${e.message}\n`); resolve(1); });
    child.on('exit', (c) => resolve(c ?? 1));
  });
  const common = ['--foreground-scripts', '--no-audit', '--no-fund', '--loglevel=warn'];
  // Phase 1: fetch everything, run no script yet.
  let code = await npm(['install', '--ignore-scripts', ...common]);
  if (code === 0) {
    // Phase 2: approve the scripts of code-server's nested installs in the package.json files that those
    // installs read, then run the scripts (argon2 build, code-server postinstall -> nested installs).
    for (const rel of [['lib', 'vscode'], ['lib', 'vscode', 'extensions']]) {
      const pj = path.join(codeServerPackageDir(dir), ...rel, 'package.json');
      const json = JSON.parse(fs.readFileSync(pj, 'utf8'));
      json.allowScripts = { ...(json.allowScripts || {}), ...Object.fromEntries(NESTED_SCRIPTS.map((n) => [n, true])) };
      fs.writeFileSync(pj, JSON.stringify(json, null, 2) + '\n');
    }
    code = await npm(['rebuild', ...common]);
  }
  fs.closeSync(logFd);
  fs.rmSync(tmpDir, { recursive: true, force: true });

  const missing = verifyInstall(dir);
  if (code !== 0 || missing.length) {
    const tail = fs.readFileSync(logPath, 'utf8').split('\n').slice(-40).join('\n');
    throw new Error(`code-server install failed (npm exit ${code}) in ${dir}\n${missing.map((m) => `  - ${m}`).join('\n')}\n` +
      `--- last lines of ${logPath} ---\n${tail}\n` +
      'Hints: apt-get install -y --no-install-recommends chromium ripgrep libkrb5-dev build-essential python3 pkg-config; ' +
      'if npm blocked install scripts ("install-scripts"), approve the packages listed above.');
  }

  // code-server must start (catches a broken native module early). HOME/XDG point to a temp folder so it
  // does not write ~/.config/code-server/config.yaml.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-cs-version-'));
  const v = spawnSync(process.execPath, [codeServerEntry(dir), '--version'], {
    encoding: 'utf8', env: { ...process.env, HOME: scratch, XDG_CONFIG_HOME: scratch, XDG_DATA_HOME: scratch },
  });
  fs.rmSync(scratch, { recursive: true, force: true });
  if (v.status !== 0 || !v.stdout.includes(CODE_SERVER_VERSION)) {
    throw new Error(`installed code-server does not run: ${v.stdout}\n${v.stderr}`);
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({
    version: CODE_SERVER_VERSION, installedAt: new Date().toISOString(), seconds: Number(seconds), node: process.version,
    abi: process.versions.modules,
    versionLine: v.stdout.trim().split('\n').pop(),
  }, null, 2) + '\n');
  if (!quiet) log(`installed in ${seconds} s: ${v.stdout.trim().split('\n').pop()}`);
  return codeServerEntry(dir);
}

// CLI
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const dir = codeServerDir();
  try {
    if (args.includes('--check')) {
      const problems = [...checkPrerequisites(), ...(isInstalled(dir) ? [] : [`code-server not installed (or incomplete) in ${dir}: ${verifyInstall(dir).join('; ')}`])];
      if (problems.length) {
        log(`problems:\n  - ${problems.join('\n  - ')}`);
        process.exit(1);
      }
      log(`ok: ${codeServerEntry(dir)}`);
    } else {
      const browserProblems = checkPrerequisites({ forInstall: false, forBrowser: true });
      if (browserProblems.length) throw new Error(browserProblems.join('\n'));
      const already = !args.includes('--force') && isInstalled(dir);
      const entry = await ensureCodeServer({ dir, force: args.includes('--force') });
      log(already ? `already installed: ${entry}` : `ready: ${entry}`);
    }
  } catch (e) {
    log(`ERROR: ${e.message}`);
    process.exit(1);
  }
}
