"""The trace recorder, Python side: the same rules as core/trace/traceRecorder.ts.

- A step starts at the first top-level forward call after a backward call or an optimizer update.
- Every call of the first `keep_steps` steps is emitted at once with copies of its tensors; other
  steps hold references (parameters copied) and are dropped at the next step; the last step is
  emitted in full when the run ends. At most 512 calls per step are kept (a `truncated` anomaly).
- Every step gets a `step/summary` (loss, accuracy, learning rate); sampled steps (all up to 100,
  then every 2nd up to 200, every 4th up to 400, ...) carry the gradient norms.
- A non-finite loss stops the run naming the first layer and tensor where a NaN/Infinity appeared;
  without a loss layer, the first non-finite tensor is reported as an anomaly (the run goes on).
- Exploding gradients (norm > 1e3 and 100x its first value), dead ReLUs (last step), and a gradient
  check of every layer on its last call (central differences in float64, see gradcheck.py).

Frameworks plug in through `LayerState`: the NumPy duck-typing adapter (duck.py) and the PyTorch
hooks (torch_hooks.py) both call `begin`/`record` and give each state a `gradcheck` function.
"""

import math
import time

from . import arrays
from .sites import at, base_name

MAX_CALLS_PER_STEP = 512
SAMPLE_ALL = 100


def is_sampled(step):
    if step < SAMPLE_ALL:
        return True
    stride = 2 ** (int(math.floor(math.log2(step / SAMPLE_ALL))) + 1)
    return step % stride == 0


def fmt(v):
    """A number the way the TypeScript recorder writes it in messages (6 significant digits)."""
    v = float(v)
    if v != v:
        return "NaN"
    if v in (math.inf, -math.inf):
        return "Infinity" if v > 0 else "-Infinity"
    a = abs(v)
    if a != 0 and (a >= 1e5 or a < 1e-4):
        m, e = ("%.3e" % v).split("e")
        return "%se%s%d" % (m, "-" if int(e) < 0 else "+", abs(int(e)))
    r = float("%.6g" % v)
    return str(int(r)) if r == int(r) else repr(r)


class NonFiniteStop(Exception):
    """Raised into the model when its loss became NaN or ±Infinity."""

    def __init__(self, message, site):
        Exception.__init__(self, message)
        self.site = site


class ShapeStop(Exception):
    """Raised into the model when a layer's backward produced `dinputs` of another shape than its inputs."""

    def __init__(self, message, site, layer):
        Exception.__init__(self, message)
        self.site = site
        self.layer = layer


class LayerState:
    """One traced object: its id, where it was built, its info, and how to check its gradients."""

    def __init__(self, obj, id, ctor_site, class_name):
        self.obj = obj
        self.id = id
        self.ctor_site = ctor_site
        self.class_name = class_name
        self.info = None
        self.last_site = {}
        self.kind = "custom"
        self.name = None
        self.description = class_name
        self.params = lambda: []  # [(name, array)] in the book's orientation
        self.gradcheck = None  # (forward_rec, backward_rec, options) -> result dict
        self.last_forward_inputs_shape = None
        self.announced = False


class CallRecord:
    __slots__ = ("state", "phase", "step", "seq", "site", "parent", "tensors", "loss", "accuracy", "emitted", "args", "extra")

    def __init__(self, state, phase, step, seq, site, parent, tensors, loss, accuracy, args):
        self.state = state
        self.phase = phase
        self.step = step
        self.seq = seq
        self.site = site
        self.parent = parent
        self.tensors = tensors  # name -> (float64 ndarray, dtype) or raw array
        self.loss = loss
        self.accuracy = accuracy
        self.emitted = False
        self.args = args
        self.extra = None


def tensor_of(x, copy=False):
    """(float64 ndarray, dtype) for what can be a tensor, else None."""
    r = arrays.as_float64(x)
    if r is None:
        return None
    a, dt = r
    if copy and (a is x or getattr(a, "base", None) is not None):
        a = a.copy()
    return a, dt


class Recorder:
    def __init__(self, wire, sites, keep_steps=3, gradcheck=None, exploding_norm=1e3, stop_on_non_finite=True):
        self.wire = wire
        self.sites = sites
        self.keep_steps = keep_steps
        self.gradcheck_options = gradcheck
        self.exploding_norm = exploding_norm
        self.stop_on_non_finite = stop_on_non_finite
        self.states = {}  # id(obj) -> LayerState
        self.by_id = []
        self.optimizers = []
        self.step_optimizer = None  # StepSummary.optimizer: the first update of the current step, as it ran
        self.call_stack = []
        self.step = 0
        self.seq = 0
        self.phase = "idle"
        self.current = []
        self.previous = []
        self.step_loss = None
        self.step_accuracy = None
        self.first_grad_norm = {}
        self.reported = set()
        self.emitted_steps = set()
        self.emitted_per_step = {}
        self.finished = False
        self.suspended = 0
        self.non_finite_reported = False
        self.observer = None  # the debugger (debugger.py) in a debug run: sees every completed call and anomaly

    # ------------------------------------------------------------ layers

    def state_of(self, obj):
        return self.states.get(id(obj))

    def register(self, obj, ctor_site, class_name):
        st = self.states.get(id(obj))
        if st is not None and st.obj is obj:
            return st
        st = LayerState(obj, len(self.by_id), ctor_site, class_name)
        self.states[id(obj)] = st
        self.by_id.append(st)
        return st

    @property
    def active(self):
        return not self.finished and self.suspended == 0

    def begin(self, state, phase):
        """Before a layer call: step bookkeeping and the call site. Returns (site, parent id)."""
        nested = len(self.call_stack) > 0
        if not nested and phase == "forward" and self.phase in ("backward", "update"):
            self.next_step()
        if not nested:
            self.phase = phase
        obs = self.observer
        if self.step < self.keep_steps or self.step % 64 == 0 or phase not in state.last_site or (obs is not None and obs.needs_site(state.id, phase)):
            site = self.sites.capture(3)
            state.last_site[phase] = site
        else:
            site = state.last_site[phase]
        parent = self.call_stack[-1].id if nested else None
        state._bpl_open = (phase, site)
        return site, parent

    def info_of(self, state):
        if state.info is not None:
            return state.info
        name = state.name or (self.sites.name_at(state.ctor_site) if state.ctor_site else None)
        if name is None:
            name = "%s#%d" % (state.class_name, state.id)
        params = []
        count = 0
        try:
            for pname, arr in state.params():
                shape = arrays.shape_of(arr) or []
                params.append({"name": pname, "shape": shape})
                n = 1
                for d in shape:
                    n *= d
                count += n
        except Exception:
            pass
        info = {
            "id": state.id,
            "name": name,
            "kind": state.kind,
            "className": state.class_name,
            "description": state.description if not callable(state.description) else state.description(),
            "params": params,
            "paramCount": count,
        }
        if state.ctor_site:
            info["site"] = state.ctor_site
        state.info = info
        return info

    def record(self, state, phase, site, parent, tensors, loss=None, accuracy=None, args=None, extra=None, defer=False):
        """After a layer call: `tensors` maps the book's names to arrays (already copied where they may change).

        `defer`: the loss comes later (`set_loss`, from the book's `Loss.calculate`), emit then."""
        first = not state.announced
        if state.info is None and parent is not None and state.name is None:
            pst = self.by_id[parent]
            own = self.sites.name_at(state.ctor_site) if state.ctor_site else None
            if own:
                state.name = "%s.%s" % (self.info_of(pst)["name"], own)
        info = self.info_of(state)
        if first:
            state.announced = True
            self.emit({"type": "layer/new", "layer": info})
        conv = {}
        for name, x in tensors.items():
            t = x if isinstance(x, tuple) else tensor_of(x)
            if t is not None:
                conv[name] = t
        if phase == "forward" and "inputs" in conv:
            state.last_forward_inputs_shape = list(conv["inputs"][0].shape)
        if loss is not None and parent is None:
            self.step_loss = loss
            self.step_accuracy = accuracy
        rec = CallRecord(state, phase, self.step, self.seq, site, parent, conv, loss, accuracy, args)
        rec.extra = extra
        self.seq += 1
        if len(self.current) >= MAX_CALLS_PER_STEP:
            del self.current[: MAX_CALLS_PER_STEP // 2]
        self.current.append(rec)
        if not defer:
            self.emit_kept(rec)
        return rec

    def emit_kept(self, rec):
        """A call in its final form (a loss's forward once `calculate` has its loss): emitted when its step is kept."""
        self._emit_kept(rec)
        if self.observer is not None:
            self.observer.complete(rec)

    def _emit_kept(self, rec):
        if rec.step < self.keep_steps:
            n = self.emitted_per_step.get(rec.step, 0) + 1
            self.emitted_per_step[rec.step] = n
            if n <= MAX_CALLS_PER_STEP:
                self.emit_call(rec)
            elif n == MAX_CALLS_PER_STEP + 1:
                self.emit({"type": "anomaly", "anomaly": {
                    "code": "truncated", "severity": "information", "step": self.step,
                    "message": "step %d made more than %d layer calls; the inspector shows the first %d (a step ends at the first forward after a backward or an optimizer update)"
                    % (self.step, MAX_CALLS_PER_STEP, MAX_CALLS_PER_STEP),
                }})

    def set_loss(self, rec, loss, accuracy):
        """A loss computed after the forward call (the book's `Loss.calculate`)."""
        rec.loss = loss
        rec.accuracy = accuracy
        if rec.parent is None:
            self.step_loss = loss
            self.step_accuracy = accuracy
        self.emit_kept(rec)

    def emit_call(self, rec):
        if rec.emitted:
            return
        rec.emitted = True
        self.emitted_steps.add(rec.step)
        tensors = {}
        stats = {}
        for name, (a, dt) in rec.tensors.items():
            tensors[name] = arrays.to_wire(a, dt)
            stats[name] = arrays.stats(a)
        call = {"step": rec.step, "seq": rec.seq, "layer": rec.state.id, "phase": rec.phase, "tensors": tensors, "stats": stats}
        if rec.site:
            call["site"] = rec.site
        if rec.parent is not None:
            call["parent"] = rec.parent
        if rec.loss is not None:
            call["loss"] = rec.loss
        if rec.accuracy is not None:
            call["accuracy"] = rec.accuracy
        self.emit({"type": "layer/call", "call": call})

    # ------------------------------------------------------------ steps

    def next_step(self):
        self.end_step()
        self.step += 1
        self.previous = self.current
        self.current = []
        self.step_loss = None
        self.step_accuracy = None
        self.step_optimizer = None

    def end_step(self):
        step = self.step
        summary = {"step": step}
        if self.step_loss is not None:
            summary["loss"] = self.step_loss
        if self.step_accuracy is not None:
            summary["accuracy"] = self.step_accuracy
        if self.optimizers:
            lr = learning_rate_of(self.optimizers[-1])
            if lr is not None:
                summary["learningRate"] = lr
        if self.step_optimizer is not None:
            summary["optimizer"] = self.step_optimizer
        if is_sampled(step):
            grads = []
            for rec in self.current:
                if rec.phase != "backward":
                    continue
                norms = {}
                mean_abs = {}
                for name, (a, _) in rec.tensors.items():
                    if name not in ("dvalues", "targets"):
                        norms[name] = arrays.l2norm(a)
                        mean_abs[name] = arrays.mean_abs(a)
                grads.append({"layer": rec.state.id, "norms": norms, "meanAbs": mean_abs})
                self.check_exploding(rec, norms)
            if grads:
                summary["grads"] = grads
        self.emit({"type": "step/summary", "summary": summary})
        loss = self.step_loss
        if loss is not None and not math.isfinite(loss) and self.stop_on_non_finite:
            anomaly = self.locate_non_finite() or {
                "code": "non-finite", "severity": "error", "step": step,
                "message": "the loss became %s at step %d" % (fmt(loss), step),
            }
            for rec in self.current[-MAX_CALLS_PER_STEP:]:
                self.emit_call(rec)
            self.emit({"type": "anomaly", "anomaly": anomaly})
            self.non_finite_reported = True
            raise NonFiniteStop(anomaly["message"], anomaly.get("site"))
        if loss is None and not self.non_finite_reported:
            anomaly = self.locate_non_finite(current_only=True)
            if anomaly is not None:
                self.non_finite_reported = True
                for rec in self.current[-MAX_CALLS_PER_STEP:]:
                    self.emit_call(rec)
                self.emit({"type": "anomaly", "anomaly": anomaly})

    def check_exploding(self, rec, norms):
        for name, n in norms.items():
            if name == "dinputs" and rec.state.info and rec.state.info["params"]:
                continue
            key = (rec.state.id, name)
            if key not in self.first_grad_norm and math.isfinite(n) and n > 0:
                self.first_grad_norm[key] = n
            first = self.first_grad_norm.get(key)
            grew = first is None or n > 100 * first
            if n > self.exploding_norm and grew and math.isfinite(n) and ("explode", rec.state.id) not in self.reported:
                self.reported.add(("explode", rec.state.id))
                info = self.info_of(rec.state)
                anomaly = {
                    "code": "exploding-gradient", "severity": "warning", "step": rec.step, "layer": info["id"], "tensor": name,
                    "message": "exploding gradient: \u2016%s.%s\u2016 = %s at step %d%s; try a smaller learning rate"
                    % (info["name"], name, fmt(n), rec.step, (" (%s\u00d7 its first value %s)" % (fmt(n / first), fmt(first))) if first else ""),
                }
                site = rec.site or info.get("site")
                if site:
                    anomaly["site"] = site
                self.emit({"type": "anomaly", "anomaly": anomaly})

    def locate_non_finite(self, current_only=False):
        recs = self.current if current_only else self.previous + self.current
        for rec in recs:
            for name in order_of_names(rec):
                a, _ = rec.tensors[name]
                i = arrays.first_non_finite(a)
                if i < 0:
                    continue
                info = self.info_of(rec.state)
                shape = list(a.shape)
                index = arrays.unflat_index(shape, i)
                v = float(a.reshape(-1)[i])
                where = " (%s called at %s)" % (rec.phase, at(rec.site)) if rec.site else ""
                built = " built at %s" % at(info["site"]) if info.get("site") else ""
                tail = ("; the loss became %s" % fmt(self.step_loss)) if self.step_loss is not None else ""
                anomaly = {
                    "code": "non-finite", "severity": "error", "step": rec.step, "layer": info["id"], "tensor": name, "index": index,
                    "message": "%s first appeared in %s.%s[%s] of shape %s at step %d%s, in %s%s%s"
                    % (fmt(v), info["name"], name, "][".join(str(k) for k in index), arrays.show_shape(shape), rec.step, where, info["description"], built, tail),
                }
                site = rec.site or info.get("site")
                if site:
                    anomaly["site"] = site
                return anomaly
        return None

    # ------------------------------------------------------------ optimizers

    def optimizer_update(self, opt, step_info=None):
        """An optimizer is updating; `step_info` (an OptimizerStep: kind, learningRate, iteration, settings)
        becomes the step summary's `optimizer` when it is the step's first update."""
        if opt not in self.optimizers:
            self.optimizers.append(opt)
        if self.active and not self.call_stack:
            self.phase = "update"
        if self.active and step_info is not None and self.step_optimizer is None:
            self.step_optimizer = step_info

    # ------------------------------------------------------------ end

    @property
    def step_count(self):
        return self.step + 1 if (self.current or self.step > 0) else 0

    @property
    def kept_steps(self):
        return sorted(self.emitted_steps)

    def finish(self, completed=True):
        if self.finished:
            return
        failure = None
        if completed and (self.current or self.step > 0):
            try:
                self.end_step()
            except NonFiniteStop as e:
                failure = e
        self.finished = True
        for rec in self.current[-MAX_CALLS_PER_STEP:]:
            self.emit_call(rec)
        self.report_dead_relus()
        if failure is not None:
            raise failure
        if completed and self.gradcheck_options is not None:
            self.gradcheck_all(self.gradcheck_options)

    def report_dead_relus(self):
        for rec in self.current:
            if rec.phase != "forward" or rec.state.kind != "relu" or rec.parent is not None:
                continue
            key = ("dead", rec.state.id)
            out = rec.tensors.get("output")
            if out is None or out[0].ndim != 2 or key in self.reported:
                continue
            a = out[0]
            r, c = a.shape
            if r < 2:
                continue
            dead = int((~(a != 0).any(axis=0)).sum())
            if dead == 0:
                continue
            self.reported.add(key)
            info = self.info_of(rec.state)
            anomaly = {
                "code": "dead-relu", "severity": "warning" if dead / c >= 0.5 else "information", "step": rec.step,
                "layer": info["id"], "tensor": "output",
                "message": "dead ReLU: %d of %d units of %s output 0 for all %d samples at step %d, so no gradient flows through them" % (dead, c, info["name"], r, rec.step),
            }
            site = info.get("site") or rec.site
            if site:
                anomaly["site"] = site
            self.emit({"type": "anomaly", "anomaly": anomaly})

    def gradcheck_all(self, options):
        options = dict(options)
        budget = options.pop("budgetMs", None)
        if budget is not None:
            options["deadline"] = time.monotonic() + budget / 1000.0
        for state in self.by_id:
            if state.info is None or state.gradcheck is None:
                continue
            calls = [r for r in self.current if r.state is state and r.parent is None]
            back = next((r for r in reversed(calls) if r.phase == "backward"), None)
            if back is None:
                continue
            fwd = next((r for r in reversed(calls) if r.phase == "forward" and r.seq < back.seq), None)
            if fwd is None:
                continue
            self.suspended += 1
            try:
                report = state.gradcheck(fwd, back, options)
                result = {"layer": state.id, "step": fwd.step, "ok": report["ok"], "tensors": report["tensors"]}
                self.emit({"type": "gradcheck", "result": result})
                for t in report["tensors"]:
                    if t["ok"] or t.get("worst") is None:
                        continue
                    info = state.info
                    w = t["worst"]
                    anomaly = {
                        "code": "gradient-check", "severity": "error", "step": fwd.step, "layer": state.id, "tensor": t["name"], "index": w["index"],
                        "message": "gradient check failed: %s.%s[%s] is %s but central differences give %s (|error| %s > %s + %s\u00b7|numeric|); check %s.backward"
                        % (info["name"], t["name"], "][".join(str(k) for k in w["index"]), fmt(w["analytic"]), fmt(w["numeric"]), fmt(w["absErr"]), fmt(t["atol"]), fmt(t["rtol"]), info["className"]),
                    }
                    site = back.site or info.get("site")
                    if site:
                        anomaly["site"] = site
                    self.emit({"type": "anomaly", "anomaly": anomaly})
            except Exception as e:  # the check itself could not run
                self.emit({"type": "gradcheck", "result": {"layer": state.id, "step": fwd.step, "ok": False, "tensors": [], "error": "%s: %s" % (type(e).__name__, e)}})
            finally:
                self.suspended -= 1

    def emit(self, event):
        self.wire.event(event)
        if self.observer is not None and event.get("type") == "anomaly":
            self.observer.on_anomaly(event["anomaly"])

    # ------------------------------------------------------------ errors

    def producer_of(self, x):
        """(layer info, tensor name) of the recorded call that made the object `x`, if any."""
        for rec in reversed(self.previous + self.current):
            for name in ("output", "dinputs"):
                raw = rec.extra.get(name) if rec.extra else None
                if raw is x:
                    return self.info_of(rec.state), name
        return None


def order_of_names(rec):
    names = list(rec.tensors)
    if rec.phase == "forward":
        mid = [n for n in names if n not in ("inputs", "output", "targets")]
        out = ["inputs"] + mid + ["output"]
    else:
        mid = [n for n in names if n not in ("dvalues", "targets", "dinputs")]
        out = ["dvalues"] + mid + ["dinputs"]
    return [n for n in out if n in rec.tensors]


def learning_rate_of(opt):
    for attr in ("current_learning_rate", "learning_rate", "lr"):
        v = getattr(opt, attr, None)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    groups = getattr(opt, "param_groups", None)
    if groups:
        try:
            return float(groups[0]["lr"])
        except Exception:
            return None
    return None


def optimizer_kind(opt):
    """`SGD` for the book's `Optimizer_SGD`, else the class name without the `Optimizer` prefix."""
    name = type(opt).__name__
    for prefix in ("Optimizer_", "Optimizer", "optimizer_"):
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):]
    return name


def book_optimizer_step(opt):
    """The OptimizerStep (core/trace/traceTypes.ts) of one of the book's optimizers at its `update_params`."""
    out = {"kind": optimizer_kind(opt)}
    lr = learning_rate_of(opt)
    out["learningRate"] = lr if lr is not None else 0.0
    it = getattr(opt, "iterations", 0)
    out["iteration"] = int(it) if isinstance(it, (int, float)) and not isinstance(it, bool) and math.isfinite(it) else 0
    for attr, key in (("momentum", "momentum"), ("beta_1", "beta1"), ("beta_2", "beta2"), ("epsilon", "epsilon")):
        v = getattr(opt, attr, None)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[key] = float(v)
    return out


def accuracy_of(pred, targets):
    """Mean of argmax(pred) == class index (targets as indices or one-hot), or None."""
    if pred is None or targets is None:
        return None
    np = arrays.np()
    p = pred[0] if isinstance(pred, tuple) else pred
    t = targets[0] if isinstance(targets, tuple) else targets
    try:
        if p.ndim != 2:
            return None
        if t.ndim == 2:
            t = np.argmax(t, axis=1)
        if t.ndim != 1 or t.shape[0] != p.shape[0]:
            return None
        return float(np.mean(np.argmax(p, axis=1) == t))
    except Exception:
        return None


def describe_error_layer(info):
    built = ", built at %s" % at(info["site"]) if info.get("site") else ""
    return "%s is %s%s." % (info["name"], info["description"], built)


__all__ = ["Recorder", "LayerState", "NonFiniteStop", "ShapeStop", "accuracy_of", "base_name", "tensor_of"]
