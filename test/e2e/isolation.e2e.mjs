#!/usr/bin/env node
// End-to-end checks of issue 12 in the real workbench (code-server + Chromium, driven from outside): what
// a user sees when a model kills its own process, floods the console until Stop, outgrows the memory
// limit, prints nothing after a run that printed, names its layers with Markdown and HTML, or is running
// when the window reloads. Screenshots go to test-artifacts/e2e/isolation-*.png. Exit 1 on a failed check.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { activeEditor, hoverText, openFile, openWorkbench, reloadWindow, runCommand, screenshot, webviewFrame } from "../vscode/workbench.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const artifacts = path.join(process.env.BPL_ARTIFACTS ?? path.join(repo, "test-artifacts"), "e2e");
fs.mkdirSync(artifacts, { recursive: true });

let passed = 0;
let failed = 0;
let current;
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`  ✔ ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    if (current) await screenshot(current, `isolation-failed-${name.replace(/[^\w]+/g, "-").slice(0, 50)}`, { dir: artifacts }).catch(() => undefined);
    console.log(`  ✘ ${name}\n    ${String(e?.stack ?? e).split("\n").slice(0, 6).join("\n    ")}`);
    throw e;
  }
}

function workspace() {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-e2e-iso-"));
  for (const dir of ["examples", "test/fixtures/hostile", "test/fixtures/models"]) {
    for (const f of fs.readdirSync(path.join(repo, dir))) if (f.endsWith(".ts") || f === "tsconfig.json") fs.copyFileSync(path.join(repo, dir, f), path.join(ws, f));
  }
  const tsconfig = path.join(ws, "tsconfig.json");
  if (fs.existsSync(tsconfig)) fs.writeFileSync(tsconfig, fs.readFileSync(tsconfig, "utf8").replace("../core/index.ts", path.join(repo, "core", "index.ts")));
  return ws;
}

const status = (frame) => frame.locator("[data-testid=run-status]");
const statusBarItem = (page) => page.locator('[id="backprop-lens.backprop-lens.backpropLens.status"]');

async function runAndWait(page, file, state, timeout = 60_000) {
  await openFile(page, file);
  await runCommand(page, "Backprop Lens: Run Backward Pass");
  const frame = webviewFrame(page);
  await frame.locator("[data-testid=file-name]").filter({ hasText: file }).waitFor({ timeout: 30_000 });
  if (state) await frame.locator(`[data-testid=run-status][data-status=${state}]`).waitFor({ timeout });
  return frame;
}

async function main() {
  const ws = workspace();
  const wb = await openWorkbench({ extensionDevelopmentPath: repo, folder: ws, theme: "dark", viewport: { width: 1600, height: 1000 } });
  const { page } = wb;
  current = page;
  try {
    await check("a model that kills its own process: the inspector and the status bar say lost, with the signal", async () => {
      const frame = await runAndWait(page, "kill-self.ts", "lost");
      const msg = await frame.locator("[data-testid=error-message]").textContent();
      assert.match(msg ?? "", /kill-self\.ts: the model's process died: killed by signal 9 \(SIGKILL\)/);
      assert.match((await statusBarItem(page).textContent()) ?? "", /kill-self\.ts: lost/);
      await screenshot(page, "isolation-killed-process", { dir: artifacts });
    });

    await check("a console flood is stopped at once by Stop Run; its output is capped", async () => {
      const frame = await runAndWait(page, "console-flood-forever.ts", "running");
      await frame.locator("[data-testid=output]").waitFor({ timeout: 30_000 });
      await runCommand(page, "Backprop Lens: Stop Run");
      await status(frame).and(frame.locator("[data-status=stopped]")).waitFor({ timeout: 10_000 });
      const heading = await frame.locator("[data-testid=output]").getAttribute("heading");
      const lines = Number(/Output \(([\d,]+) line/.exec(heading ?? "")?.[1]?.replace(/,/g, ""));
      assert.ok(lines > 0 && lines <= 10_001, heading ?? "");
      assert.match((await statusBarItem(page).textContent()) ?? "", /console-flood-forever\.ts: stopped/);
      await screenshot(page, "isolation-stopped-flood", { dir: artifacts });
    });

    await check("24 raw 128 MB arrays are stopped by the memory limit, at their line", async () => {
      const frame = await runAndWait(page, "raw-buffers.ts", "failed");
      const msg = await frame.locator("[data-testid=error-message]").textContent();
      assert.match(msg ?? "", /raw-buffers\.ts: the model used \d+ MB, more than the memory limit of 1024 MB, and was stopped/);
      assert.equal(await frame.locator("[data-testid=error-banner]").getAttribute("data-kind"), "memory");
      await screenshot(page, "isolation-memory-stop", { dir: artifacts });
    });

    await check("a run that prints nothing after one that printed shows no earlier line", async () => {
      let frame = await runAndWait(page, "timers-run.ts", "done");
      await frame.locator("[data-testid=output]").filter({ has: frame.locator(".out-line") }).waitFor({ timeout: 10_000 }).catch(() => undefined);
      frame = await runAndWait(page, "silent.ts", "done");
      const output = frame.locator("[data-testid=output]");
      if (await output.count()) {
        assert.match((await output.getAttribute("heading")) ?? "", /Output \(0 lines\)/);
        assert.equal(await frame.locator("[data-testid=output] .out-line").count(), 0, "no line of the earlier run");
      }
      await screenshot(page, "isolation-silent-after-output", { dir: artifacts });
    });

    await check("layer names with HTML and a command link show as text in the hover, and make no element or link", async () => {
      await runAndWait(page, "injection.ts", "failed");
      await openFile(page, "injection.ts");
      const text = await hoverText(page, "Dense", { occurrence: 1 });
      assert.ok(text.includes("<img src=x onerror=alert(1)>") || text.includes("[click me](command:backpropLens.runBackwardPass)"), text);
      assert.equal(await page.locator(".monaco-hover img").count(), 0, "no img in the hover");
      assert.equal(await page.locator('.monaco-hover a[data-href^="command:backpropLens.runBackwardPass"], .monaco-hover a[href^="command:backpropLens.runBackwardPass"]').count(), 0, "no live run link");
      await screenshot(page, "isolation-injection-hover", { dir: artifacts });
      await page.keyboard.press("Escape");
      void activeEditor;
    });

    await check("a reload while a model runs: the inspector says the last run was interrupted, not an older one", async () => {
      await runAndWait(page, "02-layer-batch.ts", "done");
      await runAndWait(page, "infinite-loop.ts", "running");
      await reloadWindow(page);
      const frame = webviewFrame(page);
      await frame.locator("[data-testid=run-status][data-status=lost]").waitFor({ timeout: 60_000 });
      assert.match((await frame.locator("[data-testid=file-name]").textContent()) ?? "", /infinite-loop\.ts/);
      assert.match((await frame.locator("[data-testid=error-message]").textContent()) ?? "", /the last run was interrupted before it ended/);
      await screenshot(page, "isolation-interrupted-reload", { dir: artifacts });
    });
  } finally {
    await wb.close();
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

const t0 = Date.now();
main()
  .then(() => {
    console.log(`e2e (isolation): ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(0)} s); screenshots in ${artifacts}`);
    process.exit(failed ? 1 : 0);
  })
  .catch(() => {
    console.log(`e2e (isolation): ${passed} passed, ${failed || 1} failed; screenshots in ${artifacts}`);
    process.exit(1);
  });
