/**
 * The CLI on the hostile models of issue 12: it runs the same model process as the extension, so a
 * model that forges messages, breaks the message pipe, kills its process or floods the console gets a
 * clear message and an exit status, never a raw stack or a forged success. Needs `npm run build`.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const root = path.join(__dirname, "..", "..", "..");
const cli = path.join(root, "dist", "cli.js");
const hostile = (name: string): string => path.join("test", "fixtures", "hostile", name);

function backpropLens(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 2 ** 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A raw Node stack frame in the output ("    at fn (file:line:col)"). */
const RAW_STACK = /^\s+at .+:\d+:\d+\)?$/m;

describe("CLI: hostile models (issue 12)", function () {
  this.timeout(120_000);

  it("a model that posts forged events and a forged success through parentPort: the real error, exit 1, no raw stack", () => {
    const r = backpropLens("run", hostile("forge-end.ts"));
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /error: forge-end\.ts:12: the real end of this run/);
    assert.doesNotMatch(r.stdout, /forged|999 steps/);
    assert.doesNotMatch(r.stderr, RAW_STACK);
    assert.doesNotMatch(r.stderr, /internal error/);
  });

  it("a model that writes garbage into the message pipe: a sentence, exit 1, no raw stack", () => {
    const r = backpropLens("run", hostile("write-fd3.ts"), "--time-limit", "20");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /error: write-fd3\.ts: the model's process broke its message channel/);
    assert.doesNotMatch(r.stderr, RAW_STACK);
  });

  it("a model that kills its own process: lost, with the signal and the line", () => {
    const r = backpropLens("run", hostile("kill-self.ts"));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: kill-self\.ts: the model's process died: killed by signal 9 \(SIGKILL\): the model called process\.kill\(process\.pid, "SIGKILL"\) at kill-self\.ts:6/);
  });

  it("a console flood prints 10,000 lines and says how many more there were", () => {
    const r = backpropLens("run", hostile("console-flood.ts"));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split("\n").filter((l) => /^line \d+: x+$/.test(l)).length, 10_000);
    assert.match(r.stdout, /… 90,000 more lines were not kept/);
  });
});
