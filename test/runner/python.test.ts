/**
 * A Python model goes through the same supervisor as a TypeScript one (contract 3): the hostile cases of
 * issue 12 written in Python end the same way. Needs a Python 3.8+ (contract 5: test/helpers/python.ts).
 */
import * as assert from "node:assert/strict";
import { testPython } from "../helpers/python";
import { endStateOf } from "../../extension/runner/runModel";
import { TRACE_BUDGET } from "../../extension/runner/traceBudget";
import { modelFile, run, start, until } from "./helpers";

describe("runner: Python models through the same supervisor", function () {
  this.timeout(60_000);
  const python = testPython();
  before(function () {
    if (!python) {
      console.log("    (no Python 3 found: BPL_PYTHON, /usr/bin/python3, python3, python; these tests are skipped)");
      this.skip();
    }
  });
  const opts = (): { python: { interpreters: string[] } } => ({ python: { interpreters: [python?.path ?? "python3"] } });

  it("a Python model that kills its own process ends as lost, with the signal", async () => {
    const { result } = await run(modelFile("kill.py", "import os, signal\nprint('before')\nos.kill(os.getpid(), signal.SIGKILL)\n"), opts());
    assert.equal(endStateOf(result), "lost", result.error?.message);
    assert.match(result.error?.message ?? "", /kill\.py: the model's process died: killed by signal 9 \(SIGKILL\)/);
  });

  it("a Python console flood is held to the budget and says how many lines were dropped", async () => {
    const { result, events } = await run(modelFile("flood.py", "for i in range(30000):\n    print('line', i)\n"), opts());
    assert.equal(result.ok, true, result.error?.message);
    const lines = events.filter((e) => e.type === "console");
    assert.equal(lines.length, TRACE_BUDGET.consoleLines + 1);
    assert.match(lines[lines.length - 1]?.type === "console" ? lines[lines.length - 1]!.text : "", /… 20,000 more lines were not kept/);
  });

  it("Stop ends a Python model in an endless loop at once", async () => {
    const c = start(modelFile("spin.py", "print('start')\nwhile True:\n    pass\n"), opts());
    await until(() => c.events.some((e) => e.type === "console"), 20_000, "the model to start");
    const t0 = performance.now();
    c.handle.cancel();
    assert.equal(endStateOf(await c.result), "stopped");
    assert.ok(performance.now() - t0 < 1000);
  });
});
