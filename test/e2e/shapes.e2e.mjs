#!/usr/bin/env node
// End-to-end checks of shapes as you type, in the real workbench (code-server + Chromium, Playwright
// from outside): in the spiral example, type a mistake as a user would (Dense(3, 3) → Dense(4, 3)) and
// find the static diagnostic under dense2.forward before any run, its message in the hover, the
// Problems panel entry marked "before running", the inlay hints and the formula hover; apply the quick
// fix and see the error go; the outline lists the layers in network order. Screenshots go to
// test-artifacts/e2e/ (shapes-*.png). Exits non-zero on the first failed check.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { activeEditor, openFile, openWorkbench, runCommand, screenshot } from "../vscode/workbench.mjs";

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

    await check("hovers and inlay hints show the shapes, with each formula's", async () => {
      await openFile(page, "04-spiral-model.ts");
      const hint = activeEditor(page).locator(".view-lines", { hasText: "[300, 2]" });
      await hint.first().waitFor({ state: "attached", timeout: 30_000 }).catch(() => undefined);
      const text = await hoverOn(page, "dense1.backward(activation1.dinputs)", 3);
      assert.match(text, /dweights = inputsᵀ · dvalues/);
      assert.match(text, /\[2, 300\] · \[300, \d\] → \[2, 3\]/);
      await page.waitForTimeout(600);
      await screenshot(page, "shapes-hover-light", { dir: artifacts });
      await page.mouse.move(5, 600);
    });

    await check("the quick fix makes it Dense(3, 3) again and the error goes", async () => {
      await clickText(page, "dense2.forward(activation1.output)", 2);
      await page.keyboard.press("Control+.");
      const action = page.locator(".action-widget .monaco-list-row, .context-view .action-item", { hasText: "Change dense2 to Dense(3, 3)" }).first();
      await action.waitFor({ state: "visible", timeout: 30_000 });
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
