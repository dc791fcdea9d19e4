/**
 * The model runs in a process of its own (issue 12): the hostile models of the soak, each through the
 * real runner (`runModel` → model process → worker), with the end state and message asserted.
 * Needs `npm run build` (dist/modelProcess.js, dist/worker.js).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { endStateOf } from "../../extension/runner/runModel";
import { TRACE_BUDGET } from "../../extension/runner/traceBudget";
import { hostile, modelFile, processScript, run, start, until, workerScript } from "./helpers";

describe("runner: the model's own process", function () {
  this.timeout(60_000);

  before(() => {
    assert.ok(fs.existsSync(processScript) && fs.existsSync(workerScript), "dist/ is built (npm run build)");
  });

  it("a model that kills its own process (SIGKILL) ends as lost, saying so, and the host lives on", async () => {
    const { result } = await run(hostile("kill-self.ts"));
    assert.equal(endStateOf(result), "lost");
    assert.equal(result.error?.kind, "lost");
    assert.match(result.error?.message ?? "", /^kill-self\.ts: the model's process died: killed by signal 9 \(SIGKILL\): the model called process\.kill\(process\.pid, "SIGKILL"\) at kill-self\.ts:6$/);
    assert.equal(result.error?.site?.line, 6);
  });

  it("everything a model traced before killing its own process reaches the host", async () => {
    const { events } = await run(hostile("kill-self.ts"));
    assert.ok(events.some((e) => e.type === "layer/call" && e.call.phase === "forward"), events.map((e) => e.type).join(" "));
  });

  it("every layer call a model made before it loops forever reaches the host (none is held back in the model's thread)", async () => {
    const src = [
      'import { Dense, ReLU } from "backprop-lens";',
      "const dense1 = new Dense(2, 3);",
      "const relu1 = new ReLU();",
      "dense1.forward([[1, 2]]);",
      "relu1.forward(dense1.output);",
      "dense1.forward([[3, 4]]);",
      "let epochs = 0;",
      "while (epochs >= 0) epochs += 1;",
      "",
    ].join("\n");
    const { result, events } = await run(modelFile("loop-after-calls.ts", src), { timeLimitMs: 1500 });
    assert.equal(result.error?.kind, "timeout", result.error?.message);
    const calls = events.flatMap((e) => (e.type === "layer/call" ? [`${e.call.layer}.${e.call.phase}`] : []));
    assert.deepEqual(calls, ["0.forward", "1.forward", "0.forward"], events.map((e) => e.type).join(" "));
    assert.equal(events.filter((e) => e.type === "layer/new").length, 2);
  });

  it("a model may not signal the editor's process", async () => {
    const { result } = await run(modelFile("kill-parent.ts", "process.kill(process.ppid, \"SIGKILL\");\n"));
    assert.equal(result.error?.kind, "throw");
    assert.match(result.error?.message ?? "", /kill-parent\.ts:1: a model may not send signals to the editor's process \(pid \d+\)/);
  });

  it("24 raw Float64Arrays of 128 MB are stopped by the memory limit (it counts everything, not only tensors)", async () => {
    const { result } = await run(hostile("raw-buffers.ts"), { memoryLimitMb: 1024 });
    assert.equal(result.error?.kind, "memory", result.error?.message);
    assert.match(result.error?.message ?? "", /raw-buffers\.ts: the model used \d+ MB, more than the memory limit of 1024 MB, and was stopped( at raw-buffers\.ts:[456])?;/);
    const used = Number(/used (\d+) MB/.exec(result.error?.message ?? "")?.[1]);
    assert.ok(used < 1024 + 512, `stopped at ${used} MB, not after the whole 3 GB`);
  });

  it("Stop ends a console flood at once; the output is capped and the dropped lines are counted", async () => {
    const c = start(hostile("console-flood.ts"));
    await until(() => c.events.filter((e) => e.type === "console").length > 1000, 20_000, "the flood to start");
    const t0 = performance.now();
    c.handle.cancel();
    const result = await c.result;
    const stopMs = performance.now() - t0;
    assert.equal(endStateOf(result), "stopped");
    assert.ok(stopMs < 1000, `Stop took ${stopMs.toFixed(0)} ms`);
    assert.equal(c.events[c.events.length - 1]?.type, "run/end", "the last event is the host's run/end");
    const n = c.events.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(c.events.length, n, "nothing arrives after the end");
  });

  it("a console flood that runs to its end keeps 10,000 lines and says how many more there were", async () => {
    const { result, events } = await run(hostile("console-flood.ts"));
    assert.equal(result.ok, true, result.error?.message);
    const lines = events.filter((e) => e.type === "console");
    assert.equal(lines.length, TRACE_BUDGET.consoleLines + 1);
    const last = lines[lines.length - 1];
    assert.ok(last?.type === "console");
    assert.match(last.text, /… 90,000 more lines were not kept \(the output of a run is cut at 10,000 lines\)/);
    assert.ok(events.some((e) => e.type === "anomaly" && e.anomaly.code === "truncated" && /output was cut at 10,000 lines/.test(e.anomaly.message)));
  });

  it("a trace flood (forward/backward forever) sends a bounded trace and is stopped at the time limit at its line", async () => {
    const { result, events } = await run(hostile("trace-flood.ts"), { timeLimitMs: 3000 });
    assert.equal(result.error?.kind, "timeout", result.error?.message);
    assert.match(result.error?.message ?? "", /trace-flood\.ts: the model ran longer than the time limit of 3 s and was stopped at trace-flood\.ts:[5-8]/);
    assert.ok(result.steps > 10_000, `${result.steps} steps`);
    const summaries = events.filter((e) => e.type === "step/summary").length;
    assert.ok(summaries <= TRACE_BUDGET.summaries && summaries < result.steps, `${summaries} summaries for ${result.steps} steps`);
    assert.ok(events.length < TRACE_BUDGET.events, `${events.length} events`);
  });

  it("a model cannot forge events or a successful end through parentPort", async () => {
    const { result, events } = await run(hostile("forge-end.ts"));
    assert.equal(result.ok, false);
    assert.equal(result.error?.kind, "throw");
    assert.match(result.error?.message ?? "", /forge-end\.ts:12: the real end of this run/);
    assert.ok(!events.some((e) => e.type === "layer/new" && e.layer.name === "forged"), "no forged layer");
    const ends = events.filter((e) => e.type === "run/end");
    assert.equal(ends.length, 1);
    assert.equal(ends[0]?.type === "run/end" && ends[0].ok, false);
  });

  it("bytes written into the process's message pipe end the run as failed, and the host does not crash", async () => {
    const { result } = await run(hostile("write-fd3.ts"));
    assert.equal(result.error?.kind, "internal");
    assert.match(result.error?.message ?? "", /write-fd3\.ts: the model's process broke its message channel \(.*\); the run was stopped/);
  });
});

describe("runner: every failure has a place", function () {
  this.timeout(60_000);
  const cases: [string, string, string, RegExp][] = [
    ["throw 42", "throw-42.ts", "throw", /^throw-42\.ts:5: threw 42, which is not an Error$/],
    ["throw null", "throw-null.ts", "throw", /^throw-null\.ts:6: threw null, which is not an Error$/],
    ["process.exit(1)", "exit-1.ts", "throw", /^exit-1\.ts:5: the model called process\.exit\(1\); the run ended there, as a failure$/],
    ["a throw in a timer", "timer-throw.ts", "throw", /^timer-throw\.ts:6: thrown in a timer \(thrown in a callback: a timer, an event or a promise continuation\)$/],
    ["an unhandled rejection", "unhandled-rejection.ts", "throw", /^unhandled-rejection\.ts:5: the dataset could not be loaded \(a promise rejection that nothing handled\)/],
    ["a main() that never resolves", "never-resolves.ts", "throw", /^never-resolves\.ts: main\(\) returned a promise that never settled, and nothing else was left to run/],
  ];
  for (const [what, name, kind, message] of cases) {
    it(`${what} ends the run as failed, at the user's line when there is one (${name})`, async () => {
      const { result } = await run(hostile(name));
      assert.equal(result.ok, false);
      assert.equal(result.error?.kind, kind, result.error?.message);
      assert.match(result.error?.message ?? "", message);
    });
  }

  it("process.exit(0) ends the run there, as done", async () => {
    const { result, events } = await run(hostile("exit-0.ts"));
    assert.equal(result.ok, true, result.error?.message);
    assert.ok(events.some((e) => e.type === "console" && /exit-0\.ts:5: the model called process\.exit\(0\)/.test(e.text)));
    assert.ok(!events.some((e) => e.type === "console" && /never printed/.test(e.text)));
  });

  it("a process that dies after the model's thread reported its end (a Node abort in the thread's teardown) ends the run as done, not lost", async () => {
    const { result } = await run(hostile("dies-after-end.ts"));
    assert.equal(result.ok, true, result.error?.message);
    assert.equal(endStateOf(result), "done");
  });

  it("timers and promises run as in Node before the run ends", async () => {
    const { result, events } = await run(hostile("timers-run.ts"));
    assert.equal(result.ok, true, result.error?.message);
    const texts = events.flatMap((e) => (e.type === "console" ? [e.text] : []));
    assert.deepEqual(texts, ["the promise ran", "the timer ran"]);
    assert.ok(events.some((e) => e.type === "layer/call"), "the timer's forward call was traced");
  });

  it("a NaN in a model without a loss layer is reported where it appeared", async () => {
    const { result, events } = await run(hostile("nan-no-loss.ts"));
    const nan = events.find((e) => e.type === "anomaly" && e.anomaly.code === "non-finite");
    assert.ok(nan?.type === "anomaly", JSON.stringify(result));
    assert.equal(nan.anomaly.severity, "error");
    assert.match(nan.anomaly.message, /NaN first appeared in dense1\.weights\[0\]\[0\] of shape \[2, 3\] at step 0 \(forward called at nan-no-loss\.ts:9\).*no loss layer/);
    assert.equal(nan.anomaly.site?.line, 9);
  });
});
