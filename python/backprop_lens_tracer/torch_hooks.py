"""Tracing PyTorch models into the same trace: modules, user autograd Functions, optimizers.

Installed the moment the model imports `torch` (a meta-path hook runs it after torch's own import):

- `torch.nn.Module.__call__` is wrapped once: a call of a *leaf* module (no child modules: `Linear`,
  `ReLU`, `CrossEntropyLoss`, a user module without children) is a layer call; containers
  (`Sequential`, the user's `Net`) only give their leaves their names (`fc1`, or `model.0` in a
  Sequential). Before a leaf's first call it gets a full backward hook (dvalues = gradient of its
  output, dinputs = gradient of its input) and tensor hooks on its parameters (this backward's
  gradient of each). When the first layer's input does not require a gradient, the layer is given a
  detached copy that does, so its `dinputs` exist as in the book (the user's tensor is not touched).
- Gradients arrive during `loss.backward()`; the backward calls are recorded when it returns
  (`torch.Tensor.backward` and `torch.autograd.backward` are wrapped), in the order autograd ran them.
- `torch.nn.Linear` in the book's orientation: `weights` is `weight.T` (`[in, out]`), `biases` is
  `bias` as a row (`[1, out]`), and `dweights`/`dbiases` likewise, so `output = inputs · weights + biases`
  and `dweights = inputsᵀ · dvalues` hold as the book writes them; the description says so.
- `nn.CrossEntropyLoss` is the book's combined softmax + cross-entropy (its input is the logits): its
  `output` is softmax(logits), its loss the module's result, and `dvalues` the gradient arriving at
  the loss (1 for `loss.backward()`).
- A user `torch.autograd.Function` subclass: its `forward`/`backward` staticmethods are wrapped
  (inputs = first argument, further tensor arguments `arg1`, `arg2`, … with gradients `darg1`, …).
- Optimizers: `step` of every `torch.optim.Optimizer` subclass marks the update.
- Gradient checks: the module (a float64 deep copy) or Function, by central differences against
  autograd through the module's own backward (for a Function, the user's `backward`).
"""

import copy
import functools
import math
import importlib.abc
import importlib.machinery
import sys
import weakref

from . import arrays
from .gradcheck import check_tensor, option_subset
from .recorder import ShapeStop, accuracy_of, tensor_of

# torch's optimizer state by the debugger's names (core/debug/positions.ts; the book's `weight_momentums`,
# Adam's `weight_momentums`/`weight_cache`, RMSprop's and Adagrad's `weight_cache`).
_STATE_NAMES = {"momentum_buffer": "momentum", "exp_avg": "m", "exp_avg_sq": "v", "square_avg": "cache", "sum": "cache"}


def _num(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def _book_view(pname, is_linear):
    """Linear's weight as `weights = weight.T` and its bias as a row, as the trace shows them."""
    if is_linear and pname == "weight":
        return lambda t: t.t()
    if is_linear and pname == "bias":
        return lambda t: t.reshape(1, -1)
    return lambda t: t


KINDS = {"Linear": "dense", "ReLU": "relu", "Softmax": "softmax", "CrossEntropyLoss": "softmax-cce"}


class _TorchFinder(importlib.abc.MetaPathFinder):
    """Runs `on_import` right after `import torch` completes."""

    def __init__(self, on_import):
        self.on_import = on_import
        self.busy = False

    def find_spec(self, fullname, path, target=None):
        if fullname != "torch" or self.busy:
            return None
        self.busy = True
        try:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        finally:
            self.busy = False
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        on_import = self.on_import
        orig_exec = loader.exec_module

        def exec_module(module):
            orig_exec(module)
            on_import(module)

        loader.exec_module = exec_module
        return spec


class TorchHooks:
    def __init__(self, recorder, sites):
        self.rec = recorder
        self.sites = sites
        self.torch = None
        self.ctor_sites = weakref.WeakKeyDictionary()
        self.hooked = weakref.WeakKeyDictionary()
        self.pending = []  # backward records waiting for their parameter gradients
        self.param_grads = {}  # (layer id, param name) -> gradient tensor of the running backward
        self.module_stack = []
        self.function_states = {}
        self._finder = None
        self.stepping = set()  # id() of optimizers inside their step()
        self.step_counts = weakref.WeakKeyDictionary()  # optimizer -> step() calls so far
        self.lr_seen = weakref.WeakKeyDictionary()  # optimizer -> learning rates its updates used

    def install(self):
        if "torch" in sys.modules:
            self.on_import(sys.modules["torch"])
            return
        self._finder = _TorchFinder(self.on_import)
        sys.meta_path.insert(0, self._finder)

    def uninstall(self):
        if self._finder is not None and self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)

    # ------------------------------------------------------------ installation

    def on_import(self, torch):
        if self.torch is not None:
            return
        self.torch = torch
        hooks = self
        Module = torch.nn.Module
        orig_call = Module.__call__
        orig_init = Module.__init__

        def __init__(module, *args, **kwargs):
            if module not in hooks.ctor_sites:
                hooks.ctor_sites[module] = hooks.sites.capture(2)
            return orig_init(module, *args, **kwargs)

        def __call__(module, *args, **kwargs):
            if not hooks.rec.active:
                return orig_call(module, *args, **kwargs)
            return hooks.call(module, orig_call, args, kwargs)

        Module.__init__ = __init__
        Module.__call__ = __call__

        orig_backward = torch.Tensor.backward
        orig_autograd_backward = torch.autograd.backward

        def backward(tensor, *args, **kwargs):
            try:
                return orig_backward(tensor, *args, **kwargs)
            finally:
                hooks.flush_backward()

        def autograd_backward(*args, **kwargs):
            try:
                return orig_autograd_backward(*args, **kwargs)
            finally:
                hooks.flush_backward()

        torch.Tensor.backward = backward
        torch.autograd.backward = autograd_backward
        for name in dir(torch.optim):
            cls = getattr(torch.optim, name)
            if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer) and "step" in cls.__dict__:
                self.wrap_optimizer_class(cls)
        # A user's own Optimizer subclass (defined after `import torch`): its `step` is wrapped when its
        # first instance is built, after torch's own __init__ has put its profiling wrapper on it.
        Optimizer = torch.optim.Optimizer
        orig_opt_init = Optimizer.__init__

        def opt_init(opt, *args, **kwargs):
            orig_opt_init(opt, *args, **kwargs)
            try:
                hooks.wrap_optimizer_class(type(opt))
            except Exception:
                pass

        opt_init.__bpl_original__ = orig_opt_init
        Optimizer.__init__ = opt_init

    def wrap_optimizer_class(self, cls):
        """Wraps the `step` that `cls` uses (its own, or the nearest base's) once."""
        torch = self.torch
        owner = next((k for k in cls.__mro__ if "step" in k.__dict__), None)
        if owner is None or owner is torch.optim.Optimizer or owner is object:
            return
        orig = owner.__dict__["step"]
        if getattr(orig, "__bpl_original__", None) is not None or not callable(orig):
            return
        hooks = self

        # functools.wraps copies torch's `hooked` mark of its profiling wrapper, so torch does not wrap again.
        @functools.wraps(orig)
        def step(opt, *args, **kwargs):
            if not hooks.rec.active or id(opt) in hooks.stepping:
                return orig(opt, *args, **kwargs)
            return hooks.optimizer_step(opt, orig, args, kwargs)

        step.__bpl_original__ = orig
        owner.step = step

    # ------------------------------------------------------------ optimizer updates

    def optimizer_step(self, opt, orig, args, kwargs):
        """`optimizer.step()`: the step summary's OptimizerStep, and in a debug run one update position per
        traced module with one position per parameter (before/after, gradient, the optimizer's state)."""
        self.flush_backward()
        count = self.step_counts.get(opt, 0)
        info = self.optimizer_info(opt, count)
        self.rec.optimizer_update(opt, info)
        observer = self.rec.observer
        before = None
        site = None
        if observer is not None and not getattr(observer, "detached", False) and not self.rec.call_stack:
            site = self.sites.capture(2)
            before = self._snapshot(opt)
        self.stepping.add(id(opt))
        try:
            out = orig(opt, *args, **kwargs)
        finally:
            self.stepping.discard(id(opt))
        self.step_counts[opt] = count + 1
        if before is not None:
            self._update_positions(opt, info, before, site)
        return out

    def optimizer_info(self, opt, count):
        """OptimizerStep (core/trace/traceTypes.ts). `SGD` and `Adam` only when torch's update is the book's
        formula there (core/explainUpdate.ts writes it out): SGD without dampening, Nesterov, weight decay
        or maximize, and with momentum only while the learning rate has stayed the same (torch keeps
        `buf` and applies `lr·buf`; the book keeps the velocity `μ·u − lr·dw`: equal for a constant lr);
        Adam without AMSGrad, weight decay or maximize. Otherwise the kind names what differs
        (`SGD (Nesterov)`), other optimizers keep their class name, and the inspector shows their
        update as measured."""
        torch = self.torch
        group = opt.param_groups[0] if getattr(opt, "param_groups", None) else {}
        lr = _num(group.get("lr"))
        lrs = self.lr_seen.setdefault(opt, set())
        if lr is not None:
            lrs.add(lr)
        kind = type(opt).__name__
        out = {"kind": kind, "learningRate": lr if lr is not None else 0.0, "iteration": count}
        # what makes torch's update differ from the book's formula, named in the kind
        other = []
        if _num(group.get("weight_decay")):
            other.append("weight decay %g" % group["weight_decay"])
        if group.get("maximize", False):
            other.append("maximize")
        if type(opt) is torch.optim.SGD:
            mu = _num(group.get("momentum")) or 0.0
            if _num(group.get("dampening")):
                other.append("dampening %g" % group["dampening"])
            if group.get("nesterov", False):
                other.append("Nesterov")
            if mu and len(lrs) > 1:
                other.append("momentum with a changing learning rate")
            if mu:
                out["momentum"] = mu
        elif type(opt) is torch.optim.Adam:
            betas = group.get("betas") or (0.9, 0.999)
            if group.get("amsgrad", False):
                other.append("AMSGrad")
            out["beta1"] = float(betas[0])
            out["beta2"] = float(betas[1])
            eps = _num(group.get("eps"))
            if eps is not None:
                out["epsilon"] = eps
        if other:
            out["kind"] = "%s (%s)" % (kind, ", ".join(other))
        return out

    def _owners(self):
        """id(parameter) -> (layer state, torch name, the trace's name): the traced leaf modules' parameters."""
        out = {}
        torch = self.torch
        for st in self.rec.by_id:
            module = st.obj
            if not isinstance(module, torch.nn.Module) or st.info is None:
                continue
            is_linear = isinstance(module, torch.nn.Linear)
            for pname, p in module.named_parameters(recurse=False):
                name = {"weight": "weights", "bias": "biases"}.get(pname, pname) if is_linear else pname
                out[id(p)] = (st, p, pname, name, is_linear)
        return out

    def _snapshot(self, opt):
        """The parameters the step will update (those with a gradient), as they are before it."""
        owners = self._owners()
        out = []
        for group in opt.param_groups:
            for p in group["params"]:
                o = owners.get(id(p))
                if o is None or p.grad is None:
                    continue
                out.append((o, p.detach().clone(), p.grad.detach().clone()))
        return out

    def _update_positions(self, opt, info, before, site):
        by_layer = {}
        for (st, p, pname, name, is_linear), old, grad in before:
            view = _book_view(pname, is_linear)
            tensors = {}
            tensors[name] = tensor_of(view(p.detach().clone()))
            tensors[name + ".before"] = tensor_of(view(old))
            tensors["d" + name] = tensor_of(view(grad))
            state = opt.state.get(p, {}) if hasattr(opt, "state") else {}
            for key, v in state.items():
                if isinstance(v, self.torch.Tensor) and v.shape == p.shape and v.is_floating_point():
                    tensors["%s.%s" % (name, _STATE_NAMES.get(key, key))] = tensor_of(view(v.detach().clone()))
            by_layer.setdefault(st.id, (st, []))[1].append((name, {k: t for k, t in tensors.items() if t is not None}))
        iterations = info["iteration"]
        for sid in sorted(by_layer):
            st, params = by_layer[sid]
            self.rec.observer.update_positions(st, info["kind"], iterations, info["learningRate"], site, params)

    # ------------------------------------------------------------ modules

    def _is_leaf(self, module):
        return len(module._modules) == 0

    def state(self, module):
        st = self.rec.state_of(module)
        if st is not None and st.obj is module:
            return st
        cls = type(module).__name__
        st = self.rec.register(module, self.ctor_sites.get(module), cls)
        st.kind = KINDS.get(cls, "custom")
        st.name = self._name(module, st)
        torch = self.torch
        is_linear = isinstance(module, torch.nn.Linear)

        def params():
            out = []
            for pname, p in module.named_parameters(recurse=False):
                if is_linear and pname == "weight":
                    out.append(("weights", p.detach().t()))
                elif is_linear and pname == "bias":
                    out.append(("biases", p.detach().reshape(1, -1)))
                else:
                    out.append((pname, p.detach()))
            return out

        st.params = params
        if is_linear:
            st.description = "Linear(%d, %d), weights = weight.T" % (module.in_features, module.out_features)
        else:
            extra = ""
            try:
                extra = module.extra_repr()
            except Exception:
                extra = ""
            st.description = "%s(%s)" % (cls, extra) if extra and len(extra) < 60 else cls
        st.is_loss = isinstance(module, torch.nn.modules.loss._Loss)
        st.gradcheck = lambda fwd, back, options: self._gradcheck_module(st, fwd, back, options)
        return st

    def _name(self, module, st):
        # inside a container: its path there (`fc1`; `model.0` for a Sequential's members)
        for root in self.module_stack[:1]:
            for path, m in root.named_modules():
                if m is module and path:
                    if path.split(".")[-1].isdigit():
                        rname = self.sites.name_at(self.ctor_sites.get(root)) or type(root).__name__
                        return "%s.%s" % (rname, path)
                    return path
        return None

    def call(self, module, orig_call, args, kwargs):
        if not self._is_leaf(module):
            self.module_stack.append(module)
            try:
                return orig_call(module, *args, **kwargs)
            finally:
                self.module_stack.pop()
        if self.rec.call_stack and self.rec.call_stack[-1].obj is module:
            return orig_call(module, *args, **kwargs)
        torch = self.torch
        self.flush_backward()
        st = self.state(module)
        site, parent = self.rec.begin(st, "forward")
        self._ensure_hooks(module, st)
        if args and isinstance(args[0], torch.Tensor) and torch.is_grad_enabled() and not args[0].requires_grad and args[0].is_floating_point() and not st.is_loss:
            args = (args[0].detach().requires_grad_(True),) + tuple(args[1:])
        elif args and getattr(module, "inplace", False) and isinstance(args[0], torch.Tensor) and args[0].requires_grad:
            # The previous layer's output is its backward hook's view, which autograd forbids writing in
            # place: the in-place module works on a copy (the values and gradients are the same).
            args = (args[0].clone(),) + tuple(args[1:])
        self.rec.call_stack.append(st)
        try:
            out = orig_call(module, *args, **kwargs)
        except BaseException as e:
            self._annotate(e, st, "forward", site, args)
            raise
        finally:
            self.rec.call_stack.pop()
        if self.rec.active:
            self._record_forward(st, site, parent, args, kwargs, out)
        return out

    def _record_forward(self, st, site, parent, args, kwargs, out):
        torch = self.torch
        tensors = {}
        x = args[0] if args else None
        if isinstance(x, torch.Tensor):
            tensors["inputs"] = tensor_of(x)
        y = args[1] if len(args) > 1 else kwargs.get("target")
        if isinstance(y, torch.Tensor):
            tensors["targets"] = tensor_of(y)
        loss = None
        acc = None
        if st.is_loss and isinstance(out, torch.Tensor) and out.numel() == 1:
            loss = float(out.detach())
            if st.kind == "softmax-cce" and isinstance(x, torch.Tensor):
                tensors["output"] = tensor_of(torch.softmax(x.detach().double(), dim=-1))
                acc = accuracy_of(tensors["output"], tensors.get("targets"))
            else:
                tensors["output"] = tensor_of(out)
        elif isinstance(out, torch.Tensor):
            tensors["output"] = tensor_of(out, copy=True)
        for pname, p in st.params():
            t = tensor_of(p)
            tensors[pname] = (t[0].copy(), t[1])
        tensors = {k: v for k, v in tensors.items() if v is not None}
        fargs = (tuple(a.detach() if isinstance(a, torch.Tensor) else a for a in args), dict(kwargs))
        self.rec.record(st, "forward", site, parent, tensors, loss, acc, args=fargs, extra={"output": out})

    def _ensure_hooks(self, module, st):
        if module in self.hooked:
            return
        self.hooked[module] = True
        hooks = self
        if not getattr(module, "inplace", False):
            def bhook(mod, grad_input, grad_output):
                if hooks.rec.active:
                    hooks._on_backward(st, grad_input, grad_output)

            module.register_full_backward_hook(bhook)
        for pname, p in module.named_parameters(recurse=False):
            if p.requires_grad:
                p.register_hook(self._param_hook(st, pname))

    def _param_hook(self, st, pname):
        hooks = self

        def hook(grad):
            if hooks.rec.active:
                hooks.param_grads[(st.id, pname)] = grad.detach().clone()
            return None

        return hook

    def _on_backward(self, st, grad_input, grad_output):
        site, parent = self.rec.begin(st, "backward")
        tensors = {}
        g = grad_output[0] if grad_output else None
        if g is not None:
            tensors["dvalues"] = tensor_of(g)
        gi = grad_input[0] if grad_input else None
        if gi is not None:
            tensors["dinputs"] = tensor_of(gi, copy=True)
        self.pending.append((st, site, parent, tensors, g.detach().clone() if g is not None else None))

    def flush_backward(self):
        """Records the backward calls of the backward pass that just ended, with their parameter gradients."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        grads, self.param_grads = self.param_grads, {}
        torch = self.torch
        for st, site, parent, tensors, graw in pending:
            module = st.obj
            is_linear = isinstance(module, torch.nn.Linear)
            for pname, _ in module.named_parameters(recurse=False):
                g = grads.get((st.id, pname))
                if g is None:
                    continue
                if is_linear and pname == "weight":
                    tensors["dweights"] = tensor_of(g.t())
                elif is_linear and pname == "bias":
                    tensors["dbiases"] = tensor_of(g.reshape(1, -1))
                else:
                    tensors["d" + pname] = tensor_of(g)
            tensors = {k: v for k, v in tensors.items() if v is not None}
            want = st.last_forward_inputs_shape
            if "dinputs" in tensors and want is not None and list(tensors["dinputs"][0].shape) != want:
                info = self.rec.info_of(st)
                raise ShapeStop("%s.backward gave dinputs of shape %s for inputs of shape %s" % (
                    info["name"], arrays.show_shape(tensors["dinputs"][0].shape), arrays.show_shape(want)), site, info)
            self.rec.record(st, "backward", site, parent, tensors, args=((graw,), {}))

    def _annotate(self, e, st, phase, site, args):
        if getattr(e, "__bpl_context__", None) is not None:
            return
        info = self.rec.info_of(st)
        shape = arrays.shape_of(args[0]) if args else None
        detail = ("its inputs have shape %s" % arrays.show_shape(shape)) if shape is not None else None
        try:
            e.__bpl_context__ = {"layer": info, "phase": phase, "site": site, "detail": detail}
        except Exception:
            pass

    # ------------------------------------------------------------ autograd Functions

    def wrap_function_class(self, cls):
        hooks = self
        fwd = cls.__dict__.get("forward")
        bwd = cls.__dict__.get("backward")
        if not isinstance(fwd, staticmethod) or not isinstance(bwd, staticmethod):
            return
        f_orig = fwd.__func__
        b_orig = bwd.__func__

        def forward(ctx, *args, **kwargs):
            if not hooks.rec.active:
                return f_orig(ctx, *args, **kwargs)
            st = hooks._function_state(cls, f_orig, b_orig)
            hooks.flush_backward()
            site, parent = hooks.rec.begin(st, "forward")
            hooks.rec.call_stack.append(st)
            try:
                out = f_orig(ctx, *args, **kwargs)
            except BaseException as e:
                hooks._annotate(e, st, "forward", site, args)
                raise
            finally:
                hooks.rec.call_stack.pop()
            tensors = {}
            torch = hooks.torch
            tens = [a for a in args if isinstance(a, torch.Tensor)]
            if tens:
                tensors["inputs"] = tensor_of(tens[0])
            for k, a in enumerate(tens[1:], 1):
                t = tensor_of(a)
                tensors["arg%d" % k] = (t[0].copy(), t[1])
            if isinstance(out, torch.Tensor):
                tensors["output"] = tensor_of(out, copy=True)
            tensors = {k: v for k, v in tensors.items() if v is not None}
            hooks.rec.record(st, "forward", site, parent, tensors, args=(tuple(a.detach() if isinstance(a, torch.Tensor) else a for a in args), dict(kwargs)))
            return out

        def backward(ctx, *grads):
            if not hooks.rec.active:
                return b_orig(ctx, *grads)
            st = hooks._function_state(cls, f_orig, b_orig)
            site, parent = hooks.rec.begin(st, "backward")
            res = b_orig(ctx, *grads)
            torch = hooks.torch
            tensors = {}
            if grads and isinstance(grads[0], torch.Tensor):
                tensors["dvalues"] = tensor_of(grads[0])
            outs = res if isinstance(res, tuple) else (res,)
            tens_out = [g for g in outs]
            if tens_out and isinstance(tens_out[0], torch.Tensor):
                tensors["dinputs"] = tensor_of(tens_out[0], copy=True)
                want = st.last_forward_inputs_shape
                if want is not None and list(tens_out[0].shape) != want:
                    info = hooks.rec.info_of(st)
                    raise ShapeStop("%s.backward returned a gradient of shape %s for inputs of shape %s: the gradient of the inputs must have their shape. %s is the autograd Function %s%s."
                                    % (info["name"], arrays.show_shape(tens_out[0].shape), arrays.show_shape(want), info["name"], info["className"],
                                       (" defined at %s:%d" % (_base(info["site"]["file"]), info["site"]["line"])) if info.get("site") else ""), site, info)
            for k, g in enumerate(tens_out[1:], 1):
                if isinstance(g, torch.Tensor):
                    tensors["darg%d" % k] = tensor_of(g, copy=True)
            tensors = {k: v for k, v in tensors.items() if v is not None}
            hooks.rec.record(st, "backward", site, parent, tensors, args=((grads[0].detach() if grads else None,), {}))
            return res

        forward.__bpl_original__ = f_orig
        backward.__bpl_original__ = b_orig
        cls.forward = staticmethod(forward)
        cls.backward = staticmethod(backward)

    def _function_state(self, cls, f_orig, b_orig):
        st = self.function_states.get(cls)
        if st is not None:
            return st
        site = None
        try:
            import inspect

            lines = inspect.getsourcelines(cls)
            site = {"file": inspect.getsourcefile(cls), "line": lines[1], "column": 1}
        except Exception:
            site = None
        st = self.rec.register(cls, site, cls.__name__)
        st.name = cls.__name__
        st.kind = "custom"
        st.description = "%s (torch.autograd.Function)" % cls.__name__
        st.is_loss = False
        st.gradcheck = lambda fwd, back, options: self._gradcheck_function(cls, f_orig, b_orig, fwd, back, options)
        self.function_states[cls] = st
        return st

    # ------------------------------------------------------------ gradient checks

    def _gradcheck_module(self, st, fwd, back, options):
        torch = self.torch
        opts = option_subset(options)
        module = copy.deepcopy(st.obj).double()
        fargs, fkw = fwd.args
        x = fargs[0].detach().double().clone().contiguous()
        rest = [a.detach() if isinstance(a, torch.Tensor) else a for a in fargs[1:]]
        xn = x.numpy()
        params = [(n, p) for n, p in module.named_parameters(recurse=False)]
        is_linear = isinstance(module, torch.nn.Linear)
        g = None
        if not st.is_loss:
            dv = back.args[0][0] if back.args and back.args[0] else None
            if dv is None:
                raise ValueError("no dvalues were recorded for %s.backward" % st.class_name)
            g = dv.detach().double()

        call = type(module).forward

        def objective():
            with torch.no_grad():
                r = call(module, x, *rest, **fkw)
                if st.is_loss:
                    return float(r)
                return float((r * g).sum())

        xr = x.clone().requires_grad_(True)
        r = call(module, xr, *rest, **fkw)
        obj = r if st.is_loss else (r * g).sum()
        wrt = [xr] + [p for _, p in params if p.requires_grad]
        grads = torch.autograd.grad(obj, wrt, allow_unused=True)
        tensors = [check_tensor("dinputs", xn, _np(grads[0], xn), objective, **opts)]
        k = 1
        for pname, p in params:
            if not p.requires_grad:
                continue
            gp = grads[k]
            k += 1
            pn = p.data.numpy()
            if is_linear and pname == "weight":
                tensors.append(check_tensor("dweights", pn, _np(gp, pn), objective, index_map=lambda ix: [ix[1], ix[0]], **opts))
            elif is_linear and pname == "bias":
                tensors.append(check_tensor("dbiases", pn, _np(gp, pn), objective, index_map=lambda ix: [0, ix[0]], **opts))
            else:
                tensors.append(check_tensor("d" + pname, pn, _np(gp, pn), objective, **opts))
        return {"ok": all(t["ok"] for t in tensors), "tensors": tensors}

    def _gradcheck_function(self, cls, f_orig, b_orig, fwd, back, options):
        torch = self.torch
        opts = option_subset(options)
        fargs, fkw = fwd.args
        dv = back.args[0][0] if back.args and back.args[0] else None
        xs = [a.detach().double().clone().contiguous() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in fargs]
        g = dv.detach().double()

        def objective():
            with torch.no_grad():
                return float((cls.apply(*xs, **fkw) * g).sum())

        leaves = [a.clone().requires_grad_(True) if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in xs]
        out = cls.apply(*leaves, **fkw)
        wrt = [a for a in leaves if isinstance(a, torch.Tensor) and a.requires_grad]
        grads = torch.autograd.grad((out * g).sum(), wrt, allow_unused=True)
        tensors = []
        k = 0
        for i, a in enumerate(xs):
            if not (isinstance(a, torch.Tensor) and a.is_floating_point()):
                continue
            name = "dinputs" if k == 0 else "darg%d" % k
            an = a.numpy()
            tensors.append(check_tensor(name, an, _np(grads[k], an), objective, **opts))
            k += 1
        return {"ok": all(t["ok"] for t in tensors), "tensors": tensors}


def _np(g, like):
    np = arrays.np()
    if g is None:
        return np.zeros_like(like)
    return g.detach().double().numpy().reshape(like.shape)


def _base(p):
    import os

    return os.path.basename(p)
