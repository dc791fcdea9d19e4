#!/usr/bin/env node
// The debugger end to end in the real workbench (code-server + Chromium, Playwright from outside), as a
// new user does it: open a training loop, put a breakpoint on `dense2.backward(…)` with F9, press F5 (no
// launch.json), find the debug toolbar, the call stack and the Variables view with the call's tensors,
// Continue, Step Back into the previous training step, and see the Gradient Inspector follow: the
// current call's card highlighted, the calls after it "not computed yet". Then the first-NaN stop of a
// diverging model. Screenshots go to test-artifacts/e2e/debugger-*.png (docs/images with BPL_UPDATE_MEDIA=1).
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { activeEditor, openFile, openWorkbench, runCommand, screenshot, setColorTheme, webviewFrame } from "../vscode/workbench.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const artifacts = path.join(process.env.BPL_ARTIFACTS ?? path.join(repo, "test-artifacts"), "e2e");
fs.mkdirSync(artifacts, { recursive: true });
const DOC_SHOTS = { "debugger-chain-rule": "docs/images/debugger-chain-rule.png", "debugger-chain-rule-light": "docs/images/debugger-chain-rule-light.png", "debugger-python": "docs/images/debugger-python.png", "debugger-paused": "docs/images/debugger-paused.png", "debugger-step-back": "docs/images/debugger-step-back.png", "debugger-nan": "docs/images/debugger-nan.png", "debugger-console-hover": "docs/images/debugger-console-hover.png" };
async function shot(page, name) {
  await screenshot(page, name, { dir: artifacts });
  const rel = DOC_SHOTS[name];
  if (rel && process.env.BPL_UPDATE_MEDIA === "1") fs.copyFileSync(path.join(artifacts, `${name}.png`), path.join(repo, rel));
}

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
    if (current) await shot(current, `failed-debugger-${name.replace(/[^\w]+/g, "-").slice(0, 50)}`).catch(() => undefined);
    console.log(`  ✘ ${name}\n    ${String(e?.stack ?? e).split("\n").slice(0, 6).join("\n    ")}`);
    throw e;
  }
}

function workspace() {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-e2e-debug-"));
  for (const f of fs.readdirSync(path.join(repo, "examples"), { withFileTypes: true })) if (f.isFile()) fs.copyFileSync(path.join(repo, "examples", f.name), path.join(ws, f.name));
  for (const f of ["debug-training.ts", "debug-diverge.ts"]) fs.copyFileSync(path.join(repo, "test", "fixtures", "models", f), path.join(ws, f));
  // A Python training loop in the book's NumPy style, run with the tests' interpreter (contract 5) through the setting.
  fs.copyFileSync(path.join(repo, "test", "fixtures", "python", "debug_training.py"), path.join(ws, "debug_training.py"));
  fs.mkdirSync(path.join(ws, ".vscode"), { recursive: true });
  fs.writeFileSync(path.join(ws, ".vscode", "settings.json"), JSON.stringify({ "backpropLens.pythonPath": testPython() }, null, 2));
  const tsconfig = path.join(ws, "tsconfig.json");
  fs.writeFileSync(tsconfig, fs.readFileSync(tsconfig, "utf8").replace("../core/index.ts", path.join(repo, "core", "index.ts")));
  return ws;
}

/** Puts the cursor on a 1-based line (Ctrl+G) of the active editor. */
async function goToLine(page, line) {
  await activeEditor(page).click({ position: { x: 200, y: 10 } });
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ state: "visible" });
  await input.fill(`:${line}`);
  await input.press("Enter");
}

/** Extension host processes under a code-server (Linux /proc): pid and thread count. */
function extensionHosts(root) {
  const out = [];
  const walk = (pid) => {
    for (const t of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
      try {
        const stat = fs.readFileSync(`/proc/${t}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid !== pid) continue;
        const cmd = fs.readFileSync(`/proc/${t}/cmdline`, "utf8");
        if (/extensionHost/.test(cmd)) {
          // The model runs in a process of its own, a child of the extension host (extension/runner/modelProcess.ts).
          const models = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).filter((c) => {
            try {
              const st = fs.readFileSync(`/proc/${c}/stat`, "utf8");
              return Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]) === Number(t) && fs.readFileSync(`/proc/${c}/cmdline`, "utf8").includes("modelProcess.js");
            } catch {
              return false;
            }
          }).map(Number);
          out.push({ pid: Number(t), threads: fs.readdirSync(`/proc/${t}/task`).length, models });
        }
        walk(Number(t));
      } catch {
        // gone meanwhile
      }
    }
  };
  walk(root);
  return out;
}

/** Contract 5's interpreter (BPL_PYTHON, else /usr/bin/python3, else python3); says so when it has no NumPy. */
function testPython() {
  const candidates = process.env.BPL_PYTHON ? [process.env.BPL_PYTHON] : ["/usr/bin/python3", "python3", "python"];
  for (const c of candidates) {
    if (c.startsWith("/") && !fs.existsSync(c)) continue;
    const r = spawnSync(c, ["-c", "import importlib.util as u; print(u.find_spec('numpy') is not None)"], { encoding: "utf8" });
    if (r.status !== 0) continue;
    if (r.stdout.trim() !== "True") throw new Error(`NumPy is not installed for ${c}: the Python debugging check needs it (Debian: python3-numpy; or set BPL_PYTHON)`);
    return c;
  }
  throw new Error(`no Python found (tried ${candidates.join(", ")}): the Python debugging check needs Python 3.8+ with NumPy (set BPL_PYTHON)`);
}

function lineOf(file, text) {
  const i = fs.readFileSync(file, "utf8").split("\n").findIndex((l) => l.includes(text));
  assert.ok(i >= 0, text);
  return i + 1;
}

/**
 * The model's own numbers, without the debugger or the inspector: the CLI runs the model and writes its
 * trace (docs/trace-format.md); `tensorOf(layer, phase, step, name)` reads a recorded call's tensor.
 */
function modelTrace(file, keepSteps) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bpl-e2e-trace-")), "trace.json");
  const r = spawnSync(process.execPath, [path.join(repo, "dist", "cli.js"), "run", file, "--json", out, "--keep-steps", String(keepSteps)], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const events = JSON.parse(fs.readFileSync(out, "utf8")).events;
  const ids = new Map(events.filter((e) => e.type === "layer/new").map((e) => [e.layer.name, e.layer.id]));
  return {
    tensorOf(layer, phase, step, name) {
      const call = events.find((e) => e.type === "layer/call" && e.call.layer === ids.get(layer) && e.call.phase === phase && e.call.step === step);
      assert.ok(call?.call.tensors[name], `${layer}.${phase} of step ${step} has ${name} in the trace`);
      return call.call.tensors[name];
    },
  };
}

/** The chain-rule panel of a card: which element, which step, and the value backward recorded (as it shows it). */
async function chainShown(frame, layer) {
  const panel = frame.locator(`[data-testid=layer-card][data-layer=${layer}] [data-testid=chain-rule]`).first();
  await panel.waitFor({ timeout: 20_000 });
  const recorded = panel.locator("[data-testid=chain-recorded]");
  const pending = await panel.getAttribute("data-pending");
  return {
    target: await panel.getAttribute("data-target"),
    step: await panel.getAttribute("data-step"),
    pending: pending === "true",
    recorded: pending === "true" ? undefined : Number(await recorded.innerText({ timeout: 20_000 })),
  };
}

/** Waits until the chain-rule panel of `layer` shows `target` at `step`. */
async function waitChain(frame, layer, target, step, timeout = 30_000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await chainShown(frame, layer).catch(() => undefined);
    if (last && last.target === target && last.step === String(step) && last.recorded !== undefined && Number.isFinite(last.recorded)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the chain rule shows ${JSON.stringify(last)}, not ${target} at step ${step}`);
}

const toolbar = (page) => page.locator(".debug-toolbar");
const callStack = (page) => page.locator(".debug-call-stack");
const variables = (page) => page.locator(".debug-variables");

/** The top frame's name in the Call Stack view. */
async function topFrame(page) {
  const row = callStack(page).locator(".monaco-list-row .stack-frame").first();
  await row.waitFor({ timeout: 30_000 });
  return (await row.locator(".label, .file-name").first().innerText()).trim();
}

async function waitTopFrame(page, re, timeout = 30_000) {
  const end = Date.now() + timeout;
  let last = "";
  while (Date.now() < end) {
    last = await topFrame(page).catch(() => "");
    if (re.test(last)) return last;
    await page.waitForTimeout(200);
  }
  throw new Error(`top frame "${last}" does not match ${re}`);
}

async function main() {
  const ws = workspace();
  const wb = await openWorkbench({ extensionDevelopmentPath: repo, folder: ws, theme: "dark", viewport: { width: 1700, height: 1000 } });
  const { page } = wb;
  current = page;
  try {
    const model = path.join(ws, "debug-training.ts");
    const bpLine = lineOf(model, "dense2.backward(");
    await check("F9 on dense2.backward(…) and F5 without a launch.json stops there, with the debug toolbar", async () => {
      await openFile(page, "debug-training.ts");
      // The extension is active (and knows this is a model file) once its code lenses show.
      await page.locator(".codelens-decoration", { hasText: "Debug Backward Pass" }).first().waitFor({ timeout: 60_000 });
      await goToLine(page, bpLine);
      await page.keyboard.press("F9");
      await page.locator(".codicon-debug-breakpoint").first().waitFor({ timeout: 10_000 });
      await page.keyboard.press("F5");
      await toolbar(page).waitFor({ state: "visible", timeout: 60_000 });
      assert.match(await waitTopFrame(page, /dense2\.backward/), /dense2\.backward/);
      // Step Back exists on the toolbar (supportsStepBack)
      await toolbar(page).locator(".codicon-debug-step-back").waitFor({ timeout: 10_000 });
    });

    await check("the Variables view shows the call's tensors as [shape] ‖·‖ norm, expandable into rows", async () => {
      const view = variables(page);
      await view.locator(".monaco-list-row", { hasText: "dweights" }).first().waitFor({ timeout: 30_000 });
      const row = view.locator(".monaco-list-row", { hasText: "dweights" }).first();
      assert.match(await row.innerText(), /dweights\s*[\s\S]*\[16, 3\] ‖·‖/);
      await row.click();
      await page.keyboard.press("ArrowRight");
      await view.locator(".monaco-list-row", { hasText: "‖·‖ (norm)" }).first().waitFor({ timeout: 10_000 });
      await view.locator(".monaco-list-row", { hasText: /^\s*\[0\]/ }).first().waitFor({ timeout: 10_000 });
    });

    await check("the Debug Console evaluates the expression language; hovering a layer name shows its tensors at this position", async () => {
      const input = page.locator(".repl .repl-input-wrapper .monaco-editor").first();
      await input.waitFor({ timeout: 20_000 });
      await input.click();
      await page.keyboard.type("dweights.shape");
      await page.keyboard.press("Enter");
      await page.locator(".repl .monaco-list-row", { hasText: "[16, 3]" }).first().waitFor({ timeout: 20_000 });
      await input.click();
      await page.keyboard.type("dense1.outpt");
      await page.keyboard.press("Enter");
      await page.locator(".repl .monaco-list-row", { hasText: "did you mean 'output'" }).first().waitFor({ timeout: 20_000 });
      // Hover dense1 (in `dense1.forward(X)`) while paused: the debug hover shows the layer as it is here.
      const token = activeEditor(page).locator(".view-line span", { hasText: /^dense1$/ }).first();
      await token.hover();
      const hover = page.locator(".debug-hover-widget");
      await hover.waitFor({ state: "visible", timeout: 20_000 });
      assert.match(await hover.innerText(), /dense1 = Dense\(2, 16\)/);
      await shot(page, "debugger-console-hover");
      await page.mouse.move(5, 500);
    });

    await check("the inspector follows: dense2's card is the current one, its backward call marked, later calls not computed yet", async () => {
      // Continue to step 1's dense2.backward (step 0 is recorded anyway; step 1 shows the follow too)
      await page.keyboard.press("F5");
      await page.waitForTimeout(500);
      await waitTopFrame(page, /dense2\.backward/);
      const frame = webviewFrame(page);
      const cur = frame.locator("[data-testid=layer-card].debug-current");
      await cur.waitFor({ timeout: 30_000 });
      assert.equal(await cur.getAttribute("data-layer"), "dense2");
      await frame.locator("[data-testid=debug-here]").first().waitFor({ timeout: 10_000 });
      await frame.locator("[data-testid=call-not-yet]").first().waitFor({ timeout: 10_000 });
      await cur.scrollIntoViewIfNeeded();
      await shot(page, "debugger-paused");
    });

    const trace = modelTrace(model, 4);
    await check("the chain rule is on the element under the cursor: picked at step 1, it follows the debugger to step 2 with that step's numbers", async () => {
      const frame = webviewFrame(page);
      // Paused at dense2.backward of step 1: pick dbiases[0][1] in its backward call (a number grid: 1 × 3).
      const cell = frame.locator("[data-testid=layer-card][data-layer=dense2] [data-testid=call][data-phase=backward] [data-testid=grid][data-tensor=dbiases] .num[data-row='0'][data-col='1']").first();
      await cell.waitFor({ timeout: 20_000 });
      await cell.click();
      const at1 = await waitChain(frame, "dense2", "dense2.dbiases[0][1]", 1);
      const model1 = trace.tensorOf("dense2", "backward", 1, "dbiases").data[1];
      assert.equal(at1.recorded, model1, "step 1's dbiases[0][1] as the model computed it");
      // Continue: the breakpoint stops at step 2's dense2.backward; the element stays selected, with step 2's numbers.
      await page.keyboard.press("F5");
      await page.waitForTimeout(500);
      await waitTopFrame(page, /dense2\.backward/);
      const at2 = await waitChain(frame, "dense2", "dense2.dbiases[0][1]", 2);
      const model2 = trace.tensorOf("dense2", "backward", 2, "dbiases").data[1];
      assert.equal(at2.recorded, model2, "step 2's dbiases[0][1] as the model computed it");
      assert.notEqual(model2, model1);
      console.log(`    dense2.dbiases[0][1]: step 1 ${at1.recorded}, step 2 ${at2.recorded} (the model: ${model1}, ${model2})`);
    });

    await check("Show Chain Rule on an element of dweights in the Variables view opens the inspector's chain rule on it, at this position", async () => {
      const view = variables(page);
      // From a known state: everything collapsed, then the keyboard (the list scrolls with the focus).
      await view.hover();
      await page.locator(".debug-pane-header, .pane-header", { hasText: "Variables" }).locator(".codicon-collapse-all").first().click();
      const focused = view.locator(".monaco-list-row.focused").first();
      const walkTo = async (re) => {
        for (let i = 0; i < 30; i++) {
          if (re.test(await focused.innerText().catch(() => ""))) return;
          await page.keyboard.press("ArrowDown");
          await page.waitForTimeout(120);
        }
        assert.match(await focused.innerText(), re);
      };
      await view.locator(".monaco-list-row", { hasText: /^\s*Layer dense2/ }).first().click();
      await page.keyboard.press("ArrowRight");
      await walkTo(/^\s*dweights\s*=/);
      await page.keyboard.press("ArrowRight");
      await walkTo(/^\s*\[1\]\s*=/);
      await page.keyboard.press("ArrowRight");
      // dweights[1]'s statistics, then its elements [0] [1] [2] (level 4: scope › dweights › [1] › [2]); scroll the view to it.
      const element = view.locator(".monaco-list-row[aria-level='4']", { hasText: /^\s*\[2\]\s*=/ }).first();
      const box = await view.boundingBox();
      for (let i = 0; i < 20 && !(await element.isVisible().catch(() => false)); i++) {
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.wheel(0, 40);
        await page.waitForTimeout(150);
      }
      await element.scrollIntoViewIfNeeded();
      await element.click({ button: "right" });
      const item = page.locator(".context-view .monaco-menu .action-item", { hasText: "Show Chain Rule" }).first();
      await item.waitFor({ timeout: 10_000 });
      await item.click();
      const frame = webviewFrame(page);
      const shown = await waitChain(frame, "dense2", "dense2.dweights[1][2]", 2);
      const model = trace.tensorOf("dense2", "backward", 2, "dweights").data[1 * 3 + 2];
      assert.equal(shown.recorded, model, "dweights[1][2] at step 2 as the model computed it");
      await frame.locator("[data-testid=layer-card][data-layer=dense2] [data-testid=chain-rule]").first().scrollIntoViewIfNeeded();
      await shot(page, "debugger-chain-rule");
      await setColorTheme(page, "light");
      await page.waitForTimeout(1000);
      await frame.locator("[data-testid=layer-card][data-layer=dense2] [data-testid=chain-rule]").first().scrollIntoViewIfNeeded();
      await shot(page, "debugger-chain-rule-light");
      await setColorTheme(page, "dark");
    });

    await check("Step Back walks back into the previous training step; the inspector shows that step", async () => {
      for (let i = 0; i < 6; i++) {
        await toolbar(page).locator(".codicon-debug-step-back").first().click();
        await page.waitForTimeout(400);
      }
      const name = await waitTopFrame(page, /SGD update dense2/);
      assert.match(name, /SGD update dense2/);
      const stack = await callStack(page).innerText();
      assert.match(stack, /training step 1 \(recorded\) · can go back to step 0/);
      // The chain rule's element went back with the debugger: step 1's numbers.
      const back = await waitChain(webviewFrame(page), "dense2", "dense2.dweights[1][2]", 1);
      assert.equal(back.recorded, trace.tensorOf("dense2", "backward", 1, "dweights").data[1 * 3 + 2]);
      await webviewFrame(page).locator("[data-testid=layer-card].debug-current[data-layer=dense2]").waitFor({ timeout: 20_000 });
      await shot(page, "debugger-step-back");
      await page.keyboard.press("Shift+F5");
      await toolbar(page).waitFor({ state: "hidden", timeout: 30_000 });
    });

    await check("a .py model: F9 on a line inside Layer_Dense.backward and F5 pause the Python tracer at dense2.backward; Variables and the inspector follow", async () => {
      const pyModel = path.join(ws, "debug_training.py");
      await openFile(page, "debug_training.py");
      await page.locator(".codelens-decoration", { hasText: "Debug Backward Pass" }).first().waitFor({ timeout: 60_000 });
      await goToLine(page, lineOf(pyModel, "self.dweights = np.dot(self.inputs.T, dvalues)"));
      await page.keyboard.press("F9");
      await page.locator(".codicon-debug-breakpoint").first().waitFor({ timeout: 10_000 });
      await page.keyboard.press("F5");
      const picker = page.locator(".quick-input-widget", { hasText: "Select debugger" });
      if (await picker.waitFor({ state: "visible", timeout: 3000 }).then(() => true, () => false)) await page.keyboard.press("Enter");
      await toolbar(page).waitFor({ state: "visible", timeout: 60_000 });
      assert.match(await waitTopFrame(page, /dense2\.backward/, 60_000), /dense2\.backward/);
      const row = variables(page).locator(".monaco-list-row", { hasText: "dweights" }).first();
      await row.waitFor({ timeout: 30_000 });
      assert.match(await row.innerText(), /dweights\s*[\s\S]*\[16, 3\] ‖·‖/);
      const cur = webviewFrame(page).locator("[data-testid=layer-card].debug-current");
      await cur.waitFor({ timeout: 30_000 });
      assert.equal(await cur.getAttribute("data-layer"), "dense2");
      await cur.scrollIntoViewIfNeeded();
      await shot(page, "debugger-python");
      await page.keyboard.press("Shift+F5");
      await toolbar(page).waitFor({ state: "hidden", timeout: 30_000 });
    });

    await check("a diverging model (SGD at learning rate 50) stops at the first NaN, in the call that made it", async () => {
      await openFile(page, "debug-diverge.ts");
      await activeEditor(page).click({ position: { x: 300, y: 40 } });
      await page.keyboard.press("F5");
      // If VS Code asks which debugger (the key went to the workbench), Backprop Lens is the suggested one.
      const picker = page.locator(".quick-input-widget", { hasText: "Select debugger" });
      if (await picker.waitFor({ state: "visible", timeout: 3000 }).then(() => true, () => false)) await page.keyboard.press("Enter");
      await toolbar(page).waitFor({ state: "visible", timeout: 60_000 });
      // The exploding-gradient filter (on by default) may stop first: continue until the NaN stop.
      for (let i = 0; i < 4; i++) {
        const name = await topFrame(page).catch(() => "");
        if (/lossFunction\.backward/.test(name) && /NaN|Infinity/.test(await page.locator(".debug-call-stack, .zone-widget").first().innerText().catch(() => ""))) break;
        const exception = await page.locator(".zone-widget .exception-widget").innerText().catch(() => "");
        if (/first appeared/.test(exception)) break;
        await page.keyboard.press("F5");
        await page.waitForTimeout(1500);
      }
      const widget = page.locator(".exception-widget");
      await widget.waitFor({ timeout: 30_000 });
      assert.match(await widget.innerText(), /first appeared in lossFunction\.backward/);
      await shot(page, "debugger-nan");
    });

    await check("closing the window while paused leaves no model process behind", async () => {
      // The paused model runs in a model process, a child of the extension host: find it, reload the window
      // (the workbench goes away as when it is closed), and look again for both.
      const hosts = () => extensionHosts(wb.server.pid);
      const before = hosts();
      assert.equal(before.length, 1, `one extension host (${JSON.stringify(before)})`);
      const [{ pid, threads, models }] = before;
      console.log(`    extension host ${pid}: ${threads} threads, model processes ${models.join(", ")} while paused`);
      assert.ok(models.length >= 1, "the paused model runs in a process of its own");
      const alive = (p) => fs.existsSync(`/proc/${p}`) && !/\) Z /.test(fs.readFileSync(`/proc/${p}/stat`, "utf8"));
      await runCommand(page, "Developer: Reload Window");
      await page.waitForTimeout(3000);
      const end = Date.now() + 60_000;
      let now = hosts();
      while (Date.now() < end && now.some((h) => h.pid === pid)) {
        await page.waitForTimeout(500);
        now = hosts();
      }
      const old = now.find((h) => h.pid === pid);
      assert.equal(old, undefined, `the old extension host ${pid} (with the paused model) is gone (still: ${JSON.stringify(old)})`);
      const left = models.filter((p) => {
        try {
          return alive(p);
        } catch {
          return false;
        }
      });
      assert.deepEqual(left, [], `the paused model's process is gone with its extension host`);
    });

    await check("without the debugger: a click on the loss curve records that step by running the model again (and it is the same run)", async () => {
      await openFile(page, "debug-training.ts");
      await runCommand(page, "Backprop Lens: Run Backward Pass");
      const frame = webviewFrame(page);
      await frame.locator("[data-testid=file-name]", { hasText: "debug-training.ts" }).waitFor({ timeout: 60_000 });
      await frame.locator("[data-testid=run-status][data-status=done]").waitFor({ timeout: 60_000 });
      const over = frame.locator("[data-testid=curves] .u-over");
      await over.waitFor({ timeout: 20_000 });
      const box = await over.boundingBox();
      await over.hover({ position: { x: box.width / 2, y: box.height / 2 } });
      await over.click({ position: { x: box.width / 2, y: box.height / 2 } });
      await frame.locator(".output, [data-testid=output]").first().waitFor({ timeout: 10_000 }).catch(() => undefined);
      await frame.getByText(/The re-run repeated the first run exactly/).first().waitFor({ timeout: 60_000, state: "attached" });
      const options = await frame.locator("[data-testid=step-picker] vscode-option").allInnerTexts();
      assert.ok(options.some((o) => /^step (9|10|11)$/.test(o.trim())), `a middle step is recorded now (${options.join(", ")})`);
      await shot(page, "debugger-record-step");
    });
  } finally {
    await wb.close();
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

main()
  .then(() => {
    console.log(`debugger e2e: ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  })
  .catch((e) => {
    console.log(`debugger e2e: ${passed} passed, ${failed + (failed ? 0 : 1)} failed`);
    console.error(e);
    process.exit(1);
  });
