"""Tracing the book's NumPy classes by duck typing, through `builtins.__build_class__`.

Every `class` statement in the user's files goes through `builtins.__build_class__`; the tracer
replaces it for the run with a function that builds the class as usual and then, when the class is
the user's and looks like one of the book's kinds, wraps a few of its methods in the class itself:

- a layer: `forward` and `backward` (a loss: `forward` and `calculate`, with or without `backward`);
- an optimizer: `pre_update_params`, `update_params`, `post_update_params`;
- `__init__` (added when the class has none of its own), to know where each object was built.

Why this and not `sys.setprofile`/`sys.settrace`: a profiler hook runs on every Python call and line
of the whole program (NumPy's Python layers included) and slows a training loop several times; the
wrapped methods cost one extra Python call per layer call and nothing elsewhere. Only classes built
while the tracer runs are touched, so the user's objects are ordinary instances of their own classes
(`type(dense1) is Layer_Dense`, `isinstance` and `super()` behave as before) and nothing on disk
changes. Subclasses of `torch.nn.Module` are left to the PyTorch hooks (torch_hooks.py), subclasses
of `torch.autograd.Function` are wrapped there too.
"""

import builtins
import functools
import inspect
import re
import sys

from . import arrays
from .gradcheck import gradcheck_numpy_layer
from .recorder import ShapeStop, accuracy_of, book_optimizer_step, tensor_of

WRAPPED = "__bpl_original__"
_D_ASSIGN = re.compile(r"self\.d([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^\]]*\]\s*)?[+\-*/]?=")
_OPT_METHODS = ("pre_update_params", "update_params", "post_update_params")


def classify(name, has_weights):
    n = name.lower().replace("_", "")
    if "softmax" in n and ("loss" in n or "entropy" in n):
        return "softmax-cce"
    if "crossentropy" in n or n.endswith("cce"):
        return "cce"
    if "softmax" in n:
        return "softmax"
    if "relu" in n and "leaky" not in n:
        return "relu"
    if ("dense" in n or "linear" in n) and has_weights:
        return "dense"
    return "custom"


def _is_wrapped(fn):
    return getattr(fn, WRAPPED, None) is not None


def _original(fn):
    return getattr(fn, WRAPPED, fn)


class Duck:
    def __init__(self, recorder, sites, torch_hooks=None):
        self.rec = recorder
        self.sites = sites
        self.torch = torch_hooks
        self._orig_build_class = None

    # ------------------------------------------------------------ installation

    def install(self):
        self._orig_build_class = builtins.__build_class__
        orig = self._orig_build_class
        duck = self

        def __build_class__(func, name, *bases, **kwargs):
            cls = orig(func, name, *bases, **kwargs)
            try:
                if isinstance(cls, type) and duck.sites.is_user_file(func.__code__.co_filename):
                    duck.consider(cls)
            except Exception as e:  # never break the user's class statement
                duck.rec.wire.control({"type": "tracer-warning", "message": "could not trace class %s: %s" % (name, e)})
            return cls

        builtins.__build_class__ = __build_class__

    def uninstall(self):
        if self._orig_build_class is not None:
            builtins.__build_class__ = self._orig_build_class
            self._orig_build_class = None

    def consider(self, cls):
        torch = sys.modules.get("torch")
        if torch is not None:
            if issubclass(cls, torch.nn.Module):
                return  # module hooks trace it
            if issubclass(cls, torch.autograd.Function):
                if self.torch is not None:
                    self.torch.wrap_function_class(cls)
                return
        has = lambda n: callable(getattr(cls, n, None))  # noqa: E731
        if has("forward") and (has("backward") or has("calculate")):
            for name in ("forward", "backward", "calculate"):
                fn = cls.__dict__.get(name)
                if fn is None:
                    inherited = getattr(cls, name, None)
                    if inherited is None or _is_wrapped(inherited):
                        continue
                    fn = inherited
                if isinstance(fn, (staticmethod, classmethod)) or not callable(fn) or _is_wrapped(fn):
                    continue
                setattr(cls, name, self._wrap(fn, name))
            self._wrap_init(cls, "layer")
        elif any(has(n) for n in _OPT_METHODS):
            for name in _OPT_METHODS:
                fn = cls.__dict__.get(name)
                if fn is None or not callable(fn) or _is_wrapped(fn):
                    continue
                setattr(cls, name, self._wrap_opt(fn, name))

    def _wrap_init(self, cls, role):
        duck = self
        own = cls.__dict__.get("__init__")
        if own is not None and _is_wrapped(own):
            return
        if own is None:
            inherited = cls.__init__
            if _is_wrapped(inherited):
                return  # a traced base registers the object
            if inherited is object.__init__:
                if cls.__new__ is not object.__new__:
                    return

                def __init__(self, *args, **kwargs):
                    duck.built(self)
                    if args or kwargs:
                        raise TypeError("%s() takes no arguments" % type(self).__name__)

                __init__.__qualname__ = cls.__qualname__ + ".__init__"
                setattr(__init__, WRAPPED, object.__init__)
                cls.__init__ = __init__
                return
            own = inherited

        orig = own

        @functools.wraps(orig)
        def __init__(self, *args, **kwargs):
            duck.built(self)
            return orig(self, *args, **kwargs)

        setattr(__init__, WRAPPED, orig)
        cls.__init__ = __init__

    def built(self, obj):
        """Registers a layer at its construction site (once: base classes' __init__ run too)."""
        if self.rec.state_of(obj) is not None and self.rec.state_of(obj).obj is obj:
            return
        site = self.sites.capture(3)
        st = self.rec.register(obj, site, type(obj).__name__)
        self._describe(st)

    # ------------------------------------------------------------ states

    def _describe(self, st):
        obj = st.obj
        cls = type(obj)
        names = self._param_names(cls)
        duck = self

        cache = {"names": None, "final": False}

        def params():
            # Names: what backward assigns (from its source) plus any P with a dP beside it; settled once
            # a backward has run (each call then costs a few getattr).
            if cache["names"] is None or not cache["final"]:
                cache["names"] = names + [n for n in duck._dynamic_params(obj) if n not in names]
                cache["final"] = any(k.startswith("d") and k != "dinputs" for k in getattr(obj, "__dict__", {})) or not names
            out = []
            for p in cache["names"]:
                v = getattr(obj, p, None)
                if arrays.is_array(v):
                    out.append((p, v))
            return out

        st.params = params

        def description():
            ps = dict(params())
            w = ps.get("weights")
            if st.kind == "dense" and w is not None and getattr(w, "ndim", 0) == 2:
                return "%s(%d, %d)" % (st.class_name, w.shape[0], w.shape[1])
            return st.class_name

        st.description = description
        st.duck_names = names
        st.gradcheck = lambda fwd, back, options: duck._gradcheck(st, fwd, back, options)

    def _finalise_kind(self, st):
        if getattr(st, "kind_known", False):
            return
        st.kind_known = True
        has_weights = arrays.is_array(getattr(st.obj, "weights", None))
        st.kind = classify(st.class_name, has_weights)
        if st.kind == "custom":
            # the class may inherit from one of the book's (class LeakyReLU(Activation_ReLU) stays custom)
            pass

    def _param_names(self, cls):
        """Parameters: P such that backward assigns self.dP (read from its source), e.g. weights, biases."""
        out = []
        fn = getattr(cls, "backward", None)
        fn = _original(fn) if fn is not None else None
        src = ""
        if fn is not None:
            try:
                src = inspect.getsource(fn)
            except (OSError, TypeError):
                src = ""
        for m in _D_ASSIGN.finditer(src):
            p = m.group(1)
            if p not in ("inputs", "values", "output") and p not in out:
                out.append(p)
        return out

    def _dynamic_params(self, obj):
        d = getattr(obj, "__dict__", {})
        return [k[1:] for k in d if k.startswith("d") and k[1:] in d and k not in ("dinputs", "dvalues") and arrays.is_array(d[k[1:]])]

    def state(self, obj):
        st = self.rec.state_of(obj)
        if st is None or st.obj is not obj:
            st = self.rec.register(obj, None, type(obj).__name__)
            self._describe(st)
        self._finalise_kind(st)
        return st

    # ------------------------------------------------------------ wrappers

    def _wrap(self, fn, method):
        duck = self

        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            return duck.call(self, method, fn, args, kwargs)

        setattr(wrapper, WRAPPED, fn)
        return wrapper

    def _wrap_opt(self, fn, method=None):
        duck = self

        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            rec = duck.rec
            if not rec.active:
                return fn(self, *args, **kwargs)
            rec.optimizer_update(self, book_optimizer_step(self) if method == "update_params" and not rec.call_stack else None)
            observer = rec.observer
            if observer is None or method != "update_params" or not args or rec.call_stack:
                return fn(self, *args, **kwargs)
            # Debug runs: the update of one layer is a position (optimizer.update_params(dense1), at that line)
            site = duck.sites.capture(2)
            before = _params_before(rec, args[0])
            result = fn(self, *args, **kwargs)
            observer.update(self, args[0], site, before)
            return result

        setattr(wrapper, WRAPPED, fn)
        return wrapper

    def call(self, obj, method, fn, args, kwargs):
        rec = self.rec
        if not rec.active:
            return fn(obj, *args, **kwargs)
        # super().forward(...) inside a traced forward: the outer call records it
        for frame in rec.call_stack:
            if frame.obj is obj and getattr(frame, "_bpl_method", None) == method:
                return fn(obj, *args, **kwargs)
        st = self.state(obj)
        if method == "calculate":
            return self._calculate(st, fn, args, kwargs)
        phase = method
        site, parent = rec.begin(st, phase)
        if getattr(st, "_in_calculate", 0) and getattr(st, "_calc_site", None):
            site = st._calc_site  # the line that called calculate(), not the forward call inside it
        st._bpl_method = method
        rec.call_stack.append(st)
        try:
            result = fn(obj, *args, **kwargs)
        except BaseException as e:
            self.annotate(e, st, phase, site, args)
            if rec.observer is not None:
                try:
                    t = tensor_of(args[0]) if args else None
                    rec.observer.threw(st, phase, site, {("dvalues" if phase == "backward" else "inputs"): t} if t is not None else {})
                except Exception:
                    pass  # the user's error is what matters
            raise
        finally:
            rec.call_stack.pop()
            st._bpl_method = None
        if rec.active:
            self._record(st, phase, site, parent, args, kwargs, result)
        return result

    def _calculate(self, st, fn, args, kwargs):
        rec = self.rec
        st._in_calculate = getattr(st, "_in_calculate", 0) + 1
        st._calc_record = None
        st._calc_site = self.sites.capture(3)
        try:
            result = fn(st.obj, *args, **kwargs)
        finally:
            st._in_calculate -= 1
        r = st._calc_record
        st._calc_record = None
        if r is not None:
            value = result[0] if isinstance(result, tuple) and result else result
            loss = _float(value)
            acc = None
            if loss is not None and st.kind in ("cce", "softmax-cce"):
                acc = accuracy_of(r.tensors.get("inputs") if st.kind == "cce" else r.tensors.get("output"), r.tensors.get("targets"))
            rec.set_loss(r, loss, acc) if loss is not None else rec.emit_kept(r)
        return result

    def _record(self, st, phase, site, parent, args, kwargs, result):
        obj = st.obj
        rec = self.rec
        tensors = {}
        extra = {}
        a0 = args[0] if args else None
        a1 = args[1] if len(args) > 1 else kwargs.get("y_true", kwargs.get("y"))
        loss = None
        acc = None
        if phase == "forward":
            inputs = getattr(obj, "inputs", None)
            if not arrays.is_array(inputs):
                inputs = a0
            t = tensor_of(inputs)
            if t is not None:
                tensors["inputs"] = t
            t = tensor_of(a1) if a1 is not None else None
            if t is not None:
                tensors["targets"] = t
            out = getattr(obj, "output", None)
            if not arrays.is_array(out):
                out = result if arrays.is_array(result) else None
            t = tensor_of(out) if out is not None else None
            if t is not None:
                tensors["output"] = t
                extra["output"] = out
            for pname, v in st.params():
                t = tensor_of(v, copy=True)
                if t is not None:
                    tensors[pname] = (t[0].copy(), t[1])
            loss = _float(result) if not arrays.is_array(result) else None
            if loss is None and st.kind == "cce" and "output" in tensors and not getattr(st, "_in_calculate", 0):
                loss = float(tensors["output"][0].mean())
            if loss is not None and st.kind in ("cce", "softmax-cce"):
                acc = accuracy_of(tensors.get("inputs") if st.kind == "cce" else tensors.get("output"), tensors.get("targets"))
        else:
            t = tensor_of(a0) if a0 is not None else None
            if t is not None:
                tensors["dvalues"] = t
            t = tensor_of(a1) if a1 is not None else None
            if t is not None:
                tensors["targets"] = t
            dinputs = getattr(obj, "dinputs", None)
            t = tensor_of(dinputs) if dinputs is not None else None
            if t is not None:
                tensors["dinputs"] = t
                extra["dinputs"] = dinputs
                want = st.last_forward_inputs_shape
                if want is not None and list(t[0].shape) != want:
                    info = rec.info_of(st)
                    if rec.observer is not None:
                        rec.observer.threw(st, phase, site, dict(tensors))
                    raise ShapeStop(
                        "%s.backward set dinputs of shape %s, but the inputs of its forward had shape %s: dinputs must have "
                        "the shape of the inputs (one gradient per input element). %s is %s%s."
                        % (info["name"], arrays.show_shape(t[0].shape), arrays.show_shape(want), info["name"], info["description"],
                           (", built at %s:%d" % (_base(info["site"]["file"]), info["site"]["line"])) if info.get("site") else ""),
                        site, info,
                    )
            for pname, _ in st.params():
                g = getattr(obj, "d" + pname, None)
                t = tensor_of(g) if g is not None else None
                if t is not None:
                    tensors["d" + pname] = t
        defer = phase == "forward" and getattr(st, "_in_calculate", 0) > 0
        r = rec.record(st, phase, site, parent, tensors, loss, acc, args=(list(args), dict(kwargs)), extra=extra, defer=defer)
        if defer:
            st._calc_record = r

    # ------------------------------------------------------------ errors

    def annotate(self, e, st, phase, site, args):
        if getattr(e, "__bpl_context__", None) is not None or isinstance(e, (KeyboardInterrupt, SystemExit)):
            return
        info = self.rec.info_of(st)
        detail = None
        a0 = args[0] if args else None
        if a0 is not None:
            shape = arrays.shape_of(a0)
            src = self.rec.producer_of(a0)
            if src is not None:
                sinfo, name = src
                where = ", built at %s:%d" % (_base(sinfo["site"]["file"]), sinfo["site"]["line"]) if sinfo.get("site") else ""
                detail = "its %s%s came from %s.%s (%s%s)" % (
                    "inputs" if phase == "forward" else "dvalues", " " + arrays.show_shape(shape) if shape is not None else "",
                    sinfo["name"], name, sinfo["description"], where)
            elif shape is not None:
                detail = "its %s have shape %s" % ("inputs" if phase == "forward" else "dvalues", arrays.show_shape(shape))
        ctx = {"layer": info, "phase": phase, "site": site, "detail": detail}
        try:
            e.__bpl_context__ = ctx
        except Exception:
            pass

    # ------------------------------------------------------------ gradient check

    def _gradcheck(self, st, fwd, back, options):
        cls = type(st.obj)
        forward = _original(getattr(cls, "forward"))
        backward = getattr(cls, "backward", None)
        if backward is None:
            raise ValueError("%s has no backward to check" % cls.__name__)
        backward = _original(backward)
        fargs, fkw = fwd.args
        bargs, bkw = back.args
        names = [p for p, _ in st.params()]
        return gradcheck_numpy_layer(st.obj, forward, backward, st.kind, names, fargs, fkw, bargs, bkw, options)


def _params_before(rec, layer):
    """Copies of a layer's parameters before an update (`weights.before` of the update positions)."""
    st = rec.state_of(layer)
    if st is None or st.obj is not layer or st.info is None:
        return None
    out = {}
    try:
        for name, value in st.params():
            t = arrays.as_float64(value)
            if t is not None:
                out[name] = (t[0].copy(), t[1])
    except Exception:
        return None
    return out


def _float(v):
    np = arrays.np() if arrays.numpy_loaded() else None
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if np is not None:
        if isinstance(v, np.number):
            return float(v)
        if isinstance(v, np.ndarray) and v.ndim == 0:
            return float(v)
    if arrays.is_torch_tensor(v) and v.numel() == 1:
        return float(v.detach())
    return None


def _base(p):
    import os

    return os.path.basename(p)
