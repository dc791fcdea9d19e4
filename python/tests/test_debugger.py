"""The tracer's debugger (debugger.py, expr.py): positions, breakpoints, conditions, hit counts, filters, pausing.

Each test drives a real tracer process the way the extension does (debug_harness.py): `debug: true` in
the settings, `debug/configure` and `debug/resume` commands on stdin, `debug/stopped` messages read
from the frames as they come. Conditions are the JSON ASTs the host's parser (core/debug/expr.ts) makes,
written out by hand here.
"""

import math
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BOOK_CLASSES, REPO, run_file  # noqa: E402
from debug_harness import DebugRun  # noqa: E402

try:
    import numpy as np
except ImportError:
    raise SystemExit("NumPy is not installed for %s: the Python tracer's tests need it (python3 -m pip install numpy, or Debian's python3-numpy)" % sys.executable)

sys.path.insert(0, os.path.join(REPO, "python"))
from backprop_lens_tracer import expr as X  # noqa: E402

FIXTURES = os.path.join(REPO, "test", "fixtures", "python")
TRAINING = os.path.join(FIXTURES, "debug_training.py")
DIVERGE = os.path.join(FIXTURES, "debug_diverge.py")
FILTERS = {"nonFinite": True, "gradCheck": True, "exploding": True, "deadRelu": False, "lossUp": False, "error": True}


# ASTs as core/debug/expr.ts writes them
def num(v):
    return {"k": "num", "v": v, "at": 0}


def name(n, at=0):
    return {"k": "name", "name": n, "at": at}


def member(o, n):
    return {"k": "member", "obj": o, "name": n, "at": 0}


def index(o, i):
    return {"k": "index", "obj": o, "index": num(i), "at": 0}


def binary(op, a, b):
    return {"k": "binary", "op": op, "left": a, "right": b, "at": 0}


def line_of(path, text):
    with open(path) as f:
        for i, line in enumerate(f):
            if text in line:
                return i + 1
    raise AssertionError("%r not in %s" % (text, path))


def line_bp(id, path, line, **extra):
    b = {"id": id, "where": {"kind": "line", "file": path, "line": line}}
    b.update(extra)
    return b


def function_bp(id, layer, phase=None, **extra):
    w = {"kind": "function", "name": layer}
    if phase:
        w["phase"] = phase
    b = {"id": id, "where": w}
    b.update(extra)
    return b


class Positions:
    """The positions a run has sent so far, by id."""

    def __init__(self):
        self.by_id = {}

    def add(self, stop):
        for p in stop["positions"]:
            self.by_id[p["id"]] = p
        return stop

    def __getitem__(self, i):
        return self.by_id[i]


def layer_ids(trace):
    return {l["id"]: n for n, l in trace.layers.items()}


class PositionTest(unittest.TestCase):
    def test_positions_complete_in_order_with_nested_calls_first_and_updates_per_parameter(self):
        r = DebugRun(TRAINING, stop_on_entry=True)
        seen = Positions()
        stop = seen.add(r.stopped())
        self.assertEqual(stop["reason"], "entry")
        self.assertEqual((stop["live"], stop["show"]), (0, 0))
        for _ in range(13):
            r.resume({})
            stop = seen.add(r.stopped())
        t = r.finish()
        names = layer_ids(t)
        label = lambda p: "%s.%s%s" % (names[p["layer"]], p["phase"], ("." + p["param"]) if p.get("param") else "") if p["kind"] != "update" else "update " + names[p["layer"]]  # noqa: E731
        got = [(label(seen[i]), seen[i]["site"]["line"], [o["phase"] for o in seen[i]["open"]]) for i in range(14)]
        L = lambda text: line_of(TRAINING, text)  # noqa: E731
        self.assertEqual(got, [
            ("dense1.forward", L("    dense1.forward(X)"), []),
            ("activation1.forward", L("activation1.forward(dense1.output)"), []),
            ("dense2.forward", L("dense2.forward(activation1.output)"), []),
            ("loss_activation.loss.forward", L("return self.loss.calculate(self.output, y_true)"), ["forward"]),
            ("loss_activation.forward", L("loss = loss_activation.forward(dense2.output, y)"), []),
            ("loss_activation.backward", L("loss_activation.backward(loss_activation.output, y)"), []),
            ("dense2.backward", L("dense2.backward(loss_activation.dinputs)"), []),
            ("activation1.backward", L("activation1.backward(dense2.dinputs)"), []),
            ("dense1.backward", L("dense1.backward(activation1.dinputs)"), []),
            ("dense1.update.weights", L("optimizer.update_params(dense1)"), ["update"]),
            ("dense1.update.biases", L("optimizer.update_params(dense1)"), ["update"]),
            ("update dense1", L("optimizer.update_params(dense1)"), []),
            ("dense2.update.weights", L("optimizer.update_params(dense2)"), ["update"]),
            ("dense2.update.biases", L("optimizer.update_params(dense2)"), ["update"]),
        ])
        self.assertEqual([seen[i]["kind"] for i in (9, 10, 11)], ["param", "param", "update"])
        self.assertEqual(seen[4]["loss"], seen[3]["loss"])
        self.assertTrue(all(seen[i]["step"] == 0 for i in range(14)))
        # the positions' seq are the trace's layer calls, and their tensors the trace's
        calls = {c["seq"]: c for c in t.calls()}
        p = seen[8]
        self.assertEqual(calls[p["seq"]]["phase"], "backward")
        self.assertEqual(p["tensors"]["dweights"]["data"], calls[p["seq"]]["tensors"]["dweights"]["data"])
        # the update: weights after it are the forward's weights minus lr * dweights
        u = seen[11]
        w0 = np.array(calls[seen[0]["seq"]]["tensors"]["weights"]["data"])
        dw = np.array(u["tensors"]["dweights"]["data"])
        self.assertTrue(np.allclose(np.array(u["tensors"]["weights"]["data"]), w0 - 1.0 * dw, rtol=0, atol=1e-15))
        np.testing.assert_array_equal(np.array(u["tensors"]["weights.before"]["data"]), w0)
        self.assertEqual(u["optimizer"], {"kind": "SGD", "iterations": 0})
        self.assertEqual(u["learningRate"], 1.0)
        self.assertTrue(t.end["ok"], t.end)

    def test_method_ranges_of_the_users_classes_come_with_the_stops(self):
        r = DebugRun(TRAINING, stop_on_entry=True)
        stop = r.stopped()
        ranges = list(stop["ranges"])
        for _ in range(8):
            r.resume({})
            ranges += r.stopped()["ranges"]
        r.finish()
        back = next(x for x in ranges if x["className"] == "Layer_Dense" and x["phase"] == "backward")
        self.assertEqual((back["startLine"], back["endLine"]), (line_of(TRAINING, "def backward(self, dvalues):"), line_of(TRAINING, "self.dinputs = np.dot(dvalues, self.weights.T)")))
        self.assertEqual(back["file"], TRAINING)


class BreakpointTest(unittest.TestCase):
    def test_a_line_inside_backward_stops_when_that_method_completes_in_every_step(self):
        line = line_of(TRAINING, "self.dweights = np.dot(self.inputs.T, dvalues)")
        r = DebugRun(TRAINING, breakpoints=[line_bp(1, TRAINING, line)])
        stops = []
        for _ in range(4):
            s = r.stopped()
            stops.append(s)
            r.resume(None)
        t = r.finish()
        names = layer_ids(t)
        got = []
        for s in stops:
            p = next(p for p in s["positions"] if p["id"] == s["show"])
            got.append((s["reason"], s["hits"], names[p["layer"]], p["phase"], p["step"]))
        self.assertEqual(got, [("breakpoint", [1], "dense2", "backward", 0), ("breakpoint", [1], "dense1", "backward", 0),
                               ("breakpoint", [1], "dense2", "backward", 1), ("breakpoint", [1], "dense1", "backward", 1)])

    def test_a_line_breakpoint_on_a_call_line_stops_at_that_call_with_a_condition_on_step(self):
        line = line_of(TRAINING, "dense1.backward(activation1.dinputs)")
        r = DebugRun(TRAINING, breakpoints=[line_bp(4, TRAINING, line, condition=binary("==", name("step"), num(5)), conditionText="step == 5")])
        s = r.stopped()
        p = next(p for p in s["positions"] if p["id"] == s["show"])
        self.assertEqual((p["step"], p["phase"], p["site"]["line"]), (5, "backward", line))
        # its tensors are the call's: dweights = inputsᵀ · dvalues, from the forward of the same step
        fwd = next(q for q in s["positions"] if q["kind"] == "layer" and q["layer"] == p["layer"] and q["phase"] == "forward" and q["step"] == 5)
        inputs = np.array(fwd["tensors"]["inputs"]["data"]).reshape(fwd["tensors"]["inputs"]["shape"])
        dvalues = np.array(p["tensors"]["dvalues"]["data"]).reshape(p["tensors"]["dvalues"]["shape"])
        self.assertTrue(np.allclose(np.array(p["tensors"]["dweights"]["data"]).reshape(2, 16), inputs.T @ dvalues, rtol=1e-12, atol=1e-15))
        # positions of this step and the one before came with the stop, nothing older
        self.assertEqual(sorted({q["step"] for q in s["positions"]}), [4, 5])
        r.resume(None)
        self.assertIsNone(r.stopped(), "step == 5 holds in one step only")
        t = r.finish()
        self.assertTrue(t.end["ok"])

    def test_a_condition_on_a_tensor_property_stops_where_it_first_holds(self):
        plain = run_file(TRAINING, keepSteps=20)
        ids = {n: l["id"] for n, l in plain.layers.items()}
        norms = [next(g["norms"]["dweights"] for g in s["summary"]["grads"] if g["layer"] == ids["dense2"]) for s in plain.of("step/summary")]
        ordered = sorted(norms)
        threshold = (ordered[len(norms) // 2] + ordered[len(norms) // 2 + 1]) / 2
        want = next(i for i, n in enumerate(norms) if n > threshold)
        cond = binary(">", member(name("dweights"), "norm"), num(threshold))
        r = DebugRun(TRAINING, breakpoints=[function_bp(2, "dense2", "backward", condition=cond, conditionText="dweights.norm > %r" % threshold)])
        s = r.stopped()
        p = next(p for p in s["positions"] if p["id"] == s["show"])
        self.assertEqual((s["reason"], p["step"]), ("function breakpoint", want))
        d = np.array(p["tensors"]["dweights"]["data"])
        self.assertAlmostEqual(float(np.sqrt((d * d).sum())), norms[want], places=12)
        r.finish()

    def test_hit_counts_count_only_where_the_condition_holds(self):
        cond = binary(">=", name("step"), num(2))
        r = DebugRun(TRAINING, breakpoints=[function_bp(3, "dense2", "forward", condition=cond, hit={"op": "%", "n": 3})])
        steps = []
        for _ in range(3):
            s = r.stopped()
            steps.append(next(p for p in s["positions"] if p["id"] == s["show"])["step"])
            r.resume(None)
        r.finish()
        self.assertEqual(steps, [4, 7, 10])

    def test_class_names_and_star_match_every_layer_of_them(self):
        r = DebugRun(TRAINING, breakpoints=[function_bp(5, "Layer_Dense", "backward"), function_bp(6, "*", "update")])
        got = []
        for _ in range(4):
            s = r.stopped()
            p = next(p for p in s["positions"] if p["id"] == s["show"])
            got.append((p["kind"], p["layer"], s["hits"]))
            r.resume(None)
        t = r.finish()
        ids = {n: l["id"] for n, l in t.layers.items()}
        self.assertEqual(got, [("layer", ids["dense2"], [5]), ("layer", ids["dense1"], [5]), ("update", ids["dense1"], [6]), ("update", ids["dense2"], [6])])

    def test_a_condition_that_cannot_be_evaluated_is_reported_once_and_does_not_stop(self):
        cond = binary(">", member(name("dens1", at=0), "norm"), num(0))
        r = DebugRun(TRAINING, breakpoints=[function_bp(7, "dense1", "forward", condition=cond, conditionText="dens1.norm > 0")])
        self.assertIsNone(r.stopped())
        t = r.finish()
        outs = [f["message"] for f in t.frames if f["k"] == "control" and f["message"]["type"] == "debug/output"]
        self.assertEqual(len(outs), 1)
        self.assertEqual(outs[0]["breakpoint"], 7)
        self.assertIn("'dens1' is not known here (did you mean 'dense1'?)", outs[0]["text"])
        self.assertIn("the breakpoint does not stop there", outs[0]["text"])
        self.assertTrue(t.end["ok"])

    def test_a_logpoint_prints_instead_of_stopping(self):
        tmpl = ["step ", {"expr": "step", "ast": name("step")}, ": ", {"expr": "dense1.dweights[0][1]", "ast": index(index(member(name("dense1"), "dweights"), 0), 1)}]
        r = DebugRun(TRAINING, breakpoints=[function_bp(8, "dense1", "backward", log="step {step}: {dense1.dweights[0][1]}", logTemplate=tmpl, hit={"op": "<=", "n": 2})])
        self.assertIsNone(r.stopped())
        t = r.finish()
        outs = [f["message"]["text"] for f in t.frames if f["k"] == "control" and f["message"]["type"] == "debug/output"]
        dw = [c["tensors"]["dweights"] for c in t.calls("dense1", "backward")]
        self.assertEqual(outs, ["step 0: %s" % X.short_number(dw[0]["data"][1]), "step 1: %s" % X.short_number(dw[1]["data"][1])])


class SteppingTest(unittest.TestCase):
    def test_rules_max_depth_and_min_step(self):
        r = DebugRun(TRAINING, stop_on_entry=True)
        r.stopped()
        r.resume({"maxDepth": 0})  # from dense1.forward: step over, the nested loss forward is skipped
        got = []
        for i in range(4):
            s = r.stopped()
            p = next(p for p in s["positions"] if p["id"] == s["live"])
            got.append((p["id"], len(p["open"])))
            # Not after the last stop: a fifth step-over raced the minStep resume below (the model could
            # stop again, at step 0's backward, before that resume arrived).
            if i < 3:
                r.resume({"maxDepth": 0})
        self.assertEqual(got, [(1, 0), (2, 0), (4, 0), (5, 0)])
        r.resume({"minStep": 3})
        s = r.stopped()
        p = next(p for p in s["positions"] if p["id"] == s["live"])
        self.assertEqual((p["step"], p["phase"], p["kind"]), (3, "forward", "layer"))
        r.finish()

    def test_pause_while_running_and_the_clock_frames(self):
        src = BOOK_CLASSES + """
np.random.seed(0)
X = np.random.randn(30, 2)
y = np.arange(30) % 3
dense1 = Layer_Dense(2, 3)
loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
optimizer = Optimizer_SGD(learning_rate=0.1)
while True:
    dense1.forward(X)
    loss = loss_activation.forward(dense1.output, y)
    loss_activation.backward(loss_activation.output, y)
    dense1.backward(loss_activation.dinputs)
    optimizer.update_params(dense1)
"""
        d = tempfile.mkdtemp(prefix="bpl-test-")
        path = os.path.join(d, "endless.py")
        with open(path, "w") as f:
            f.write(src)
        r = DebugRun(path)
        # the kept steps' positions arrive as each ends: once step 2's have, the model is in step 3 or later
        while True:
            m = r.message("debug/positions")
            self.assertIsNotNone(m)
            if any(p["step"] == 2 for p in m["positions"]):
                break
        r.write({"type": "debug/pause"})
        s = r.stopped()
        self.assertEqual(s["reason"], "pause")
        self.assertEqual(r.message("paused"), {"type": "paused", "paused": True})
        self.assertGreaterEqual(next(p for p in s["positions"] if p["id"] == s["live"])["step"], 3)
        # Stop ends a paused model at once
        t0 = time.monotonic()
        r.write({"type": "stop"})
        r.p.wait(10)
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(r.p.returncode, 0)
        r.kill()


class FilterTest(unittest.TestCase):
    def test_an_exploding_gradient_then_the_first_nan_stops_at_the_call_whose_tensor_first_held_it(self):
        r = DebugRun(DIVERGE, filters=FILTERS)
        s = r.stopped()
        self.assertEqual((s["reason"], s["filter"]), ("exception", "exploding"))
        shown = next(p for p in s["positions"] if p["id"] == s["show"])
        self.assertEqual((shown["phase"], shown["step"], shown["site"]["line"]), ("backward", 1, line_of(DIVERGE, "loss_function.backward(softmax.output, y)")))
        self.assertRegex(s["text"], r"^exploding gradient: \u2016loss_function\.dinputs\u2016 = ")
        r.resume(None)
        s = r.stopped()
        self.assertEqual((s["reason"], s["filter"]), ("exception", "nonFinite"))
        positions = {p["id"]: p for p in s["positions"]}
        shown = positions[s["show"]]
        live = positions[s["live"]]
        self.assertEqual(live["kind"], "layer")
        self.assertFalse(math.isfinite(live["loss"]))
        bad = lambda p: any(not np.all(np.isfinite(np.array(t["data"]))) for t in p.get("tensors", {}).values())  # noqa: E731
        self.assertTrue(bad(shown))
        self.assertFalse(any(bad(p) for i, p in positions.items() if i < s["show"]), "no earlier position held a non-finite value")
        self.assertIn("first appeared in softmax.forward: output[", s["text"])
        self.assertIn("at step 2 (debug_diverge.py:%d)" % line_of(DIVERGE, "softmax.forward(dense2.output)"), s["text"])
        r.resume(None)
        t = r.finish()
        self.assertEqual(t.end["error"]["kind"], "non-finite")

    def test_loss_went_up_by_more_than_the_factor(self):
        r = DebugRun(DIVERGE, filters=dict(FILTERS, lossUp=2, nonFinite=False))
        s = r.stopped()
        self.assertEqual(s["filter"], "lossUp")
        self.assertRegex(s["text"], r"^the loss went up from 1\.149 to 7\.171 at step 1 \(more than 2\u00d7\)$")
        r.kill()

    def test_a_failed_gradient_check_stops_at_the_broken_layers_backward(self):
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
loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
dense1.forward(X)
leaky.forward(dense1.output)
loss_activation.forward(leaky.output, y)
loss_activation.backward(loss_activation.output, y)
leaky.backward(loss_activation.dinputs)
dense1.backward(leaky.dinputs)
"""
        d = tempfile.mkdtemp(prefix="bpl-test-")
        path = os.path.join(d, "leaky.py")
        with open(path, "w") as f:
            f.write(src)
        r = DebugRun(path, gradCheck={}, filters=FILTERS)
        s = r.stopped()
        self.assertEqual(s["filter"], "gradCheck")
        shown = next(p for p in s["positions"] if p["id"] == s["show"])
        self.assertIn("check Activation_LeakyReLU.backward", s["text"])
        t = r.finish()
        self.assertEqual((shown["layer"], shown["phase"]), (t.layers["leaky"]["id"], "backward"))
        self.assertTrue(t.end["ok"])

    def test_an_error_stops_at_the_call_that_raised_with_what_came_in(self):
        src = BOOK_CLASSES + """
np.random.seed(0)
X = np.random.randn(10, 2)
dense1 = Layer_Dense(2, 3)
dense2 = Layer_Dense(4, 3)
dense1.forward(X)
dense2.forward(dense1.output)
"""
        d = tempfile.mkdtemp(prefix="bpl-test-")
        path = os.path.join(d, "shapes.py")
        with open(path, "w") as f:
            f.write(src)
        r = DebugRun(path, filters=FILTERS)
        s = r.stopped()
        self.assertEqual((s["reason"], s["filter"]), ("exception", "error"))
        p = next(p for p in s["positions"] if p["id"] == s["show"])
        self.assertEqual(p["layerName"] if "layerName" in p else None, "dense2")
        self.assertEqual(p["phase"], "forward")
        self.assertEqual(p["site"]["line"], line_of(path, "dense2.forward(dense1.output)"))
        self.assertEqual(p["tensors"]["inputs"]["shape"], [10, 3])
        self.assertIn("dense2.forward failed", p["error"])
        r.resume(None)
        t = r.finish()
        self.assertEqual(t.end["error"]["kind"], "shape")

    def test_filters_that_are_off_do_not_stop(self):
        r = DebugRun(DIVERGE, filters=dict(FILTERS, nonFinite=False, error=False, exploding=False))
        self.assertIsNone(r.stopped())
        t = r.finish()
        self.assertEqual(t.end["error"]["kind"], "non-finite")


class ExprTest(unittest.TestCase):
    def env(self, **names):
        return X.Env(lambda n: names.get(n), lambda: list(names))

    def test_tensor_properties_indexing_and_arithmetic(self):
        t = X.Tensor([2, 3], np.array([1.0, -2.0, 0.0, 3.0, 0.0, 4.0]))
        e = self.env(t=t, step=5.0)
        ev = lambda a: X.evaluate(a, e)  # noqa: E731
        self.assertEqual(ev(member(name("t"), "norm")), math.sqrt(30))
        self.assertEqual(ev(member(name("t"), "zeros")), 2)
        self.assertEqual(ev(member(name("t"), "maxAbs")), 4)
        self.assertEqual(ev(member(name("t"), "shape")), [2, 3])
        self.assertEqual(ev(index(index(name("t"), -1), 2)), 4.0)
        self.assertEqual(ev(binary("%", name("step"), num(2))), 1)
        self.assertTrue(ev(binary("&&", binary("==", name("step"), num(5)), {"k": "unary", "op": "!", "arg": name("false"), "at": 0})))
        self.assertTrue(math.isnan(X.tensor_property(X.Tensor([2], np.array([1.0, float("nan")])), "max")))

    def test_mistakes_get_the_same_sentences_as_in_typescript(self):
        t = X.Tensor([4, 3], np.zeros(12))
        e = self.env(dense1=X.Obj("dense1 = Layer_Dense(4, 3)", lambda n: t if n == "dweights" else None, lambda: ["dweights"]), dweights=t)
        with self.assertRaises(X.EvalError) as c:
            X.evaluate(binary(">", name("dweights"), num(1)), e)
        self.assertEqual(str(c.exception), "'>' needs a number, and this is a tensor [4, 3]: use one of its numbers (t[0][0]) or a property (.norm, .max, .min, .mean, .zeros, .nonFinite)")
        with self.assertRaises(X.EvalError) as c:
            X.evaluate(member(name("dense1"), "dweight"), e)
        self.assertEqual(str(c.exception), "'dense1' has no 'dweight' here (did you mean 'dweights'?); it has dweights")
        with self.assertRaises(X.EvalError) as c:
            X.evaluate(name("dnese1"), e)
        self.assertTrue(str(c.exception).startswith("'dnese1' is not known here (did you mean 'dense1'?)"), str(c.exception))
        with self.assertRaises(X.EvalError) as c:
            X.evaluate(index(name("dweights"), 4), e)
        self.assertEqual(str(c.exception), "index 4 is out of range for rows 0..3 of a tensor [4, 3]")

    def test_numbers_are_written_as_the_debugger_writes_them(self):
        self.assertEqual([X.short_number(v) for v in (0.44, 2.0, 5.6e-4, 123456.0, -0.0012345, float("nan"))], ["0.44", "2", "5.6e-4", "123456", "-0.001234", "NaN"])
        self.assertEqual(X.js_number(1.5), "1.5")
        self.assertEqual(X.format_value(X.Tensor([2], np.array([0.5, 2.0]))), "[0.5, 2]")


if __name__ == "__main__":
    unittest.main()
