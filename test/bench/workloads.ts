/**
 * The benchmark workloads, written against the engine's public API the way a model file would
 * (the book's imperative style: `dense1.forward(X)`, …, `optimizer.updateParams(dense1)`).
 *
 * W1  spiral data 300×2 → Dense(2, 64) → ReLU → Dense(64, 3) → softmax + CCE   (the book's model)
 * W2  128×784 → Dense(784, 128) → ReLU → Dense(128, 128) → ReLU → Dense(128, 10) → softmax + CCE
 * W3  256×1024 → Dense(1024, 1024) → ReLU → Dense(1024, 10) → softmax + CCE
 *
 * One step is a full SGD step: forward, loss, backward (every layer's dinputs, as in the book),
 * parameter update. Data are seeded so every run trains the same numbers.
 */
import { Dense, ReLU, Rng, SGD, SoftmaxCategoricalCrossentropy, type Tensor, dot, randn, spiralData, sumRows, zeros } from "../../core/index";

export interface WorkloadSpec {
  id: "W1" | "W2" | "W3";
  title: string;
  batch: number;
  /** Layer widths, input first: [784, 128, 128, 10]. */
  dims: number[];
  learningRate: number;
}

export const WORKLOADS: WorkloadSpec[] = [
  { id: "W1", title: "W1 spiral 300×2 → 64 → 3", batch: 300, dims: [2, 64, 3], learningRate: 1.0 },
  { id: "W2", title: "W2 128×784 → 128 → 128 → 10", batch: 128, dims: [784, 128, 128, 10], learningRate: 0.1 },
  { id: "W3", title: "W3 256×1024 → 1024 → 10", batch: 256, dims: [1024, 1024, 10], learningRate: 0.1 },
];

/** Multiply-add FLOPs (2 per multiply-add) of one step's matrix products. */
export function stepFlops(spec: WorkloadSpec, firstLayerDinputs: boolean): number {
  let f = 0;
  for (let i = 0; i + 1 < spec.dims.length; i++) {
    const mk = 2 * spec.batch * (spec.dims[i] as number) * (spec.dims[i + 1] as number);
    f += mk; // forward X·W
    f += mk; // dweights = Xᵀ·dY
    if (i > 0 || firstLayerDinputs) f += mk; // dinputs = dY·Wᵀ
  }
  return f;
}

/** The inputs and integer class targets of a workload (spiral data for W1, standard normal otherwise). */
export function workloadData(spec: WorkloadSpec): { X: Tensor; y: Tensor } {
  const rng = new Rng(42);
  if (spec.id === "W1") {
    const [X, y] = spiralData(100, 3, rng);
    return { X, y };
  }
  const X = randn([spec.batch, spec.dims[0] as number], rng);
  const classes = spec.dims[spec.dims.length - 1] as number;
  const y = zeros([spec.batch]);
  for (let i = 0; i < spec.batch; i++) y.data[i] = rng.int(classes);
  return { X, y };
}

export interface Model {
  denses: Dense[];
  relus: ReLU[];
  loss: SoftmaxCategoricalCrossentropy;
  optimizer: SGD;
  /** One full SGD step; returns the loss. */
  step(): number;
  /** The same step without the first layer's dinputs (what TF.js and PyTorch compute): a side measurement. */
  stepWithoutFirstDinputs(): number;
}

/**
 * Builds a workload's model (layers constructed here, so a tracer installed before this call
 * observes them, as the runner does).
 */
export function buildModel(spec: WorkloadSpec, X: Tensor, y: Tensor): Model {
  const rng = new Rng(7);
  const denses: Dense[] = [];
  const relus: ReLU[] = [];
  for (let i = 0; i + 1 < spec.dims.length; i++) {
    denses.push(new Dense(spec.dims[i] as number, spec.dims[i + 1] as number, { rng }));
    if (i + 2 < spec.dims.length) relus.push(new ReLU());
  }
  const loss = new SoftmaxCategoricalCrossentropy();
  const optimizer = new SGD({ learningRate: spec.learningRate });
  const last = denses.length - 1;

  function forward(): number {
    let h: Tensor = X;
    for (let i = 0; i <= last; i++) {
      const d = denses[i] as Dense;
      d.forward(h);
      h = d.output;
      if (i < last) {
        const r = relus[i] as ReLU;
        r.forward(h);
        h = r.output;
      }
    }
    return loss.forward(h, y);
  }

  function update(): void {
    optimizer.preUpdateParams();
    for (const d of denses) optimizer.updateParams(d);
    optimizer.postUpdateParams();
  }

  return {
    denses,
    relus,
    loss,
    optimizer,
    step(): number {
      const l = forward();
      loss.backward(loss.output, y);
      let g = loss.dinputs;
      for (let i = last; i >= 0; i--) {
        const d = denses[i] as Dense;
        d.backward(g);
        g = d.dinputs;
        if (i > 0) {
          const r = relus[i - 1] as ReLU;
          r.backward(g);
          g = r.dinputs;
        }
      }
      update();
      return l;
    },
    stepWithoutFirstDinputs(): number {
      const l = forward();
      loss.backward(loss.output, y);
      let g = loss.dinputs;
      for (let i = last; i >= 1; i--) {
        const d = denses[i] as Dense;
        d.backward(g);
        g = d.dinputs;
        const r = relus[i - 1] as ReLU;
        r.backward(g);
        g = r.dinputs;
      }
      // First layer: dweights and dbiases only (the kernel called directly through `dot`).
      const d0 = denses[0] as Dense;
      d0.dweights = dot(d0.inputs, g, { transA: true });
      d0.dbiases = sumRows(g);
      update();
      return l;
    },
  };
}

/** Logits and integer targets for the softmax + cross-entropy backward comparison. */
export function softmaxCase(n: number, k: number): { logits: Tensor; y: Tensor } {
  const rng = new Rng(n * 31 + k);
  const logits = randn([n, k], rng);
  const y = zeros([n]);
  for (let i = 0; i < n; i++) y.data[i] = rng.int(k);
  return { logits, y };
}
