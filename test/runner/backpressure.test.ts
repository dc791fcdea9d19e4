/**
 * Backpressure, at the wire: a host that does not acknowledge the model process's batches stops the
 * model itself (its worker waits in `emit`), instead of letting the process buffer without bound; once
 * the host acknowledges, the model goes on and the run ends. Drives dist/modelProcess.js directly.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable, Writable } from "node:stream";
import { ENGINE_EXPORTS } from "../../extension/runner/runModel";
import { compileModel } from "../../extension/runner/compile";
import { FrameReader, encodeFrame } from "../../extension/runner/frames";
import { HOST_WINDOW, type ProcessToHost, type RunSpec } from "../../extension/runner/processProtocol";
import { processScript, root, until, workerScript } from "./helpers";

describe("runner: backpressure from the host to the model", function () {
  this.timeout(60_000);

  it("without acknowledgements the model stops within a few batches; with them it runs to its end", async () => {
    const file = path.join(root, "test", "fixtures", "control", "heavy-trace.ts");
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bpl-bp-")), "done");
    const compiled = await compileModel({ file, engineExports: ENGINE_EXPORTS });
    const spec: RunSpec = {
      producer: { kind: "worker", workerScript, input: { compiled, memoryLimitMb: 2048, keepSteps: 100, gradCheck: false, control: false } },
      memoryLimitMb: 2048,
      timeLimitMs: 50_000,
      keepSteps: 100,
      fileName: "heavy-trace.ts",
    };
    const child = spawn(process.execPath, [processScript], { stdio: ["pipe", "pipe", "pipe", "pipe"], env: { ...process.env, BPL_MARKER: marker } });
    try {
      const frames: ProcessToHost[] = [];
      const reader = new FrameReader((m) => frames.push(m as ProcessToHost), (r) => assert.fail(r));
      (child.stdio[3] as Readable).on("data", (c: Buffer) => reader.push(c));
      const stdin = child.stdin as Writable;
      stdin.write(encodeFrame({ t: "init", token: "t", spec }));
      const batches = (): Extract<ProcessToHost, { t: "events" }>[] => frames.filter((f): f is Extract<ProcessToHost, { t: "events" }> => f.t === "events");
      await until(() => batches().length >= HOST_WINDOW, 20_000, "the first batches");
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(batches().length, HOST_WINDOW, "no more batches than the window without acknowledgements");
      assert.equal(fs.existsSync(marker), false, "the model is held, not running on");
      const calls = batches().reduce((n, b) => n + b.events.filter((e) => e.type === "layer/call").length, 0);
      assert.ok(calls < 80, `${calls} of the 80 calls reached the host`);
      // Now acknowledge everything as it comes: the model finishes.
      let acked = 0;
      const ackAll = setInterval(() => {
        for (const b of frames.filter((f) => f.t === "events" || f.t === "control").slice(acked)) {
          stdin.write(encodeFrame({ t: "ack", seq: (b as { seq: number }).seq }));
          acked++;
        }
      }, 20);
      await until(() => frames.some((f) => f.t === "end"), 40_000, "the end");
      clearInterval(ackAll);
      assert.equal(fs.existsSync(marker), true, "the model ran to its end");
      const end = frames.find((f): f is Extract<ProcessToHost, { t: "end" }> => f.t === "end");
      assert.equal(end?.end.ok, true, end?.end.error?.message);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
