/**
 * TensorFlow.js side of `npm run bench`: the same three training steps with @tensorflow/tfjs, in
 * Node, on the backend given as the first argument ("cpu": the plain-JavaScript kernels, "wasm":
 * tfjs-backend-wasm, its .wasm files loaded from node_modules with setWasmPaths). One process per
 * backend, run by run.mjs.
 *
 * Written the way TF.js is meant to be used: variables, a loss function, `optimizer.minimize` with
 * `tf.train.sgd` inside `tf.tidy`, one-hot labels with `tf.losses.softmaxCrossEntropy`. TF.js computes
 * in float32 (the engine in float64), and like every autodiff framework it does not compute the
 * gradient with respect to the input batch (the first layer's dinputs), which the book's engine does.
 *
 * Timing: tinybench, one sample per step, warm-up first, median (see timing.ts in this folder).
 * Prints one line `@@RESULT <json>`.
 */
import { createRequire } from "node:module";
import path from "node:path";

import { Bench } from "tinybench";

const require = createRequire(import.meta.url);
const backend = process.argv[2] ?? "cpu";
const quick = process.argv.includes("--quick");
// Time budgets are scaled by `--scale=x` (run.mjs splits a run into rounds) and by `--quick` (¼).
const scale = (quick ? 0.25 : 1) * Number(process.argv.find((a) => a.startsWith("--scale="))?.slice(8) ?? 1);
const q = (ms) => Math.max(50, ms * scale);
const n = (count) => Math.max(2, Math.ceil(count * scale));

// TF.js greets Node users on stdout; keep stdout for the result line.
const origLog = console.log;
console.log = (...a) => process.stderr.write(`[tfjs-${backend}] ${a.join(" ")}\n`);
const tf = require("@tensorflow/tfjs");
if (backend === "wasm") {
  const wasm = require("@tensorflow/tfjs-backend-wasm");
  const dir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
  wasm.setWasmPaths(path.join(dir, "dist") + path.sep);
}
console.log = origLog;

const WORKLOADS = [
  { id: "W1", batch: 300, dims: [2, 64, 3], learningRate: 1.0 },
  { id: "W2", batch: 128, dims: [784, 128, 128, 10], learningRate: 0.1 },
  { id: "W3", batch: 256, dims: [1024, 1024, 10], learningRate: 0.1 },
];

function log(msg) {
  process.stderr.write(`[tfjs-${backend}] ${msg}\n`);
}

/** A seeded LCG for the data (the values do not matter for speed; the shapes and ReLU sparsity do). */
function generator(seed) {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return { u, normal: () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) };
}

function spiral(samples, classes, g) {
  const X = new Float32Array(samples * classes * 2);
  const y = new Int32Array(samples * classes);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < samples; i++) {
      const r = i / (samples - 1);
      const t = c * 4 + (4 * i) / (samples - 1) + g.normal() * 0.2;
      const row = c * samples + i;
      X[row * 2] = r * Math.sin(t * 2.5);
      X[row * 2 + 1] = r * Math.cos(t * 2.5);
      y[row] = c;
    }
  }
  return { X, y };
}

function budget(id) {
  if (id === "W1") return { time: q(1500), iterations: n(100), warmupTime: q(500), warmupIterations: 100 };
  if (id === "W2") return { time: q(2500), iterations: n(15), warmupTime: q(500), warmupIterations: 5 };
  // W3: about 0.5 s (WASM) and 2 s (CPU) per step
  return { time: q(3000), iterations: n(backend === "cpu" ? 4 : 6), warmupTime: 0, warmupIterations: quick ? 1 : 2 };
}

async function main() {
  await tf.setBackend(backend);
  await tf.ready();
  const env = tf.env();
  const info = {
    impl: `tfjs-${backend}`,
    dtype: "float32",
    version: tf.version.tfjs,
    backend: tf.getBackend(),
    wasmSimd: backend === "wasm" ? env.getBool("WASM_HAS_SIMD_SUPPORT") : undefined,
    wasmThreads: backend === "wasm" ? env.getBool("WASM_HAS_MULTITHREAD_SUPPORT") : undefined,
  };
  log(`backend ${info.backend}${backend === "wasm" ? ` (SIMD ${info.wasmSimd}, threads ${info.wasmThreads})` : ""}`);
  const steps = [];
  for (const w of WORKLOADS) {
    const g = generator(42);
    const classes = w.dims[w.dims.length - 1];
    let Xdata;
    let ydata;
    if (w.id === "W1") ({ X: Xdata, y: ydata } = spiral(100, 3, g));
    else {
      Xdata = Float32Array.from({ length: w.batch * w.dims[0] }, () => g.normal());
      ydata = Int32Array.from({ length: w.batch }, () => Math.floor(g.u() * classes));
    }
    const X = tf.tensor2d(Xdata, [w.batch, w.dims[0]]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(ydata, "int32"), classes).toFloat());
    const vars = [];
    for (let i = 0; i + 1 < w.dims.length; i++) {
      vars.push(tf.variable(tf.tidy(() => tf.randomNormal([w.dims[i], w.dims[i + 1]], 0, 1, "float32", 7 + i).mul(0.01))));
      vars.push(tf.variable(tf.zeros([w.dims[i + 1]])));
    }
    const optimizer = tf.train.sgd(w.learningRate);
    const nLayers = vars.length / 2;
    const lossFn = () => {
      let h = X;
      for (let i = 0; i < nLayers; i++) {
        h = tf.add(tf.matMul(h, vars[2 * i]), vars[2 * i + 1]);
        if (i + 1 < nLayers) h = tf.relu(h);
      }
      return tf.losses.softmaxCrossEntropy(y, h);
    };
    let loss = NaN;
    const step = () => {
      loss = tf.tidy(() => optimizer.minimize(lossFn, true, vars).dataSync()[0]);
    };
    log(`${w.id} …`);
    const b = budget(w.id);
    const bench = new Bench({ ...b, throws: true });
    bench.add(w.id, step);
    bench.runSync();
    const raw = bench.tasks[0].result.latency.samples;
    const sorted = [...raw].sort((a, c) => a - c);
    const qt = (p) => {
      const x = (sorted.length - 1) * p;
      const i = Math.floor(x);
      return sorted[i] + (x - i) * ((sorted[Math.min(i + 1, sorted.length - 1)] ?? sorted[i]) - sorted[i]);
    };
    const timing = { median: qt(0.5), p25: qt(0.25), p75: qt(0.75), min: sorted[0], samples: sorted.length, raw: raw.map((x) => Math.round(x * 1e4) / 1e4) };
    log(`${w.id}: ${timing.median.toFixed(3)} ms, loss ${loss.toFixed(4)}, tensors alive ${tf.memory().numTensors}`);
    steps.push({ id: w.id, timing, loss });
    optimizer.dispose();
    tf.dispose([X, y, ...vars]);
  }
  process.stdout.write(`@@RESULT ${JSON.stringify({ ...info, steps })}\n`);
}

main().catch((e) => {
  process.stderr.write(`[tfjs-${backend}] failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
