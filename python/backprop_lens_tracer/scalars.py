"""The plain-float single neuron (chapter 9's opening, `examples/python/01_single_neuron.py`) as scalar trace
events and debugger positions, like the TypeScript `Value` class (core/scalar/value.ts, core/trace/scalarTrace.ts).

Plain Python floats have no operations to observe, so the model file is compiled from a rewritten AST
(`Rewriter`, an `ast.NodeTransformer`): each `a * b`, `a + b (+ c …)`, `a - b`, `max(z, 0)` and `x += …`
becomes a call of the recording object `__bpl_scalar__` that computes exactly the same Python expression
(the same operator on the same operands in the same order, so every result is bit-identical and
NumPy arrays, lists, strings and everything else behave as before) and records it only when the
operands are Python `float`/`int` with at least one `float`. Every new node keeps the original node's
line and column, so tracebacks and positions are the user's lines. Only model files that import
neither NumPy nor PyTorch and define no layer class are rewritten (`wants_scalars`): a walk-through,
never a training loop.

What is recorded (the book's names, as `Value` records them):
- forward operations are `scalar/node` events: `mul`, `sum` (a chain `xw0 + xw1 + xw2 + b` is one sum
  of four terms, as the book draws it; `a - b` a sum with local derivatives 1 and −1) and `relu`
  (`max(z, 0)`), labelled by the variable assigned (`xw0`, `z`, `y`), their operands' leaves by their
  names (`x[0]` → `x0`, `b`, a literal by its value);
- the hand-written chain rule: a product assigned to `d<op>_d<name>` (`drelu_dz = dvalue * …`,
  `drelu_dxw0 = drelu_dz * dsum_dxw0`) whose one operand is the upstream gradient (`dvalue(s)` or an
  earlier product) is a chain-rule step of the step's `scalar/backward` (target: the value named
  `<name>` among the inputs of the value the upstream gradient belongs to), sent when the backward
  ends (the next forward operation, or the end of the run);
- a step ends at the first forward operation after a backward (core/trace/scalarTrace.ts `ScalarPhase`).
"""

import ast
import builtins
import re

MAX_SCALAR_EVENTS = 20000
NAME = "__bpl_scalar__"
_CHAIN = re.compile(r"^d([A-Za-z][A-Za-z0-9]*)_d([A-Za-z_][A-Za-z0-9_]*)$")
_UPSTREAM = ("dvalue", "dvalues")


def wants_scalars(tree):
    """True for a plain-Python walk-through: no NumPy or torch import, no class with forward/backward."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(a.name.split(".")[0] in ("numpy", "torch") for a in node.names):
                return False
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in ("numpy", "torch"):
                return False
        elif isinstance(node, ast.ClassDef):
            names = {b.name for b in node.body if isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef))}
            if "forward" in names:
                return False
    return True


def key_of(e):
    """`x[0]`, `xw0`, `self.b` for a side-effect-free operand, else None."""
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Attribute):
        k = key_of(e.value)
        return None if k is None else "%s.%s" % (k, e.attr)
    if isinstance(e, ast.Subscript):
        k = key_of(e.value)
        idx = e.slice
        if isinstance(idx, ast.Index):  # Python 3.8
            idx = idx.value
        if k is not None and isinstance(idx, ast.Constant) and isinstance(idx.value, int) and not isinstance(idx.value, bool):
            return "%s[%d]" % (k, idx.value)
        if k is not None and isinstance(idx, ast.Name):
            return "%s[%s]" % (k, idx.id)
    return None


def label_of_key(k):
    """`x[0]` → `x0` (the book's names), `self.b` → `b`."""
    m = re.match(r"^(?:.*\.)?([A-Za-z_][A-Za-z0-9_]*)\[(\d+)\]$", k)
    if m:
        return m.group(1) + m.group(2)
    return k.split(".")[-1]


def constant_of(e):
    if isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool):
        return e.value
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
        v = constant_of(e.operand)
        if v is not None:
            return -v if isinstance(e.op, ast.USub) else v
    return None


class Rewriter(ast.NodeTransformer):
    """Routes scalar arithmetic through `__bpl_scalar__`; `sites[i]` is what the recorder knows of call site i."""

    def __init__(self):
        self.sites = []
        self.target = None

    def _site(self, node, **info):
        info["line"] = node.lineno
        info["column"] = node.col_offset + 1
        self.sites.append(info)
        return ast.Constant(len(self.sites) - 1)

    def _call(self, node, method, args):
        call = ast.Call(func=ast.Attribute(value=ast.Name(id=NAME, ctx=ast.Load()), attr=method, ctx=ast.Load()), args=args, keywords=[])
        return ast.copy_location(call, node)

    def _operand(self, e):
        k = key_of(e)
        c = constant_of(e)
        return {"key": k, "label": label_of_key(k) if k else (repr(c) if c is not None else None)}

    def visit_Assign(self, node):
        target = key_of(node.targets[0]) if len(node.targets) == 1 else None
        saved, self.target = self.target, target
        node.value = self._top(node.value)
        self.target = saved
        return node

    def _top(self, value):
        """The assigned expression: its own operation takes the target's name; everything inside is anonymous."""
        target, self.target = self.target, None
        if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub, ast.Mult)):
            return self._binop(value, target)
        if isinstance(value, ast.Call):
            return self._maxcall(value, target)
        return self.visit(value)

    def visit_AugAssign(self, node):
        target = key_of(node.target)
        if target is None or not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            node.value = self.visit(node.value)
            return node
        value = self.visit(node.value)
        load = _as_load(node.target)
        method = {ast.Add: "iadd", ast.Sub: "isub", ast.Mult: "imul"}[type(node.op)]
        site = self._site(node, op=method, target=target, operands=[self._operand(load), self._operand(node.value)])
        call = self._call(node, method, [site, load, value])
        return ast.copy_location(ast.Assign(targets=[node.target], value=call), node)

    def visit_BinOp(self, node):
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            return self._binop(node, None)
        return self.generic_visit(node)

    def visit_Call(self, node):
        return self._maxcall(node, None)

    def _binop(self, node, target):
        if isinstance(node.op, ast.Mult):
            left, right = self.visit(node.left), self.visit(node.right)
            site = self._site(node, op="mul", target=target, operands=[self._operand(node.left), self._operand(node.right)])
            return self._call(node, "mul", [site, left, right])
        # a chain a + b - c + d: the inner sums are "partial", the outer one records all terms
        chain = []
        e = node
        while isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Sub)):
            chain.append(e)
            e = e.left
        chain.reverse()
        first = e
        acc = self.visit(first)
        operands = [self._operand(first)]
        for i, b in enumerate(chain):
            right = self.visit(b.right)
            operands = operands + [self._operand(b.right)]
            last = i == len(chain) - 1
            site = self._site(b, op="add" if isinstance(b.op, ast.Add) else "sub", target=target if last else None,
                              partial=not last, chained=i > 0, operands=list(operands))
            acc = self._call(b, "add" if isinstance(b.op, ast.Add) else "sub", [site, acc, right])
        return acc

    def _maxcall(self, node, target):
        node = self.generic_visit(node) if not (isinstance(node.func, ast.Name) and node.func.id == "max") else node
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "max" and len(node.args) == 2 and not node.keywords \
                and not any(isinstance(a, ast.Starred) for a in node.args):
            zero = [i for i, a in enumerate(node.args) if constant_of(a) == 0]
            args = [self.visit(a) for a in node.args]
            if zero:
                z = 1 - zero[0]
                site = self._site(node, op="relu", target=target, operands=[self._operand(node.args[z])], z=z)
                return self._call(node, "relu", [site, node.func] + args)
            node.args = args
            return node
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "max":
            return self.generic_visit(node)
        return node


def _as_load(t):
    if isinstance(t, ast.Name):
        return ast.copy_location(ast.Name(id=t.id, ctx=ast.Load()), t)
    if isinstance(t, ast.Attribute):
        return ast.copy_location(ast.Attribute(value=_as_load(t.value), attr=t.attr, ctx=ast.Load()), t)
    if isinstance(t, ast.Subscript):
        return ast.copy_location(ast.Subscript(value=_as_load(t.value), slice=t.slice, ctx=ast.Load()), t)
    return t


def compile_with_scalars(source, filename):
    """(code, recorder sites) with the scalar arithmetic routed through `__bpl_scalar__`, or None to run it as is."""
    tree = ast.parse(source, filename)
    if not wants_scalars(tree):
        return None
    rw = Rewriter()
    tree = rw.visit(tree)
    ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec", dont_inherit=True), rw.sites


def _num(x):
    t = type(x)
    return t is float or t is int


def _recordable(*xs):
    return all(_num(x) for x in xs) and any(type(x) is float for x in xs)


class Scalars:
    """The recording object the rewritten module calls (`__bpl_scalar__`)."""

    def __init__(self, recorder, file, sites):
        self.rec = recorder
        self.file = file
        self.sites = sites
        self.next_id = 0
        self.events = 0
        self.phase = "idle"
        self.nodes = {}  # id -> node dict
        self.bindings = {}  # key -> (value object, node id)
        self.results = {}  # id(value) -> (value object, node id): results of recorded operations
        self.partials = {}  # id(partial sum) -> (value, [(term value, operand info)], locals)
        self.chain = {}  # key of a chain-rule product -> (value object, target node id)
        self.backward = None
        self.grads = {}
        self.touched = set()

    # ------------------------------------------------------------ the operations (identical results)

    def mul(self, i, a, b):
        r = a * b
        if _recordable(a, b) and self._room():
            s = self.sites[i]
            if not self._chain_step(s, a, b, r):
                self._node(s, "mul", [(a, s["operands"][0]), (b, s["operands"][1])], [float(b), float(a)], r)
        return r

    def add(self, i, a, b):
        return self._sum(i, a, b, a + b, 1.0)

    def sub(self, i, a, b):
        return self._sum(i, a, b, a - b, -1.0)

    def iadd(self, i, a, b):
        if not _recordable(a, b):
            a += b
            return a
        return self._sum(i, a, b, a + b, 1.0)

    def isub(self, i, a, b):
        if not _recordable(a, b):
            a -= b
            return a
        return self._sum(i, a, b, a - b, -1.0)

    def imul(self, i, a, b):
        if not _recordable(a, b):
            a *= b
            return a
        return self.mul(i, a, b)

    def relu(self, i, fn, a, b):
        r = fn(a, b)
        if fn is builtins.max and _recordable(a, b) and self._room():
            s = self.sites[i]
            z = a if s["z"] == 0 else b
            self._node(s, "relu", [(z, s["operands"][0])], [1.0 if z > 0 else 0.0], r)
        return r

    # ------------------------------------------------------------ recording

    def _room(self):
        return self.rec.active and self.events < MAX_SCALAR_EVENTS

    def _sum(self, i, a, b, r, sign):
        if not _recordable(a, b) or not self._room():
            return r
        s = self.sites[i]
        ops = s.get("operands") or []
        if s.get("chained") and id(a) in self.partials and self.partials[id(a)][0] is a:
            _, terms, local = self.partials.pop(id(a))
        else:
            terms, local = [(a, ops[0] if ops else {})], [1.0]
        terms = terms + [(b, ops[len(terms)] if len(ops) > len(terms) else {})]
        local = local + [sign]
        if s.get("partial"):
            self.partials[id(r)] = (r, terms, local)
            if len(self.partials) > 64:
                self.partials.clear()
            return r
        self._node(s, "sum", terms, local, r)
        return r

    def _begin_forward(self):
        if self.phase == "backward":
            self._end_backward()
            self.rec.next_step()
        self.phase = "forward"

    def _site_of(self, s):
        return {"file": self.file, "line": s["line"], "column": s["column"]}

    def _input(self, value, info, s):
        """The node of an operand: the value bound to its name in this step, a recorded result, else a new leaf."""
        k = info.get("key") if info else None
        step = self.rec.step
        if k is not None:
            b = self.bindings.get(k)
            if b is not None and b[0] is value and self.nodes[b[1]]["step"] == step:
                return b[1]
        if k is None:
            r = self.results.get(id(value))
            if r is not None and r[0] is value and self.nodes[r[1]]["step"] == step:
                return r[1]
        label = (info or {}).get("label") or repr(value)
        nid = self._emit(label, "", float(value), [], [], s)
        if k is not None:
            self.bindings[k] = (value, nid)
        return nid

    def _node(self, s, op, operands, local, r):
        self._begin_forward()
        inputs = [self._input(v, info, s) for v, info in operands]
        target = s.get("target")
        label = label_of_key(target) if target else self._default_label(op, inputs)
        nid = self._emit(label, op, float(r), inputs, local, s)
        if target:
            self.bindings[target] = (r, nid)
        self.results[id(r)] = (r, nid)
        return nid

    def _default_label(self, op, inputs):
        labels = [self.nodes[i]["label"] for i in inputs]
        if op == "mul" and len(labels) == 2:
            ma = re.match(r"^([A-Za-z_]+)(\d*)$", labels[0])
            mb = re.match(r"^([A-Za-z_]+)(\d*)$", labels[1])
            if ma and mb and ma.group(2) == mb.group(2):
                return ma.group(1) + mb.group(1) + ma.group(2)
            return "%s\u00b7%s" % (labels[0], labels[1])
        if op == "relu":
            return "relu(%s)" % labels[0]
        return " + ".join(labels)

    def _emit(self, label, op, data, inputs, local, s):
        nid = self.next_id
        self.next_id += 1
        self.events += 1
        node = {"id": nid, "label": label, "op": op, "data": data, "inputs": inputs, "local": local, "step": self.rec.step, "site": self._site_of(s)}
        self.nodes[nid] = node
        if len(self.results) > 4 * MAX_SCALAR_EVENTS:
            self.results.clear()
        self.rec.emitted_steps.add(self.rec.step)
        self.rec.emit({"type": "scalar/node", "node": node})
        obs = self.rec.observer
        if obs is not None and hasattr(obs, "scalar_node"):
            obs.scalar_node(node)
        return nid

    # ------------------------------------------------------------ the hand-written chain rule

    def _chain_step(self, s, a, b, r):
        target = s.get("target")
        m = _CHAIN.match(target or "")
        if not m:
            return False
        of, wrt = m.group(1), m.group(2)
        ops = s["operands"]
        for ui, (u, local, linfo) in enumerate(((a, b, ops[1]), (b, a, ops[0]))):
            uinfo = ops[ui]
            ukey = uinfo.get("key")
            node = None
            if ukey in _UPSTREAM:
                node = self._root_for(of, wrt)
                upstream_name = ukey
            elif ukey in self.chain and self.chain[ukey][0] is u:
                node = self.chain[ukey][1]
                upstream_name = ukey
            if node is None:
                continue
            tid = next((t for t in self.nodes[node]["inputs"] if self.nodes[t]["label"] == wrt), None)
            if tid is None:
                continue
            self._record_step(s, node, tid, target, upstream_name, float(u), linfo, of, wrt, float(local), float(r), ukey in _UPSTREAM)
            self.chain[target] = (r, tid)
            return True
        return False

    def _root_for(self, of, wrt):
        step = self.rec.step
        for nid in sorted(self.nodes, reverse=True):
            n = self.nodes[nid]
            if n["step"] != step:
                break
            if (n["op"] == of or n["label"] == of) and any(self.nodes[t]["label"] == wrt for t in n["inputs"]):
                return nid
        return None

    def _record_step(self, s, node, target, name, upstream_name, upstream, linfo, of, wrt, local, value, at_root):
        if not self.rec.active:
            return
        if self.phase != "backward":
            self.phase = "backward"
            self.backward = {"step": self.rec.step, "root": node, "dvalue": upstream, "steps": [], "dvalueKey": upstream_name, "site": self._site_of(s)}
            self.grads = {node: upstream}
            self.touched = set()
        local_name = linfo.get("key") if linfo and linfo.get("key") else ("\u2202%s/\u2202%s" % (self.nodes[node]["op"] or self.nodes[node]["label"], wrt))
        accumulated = target in self.touched
        self.touched.add(target)
        self.grads[target] = self.grads.get(target, 0.0) + value
        self.backward["steps"].append({
            "target": target, "node": node, "name": name,
            "upstream": {"name": upstream_name, "value": upstream},
            "local": {"name": local_name, "value": local},
            "value": value, "accumulated": accumulated,
        })
        self.events += 1
        self.rec.emitted_steps.add(self.rec.step)
        obs = self.rec.observer
        if obs is not None and hasattr(obs, "scalar_backward"):
            obs.scalar_backward(self._backward_event(), self._site_of(s))

    def _backward_event(self):
        b = self.backward
        grads = {}
        stack = [b["root"]]
        while stack:
            n = stack.pop()
            if n in grads:
                continue
            grads[n] = self.grads.get(n, 0.0)
            stack.extend(self.nodes[n]["inputs"])
        out = {"step": b["step"], "root": b["root"], "dvalue": b["dvalue"], "steps": [dict(st) for st in b["steps"]],
               "grads": [{"id": k, "grad": v} for k, v in sorted(grads.items())], "site": b["site"]}
        return out

    def _end_backward(self):
        if self.backward is not None and self.backward["steps"]:
            self.rec.emit({"type": "scalar/backward", "backward": self._backward_event()})
        self.backward = None
        self.chain = {}

    def finish(self):
        if self.phase == "backward":
            self._end_backward()
            self.phase = "idle"
