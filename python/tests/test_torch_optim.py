"""A PyTorch optimizer's `step()` as debugger positions and step summaries (torch_hooks.py, debugger.py).

`optimizer.step()` becomes, per traced module, one `param` position per parameter (`update fc1.weights`,
nested in the update) and then the `update` position, at the line of `optimizer.step()`, with the
parameter before and after, the gradient and the optimizer's state by the debugger's names; a plain
run's step summaries carry the update's OptimizerStep. The numbers are checked against each optimizer's
formula computed here from the positions' own before/gradient (and the earlier state), not against torch.
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import run_file  # noqa: E402
from debug_harness import DebugRun  # noqa: E402

import numpy as np  # noqa: E402

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False
    print("test_torch_optim: PyTorch is not installed for %s: its tests are skipped" % sys.executable)

TEMPLATE = '''import torch
import torch.nn as nn

torch.manual_seed(0)
X = torch.randn(8, 3, dtype=torch.float64)
y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class SignSGD(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["last_sign"] = torch.sign(p.grad)
                p.add_(self.state[p]["last_sign"], alpha=-group["lr"])


model = Net().double()
loss_function = nn.CrossEntropyLoss()
optimizer = OPTIMIZER
for epoch in range(STEPS):
    optimizer.zero_grad()
    loss = loss_function(model(X), y)
    loss.backward()
    optimizer.step()
print("done")
'''


def model_file(optimizer, steps=3):
    d = tempfile.mkdtemp(prefix="bpl-torch-optim-")
    path = os.path.join(d, "model.py")
    with open(path, "w") as f:
        f.write(TEMPLATE.replace("OPTIMIZER", optimizer).replace("STEPS", str(steps)))
    return path


def step_line(path):
    with open(path) as f:
        return next(i + 1 for i, line in enumerate(f) if "optimizer.step()" in line)


def every_position(path, **kw):
    """Steps through the whole run (`debug/resume` with an empty rule stops at every position)."""
    r = DebugRun(path, stop_on_entry=True, **kw)
    seen = {}
    stop = r.stopped()
    n = 0
    while stop is not None and n < 2000:
        for p in stop["positions"]:
            seen[p["id"]] = p
        r.resume({})
        stop = r.stopped(timeout=60)
        n += 1
    t = r.finish()
    return [seen[i] for i in sorted(seen)], t


def arr(t):
    return np.array(t["data"], dtype=np.float64).reshape(t["shape"])


@unittest.skipUnless(HAVE_TORCH, "PyTorch is not installed")
class TorchOptimizerPositions(unittest.TestCase):
    def names(self, t):
        return {l["id"]: n for n, l in t.layers.items()}

    def test_sgd_with_momentum_is_an_update_per_module_with_a_position_per_parameter_at_the_step_line(self):
        path = model_file("torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)")
        positions, t = every_position(path)
        self.assertTrue(t.end["ok"], t.end)
        names = self.names(t)
        line = step_line(path)
        upd = [p for p in positions if p["kind"] in ("update", "param")]

        def label(p):
            return "update %s.%s" % (names[p["layer"]], p["param"]) if p["kind"] == "param" else "SGD update %s" % names[p["layer"]]

        self.assertEqual([label(p) for p in upd if p["step"] == 0], [
            "update fc1.weights", "update fc1.biases", "SGD update fc1", "update fc2.weights", "update fc2.biases", "SGD update fc2"])
        for p in upd:
            self.assertEqual(p["site"]["line"], line)
            self.assertEqual(p["site"]["file"], path)
            self.assertEqual(p["optimizer"], {"kind": "SGD", "iterations": p["step"]})
            self.assertEqual(p["learningRate"], 0.1)
            self.assertEqual([(o["kind"], o["layer"]) for o in p["open"]], [("update", p["layer"])] if p["kind"] == "param" else [])
        # the update comes after the step's backward calls and before the next step's first forward
        kinds = [(p["step"], p["kind"]) for p in positions]
        first_update = kinds.index((0, "param"))
        self.assertTrue(all(k[1] == "layer" for k in kinds[:first_update]))
        self.assertEqual(kinds[first_update + 6], (1, "layer"))
        # p_after = p_before - lr * buf, buf = 0.9 * buf_prev + dw (buf = dw at the first step), computed here
        forwards = {(p["step"], p["layer"]): p for p in positions if p["kind"] == "layer" and p["phase"] == "forward"}
        for pname in ("weights", "biases"):
            buf_prev = None
            for step in range(3):
                p = next(q for q in upd if q["kind"] == "param" and q["step"] == step and names[q["layer"]] == "fc1" and q["param"] == pname)
                tensors = p["tensors"]
                self.assertEqual(sorted(tensors), sorted([pname, pname + ".before", "d" + pname, pname + ".momentum"]))
                before, dw, buf, after = arr(tensors[pname + ".before"]), arr(tensors["d" + pname]), arr(tensors[pname + ".momentum"]), arr(tensors[pname])
                expected_buf = dw if buf_prev is None else 0.9 * buf_prev + dw
                np.testing.assert_allclose(buf, expected_buf, rtol=0, atol=1e-15)
                np.testing.assert_allclose(after, before - 0.1 * buf, rtol=0, atol=1e-15)
                self.assertFalse(np.allclose(after, before))
                # before is what this step's forward used, after what the next step's forward uses
                np.testing.assert_array_equal(before, arr(forwards[(step, p["layer"])]["tensors"][pname]))
                if step < 2:
                    np.testing.assert_array_equal(after, arr(forwards[(step + 1, p["layer"])]["tensors"][pname]))
                # the gradient is the one the backward call recorded, in the book's orientation ([in, out] for weights)
                back = next(q for q in positions if q["kind"] == "layer" and q["phase"] == "backward" and q["step"] == step and q["layer"] == p["layer"])
                np.testing.assert_array_equal(dw, arr(back["tensors"]["d" + pname]))
                if pname == "weights":
                    self.assertEqual(list(before.shape), [3, 4])
                buf_prev = buf
        # the update position holds every parameter's tensors
        u = next(q for q in upd if q["kind"] == "update" and q["step"] == 1 and names[q["layer"]] == "fc2")
        self.assertEqual(sorted(u["tensors"]), sorted(["weights", "weights.before", "dweights", "weights.momentum", "biases", "biases.before", "dbiases", "biases.momentum"]))

    def test_adam_state_and_update_follow_adams_formula(self):
        path = model_file("torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99), eps=1e-6)", steps=4)
        positions, t = every_position(path)
        self.assertTrue(t.end["ok"], t.end)
        names = self.names(t)
        for layer in ("fc1", "fc2"):
            for pname in ("weights", "biases"):
                m = v = 0.0
                for step in range(4):
                    p = next(q for q in positions if q["kind"] == "param" and q["step"] == step and names[q["layer"]] == layer and q["param"] == pname)
                    self.assertEqual(p["optimizer"], {"kind": "Adam", "iterations": step})
                    tt = p["tensors"]
                    before, g = arr(tt[pname + ".before"]), arr(tt["d" + pname])
                    m = 0.8 * m + 0.2 * g
                    v = 0.99 * v + 0.01 * g * g
                    np.testing.assert_allclose(arr(tt[pname + ".m"]), m, rtol=1e-12, atol=1e-15)
                    np.testing.assert_allclose(arr(tt[pname + ".v"]), v, rtol=1e-12, atol=1e-18)
                    tstep = step + 1
                    m_hat = m / (1 - 0.8 ** tstep)
                    v_hat = v / (1 - 0.99 ** tstep)
                    np.testing.assert_allclose(arr(tt[pname]), before - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-6), rtol=1e-12, atol=1e-14)

    def test_a_users_own_optimizer_subclass_is_positions_too_with_its_state(self):
        path = model_file("SignSGD(model.parameters(), lr=0.05)")
        positions, t = every_position(path)
        self.assertTrue(t.end["ok"], t.end)
        names = self.names(t)
        params = [p for p in positions if p["kind"] == "param"]
        self.assertEqual(len(params), 3 * 4)
        for p in params:
            self.assertEqual(p["optimizer"]["kind"], "SignSGD")
            tt = p["tensors"]
            n = p["param"]
            np.testing.assert_array_equal(arr(tt[n + ".last_sign"]), np.sign(arr(tt["d" + n])))
            np.testing.assert_allclose(arr(tt[n]), arr(tt[n + ".before"]) - 0.05 * np.sign(arr(tt["d" + n])), rtol=0, atol=1e-15)
        self.assertEqual(sorted(set(names[p["layer"]] for p in params)), ["fc1", "fc2"])

    def test_a_breakpoint_on_the_step_line_and_a_function_breakpoint_on_fc1_update(self):
        path = model_file("torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)")
        line = step_line(path)
        cond = {"k": "binary", "op": "==", "left": {"k": "name", "name": "step", "at": 0}, "right": {"k": "num", "v": 1, "at": 0}, "at": 0}
        r = DebugRun(path, breakpoints=[{"id": 1, "where": {"kind": "line", "file": path, "line": line}, "condition": cond}])
        stop = r.stopped()
        self.assertEqual(stop["reason"], "breakpoint")
        self.assertEqual(stop["hits"], [1])
        live = next(p for p in stop["positions"] if p["id"] == stop["live"])
        self.assertEqual((live["kind"], live["param"], live["step"], live["site"]["line"]), ("param", "weights", 1, line))
        # the same line holds every parameter's position of that step: Continue stops at the next one
        r.resume(None)
        stop = r.stopped()
        live = next(p for p in stop["positions"] if p["id"] == stop["live"])
        self.assertEqual((live["kind"], live["param"], live["step"]), ("param", "biases", 1))
        r.write({"type": "debug/configure", "breakpoints": [{"id": 2, "where": {"kind": "function", "name": "fc1", "phase": "update"}}], "filters": {}})
        r.resume(None)
        stop = r.stopped()
        live = next(p for p in stop["positions"] if p["id"] == stop["live"])
        self.assertEqual((stop["reason"], live["kind"], live["step"]), ("function breakpoint", "update", 1))
        r.resume(None)
        stop = r.stopped()
        live = next(p for p in stop["positions"] if p["id"] == stop["live"])
        self.assertEqual((live["kind"], live["step"]), ("update", 2))
        t = r.finish()
        self.assertEqual(t.layers["fc1"]["id"], live["layer"])

    def test_a_plain_run_has_each_steps_update_in_its_summary(self):
        for optimizer, expected in (
            ("torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)", {"kind": "SGD", "learningRate": 0.1, "momentum": 0.9}),
            ("torch.optim.SGD(model.parameters(), lr=0.1)", {"kind": "SGD", "learningRate": 0.1}),
            ("torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)", {"kind": "SGD (Nesterov)", "learningRate": 0.1, "momentum": 0.9}),
            ("torch.optim.Adam(model.parameters(), lr=0.01)", {"kind": "Adam", "learningRate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}),
            ("SignSGD(model.parameters(), lr=0.05)", {"kind": "SignSGD", "learningRate": 0.05}),
        ):
            t = run_file(model_file(optimizer))
            self.assertTrue(t.end["ok"], t.end)
            summaries = [e["summary"] for e in t.of("step/summary")]
            self.assertEqual([s["step"] for s in summaries], [0, 1, 2])
            for s in summaries:
                o = dict(s["optimizer"])
                self.assertEqual(o.pop("iteration"), s["step"])
                # Nesterov momentum is not the book's formula: its kind says so (the inspector shows it as measured)
                self.assertEqual(o, expected, optimizer)
            self.assertEqual(t.console()[-1].strip(), "done")


if __name__ == "__main__":
    unittest.main()
