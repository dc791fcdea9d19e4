"""The debugger's expression language, evaluated in the tracer: the same meaning as core/debug/evaluate.ts.

The host parses what the user typed (one parser, core/debug/expr.ts) and sends a small JSON AST:

    {"k": "num", "v": 2, "at": 7}            {"k": "name", "name": "loss", "at": 0}
    {"k": "member", "obj": e, "name": "norm"} {"k": "index", "obj": e, "index": e}
    {"k": "unary", "op": "-" | "!", "arg": e} {"k": "binary", "op": "&&", "left": e, "right": e}

Values are numbers, booleans, strings, tensors (`Tensor`: a shape and a flat float64 array), lists of
numbers (a shape) and objects (`Obj`: a layer, with members by name). Tensor properties: `norm` (L2),
`max`, `min`, `mean`, `sum`, `std`, `maxAbs`, `size`, `zeros`, `nonFinite`, `shape`, `rows`, `cols`;
`t[i]` is row i (negative counts from the end), `t[i][j]` an element. A mistake raises `EvalError`
with the sentence the TypeScript evaluator gives.
"""

import math

TENSOR_PROPERTIES = ("norm", "max", "min", "mean", "sum", "std", "maxAbs", "size", "zeros", "nonFinite", "shape", "rows", "cols")
_CONSTANTS = {"true": True, "false": False, "NaN": float("nan"), "Infinity": float("inf")}
_BINARY = ("||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%")


class EvalError(Exception):
    def __init__(self, message, offset=0):
        Exception.__init__(self, message)
        self.offset = offset


class Tensor:
    """A tensor as the evaluator sees it: `shape` (list of ints) and `data` (flat float64 ndarray, row-major)."""

    __slots__ = ("shape", "data", "dtype")

    def __init__(self, shape, data, dtype=None):
        self.shape = [int(d) for d in shape]
        self.data = data
        self.dtype = dtype


class Obj:
    """Something with named members: `get(name)` (None when absent) and `keys()`."""

    def __init__(self, label, get, keys):
        self.label = label
        self.get = get
        self.keys = keys


class Env:
    def __init__(self, lookup, names):
        self.lookup = lookup
        self.names = names


def is_ast(x, depth=0):
    """A well-formed AST that came over the wire (the tracer trusts nothing it did not check)."""
    if depth > 200 or not isinstance(x, dict) or not isinstance(x.get("at"), (int, float)):
        return False
    k = x.get("k")
    if k == "num":
        return isinstance(x.get("v"), (int, float)) and not isinstance(x.get("v"), bool)
    if k == "name":
        return isinstance(x.get("name"), str)
    if k == "member":
        return isinstance(x.get("name"), str) and is_ast(x.get("obj"), depth + 1)
    if k == "index":
        return is_ast(x.get("obj"), depth + 1) and is_ast(x.get("index"), depth + 1)
    if k == "unary":
        return x.get("op") in ("-", "!") and is_ast(x.get("arg"), depth + 1)
    if k == "binary":
        return x.get("op") in _BINARY and is_ast(x.get("left"), depth + 1) and is_ast(x.get("right"), depth + 1)
    return False


def _num_type(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def evaluate(e, env):
    k = e["k"]
    at = int(e.get("at", 0))
    if k == "num":
        return float(e["v"])
    if k == "name":
        name = e["name"]
        v = env.lookup(name)
        if v is not None:
            return v
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        raise EvalError("'%s' is not known here%s" % (name, _suggest(name, env.names())), at)
    if k == "member":
        return _member(evaluate(e["obj"], env), e["name"], at, e["obj"])
    if k == "index":
        obj = evaluate(e["obj"], env)
        i = evaluate(e["index"], env)
        if not _num_type(i) or i != i or math.isinf(i) or float(i) != int(i):
            raise EvalError("an index must be a whole number, not %s" % describe(i), int(e["index"].get("at", 0)))
        return _index(obj, int(i), at)
    if k == "unary":
        v = evaluate(e["arg"], env)
        if e["op"] == "!":
            return not _truthy(v, int(e["arg"].get("at", 0)))
        return -_num(v, int(e["arg"].get("at", 0)), "-")
    if k == "binary":
        op = e["op"]
        la = int(e["left"].get("at", 0))
        ra = int(e["right"].get("at", 0))
        if op == "&&":
            return _truthy(evaluate(e["left"], env), la) and _truthy(evaluate(e["right"], env), ra)
        if op == "||":
            return _truthy(evaluate(e["left"], env), la) or _truthy(evaluate(e["right"], env), ra)
        a = evaluate(e["left"], env)
        b = evaluate(e["right"], env)
        if op in ("==", "!=") and isinstance(a, bool) and isinstance(b, bool):
            return (a == b) if op == "==" else (a != b)
        if op in ("==", "!=") and isinstance(a, str) and isinstance(b, str):
            return (a == b) if op == "==" else (a != b)
        x = _num(a, la, op)
        y = _num(b, ra, op)
        if op == "==":
            return x == y
        if op == "!=":
            return x != y
        if op == "<":
            return x < y
        if op == "<=":
            return x <= y
        if op == ">":
            return x > y
        if op == ">=":
            return x >= y
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "/":
            return _js_div(x, y)
        if op == "%":
            return _js_mod(x, y)
    raise EvalError("an expression the tracer does not know (%r)" % k, at)


def evaluate_condition(e, env):
    return _truthy(evaluate(e, env), int(e.get("at", 0)))


def _js_div(x, y):
    if y == 0:
        if x == 0 or x != x:
            return float("nan")
        return math.copysign(float("inf"), x) * math.copysign(1.0, y)
    return x / y


def _js_mod(x, y):
    if y == 0 or x != x or y != y or math.isinf(x):
        return float("nan")
    if math.isinf(y):
        return x
    return math.fmod(x, y)


def _truthy(v, at):
    if isinstance(v, bool):
        return v
    if _num_type(v):
        return v != 0 and v == v
    extra = " or use one of its properties (.norm, .max, .nonFinite)" if isinstance(v, Tensor) else ""
    raise EvalError("%s is not true or false; compare it (e.g. '> 0')%s" % (describe(v), extra), at)


def _num(v, at, op):
    if _num_type(v):
        return float(v)
    if isinstance(v, bool):
        raise EvalError("'%s' needs numbers, not a true/false value" % op, at)
    if isinstance(v, Tensor):
        raise EvalError("'%s' needs a number, and this is a tensor %s: use one of its numbers (%s) or a property (.norm, .max, .min, .mean, .zeros, .nonFinite)"
                        % (op, _show_shape(v.shape), "t[0][0]" if len(v.shape) > 1 else "t[0]"), at)
    raise EvalError("'%s' needs a number, not %s" % (op, describe(v)), at)


def _member(obj, name, at, obj_expr):
    if isinstance(obj, Tensor):
        v = tensor_property(obj, name)
        if v is None:
            raise EvalError("a tensor has no property '%s'; it has %s" % (name, ", ".join(TENSOR_PROPERTIES)), at)
        return v
    if isinstance(obj, Obj):
        v = obj.get(name)
        if v is None:
            keys = obj.keys()
            close = [k for k in keys if _edit_distance(k.lower(), name.lower()) <= max(1, len(name) // 4)]
            hint = " (did you mean %s?)" % " or ".join("'%s'" % c for c in close[:3]) if close else ""
            has = "; it has %s%s" % (", ".join(keys[:12]), ", …" if len(keys) > 12 else "") if keys else ""
            raise EvalError("%s has no '%s' here%s%s" % (_obj_name(obj_expr), name, hint, has), at)
        return v
    if isinstance(obj, list) and name == "length":
        return float(len(obj))
    raise EvalError("%s has no properties (asked for '%s')" % (describe(obj), name), at)


def _index(obj, i, at):
    if isinstance(obj, list):
        j = len(obj) + i if i < 0 else i
        if j < 0 or j >= len(obj):
            raise EvalError("index %d is out of range for a list of %d" % (i, len(obj)), at)
        return obj[j]
    if isinstance(obj, Tensor):
        rank = len(obj.shape)
        if rank == 0:
            raise EvalError("a scalar tensor has no rows to index", at)
        n = obj.shape[0]
        j = n + i if i < 0 else i
        if j < 0 or j >= n:
            raise EvalError("index %d is out of range for %s 0..%d of a tensor %s" % (i, "rows" if rank > 1 else "elements", n - 1, _show_shape(obj.shape)), at)
        if rank == 1:
            return float(obj.data[j])
        inner = obj.shape[1:]
        size = 1
        for d in inner:
            size *= d
        return Tensor(inner, obj.data[j * size:(j + 1) * size])
    raise EvalError("%s cannot be indexed" % describe(obj), at)


def tensor_property(t, name):
    """A tensor's property, or None when there is no such property (NaN wins in max/min, as in NumPy)."""
    import numpy as np

    d = t.data
    n = int(d.size)
    if name == "shape":
        return [float(x) for x in t.shape]
    if name == "size":
        return float(n)
    if name == "rows":
        return float(t.shape[0]) if t.shape else 1.0
    if name == "cols":
        return float(t.shape[1]) if len(t.shape) > 1 else (float(t.shape[0]) if t.shape else 1.0)
    with np.errstate(all="ignore"):
        if name == "norm":
            return float(math.sqrt(float(np.sum(d * d)))) if n else 0.0
        if name == "sum":
            return float(np.sum(d))
        if name == "mean":
            return float(np.sum(d) / n) if n else float("nan")
        if name == "std":
            if n == 0:
                return float("nan")
            m = float(np.sum(d) / n)
            return float(math.sqrt(float(np.sum((d - m) ** 2)) / n))
        if name in ("max", "min", "maxAbs"):
            if n == 0:
                return float("nan")
            if np.isnan(d).any():
                return float("nan")
            if name == "max":
                return float(np.max(d))
            if name == "min":
                return float(np.min(d))
            return float(np.max(np.abs(d)))
        if name == "zeros":
            return float(int(np.count_nonzero(d == 0)))
        if name == "nonFinite":
            return float(int(np.count_nonzero(~np.isfinite(d))))
    return None


def _obj_name(e):
    if e.get("k") in ("name", "member"):
        return "'%s'" % e["name"]
    return "this"


def describe(v):
    if isinstance(v, bool):
        return "the value %s" % ("true" if v else "false")
    if _num_type(v):
        return "the number %s" % js_number(v)
    if isinstance(v, str):
        return 'the text "%s"' % v
    if isinstance(v, list):
        return "the list [%s]" % ", ".join(js_number(x) for x in v)
    if isinstance(v, Tensor):
        return "a tensor %s" % _show_shape(v.shape)
    if isinstance(v, Obj):
        return v.label
    return str(v)


def _show_shape(shape):
    return "[%s]" % ", ".join(str(int(d)) for d in shape)


def _suggest(name, known):
    close = [k for k in known if _edit_distance(k.lower(), name.lower()) <= max(1, len(name) // 4)]
    if close:
        return " (did you mean %s?)" % " or ".join("'%s'" % c for c in close[:3])
    if known:
        return "; known here: %s%s" % (", ".join(known[:16]), ", …" if len(known) > 16 else "")
    return ""


def _edit_distance(a, b):
    """Edit distance with adjacent transpositions (optimal string alignment), as core/suggest.ts's editDistance."""
    d = [[j if i == 0 else (i if j == 0 else 0) for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            v = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (0 if a[i - 1] == b[j - 1] else 1))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, d[i - 2][j - 2] + 1)
            d[i][j] = v
    return d[len(a)][len(b)]


def js_number(v):
    """A number as JavaScript's String(v) writes it (2, 0.44, 1e-7, NaN, Infinity)."""
    v = float(v)
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    r = repr(v)
    if "e" in r:
        m, e = r.split("e")
        exp = int(e)
        if -7 < exp < 21:
            return ("%.17f" % v).rstrip("0").rstrip(".") if exp < 0 else r
        return "%se%s%d" % (m.rstrip("0").rstrip(".") if "." in m else m, "-" if exp < 0 else "+", abs(exp))
    return r


def short_number(v):
    """core/debug/evaluate.ts `shortNumber`: 4 significant digits, an exponent when tiny or huge."""
    v = float(v)
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0:
        return "0"
    if v == int(v) and abs(v) < 1e9:
        return str(int(v))
    a = abs(v)
    if a >= 1e5 or a < 1e-3:
        m, e = ("%.1e" % v).split("e")
        return "%se%s%d" % (m, "-" if int(e) < 0 else "", abs(int(e)))
    return js_number(float("%.4g" % v))


def format_value(v):
    """core/debug/evaluate.ts `formatValue`: `[300, 64] ‖·‖ 5.6e-4` for a tensor, `0.44` for a number."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if _num_type(v):
        return short_number(v)
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return "[%s]" % ", ".join(js_number(x) for x in v)
    if isinstance(v, Tensor):
        if len(v.shape) == 1 and v.shape[0] <= 8:
            return "[%s]" % ", ".join(short_number(x) for x in v.data.tolist())
        bad = int(tensor_property(v, "nonFinite"))
        return "%s \u2016\u00b7\u2016 %s%s" % (_show_shape(v.shape), short_number(tensor_property(v, "norm")), (" \u26a0 %d non-finite" % bad) if bad > 0 else "")
    if isinstance(v, Obj):
        return v.label
    return str(v)
