/**
 * Every layer's backward agrees with central differences in float64, on random shapes and values
 * (fast-check), and a deliberately wrong backward is caught.
 */
import * as assert from "node:assert/strict";
import fc from "fast-check";
import {
  CategoricalCrossentropy,
  Dense,
  Layer,
  ReLU,
  Rng,
  Sequential,
  Softmax,
  SoftmaxCategoricalCrossentropy,
  type Tensor,
  checkTensor,
  gradCheckLayer,
  gradCheckModel,
  map,
  mul,
  randn,
  relu,
  sum,
  value,
  zip,
} from "../../core/index";

const shape = fc.record({ n: fc.integer({ min: 1, max: 6 }), i: fc.integer({ min: 1, max: 6 }), o: fc.integer({ min: 1, max: 6 }), seed: fc.integer({ min: 0, max: 1e6 }) });
const runs = { numRuns: 60 };

function failures(report: ReturnType<typeof gradCheckLayer>): string {
  return report.tensors
    .filter((t) => !t.ok)
    .map((t) => `${t.name} worst ${JSON.stringify(t.worst)}`)
    .join("; ");
}

describe("gradient checks (central differences, float64)", () => {
  it("Dense: dinputs, dweights and dbiases", () => {
    fc.assert(
      fc.property(shape, ({ n, i, o, seed }) => {
        const rng = new Rng(seed);
        const layer = new Dense(i, o, { rng, weightScale: 1 });
        layer.biases = randn([1, o], rng);
        const report = gradCheckLayer(layer, [randn([n, i], rng)], undefined, { rng });
        assert.ok(report.ok, failures(report));
        assert.deepEqual(
          report.tensors.map((t) => t.name),
          ["dinputs", "dweights", "dbiases"],
        );
        assert.equal(report.tensors[1]?.checked, i * o);
      }),
      runs,
    );
  });

  it("ReLU: dinputs (points at the kink are skipped, not failed)", () => {
    fc.assert(
      fc.property(shape, ({ n, i, seed }) => {
        const rng = new Rng(seed);
        const x = randn([n, i], rng);
        x.data[0] = 0; // exactly at the kink
        const report = gradCheckLayer(new ReLU(), [x], undefined, { rng });
        assert.ok(report.ok, failures(report));
        assert.equal(report.tensors[0]?.kinks, 1);
      }),
      runs,
    );
  });

  it("Softmax: dinputs through each sample's Jacobian", () => {
    fc.assert(
      fc.property(shape, ({ n, o, seed }) => {
        const rng = new Rng(seed);
        const report = gradCheckLayer(new Softmax(), [map(randn([n, o + 1], rng), (v) => 3 * v)], undefined, { rng });
        assert.ok(report.ok, failures(report));
      }),
      runs,
    );
  });

  it("CategoricalCrossentropy: dinputs of the mean loss, sparse and one-hot targets", () => {
    fc.assert(
      fc.property(shape, fc.boolean(), ({ n, o, seed }, oneHot) => {
        const rng = new Rng(seed);
        const k = o + 1;
        const probs = new Softmax();
        probs.forward(randn([n, k], rng));
        const classes = Array.from({ length: n }, () => rng.int(k));
        const y = oneHot ? classes.map((c) => Array.from({ length: k }, (_, j) => (j === c ? 1 : 0))) : classes;
        const report = gradCheckLayer(new CategoricalCrossentropy(), [probs.output, y], undefined, { rng });
        assert.ok(report.ok, failures(report));
      }),
      runs,
    );
  });

  it("SoftmaxCategoricalCrossentropy: the combined (ŷ − y)/n is the gradient of the mean loss", () => {
    fc.assert(
      fc.property(shape, ({ n, o, seed }) => {
        const rng = new Rng(seed);
        const k = o + 1;
        const y = Array.from({ length: n }, () => rng.int(k));
        const report = gradCheckLayer(new SoftmaxCategoricalCrossentropy(), [randn([n, k], rng), y], undefined, { rng });
        assert.ok(report.ok, failures(report));
      }),
      runs,
    );
  });

  it("a user layer's own backward is checked the same way", () => {
    class Tanh extends Layer {
      forward(inputs: Tensor): Tensor {
        this.inputs = inputs;
        this.output = map(inputs, Math.tanh);
        return this.output;
      }
      backward(dvalues: Tensor): Tensor {
        this.dinputs = zip(dvalues, this.output, (d, t) => d * (1 - t * t));
        return this.dinputs;
      }
    }
    fc.assert(
      fc.property(shape, ({ n, i, seed }) => {
        const rng = new Rng(seed);
        const report = gradCheckLayer(new Tanh(), [randn([n, i], rng)], undefined, { rng });
        assert.ok(report.ok, failures(report));
      }),
      runs,
    );
  });

  it("catches a deliberately wrong backward and names the worst element", () => {
    class BrokenSigmoid extends Layer {
      forward(inputs: Tensor): Tensor {
        this.inputs = inputs;
        this.output = map(inputs, (x) => 1 / (1 + Math.exp(-x)));
        return this.output;
      }
      backward(dvalues: Tensor): Tensor {
        this.dinputs = zip(dvalues, this.output, (d, s) => d * s); // forgets (1 − s)
        return this.dinputs;
      }
    }
    const rng = new Rng(3);
    const report = gradCheckLayer(new BrokenSigmoid(), [randn([4, 3], rng)], undefined, { rng });
    assert.equal(report.ok, false);
    const t = report.tensors[0];
    assert.equal(t?.name, "dinputs");
    assert.equal(t?.ok, false);
    assert.equal(t?.worst?.index.length, 2);
    assert.ok((t?.worst?.absErr ?? 0) > 1e-3);
  });

  it("catches a Dense whose dweights forgot the transpose", () => {
    class WrongDense extends Dense {
      override backward(dvalues: Tensor): Tensor {
        super.backward(dvalues);
        // dweights computed as dvaluesᵀ · inputs, then reshaped: the right numbers in the wrong places
        const d = this.dweights;
        const [r, c] = d.shape as [number, number];
        const t = new Float64Array(d.data.length);
        for (let a = 0; a < r; a++) for (let b = 0; b < c; b++) t[b * r + a] = d.data[a * c + b] as number;
        this.dweights = { shape: d.shape, data: t };
        return this.dinputs;
      }
    }
    const rng = new Rng(5);
    const report = gradCheckLayer(new WrongDense(3, 2, { rng, weightScale: 1 }), [randn([4, 3], rng)], undefined, { rng });
    assert.equal(report.tensors.find((t) => t.name === "dweights")?.ok, false);
    assert.equal(report.tensors.find((t) => t.name === "dinputs")?.ok, true);
  });

  it("does not judge rows where cross-entropy clips the prediction (the loss is flat there)", () => {
    const logits = [
      [30, 0, 0], // the target class 1 has probability ≈ 1e-13 < 1e-7: clipped
      [0.1, 0.2, 0.3],
    ];
    const report = gradCheckLayer(new SoftmaxCategoricalCrossentropy(), [logits, [1, 2]]);
    const t = report.tensors[0];
    assert.equal(t?.ok, true);
    assert.equal(t?.kinks, 3);
    assert.equal(t?.checked, 3);
  });

  it("samples large tensors deterministically and reports how many were checked", () => {
    const rng = new Rng(9);
    const layer = new Dense(40, 30, { rng });
    const a = gradCheckLayer(layer, [randn([8, 40], new Rng(1))], undefined, { rng: new Rng(2), maxElements: 100 });
    const b = gradCheckLayer(layer, [randn([8, 40], new Rng(1))], undefined, { rng: new Rng(2), maxElements: 100 });
    const dw = a.tensors.find((t) => t.name === "dweights");
    assert.equal(dw?.checked, 100);
    assert.equal(dw?.total, 1200);
    assert.deepEqual(dw?.worst, b.tensors.find((t) => t.name === "dweights")?.worst);
  });

  it("stops each tensor after a few elements once the deadline has passed", () => {
    const rng = new Rng(4);
    const report = gradCheckLayer(new Dense(30, 20, { rng }), [randn([10, 30], new Rng(5))], undefined, { rng, deadline: Date.now() - 1 });
    for (const t of report.tensors) assert.equal(t.checked + t.kinks, 8, `${t.name} checked ${t.checked}`);
    assert.ok(report.ok);
  });

  describe("checking many elements per forward pass (built-in forwards)", () => {
    /** Counts calls of a built-in forward while `fn` runs (the method stays the prototype's, so the fast path applies). */
    function countingForwards<T>(cls: { prototype: { forward: (...a: never[]) => unknown } }, fn: () => T): { result: T; calls: number } {
      const proto = cls.prototype as { forward: (...a: unknown[]) => unknown };
      const original = proto.forward;
      let calls = 0;
      proto.forward = function (this: unknown, ...a: unknown[]): unknown {
        calls++;
        return original.apply(this, a);
      };
      try {
        return { result: fn(), calls };
      } finally {
        proto.forward = original;
      }
    }

    it("a Dense(784, 128) on 256 samples: 128 elements of each gradient in a few dozen forward passes, not 770", () => {
      const rng = new Rng(21);
      const layer = new Dense(784, 128, { rng });
      layer.biases = randn([1, 128], rng);
      const { result, calls } = countingForwards(Dense, () => gradCheckLayer(layer, [randn([256, 784], rng)], undefined, { rng, maxElements: 128 }));
      assert.ok(result.ok, failures(result));
      assert.deepEqual(
        result.tensors.map((t) => [t.name, t.checked + t.kinks]),
        [["dinputs", 128], ["dweights", 128], ["dbiases", 128]],
      );
      // One element at a time this is 2 + 3 + 2·3·128 = 773 passes; by parts, 2 per group of distinct rows (columns).
      assert.ok(calls <= 60, `${calls} forward passes`);
    });

    it("finds a single wrong element of each Dense gradient among many checked together", () => {
      class OneWrongDense extends Dense {
        constructor(
          private readonly tensorName: "dinputs" | "dweights" | "dbiases",
          private readonly at: number,
          nIn: number,
          nOut: number,
          rng: Rng,
        ) {
          super(nIn, nOut, { rng, weightScale: 1 });
        }
        override backward(dvalues: Tensor): Tensor {
          super.backward(dvalues);
          const t = this[this.tensorName];
          const data = t.data.slice();
          data[this.at] = (data[this.at] as number) + 0.01;
          this[this.tensorName] = { shape: t.shape, data };
          return this.dinputs;
        }
      }
      for (const [name, at, index] of [
        ["dinputs", 7 * 20 + 3, [7, 3]],
        ["dweights", 5 * 30 + 11, [5, 11]],
        ["dbiases", 17, [0, 17]],
      ] as const) {
        const rng = new Rng(8);
        const layer = new OneWrongDense(name, at, 20, 30, rng);
        const report = gradCheckLayer(layer, [randn([40, 20], rng)], undefined, { rng, maxElements: 2000 });
        const bad = report.tensors.filter((t) => !t.ok);
        assert.deepEqual(bad.map((t) => t.name), [name], failures(report));
        assert.deepEqual(bad[0]?.worst?.index, index);
        assert.ok(Math.abs((bad[0]?.worst?.absErr ?? 0) - 0.01) < 1e-6, JSON.stringify(bad[0]?.worst));
      }
    });

    it("gives the same verdicts and numbers (to rounding) as checking one element at a time", () => {
      // An override that only calls the built-in forward makes the check treat the layer as unknown.
      class OpaqueDense extends Dense {
        override forward(inputs: Tensor): Tensor {
          return super.forward(inputs);
        }
      }
      const make = <T extends Dense>(C: new (i: number, o: number, opts: { rng: Rng; weightScale: number }) => T): T => {
        const l = new C(9, 7, { rng: new Rng(3), weightScale: 1 });
        l.biases = randn([1, 7], new Rng(4));
        return l;
      };
      const X = randn([11, 9], new Rng(5));
      const fast = gradCheckLayer(make(Dense), [X], undefined, { rng: new Rng(6) });
      const slow = gradCheckLayer(make(OpaqueDense), [X], undefined, { rng: new Rng(6) });
      assert.ok(fast.ok && slow.ok);
      for (let t = 0; t < 3; t++) {
        const f = fast.tensors[t];
        const s = slow.tensors[t];
        assert.equal(f?.checked, s?.checked);
        assert.deepEqual(f?.worst?.index, s?.worst?.index);
        assert.ok(Math.abs((f?.worst?.numeric ?? 0) - (s?.worst?.numeric ?? 0)) <= 1e-7 * Math.max(1, Math.abs(s?.worst?.numeric ?? 0)));
      }
    });

    it("still catches planted bugs in ReLU, Softmax and the cross-entropies checked by parts", () => {
      class LeakyBug extends ReLU {
        override backward(dvalues: Tensor): Tensor {
          this.dinputs = dvalues; // passes the gradient where the input was negative too
          return this.dinputs;
        }
      }
      class SoftmaxBug extends Softmax {
        override backward(dvalues: Tensor): Tensor {
          this.dinputs = zip(dvalues, this.output, (d, s2) => d * s2 * (1 - s2)); // only the Jacobian's diagonal
          return this.dinputs;
        }
      }
      class CombinedBug extends SoftmaxCategoricalCrossentropy {
        override backward(dvalues: Tensor, y: Tensor | number[]): Tensor {
          super.backward(dvalues, y);
          this.dinputs = map(this.dinputs, (v) => v * this.dinputs.shape[0]!); // forgets the 1/n
          return this.dinputs;
        }
      }
      class CceBug extends CategoricalCrossentropy {
        override backward(dvalues: Tensor, y: Tensor | number[]): Tensor {
          super.backward(dvalues, y);
          this.dinputs = map(this.dinputs, (v) => -v); // wrong sign
          return this.dinputs;
        }
      }
      const rng = new Rng(12);
      const y = Array.from({ length: 30 }, () => rng.int(4));
      const probs = new Softmax();
      probs.forward(randn([30, 4], rng));
      const cases: [string, Layer, unknown[]][] = [
        ["ReLU", new LeakyBug(), [randn([30, 8], rng)]],
        ["Softmax", new SoftmaxBug(), [randn([30, 4], rng)]],
        ["softmax + CCE", new CombinedBug(), [randn([30, 4], rng), y]],
        ["CCE", new CceBug(), [probs.output, y]],
      ];
      for (const [what, layer, args] of cases) {
        const report = gradCheckLayer(layer, args, undefined, { rng });
        assert.equal(report.ok, false, `${what}: the bug was not caught`);
        assert.equal(report.tensors[0]?.ok, false, what);
      }
    });
  });

  it("whole model: every parameter of a Sequential against the loss", () => {
    fc.assert(
      fc.property(shape, ({ n, i, o, seed }) => {
        const rng = new Rng(seed);
        // Moderate weights: far from the loss's clip, where the book's gradient is exact.
        const d1 = new Dense(i, o + 2, { rng, weightScale: 0.5 });
        const d2 = new Dense(o + 2, 3, { rng, weightScale: 0.5 });
        const model = new Sequential([d1, new ReLU(), d2]);
        const X = randn([n, i], rng);
        const y = Array.from({ length: n }, () => rng.int(3));
        const report = gradCheckModel(
          () => model.forward(X, y).loss,
          () => model.backward(y),
          [d1, d2].flatMap((d, k) => [
            { name: `dense${k + 1}.weights`, value: d.weights, grad: () => d.dweights },
            { name: `dense${k + 1}.biases`, value: d.biases, grad: () => d.dbiases },
          ]),
          { rng },
        );
        // ReLU kinks are skipped by the check; everything else must agree.
        assert.ok(report.ok, report.tensors.map((t) => `${t.name}:${t.ok}`).join(" "));
      }),
      { numRuns: 30 },
    );
  });

  it("scalar values: each gradient of the single neuron is the derivative of the output", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 7, maxLength: 7 }), (v) => {
        const build = (vals: number[]): { y: ReturnType<typeof relu>; leaves: ReturnType<typeof value>[] } => {
          const leaves = vals.map((x, k) => value(x, `v${k}`));
          const [x0, x1, x2, w0, w1, w2, b] = leaves as [ReturnType<typeof value>, ReturnType<typeof value>, ReturnType<typeof value>, ReturnType<typeof value>, ReturnType<typeof value>, ReturnType<typeof value>, ReturnType<typeof value>];
          return { y: relu(sum([mul(x0, w0), mul(x1, w1), mul(x2, w2), b])), leaves };
        };
        const { y, leaves } = build(v);
        fc.pre(Math.abs(y.inputs[0]?.data ?? 0) > 1e-3); // away from the ReLU kink
        y.backward(1);
        const x = Float64Array.from(v);
        const analytic = Float64Array.from(leaves.map((l) => l.grad));
        const t = checkTensor("grad", x, [7], analytic, () => build(Array.from(x)).y.data);
        assert.ok(t.ok, JSON.stringify(t.worst));
      }),
      runs,
    );
  });
});
