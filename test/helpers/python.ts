/**
 * Contract 5: the one way tests find Python. `BPL_PYTHON`, else `/usr/bin/python3` (Debian's, with
 * NumPy and PyTorch in CI), else `python3`, else `python`; and what it has (NumPy, PyTorch), so a
 * test can say clearly that it needs one of them instead of failing obscurely.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";

export interface TestPython {
  path: string;
  version: string;
  numpy: boolean;
  torch: boolean;
}

let cached: TestPython | null | undefined;

function probe(candidate: string): TestPython | undefined {
  const code = "import sys, importlib.util as u; print('%d.%d.%d' % sys.version_info[:3], u.find_spec('numpy') is not None, u.find_spec('torch') is not None)";
  const r = spawnSync(candidate, ["-c", code], { encoding: "utf8", timeout: 20_000 });
  if (r.error !== undefined || r.status !== 0) return undefined;
  const [version, numpy, torch] = r.stdout.trim().split(/\s+/);
  return version ? { path: candidate, version, numpy: numpy === "True", torch: torch === "True" } : undefined;
}

/** The test interpreter, or undefined when there is none. */
export function testPython(): TestPython | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const env = process.env.BPL_PYTHON;
  const candidates = env ? [env] : ["/usr/bin/python3", "python3", "python"];
  for (const c of candidates) {
    if (c.startsWith("/") && !fs.existsSync(c)) continue;
    const p = probe(c);
    if (p) {
      cached = p;
      return p;
    }
  }
  cached = null;
  return undefined;
}
