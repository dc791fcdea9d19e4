"""Unit tests of the Python tracer: `python -m unittest discover -s python/tests` (npm run test:python)."""

import json
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BOOK_CLASSES, EXAMPLES, REPO, decode, run_file, run_source  # noqa: E402

try:
    import numpy as np
except ImportError:  # the tests are about NumPy models: say so loudly
    raise SystemExit("NumPy is not installed for %s: the Python tracer's tests need it (python3 -m pip install numpy, or Debian's python3-numpy)" % sys.executable)

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False
    sys.stderr.write("note: PyTorch is not installed for %s: the PyTorch tests are skipped\n" % sys.executable)

def read(path):
    with open(path) as f:
        return f.read()


SEED = json.loads(read(os.path.join(REPO, "test", "fixtures", "seed-cases.json")))["cases"]


def case(cid):
    return next(c for c in SEED if c["id"] == cid)


def numbers(line):
    return [float(t) for t in line.replace("[", " ").replace("]", " ").replace(",", " ").split()]


def matrix(t):
    rows, cols = t["shape"]
    return [t["data"][r * cols:(r + 1) * cols] for r in range(rows)]


class Close:
    def assertAllClose(self, got, want, tol, what=""):
        g = np.asarray(got, dtype=float)
        w = np.asarray(want, dtype=float)
        self.assertEqual(g.shape, w.shape, what)
        self.assertTrue(np.all(np.abs(g - w) <= tol), "%s: %s vs %s" % (what, g.tolist(), w.tolist()))


class WireTest(unittest.TestCase):
    def test_frames_round_trip_with_tensors_and_non_finite_numbers(self):
        sys.path.insert(0, os.path.join(REPO, "python"))
        from backprop_lens_tracer import arrays
        from backprop_lens_tracer.wire import Wire

        r, w = os.pipe()
        wire = Wire(w)
        a = np.array([[1.5, -0.0], [np.nan, np.inf]])
        wire.event({"type": "x", "t": arrays.to_wire(a, None), "f": arrays.to_wire(np.float32([0.1]).astype(float), "float32"),
                    "v": float("nan"), "w": float("-inf"), "n": np.float32(0.5), "s": "café"})
        os.close(w)
        data = b""
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
        (frame,) = decode(data)
        e = frame["event"]
        self.assertEqual(e["t"]["shape"], [2, 2])
        self.assertEqual(e["t"]["data"][0], 1.5)
        self.assertEqual(math.copysign(1, e["t"]["data"][1]), -1)
        self.assertTrue(math.isnan(e["t"]["data"][2]) and e["t"]["data"][3] == math.inf)
        self.assertEqual(e["f"]["dtype"], "float32")
        self.assertEqual(e["f"]["data"][0], float(np.float32(0.1)))
        self.assertTrue(math.isnan(e["v"]) and e["w"] == -math.inf and e["n"] == 0.5 and e["s"] == "café")


class BookModelTest(unittest.TestCase, Close):
    @classmethod
    def setUpClass(cls):
        cls.trace = run_file(os.path.join(EXAMPLES, "04_spiral_model.py"), gradCheck={"maxElements": 64})

    def test_layers_are_named_after_their_variables_with_the_books_kinds(self):
        layers = self.trace.layers
        self.assertEqual(layers["dense1"]["kind"], "dense")
        self.assertEqual(layers["dense1"]["description"], "Layer_Dense(2, 3)")
        self.assertEqual(layers["dense1"]["params"], [{"name": "weights", "shape": [2, 3]}, {"name": "biases", "shape": [1, 3]}])
        self.assertEqual(layers["activation1"]["kind"], "relu")
        self.assertEqual(layers["dense2"]["kind"], "dense")
        self.assertEqual(layers["loss_activation"]["kind"], "softmax-cce")
        self.assertEqual(layers["loss_activation.activation"]["kind"], "softmax")
        self.assertEqual(layers["loss_activation.loss"]["kind"], "cce")
        self.assertEqual(layers["dense1"]["site"]["line"], read(os.path.join(EXAMPLES, "04_spiral_model.py")).split("\n").index("dense1 = Layer_Dense(2, 3)") + 1)

    def test_calls_carry_the_books_tensors_at_the_users_lines(self):
        (f,) = self.trace.calls("dense1", "forward")
        self.assertEqual(sorted(f["tensors"]), ["biases", "inputs", "output", "weights"])
        self.assertEqual(f["tensors"]["inputs"]["shape"], [300, 2])
        (b,) = self.trace.calls("dense1", "backward")
        self.assertEqual(sorted(b["tensors"]), ["dbiases", "dinputs", "dvalues", "dweights"])
        src = read(os.path.join(EXAMPLES, "04_spiral_model.py")).split("\n")
        self.assertEqual(src[b["site"]["line"] - 1].strip(), "dense1.backward(activation1.dinputs)")
        # dweights = inputs.T . dvalues, recomputed from the recorded tensors
        x = np.array(f["tensors"]["inputs"]["data"]).reshape(300, 2)
        dv = np.array(b["tensors"]["dvalues"]["data"]).reshape(300, 3)
        self.assertAllClose(np.array(b["tensors"]["dweights"]["data"]).reshape(2, 3), x.T @ dv, 1e-6, "dweights")

    def test_nnfs_init_makes_float32_and_the_trace_says_so(self):
        (f,) = self.trace.calls("dense1", "forward")
        self.assertEqual(f["tensors"]["weights"].get("dtype"), "float32")
        self.assertEqual(f["tensors"]["output"].get("dtype"), "float32")
        (s,) = self.trace.calls("loss_activation", "forward")
        self.assertEqual(s["tensors"]["targets"].get("dtype"), "uint8")

    def test_loss_accuracy_and_the_books_printed_numbers(self):
        (summary,) = [e["summary"] for e in self.trace.of("step/summary")]
        self.assertAlmostEqual(summary["loss"], 1.0986104, places=6)
        self.assertAlmostEqual(summary["accuracy"], 0.34)
        self.assertIn("loss: 1.0986104", self.trace.console())
        self.assertIn("acc: 0.34", self.trace.console())

    def test_every_top_level_layer_is_gradient_checked_and_passes(self):
        checks = {e["result"]["layer"]: e["result"] for e in self.trace.of("gradcheck")}
        layers = self.trace.layers
        for name in ("dense1", "activation1", "dense2", "loss_activation"):
            r = checks[layers[name]["id"]]
            self.assertTrue(r["ok"], (name, r))
            self.assertGreater(r["tensors"][0]["checked"], 0)
        self.assertEqual([t["name"] for t in checks[layers["dense1"]["id"]]["tensors"]], ["dinputs", "dweights", "dbiases"])
        self.assertTrue(self.trace.end["ok"])
        self.assertEqual(self.trace.end["steps"], 1)


class SeedCasesTest(unittest.TestCase, Close):
    """The book's printed numbers (seed-cases.json) reproduced by the Python examples."""

    def test_single_neuron(self):
        t = run_file(os.path.join(EXAMPLES, "01_single_neuron.py"))
        out = t.console()
        c = case("single-neuron-chain-rule")["expected"]
        tol = case("single-neuron-chain-rule")["tolerance"]
        self.assertAllClose(numbers(out[0]), c["xw"] + [1.0], tol, "xw")
        self.assertAllClose(numbers(out[1]), [c["z"]], tol, "z")
        self.assertAllClose(numbers(out[2]), [c["y"]], tol, "y")
        self.assertAllClose(numbers(out[3]), [c["drelu_dz"]], tol, "drelu_dz")
        self.assertAllClose(numbers(out[4]), c["drelu_dxw"] + [c["drelu_db"]], tol, "drelu_dxw, drelu_db")
        self.assertAllClose(numbers(out[6]), c["dx"] + c["dw"] + [c["db"]], tol, "dx, dw, db")
        s = case("single-neuron-sgd-step")
        self.assertAllClose(numbers(out[8]), s["expected"]["w"] + [s["expected"]["b"]], s["tolerance"], "w, b after the step")
        self.assertAllClose(numbers(out[9]), [s["expected"]["y"]], s["tolerance"], "y after the step")
        self.assertNotIn("numpy", " ".join(out))
        self.assertEqual(t.of("layer/new"), [])
        self.assertTrue(t.end["ok"])

    def test_layer_over_a_batch_from_the_recorded_tensors(self):
        t = run_file(os.path.join(EXAMPLES, "02_layer_batch.py"))
        (b,) = t.calls("dense1", "backward")
        self.assertAllClose(matrix(b["tensors"]["dinputs"]), case("layer-dinputs-batch")["expected"]["dinputs"], 1e-9, "dinputs")
        self.assertAllClose(matrix(b["tensors"]["dweights"]), case("layer-dweights")["expected"]["dweights"], 1e-9, "dweights")
        self.assertAllClose(matrix(b["tensors"]["dbiases"]), case("layer-dbiases")["expected"]["dbiases"], 1e-12, "dbiases")
        c = case("layer-relu-sgd-step")["expected"]
        (f2,) = t.calls("dense2", "forward")
        self.assertAllClose(matrix(f2["tensors"]["output"]), c["layer_outputs"], 1e-12, "layer_outputs")
        (fr,) = t.calls("relu", "forward")
        self.assertAllClose(matrix(fr["tensors"]["output"]), c["relu_outputs"], 1e-12, "relu_outputs")
        (b2,) = t.calls("dense2", "backward")
        self.assertAllClose(matrix(b2["tensors"]["dweights"]), c["dweights"], 1e-9, "dweights")
        self.assertAllClose(matrix(b2["tensors"]["dbiases"]), c["dbiases"], 1e-9, "dbiases")
        printed = t.console()
        w = [numbers(r) for r in printed[3].split("\n")]
        self.assertAllClose(w, c["weights"], 1e-6, "weights after the step (printed to 7 digits)")

    def test_softmax_jacobian_and_combined_backward(self):
        t = run_file(os.path.join(EXAMPLES, "03_softmax_jacobian.py"))
        jac = [numbers(r) for r in t.console()[0].split("\n")]
        self.assertAllClose(jac, case("softmax-jacobian")["expected"]["jacobian"], 1e-8, "jacobian (printed)")
        (b,) = t.calls("softmax_loss", "backward")
        c = case("softmax-cce-combined-backward")["expected"]
        self.assertAllClose(matrix(b["tensors"]["dinputs"]), c["dinputs"], 1e-12, "combined dinputs")
        (sb,) = t.calls("activation", "backward")
        self.assertAllClose(matrix(sb["tensors"]["dinputs"]), c["separate_dinputs"], 1e-9, "separate dinputs")
        (lb,) = t.calls("loss", "backward")
        self.assertAllClose(matrix(lb["tensors"]["dinputs"]), c["cce_dinputs"], 1e-9, "cce dinputs")
        (lf,) = t.calls("loss", "forward")
        cf = case("cce-forward")["expected"]
        self.assertAlmostEqual(lf["loss"], cf["mean_loss"], places=12)
        self.assertAlmostEqual(lf["accuracy"], cf["accuracy"])
        self.assertAllClose(lf["tensors"]["output"]["data"], cf["sample_losses"], 1e-12, "sample losses")


class BadInputTest(unittest.TestCase):
    def test_a_planted_bug_in_a_custom_backward_fails_its_gradient_check(self):
        src = BOOK_CLASSES + """
class Activation_LeakyReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.where(inputs > 0, inputs, 0.1 * inputs)
    def backward(self, dvalues):
        self.dinputs = np.where(self.inputs > 0, dvalues, 0.0)  # forgets the 0.1

np.random.seed(0)
X = np.random.randn(20, 2)
y = np.arange(20) % 3
dense1 = Layer_Dense(2, 4)
leaky = Activation_LeakyReLU()
dense2 = Layer_Dense(4, 3)
loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
dense1.forward(X)
leaky.forward(dense1.output)
dense2.forward(leaky.output)
loss_activation.forward(dense2.output, y)
loss_activation.backward(loss_activation.output, y)
dense2.backward(loss_activation.dinputs)
leaky.backward(dense2.dinputs)
dense1.backward(leaky.dinputs)
"""
        t = run_source(src, gradCheck={})
        (a,) = t.anomalies("gradient-check")
        self.assertEqual(a["layer"], t.layers["leaky"]["id"])
        self.assertEqual(a["tensor"], "dinputs")
        self.assertIn("check Activation_LeakyReLU.backward", a["message"])
        self.assertTrue(t.end["ok"])
        ok = {e["result"]["layer"]: e["result"]["ok"] for e in t.of("gradcheck")}
        self.assertTrue(ok[t.layers["dense1"]["id"]] and ok[t.layers["dense2"]["id"]])

    def test_dinputs_of_the_wrong_shape_is_named_with_both_shapes(self):
        src = BOOK_CLASSES + """
class Bad_Dense(Layer_Dense):
    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues.T, self.inputs)
d = Bad_Dense(2, 3)
d.forward(np.ones((5, 2)))
d.backward(np.ones((5, 3)))
"""
        t = run_source(src)
        err = t.end["error"]
        self.assertEqual(err["kind"], "shape")
        self.assertIn("[3, 2]", err["message"])
        self.assertIn("[5, 2]", err["message"])
        self.assertEqual(err["layer"]["name"], "d")
        self.assertEqual(err["site"]["line"], src.split("\n").index("d.backward(np.ones((5, 3)))") + 1)

    def test_a_shape_mismatch_names_the_layer_and_where_its_inputs_came_from(self):
        src = BOOK_CLASSES + """
dense1 = Layer_Dense(2, 3)
activation1 = Activation_ReLU()
dense2 = Layer_Dense(4, 3)
dense1.forward(np.ones((10, 2)))
activation1.forward(dense1.output)
dense2.forward(activation1.output)
"""
        t = run_source(src)
        err = t.end["error"]
        self.assertEqual(err["kind"], "shape")
        self.assertIn("dense2.forward failed", err["message"])
        self.assertIn("activation1.output", err["message"])
        self.assertIn("[10, 3]", err["message"])
        lines = [f["line"] for f in err["frames"]]
        self.assertIn(src.split("\n").index("dense2.forward(activation1.output)") + 1, lines)

    def test_syntax_error_at_its_line(self):
        t = run_source("import numpy as np\n\ndef f(:\n    pass\n")
        self.assertEqual(t.end["error"]["kind"], "syntax")
        self.assertEqual(t.end["error"]["site"]["line"], 3)

    def test_an_exception_has_the_users_traceback_innermost_first(self):
        t = run_source("def inner():\n    raise KeyError('w')\n\ndef outer():\n    inner()\n\nouter()\n")
        err = t.end["error"]
        self.assertEqual(err["kind"], "throw")
        self.assertEqual([f["line"] for f in err["frames"]], [2, 5, 7])
        self.assertIn("KeyError", err["message"])

    def test_sys_exit(self):
        self.assertTrue(run_source("import sys\nprint('a')\nsys.exit(0)\nprint('b')\n").end["ok"])
        t = run_source("import sys\nsys.exit(3)\n")
        self.assertFalse(t.end["ok"])
        self.assertIn("sys.exit(3)", t.end["error"]["message"])
        self.assertEqual(t.end["error"]["site"]["line"], 2)

    def test_prints_and_c_level_writes_become_console_events_and_never_corrupt_the_stream(self):
        src = "import os, sys\nprint('hello', 1)\nos.write(1, b'raw bytes\\n')\nsys.stderr.write('warned\\n')\nos.write(2, b'c stderr\\n')\nprint('BPL1' * 3)\n"
        t = run_source(src)
        text = t.console()
        for want in ("hello 1", "raw bytes", "warned", "c stderr", "BPL1BPL1BPL1"):
            self.assertIn(want, text)
        hello = next(e for e in t.of("console") if e["text"] == "hello 1")
        self.assertEqual(hello["site"]["line"], 2)
        self.assertTrue(t.end["ok"])

    def test_nan_without_a_loss_layer_is_reported_where_it_first_appeared(self):
        src = BOOK_CLASSES + """
dense1 = Layer_Dense(2, 3)
act = Activation_ReLU()
x = np.ones((4, 2))
x[2, 1] = np.nan
dense1.forward(x)
act.forward(dense1.output)
"""
        t = run_source(src)
        (a,) = t.anomalies("non-finite")
        self.assertEqual(a["layer"], t.layers["dense1"]["id"])
        self.assertEqual(a["tensor"], "inputs")
        self.assertEqual(a["index"], [2, 1])

    def test_a_nan_loss_stops_the_run_naming_the_first_layer(self):
        src = BOOK_CLASSES + """
dense1 = Layer_Dense(2, 3)
loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
y = np.array([0, 1, 2, 0])
for epoch in range(5):
    x = np.ones((4, 2))
    if epoch == 2:
        dense1.weights[0, 1] = np.inf
    dense1.forward(x)
    loss = loss_activation.forward(dense1.output, y)
    loss_activation.backward(loss_activation.output, y)
    dense1.backward(loss_activation.dinputs)
"""
        t = run_source(src)
        err = t.end["error"]
        self.assertEqual(err["kind"], "non-finite")
        self.assertIn("dense1.weights[0][1]", err["message"])
        self.assertEqual(t.end["steps"], 3)

    def test_float32_int_and_three_dimensional_arrays(self):
        src = """import numpy as np
class Flatten:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs.reshape(inputs.shape[0], -1)
    def backward(self, dvalues):
        self.dinputs = dvalues.reshape(self.inputs.shape)
ids = Flatten()
ids.forward(np.arange(6).reshape(1, 2, 3))
flat = Flatten()
flat.forward(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
flat.backward(np.ones((2, 12)))
"""
        t = run_source(src, gradCheck={})
        (f,) = t.calls("flat", "forward")
        self.assertEqual(f["tensors"]["inputs"]["shape"], [2, 3, 4])
        self.assertEqual(f["tensors"]["inputs"]["dtype"], "float32")
        self.assertEqual(f["tensors"]["output"]["dtype"], "float32")
        (i,) = t.calls("ids", "forward")
        self.assertEqual(i["tensors"]["inputs"]["dtype"], "int64")
        self.assertEqual(i["tensors"]["inputs"]["data"], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
        (b,) = t.calls("flat", "backward")
        self.assertEqual(b["tensors"]["dinputs"]["shape"], [2, 3, 4])
        (g,) = [e["result"] for e in t.of("gradcheck")]
        self.assertTrue(g["ok"], g)

    def test_objects_with_only_forward_are_not_traced_and_work(self):
        src = "class Model:\n    def forward(self, x):\n        return x * 2\nm = Model()\nprint(m.forward(21))\nprint(type(m).__name__, isinstance(m, Model))\n"
        t = run_source(src)
        self.assertEqual(t.console(), ["42", "Model True"])
        self.assertEqual(t.of("layer/new"), [])

    def test_traced_classes_stay_the_users_classes(self):
        src = BOOK_CLASSES + """
d = Layer_Dense(2, 3)
print(type(d).__name__, type(d) is Layer_Dense, Layer_Dense.forward.__name__, d.__dict__.keys() >= {'weights', 'biases'})
class Sub(Activation_ReLU):
    def forward(self, inputs):
        super().forward(inputs)
        self.output = self.output * 2
s = Sub()
s.forward(np.array([[1.0, -1.0]]))
print(s.output.tolist())
"""
        t = run_source(src)
        self.assertEqual(t.console(), ["Layer_Dense True forward True", "[[2.0, 0.0]]"])
        self.assertEqual(len(t.calls("s", "forward")), 1)

    def test_steps_kept_steps_and_summaries_follow_the_recorder_rules(self):
        src = BOOK_CLASSES + """
np.random.seed(0)
X = np.random.randn(30, 2)
y = np.arange(30) % 3
dense1 = Layer_Dense(2, 3)
loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
optimizer = Optimizer_SGD(learning_rate=0.5)
for epoch in range(10):
    dense1.forward(X)
    loss = loss_activation.forward(dense1.output, y)
    loss_activation.backward(loss_activation.output, y)
    dense1.backward(loss_activation.dinputs)
    optimizer.update_params(dense1)
"""
        t = run_source(src, keepSteps=2)
        self.assertEqual(t.end["keptSteps"], [0, 1, 9])
        self.assertEqual(t.end["steps"], 10)
        summaries = [e["summary"] for e in t.of("step/summary")]
        self.assertEqual([s["step"] for s in summaries], list(range(10)))
        self.assertTrue(all("loss" in s and "grads" in s and s["learningRate"] == 0.5 for s in summaries))
        self.assertLess(summaries[-1]["loss"], summaries[0]["loss"])
        self.assertEqual(sorted({c["step"] for c in t.calls()}), [0, 1, 9])
        # each step's update as the inspector writes it out (StepSummary.optimizer, as the TypeScript recorder has it)
        self.assertEqual([s["optimizer"] for s in summaries], [{"kind": "SGD", "learningRate": 0.5, "iteration": 0}] * 10)

    def test_nothing_is_written_next_to_the_model(self):
        import tempfile

        d = tempfile.mkdtemp()
        with open(os.path.join(d, "helper.py"), "w") as f:
            f.write("VALUE = 7\n")
        with open(os.path.join(d, "model.py"), "w") as f:
            f.write("from helper import VALUE\nprint(VALUE)\n")
        t = run_file(os.path.join(d, "model.py"))
        self.assertEqual(t.console(), ["7"])
        self.assertEqual(sorted(os.listdir(d)), ["helper.py", "model.py"])

    def test_unsaved_source_runs_instead_of_the_file(self):
        import tempfile

        d = tempfile.mkdtemp()
        p = os.path.join(d, "model.py")
        with open(p, "w") as f:
            f.write("print('on disk')\n")
        t = run_file(p, source="print('unsaved')\n")
        self.assertEqual(t.console(), ["unsaved"])

    def test_where_names_the_line_of_an_endless_loop(self):
        t = run_source("x = 0\nwhile True:\n    x += 1\n", commands=[{"type": "where"}], after=1.0)
        (w,) = [f for f in t.frames if f["k"] == "where"]
        self.assertIn(w["site"]["line"], (2, 3))

    def test_memory_limit(self):
        t = run_source("import numpy as np\nkeep = []\nwhile True:\n    keep.append(np.ones((1000, 1000)))\n", memoryLimitMb=300)
        err = t.end["error"] if t.end else None
        if err is not None:
            self.assertEqual(err["kind"], "memory")
            self.assertEqual(err["site"]["line"], 4)
        else:  # the resident-size watchdog stopped it first
            (m,) = [f for f in t.frames if f["k"] == "memory"]
            self.assertEqual(m["site"]["line"], 4)

    def test_input_gets_an_empty_stdin_and_commands_still_arrive(self):
        t = run_source("try:\n    input()\nexcept EOFError:\n    print('eof')\nx = 0\nwhile True:\n    x += 1\n", commands=[{"type": "where"}], after=1.0)
        self.assertEqual(t.console(), ["eof"])
        self.assertEqual(len([f for f in t.frames if f["k"] == "where"]), 1)

    def test_numpy_is_not_imported_for_a_model_without_it(self):
        t = run_source("import sys\nprint('numpy' in sys.modules)\n")
        self.assertEqual(t.console(), ["False"])


@unittest.skipUnless(HAVE_TORCH, "PyTorch is not installed")
class TorchTest(unittest.TestCase, Close):
    @classmethod
    def setUpClass(cls):
        cls.trace = run_file(os.path.join(EXAMPLES, "05_pytorch_model.py"), gradCheck={"maxElements": 32}, keepSteps=1)

    def test_modules_are_named_and_shown_in_the_books_orientation(self):
        layers = self.trace.layers
        self.assertEqual(layers["dense1"]["kind"], "dense")
        self.assertEqual(layers["dense1"]["params"], [{"name": "weights", "shape": [2, 64]}, {"name": "biases", "shape": [1, 64]}])
        self.assertIn("weights = weight.T", layers["dense1"]["description"])
        self.assertEqual(layers["loss_function"]["kind"], "softmax-cce")
        f = self.trace.calls("dense1", "forward")[0]
        x = np.array(f["tensors"]["inputs"]["data"]).reshape(300, 2)
        w = np.array(f["tensors"]["weights"]["data"]).reshape(2, 64)
        b = np.array(f["tensors"]["biases"]["data"]).reshape(1, 64)
        out = np.array(f["tensors"]["output"]["data"]).reshape(300, 64)
        self.assertAllClose(out, x @ w + b, 1e-5, "output = inputs . weights + biases")
        self.assertEqual(f["tensors"]["output"]["dtype"], "float32")

    def test_gradients_by_the_books_names(self):
        bk = self.trace.calls("dense2", "backward")[0]
        fw = self.trace.calls("dense2", "forward")[0]
        x = np.array(fw["tensors"]["inputs"]["data"]).reshape(300, 64)
        dv = np.array(bk["tensors"]["dvalues"]["data"]).reshape(300, 3)
        w = np.array(fw["tensors"]["weights"]["data"]).reshape(64, 3)
        self.assertAllClose(np.array(bk["tensors"]["dweights"]["data"]).reshape(64, 3), x.T @ dv, 1e-5, "dweights = inputs.T . dvalues")
        self.assertAllClose(np.array(bk["tensors"]["dbiases"]["data"]).reshape(1, 3), dv.sum(axis=0, keepdims=True), 1e-6, "dbiases")
        self.assertAllClose(np.array(bk["tensors"]["dinputs"]["data"]).reshape(300, 64), dv @ w.T, 1e-5, "dinputs = dvalues . weights.T")
        first = self.trace.calls("dense1", "backward")[0]
        self.assertEqual(first["tensors"]["dinputs"]["shape"], [300, 2])

    def test_steps_loss_and_checks(self):
        summaries = [e["summary"] for e in self.trace.of("step/summary")]
        self.assertEqual(len(summaries), 101)
        self.assertLess(summaries[-1]["loss"], summaries[0]["loss"])
        self.assertEqual(summaries[0]["learningRate"], 1.0)
        self.assertEqual(self.trace.end["keptSteps"], [0, 100])
        results = [e["result"] for e in self.trace.of("gradcheck")]
        self.assertEqual(len(results), 4)
        self.assertTrue(all(r["ok"] for r in results), results)
        self.assertIn("epoch: 0, acc: 0.320, loss: 1.103", self.trace.console())

    def test_sequential_with_an_inplace_relu_and_a_user_module_gives_the_untraced_results(self):
        src = """import torch
import torch.nn as nn
torch.manual_seed(0)
class Scale(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(n))
    def forward(self, x):
        return x * self.alpha
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True), Scale(8), nn.Linear(8, 2))
x = torch.randn(16, 4)
y = torch.randint(0, 2, (16,))
loss_fn = nn.CrossEntropyLoss()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(5):
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
print(repr(loss.item()))
"""
        import subprocess
        import tempfile

        d = tempfile.mkdtemp()
        with open(os.path.join(d, "plain.py"), "w") as f:
            f.write(src)
        plain = subprocess.run([sys.executable, os.path.join(d, "plain.py")], capture_output=True, text=True).stdout.strip()
        t = run_source(src, gradCheck={})
        self.assertEqual(t.console(), [plain])
        self.assertEqual(sorted(t.layers), ["loss_fn", "model.0", "model.1", "model.2", "model.3"])
        self.assertEqual(t.layers["model.2"]["params"], [{"name": "alpha", "shape": [8]}])
        self.assertTrue(all(e["result"]["ok"] for e in t.of("gradcheck")))
        self.assertEqual(len(t.calls("model.1", "backward")), 0)  # in-place: forward only

    def test_a_buggy_autograd_function_fails_its_gradient_check(self):
        src = """import torch
class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0) * 2.0   # planted bug: factor 2

torch.manual_seed(0)
lin = torch.nn.Linear(3, 4)
x = torch.randn(5, 3)
out = MyReLU.apply(lin(x))
out.sum().backward()
"""
        t = run_source(src, gradCheck={})
        layers = t.layers
        self.assertIn("MyReLU", layers)
        (a,) = t.anomalies("gradient-check")
        self.assertEqual(a["layer"], layers["MyReLU"]["id"])
        self.assertEqual(len(t.calls("MyReLU", "backward")), 1)
        ok = {e["result"]["layer"]: e["result"]["ok"] for e in t.of("gradcheck")}
        self.assertTrue(ok[layers["lin"]["id"]])


if __name__ == "__main__":
    unittest.main()
