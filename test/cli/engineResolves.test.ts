/**
 * Issue 13, setting up a folder: a tsconfig.json whose `paths` map "backprop-lens" to a file that does
 * not exist (the repository's examples/tsconfig.json copied out of the repository) does not count as
 * resolving, so Set Up is offered; one whose target exists, or a node_modules package, does.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { engineResolvesFrom, mappedTargets, parseJsonc } from "../../extension/engineResolves";

const root = path.resolve(__dirname, "../../..");

describe("does \"backprop-lens\" resolve from a model file", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-resolve-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("the examples' tsconfig copied out of the repository: its target is missing, so no (it said yes)", async () => {
    fs.copyFileSync(path.join(root, "examples", "tsconfig.json"), path.join(dir, "tsconfig.json"));
    fs.writeFileSync(path.join(dir, "model.ts"), 'import { Dense } from "backprop-lens";\n');
    assert.equal(await engineResolvesFrom(path.join(dir, "model.ts")), false);
  });

  it("the examples' tsconfig inside the repository: its target ../core/index.ts exists, so yes", async () => {
    assert.equal(await engineResolvesFrom(path.join(root, "examples", "02-layer-batch.ts")), true);
  });

  it("a mapping to an existing file without extension, with comments and baseUrl; a node_modules package", async () => {
    fs.mkdirSync(path.join(dir, "src", "engine"), { recursive: true });
    fs.writeFileSync(path.join(dir, "src", "engine", "index.ts"), "export {};\n");
    fs.writeFileSync(path.join(dir, "tsconfig.json"), '{\n  // mine\n  "compilerOptions": { "baseUrl": "src", "paths": { "backprop-lens": ["engine"], }, },\n}\n');
    assert.deepEqual(mappedTargets(parseJsonc(fs.readFileSync(path.join(dir, "tsconfig.json"), "utf8")), dir), [path.join(dir, "src", "engine")]);
    assert.equal(await engineResolvesFrom(path.join(dir, "m.ts")), true);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-resolve-nm-"));
    try {
      assert.equal(await engineResolvesFrom(path.join(other, "m.ts")), false);
      fs.mkdirSync(path.join(other, "node_modules", "backprop-lens"), { recursive: true });
      fs.writeFileSync(path.join(other, "node_modules", "backprop-lens", "package.json"), '{ "name": "backprop-lens" }');
      assert.equal(await engineResolvesFrom(path.join(other, "sub", "m.ts")), true);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
