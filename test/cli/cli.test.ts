/**
 * The command-line runner on every example (asserting the printed values) and on every kind of bad
 * input (asserting the message names file, line, layer and shapes). Runs `dist/cli.js`, so
 * `npm run build` must have run (npm run test:unit does).
 */
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RunModel, TRACE_FORMAT_VERSION, type TraceEvent, decodeTrace } from "../../core/host";

const root = path.join(__dirname, "..", "..", "..");
const cli = path.join(root, "dist", "cli.js");

interface Out {
  status: number | null;
  stdout: string;
  stderr: string;
}

function backpropLens(...args: string[]): Out {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const example = (name: string): string => path.join("examples", name);
const fixture = (name: string): string => path.join("test", "fixtures", "models", name);

describe("CLI: backprop-lens run|check", function () {
  this.timeout(120_000);

  before(() => {
    assert.ok(fs.existsSync(cli), "dist/cli.js exists (npm run build)");
  });

  it("01-single-neuron: the chain rule in the book's order, and 6 → 5.985 after one step", () => {
    const r = backpropLens("run", example("01-single-neuron.ts"));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^5\.985$/m);
    assert.match(r.stdout, /drelu_dz\s+=\s+dvalue · ∂relu\/∂z\s+= 1\. · 1\. = 1\./);
    assert.match(r.stdout, /drelu_dx0\s+=\s+drelu_dxw0 · dmul_dx0\s+= 1\. · -3\. = -3\./);
    assert.match(r.stdout, /gradients: x0 -3\., w0 1\., x1 -1\., w1 -2\., x2 2\., w2 3\., b 1\./);
  });

  it("02-layer-batch: dinputs, dweights and dbiases of the chapter", () => {
    const r = backpropLens("run", example("02-layer-batch.ts"));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /dense1 = Dense\(4, 3\)\s+examples\/02-layer-batch\.ts:\d+\s+15 parameters/);
    assert.match(r.stdout, /dinputs \[3, 4\]:\n\s+\[\[ 0\.44 -0\.38 -0\.07 {2}1\.37\]\n\s+\[ 0\.88 -0\.76 -0\.14 {2}2\.74\]\n\s+\[ 1\.32 -1\.14 -0\.21 {2}4\.11\]\]/);
    assert.match(r.stdout, /dweights \[4, 3\]:\n\s+\[\[ 0\.5 {2}0\.5 {2}0\.5\]\n\s+\[20\.1 20\.1 20\.1\]/);
    assert.match(r.stdout, /dbiases \[1, 3\]:\n\s+\[\[6\. 6\. 6\.\]\]/);
    // The SGD step of the layer-relu case: weights printed by the model itself.
    assert.match(r.stdout, /\[\[ 0\.179515 {3}0\.5003665 -0\.262746 \]/);
  });

  it("03-softmax-jacobian: the Jacobian, and combined = separate", () => {
    const r = backpropLens("run", example("03-softmax-jacobian.ts"));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\[\[ 0\.21 -0\.07 -0\.14\]\n \[-0\.07 {2}0\.09 -0\.02\]\n \[-0\.14 -0\.02 {2}0\.16\]\]/);
    assert.match(r.stdout, /\[\[-0\.1 {9}0\.03333333 {2}0\.06666667\]/);
    const diff = /largest difference: (\S+)/.exec(r.stdout);
    assert.ok(diff && Number(diff[1]) < 1e-15, `largest difference ${diff?.[1]}`);
  });

  it("04-spiral-model: loss ≈ ln 3 before training, and every layer's gradients", () => {
    const r = backpropLens("run", example("04-spiral-model.ts"));
    assert.equal(r.status, 0, r.stderr);
    const loss = /step 0: loss (\S+), accuracy/.exec(r.stdout);
    assert.ok(loss);
    assert.ok(Math.abs(Number(loss[1]) - Math.log(3)) < 1e-3, `loss ${loss[1]}`);
    for (const name of ["dense1 = Dense(2, 3)", "activation1 = ReLU", "dense2 = Dense(3, 3)", "lossActivation = SoftmaxCategoricalCrossentropy"]) {
      assert.ok(r.stdout.includes(name), name);
    }
    assert.match(r.stdout, /dweights \[2, 3\]:/);
  });

  it("05-spiral-training: 10,000 epochs reach well over 90% accuracy", () => {
    const r = backpropLens("run", example("05-spiral-training.ts"));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ran 10001 steps/);
    const last = /step 10000: loss (\S+), accuracy (\S+)/.exec(r.stdout);
    assert.ok(last, r.stdout.slice(-500));
    assert.ok(Number(last[2]) > 0.94, `accuracy ${last[2]}`);
  });

  it("06-custom-layer: the user's layer is traced and passes the gradient check", () => {
    const run = backpropLens("run", example("06-custom-layer.ts"));
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /leaky = LeakyReLU/);
    const check = backpropLens("check", example("06-custom-layer.ts"));
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /ok {3}leaky \(LeakyReLU\)\.dinputs: \d+ (of \d+ )?elements/);
    assert.match(check.stdout, /ok {3}dense1 \(Dense\(2, 8\)\)\.dweights: 16 elements/);
  });

  it("check: fails naming the layer, tensor, element and line of a wrong backward", () => {
    const r = backpropLens("check", fixture("wrong-backward.ts"));
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL sigmoid \(Sigmoid\)\.dinputs/);
    assert.match(r.stderr, /wrong-backward\.ts:28: gradient check failed: sigmoid\.dinputs\[\d+\]\[\d+\] is \S+ but central differences give \S+/);
  });

  it("check: a layer whose forward and backward are arrow-function fields is traced and its wrong backward fails", () => {
    const r = backpropLens("check", fixture("arrow-fields.ts"));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /sigmoid = Sigmoid   \S*arrow-fields\.ts:22\n  forward  line 26/);
    assert.match(r.stdout, /FAIL sigmoid \(Sigmoid\)\.dinputs/);
    assert.match(r.stderr, /arrow-fields\.ts:31: gradient check failed: sigmoid\.dinputs\[\d+\]\[\d+\] is \S+ but central differences give \S+/);
  });

  it("check: the book's plain classes (no `extends Layer`) are traced as layers, checked, updated; a planted bug fails", () => {
    const r = backpropLens("check", fixture("plain-classes.ts"));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    // Named after their variables, at the line that built them, with their parameters counted.
    assert.match(r.stdout, /dense1 = MyDense   \S*plain-classes\.ts:40   24 parameters\n  forward  line 46/);
    assert.match(r.stdout, /tanh = Tanh   \S*plain-classes\.ts:41\n  forward  line 47/);
    assert.match(r.stdout, /ok   dense1 \(MyDense\)\.dweights/);
    assert.match(r.stdout, /ok   dense2 \(MyDense\)\.dinputs/);
    assert.match(r.stdout, /FAIL tanh \(Tanh\)\.dinputs/);
    assert.match(r.stderr, /plain-classes\.ts:52: gradient check failed: tanh\.dinputs\[\d+\]\[\d+\] is \S+ but central differences give \S+.*check Tanh\.backward/);
    // The optimizer updated the hand-written Dense (the loss moves), and the user's objects keep their own keys.
    const losses = [...r.stdout.matchAll(/^loss (\S+)$/gm)].map((m) => Number(m[1]));
    assert.equal(losses.length, 3);
    assert.notEqual(losses[2], losses[0]);
    assert.match(r.stdout, /^keys \["output","dinputs"\] true$/m);
  });

  it("the note for a step with too many layer calls names the file and line of the first call left out, not ?", () => {
    const r = backpropLens("run", fixture("too-many-calls.ts"));
    assert.equal(r.status, 0, r.stderr);
    const note = /^information: (.*): step 0 made more than 512 layer calls/m.exec(r.stdout);
    assert.ok(note, r.stdout.slice(-2000));
    assert.equal(note[1], path.join("test", "fixtures", "models", "too-many-calls.ts:8"));
    assert.doesNotMatch(r.stdout, /^\w+: \?:/m);
  });

  it("a closed output pipe (backprop-lens run … | head -1) ends the CLI quietly, not with an unhandled EPIPE", async () => {
    const child = spawn(process.execPath, [cli, "run", example("02-layer-batch.ts")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let first = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    // Like `head -1`: read the first line, then close the pipe while the CLI still has lines to write.
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      if (first === "") {
        first = s.split("\n")[0] ?? "";
        child.stdout.destroy();
      }
    });
    const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    assert.match(first, /^\[\[ 0\.44 -0\.38 -0\.07  1\.37\]/);
    assert.equal(stderr, "");
    assert.equal(status, 0);
  });

  it("--json writes the whole trace in the documented format", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bpl-")), "trace.json");
    const r = backpropLens("run", example("02-layer-batch.ts"), "--json", out);
    assert.equal(r.status, 0, r.stderr);
    const trace = decodeTrace(fs.readFileSync(out, "utf8"));
    assert.equal(trace.format, "backprop-lens-trace");
    assert.equal(trace.events[0]?.type, "run/start");
    assert.equal(trace.events[trace.events.length - 1]?.type, "run/end");
    const call = trace.events.find((e) => e.type === "layer/call" && e.call.phase === "backward");
    assert.ok(call?.type === "layer/call");
    assert.deepEqual(call.call.tensors.dbiases?.shape, [1, 3]);
    assert.deepEqual(Array.from(call.call.tensors.dbiases?.data ?? []), [6, 6, 6]);
  });

  it("--json writes trace format 2: shared tensors as references, the same numbers as the committed version 1 recording", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bpl-")), "trace.json");
    const r = backpropLens("run", example("02-layer-batch.ts"), "--json", out);
    assert.equal(r.status, 0, r.stderr);
    const v2 = decodeTrace(fs.readFileSync(out, "utf8"));
    const v1 = decodeTrace(fs.readFileSync(path.join(root, "test", "fixtures", "traces", "02-layer-batch.json"), "utf8"));
    assert.equal(v2.version, TRACE_FORMAT_VERSION);
    assert.equal(v1.version, 1);
    const load = (events: TraceEvent[]): RunModel => {
      const m = new RunModel({ runId: 1, file: "/m.ts", startedAt: 0 });
      for (const e of events) m.ingest(e);
      return m;
    };
    const a = load(v1.events);
    const b = load(v2.events);
    assert.ok(b.calls.some((c) => c.refs !== undefined), "some tensors are references");
    assert.deepEqual(
      b.calls.map((c) => [c.seq, c.layer, c.phase, Object.keys(c.tensors).sort()]),
      a.calls.map((c) => [c.seq, c.layer, c.phase, Object.keys(c.tensors).sort()]),
    );
    for (const c of a.calls) {
      for (const name of Object.keys(c.tensors)) {
        const want = a.tensor(c.seq, name);
        const got = b.tensor(c.seq, name);
        assert.ok(want && got, `${c.seq}:${name}`);
        assert.deepEqual(got.shape, want.shape, `${c.seq}:${name}`);
        assert.deepEqual(Array.from(got.data), Array.from(want.data), `${c.seq}:${name}`);
        // Statistics are recomputed by today's (overflow-safe, two-pass) formulas: equal to the last bits.
        const got2 = b.call(c.seq)?.tensors[name]?.stats as unknown as Record<string, number>;
        const want2 = c.tensors[name]?.stats as unknown as Record<string, number>;
        for (const [k, v] of Object.entries(want2)) assert.ok(got2[k] === v || Math.abs((got2[k] as number) - v) <= 1e-14 * Math.max(1, Math.abs(v)), `${c.seq}:${name} statistics: ${k} ${got2[k]} vs ${v}`);
      }
    }
  });

  it("BACKPROP_LENS_CPU_PROFILE (debug-only) writes a CPU profile of the model's worker thread; without it, nothing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-prof-"));
    try {
      const r = spawnSync(process.execPath, [cli, "run", example("04-spiral-model.ts")], { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, BACKPROP_LENS_CPU_PROFILE: dir } });
      assert.equal(r.status, 0, r.stderr);
      const files = fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
      assert.equal(files.length, 1, `one profile in ${dir}: ${files.join(", ")}`);
      const profile = JSON.parse(fs.readFileSync(path.join(dir, files[0] as string), "utf8")) as { nodes: { callFrame: { functionName: string } }[]; samples: number[]; timeDeltas: number[] };
      assert.ok(profile.samples.length > 0 && profile.samples.length === profile.timeDeltas.length);
      // The recorder's wrapper of every layer call is in it: the profile is of the thread that ran the model.
      assert.ok(profile.nodes.some((n) => n.callFrame.functionName === "traced"), "the recorder's traced() is in the profile");
      const explicit = path.join(dir, "named.cpuprofile");
      const env = { ...process.env, BACKPROP_LENS_CPU_PROFILE: explicit };
      assert.equal(spawnSync(process.execPath, [cli, "run", example("04-spiral-model.ts")], { cwd: root, encoding: "utf8", timeout: 120_000, env }).status, 0);
      assert.ok(fs.existsSync(explicit), "a path ending in .cpuprofile is the file itself");
      const env2 = { ...process.env };
      delete env2.BACKPROP_LENS_CPU_PROFILE;
      const before = fs.readdirSync(dir).length;
      assert.equal(spawnSync(process.execPath, [cli, "run", example("04-spiral-model.ts")], { cwd: root, encoding: "utf8", timeout: 120_000, env: env2 }).status, 0);
      assert.equal(fs.readdirSync(dir).length, before, "off by default");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("bad input: a clear message with file and line, exit status 1", () => {
    const cases: [string, string[], RegExp][] = [
      ["syntax-error.ts", [], /syntax-error\.ts:5:1: syntax error: Expected "\)" but found "console"/],
      ["missing-import.ts", [], /missing-import\.ts:1:17: import error: "backprop-lens" has no export named "Dnese" \(did you mean "Dense"\?\)$/m],
      // Every missing name at once, each with the engine's name for the book's class.
      ["book-names.ts", [], /book-names\.ts:2:\d+: import error: "backprop-lens" has no export named "Activation_ReLU" \(did you mean "ReLU"\?\), "Layer_Dense" \(did you mean "Dense"\?\), "Optimizer_Adam" \(did you mean "Adam"\?\)$/m],
      ["missing-file.ts", [], /missing-file\.ts:2:\d+: import error: Could not resolve "\.\/does-not-exist"/],
      ["throws.ts", [], /throws\.ts:4: the data file is empty \(called from throws\.ts:8\)/],
      [
        "shape-mismatch.ts",
        [],
        /shape-mismatch\.ts:10: dense2\.forward failed: Dense\.forward: inputs are \[300, 64\] but the weights are \[3, 3\].*came from activation1\.output \(ReLU, built at shape-mismatch\.ts:5\)\. dense2 is Dense\(3, 3\), built at shape-mismatch\.ts:6/,
      ],
      ["nan.ts", [], /nan\.ts:12: NaN first appeared in dense2\.output\[0\]\[0\] of shape \[300, 3\] at step 1/],
      ["infinite-loop.ts", ["--time-limit", "1"], /infinite-loop\.ts: the model ran longer than the time limit of 1 s and was stopped at infinite-loop\.ts:[67]/],
      // The memory limit counts everything the model adds to its process (heap, tensors, raw arrays), and names the line it stopped at.
      ["memory-hog.ts", ["--memory-limit", "128", "--time-limit", "60"], /memory-hog\.ts: the model used \d+ MB, more than the memory limit of 128 MB, and was stopped at memory-hog\.ts:[5-7]/],
      ["tensor-hog.ts", ["--memory-limit", "256"], /tensor-hog\.ts(:7: dense\.forward failed: the model holds \d+ MB of tensors, over the memory limit of 256 MB|: the model used \d+ MB, more than the memory limit of 256 MB, and was stopped at tensor-hog\.ts:[5-8])/],
      // A plain class that treats a Tensor as nested arrays: the layer, the shape, where it came from, and what to use instead.
      ["tensor-as-array.ts", [], /tensor-as-array\.ts:7: act\.forward failed: TypeError: inputs\.map is not a function; its inputs \[30, 4\] came from dense1\.output \(Dense\(2, 4\), built at tensor-as-array\.ts:15\)\. act is Tanh, built at tensor-as-array\.ts:16\. Hint: the engine's tensors are not arrays: use map, zip/],
      ["huge-tensor.ts", [], /huge-tensor\.ts:3: dense1 = new Dense\(…\) failed: a tensor of shape \[100000, 100000\] has 10,000,000,000 elements/],
    ];
    for (const [name, args, message] of cases) {
      it(name, () => {
        const r = backpropLens("run", fixture(name), ...args);
        assert.equal(r.status, 1, `${name} exit status; stderr: ${r.stderr}`);
        assert.match(r.stderr, message);
      });
    }

    it("usage errors exit with status 2", () => {
      assert.equal(backpropLens("fly", "x.ts").status, 2);
      assert.equal(backpropLens("run").status, 2);
      assert.equal(backpropLens("run", "does-not-exist.ts").status, 2);
      assert.equal(backpropLens("--help").status, 0);
    });
  });
});
