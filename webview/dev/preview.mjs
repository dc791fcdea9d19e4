#!/usr/bin/env node
// Dev preview and end-to-end check of the Gradient Inspector webview, outside VS Code.
//
//   node webview/dev/preview.mjs                 build, check every example trace in dark, light and
//                                                high contrast, save screenshots to test-artifacts/webview/
//   node webview/dev/preview.mjs --only=02-layer-batch,xss --themes=dark
//   node webview/dev/preview.mjs --serve         just serve the dev page (prints its URL) for a browser
//
// The page uses the SAME strict CSP as the real panel (default-src 'none'; scripts by nonce; styles,
// fonts and images from the served origin only), a shim host (dev/shim.ts: acquireVsCodeApi feeding a
// recorded trace through the run model (core/run), exactly like the extension) and VS Code's theme variables
// (dev/themes.mjs). Every CSP violation, console error and page error fails the run.
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";
import { themeCss, themes } from "./themes.mjs";

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, "../..");
const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = arg("only")?.split(",");
const themeNames = (arg("themes") ?? "dark,light,hc").split(",");
const outDir = path.resolve(root, arg("out") ?? "test-artifacts/webview");
const traceDir = path.join(outDir, "traces");
const serveOnly = process.argv.includes("--serve");
fs.mkdirSync(traceDir, { recursive: true });

// ---------- build ----------
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", ...opts });
  return r;
}
const b = run(process.execPath, ["esbuild.mjs", "--only=webview"]);
if (b.status !== 0) {
  console.error(b.stdout, b.stderr);
  process.exit(1);
}
await esbuild.build({
  entryPoints: [path.join(here, "shim.ts")],
  outfile: path.join(root, "dist/webview-dev/shim.js"),
  bundle: true,
  platform: "browser",
  format: "iife",
  target: "es2022",
  sourcemap: true,
  logLevel: "warning",
});

// ---------- traces ----------
/** name → how to make it (model, CLI command). */
const TRACES = {
  "01-single-neuron": ["run", "examples/01-single-neuron.ts"],
  "02-layer-batch": ["run", "examples/02-layer-batch.ts"],
  "03-softmax-jacobian": ["run", "examples/03-softmax-jacobian.ts"],
  "04-spiral-model": ["run", "examples/04-spiral-model.ts"],
  "05-spiral-training": ["run", "examples/05-spiral-training.ts"],
  "06-custom-layer-check": ["check", "examples/06-custom-layer.ts"],
  "shape-mismatch": ["run", "test/fixtures/models/shape-mismatch.ts"],
  "wrong-backward": ["check", "test/fixtures/models/wrong-backward.ts"],
  nan: ["run", "test/fixtures/models/nan.ts"],
  "wide-dense": ["run", "webview/dev/models/wide-dense.ts"],
};

function tracePath(name) {
  if (name === "xss") return undefined;
  for (const dir of [process.env.BPL_TRACES, "/tmp/traces", traceDir].filter(Boolean)) {
    const p = path.join(dir, `${name}.json`);
    if (fs.existsSync(p)) return p;
  }
  const how = TRACES[name];
  if (!how) throw new Error(`unknown trace ${name}`);
  if (!fs.existsSync(path.join(root, "dist/cli.js"))) run(process.execPath, ["esbuild.mjs", "--only=cli"]);
  const out = path.join(traceDir, `${name}.json`);
  console.log(`generating ${name} (${how.join(" ")})…`);
  run(process.execPath, ["dist/cli.js", how[0], how[1], "--json", out], { stdio: "ignore" });
  if (!fs.existsSync(out)) throw new Error(`could not generate trace ${name}`);
  return out;
}

/** A synthetic run whose every string is markup: it must all render as text. */
function xssTrace() {
  const evil = "<img src=x onerror=alert(1)>";
  const site = { file: "/work/<script>alert(2)</script>.ts", line: 3, column: 1 };
  const t = (shape, data) => ({ shape, data });
  const stats = (data) => ({ size: data.length, min: Math.min(...data), max: Math.max(...data), mean: 0, std: 0, norm: 1, nonFinite: 0, zeros: 0 });
  const x = [1, -2, 3, 4];
  const events = [
    { type: "run/start", version: 1, file: site.file, startedAt: 0 },
    { type: "layer/new", layer: { id: 0, name: evil, kind: "custom", className: "<b>Evil</b>", description: "<svg onload=alert(3)>(2, 2)", site, params: [], paramCount: 0 } },
    { type: "layer/call", call: { step: 0, seq: 0, layer: 0, phase: "forward", site, tensors: { inputs: t([2, 2], x), output: t([2, 2], x) }, stats: { inputs: stats(x), output: stats(x) } } },
    { type: "layer/call", call: { step: 0, seq: 1, layer: 0, phase: "backward", site, tensors: { dvalues: t([2, 2], x), "<i>dgamma</i>": t([2, 2], x) }, stats: { dvalues: stats(x), "<i>dgamma</i>": stats(x) } } },
    { type: "anomaly", anomaly: { code: "non-finite", severity: "error", step: 0, layer: 0, site, message: `NaN in ${evil}` } },
    { type: "console", level: "log", text: `<iframe src="javascript:alert(4)">`, site },
    { type: "run/end", ok: false, steps: 1, durationMs: 1, keptSteps: [0], error: { kind: "throw", message: `${evil} threw <img src=y onerror=alert(5)>`, site, layer: { id: 0, name: evil, className: "<b>Evil</b>" } } },
  ];
  return JSON.stringify({ format: "backprop-lens-trace", version: 1, file: site.file, createdAt: "1970-01-01T00:00:00.000Z", producer: "preview", events });
}

// ---------- server ----------
const MIME = { ".js": "text/javascript", ".css": "text/css", ".map": "application/json", ".ttf": "font/ttf", ".woff": "font/woff", ".woff2": "font/woff2", ".json": "application/json" };
const traceCache = new Map();
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  const origin = `http://${req.headers.host}`;
  const send = (status, type, body) => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(body);
  };
  try {
    if (url.pathname === "/") {
      const nonce = crypto.randomBytes(16).toString("base64");
      const theme = themes[url.searchParams.get("theme") ?? "dark"] ?? themes.dark;
      const csp = `default-src 'none'; img-src ${origin} data: blob:; style-src ${origin}; font-src ${origin}; script-src 'nonce-${nonce}';`;
      const q = url.search;
      const html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><meta name="viewport" content="width=device-width, initial-scale=1.0"><link href="${origin}/dev/theme.css${q}" rel="stylesheet"><link href="${origin}/dist/webview/main.css" rel="stylesheet"><title>Gradient Inspector</title></head><body class="${theme.bodyClass}"${url.searchParams.get("timeout") ? ` data-tensor-timeout-ms="${Number(url.searchParams.get("timeout"))}"` : ""} data-vscode-theme-kind="${theme.kind}" data-vscode-theme-name="${theme.name}"><div id="app"></div><script nonce="${nonce}" src="${origin}/dev/trace.js${q}"></script><script nonce="${nonce}" src="${origin}/dev/shim.js${q}"></script><script nonce="${nonce}" src="${origin}/dist/webview/main.js"></script></body></html>`;
      return send(200, "text/html; charset=utf-8", html);
    }
    if (url.pathname === "/favicon.ico") return send(204, "image/x-icon", "");
    if (url.pathname === "/dev/theme.css") return send(200, "text/css", themeCss(url.searchParams.get("theme") ?? "dark"));
    if (url.pathname === "/dev/trace.js") {
      const name = url.searchParams.get("trace");
      if (!name) return send(200, "text/javascript", "");
      let text = traceCache.get(name);
      if (!text) traceCache.set(name, (text = name === "xss" ? xssTrace() : fs.readFileSync(tracePath(name), "utf8")));
      return send(200, "text/javascript", `window.__BPL_TRACE__ = ${JSON.stringify(text)};`);
    }
    const file = url.pathname === "/dev/shim.js" ? path.join(root, "dist/webview-dev/shim.js") : url.pathname.startsWith("/dist/webview/") ? path.join(root, url.pathname) : undefined;
    if (!file || !file.startsWith(path.join(root, "dist")) || !fs.existsSync(file)) return send(404, "text/plain", "not found");
    return send(200, MIME[path.extname(file)] ?? "application/octet-stream", fs.readFileSync(file));
  } catch (e) {
    return send(500, "text/plain", String(e));
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}`;
if (serveOnly) {
  console.log(`dev page: ${base}/?trace=02-layer-batch&theme=dark  (traces: ${[...Object.keys(TRACES), "xss"].join(", ")}; themes: dark, light, hc; add &live=1 to stream)`);
  await new Promise(() => {});
}

// ---------- checks ----------
const results = [];
const check = (name, ok, detail = "") => {
  results.push({ name, ok: Boolean(ok), detail });
  console.log(`${ok ? "  ok  " : "  FAIL"} ${name}${detail ? ` — ${detail}` : ""}`);
};
const eq = (name, actual, expected) => check(name, actual === expected, actual === expected ? "" : `got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
const shots = [];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });

async function open(trace, theme, extra = "") {
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" || (m.type() === "warning" && /Content Security Policy|Refused/i.test(m.text()))) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.problems = problems;
  await page.goto(`${base}/?trace=${trace}&theme=${theme}${extra}`);
  await page.waitForFunction(() => window.__bpl?.done === true, undefined, { timeout: 30000 });
  await page.waitForSelector("[data-testid=header], [data-testid^=state-]");
  return page;
}

/** Scrolls through the page so that every tensor comes into view and loads; then back to the top. */
async function settle(page) {
  await page.evaluate(async () => {
    const step = Math.max(200, window.innerHeight - 100);
    for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
      window.scrollTo(0, y);
      await new Promise((r) => setTimeout(r, 40));
    }
    window.scrollTo(0, 0);
  });
  await page.waitForFunction(() => document.querySelectorAll("figure.tensor.loading").length === 0, undefined, { timeout: 20000 }).catch(() => {});
  await page.evaluate(() => document.fonts.ready);
  await page.waitForTimeout(120);
}

async function shot(page, name) {
  const file = path.join(outDir, `${name}.png`);
  // The header is sticky: shoot from the top so that it sits where it belongs.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

async function finish(page, label) {
  const csp = await page.evaluate(() => [...window.__bpl.csp, ...window.__bpl.errors]);
  const all = [...csp, ...page.problems];
  check(`${label}: no CSP violations, console errors or page errors`, all.length === 0, all.slice(0, 5).join(" | "));
  await page.close();
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent ?? "").catch(() => null);
const attr = (page, sel, a) => page.$eval(sel, (e, a) => e.getAttribute(a), a).catch(() => null);
const selectStep = (page, step) =>
  page.evaluate((s) => {
    const el = document.querySelector("[data-testid=step-picker]");
    el.value = String(s);
    el.dispatchEvent(new Event("change"));
  }, step);
const card = (name) => `[data-testid=layer-card][data-layer="${name}"]`;

const scenarios = {
  async "01-single-neuron"(theme, first) {
    const page = await open("01-single-neuron", theme);
    await settle(page);
    if (first) {
      eq("01: 12 values in the graph of step 0", await page.$$eval("[data-testid=scalar-node]", (n) => n.length), 12);
      const steps = await page.$$eval("[data-testid=scalar-steps] li", (l) => l.map((x) => x.getAttribute("data-text")));
      eq("01: first chain step", steps[0], "drelu_dz = dvalue · ∂relu/∂z = 1 · 1 = 1");
      check("01: drelu_dx0 step", steps.includes("drelu_dx0 = drelu_dxw0 · dmul_dx0 = 1 · −3 = −3"), steps.join(" / "));
      check("01: KaTeX rendered the steps", (await page.$$("[data-testid=scalar-steps] .katex")).length === steps.length);
    }
    await shot(page, `01-single-neuron-${theme}`);
    await page.click("[data-testid=scalar-node][data-label=w0]");
    await page.waitForSelector("[data-testid=scalar-chain]");
    if (first) {
      eq("01: chain to w0", await attr(page, "[data-testid=scalar-chain]", "data-text"), "∂y/∂w0 = drelu_dz · dsum_dxw0 · dmul_dw0 = 1 · 1 · 1 = 1");
      check("01: chain highlighted in the graph", (await page.$$("[data-testid=scalar-node].hot")).length === 4);
      await page.focus("[data-testid=scalar-node][data-label=x0]");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector("[data-testid=scalar-chain]")?.getAttribute("data-text")?.startsWith("∂y/∂x0"));
      eq("01: keyboard selects x0", await attr(page, "[data-testid=scalar-chain]", "data-text"), "∂y/∂x0 = drelu_dz · dsum_dxw0 · dmul_dx0 = 1 · 1 · −3 = −3");
      await page.click("[data-testid=scalar-node][data-label=w0]");
    }
    await shot(page, `01-single-neuron-chain-${theme}`);
    await finish(page, `01 ${theme}`);
  },

  async "02-layer-batch"(theme, first) {
    const page = await open("02-layer-batch", theme);
    await settle(page);
    if (first) {
      const rowText = await page.$eval(`${card("dense1")} [data-testid=grid][data-tensor=dinputs]`, (e) => e.textContent);
      check("02: dinputs grid reads 0.44 -0.38 -0.07 1.37", rowText?.includes("0.44 -0.38 -0.07 1.37"), rowText ?? "");
      eq("02: card title", (await text(page, `${card("dense1")} .card-title`))?.trim(), "dense1 = Dense(4, 3)");
      eq("02: step picker default", await page.$eval("[data-testid=step-picker]", (e) => e.value), "0");
      await page.click(`${card("dense1")} [data-testid=layer-source]`);
      const posted = await page.evaluate(() => window.__bpl.posted.filter((m) => m.kind === "event" && m.body.type === "ui/openSource").map((m) => m.body.site.line));
      check("02: source link posts ui/openSource for line 20", posted.includes(20), JSON.stringify(posted));
    }
    await page.click(`${card("dense1")} [data-testid=grid][data-tensor=dweights] .num[data-row="1"][data-col="0"]`);
    await page.waitForSelector("[data-testid=chain-equation] .katex");
    if (first) {
      eq("02: chain rule of dweights[1][0]", await attr(page, "[data-testid=chain-equation]", "data-text"), "dweights[1][0] = 2·1 + 5·2 + 2.7·3 = 20.1");
      // View state survives a reload (persisted with setState), tensors are requested again.
      await page.reload();
      await page.waitForFunction(() => window.__bpl?.done === true);
      await page.waitForSelector("[data-testid=chain-equation] .katex");
      eq("02: chain panel restored after reload", await attr(page, "[data-testid=chain-equation]", "data-text"), "dweights[1][0] = 2·1 + 5·2 + 2.7·3 = 20.1");
      await settle(page);
    }
    await shot(page, `02-layer-batch-${theme}`);
    await selectStep(page, 1);
    await page.waitForSelector(`${card("relu")} [data-testid=call]`);
    await settle(page);
    if (first) {
      check("02: step 1 shows dense2 and relu calls", (await page.$$(`${card("dense2")} [data-testid=call]`)).length === 2);
      await page.click(`${card("relu")} [data-testid=grid][data-tensor=dinputs] .num[data-row="0"][data-col="0"]`);
      await page.waitForSelector(`${card("relu")} [data-testid=chain-equation]`);
      eq("02: ReLU chain rule", await attr(page, `${card("relu")} [data-testid=chain-equation]`, "data-text"), "dinputs[0][0] = 4.8·1[4.8 > 0] = 4.8");
      await page.click(`${card("dense2")} [data-testid=grid][data-tensor=dinputs] .num[data-row="0"][data-col="0"]`);
      await page.waitForSelector(`${card("dense2")} [data-testid=chain-equation]`);
      const t = await attr(page, `${card("dense2")} [data-testid=chain-equation]`, "data-text");
      check("02: Dense dinputs chain rule uses the forward's weights", t?.startsWith("dinputs[0][0] = 4.8·0.2 + 1.21·0.5 + 2.385·(−0.26) = "), t ?? "");
    }
    await shot(page, `02-layer-batch-step1-${theme}`);
    if (first) {
      // ui/reveal focuses a card; a new run replaces the old one.
      await page.evaluate(() => window.__bpl.send({ type: "ui/reveal", layer: 0, step: 0 }));
      await page.waitForFunction(() => document.activeElement?.getAttribute("data-layer") === "dense1");
      check("02: ui/reveal focuses the dense1 card", true);
      await page.evaluate(() => {
        const events = window.__bpl.events().filter((e) => e.type !== "layer/call" || e.call.layer === 0);
        window.__bpl.startRun(events, "/work/other-model.ts", 2);
      });
      await page.waitForFunction(() => document.querySelector("[data-testid=file-name]")?.textContent === "other-model.ts");
      await settle(page);
      const cards = await page.$$eval("[data-testid=layer-card]", (c) => c.map((x) => x.getAttribute("data-layer")));
      eq("02: new run replaced the cards", cards.join(","), "dense1,dense2,relu");
      const reqRuns = await page.evaluate(() => [...new Set(window.__bpl.posted.filter((m) => m.kind === "request").map((m) => m.params.runId))]);
      check("02: tensors requested again for run 2", reqRuns.includes(2), JSON.stringify(reqRuns));
    }
    await finish(page, `02 ${theme}`);
  },

  async "03-softmax-jacobian"(theme, first) {
    const page = await open("03-softmax-jacobian", theme);
    await settle(page);
    if (first) {
      const j = await page.$eval(`${card("softmaxLoss")} [data-testid=jacobian] [data-testid=grid] .numrow`, (e) => e.getAttribute("data-row-text"));
      eq("03: Jacobian of sample 0, first row", j, "0.21 -0.07 -0.14");
      const c = await page.$eval(`${card("softmaxLoss")} [data-testid=combined] [data-testid=grid] .numrow`, (e) => e.getAttribute("data-row-text"));
      eq("03: combined gradient, first row", c, "-0.1 0.03333333 0.06666667");
      const s = await page.$eval(`${card("softmaxLoss")} [data-testid=separate] [data-testid=grid] .numrow`, (e) => e.getAttribute("data-row-text"));
      eq("03: separate gradient, first row", s, "-0.1 0.03333333 0.06666667");
      const d = Number(await attr(page, `${card("softmaxLoss")} [data-testid=max-diff]`, "data-value"));
      check("03: largest difference below 1e-15", d < 1e-15, String(d));
    }
    await shot(page, `03-softmax-jacobian-${theme}`);
    await selectStep(page, 1);
    await page.waitForSelector(`${card("activation")} [data-testid=jacobian] [data-testid=grid]`);
    await settle(page);
    if (first) {
      const j = await page.$eval(`${card("activation")} [data-testid=jacobian] [data-testid=grid] .numrow`, (e) => e.getAttribute("data-row-text"));
      eq("03: Softmax layer Jacobian of sample 0", j, "0.21 -0.07 -0.14");
      check("03: separate Softmax gets the CCE targets for the check", (await page.$$(`${card("activation")} [data-testid=softmax-check]`)).length === 1);
      await page.click(`${card("activation")} [data-testid=grid][data-tensor=dinputs] .num[data-row="0"][data-col="0"]`);
      await page.waitForSelector(`${card("activation")} [data-testid=chain-equation]`);
      const t = await attr(page, `${card("activation")} [data-testid=chain-equation]`, "data-text");
      check("03: Softmax chain rule Σⱼ J[i][j]·dvalues[j] = −0.1", t?.startsWith("dinputs[0][0] = 0.21·(−0.47619) + (−0.07)·0 + (−0.14)·0 = −0.1"), t ?? "");
      await page.fill(`${card("activation")} [data-testid=sample-input]`, "2");
      await page.press(`${card("activation")} [data-testid=sample-input]`, "Enter");
      await page.waitForFunction(() => document.querySelector('[data-layer="activation"] [data-testid=softmax-sample] figcaption')?.textContent?.includes("sample 2"));
      const j2 = await page.$eval(`${card("activation")} [data-testid=jacobian] [data-testid=grid] .numrow`, (e) => e.getAttribute("data-row-text"));
      eq("03: Jacobian of sample 2", j2, "0.0196 -0.018 -0.0016");
      await page.fill(`${card("activation")} [data-testid=sample-input]`, "0");
      await page.press(`${card("activation")} [data-testid=sample-input]`, "Enter");
      await settle(page);
    }
    await shot(page, `03-softmax-jacobian-step1-${theme}`);
    await finish(page, `03 ${theme}`);
  },

  async "04-spiral-model"(theme, first) {
    const page = await open("04-spiral-model", theme);
    await settle(page);
    if (first) {
      const cards = await page.$$eval("[data-testid=layer-card]", (c) => c.map((x) => x.getAttribute("data-layer")));
      eq("04: cards in network order", cards.join(","), "dense1,activation1,dense2,lossActivation");
      const canvas = `${card("dense1")} figure[data-tensor=dinputs][data-phase=backward] canvas`;
      await page.focus(canvas);
      await page.keyboard.press("ArrowRight");
      await page.keyboard.press("ArrowDown");
      const r = await text(page, `${card("dense1")} figure[data-tensor=dinputs][data-phase=backward] [data-testid=readout]`);
      check("04: arrow keys move the heatmap cursor and announce the value", r?.startsWith("dense1.dinputs[1][1] = "), r ?? "");
      check("04: readout is aria-live", (await attr(page, `${card("dense1")} figure[data-tensor=dinputs][data-phase=backward] [data-testid=readout]`, "aria-live")) === "polite");
      await page.keyboard.press("Enter");
      await page.waitForSelector(`${card("dense1")} [data-testid=chain-equation]`);
      const t = await attr(page, `${card("dense1")} [data-testid=chain-equation]`, "data-text");
      check("04: Enter explains dinputs[1][1] (3 terms)", t?.startsWith("dinputs[1][1] = "), t ?? "");
      await page.click(`${card("dense1")} [data-testid=grid][data-tensor=dweights] .num[data-row="0"][data-col="1"]`);
      await page.waitForFunction(() => document.querySelector('[data-layer="dense1"] [data-testid=chain-equation]')?.getAttribute("data-text")?.startsWith("dweights[0][1]"));
      const t2 = await attr(page, `${card("dense1")} [data-testid=chain-equation]`, "data-text");
      check("04: dweights over 300 samples lists first/last terms and the count", t2?.includes("(300 terms)"), t2 ?? "");
      await settle(page);
    }
    await shot(page, `04-spiral-model-${theme}`);
    await finish(page, `04 ${theme}`);
  },

  async "05-spiral-training"(theme, first) {
    const page = await open("05-spiral-training", theme);
    await settle(page);
    if (first) {
      check("05: loss/accuracy curves", (await page.$$("[data-testid=curves] canvas")).length > 0);
      eq("05: gradient-norm charts on dense1, activation1, dense2, lossActivation", (await page.$$("[data-testid=grad-norms]")).length, 4);
      const opts = await page.$$eval("[data-testid=step-picker] vscode-option", (o) => o.map((x) => x.getAttribute("value")));
      eq("05: recorded steps in the picker", opts.join(","), "0,1,2,10000");
      const codes = await page.$$eval("[data-testid=problems] [data-testid=anomaly]", (a) => a.map((x) => x.getAttribute("data-code")));
      check("05: problems strip has exploding gradients and the dead ReLU", codes.includes("exploding-gradient") && codes.includes("dead-relu"), codes.join(","));
      check("05: the dead ReLU is on the activation1 card", (await page.$$(`${card("activation1")} [data-testid=card-anomalies] [data-code=dead-relu]`)).length === 1);
    }
    await shot(page, `05-spiral-training-${theme}`);
    await selectStep(page, 10000);
    await page.waitForFunction(() => document.querySelector("[data-testid=step-picker]")?.value === "10000");
    await settle(page);
    await shot(page, `05-spiral-training-last-${theme}`);
    await finish(page, `05 ${theme}`);
    if (first) {
      // Live: the same messages streamed while the model "runs".
      const live = await context.newPage();
      live.problems = [];
      await live.goto(`${base}/?trace=05-spiral-training&theme=${theme}&live=1&chunk=300`);
      await live.waitForSelector("[data-testid=curves] canvas", { timeout: 20000 });
      const status = await live.$eval("[data-testid=run-status]", (e) => e.getAttribute("data-status"));
      eq("05 live: fills while running", status, "running");
      await live.screenshot({ path: path.join(outDir, `05-spiral-training-live-${theme}.png`) });
      shots.push(path.join(outDir, `05-spiral-training-live-${theme}.png`));
      await live.waitForFunction(() => window.__bpl.done === true, undefined, { timeout: 60000 });
      await live.waitForFunction(() => document.querySelector("[data-testid=run-status]")?.getAttribute("data-status") === "done");
      const opts = await live.$$eval("[data-testid=step-picker] vscode-option", (o) => o.map((x) => x.getAttribute("value")));
      eq("05 live: same steps as the replay", opts.join(","), "0,1,2,10000");
      await finish(live, "05 live");
    }
  },

  async "06-custom-layer-check"(theme, first) {
    const page = await open("06-custom-layer-check", theme);
    await settle(page);
    if (first) {
      eq("06: custom layer card", await attr(page, `${card("leaky")} .chip.kind`, "title"), "class LeakyReLU");
      eq("06: gradient check ok on leaky", await attr(page, `${card("leaky")} [data-testid=gradcheck]`, "data-ok"), "true");
      const box = await page.$(`${card("leaky")} figure[data-tensor=dinputs][data-phase=backward] canvas`);
      await box.click({ position: { x: 3, y: 3 } });
      await page.waitForSelector(`${card("leaky")} [data-testid=chain-note]`);
      const note = await text(page, `${card("leaky")} [data-testid=chain-note]`);
      check("06: custom layer: value and gradient check, no formula", /custom layer/.test(note ?? "") && /gradient check ok/.test(note ?? ""), note ?? "");
      await settle(page);
    }
    await shot(page, `06-custom-layer-${theme}`);
    await finish(page, `06 ${theme}`);
  },

  async "shape-mismatch"(theme, first) {
    const page = await open("shape-mismatch", theme);
    await settle(page);
    if (first) {
      const msg = await text(page, "[data-testid=error-message]");
      check("shape-mismatch: error banner with the message", msg?.includes("dense2.forward failed"), msg ?? "");
      eq("shape-mismatch: file:line link", await text(page, "[data-testid=error-site]"), "shape-mismatch.ts:10");
      eq("shape-mismatch: status failed", await attr(page, "[data-testid=run-status]", "data-status"), "failed");
      await page.click("[data-testid=error-site]");
      const posted = await page.evaluate(() => window.__bpl.posted.filter((m) => m.kind === "event" && m.body.type === "ui/openSource").map((m) => m.body.site.line));
      check("shape-mismatch: link opens line 10", posted.includes(10), JSON.stringify(posted));
    }
    await shot(page, `shape-mismatch-${theme}`);
    await finish(page, `shape-mismatch ${theme}`);
  },

  async "wrong-backward"(theme, first) {
    const page = await open("wrong-backward", theme);
    await settle(page);
    if (first) {
      eq("wrong-backward: failed gradient check on sigmoid", await attr(page, `${card("sigmoid")} [data-testid=gradcheck]`, "data-ok"), "false");
      const codes = await page.$$eval("[data-testid=problems] [data-testid=anomaly]", (a) => a.map((x) => x.getAttribute("data-code")));
      check("wrong-backward: problems strip", codes.includes("gradient-check"), codes.join(","));
    }
    await shot(page, `wrong-backward-${theme}`);
    await finish(page, `wrong-backward ${theme}`);
  },

  async timeout(theme, first) {
    if (!first) return;
    // The host never answers tensor requests: each panel says so after the timeout; nothing throws.
    const page = await open("02-layer-batch", theme, "&dropTensors=1&timeout=400");
    await page.waitForFunction(() => document.querySelectorAll(".tensor-error").length > 0, undefined, { timeout: 10000 });
    const msg = await text(page, ".tensor-error");
    check("timeout: an unanswered tensor request shows its timeout", /no answer for .* after 0 s|no answer for/.test(msg ?? ""), msg ?? "");
    // With an element picked (restored view state), the chain-rule panel waits for tensors too.
    await page.evaluate(() => sessionStorage.setItem("bpl-view-state", JSON.stringify({ v: 1, zoom: 1, collapsed: [], samples: {}, outputOpen: false, selectedElement: { layer: 0, seq: 1, tensor: "dweights", index: [1, 0] } })));
    await page.reload();
    await page.waitForSelector("[data-testid=chain-rule] .tensor-error", { timeout: 10000 });
    check("timeout: the chain-rule panel reports the timeout", true);
    await page.waitForTimeout(600);
    await finish(page, `timeout ${theme}`);
  },

  async nan(theme) {
    const page = await open("nan", theme);
    await settle(page);
    await shot(page, `nan-${theme}`);
    await finish(page, `nan ${theme}`);
  },

  async xss(theme, first) {
    const page = await open("xss", theme);
    await settle(page);
    if (first) {
      eq("xss: no img element was created", await page.$$eval("img, iframe, script:not([src])", (n) => n.length), 0);
      eq("xss: the layer name renders as literal text", await text(page, "[data-testid=layer-name]"), "<img src=x onerror=alert(1)>");
      check("xss: the error message renders as text", (await text(page, "[data-testid=error-message]"))?.includes("<img src=y onerror=alert(5)>"));
      check("xss: no svg with onload", (await page.$$("svg[onload]")).length === 0);
    }
    await shot(page, `xss-${theme}`);
    await finish(page, `xss ${theme}`);
  },

  async "wide-dense"(theme, first) {
    const page = await open("wide-dense", theme);
    await settle(page);
    const sel = "canvas[data-rows='784'][data-cols='128']";
    await page.waitForSelector(sel);
    if (first) {
      const times = [];
      for (let i = 0; i < 6; i++) {
        times.push(...(await page.$$eval(sel, (c) => c.map((x) => Number(x.getAttribute("data-draw-ms"))))));
        await page.click(i % 2 ? "[data-testid=zoom-in]" : "[data-testid=zoom-out]");
        await page.waitForTimeout(60);
        await settle(page);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)];
      check(`wide-dense: 784×128 heatmap draw (fill ImageData + putImageData), median of ${times.length}: ${median.toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms`, median < 16);
      fs.writeFileSync(path.join(outDir, "draw-times.json"), JSON.stringify({ shape: [784, 128], samples: times, medianMs: median }, null, 2));
    }
    await shot(page, `wide-dense-${theme}`);
    await finish(page, `wide-dense ${theme}`);
  },
};

// Issue 13, "what does not fit": a 626 px panel (the width of the inspector beside an editor).
scenarios.fit = async (theme, first) => {
  const narrow = async (trace) => {
    const page = await open(trace, theme);
    await page.setViewportSize({ width: 626, height: 900 });
    await page.waitForTimeout(150);
    await settle(page);
    return page;
  };
  const overflow = (page) => page.evaluate(() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth);
  // Loss chart, network graph, gradient flow and compare of a 10,000-step run.
  let page = await narrow("05-spiral-training");
  const culprits = await page.evaluate(() => [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).slice(0, 4).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}[${e.getAttribute("data-testid") ?? ""}] ${e.getBoundingClientRect().right.toFixed(0)}`));
  check(`fit ${theme}: 05 at 626 px: the panel does not scroll sideways`, (await overflow(page)) === 0, culprits.join(" | "));
  const chart = await page.$eval("[data-testid=curves]", (e) => [e.getBoundingClientRect().right, document.documentElement.clientWidth]);
  check(`fit ${theme}: the loss chart fits (right ${chart[0].toFixed(0)} ≤ ${chart[1]})`, chart[0] <= chart[1]);
  for (const sel of ["[data-testid=network-graph]", "[data-testid=grad-flow-bars]", "[data-testid=grad-flow-curves]", "[data-testid=compare]"]) {
    const r = await page.$eval(sel, (e) => e.getBoundingClientRect().right).catch(() => null);
    check(`fit ${theme}: ${sel} is there and fits (right ${r?.toFixed(0)})`, r !== null && r <= 626);
  }
  if (first) {
    const hops = await page.$$eval("[data-testid=gradient-path] li", (l) => l.map((x) => x.getAttribute("data-text")));
    check("fit: the network follows dense1's gradient back to the loss", hops[0] === "dense1.dvalues = activation1.dinputs" && /starts here/.test(hops[hops.length - 1] ?? ""), hops.join(" | "));
  }
  await shot(page, `fit-05-overview-${theme}`);
  await finish(page, `fit 05 ${theme}`);
  // Dense(784, 128): 784-wide and 784-row heatmaps fit the card; region zoom on one at a time, exact readout.
  page = await narrow("wide-dense");
  eq(`fit ${theme}: wide-dense at 626 px: the panel does not scroll sideways`, await overflow(page), 0);
  const stages = await page.$$eval(".card .heat-stage", (st) => st.map((e) => [e.getBoundingClientRect().right, e.closest(".card").getBoundingClientRect().right]));
  check(`fit ${theme}: every heatmap stage is inside its card (${stages.length})`, stages.length > 0 && stages.every(([a, b]) => a <= b + 0.5), JSON.stringify(stages.filter(([a, b]) => a > b + 0.5)));
  if (first) {
    const wide = "figure[data-tensor=inputs][data-phase=forward] canvas.heatmap";
    const box = await page.$eval(wide, (c) => { c.scrollIntoView({ block: "center" }); const r = c.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
    await page.mouse.move(box.x + box.w * 0.1, box.y + box.h * 0.1);
    await page.mouse.down();
    await page.mouse.move(box.x + box.w * 0.3, box.y + box.h * 0.5, { steps: 6 });
    await page.mouse.up();
    const region = await page.$eval(wide, (c) => c.getAttribute("data-region"));
    const [r0, c0, rows, cols] = (region ?? "").split(",").map(Number);
    check(`fit: dragging zooms the 32×784 inputs into a region (${region})`, cols < 784 && cols > 10 && rows >= 1 && c0 > 0, region ?? "");
    // Hover a cell of the zoomed map: the readout reads the exact value of that element of the trace.
    await page.mouse.move(box.x + box.w * 0.5, box.y + box.h * 0.5);
    const readout = await page.$eval("figure[data-tensor=inputs][data-phase=forward] [data-testid=readout]", (e) => e.textContent);
    const m = /\[(\d+)\]\[(\d+)\] = (\S+)$/.exec(readout ?? "");
    const exact = await page.evaluate(([r, c]) => {
      const trace = JSON.parse(window.__BPL_TRACE__);
      const call = trace.events.find((e) => e.type === "layer/call" && e.call.phase === "forward" && e.call.tensors.inputs && e.call.tensors.inputs.shape[1] === 784);
      return String(call.call.tensors.inputs.data[r * 784 + c]);
    }, [Number(m?.[1]), Number(m?.[2])]);
    check(`fit: the zoomed readout is exact (${readout})`, m !== null && m[3] === exact && Number(m[2]) >= c0 && Number(m[2]) < c0 + cols, `readout ${readout}, trace ${exact}`);
    // Zooming another heatmap shows the first one whole again (one zoom at a time).
    const other = "figure[data-tensor=weights] canvas.heatmap";
    await page.$eval(other, (c) => c.scrollIntoView({ block: "center" }));
    await page.focus(other);
    await page.keyboard.press("+");
    check("fit: + zooms the weights heatmap", (await page.$eval(other, (c) => c.closest(".heat").getAttribute("data-zoomed"))) === "true");
    check("fit: … and the inputs heatmap is whole again", (await page.$eval(wide, (c) => c.closest(".heat").getAttribute("data-zoomed"))) === "false");
    await page.keyboard.press("0");
    check("fit: 0 shows the weights whole", (await page.$eval(other, (c) => c.closest(".heat").getAttribute("data-zoomed"))) === "false");
    await page.$eval(wide, (c) => c.scrollIntoView({ block: "start" }));
    await page.mouse.move(box.x + 2, box.y + 2);
  }
  await shot(page, `fit-wide-dense-${theme}`);
  await finish(page, `fit wide ${theme}`);
  // The single neuron's graph: all of it visible, z → relu → y included.
  page = await narrow("01-single-neuron");
  const g = await page.$eval("[data-testid=scalar-graph]", (svg) => { const y = svg.querySelector("[data-testid=scalar-node][data-label=y]"); return [svg.getBoundingClientRect().right, y ? y.getBoundingClientRect().right : 9999, document.documentElement.clientWidth]; });
  check(`fit ${theme}: the single neuron's graph fits, y included (svg ${g[0].toFixed(0)}, y ${g[1].toFixed(0)}, panel ${g[2]})`, g[0] <= g[2] && g[1] <= g[2]);
  await shot(page, `fit-single-neuron-${theme}`);
  await finish(page, `fit 01 ${theme}`);
  // A long equation (dweights over 300 samples) says that it scrolls.
  page = await narrow("04-spiral-model");
  await page.click(`${card("dense2")} figure[data-tensor=dweights][data-phase=backward] canvas.heatmap`, { position: { x: 3, y: 3 } });
  await page.waitForSelector(`${card("dense2")} [data-testid=chain-equation] .katex`);
  await page.waitForTimeout(200);
  const more = await page.$eval(`${card("dense2")} [data-testid=chain-rule]`, (c) => { const eq = c.querySelector("[data-testid=chain-equation]"); const hint = c.querySelector("[data-testid=math-more]"); return [eq.scrollWidth > eq.clientWidth, eq.classList.contains("overflows"), hint !== null && !hint.hidden]; });
  check(`fit ${theme}: a long equation that scrolls says so (overflow ${more[0]}, fade ${more[1]}, hint ${more[2]})`, more[0] && more[1] && more[2]);
  eq(`fit ${theme}: 04 at 626 px with the chain rule open: no sideways scroll`, await overflow(page), 0);
  await page.$eval(`${card("dense2")} [data-testid=chain-rule]`, (c) => c.scrollIntoView({ block: "start" }));
  await page.screenshot({ path: path.join(outDir, `fit-chain-${theme}.png`) });
  shots.push(path.join(outDir, `fit-chain-${theme}.png`));
  await finish(page, `fit 04 ${theme}`);
};

const names = Object.keys(scenarios).filter((n) => !only || only.includes(n));
for (const name of names) {
  for (const [i, theme] of themeNames.entries()) {
    try {
      await scenarios[name](theme, i === 0);
    } catch (e) {
      check(`${name} ${theme}: scenario ran`, false, String(e?.stack ?? e).split("\n").slice(0, 3).join(" "));
    }
  }
}
await browser.close();
server.close();
const failed = results.filter((r) => !r.ok);
console.log(`\n${shots.length} screenshots in ${path.relative(root, outDir)}/`);
console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
