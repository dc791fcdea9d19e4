// Playwright helpers for end-to-end checks that drive a real VS Code workbench (code-server 1.100.3 in
// headless Debian Chromium) from OUTSIDE the extension host: command palette, quick open, webviews,
// hovers, status bar, themes, screenshots.
//
//   import { openWorkbench, runCommand, webviewFrame, screenshot } from './workbench.mjs';
//   const wb = await openWorkbench({ extensionDevelopmentPath: '/abs/ext', folder: '/abs/ws', theme: 'light',
//                                    env: { MY_VAR: '1' } });
//   await runCommand(wb.page, 'Fixture: Show Webview Panel');
//   const text = await webviewFrame(wb.page).locator('#msg').textContent();
//   await screenshot(wb.page, 'panel-light');      // -> $BPL_ARTIFACTS or <repo>/test-artifacts/panel-light.png
//   await wb.close();                              // closes Chromium, stops code-server (whole tree)
//
// Selectors are VS Code 1.100's DOM: .monaco-workbench, .quick-input-widget, iframe.webview.ready >
// #active-frame, .monaco-hover, #status.editor.selection ("Ln X, Col Y"). Timeouts default to 30 s.

import fs from 'node:fs';
import path from 'node:path';
import { remoteUri, startCodeServer, workbenchUrl } from './codeServer.mjs';
import { THEMES, artifactsDir, launchBrowser, newIsolatedPage } from './runInVsCode.mjs';

const T = 30_000;

/**
 * Starts code-server and opens its workbench in headless Chromium.
 * @param {object} o
 * @param {string|string[]} [o.extensionDevelopmentPath]  loaded as "[Extension Development Host]"
 * @param {string} [o.folder]            workspace folder (or .code-workspace file)
 * @param {Record<string,string>} [o.env] env for code-server, so also for the extension host
 * @param {'light'|'dark'|string} [o.theme]  'light' | 'dark' | a theme label (pre-seeded in settings.json)
 * @param {'disabled'|'enabled'} [o.workspaceTrust]
 * @param {object} [o.settings]          more user settings
 * @param {string[]} [o.installExtensions]  .vsix files to install first
 * @param {{width:number,height:number}} [o.viewport]
 * @param {boolean} [o.headless]
 * @returns {Promise<{ page, browser, context, server, url: string, close: () => Promise<void> }>}
 */
export async function openWorkbench(o = {}) {
  const settings = { ...(o.settings || {}) };
  if (o.theme) settings['workbench.colorTheme'] = THEMES[o.theme] || o.theme;
  const folder = o.folder ? path.resolve(o.folder) : undefined;
  const server = await startCodeServer({
    folder,
    env: { BPL_ARTIFACTS: artifactsDir(), ...(folder ? { BPL_WORKSPACE_FOLDER: folder } : {}), ...(o.env || {}) },
    workspaceTrust: o.workspaceTrust || 'disabled',
    settings,
    installExtensions: o.installExtensions || [],
  });
  let browser;
  try {
    browser = await launchBrowser({ headless: o.headless !== false });
    const { context, page } = await newIsolatedPage(browser, o.viewport ? { viewport: o.viewport } : undefined);
    const payload = [].concat(o.extensionDevelopmentPath || []).map((p) => ['extensionDevelopmentPath', remoteUri(server, p)]);
    const url = workbenchUrl(server, { folder, payload });
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await waitForWorkbench(page, { extensionDevelopment: payload.length > 0 });
    return {
      page, browser, context, server, url,
      async close() {
        await browser.close().catch(() => {});
        await server.stop();
      },
    };
  } catch (e) {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
    throw e;
  }
}

/** Waits until the workbench is laid out and its status bar shows (the extension host is then starting). */
export async function waitForWorkbench(page, { timeout = 60_000, extensionDevelopment = false } = {}) {
  await page.waitForSelector('.monaco-workbench', { timeout });
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout });
  await page.locator('.monaco-workbench .part.activitybar, .monaco-workbench .part.sidebar').first().waitFor({ state: 'visible', timeout });
  if (extensionDevelopment) {
    await page.waitForFunction(() => document.title.includes('[Extension Development Host]'), null, { timeout });
  }
}

async function closeQuickInput(page) {
  const widget = page.locator('.quick-input-widget');
  if (await widget.isVisible().catch(() => false)) {
    await page.keyboard.press('Escape');
    await widget.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
  }
}

/**
 * Runs a command by its palette title (e.g. 'Fixture: Show Webview Panel', 'Developer: Reload Window'):
 * F1, type the title, pick the row whose label is exactly that title (else the first row containing it),
 * Enter. Throws when no row matches.
 */
export async function runCommand(page, title, { timeout = T } = {}) {
  await closeQuickInput(page);
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout });
  await input.fill(`>${title}`);
  await pickQuickInputRow(page, title, { timeout, what: 'command' });
  // Done when the palette closed, or another quick input (the command's own picker) replaced it.
  await page.waitForFunction(() => {
    const w = document.querySelector('.quick-input-widget');
    const i = document.querySelector('.quick-input-widget .quick-input-box input');
    return !w || getComputedStyle(w).display === 'none' || !(i && i.value.startsWith('>'));
  }, null, { timeout });
}

/**
 * In an open quick input (palette, quick pick), waits for a row labelled `label` (exact, case-insensitive;
 * else the first row whose label contains it; `label` may be a list of accepted labels), moves the selection there with the arrow keys and accepts.
 */
export async function pickQuickInputRow(page, label, { timeout = T, what = 'item', accept = true } = {}) {
  const want = [].concat(label).map((l) => l.toLowerCase().replace(/\s+/g, ' ').trim());
  const handle = await page.waitForFunction((w) => {
    const norm = (t) => (t || '').toLowerCase().replace(/\s+/g, ' ').trim();
    const rows = [...document.querySelectorAll('.quick-input-widget .monaco-list-row')]
      .sort((a, b) => Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index')));
    const labelOf = (r) => norm(r.querySelector('.label-name')?.textContent || r.getAttribute('aria-label'));
    const exact = rows.find((r) => w.includes(labelOf(r)));
    const loose = rows.find((r) => w.some((x) => labelOf(r).includes(x)));
    const row = exact || loose;
    if (!row) return null;
    const focused = rows.find((r) => r.classList.contains('focused'));
    return { target: Number(row.getAttribute('data-index')), focused: focused ? Number(focused.getAttribute('data-index')) : -1 };
  }, want, { timeout }).catch(async () => {
    const seen = await page.locator('.quick-input-widget .monaco-list-row .label-name').allInnerTexts().catch(() => []);
    throw new Error(`${what} "${label}" not found in the quick input (rows: ${seen.slice(0, 5).join(' | ') || 'none'})`);
  });
  const { target, focused } = await handle.jsonValue();
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const key = target > focused ? 'ArrowDown' : 'ArrowUp';
  for (let i = 0; i < Math.abs(target - Math.max(focused, 0)) + (focused < 0 ? 1 : 0); i++) await input.press(key);
  await page.waitForFunction((t) => document.querySelector('.quick-input-widget .monaco-list-row.focused')?.getAttribute('data-index') === String(t), target, { timeout: 5_000 });
  if (accept) await input.press('Enter');
}

/** Opens a workspace file via quick open (Ctrl+P) and waits for its editor tab to be active. */
export async function openFile(page, relPath, { timeout = T } = {}) {
  await closeQuickInput(page);
  await page.locator('.monaco-workbench').click({ position: { x: 5, y: 5 }, force: true }).catch(() => {});
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout });
  await input.fill(relPath);
  const base = path.basename(relPath);
  await page.waitForFunction((b) => {
    const r = document.querySelector('.quick-input-widget .monaco-list-row.focused');
    return !!r && (r.getAttribute('aria-label') || r.textContent || '').includes(b);
  }, base, { timeout });
  await input.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: base }).first().waitFor({ state: 'visible', timeout });
  await activeEditor(page).locator('.view-lines').waitFor({ state: 'visible', timeout });
}

/** The active editor group's text editor. */
export function activeEditor(page) {
  return page.locator('.editor-group-container.active .monaco-editor').first();
}

/** Text of the visible lines of the active editor (Monaco renders only what is on screen). */
export async function editorText(page) {
  return activeEditor(page).locator('.view-lines').evaluate((el) =>
    [...el.querySelectorAll('.view-line')].sort((a, b) => a.offsetTop - b.offsetTop).map((l) => l.textContent.replace(/\u00a0/g, ' ')).join('\n'));
}

/**
 * The content frame of a webview (the extension's HTML): iframe.webview.ready > #active-frame.
 * @param {{ index?: number }} [opts] which webview when several are in the DOM (default: the last one)
 */
export function webviewFrame(page, { index } = {}) {
  const frames = page.locator('iframe.webview.ready');
  const outer = index == null ? frames.last() : frames.nth(index);
  return outer.contentFrame().frameLocator('#active-frame');
}

/**
 * Hovers over the first occurrence of `token` in the active editor's visible lines and returns the hover
 * widget's text (.monaco-hover). `occurrence` picks a later one (0-based).
 */
export async function hoverText(page, token, { occurrence = 0, timeout = T } = {}) {
  const editor = activeEditor(page);
  await editor.locator('.view-lines').waitFor({ state: 'visible', timeout });
  const point = await editor.locator('.view-lines').evaluate((root, [tok, occ]) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const lines = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) lines.push(n);
    let seen = 0;
    for (const node of lines) {
      const text = node.textContent.replace(/\u00a0/g, ' ');
      let at = text.indexOf(tok);
      while (at !== -1) {
        if (seen === occ) {
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + tok.length);
          const r = range.getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        }
        seen++;
        at = text.indexOf(tok, at + 1);
      }
    }
    return null;
  }, [token, occurrence]);
  if (!point) throw new Error(`token "${token}" not visible in the active editor`);
  // Move away first so a hover that is already open for another token is replaced.
  await page.mouse.move(point.x, point.y + 200);
  await page.mouse.move(point.x, point.y, { steps: 4 });
  const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: /\S/ }).last();
  await hover.waitFor({ state: 'visible', timeout });
  return (await hover.innerText()).trim();
}

/** Cursor position of the active editor from the status bar ("Ln X, Col Y"). */
export async function cursorPosition(page, { timeout = T } = {}) {
  const item = page.locator('[id="status.editor.selection"]');
  await item.waitFor({ state: 'visible', timeout });
  const text = (await item.innerText()).trim();
  const m = /Ln\s+(\d+),\s*Col\s+(\d+)/.exec(text);
  if (!m) throw new Error(`unexpected status bar text "${text}"`);
  return { line: Number(m[1]), column: Number(m[2]), text };
}

/** Waits until the status bar shows the cursor on `line` (it updates shortly after the cursor moves). */
export async function waitForCursorLine(page, line, { timeout = 10_000 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await cursorPosition(page, { timeout });
    if (last.line === line) return last;
    if (Date.now() > deadline) throw new Error(`cursor on line ${last.line} (${last.text}), expected line ${line}`);
    await page.waitForTimeout(100);
  }
}

/** Just the line number of the active editor's cursor (as the status bar shows it now). */
export async function cursorLine(page, opts) {
  return (await cursorPosition(page, opts)).line;
}

/** Saves a PNG of the page into the artifacts folder and returns its path. */
export async function screenshot(page, name, { dir = artifactsDir(), fullPage = false } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/** 'light' | 'dark' | 'hc-black' | 'hc-light', from the workbench's class. */
export async function currentThemeKind(page) {
  return page.locator('.monaco-workbench').evaluate((el) => {
    const c = el.classList;
    if (c.contains('hc-black')) return 'hc-black';
    if (c.contains('hc-light')) return 'hc-light';
    if (c.contains('vs-dark')) return 'dark';
    if (c.contains('vs')) return 'light';
    return 'unknown';
  });
}

/**
 * Switches the color theme through "Preferences: Color Theme" (e.g. 'Default Light Modern',
 * 'Default Dark Modern', or 'light'/'dark') and waits until the workbench shows it.
 */
export async function setColorTheme(page, theme, { timeout = T } = {}) {
  const label = THEMES[theme] || theme;
  await runCommand(page, 'Preferences: Color Theme', { timeout });
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout });
  await input.fill(label);
  // The picker labels the built-in themes without "Default " ("Dark Modern" for "Default Dark Modern").
  await pickQuickInputRow(page, [label, label.replace(/^Default /, '')], { timeout, what: 'theme' });
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout });
  const kind = /light/i.test(label) ? (/high contrast/i.test(label) ? 'hc-light' : 'light') : /high contrast/i.test(label) ? 'hc-black' : 'dark';
  await page.waitForFunction((k) => {
    const c = document.querySelector('.monaco-workbench')?.classList;
    if (!c) return false;
    return k === 'light' ? c.contains('vs') : k === 'dark' ? c.contains('vs-dark') : c.contains(k);
  }, kind, { timeout });
  // Webviews get the new theme variables asynchronously; give them a moment before screenshots.
  await page.waitForTimeout(500);
}

/** Reloads the window (Developer: Reload Window) and waits for the workbench again. */
export async function reloadWindow(page, { timeout = 60_000, extensionDevelopment = true } = {}) {
  const nav = page.waitForNavigation({ timeout, waitUntil: 'domcontentloaded' });
  await runCommand(page, 'Developer: Reload Window');
  await nav;
  await waitForWorkbench(page, { timeout, extensionDevelopment });
}

/** True while the workbench is in Restricted Mode (workspace trust enabled and the folder not trusted). */
export async function isRestrictedMode(page) {
  return page.locator('[id="status.workspaceTrust"]').isVisible();
}

/**
 * Answers the start-up trust modal ("Do you trust the authors of the files in this folder?"), shown when
 * openWorkbench({ workspaceTrust: 'enabled', settings: { 'security.workspace.trust.startupPrompt': 'once' } }).
 */
export async function answerTrustDialog(page, { trust = true, timeout = T } = {}) {
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ state: 'visible', timeout });
  await dialog.getByRole('button', { name: trust ? /Yes, I trust/ : /No, I don.t trust/ }).click();
  await dialog.waitFor({ state: 'hidden', timeout });
}

/** Grants workspace trust without the modal: "Workspaces: Manage Workspace Trust" -> "Trust". */
export async function grantWorkspaceTrust(page, { timeout = T } = {}) {
  await runCommand(page, 'Workspaces: Manage Workspace Trust', { timeout });
  const button = page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first();
  await button.waitFor({ state: 'visible', timeout });
  await button.click();
  await page.locator('[id="status.workspaceTrust"]').waitFor({ state: 'hidden', timeout });
}

/** Visible notification toasts' messages. */
export async function notifications(page) {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}
