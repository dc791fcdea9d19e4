"""Python side of `npm run bench`: the same workloads in NumPy (the book's own code) and, when it is
installed, PyTorch; run by run.mjs with one BLAS thread (OMP/OPENBLAS/MKL_NUM_THREADS=1,
torch.set_num_threads(1)).

- NumPy, float64: the book's classes (Layer_Dense, Activation_ReLU,
  Activation_Softmax_Loss_CategoricalCrossentropy, Optimizer_SGD), one full SGD step each, every
  layer's dinputs included, as in the engine.
- NumPy, the softmax + CCE backward both ways: combined `(y_hat - y) / n`, and
  Loss_CategoricalCrossentropy.backward then Activation_Softmax.backward (the book's per-sample
  Jacobian loop with np.diagflat).
- PyTorch, float32 (its default), the idiomatic step: nn.Sequential, F.cross_entropy, zero_grad,
  backward, optim.SGD.step (no gradient for the input batch).

Timing: warm-up, then one sample per step with time.perf_counter(), median (as tinybench does on
the JavaScript side). Usage: numpy_bench.py [--quick] [--scale=x] [--steps-only] [--skip-numpy] [--skip-torch].
Prints one line `@@RESULT <json>`.
"""

import json
import platform
import sys
import time

QUICK = "--quick" in sys.argv
# Time budgets are scaled by --scale=x (run.mjs splits a run into rounds) and by --quick (1/4).
SCALE = (0.25 if QUICK else 1.0) * float(next((a[8:] for a in sys.argv if a.startswith("--scale=")), "1"))
STEPS_ONLY = "--steps-only" in sys.argv

WORKLOADS = [
    {"id": "W1", "batch": 300, "dims": [2, 64, 3], "lr": 1.0},
    {"id": "W2", "batch": 128, "dims": [784, 128, 128, 10], "lr": 0.1},
    {"id": "W3", "batch": 256, "dims": [1024, 1024, 10], "lr": 0.1},
]


def log(msg):
    sys.stderr.write("[python] %s\n" % msg)
    sys.stderr.flush()


def budget(wid):
    """(warm-up seconds, min warm-up steps, measure seconds, min samples)"""
    s = SCALE
    if wid == "W1":
        return 0.5 * s, 200, 1.5 * s, max(2, int(200 * s))
    if wid == "W2":
        return 0.5 * s, 20, 2.0 * s, max(2, int(40 * s))
    return 0.5 * s, 3, 2.5 * s, max(2, int(10 * s))


def timed(fn, warm_s, warm_n, meas_s, meas_n):
    t_end = time.perf_counter() + warm_s
    n = 0
    while n < warm_n or time.perf_counter() < t_end:
        fn()
        n += 1
    raw = []
    total = 0.0
    while total < meas_s or len(raw) < meas_n:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        raw.append(dt * 1e3)
        total += dt
    samples = sorted(raw)

    def q(p):
        x = (len(samples) - 1) * p
        i = int(x)
        j = min(i + 1, len(samples) - 1)
        return samples[i] + (x - i) * (samples[j] - samples[i])

    return {"median": q(0.5), "p25": q(0.25), "p75": q(0.75), "min": samples[0], "samples": len(samples), "raw": [round(x, 4) for x in raw]}


def numpy_section():
    import numpy as np

    rng = np.random.default_rng(42)

    def spiral(samples, classes):
        X = np.zeros((samples * classes, 2))
        y = np.zeros(samples * classes, dtype="uint8")
        for c in range(classes):
            ix = range(samples * c, samples * (c + 1))
            r = np.linspace(0.0, 1, samples)
            t = np.linspace(c * 4, (c + 1) * 4, samples) + rng.standard_normal(samples) * 0.2
            X[ix] = np.c_[r * np.sin(t * 2.5), r * np.cos(t * 2.5)]
            y[ix] = c
        return X, y

    # ---- the book's classes (chapter 9 and the SGD optimizer of chapter 10)
    class Layer_Dense:
        def __init__(self, n_inputs, n_neurons):
            self.weights = 0.01 * rng.standard_normal((n_inputs, n_neurons))
            self.biases = np.zeros((1, n_neurons))

        def forward(self, inputs):
            self.inputs = inputs
            self.output = np.dot(inputs, self.weights) + self.biases

        def backward(self, dvalues):
            self.dweights = np.dot(self.inputs.T, dvalues)
            self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
            self.dinputs = np.dot(dvalues, self.weights.T)

    class Activation_ReLU:
        def forward(self, inputs):
            self.inputs = inputs
            self.output = np.maximum(0, inputs)

        def backward(self, dvalues):
            self.dinputs = dvalues.copy()
            self.dinputs[self.inputs <= 0] = 0

    class Activation_Softmax:
        def forward(self, inputs):
            self.inputs = inputs
            exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
            self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)

        def backward(self, dvalues):
            self.dinputs = np.empty_like(dvalues)
            for index, (single_output, single_dvalues) in enumerate(zip(self.output, dvalues)):
                single_output = single_output.reshape(-1, 1)
                jacobian_matrix = np.diagflat(single_output) - np.dot(single_output, single_output.T)
                self.dinputs[index] = np.dot(jacobian_matrix, single_dvalues)

    class Loss:
        def calculate(self, output, y):
            return np.mean(self.forward(output, y))

    class Loss_CategoricalCrossentropy(Loss):
        def forward(self, y_pred, y_true):
            samples = len(y_pred)
            y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
            if len(y_true.shape) == 1:
                correct_confidences = y_pred_clipped[range(samples), y_true]
            else:
                correct_confidences = np.sum(y_pred_clipped * y_true, axis=1)
            return -np.log(correct_confidences)

        def backward(self, dvalues, y_true):
            samples = len(dvalues)
            labels = len(dvalues[0])
            if len(y_true.shape) == 1:
                y_true = np.eye(labels)[y_true]
            self.dinputs = -y_true / dvalues
            self.dinputs = self.dinputs / samples

    class Activation_Softmax_Loss_CategoricalCrossentropy:
        def __init__(self):
            self.activation = Activation_Softmax()
            self.loss = Loss_CategoricalCrossentropy()

        def forward(self, inputs, y_true):
            self.activation.forward(inputs)
            self.output = self.activation.output
            return self.loss.calculate(self.output, y_true)

        def backward(self, dvalues, y_true):
            samples = len(dvalues)
            if len(y_true.shape) == 2:
                y_true = np.argmax(y_true, axis=1)
            self.dinputs = dvalues.copy()
            self.dinputs[range(samples), y_true] -= 1
            self.dinputs = self.dinputs / samples

    class Optimizer_SGD:
        def __init__(self, learning_rate=1.0):
            self.learning_rate = learning_rate
            self.current_learning_rate = learning_rate
            self.iterations = 0

        def pre_update_params(self):
            pass

        def update_params(self, layer):
            layer.weights += -self.current_learning_rate * layer.dweights
            layer.biases += -self.current_learning_rate * layer.dbiases

        def post_update_params(self):
            self.iterations += 1

    steps = []
    for w in WORKLOADS:
        dims = w["dims"]
        classes = dims[-1]
        if w["id"] == "W1":
            X, y = spiral(100, 3)
        else:
            X = rng.standard_normal((w["batch"], dims[0]))
            y = rng.integers(0, classes, w["batch"])
        denses = [Layer_Dense(dims[i], dims[i + 1]) for i in range(len(dims) - 1)]
        relus = [Activation_ReLU() for _ in range(len(dims) - 2)]
        loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
        optimizer = Optimizer_SGD(learning_rate=w["lr"])
        state = {"loss": float("nan")}

        def step():
            h = X
            for i, d in enumerate(denses):
                d.forward(h)
                h = d.output
                if i < len(relus):
                    relus[i].forward(h)
                    h = relus[i].output
            state["loss"] = loss_activation.forward(h, y)
            loss_activation.backward(loss_activation.output, y)
            g = loss_activation.dinputs
            for i in range(len(denses) - 1, -1, -1):
                denses[i].backward(g)
                g = denses[i].dinputs
                if i > 0:
                    relus[i - 1].backward(g)
                    g = relus[i - 1].dinputs
            optimizer.pre_update_params()
            for d in denses:
                optimizer.update_params(d)
            optimizer.post_update_params()

        log("numpy %s …" % w["id"])
        t = timed(step, *budget(w["id"]))
        log("numpy %s: %.3f ms, loss %.4f" % (w["id"], t["median"], state["loss"]))
        steps.append({"id": w["id"], "timing": t, "loss": float(state["loss"])})

    softmax = []
    for n, k in [] if STEPS_ONLY else [(300, 3), (128, 10), (1000, 100)]:
        logits = rng.standard_normal((n, k))
        y = rng.integers(0, k, n)
        combined = Activation_Softmax_Loss_CategoricalCrossentropy()
        combined.forward(logits, y)
        activation = Activation_Softmax()
        activation.forward(logits)
        loss = Loss_CategoricalCrossentropy()

        def separate():
            loss.backward(activation.output, y)
            activation.backward(loss.dinputs)

        def comb():
            combined.backward(combined.output, y)

        tc = timed(comb, 0.1 * SCALE, 20, 0.4 * SCALE, 30)
        ts = timed(separate, 0.1 * SCALE, 3, 0.4 * SCALE, 10)
        tc.pop("raw")
        ts.pop("raw")
        diff = float(np.max(np.abs(combined.dinputs - activation.dinputs)))
        log("numpy softmax+CCE %dx%d: combined %.4f ms, separate %.4f ms" % (n, k, tc["median"], ts["median"]))
        softmax.append({"n": n, "k": k, "combined": tc, "separate": ts, "maxDiff": diff})

    blas = None
    try:
        cfg = np.show_config(mode="dicts")
        b = cfg.get("Build Dependencies", {}).get("blas", {})
        blas = "%s %s" % (b.get("name", "?"), b.get("version", ""))
    except Exception:  # numpy 1.x has no mode="dicts"
        pass
    return {"impl": "numpy", "dtype": "float64", "version": np.__version__, "blas": blas, "steps": steps, "softmax": softmax}


def torch_section():
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    torch.manual_seed(42)
    steps = []
    for w in WORKLOADS:
        dims = w["dims"]
        classes = dims[-1]
        if w["id"] == "W1":
            n = 100
            X = torch.zeros((n * 3, 2))
            y = torch.zeros(n * 3, dtype=torch.long)
            for c in range(3):
                r = torch.linspace(0.0, 1, n)
                t = torch.linspace(c * 4, (c + 1) * 4, n) + torch.randn(n) * 0.2
                X[n * c : n * (c + 1), 0] = r * torch.sin(t * 2.5)
                X[n * c : n * (c + 1), 1] = r * torch.cos(t * 2.5)
                y[n * c : n * (c + 1)] = c
        else:
            X = torch.randn(w["batch"], dims[0])
            y = torch.randint(0, classes, (w["batch"],))
        layers = []
        for i in range(len(dims) - 1):
            lin = torch.nn.Linear(dims[i], dims[i + 1])
            with torch.no_grad():
                lin.weight.normal_(0, 0.01)
                lin.bias.zero_()
            layers.append(lin)
            if i + 2 < len(dims):
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        opt = torch.optim.SGD(model.parameters(), lr=w["lr"])
        state = {"loss": float("nan")}

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            opt.step()
            state["loss"] = loss.item()

        log("torch %s …" % w["id"])
        t = timed(step, *budget(w["id"]))
        log("torch %s: %.3f ms, loss %.4f" % (w["id"], t["median"], state["loss"]))
        steps.append({"id": w["id"], "timing": t, "loss": state["loss"]})
    return {"impl": "torch", "dtype": "float32", "version": torch.__version__, "threads": torch.get_num_threads(), "steps": steps}


def main():
    out = {"python": sys.executable, "pythonVersion": platform.python_version(), "results": [], "errors": []}
    if "--skip-numpy" not in sys.argv:
        try:
            out["results"].append(numpy_section())
        except ImportError as e:
            out["errors"].append("numpy: %s" % e)
    if "--skip-torch" not in sys.argv:
        try:
            out["results"].append(torch_section())
        except ImportError as e:
            out["errors"].append("torch: %s" % e)
    sys.stdout.write("@@RESULT " + json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
