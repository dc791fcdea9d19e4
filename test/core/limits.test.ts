/**
 * The one table of run limits (core/limits.ts) against what users see: the settings in package.json
 * and the CLI's usage text and version. A limit changed in one place and not the other fails here.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { RUN_LIMITS, type RunLimit, limitValue, shortNumber } from "../../core/host";

const root = path.join(__dirname, "..", "..", "..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
  version: string;
  contributes: { configuration: { properties: Record<string, { type: string; default: unknown; minimum?: number; markdownDescription?: string }> } };
};
const settings = manifest.contributes.configuration.properties;
const limits = Object.entries(RUN_LIMITS as Record<string, RunLimit>);

describe("run limits: one table for the settings, the CLI and the runner", () => {
  for (const [name, limit] of limits.filter(([, l]) => l.setting !== undefined)) {
    it(`package.json's backpropLens.${limit.setting} is the table's ${name}`, () => {
      const s = settings[`backpropLens.${limit.setting}`];
      assert.ok(s, `package.json contributes backpropLens.${limit.setting}`);
      assert.deepEqual(
        { type: s.type, default: s.default, minimum: s.minimum, markdownDescription: s.markdownDescription },
        { type: "number", default: limit.default, minimum: limit.minimum, markdownDescription: limit.description },
      );
    });
  }

  it("every number setting in package.json is a limit of the table", () => {
    const inTable = new Set(limits.map(([, l]) => l.setting && `backpropLens.${l.setting}`));
    const numbers = Object.entries(settings).filter(([, s]) => s.type === "number").map(([k]) => k);
    assert.ok(numbers.length >= 5);
    assert.deepEqual(numbers.filter((k) => !inTable.has(k)), []);
  });

  it("the CLI's usage text lists every limit's option with the table's default, and its version is package.json's", () => {
    const cli = path.join(root, "dist", "cli.js");
    const help = spawnSync(process.execPath, [cli, "--help"], { encoding: "utf8" });
    assert.equal(help.status, 0);
    for (const [, l] of limits) {
      const option = l.cli;
      if (!option) continue;
      const line = help.stdout.split("\n").find((s) => s.trimStart().startsWith(`${option.flag} ${option.arg}`));
      assert.ok(line, `usage has ${option.flag}`);
      assert.ok(line.endsWith(`(default ${shortNumber(l.default)})`), line);
    }
    assert.ok(help.stdout.startsWith(`Backprop Lens ${manifest.version}:`));
    assert.equal(spawnSync(process.execPath, [cli, "--version"], { encoding: "utf8" }).stdout, `${manifest.version}\n`);
  });

  it("a setting that is missing, not a number or below the minimum gets the default; integers are rounded down", () => {
    assert.equal(limitValue("timeLimitSeconds", undefined), RUN_LIMITS.timeLimitSeconds.default);
    assert.equal(limitValue("timeLimitSeconds", "5"), RUN_LIMITS.timeLimitSeconds.default);
    assert.equal(limitValue("timeLimitSeconds", Number.NaN), RUN_LIMITS.timeLimitSeconds.default);
    assert.equal(limitValue("memoryLimitMb", 10), RUN_LIMITS.memoryLimitMb.default);
    assert.equal(limitValue("timeLimitSeconds", 2.5), 2.5);
    assert.equal(limitValue("keepSteps", 4.9), 4);
    assert.equal(limitValue("gradientCheckBudgetMs", 0), 0);
  });
});
