"""The plain-float single neuron as scalar trace events and positions (scalars.py): the AST rewrite leaves
every result bit-identical to running the file plainly, and the graph and chain rule are the book's."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import EXAMPLES, run_file  # noqa: E402
from debug_harness import DebugRun  # noqa: E402

NEURON = os.path.join(EXAMPLES, "01_single_neuron.py")
with open(NEURON) as _f:
    NEURON_LINES = _f.read().split("\n")

# Arithmetic of every kind the rewrite touches, on floats, ints, lists, strings and a user class, printed exactly
MIXED = '''
class V:
    def __init__(self, v): self.v = v
    def __add__(self, o): return V(self.v + (o.v if isinstance(o, V) else o))
    def __radd__(self, o): return V(o + self.v)
    def __mul__(self, o): return V(self.v * o)
    def __repr__(self): return "V(%r)" % self.v
a, b, c = 0.1, 0.2, 0.7
s = a + b + c - 0.3 + 1e-17
p = a * b * c * 3
xs = [1.5, -2.25]
xs[0] += a * 3
xs[1] *= 1.0 / 3
xs += [4]
t = "ab" + "c" * 2
n = 7
n += 1
n = n * 3 + 1
v = V(2) + 1.5 + V(0.25)
v2 = 3 + V(1) * 2.5
m = max(-0.5, 0) + max(0, 2.5) + max(a, b) + max(3, 0)
def max(x, y): return "shadowed"
k = max(1.0, 0)
import math
r = math.fsum([s, p, xs[0], xs[1]])
print([float.hex(x) for x in (s, p, xs[0], xs[1], r, m)], xs, t, n, v, v2, k)
'''


def plain(path):
    r = subprocess.run([sys.executable, "-B", path], capture_output=True, text=True, cwd=os.path.dirname(path), timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def traced_stdout(trace):
    return "".join(e["text"] + ("" if e["text"].endswith("\n") else "\n") for e in trace.of("console"))


class SingleNeuron(unittest.TestCase):
    def test_results_are_bit_identical_to_running_the_file_plainly(self):
        d = tempfile.mkdtemp(prefix="bpl-scalars-")
        mixed = os.path.join(d, "mixed.py")
        with open(mixed, "w") as f:
            f.write(MIXED)
        for path in (NEURON, mixed):
            t = run_file(path)
            self.assertTrue(t.end["ok"], t.end)
            self.assertEqual(traced_stdout(t), plain(path), path)
        # the mixed file's float operations were recorded, its list, string, int and V operations not
        labels = [e["node"]["label"] for e in run_file(mixed).of("scalar/node") if e["node"]["op"]]
        self.assertIn("s", labels)
        self.assertIn("p", labels)
        self.assertNotIn("t", labels)
        self.assertNotIn("n", labels)
        self.assertNotIn("v", labels)

    def test_the_graph_and_the_chain_rule_are_the_books(self):
        t = run_file(NEURON)
        nodes = {e["node"]["id"]: e["node"] for e in t.of("scalar/node")}
        step0 = [n for n in nodes.values() if n["step"] == 0]
        by = {n["label"]: n for n in step0}
        x, w, b = [1.0, -2.0, 3.0], [-3.0, -1.0, 2.0], 1.0
        z = x[0] * w[0] + x[1] * w[1] + x[2] * w[2] + b
        self.assertEqual([(n["label"], n["op"]) for n in step0 if n["op"]], [("xw0", "mul"), ("xw1", "mul"), ("xw2", "mul"), ("z", "sum"), ("y", "relu")])
        self.assertEqual(by["z"]["data"], z)
        self.assertEqual([nodes[i]["label"] for i in by["z"]["inputs"]], ["xw0", "xw1", "xw2", "b"])
        self.assertEqual([nodes[i]["label"] for i in by["xw1"]["inputs"]], ["x1", "w1"])
        self.assertEqual(by["xw1"]["local"], [w[1], x[1]])
        self.assertEqual(by["y"]["data"], max(z, 0))
        self.assertEqual(by["y"]["local"], [1.0 if z > 0 else 0.0])
        self.assertEqual(by["z"]["site"]["line"], next(i + 1 for i, l in enumerate(NEURON_LINES) if l.startswith("z = xw0 + xw1")))
        (back,) = t.of("scalar/backward")
        back = back["backward"]
        self.assertEqual((back["step"], back["root"], back["dvalue"]), (0, by["y"]["id"], 1.0))
        self.assertEqual([s["name"] for s in back["steps"]], ["drelu_dz", "drelu_dxw0", "drelu_dxw1", "drelu_dxw2", "drelu_db",
                                                              "drelu_dx0", "drelu_dw0", "drelu_dx1", "drelu_dw1", "drelu_dx2", "drelu_dw2"])
        s = back["steps"][6]
        self.assertEqual((nodes[s["target"]]["label"], nodes[s["node"]]["label"], s["upstream"]["name"], s["local"]["name"]), ("w0", "xw0", "drelu_dxw0", "dmul_dw0"))
        # the chapter's gradients, computed here: dx = w·relu'(z), dw = x·relu'(z), db = relu'(z)
        grads = {nodes[g["id"]]["label"]: g["grad"] for g in back["grads"]}
        d = 1.0 if z > 0 else 0.0
        self.assertEqual([grads["x0"], grads["x1"], grads["x2"]], [wi * d for wi in w])
        self.assertEqual([grads["w0"], grads["w1"], grads["w2"]], [xi * d for xi in x])
        self.assertEqual(grads["b"], d)
        self.assertEqual(grads["z"], d)
        # what the file prints as dx, dw, db is the same
        printed = [e["text"] for e in t.of("console")]
        self.assertIn("%r %r %r" % ([wi * d for wi in w], [xi * d for xi in x], d), printed)
        # step 1: the update w0 ← w0 + (−0.001·dw0) then the forward pass again
        step1 = [n for n in nodes.values() if n["step"] == 1]
        w0 = next(n for n in step1 if n["label"] == "w0" and n["op"] == "sum")
        self.assertEqual(w0["data"], w[0] + -0.001 * (x[0] * d))
        y1 = [n for n in step1 if n["label"] == "y"][-1]
        self.assertLess(y1["data"], max(z, 0))
        self.assertEqual(t.end["keptSteps"], [0, 1])

    def test_numpy_and_layer_files_are_not_rewritten(self):
        t = run_file(os.path.join(EXAMPLES, "02_layer_batch.py"))
        self.assertEqual(t.of("scalar/node"), [])

    def test_debugging_stops_at_every_operation_and_chain_rule_product_at_its_line(self):
        lines = NEURON_LINES
        L = lambda text: next(i + 1 for i, l in enumerate(lines) if l.startswith(text))  # noqa: E731
        r = DebugRun(NEURON, breakpoints=[{"id": 1, "where": {"kind": "line", "file": NEURON, "line": L("y = max(z, 0)")}},
                                          {"id": 2, "where": {"kind": "line", "file": NEURON, "line": L("drelu_dxw1 = ")}}])
        stop = r.stopped()
        live = next(p for p in stop["positions"] if p["id"] == stop["live"])
        self.assertEqual((stop["reason"], live["kind"], live["node"]["label"], live["node"]["op"], live["node"]["data"]), ("breakpoint", "scalar", "y", "relu", 6.0))
        self.assertEqual(live["site"]["line"], L("y = max(z, 0)"))
        kinds = [(p["kind"], p["node"]["label"]) for p in stop["positions"] if p["kind"] == "scalar"]
        self.assertEqual(kinds[:3], [("scalar", "x0"), ("scalar", "w0"), ("scalar", "xw0")])
        # Step Into: the next position is the first chain-rule product, at its line
        r.resume({})
        stop = r.stopped()
        live = next(p for p in stop["positions"] if p["id"] == stop["live"])
        self.assertEqual((live["kind"], live["site"]["line"]), ("scalar-backward", L("drelu_dz = ")))
        self.assertEqual([s["name"] for s in live["backward"]["steps"]], ["drelu_dz"])
        r.resume(None)
        stop = r.stopped()
        live = next(p for p in stop["positions"] if p["id"] == stop["live"])
        self.assertEqual(stop["hits"], [2])
        self.assertEqual([s["name"] for s in live["backward"]["steps"]], ["drelu_dz", "drelu_dxw0", "drelu_dxw1"])
        t = r.finish()
        self.assertTrue(t.end["ok"], t.end)


if __name__ == "__main__":
    unittest.main()
