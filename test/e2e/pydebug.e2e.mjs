#!/usr/bin/env node
// Debugging Python models in the real workbench (code-server + Chromium, Playwright from outside), in the
// light and the dark theme: F9 on `optimizer.step()` of a PyTorch model and F5 pause it at
// `update fc1.weights` with the update's tensors in Variables; F9 on `y = max(z, 0)` of the plain-float
// single neuron pauses at that operation, with its local derivative in Variables and the inspector drawing
// the single-neuron graph. Screenshots: test-artifacts/e2e/pydebug-{torch-update,neuron}-{light,dark}.png.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { activeEditor, openFile, openWorkbench, screenshot, webviewFrame } from "../vscode/workbench.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const artifacts = path.join(process.env.BPL_ARTIFACTS ?? path.join(repo, "test-artifacts"), "e2e");
fs.mkdirSync(artifacts, { recursive: true });

let passed = 0;
let failed = 0;
async function check(page, name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`  ✔ ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    await screenshot(page, `failed-pydebug-${name.replace(/[^\w]+/g, "-").slice(0, 50)}`, { dir: artifacts }).catch(() => undefined);
    console.log(`  ✘ ${name}\n    ${String(e?.stack ?? e).split("\n").slice(0, 6).join("\n    ")}`);
    throw e;
  }
}

/** Contract 5's interpreter; this check needs PyTorch too, and says so. */
function testPython() {
  const candidates = process.env.BPL_PYTHON ? [process.env.BPL_PYTHON] : ["/usr/bin/python3", "python3", "python"];
  for (const c of candidates) {
    if (c.startsWith("/") && !fs.existsSync(c)) continue;
    const r = spawnSync(c, ["-c", "import importlib.util as u; print(u.find_spec('numpy') is not None, u.find_spec('torch') is not None)"], { encoding: "utf8" });
    if (r.status !== 0) continue;
    if (r.stdout.trim() !== "True True") throw new Error(`NumPy or PyTorch is not installed for ${c}: the Python debugging check needs both (Debian: python3-numpy python3-torch; or set BPL_PYTHON)`);
    return c;
  }
  throw new Error(`no Python found (tried ${candidates.join(", ")}): set BPL_PYTHON`);
}

function workspace() {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-e2e-pydebug-"));
  fs.copyFileSync(path.join(repo, "test", "fixtures", "python", "debug_torch_optim.py"), path.join(ws, "torch_sgd.py"));
  fs.copyFileSync(path.join(repo, "examples", "python", "01_single_neuron.py"), path.join(ws, "single_neuron.py"));
  fs.mkdirSync(path.join(ws, ".vscode"), { recursive: true });
  fs.writeFileSync(path.join(ws, ".vscode", "settings.json"), JSON.stringify({ "backpropLens.pythonPath": testPython() }, null, 2));
  return ws;
}

function lineOf(file, text) {
  const i = fs.readFileSync(file, "utf8").split("\n").findIndex((l) => l.startsWith(text));
  assert.ok(i >= 0, text);
  return i + 1;
}

async function goToLine(page, line) {
  await activeEditor(page).click({ position: { x: 200, y: 10 } });
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ state: "visible" });
  await input.fill(`:${line}`);
  await input.press("Enter");
}

const toolbar = (page) => page.locator(".debug-toolbar");
const variables = (page) => page.locator(".debug-variables");

async function waitTopFrame(page, re, timeout = 60_000) {
  const end = Date.now() + timeout;
  let last = "";
  while (Date.now() < end) {
    const row = page.locator(".debug-call-stack .monaco-list-row .stack-frame").first();
    last = await row.locator(".label, .file-name").first().innerText({ timeout: 2000 }).then((t) => t.trim(), () => "");
    if (re.test(last)) return last;
    await page.waitForTimeout(200);
  }
  throw new Error(`top frame "${last}" does not match ${re}`);
}

async function debugAt(page, file, ws, lineText) {
  await openFile(page, file);
  await page.locator(".codelens-decoration", { hasText: "Debug Backward Pass" }).first().waitFor({ timeout: 60_000 });
  await goToLine(page, lineOf(path.join(ws, file), lineText));
  await page.keyboard.press("F9");
  await page.locator(".codicon-debug-breakpoint").first().waitFor({ timeout: 10_000 });
  await page.keyboard.press("F5");
  const picker = page.locator(".quick-input-widget", { hasText: "Select debugger" });
  if (await picker.waitFor({ state: "visible", timeout: 3000 }).then(() => true, () => false)) await page.keyboard.press("Enter");
  await toolbar(page).waitFor({ state: "visible", timeout: 60_000 });
}

async function stopAndClear(page) {
  await page.keyboard.press("Shift+F5");
  await toolbar(page).waitFor({ state: "hidden", timeout: 30_000 });
  await page.keyboard.press("F9"); // the cursor is still on the breakpoint's line: remove it
}

async function main() {
  const ws = workspace();
  for (const theme of ["light", "dark"]) {
    const wb = await openWorkbench({ extensionDevelopmentPath: repo, folder: ws, theme, viewport: { width: 1600, height: 950 } });
    const { page } = wb;
    try {
      await check(page, `[${theme}] F9 on optimizer.step() of a PyTorch model and F5 pause at update fc1.weights with the update's tensors`, async () => {
        await debugAt(page, "torch_sgd.py", ws, "    optimizer.step()");
        await waitTopFrame(page, /update fc1\.weights/);
        const stack = await page.locator(".debug-call-stack").innerText();
        assert.match(stack, /update fc1 \(running\)/);
        for (const name of ["weights.before", "weights.momentum", "dweights"]) {
          const row = variables(page).locator(".monaco-list-row", { hasText: name }).first();
          await row.waitFor({ timeout: 30_000 });
          assert.match(await row.innerText(), /\[3, 4\] ‖·‖/);
        }
        await screenshot(page, `pydebug-torch-update-${theme}`, { dir: artifacts });
        await stopAndClear(page);
      });
      await check(page, `[${theme}] F9 on y = max(z, 0) of the plain-float single neuron and F5 pause at relu y; the inspector draws the graph`, async () => {
        await debugAt(page, "single_neuron.py", ws, "y = max(z, 0)");
        await waitTopFrame(page, /relu y = 6/);
        await variables(page).locator(".monaco-list-row", { hasText: "∂y/∂z" }).first().waitFor({ timeout: 30_000 });
        const frame = webviewFrame(page);
        await frame.locator("[data-testid=scalar-graph]").first().waitFor({ timeout: 60_000 });
        const labels = await frame.locator("[data-testid=scalar-node]").evaluateAll((els) => els.map((e) => e.getAttribute("data-label")));
        for (const l of ["x0", "w0", "xw0", "z", "y"]) assert.ok(labels.includes(l), `${l} in the graph (${labels.join(", ")})`);
        await screenshot(page, `pydebug-neuron-${theme}`, { dir: artifacts });
        await stopAndClear(page);
      });
    } finally {
      await wb.close();
    }
  }
  fs.rmSync(ws, { recursive: true, force: true });
}

main()
  .then(() => {
    console.log(`pydebug e2e: ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  })
  .catch((e) => {
    console.log(`pydebug e2e: ${passed} passed, ${failed + (failed ? 0 : 1)} failed`);
    console.error(e);
    process.exit(1);
  });
