/** docs/api.md is generated from the engine's doc comments and must match them. */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

describe("API documentation", () => {
  it("docs/api.md is up to date with core/index.ts (node docs/generate-api.mjs)", function () {
    this.timeout(60_000);
    const root = path.join(__dirname, "..", "..", "..");
    const r = spawnSync(process.execPath, [path.join(root, "docs", "generate-api.mjs"), "--check"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr || r.stdout);
  });
});
