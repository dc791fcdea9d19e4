// `npm run test:python`: the tracer's unit tests with the interpreter of contract 5 (BPL_PYTHON,
// else /usr/bin/python3, else python3, else python). Fails loudly when there is no Python or no NumPy.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");
const candidates = process.env.BPL_PYTHON ? [process.env.BPL_PYTHON] : ["/usr/bin/python3", "python3", "python"];
let python;
for (const c of candidates) {
  if (c.startsWith("/") && !fs.existsSync(c)) continue;
  const r = spawnSync(c, ["-c", "import sys; print(sys.version_info[0])"], { encoding: "utf8" });
  if (r.status === 0 && r.stdout.trim() === "3") {
    python = c;
    break;
  }
}
if (!python) {
  console.error(`test:python: no Python 3 found (tried ${candidates.join(", ")}); install python3 with NumPy (Debian: apt-get install python3-numpy python3-torch) or set BPL_PYTHON`);
  process.exit(1);
}
const have = spawnSync(python, ["-c", "import importlib.util as u; print(u.find_spec('numpy') is not None, u.find_spec('torch') is not None)"], { encoding: "utf8" });
const [numpy, torch] = have.stdout.trim().split(" ");
if (numpy !== "True") {
  console.error(`test:python: NumPy is not installed for ${python}: the tracer's tests need it (Debian: apt-get install python3-numpy; or ${python} -m pip install numpy; or set BPL_PYTHON)`);
  process.exit(1);
}
console.log(`test:python: ${python}${torch === "True" ? " (NumPy and PyTorch)" : " (NumPy; PyTorch missing: its tests are skipped)"}`);
const r = spawnSync(python, ["-B", "-m", "unittest", "discover", "-s", path.join(root, "python", "tests"), "-t", path.join(root, "python", "tests")], { stdio: "inherit", cwd: root });
process.exit(r.status ?? 1);
