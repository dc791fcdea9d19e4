/**
 * The integration suites' entry (the @vscode/test-electron contract: `run(): Promise<void>`), loaded
 * by the real VS Code extension host. `BPL_SUITE` picks the suite folder: `trusted` (default) or
 * `untrusted` (run with workspace trust enabled and the folder untrusted).
 */
import * as path from "node:path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runMocha } = require(path.resolve(__dirname, "..", "..", "..", "test", "vscode", "mochaRun.cjs")) as {
  runMocha(o: { testsRoot: string; timeout?: number }): Promise<void>;
};

export function run(): Promise<void> {
  const suite = process.env.BPL_SUITE ?? "trusted";
  return runMocha({ testsRoot: path.join(__dirname, suite), timeout: 90_000 });
}
