/**
 * The control channel (contract 6): `RunHandle.send/onControl` on the host, `WorkerControl.poll/wait/post`
 * in the model's thread. The worker here is the real one plus a stand-in for the debugger's worker-side
 * code (fixtures/controlWorker.ts) that lets the model pause itself.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import type { ControlMessage } from "../../extension/runner/control";
import { endStateOf } from "../../extension/runner/runModel";
import { root, start, until } from "./helpers";

const controlWorker = path.join(__dirname, "fixtures", "controlWorker.js");
const model = (name: string): string => path.join(root, "test", "fixtures", "control", name);

describe("runner: the control channel", function () {
  this.timeout(60_000);

  it("a paused worker is resumed by a command; control messages come in order with the trace events", async () => {
    const c = start(model("pause-model.ts"), { control: true, workerScript: controlWorker });
    const stopped = await until(() => c.controls.find((m) => m.type === "stopped"), 20_000, "the first pause");
    assert.equal(stopped.tag, "after forward");
    // The forward call the model made before pausing has arrived before the pause message.
    const at = c.order.indexOf("control:stopped");
    assert.ok(c.order.slice(0, at).includes("layer/call"), c.order.join(" "));
    assert.ok(!c.order.includes("console"), "the model is still paused");
    c.handle.send({ type: "resume", n: 7 });
    const got = await until(() => c.controls.find((m) => m.type === "got"), 10_000, "the command to arrive");
    assert.deepEqual(got.command, { type: "resume", n: 7 });
    await until(() => c.controls.filter((m) => m.type === "stopped").length === 2, 10_000, "the second pause");
    // `wait()` takes one command; `poll()` (without blocking) the next.
    c.handle.send({ type: "continue" });
    await until(() => c.controls.filter((m) => m.type === "got").length === 2, 10_000, "the second command to arrive");
    c.handle.send({ type: "later" });
    const result = await c.result;
    assert.equal(result.ok, true, result.error?.message);
    const texts = c.events.flatMap((e) => (e.type === "console" ? [e.text] : []));
    assert.deepEqual(texts, ["resumed with resume 7", "resumed with continue", "polled later"]);
    // The backward call ran between the two pauses.
    const second = c.order.lastIndexOf("control:stopped");
    assert.ok(c.order.slice(at, second).includes("layer/call"));
  });

  it("time paused in wait() does not count towards the time limit (1.2 s of running in a 2 s limit, paused 2.5 s)", async () => {
    // 1.2 s of running time within a 2 s limit, with a 2.5 s pause in the middle.
    const c = start(model("spin-then-pause.ts"), { control: true, workerScript: controlWorker, timeLimitMs: 2000 });
    await until(() => c.controls.find((m) => m.type === "stopped"), 20_000, "the pause");
    await new Promise((r) => setTimeout(r, 2500));
    c.handle.send({ type: "resume" });
    const result = await c.result;
    assert.equal(result.ok, true, result.error?.message);
    assert.ok(result.durationMs < 2000, `active time ${result.durationMs.toFixed(0)} ms excludes the 2.5 s pause`);
    assert.ok(c.events.some((e) => e.type === "console" && e.text === "finished"));
  });

  it("the time limit still applies to the running time around a pause (1.2 s of running in a 0.9 s limit)", async () => {
    const c = start(model("spin-then-pause.ts"), { control: true, workerScript: controlWorker, timeLimitMs: 900 });
    await until(() => c.controls.find((m) => m.type === "stopped"), 20_000, "the pause");
    c.handle.send({ type: "resume" });
    const result = await c.result;
    assert.equal(result.error?.kind, "timeout", result.error?.message);
  });

  it("Stop ends a paused run at once", async () => {
    const c = start(model("pause-forever.ts"), { control: true, workerScript: controlWorker, timeLimitMs: 5000 });
    await until(() => c.controls.find((m) => m.type === "stopped"), 20_000, "the pause");
    const t0 = performance.now();
    c.handle.cancel();
    const result = await c.result;
    assert.equal(endStateOf(result), "stopped");
    assert.ok(performance.now() - t0 < 1000);
  });

  it("a run that is not a debug run has no WorkerControl, and send() is harmless", async () => {
    const c = start(model("pause-forever.ts"), { workerScript: controlWorker });
    c.handle.send({ type: "resume" });
    const result = await c.result;
    assert.equal(result.ok, false);
    assert.match(result.error?.message ?? "", /no control channel \(not a debug run\)/);
    const none: ControlMessage[] = c.controls;
    assert.deepEqual(none, []);
  });
});
