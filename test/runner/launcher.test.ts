/**
 * A producer other than the engine, through the same supervisor (launcher.ts): a small Node program
 * (fixtures/fakeProducer.ts) stands in for the Python tracer and writes json-lines frames.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import type { ProcessLauncher } from "../../extension/runner/launcher";
import { endStateOf } from "../../extension/runner/runModel";
import { TRACE_BUDGET } from "../../extension/runner/traceBudget";
import { alive, run, start, until } from "./helpers";

const script = path.join(__dirname, "fixtures", "fakeProducer.js");
const file = path.join(__dirname, "model.py");

function launcher(mode: string, more: Partial<ProcessLauncher> = {}): ProcessLauncher {
  return { name: "fake-python", command: process.execPath, args: [script, mode, file], transport: "json-lines", where: { type: "where" }, ...more };
}

describe("runner: a program as producer (the Python tracer's path)", function () {
  this.timeout(60_000);

  it("its events, control messages and stderr arrive in the same stream, and its claim ends the run", async () => {
    const c = start(file, { launcher: launcher("ok") });
    const result = await c.result;
    assert.equal(result.ok, true, result.error?.message);
    // stderr is a stream of its own: its line comes somewhere before the end.
    assert.deepEqual(
      c.events.map((e) => e.type).filter((t) => t !== "console"),
      ["run/start", "layer/new", "layer/call", "step/summary", "run/end"],
    );
    const call = c.events.find((e) => e.type === "layer/call");
    assert.ok(call?.type === "layer/call");
    assert.ok(call.call.tensors.output?.data instanceof Float64Array);
    assert.ok(Number.isNaN(call.call.tensors.output?.data[1]), "NaN written as \"NaN\" is a NaN");
    const line = c.events.find((e) => e.type === "console");
    assert.ok(line?.type === "console" && line.level === "error" && line.text === "a warning from Python");
    assert.deepEqual(c.controls, [{ type: "stopped", at: 4 }]);
    assert.ok(c.order.indexOf("control:stopped") > c.order.indexOf("layer/call"), "the control message comes after the events before it");
  });

  it("a program that dies before the end is lost, quoting its last output", async () => {
    const { result } = await run(file, { launcher: launcher("die") });
    assert.equal(endStateOf(result), "lost");
    assert.match(result.error?.message ?? "", /model\.py: the model's process died: exited with code 3, before the run ended \(fake-python\); its last output: Traceback \(most recent call last\): \/ RuntimeError: the tracer broke/);
  });

  it("a claimed success followed by SIGKILL is not a success", async () => {
    const { result } = await run(file, { launcher: launcher("forge-end") });
    assert.equal(result.ok, false);
    assert.match(result.error?.message ?? "", /the model reported its end, then its process exited with signal SIGKILL/);
  });

  it("a line that is not a frame stops the run and says so", async () => {
    const { result } = await run(file, { launcher: launcher("garbage") });
    assert.equal(result.error?.kind, "internal");
    assert.match(result.error?.message ?? "", /fake-python's output could not be read \(a line is not JSON .*"this is not JSON"\)/);
  });

  it("malformed events are dropped and counted", async () => {
    const { result, events } = await run(file, { launcher: launcher("bad-event") });
    assert.equal(result.ok, true, result.error?.message);
    const note = events.find((e) => e.type === "anomaly" && e.anomaly.code === "truncated");
    assert.ok(note?.type === "anomaly");
    assert.match(note.anomaly.message, /2 malformed trace messages were dropped \(the first: layer\/call: call has a bad step, seq or layer\)/);
  });

  it("a flood of 200,000 lines is held to the budget", async () => {
    const { result, events } = await run(file, { launcher: launcher("flood") });
    assert.equal(result.ok, true, result.error?.message);
    assert.equal(events.filter((e) => e.type === "console").length, TRACE_BUDGET.consoleLines + 1);
  });

  it("commands reach its stdin after its settings, and its answers come back as control messages", async () => {
    const c = start(file, { launcher: launcher("echo", { stdin: `${JSON.stringify({ type: "settings", keepSteps: 3 })}\n` }) });
    await until(() => c.controls.find((m) => m.type === "ready"), 20_000, "the program");
    await until(() => c.controls.find((m) => m.type === "echo"), 10_000, "the settings echo");
    c.handle.send({ type: "step", n: 2 });
    await until(() => c.controls.filter((m) => m.type === "echo").length === 2, 10_000, "the echo");
    assert.deepEqual(
      c.controls.filter((m) => m.type === "echo").map((m) => m.got),
      [
        { type: "settings", keepSteps: 3 },
        { type: "step", n: 2 },
      ],
    );
    c.handle.send({ type: "quit" });
    assert.equal((await c.result).ok, true);
  });

  it("at the time limit it is asked where the model is, and the message names that line", async () => {
    const { result } = await run(file, { launcher: launcher("loop"), timeLimitMs: 1000 });
    assert.equal(result.error?.kind, "timeout");
    assert.match(result.error?.message ?? "", /model\.py: the model ran longer than the time limit of 1 s and was stopped at model\.py:42/);
  });

  it("Stop kills the program too, not only its supervisor", async () => {
    const c = start(file, { launcher: launcher("loop") });
    await until(() => c.events.some((e) => e.type === "run/start"), 20_000, "the program");
    const pid = await until(() => findFakeProducer(), 5000, "the program's pid");
    c.handle.cancel();
    assert.equal(endStateOf(await c.result), "stopped");
    await until(() => !alive(pid), 5000, "the program to be gone");
  });

  if (process.platform === "linux" || process.platform === "darwin") {
    it("its memory is held to the limit (its RSS, polled)", async () => {
      const { result } = await run(file, { launcher: launcher("memory"), memoryLimitMb: 256 });
      assert.equal(result.error?.kind, "memory", result.error?.message);
      assert.match(result.error?.message ?? "", /model\.py: the model used \d+ MB, more than the memory limit of 256 MB, and was stopped/);
    });
  }
});

/** The pid of a running fakeProducer in "loop" mode (Linux: /proc). */
function findFakeProducer(): number | undefined {
  if (process.platform !== "linux") return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require("node:fs") as typeof import("node:fs");
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8");
      if (cmd.includes("fakeProducer.js") && cmd.includes("loop")) return Number(d);
    } catch {
      // gone
    }
  }
  return undefined;
}
