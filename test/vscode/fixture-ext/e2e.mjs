#!/usr/bin/env node
// End-to-end demo of test/vscode/workbench.mjs against the fixture extension, driving the real workbench
// from outside: F1 command -> webview text, light and dark screenshots, quick open + hover + cursor line,
// and webview panel restore after "Developer: Reload Window".
//
//   node test/vscode/fixture-ext/e2e.mjs        # screenshots in $BPL_ARTIFACTS or <repo>/test-artifacts/
// Last line: "e2e: N passed, N failed"; exit code 1 on any failure (a failure screenshot is saved too).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  currentThemeKind, cursorPosition, hoverText, openFile, openWorkbench, reloadWindow, runCommand, screenshot,
  setColorTheme, waitForCursorLine, webviewFrame,
} from '../workbench.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-e2e-ws-'));
fs.writeFileSync(path.join(folder, 'hello.txt'), 'alpha beta gamma\nsecond line\nthird line\n');

let passed = 0;
let failed = 0;
const t0 = Date.now();
const wb = await openWorkbench({ extensionDevelopmentPath: here, folder, theme: 'light' });
console.log(`workbench ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const { page } = wb;

async function step(name, fn) {
  const s = Date.now();
  try {
    await fn();
    passed++;
    console.log(`  ✔ ${name} (${((Date.now() - s) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`  ✘ ${name}: ${e.message.split('\n')[0]}`);
    console.log(`    screenshot: ${await screenshot(page, `e2e-failure-${name}`).catch(() => '(none)')}`);
  }
}

try {
  await step('webview shows its text (F1 command)', async () => {
    await runCommand(page, 'Fixture: Show Webview Panel');
    const msg = webviewFrame(page).locator('#msg');
    await msg.waitFor({ timeout: 30_000 });
    assert.equal((await msg.textContent()).trim(), 'Hello from the fixture webview');
    assert.equal(await currentThemeKind(page), 'light');
    await webviewFrame(page).locator('body.vscode-light').waitFor({ timeout: 10_000 });
    console.log(`    ${await screenshot(page, 'fixture-webview-light')}`);
  });

  await step('dark theme reaches the webview', async () => {
    await setColorTheme(page, 'Default Dark Modern');
    assert.equal(await currentThemeKind(page), 'dark');
    // The webview's <body> class follows the theme (vscode-dark); wait for it.
    await webviewFrame(page).locator('body.vscode-dark').waitFor({ timeout: 10_000 });
    console.log(`    ${await screenshot(page, 'fixture-webview-dark')}`);
  });

  await step('quick open, hover and cursor line', async () => {
    await openFile(page, 'hello.txt');
    const hover = await hoverText(page, 'beta');
    assert.match(hover, /Fixture hover: beta/);
    console.log(`    ${await screenshot(page, 'fixture-hover-dark')}`);
    await page.mouse.move(5, 5);
    await page.keyboard.press('Escape');
    assert.equal((await cursorPosition(page)).line, 1);
    await page.keyboard.press('Control+End');
    await waitForCursorLine(page, 4);
  });

  await step('webview panel is restored after a window reload', async () => {
    await reloadWindow(page);
    // The restored panel may sit behind hello.txt: bring it to front by its tab.
    const tab = page.locator('.tabs-container .tab', { hasText: 'Fixture Panel' });
    await tab.waitFor({ timeout: 30_000 });
    await tab.click();
    const msg = webviewFrame(page).locator('#msg');
    await msg.waitFor({ timeout: 30_000 });
    assert.match((await msg.textContent()).trim(), /^Restored fixture webview \(opened [1-9]\d* times\)$/);
    console.log(`    ${await screenshot(page, 'fixture-webview-restored')}`);
  });
} finally {
  await wb.close();
  fs.rmSync(folder, { recursive: true, force: true });
}
console.log(`e2e total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
