#!/usr/bin/env node
// End-to-end checks in the real workbench (code-server + Chromium, driven from outside with Playwright):
// F1 → "Run Backward Pass" on the examples, then read the chapter's numbers inside the Gradient Inspector,
// pick an element and read its chain rule, hover a layer and read the hover, click a card's source link
// and find the editor on that line, switch themes, reload the window and find the panel restored; then,
// in a fresh folder, the walkthrough and a completion list. Screenshots (light, dark, high contrast) go to
// test-artifacts/e2e/. Exits non-zero on the first failed check.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  activeEditor,
  hoverText,
  openFile,
  openWorkbench,
  reloadWindow,
  runCommand,
  screenshot,
  setColorTheme,
  waitForCursorLine,
  webviewFrame,
} from "../vscode/workbench.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const artifacts = path.join(process.env.BPL_ARTIFACTS ?? path.join(repo, "test-artifacts"), "e2e");
fs.mkdirSync(artifacts, { recursive: true });
/** Whole-window screenshots the README shows (copied into the repository when BPL_UPDATE_MEDIA=1). */
const README_SHOTS = { "layer-batch-light": "docs/images/workbench-light.png", "spiral-dark": "docs/images/workbench-dark.png", "completions-dark": "docs/images/completions.png" };
async function shot(page, name, opts) {
  await screenshot(page, name, { dir: artifacts, ...opts });
  const rel = README_SHOTS[name];
  if (rel && process.env.BPL_UPDATE_MEDIA === "1") fs.copyFileSync(path.join(artifacts, `${name}.png`), path.join(repo, rel));
}

// Pictures of single UI elements for the walkthrough (media/walkthrough) and the README (docs/images):
// written to test-artifacts/e2e/media always, and into the repository when BPL_UPDATE_MEDIA=1.
const MEDIA = {
  "new-model": ["media/walkthrough/new-model.png"],
  inspector: ["media/walkthrough/inspector.png", "docs/images/inspector.png"],
  hover: ["media/walkthrough/hover.png", "docs/images/hover.png"],
  jacobian: ["media/walkthrough/jacobian.png", "docs/images/jacobian.png"],
  "chain-rule": ["media/walkthrough/chain-rule.png", "docs/images/chain-rule.png"],
  "scalar-graph": ["docs/images/scalar-graph.png"],
};
async function media(locator, name) {
  const out = path.join(artifacts, "media", `${name}.png`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  await locator.screenshot({ path: out });
  if (process.env.BPL_UPDATE_MEDIA === "1") {
    for (const rel of MEDIA[name] ?? []) {
      fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
      fs.copyFileSync(out, path.join(repo, rel));
    }
  }
}

let passed = 0;
let failed = 0;
/** The page of the workbench in use, for a screenshot when a check fails. */
let current;
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`  ✔ ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    if (current) await shot(current, `failed-${name.replace(/[^\w]+/g, "-").slice(0, 60)}`).catch(() => undefined);
    console.log(`  ✘ ${name}\n    ${String(e?.stack ?? e).split("\n").slice(0, 6).join("\n    ")}`);
    throw e;
  }
}

/** A fresh copy of the examples as the workspace. */
function workspace() {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-e2e-"));
  for (const f of fs.readdirSync(path.join(repo, "examples"))) {
    if (fs.statSync(path.join(repo, "examples", f)).isFile()) fs.copyFileSync(path.join(repo, "examples", f), path.join(ws, f));
  }
  // A model of a new user's: the chapter's network with Softmax and CCE apart, SGD at learning rate 50.
  fs.copyFileSync(path.join(repo, "test", "fixtures", "models", "overview-sgd.ts"), path.join(ws, "overview-sgd.ts"));
  // The book's Python examples, run with the tests' interpreter (contract 5) through the setting.
  for (const f of fs.readdirSync(path.join(repo, "examples", "python"))) fs.copyFileSync(path.join(repo, "examples", "python", f), path.join(ws, f));
  const python = process.env.BPL_PYTHON ?? (fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
  fs.mkdirSync(path.join(ws, ".vscode"), { recursive: true });
  fs.writeFileSync(path.join(ws, ".vscode", "settings.json"), JSON.stringify({ "backpropLens.pythonPath": python }, null, 2));
  // The copy lives outside the repository: point its tsconfig at the engine's sources here.
  const tsconfig = path.join(ws, "tsconfig.json");
  fs.writeFileSync(tsconfig, fs.readFileSync(tsconfig, "utf8").replace("../core/index.ts", path.join(repo, "core", "index.ts")));
  return ws;
}

const card = (frame, layer) => frame.locator(`[data-testid=layer-card][data-layer="${layer}"]`);
const rowText = (locator) => locator.getAttribute("data-row-text");

/** The first row of a tensor's number grid; the panel is scrolled into view first (tensors load when visible). */
async function firstRow(scope, tensor) {
  const figure = scope.locator(`figure[data-testid=tensor][data-tensor=${tensor}]`).first();
  await figure.waitFor({ timeout: 30_000 });
  await figure.scrollIntoViewIfNeeded();
  const row = figure.locator("[data-testid=grid] .numrow").first();
  await row.waitFor({ timeout: 30_000 });
  return row;
}

async function runExample(page, file) {
  await openFile(page, file);
  await runCommand(page, "Backprop Lens: Run Backward Pass");
  const frame = webviewFrame(page);
  await frame.locator('[data-testid=run-status][data-status=done]').waitFor({ timeout: 60_000 });
  await frame.locator('[data-testid=file-name]').filter({ hasText: file }).waitFor({ timeout: 30_000 });
  return frame;
}

/** What of a run's results the editor shows (gradient norms, gradient checks), as a regular expression's source. */
const RESULT_TEXT = "grad check|‖dW‖|‖dinputs‖";

/** Defines `editorResultText()` in the page: the text of the editors' lines, hints and code lenses. */
async function defineEditorResultText(page) {
  await page.evaluate(() => {
    window.editorResultText = () => [...document.querySelectorAll(".monaco-editor .view-lines, .monaco-editor .contentWidgets, .monaco-editor .codelens-decoration")].map((e) => e.textContent ?? "").join(" ");
  });
}

/** A number as the inspector writes it (`−1.2e−5`) back to a number. */
const num = (s) => Number(String(s).trim().replace(/−/g, "-").replace(/^\((.*)\)$/, "$1"));

/**
 * What does not fit in the panel: the page scrolls sideways, or an element reaches past the card or
 * section it sits in (a scroll container that says it scrolls, an equation's, is allowed).
 */
async function overflowing(frame) {
  return frame.locator("body").evaluate(() => {
    const out = [];
    const doc = document.scrollingElement ?? document.documentElement;
    if (doc.scrollWidth > doc.clientWidth + 1) out.push(`page scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth}`);
    for (const e of document.querySelectorAll("canvas, svg, table, figure, .chart, .stats, .net-path, .cmp-summary")) {
      const r = e.getBoundingClientRect();
      if (r.width === 0) continue;
      const box = e.parentElement?.closest(".card, section, .compare, .cmp-pane");
      const limit = box ? box.getBoundingClientRect().right : doc.clientWidth;
      if (r.right > limit + 1 && !e.closest(".math.display, .overflows")) out.push(`${e.tagName.toLowerCase()}.${[...e.classList].join(".")}[${e.getAttribute("data-testid") ?? ""}] right ${r.right.toFixed(0)} > ${limit.toFixed(0)}`);
    }
    // What scrolls sideways on purpose says so (a fade and "scroll it sideways").
    for (const e of document.querySelectorAll(".numgrid, .math.display, .net-graph")) {
      if (e.scrollWidth > e.clientWidth + 1 && e.scrollLeft === 0 && !e.classList.contains("overflows")) out.push(`${e.className}[${e.getAttribute("data-tensor") ?? e.getAttribute("data-text")?.slice(0, 30) ?? ""}] scrolls without saying so`);
    }
    return { width: doc.clientWidth, out: out.slice(0, 6) };
  });
}

/** Screenshots of the page in light, dark and high contrast (then back to light). */
async function themed(page, name) {
  await shot(page, `${name}-light`);
  await setColorTheme(page, "Default Dark Modern");
  await webviewFrame(page).locator("body.vscode-dark").waitFor({ timeout: 10_000 });
  await shot(page, `${name}-dark`);
  await setColorTheme(page, "Default High Contrast");
  await webviewFrame(page).locator("body.vscode-high-contrast").waitFor({ timeout: 10_000 });
  await shot(page, `${name}-high-contrast`);
  await setColorTheme(page, "Default Light Modern");
  await webviewFrame(page).locator("body.vscode-light").waitFor({ timeout: 10_000 });
}

async function main() {
  const ws = workspace();
  let wb = await openWorkbench({ extensionDevelopmentPath: repo, folder: ws, theme: "light", viewport: { width: 1600, height: 1000 } });
  const { page } = wb;
  current = page;
  try {
    await check("02-layer-batch: the inspector shows dinputs row 0.44 −0.38 −0.07 1.37", async () => {
      const frame = await runExample(page, "02-layer-batch.ts");
      assert.equal(await rowText(await firstRow(card(frame, "dense1"), "dinputs")), "0.44 -0.38 -0.07 1.37");
      assert.equal(await rowText(await firstRow(card(frame, "dense1"), "dbiases")), "6. 6. 6.");
      await card(frame, "dense1").locator("figure[data-testid=tensor][data-tensor=dinputs]").scrollIntoViewIfNeeded();
      await shot(page, "layer-batch-light");
      await media(page.locator("iframe.webview.ready").last(), "inspector");
    });

    await check("picking dweights[1][0] writes out its chain rule with the numbers: 2·1 + 5·2 + 2.7·3 = 20.1", async () => {
      const frame = webviewFrame(page);
      await firstRow(card(frame, "dense1"), "dweights");
      await card(frame, "dense1").locator('[data-testid=grid][data-tensor=dweights] .num[data-row="1"][data-col="0"]').click();
      const eq = frame.locator("[data-testid=chain-rule] [data-testid=chain-equation]");
      await eq.waitFor({ timeout: 10_000 });
      assert.equal(await eq.getAttribute("data-text"), "dweights[1][0] = 2·1 + 5·2 + 2.7·3 = 20.1");
      await frame.locator("[data-testid=chain-rule]").scrollIntoViewIfNeeded();
      await shot(page, "chain-rule-light");
      await media(frame.locator("[data-testid=chain-rule]"), "chain-rule");
    });

    await check("hovering dense1 shows its shapes and gradients from the last run", async () => {
      await openFile(page, "02-layer-batch.ts");
      const text = await hoverText(page, "dense1");
      assert.match(text, /Dense\(4, 3\)/);
      assert.match(text, /dinputs/);
      assert.match(text, /0\.44 -0\.38 -0\.07\s+1\.37/);
      await shot(page, "hover-light");
      await media(page.locator(".monaco-hover:not(.hidden)").last(), "hover");
      await page.mouse.move(5, 500);
    });

    await check("clicking a card's source link puts the editor on that line", async () => {
      await runCommand(page, "Backprop Lens: Open Gradient Inspector");
      const frame = webviewFrame(page);
      await card(frame, "dense1").locator("[data-testid=layer-source]").click();
      const doc = fs.readFileSync(path.join(ws, "02-layer-batch.ts"), "utf8").split("\n");
      const line = doc.findIndex((l) => l.includes("const dense1 = new Dense")) + 1;
      await waitForCursorLine(page, line);
      assert.ok(await activeEditor(page).isVisible());
    });

    await check("03-softmax: Jacobian row 0.21 −0.07 −0.14, combined row −0.1 0.0333 0.0667, paths agree", async () => {
      const frame = await runExample(page, "03-softmax-jacobian.ts");
      const panel = card(frame, "softmaxLoss").locator("[data-testid=softmax-panel]");
      await panel.waitFor({ timeout: 30_000 });
      await panel.scrollIntoViewIfNeeded();
      const jac = panel.locator("[data-testid=jacobian] [data-testid=grid] .numrow").first();
      await jac.waitFor({ timeout: 30_000 });
      assert.equal(await rowText(jac), "0.21 -0.07 -0.14");
      const combined = panel.locator("[data-testid=combined] [data-testid=grid] .numrow").first();
      await combined.waitFor({ timeout: 30_000 });
      const values = ((await rowText(combined)) ?? "").split(" ").map(Number);
      assert.deepEqual(values.map((v) => Math.round(v * 1e4) / 1e4), [-0.1, 0.0333, 0.0667]);
      const diff = Number(await panel.locator("[data-testid=max-diff]").getAttribute("data-value"));
      assert.ok(diff < 1e-12, `largest difference ${diff}`);
      await panel.scrollIntoViewIfNeeded();
      await shot(page, "softmax-light");
      await media(panel, "jacobian");
    });

    await check("the single neuron's graph and chain: ∂y/∂w0 = drelu_dz · dsum_dxw0 · dmul_dw0 = 1 · 1 · 1", async () => {
      const frame = await runExample(page, "01-single-neuron.ts");
      await frame.locator('[data-testid=scalar-node][data-label="w0"]').first().click();
      const chain = frame.locator("[data-testid=scalar-chain]");
      await chain.waitFor({ timeout: 10_000 });
      assert.match((await chain.getAttribute("data-text")) ?? "", /drelu_dz · dsum_dxw0 · dmul_dw0 = 1 · 1 · 1 = 1/);
      // The graph is whole (it was cut off on the right: z → relu → y invisible), the y node inside the panel.
      const fit = await overflowing(frame);
      assert.deepEqual(fit.out, [], `at ${fit.width} px`);
      const y = await frame.locator('[data-testid=scalar-node][data-label="y"]').first().boundingBox();
      const section = await frame.locator("[data-testid=scalar-section]").boundingBox();
      assert.ok(y && section && y.x + y.width <= section.x + section.width + 1, `y at ${y?.x}+${y?.width}, section ends at ${section ? section.x + section.width : "?"}`);
      await shot(page, "single-neuron-light");
      await media(frame.locator("[data-testid=scalar-section]"), "scalar-graph");
    });

    await check("04_spiral_model.py, the book's Python: dense1.dweights row 1.5766357e-04 7.8368583e-05 4.73244e-05 (float32)", async () => {
      const frame = await runExample(page, "04_spiral_model.py");
      const row = await firstRow(card(frame, "dense1"), "dweights");
      const values = ((await rowText(row)) ?? "").split(/\s+/).map(Number);
      const book = [1.5766357e-4, 7.8368583e-5, 4.73244e-5];
      assert.ok(values.length === 3 && values.every((v, i) => Math.abs(v - book[i]) < 1e-11), `dweights row ${values.join(" ")}`);
      const weights = card(frame, "dense1").locator("figure[data-testid=tensor][data-tensor=weights] [data-testid=dtype]").first();
      assert.equal((await weights.textContent())?.trim(), "float32");
      const loss = card(frame, "loss_activation");
      await loss.waitFor({ timeout: 30_000 });
      assert.match((await loss.textContent()) ?? "", /loss 1\.099/);
      await card(frame, "dense1").locator("figure[data-testid=tensor][data-tensor=dweights]").scrollIntoViewIfNeeded();
      await shot(page, "python-spiral-light");
      await openFile(page, "04_spiral_model.py");
      const line = fs.readFileSync(path.join(ws, "04_spiral_model.py"), "utf8").split("\n").findIndex((l) => l.startsWith("dense1 = Layer_Dense")) + 1;
      await page.keyboard.press("Control+G");
      await page.keyboard.type(String(line));
      await page.keyboard.press("Enter");
      await waitForCursorLine(page, line);
      // The layer lines of the .py file carry the code lens and inline summary of the last run.
      const lensText = await activeEditor(page).locator(".codelens-decoration").filter({ hasText: "dense1:" }).first().innerText();
      assert.match(lensText, /dense1: \[300, 3\].*grad check ok/);
      await shot(page, "python-editor-light");
      await page.mouse.move(5, 500);
    });

    await check("a diverging run (SGD at 50, Softmax and CCE apart): the blow-up named where it happened, the final loss in the header", async () => {
      const frame = await runExample(page, "overview-sgd.ts");
      const diverging = frame.locator("[data-testid=problems] [data-testid=anomaly][data-code=diverging]");
      await diverging.waitFor({ timeout: 30_000 });
      assert.match(await diverging.innerText(), /the loss jumped from 1\.098 \(step 2\) to 5\.429 at step 4.*the likely cause is the learning rate \(50, SGD\)/s);
      assert.equal(num(await frame.locator("[data-testid=final-loss]").getAttribute("data-value")).toFixed(6), "7.722658");
      assert.equal(await frame.locator("[data-testid=final-loss]").getAttribute("data-step"), "59");
      const fit = await overflowing(frame);
      assert.deepEqual(fit.out, [], `at ${fit.width} px`);
      await diverging.scrollIntoViewIfNeeded();
      await themed(page, "overview-problems");
    });

    await check("the network at a glance: layers in call order, edges with tensor and shape, a gradient followed back to the loss with the cards' norms", async () => {
      const frame = webviewFrame(page);
      const graph = frame.locator("[data-testid=network-graph]");
      await graph.waitFor({ timeout: 30_000 });
      await graph.scrollIntoViewIfNeeded();
      assert.deepEqual(await frame.locator("[data-testid=network-node]").evaluateAll((n) => n.map((x) => x.getAttribute("data-layer"))), ["dense1", "activation1", "dense2", "activation2", "lossFunction"]);
      const edges = await frame.locator("[data-testid=network-edge]").evaluateAll((n) => n.map((x) => x.getAttribute("data-text")));
      assert.ok(edges.includes("dense1.output → activation1.inputs [150, 8]"), edges.join(" | "));
      // The gradient into dense2 is activation2's dinputs: its norm on the edge is the one on activation2's card.
      const edge = edges.find((t) => t.startsWith("activation2.dinputs → dense2.dvalues [150, 3] ‖·‖ "));
      assert.ok(edge, edges.join(" | "));
      const cardNorm = await card(frame, "activation2").locator('.call.backward figure[data-testid=tensor][data-tensor=dinputs] [data-stat=norm] .stat-v').first().innerText();
      assert.equal(edge.split("‖·‖ ")[1], cardNorm);
      const hops = await frame.locator("[data-testid=gradient-path] li").evaluateAll((n) => n.map((x) => x.getAttribute("data-text")));
      assert.deepEqual(hops, ["dense1.dvalues = activation1.dinputs", "activation1.dvalues = dense2.dinputs", "dense2.dvalues = activation2.dinputs", "activation2.dvalues = lossFunction.dinputs", "lossFunction: the backward pass starts here"]);
      await themed(page, "overview-network");
      // A click on a node opens that layer's card.
      await frame.locator('[data-testid=network-node][data-layer="dense2"]').click();
      await page.waitForFunction(() => true);
      await card(frame, "dense2").waitFor();
      const box = await card(frame, "dense2").boundingBox();
      assert.ok(box && box.y < 1000, `dense2's card is in view (y ${box?.y})`);
    });

    await check("gradient flow over training: plot_grad_flow bars with the cards' norms, curves over 60 steps, a click picks a step", async () => {
      const frame = webviewFrame(page);
      const flow = frame.locator("[data-testid=grad-flow]");
      await flow.scrollIntoViewIfNeeded();
      const bars = frame.locator("[data-testid=grad-flow-bars]");
      assert.equal(await bars.getAttribute("data-step"), "0");
      const labels = await frame.locator("[data-testid=grad-flow-bar]").evaluateAll((n) => n.map((x) => x.getAttribute("data-label")));
      assert.deepEqual(labels, ["dense1.dweights", "dense1.dbiases", "dense2.dweights", "dense2.dbiases"]);
      const norm = num(await frame.locator('[data-testid=grad-flow-bar][data-label="dense1.dweights"]').getAttribute("data-norm"));
      const shown = num(await card(frame, "dense1").locator('.call.backward figure[data-testid=tensor][data-tensor=dweights] [data-stat=norm] .stat-v').first().innerText());
      assert.ok(Math.abs(norm - shown) <= 5e-4 * Math.abs(shown), `bar ‖dW‖ ${norm}, card ${shown}`);
      const curves = frame.locator("[data-testid=grad-flow-curves] .u-over");
      await curves.scrollIntoViewIfNeeded();
      const cb = await curves.boundingBox();
      await page.mouse.move(cb.x + cb.width * 0.9, cb.y + cb.height / 2);
      await page.mouse.click(cb.x + cb.width * 0.9, cb.y + cb.height / 2);
      await page.waitForFunction(() => true);
      const picked = Number(await flow.getAttribute("data-picked-step"));
      assert.ok(picked > 40 && picked < 60, `picked step ${picked}`);
      assert.equal(await frame.locator("[data-testid=grad-flow-bars]").getAttribute("data-step"), String(picked));
      // A log scale of vanished gradients (dead ReLUs) still has readable ticks: a handful, not dozens.
      const fit = await overflowing(frame);
      assert.deepEqual(fit.out, [], `at ${fit.width} px`);
      await themed(page, "overview-grad-flow");
    });

    await check("compare two steps: step 0 against the last, both maps and their difference, the largest change read from the maps", async () => {
      const frame = webviewFrame(page);
      const cmp = frame.locator("[data-testid=compare]");
      await cmp.scrollIntoViewIfNeeded();
      assert.equal(await cmp.getAttribute("data-a"), "0");
      assert.equal(await cmp.getAttribute("data-b"), "59");
      assert.equal(await cmp.getAttribute("data-tensor"), "dense1.weights");
      for (const id of ["compare-a-map", "compare-b-map", "compare-diff-map"]) await frame.locator(`[data-testid=${id}] canvas`).first().waitFor({ timeout: 30_000 });
      assert.equal(await frame.locator("[data-testid=compare-diff-map] [data-testid=heat-scale]").getAttribute("data-scale"), "diverging");
      const summary = frame.locator("[data-testid=compare-summary]");
      const max = num(await summary.getAttribute("data-max-change"));
      const m = /went from (\S+) to (\S+) \(([^)]+)\)/.exec(await summary.innerText());
      assert.ok(m, await summary.innerText());
      assert.ok(Math.abs(num(m[2]) - num(m[1]) - max) <= 1e-5 * Math.max(1, Math.abs(max)), `${m[0]} vs ${max}`);
      assert.ok(Math.abs(num(m[3].replace(/^\+/, "")) - max) <= 1e-5 * Math.max(1, Math.abs(max)));
      // Step 0's value is the one on dense1's card (the forward call's weights grid).
      const [r, c] = (await summary.getAttribute("data-at")).split(",");
      const cell = card(frame, "dense1").locator(`.call.forward [data-testid=grid][data-tensor=weights] .num[data-row="${r}"][data-col="${c}"]`).first();
      assert.ok(Math.abs(num(await cell.innerText()) - num(m[1])) <= 1e-6, `grid ${await cell.innerText()} vs ${m[1]}`);
      const fit = await overflowing(frame);
      assert.deepEqual(fit.out, [], `at ${fit.width} px`);
      await cmp.scrollIntoViewIfNeeded();
      await themed(page, "overview-compare");
    });

    await check("the optimizer's update written out: picking dense1.dweights[1][3] at step 0 gives w ← w − 50·dw, the weight step 1 used", async () => {
      const frame = webviewFrame(page);
      await firstRow(card(frame, "dense1").locator(".call.backward"), "dweights");
      await card(frame, "dense1").locator('.call.backward [data-testid=grid][data-tensor=dweights] .num[data-row="1"][data-col="3"]').click();
      const panel = frame.locator("[data-testid=update]");
      await panel.waitFor({ timeout: 10_000 });
      assert.equal(await panel.getAttribute("data-target"), "dense1.weights[1][3]");
      assert.match(await frame.locator("[data-testid=update-rule]").innerText(), /^SGD: w ← w − lr·dw \(lr 50, the first update\)/);
      const eq = await frame.locator("[data-testid=update-equation]").getAttribute("data-text");
      const m = /← (\S+) − 50·(\S+) = (\S+)$/.exec(eq ?? "");
      assert.ok(m, eq);
      assert.ok(Math.abs(num(m[1]) - 50 * num(m[2]) - num(m[3])) <= 1e-5 * Math.max(1, Math.abs(num(m[3]))), eq);
      // The weight and its gradient are the card's.
      const w = num(await card(frame, "dense1").locator('.call.forward [data-testid=grid][data-tensor=weights] .num[data-row="1"][data-col="3"]').first().innerText());
      const dw = num(await card(frame, "dense1").locator('.call.backward [data-testid=grid][data-tensor=dweights] .num[data-row="1"][data-col="3"]').first().innerText());
      assert.ok(Math.abs(w - num(m[1])) <= 1e-6 && Math.abs(dw - num(m[2])) <= 1e-6, `${eq} vs w ${w}, dw ${dw}`);
      assert.equal(await frame.locator("[data-testid=update-difference]").innerText(), "0");
      await panel.scrollIntoViewIfNeeded();
      const fit = await overflowing(frame);
      assert.deepEqual(fit.out, [], `at ${fit.width} px`);
      await themed(page, "overview-update");
    });

    await check("dark and high-contrast themes", async () => {
      const frame = await runExample(page, "04-spiral-model.ts");
      await card(frame, "dense1").waitFor();
      await setColorTheme(page, "Default Dark Modern");
      await frame.locator("body.vscode-dark").waitFor({ timeout: 10_000 });
      await shot(page, "spiral-dark");
      await setColorTheme(page, "Default High Contrast");
      await frame.locator("body.vscode-high-contrast").waitFor({ timeout: 10_000 });
      await shot(page, "spiral-high-contrast");
      await setColorTheme(page, "Default Dark Modern");
    });

    await check("after Reload Window the inspector comes back with the last run", async () => {
      await reloadWindow(page);
      const frame = webviewFrame(page);
      await card(frame, "dense1").waitFor({ timeout: 60_000 });
      await frame.locator('[data-testid=file-name]').filter({ hasText: "04-spiral-model.ts" }).waitFor({ timeout: 30_000 });
      await shot(page, "restored-dark");
    });

    await check("Clear Results empties the inspector; after Reload Window it stays empty", async () => {
      await defineEditorResultText(page);
      // The restored run's results are in the editor (its hints and lenses) before Clear Results.
      await page.waitForFunction((re) => new RegExp(re).test(editorResultText()), RESULT_TEXT, { timeout: 30_000 }).catch(() => {
        throw new Error("the editor showed no results of the restored run before Clear Results");
      });
      await runCommand(page, "Backprop Lens: Clear Results");
      let frame = webviewFrame(page);
      await frame.locator("[data-testid=state-empty]").filter({ hasText: "Results cleared" }).waitFor({ timeout: 30_000 });
      assert.equal(await frame.locator("[data-testid=layer-card]").count(), 0);
      // The editor forgets the run too: no gradient norms or gradient-check results left in its hints and lenses.
      await page.waitForFunction((re) => !new RegExp(re).test(editorResultText()), RESULT_TEXT, { timeout: 30_000 });
      await shot(page, "cleared-dark");
      await reloadWindow(page);
      frame = webviewFrame(page);
      await frame.locator("[data-testid=state-empty]").filter({ hasText: "No run yet" }).waitFor({ timeout: 60_000 });
    });
  } finally {
    await wb.close();
  }

  // A fresh folder: the walkthrough and TypeScript's completions for a new model file.
  const fresh = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-e2e-fresh-"));
  wb = await openWorkbench({ extensionDevelopmentPath: repo, folder: fresh, theme: "dark", viewport: { width: 1400, height: 900 } });
  try {
    const p = wb.page;
    current = p;
    await check("the getting-started walkthrough opens", async () => {
      await runCommand(p, "Welcome: Open Walkthrough...");
      const input = p.locator(".quick-input-widget .quick-input-box input");
      await input.fill("Backprop Lens");
      await p.locator(".quick-input-widget .monaco-list-row", { hasText: "Get Started with Backprop Lens" }).first().click();
      await p.locator(".getting-started-category", { hasText: "Get Started with Backprop Lens" }).or(p.locator(".gettingStartedContainer", { hasText: "Create a model file" })).first().waitFor({ timeout: 30_000 });
      await p.locator(".gettingStartedContainer", { hasText: "Run the backward pass" }).first().waitFor({ timeout: 30_000 });
      // The step's picture (media/walkthrough/new-model.png) has loaded.
      await p.waitForFunction(() => [...document.querySelectorAll(".gettingStartedContainer img")].some((i) => i.complete && i.naturalWidth > 0), null, { timeout: 30_000 });
      await shot(p, "walkthrough-dark");
      // Close it: the walkthrough page keeps taking the focus back, which closes pickers opened over it.
      await p.locator(".tab", { hasText: "Walkthrough" }).first().hover();
      await p.locator(".tab", { hasText: "Walkthrough" }).first().locator(".codicon-close").click();
      await p.locator(".tab", { hasText: "Walkthrough" }).waitFor({ state: "detached", timeout: 10_000 });
    });

    await check("New Model File, then TypeScript completes the engine's API", async () => {
      await runCommand(p, "Backprop Lens: New Model File");
      const row = p.locator(".quick-input-widget .monaco-list-row", { hasText: "Spiral model" }).first();
      await row.waitFor({ timeout: 30_000 });
      await media(p.locator(".quick-input-widget"), "new-model");
      const input = p.locator(".quick-input-widget .quick-input-box input");
      // Type into the picker as a user would (fill() can race the widget's re-render).
      await input.pressSequentially("Spiral model");
      await p.locator(".quick-input-widget .monaco-list-row.focused", { hasText: "Spiral model" }).waitFor({ timeout: 10_000 });
      await p.keyboard.press("Enter");
      // The second step asks for the file name, suggesting spiral-model.ts: accept it.
      await p.waitForFunction(() => document.querySelector(".quick-input-widget .quick-input-box input")?.value === "spiral-model.ts", null, { timeout: 30_000 });
      await p.keyboard.press("Enter");
      await input.waitFor({ state: "hidden", timeout: 30_000 });
      await p.locator(".tab", { hasText: "spiral-model.ts" }).first().waitFor({ timeout: 30_000 });
      const editor = activeEditor(p);
      await editor.click();
      await p.keyboard.press("Control+End");
      await p.keyboard.press("Enter");
      await p.keyboard.type("const layer = new De");
      await p.keyboard.press("Control+Space");
      const widget = p.locator(".suggest-widget.visible");
      await widget.waitFor({ timeout: 30_000 });
      await widget.locator(".monaco-list-row", { hasText: "Dense" }).first().waitFor({ timeout: 30_000 });
      await shot(p, "completions-dark");
      await p.keyboard.press("Escape");
    });
  } finally {
    await wb.close();
    fs.rmSync(fresh, { recursive: true, force: true });
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

const t0 = Date.now();
main()
  .then(() => {
    console.log(`e2e: ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(0)} s); screenshots in ${artifacts}`);
    process.exit(failed ? 1 : 0);
  })
  .catch(() => {
    console.log(`e2e: ${passed} passed, ${failed || 1} failed; screenshots in ${artifacts}`);
    process.exit(1);
  });
