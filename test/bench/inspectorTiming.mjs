#!/usr/bin/env node
// Measures the inspector in the real workbench (code-server + Chromium), not part of the tests:
//  - time from "Run Backward Pass" (its key binding, so no palette time is counted) to every card of the
//    spiral example drawn (run done, 4 cards, every heatmap in the DOM drawn), cold (first run after the
//    window opened: worker, esbuild service and webview all start) and warm (the next runs);
//  - for W2 (test/fixtures/models/w2.ts), the largest matrix (dense1's dweights, 784×128): its draw time
//    inside the webview (ImageData fill + putImageData) and the time from scrolling to it to drawn
//    (tensor fetched as bytes from the extension host, then drawn).
// Usage: node test/bench/inspectorTiming.mjs [--runs=5]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { openFile, openWorkbench, webviewFrame } from "../vscode/workbench.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const runs = Number(process.argv.find((a) => a.startsWith("--runs="))?.split("=")[1] ?? 5);
const ws = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-timing-"));
for (const f of fs.readdirSync(path.join(repo, "examples"))) if (f.endsWith(".ts")) fs.copyFileSync(path.join(repo, "examples", f), path.join(ws, f));
fs.copyFileSync(path.join(repo, "test", "fixtures", "models", "w2.ts"), path.join(ws, "w2.ts"));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeRun(page, file, cards, runNo) {
  const frame = webviewFrame(page);
  const t0 = Date.now();
  await page.keyboard.press("Control+Alt+B");
  await page.waitForFunction(
    ({ cards: n, runNo: r }) => {
      const outer = [...document.querySelectorAll("iframe.webview.ready")].pop();
      const doc = outer?.contentDocument?.querySelector("#active-frame")?.contentDocument;
      if (!doc) return false;
      if (doc.querySelector("[data-testid=run-status]")?.getAttribute("data-status") !== "done") return false;
      if ((doc.querySelector("[data-testid=run-status]")?.textContent ?? "").length === 0) return false;
      if (doc.querySelectorAll("[data-testid=layer-card]").length < n) return false;
      if (Number(doc.querySelector("[data-testid=header]")?.getAttribute("data-run-id") ?? -1) < r) return false;
      const canvases = [...doc.querySelectorAll("canvas[data-testid=heatmap]")];
      return canvases.length > 0 && canvases.every((c) => c.hasAttribute("data-draw-ms"));
    },
    { cards, runNo },
    { timeout: 30_000, polling: 16 },
  ).catch(async (e) => {
    const state = await page.evaluate(() => {
      const outer = [...document.querySelectorAll("iframe.webview.ready")].pop();
      const doc = outer?.contentDocument?.querySelector("#active-frame")?.contentDocument;
      if (!doc) return "no webview document";
      const canvases = [...doc.querySelectorAll("canvas[data-testid=heatmap]")];
      return JSON.stringify({
        status: doc.querySelector("[data-testid=run-status]")?.getAttribute("data-status"),
        run: doc.querySelector("[data-testid=header]")?.getAttribute("data-run-id"),
        cards: doc.querySelectorAll("[data-testid=layer-card]").length,
        canvases: canvases.length,
        drawn: canvases.filter((c) => c.hasAttribute("data-draw-ms")).length,
      });
    });
    throw new Error(`run ${runNo} of ${file} did not finish drawing: ${state}; ${e.message}`);
  });
  const ms = Date.now() - t0;
  void frame;
  return ms;
}

async function main() {
  const wb = await openWorkbench({ extensionDevelopmentPath: repo, folder: ws, theme: "dark", viewport: { width: 1600, height: 1000 } });
  const { page } = wb;
  const out = { date: new Date().toISOString(), spiral: {}, w2: {} };
  try {
    await openFile(page, "04-spiral-model.ts");
    // The extension is active (and its key binding enabled) once its code lens shows.
    await page.locator(".codelens-decoration", { hasText: "Run Backward Pass" }).first().waitFor({ timeout: 60_000 });
    await page.locator(".monaco-editor .view-lines").first().click({ position: { x: 200, y: 200 } });
    out.spiral.coldMs = await timeRun(page, "04-spiral-model.ts", 4, 1);
    const warm = [];
    for (let i = 0; i < runs; i++) {
      await page.locator(".monaco-editor .view-lines").first().click({ position: { x: 200, y: 200 } });
      // Wait for the previous run's status to be replaced: the next timed run starts from a finished one.
      warm.push(await timeRun(page, "04-spiral-model.ts", 4, i + 2));
    }
    out.spiral.warmMs = warm;
    out.spiral.warmMedianMs = median(warm);

    await openFile(page, "w2.ts");
    await page.locator(".monaco-editor .view-lines").first().click({ position: { x: 200, y: 200 } });
    out.w2.runMs = await timeRun(page, "w2.ts", 6, runs + 2);
    const frame = webviewFrame(page);
    const draws = [];
    const fetchAndDraw = [];
    for (let i = 0; i < runs; i++) {
      if (i > 0) {
        await page.locator(".monaco-editor .view-lines").first().click({ position: { x: 200, y: 200 } });
        await timeRun(page, "w2.ts", 6, runs + 2 + i);
      }
      const figure = frame.locator('[data-testid=layer-card][data-layer="dense1"] figure[data-testid=tensor][data-tensor=dweights]').first();
      const t0 = Date.now();
      await figure.scrollIntoViewIfNeeded();
      const canvas = figure.locator("canvas[data-testid=heatmap][data-draw-ms]");
      await canvas.waitFor({ timeout: 60_000 });
      fetchAndDraw.push(Date.now() - t0);
      draws.push(Number(await canvas.getAttribute("data-draw-ms")));
      const rows = await canvas.getAttribute("data-rows");
      const cols = await canvas.getAttribute("data-cols");
      out.w2.matrix = `${rows}×${cols}`;
    }
    out.w2.drawMs = draws;
    out.w2.drawMedianMs = median(draws);
    out.w2.scrollToDrawnMs = fetchAndDraw;
    out.w2.scrollToDrawnMedianMs = median(fetchAndDraw);
  } finally {
    await wb.close();
    fs.rmSync(ws, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
