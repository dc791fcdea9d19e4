#!/usr/bin/env node
// End-to-end checks of shapes as you type, in the real workbench (code-server + Chromium, Playwright
// from outside): in the spiral example, type a mistake as a user would (Dense(3, 3) → Dense(4, 3)) and
// find the static diagnostic under dense2.forward before any run, its message in the hover, the
// Problems panel entry marked "before running"; apply the quick fix and see the error go; the inlay
// hints and the formula hover of the fixed model; the outline lists the layers in network order; the
// same in the dark theme; a Python model gets no TypeScript shapes. Screenshots go to
// test-artifacts/e2e/ (shapes-*.png). Exits non-zero on the first failed check.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { activeEditor, openFile, openWorkbench, runCommand, screenshot, setColorTheme } from "../vscode/workbench.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const artifacts = path.join(process.env.BPL_ARTIFACTS ?? path.join(repo, "test-artifacts"), "e2e");
fs.mkdirSync(artifacts, { recursive: true });

let passed = 0;
let current;
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`  ✔ ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    if (current) await screenshot(current, `failed-shapes-${name.replace(/[^\w]+/g, "-").slice(0, 50)}`, { dir: artifacts }).catch(() => undefined);
    console.log(`  ✘ ${name}\n    ${String(e?.stack ?? e).split("\n").slice(0, 6).join("\n    ")}`);
    throw e;
  }
}

/** A copy of the examples whose tsconfig points at this checkout's engine (so TypeScript resolves "backprop-lens"). */
function workspace() {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-e2e-shapes-"));
  for (const f of fs.readdirSync(path.join(repo, "examples"))) if (/\.(ts|json)$/.test(f)) fs.copyFileSync(path.join(repo, "examples", f), path.join(ws, f));
  fs.copyFileSync(path.join(repo, "examples", "python", "04_spiral_model.py"), path.join(ws, "04_spiral_model.py"));
  const tsconfig = path.join(ws, "tsconfig.json");
  fs.writeFileSync(tsconfig, fs.readFileSync(tsconfig, "utf8").replace("../core/index.ts", path.join(repo, "core", "index.ts")));
  return ws;
}

/** Where `offset` characters into the first visible occurrence of `text` (on one line) is on the page. */
async function pointOf(page, text, offset = 0) {
  const point = await activeEditor(page)
    .locator(".view-lines")
    .evaluate(
      (root, [tok, off]) => {
        // Monaco renders a line as one span per token: find the line, then the token's text node.
        for (const line of root.querySelectorAll(".view-line")) {
          const at = line.textContent.replace(/\u00a0/g, " ").indexOf(tok);
          if (at < 0) continue;
          let want = at + off;
          const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            if (want < n.textContent.length) {
              const r = document.createRange();
              r.setStart(n, want);
              r.setEnd(n, want + 1);
              const b = r.getBoundingClientRect();
              return { x: b.left + 1, y: b.top + b.height / 2 };
            }
            want -= n.textContent.length;
          }
        }
        return null;
      },
      [text, offset],
    );
  if (!point) throw new Error(`"${text}" is not visible in the editor`);
  return point;
}

/** Puts the cursor on `text` of the active editor, `offset` characters in. */
async function clickText(page, text, offset = 0) {
  const p = await pointOf(page, text, offset);
  await page.mouse.click(p.x, p.y);
}

/** Hovers `text` (`offset` characters in) and returns the hover's text. */
async function hoverOn(page, text, offset = 0) {
  const p = await pointOf(page, text, offset);
  await page.mouse.move(p.x, p.y + 200);
  await page.mouse.move(p.x + 2, p.y, { steps: 4 });
  const hover = page.locator(".monaco-hover:not(.hidden)").filter({ hasText: /\S/ }).last();
  await hover.waitFor({ state: "visible", timeout: 30_000 });
  return (await hover.innerText()).trim();
}

/** The rendered lines of the active editor, inlay hints included, with plain spaces. */
async function renderedLines(page) {
  return activeEditor(page)
    .locator(".view-lines")
    .evaluate((root) => [...root.querySelectorAll(".view-line")].map((l) => l.textContent.replace(/\u00a0/g, " ")));
}

/** Waits until some rendered line matches each pattern. */
async function waitForLines(page, patterns, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const lines = await renderedLines(page);
    const missing = patterns.filter((p) => !lines.some((l) => p.test(l)));
    if (missing.length === 0) return lines;
    if (Date.now() > deadline) throw new Error(`no rendered line matches ${missing.join(", ")}:\n${lines.join("\n")}`);
    await page.waitForTimeout(200);
  }
}

/**
 * Opens the quick fixes at the cursor (Ctrl+.) once the light bulb says there are some, as a user
 * would, and waits for `title`. VS Code re-asks when the markers change (TypeScript's own diagnostics
 * arriving late under load) and may then say "No code actions available" for the cancelled request:
 * that is retried once, and said in the output.
 */
async function openQuickFix(page, title) {
  await page.locator(".lightBulbWidget, [class*='lightbulb']").first().waitFor({ state: "visible", timeout: 30_000 }).catch(() => undefined);
  const action = page.locator(".action-widget .monaco-list-row", { hasText: title }).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press("Control+.");
    try {
      await action.waitFor({ state: "visible", timeout: attempt === 1 ? 10_000 : 30_000 });
      return;
    } catch (e) {
      if (attempt > 1) throw e;
      const none = await page.getByText("No code actions available").count();
      console.log(`    (the quick fix list did not open${none ? ': "No code actions available"' : ""}; pressing Ctrl+. again)`);
      await page.keyboard.press("Escape");
    }
  }
}

async function main() {
  const ws = workspace();
  const wb = await openWorkbench({ extensionDevelopmentPath: repo, folder: ws, theme: "light", viewport: { width: 1600, height: 1000 } });
  const { page } = wb;
  current = page;
  const squiggles = () => activeEditor(page).locator(".view-overlays .squiggly-error, .view-overlays [class*='squiggly-error']");
  try {
    await check("typing Dense(4, 3) after Dense(2, 3): the static diagnostic shows under dense2.forward before any run", async () => {
      await openFile(page, "04-spiral-model.ts");
      // The analysis of the untouched example finds nothing.
      await page.waitForTimeout(1500);
      assert.equal(await squiggles().count(), 0, "no error in the example as it is");
      // Select the "3" of Dense(3, 3) and type 4, as a user would.
      await clickText(page, "const dense2 = new Dense(3, 3);", "const dense2 = new Dense(".length);
      await page.keyboard.press("Shift+ArrowRight");
      await page.keyboard.type("4", { delay: 80 });
      await squiggles().first().waitFor({ state: "visible", timeout: 60_000 });
      const text = await hoverOn(page, "dense2.forward(activation1.output)", 3);
      assert.match(text, /dense2 = Dense\(4, 3\) takes 4 inputs per sample, but activation1\.output is \[300, 3\]/);
      assert.match(text, /Backprop Lens \(before running\)/);
      // The static hover joins the problem's (it comes from the same server, a moment later).
      await page.locator(".monaco-hover:not(.hidden)", { hasText: "Shapes before running" }).first().waitFor({ state: "visible", timeout: 30_000 });
      await page.waitForTimeout(600);
      await screenshot(page, "shapes-diagnostic-light", { dir: artifacts });
      await page.mouse.move(5, 600);
    });

    await check("the Problems panel lists it as before running", async () => {
      await runCommand(page, "View: Focus Problems (Errors, Warnings, Infos)");
      const row = page.locator(".markers-panel .monaco-list-row", { hasText: "takes 4 inputs per sample" }).first();
      await row.waitFor({ state: "visible", timeout: 30_000 });
      assert.match(await row.innerText(), /Backprop Lens \(before running\)/);
      await screenshot(page, "shapes-problems-light", { dir: artifacts });
      await runCommand(page, "View: Hide Panel");
    });

    await check("the quick fix makes it Dense(3, 3) again and the error goes", async () => {
      await clickText(page, "dense2.forward(activation1.output)", 2);
      await openQuickFix(page, "Change dense2 to Dense(3, 3)");
      await page.waitForTimeout(400);
      await screenshot(page, "shapes-quickfix-light", { dir: artifacts });
      // It is the first quick fix, focused: accept it as a user would.
      assert.match((await page.locator(".action-widget .monaco-list-row.focused").first().getAttribute("aria-label")) ?? "", /^Change dense2 to Dense\(3, 3\)/);
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => !document.querySelector(".editor-group-container.active .view-overlays .squiggly-error"), null, { timeout: 30_000 });
      const line = await activeEditor(page).locator(".view-line", { hasText: "const dense2 = new Dense(" }).first().innerText();
      assert.match(line.replace(/\u00a0/g, " "), /const dense2 = new Dense\(3, 3\);/);
      await page.waitForTimeout(400);
      await screenshot(page, "shapes-fixed-light", { dir: artifacts });
    });

    await check("the fixed model: inlay hints and the formula hover show its shapes", async () => {
      // Inlay hints are part of the rendered lines: after the destructured data, at the end of calls.
      await waitForLines(page, [/const \[X: \[300, 2\], y: \[300\]\] = spiralData/, /dense1\.forward\(X\);\s*→ \[300, 3\]/, /dense1\.backward\(activation1\.dinputs\);\s*← \[300, 2\], dweights \[2, 3\]/]);
      const text = await hoverOn(page, "dense1.backward(activation1.dinputs)", 3);
      assert.match(text, /dweights = inputsᵀ · dvalues\s+\[2, 300\] · \[300, 3\] → \[2, 3\]/);
      assert.match(text, /dinputs {2}= dvalues · weightsᵀ\s+\[300, 3\] · \[3, 2\] → \[300, 2\]/);
      assert.match(text, /Shapes before running/);
      await page.waitForTimeout(600);
      await screenshot(page, "shapes-hover-light", { dir: artifacts });
      await page.mouse.move(5, 600);
    });

    await check("the outline lists the layers in network order", async () => {
      // Fold the file tree so the outline has room, then show it.
      await page.locator(".pane-header", { hasText: /bpl-e2e-shapes/i }).first().click().catch(() => undefined);
      await runCommand(page, "Explorer: Focus on Outline View");
      const outline = page.locator(".outline-pane, [id='outline']").first();
      await outline.locator(".monaco-list-row", { hasText: "lossActivation" }).first().waitFor({ state: "visible", timeout: 30_000 });
      const text = await outline.innerText();
      const order = ["dense1", "activation1", "dense2", "lossActivation"].map((n) => text.indexOf(n));
      assert.ok(order.every((i) => i >= 0), text);
      await screenshot(page, "shapes-outline-light", { dir: artifacts });
    });

    await check("dark theme: the mistake typed again, its diagnostic, the quick fix and the hover", async () => {
      await setColorTheme(page, "dark");
      await openFile(page, "04-spiral-model.ts");
      await clickText(page, "const dense2 = new Dense(3, 3);", "const dense2 = new Dense(".length);
      await page.keyboard.press("Shift+ArrowRight");
      await page.keyboard.type("4", { delay: 80 });
      await squiggles().first().waitFor({ state: "visible", timeout: 60_000 });
      const text = await hoverOn(page, "dense2.forward(activation1.output)", 3);
      assert.match(text, /takes 4 inputs per sample/);
      await page.locator(".monaco-hover:not(.hidden)", { hasText: "Shapes before running" }).first().waitFor({ state: "visible", timeout: 30_000 });
      await page.waitForTimeout(600);
      await screenshot(page, "shapes-diagnostic-dark", { dir: artifacts });
      await page.mouse.move(5, 600);
      await clickText(page, "dense2.forward(activation1.output)", 2);
      await openQuickFix(page, "Change dense2 to Dense(3, 3)");
      await page.waitForTimeout(400);
      await screenshot(page, "shapes-quickfix-dark", { dir: artifacts });
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => !document.querySelector(".editor-group-container.active .view-overlays .squiggly-error"), null, { timeout: 30_000 });
      const back = await hoverOn(page, "dense1.backward(activation1.dinputs)", 3);
      assert.match(back, /\[2, 300\] · \[300, 3\] → \[2, 3\]/);
      await page.waitForTimeout(600);
      await screenshot(page, "shapes-hover-dark", { dir: artifacts });
      await page.mouse.move(5, 600);
    });

    await check("a Python model gets no TypeScript shapes, even with the same mistake typed in", async () => {
      await openFile(page, "04_spiral_model.py");
      await page.keyboard.press("Control+g");
      await page.keyboard.type("198");
      await page.keyboard.press("Enter");
      await waitForLines(page, [/^dense2 = Layer_Dense\(3, 3\)$/, /^dense2\.forward\(activation1\.output\)$/]);
      await clickText(page, "dense2 = Layer_Dense(3, 3)", "dense2 = Layer_Dense(".length);
      await page.keyboard.press("Shift+ArrowRight");
      await page.keyboard.type("4", { delay: 80 });
      await waitForLines(page, [/^dense2 = Layer_Dense\(4, 3\)$/]);
      // The TypeScript file's diagnostic came within seconds; give this one more than that.
      await page.waitForTimeout(4000);
      assert.equal(await squiggles().count(), 0, "no static error squiggle in the Python file");
      const lines = await renderedLines(page);
      assert.ok(!lines.some((l) => /→ \[\d+, \d+\]|← \[\d+, \d+\]/.test(l)), `no shape inlay hints:\n${lines.join("\n")}`);
      await runCommand(page, "View: Focus Problems (Errors, Warnings, Infos)");
      await page.waitForTimeout(500);
      assert.equal(await page.locator(".markers-panel .monaco-list-row", { hasText: "before running" }).count(), 0, "no static problem");
      await screenshot(page, "shapes-python-dark", { dir: artifacts });
      await runCommand(page, "View: Hide Panel");
      await openFile(page, "04_spiral_model.py");
      await runCommand(page, "File: Revert File");
    });
  } finally {
    await wb.close();
    fs.rmSync(ws, { recursive: true, force: true });
  }
  console.log(`shapes e2e: ${passed} checks passed`);
}

console.log("shapes e2e: shapes as you type in the workbench");
main().catch((e) => {
  // A failed check already said what failed; anything else (the workbench did not start) says it here.
  if (!String(e?.message ?? "").startsWith("check:")) console.log(`shapes e2e: ${String(e?.stack ?? e).split("\n").slice(0, 8).join("\n  ")}`);
  console.log(`shapes e2e: ${passed} checks passed, then a failure`);
  process.exit(1);
});
