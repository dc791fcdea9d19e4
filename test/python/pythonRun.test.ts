/**
 * The Python producer seen from Node: the frame decoder, `runModel` on `.py` files (the same
 * RunModel, RunHandle and RunResult as a TypeScript run), the TypeScript and Python runs of the same
 * chapter model agreeing to 1e-12 in every layer, the CLI, and the clear messages when Python,
 * NumPy or a recent enough interpreter is missing. Needs `npm run build` (dist/worker.js, dist/cli.js).
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type LayerCall, RunModel, type TensorData, type TraceEvent } from "../../core/host";
import { type RunResult, runModel } from "../../extension/runner/runModel";
import { FrameDecoder, WireError } from "../../extension/runner/python/wire";
import { looksLikePythonModel } from "../../extension/runner/python/modelFile";
import { testPython } from "../helpers/python";

const root = path.join(__dirname, "..", "..", "..");
const workerScript = path.join(root, "dist", "worker.js");
const cli = path.join(root, "dist", "cli.js");

function frame(json: object, floats: number[] = []): Buffer {
  const j = Buffer.from(JSON.stringify(json), "utf8");
  const b = Buffer.alloc(floats.length * 8);
  floats.forEach((v, i) => b.writeDoubleLE(v, i * 8));
  const h = Buffer.alloc(12);
  h.write("BPL1", 0, "latin1");
  h.writeUInt32LE(j.length, 4);
  h.writeUInt32LE(b.length, 8);
  return Buffer.concat([h, j, b]);
}

describe("Python producer: the frame decoder", () => {
  it("decodes frames split at every byte, with tensors as raw float64 and boxed non-finite numbers", () => {
    const bytes = Buffer.concat([
      frame({ k: "hello", python: "3.11.2" }),
      frame({ k: "event", event: { type: "x", t: { shape: [2, 2], bin: [8, 4], dtype: "float32" }, v: { $num: "NaN" }, w: { $num: "-Infinity" } } }, [99, 1.5, -0, NaN, Infinity]),
    ]);
    for (const cut of [1, 5, 12, 13, 40, bytes.length - 3]) {
      const d = new FrameDecoder();
      const frames = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
      assert.equal(frames.length, 2, `cut at ${cut}`);
      const ev = frames[1]?.event as { t: { shape: number[]; data: Float64Array; dtype: string }; v: number; w: number };
      assert.deepEqual(ev.t.shape, [2, 2]);
      assert.equal(ev.t.dtype, "float32");
      assert.ok(ev.t.data instanceof Float64Array);
      assert.deepEqual(Array.from(ev.t.data), [1.5, -0, NaN, Infinity]);
      assert.ok(Object.is(ev.t.data[1], -0));
      assert.ok(Number.isNaN(ev.v) && ev.w === -Infinity);
      assert.equal(d.pending, 0);
    }
  });

  it("refuses a corrupted stream and a tensor outside its frame", () => {
    assert.throws(() => new FrameDecoder().push(Buffer.from("hello world, not a frame")), WireError);
    assert.throws(() => new FrameDecoder().push(frame({ k: "event", event: { t: { shape: [2], bin: [0, 2] } } }, [1])), /outside its frame/);
  });

  it("knows a Python model file when it sees one", () => {
    assert.ok(looksLikePythonModel("class Layer_Dense:\n    def forward(self, inputs):\n        pass\n"));
    assert.ok(looksLikePythonModel("import torch\nmodel = torch.nn.Linear(2, 3)\n"));
    assert.ok(looksLikePythonModel(fs.readFileSync(path.join(root, "examples", "python", "01_single_neuron.py"), "utf8")));
    assert.ok(!looksLikePythonModel("import os\nprint(os.getcwd())\n"));
  });
});

interface Run {
  result: RunResult;
  events: TraceEvent[];
  store: RunModel;
}

async function run(file: string, extra: Partial<Parameters<typeof runModel>[0]> = {}): Promise<Run> {
  const events: TraceEvent[] = [];
  const store = new RunModel({ runId: 1, file, startedAt: Date.now() });
  const python = testPython();
  const handle = runModel({
    file,
    workerScript,
    timeLimitMs: 60_000,
    onEvent: (e) => {
      events.push(e);
      store.ingest(e);
    },
    ...(python ? { python: { interpreters: [python.path] } } : {}),
    ...extra,
  });
  return { result: await handle.result, events, store };
}

describe("Python producer: runs through runModel", function () {
  this.timeout(120_000);
  const python = testPython();

  before(function () {
    assert.ok(fs.existsSync(workerScript), "dist/worker.js exists (npm run build)");
    if (!python) throw new Error("no Python found (BPL_PYTHON, /usr/bin/python3, python3, python): these tests need Python 3.8+ with NumPy");
    if (!python.numpy) throw new Error(`NumPy is not installed for ${python.path}: these tests need it (Debian: python3-numpy)`);
  });

  it("the book's spiral model: the same store, events and result as a TypeScript run", async () => {
    const file = path.join(root, "examples", "python", "04_spiral_model.py");
    const { result, events, store } = await run(file, { gradCheck: { maxElements: 32 } });
    assert.equal(result.ok, true, result.error?.message);
    assert.equal(events[0]?.type, "run/start");
    assert.equal(events.at(-1)?.type, "run/end");
    assert.equal(events.filter((e) => e.type === "run/end").length, 1);
    const names = [...store.layers.values()].map((l) => l.name);
    for (const n of ["dense1", "activation1", "dense2", "loss_activation"]) assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);
    const dense1 = [...store.layers.values()].find((l) => l.name === "dense1");
    const back = store.calls.find((c) => c.layer === dense1?.id && c.phase === "backward");
    assert.ok(back);
    const dw = store.tensor(back.seq, "dweights");
    assert.ok(dw && dw.data instanceof Float64Array);
    assert.deepEqual(dw.shape, [2, 3]);
    assert.ok(Math.abs((dw.data[0] as number) - 1.5766357e-4) < 1e-10, String(dw.data[0]));
    assert.ok(store.gradChecks.length >= 4 && store.gradChecks.every((g) => g.ok));
    assert.ok(result.steps === 1 && result.keptSteps.includes(0));
  });

  it("TypeScript and Python runs of the same chapter model agree to 1e-12 in every layer", async () => {
    const ts = await run(path.join(root, "test", "python", "fixtures", "parity.ts"));
    const py = await run(path.join(root, "test", "python", "fixtures", "parity.py"));
    assert.equal(ts.result.ok, true, ts.result.error?.message);
    assert.equal(py.result.ok, true, py.result.error?.message);
    const key = (s: Run, c: LayerCall): string => `${s.store.layers.get(c.layer)?.name}:${c.phase}:${c.step}`;
    const top = (s: Run): LayerCall[] => s.events.flatMap((e) => (e.type === "layer/call" && e.call.parent === undefined ? [e.call] : []));
    const pyCalls = new Map(top(py).map((c) => [key(py, c), c]));
    let compared = 0;
    let worst = 0;
    for (const c of top(ts)) {
      const k = key(ts, c);
      const p = pyCalls.get(k);
      assert.ok(p, `the Python run has ${k}`);
      // Every tensor of the call, those the TypeScript trace records as references (trace format 2) included.
      for (const name of Object.keys(ts.store.call(c.seq)?.tensors ?? {})) {
        const t = ts.store.tensor(c.seq, name);
        const q: TensorData | undefined = py.store.tensor(p.seq, name);
        assert.ok(t, `${k} has ${name} in TypeScript`);
        assert.ok(q, `${k} has ${name} in Python too`);
        assert.deepEqual(q.shape, t.shape, `${k}.${name} shape`);
        for (let i = 0; i < t.data.length; i++) {
          const d = Math.abs((t.data[i] as number) - (q.data[i] as number));
          worst = Math.max(worst, d);
          assert.ok(d <= 1e-12, `${k}.${name}[${i}]: TypeScript ${t.data[i]} vs Python ${q.data[i]}`);
          compared++;
        }
      }
      if (c.loss !== undefined) assert.ok(Math.abs(c.loss - (p.loss as number)) <= 1e-12, `${k} loss`);
    }
    assert.ok(compared > 500, `compared ${compared} numbers (worst difference ${worst})`);
    assert.deepEqual(ts.result.keptSteps, py.result.keptSteps);
  });

  it("an endless loop is stopped at the time limit, naming its line", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-py-"));
    const file = path.join(dir, "loop.py");
    fs.writeFileSync(file, "import numpy as np\nx = 0\nwhile True:\n    x += 1\n");
    const t0 = Date.now();
    // 4 s: long enough that NumPy's import (over a second on a loaded machine) is behind the model
    // when the limit strikes, so the site is the loop's line (with 1.5 s it was sometimes the import's).
    const { result, events } = await run(file, { timeLimitMs: 4000 });
    assert.equal(result.error?.kind, "timeout");
    assert.ok(result.error?.site && [3, 4].includes(result.error.site.line), JSON.stringify(result.error));
    assert.match(result.error?.message ?? "", /loop\.py:[34]/);
    assert.ok(Date.now() - t0 < 15_000);
    assert.equal(events.filter((e) => e.type === "run/end").length, 1);
  });

  it("cancel stops the process at once", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-py-"));
    const file = path.join(dir, "loop.py");
    fs.writeFileSync(file, "while True:\n    pass\n");
    const handle = runModel({ file, workerScript, python: { interpreters: [python?.path ?? "python3"] } });
    setTimeout(() => handle.cancel(), 300);
    const t0 = Date.now();
    const result = await handle.result;
    assert.equal(result.error?.kind, "cancelled");
    assert.ok(Date.now() - t0 < 2000);
  });

  it("no Python: one clear message, never a hang", async () => {
    const file = path.join(root, "examples", "python", "04_spiral_model.py");
    const { result } = await run(file, { python: { interpreters: ["/nonexistent/python3", "/nonexistent/python"] } });
    assert.equal(result.ok, false);
    assert.match(result.error?.message ?? "", /needs Python 3\.8 or newer.*found none.*Select Interpreter.*backpropLens\.pythonPath/);
  });

  it("a Python too old: says which and how to fix it", async function () {
    if (process.platform === "win32") this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-py-"));
    const fake = path.join(dir, "python3.6");
    // An interpreter that reports version 3.6 to the tracer's first lines.
    fs.writeFileSync(fake, `#!/bin/sh\nshift 2\nexec ${python?.path} -c "import sys; sys.version_info = (3, 6, 9, 'final', 0); sys.version = '3.6.9'; sys.argv = sys.argv[1:]; exec(open(sys.argv[0]).read())" "$@"\n`);
    fs.chmodSync(fake, 0o755);
    const file = path.join(root, "examples", "python", "04_spiral_model.py");
    const { result } = await run(file, { python: { interpreters: [fake] } });
    assert.match(result.error?.message ?? "", /Python 3\.8 or newer is needed.*Python 3\.6\.9.*Select Interpreter|pythonPath/);
  });

  it("no NumPy: the import error says what to install, at the user's line", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-py-"));
    const file = path.join(dir, "model.py");
    fs.writeFileSync(file, "import sys\nimport numpy_that_is_not_there as np\n");
    const { result } = await run(file);
    assert.equal(result.error?.kind, "import");
    assert.equal(result.error?.site?.line, 2);
    const venv = path.join(dir, "venv");
    const made = spawnSync(python?.path ?? "python3", ["-m", "venv", "--without-pip", venv]);
    if (made.status !== 0) return; // no venv module: the first half is the check
    const bare = await run(path.join(root, "examples", "python", "04_spiral_model.py"), { python: { interpreters: [path.join(venv, "bin", "python")] } });
    assert.equal(bare.result.error?.kind, "import");
    assert.match(bare.result.error?.message ?? "", /NumPy is not installed for the Python that ran the model .*-m pip install numpy/);
  });
});

describe("Python producer: the CLI", function () {
  this.timeout(120_000);
  const python = testPython();
  const cliRun = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [cli, ...args, ...(python ? ["--python", python.path] : [])], { cwd: root, encoding: "utf8", timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it("run model.py prints the layers the book's way and --json writes the trace", () => {
    const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bpl-py-")), "trace.json");
    const r = cliRun("run", path.join("examples", "python", "02_layer_batch.py"), "--json", json);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /dense1 = Layer_Dense\(4, 3\)\s+examples\/python\/02_layer_batch\.py:\d+\s+15 parameters/);
    assert.match(r.stdout, /dinputs \[3, 4\]:\n\s+\[\[ 0\.44 -0\.38 -0\.07 {2}1\.37\]/);
    const trace = JSON.parse(fs.readFileSync(json, "utf8")) as { events: { type: string }[] };
    assert.ok(trace.events.some((e) => e.type === "layer/call"));
  });

  it("check model.py exits 1 naming the layer of a planted bug", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-py-"));
    const file = path.join(dir, "bug.py");
    fs.writeFileSync(
      file,
      [
        "import numpy as np",
        "class Activation_Square:",
        "    def forward(self, inputs):",
        "        self.inputs = inputs",
        "        self.output = inputs ** 2",
        "    def backward(self, dvalues):",
        "        self.dinputs = dvalues * self.inputs  # planted bug: the 2 is missing",
        "sq = Activation_Square()",
        "sq.forward(np.array([[1.0, -2.0, 3.0]]))",
        "sq.backward(np.ones((1, 3)))",
        "",
      ].join("\n"),
    );
    const r = cliRun("check", file);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL sq \(Activation_Square\)\.dinputs/);
    assert.match(r.stderr, /bug\.py:10: gradient check failed: sq\.dinputs\[0\]\[\d\].*check Activation_Square\.backward/);
  });
});
