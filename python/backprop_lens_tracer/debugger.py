"""Debug Backward Pass in the tracer: the Python twin of extension/debug/worker/workerDebugger.ts.

The tracer sees every position as it completes (a layer's forward or backward call, recorded by the
recorder; an optimizer's `update_params(layer)`, and one nested position per parameter it changed),
numbered by completion like the TypeScript producer (`core/debug/positions.ts`), so a nested call
comes before the call that contains it. At each position it checks the breakpoints (lines, layer and
phase names, conditions as the host's JSON AST evaluated by expr.py, hit counts, logpoints), the
stepping rule and the exception filters it knows (first NaN/Infinity, failed gradient check,
exploding gradient, dead ReLU, loss went up, errors). At a stop it sends `debug/stopped` with the
positions of the current and previous training step the host has not had yet, with copies of their
tensors, then blocks the model's thread on the command queue (stdin) until `debug/resume` or
`debug/detach`. The reader thread still answers `where` and `stop` while it waits, so Stop ends the
process at once; the `paused` frames tell the host to stop the time limit's clock.

The messages are core/debug/messages.ts's, as JSON (tensors travel as raw float64 in the frame).
"""

import inspect
import math
import os

from . import arrays
from .recorder import optimizer_kind
from .expr import EvalError, Env, Obj, Tensor, evaluate, evaluate_condition, format_value, is_ast, short_number

MAX_POSITIONS_PER_STEP = 4096
_FILTER_DEFAULTS = {"nonFinite": True, "gradCheck": True, "exploding": True, "deadRelu": False, "lossUp": False, "error": True}
_OWN_NAMES = ("step", "loss", "accuracy", "learningRate", "lr", "phase", "layer")


def _norm_path(p):
    p = p.replace("\\", "/")
    if len(p) > 1 and p[1] == ":":
        p = p[0].lower() + p[1:]
    return p


def same_path(a, b):
    return a == b or _norm_path(a) == _norm_path(b)


def hit_satisfied(h, count):
    op, n = h.get("op"), h.get("n")
    if op == "==":
        return count == n
    if op == ">=":
        return count >= n
    if op == ">":
        return count > n
    if op == "<":
        return count < n
    if op == "<=":
        return count <= n
    if op == "%":
        return n > 0 and count % n == 0
    return False


def satisfies(rule, p):
    if rule.get("maxDepth") is not None and len(p["open"]) > rule["maxDepth"]:
        return False
    if rule.get("minStep") is not None and p["step"] < rule["minStep"]:
        return False
    return True


def loss_went_up(previous, current, factor):
    if previous is None or current is None or not math.isfinite(previous) or not math.isfinite(current):
        return False
    return previous > 0 and current > previous * factor


def creation_order(phase, names):
    first = "dvalues" if phase == "backward" else "inputs"
    last = "dinputs" if phase == "backward" else "output"
    middle = [n for n in names if n not in (first, last, "targets")]
    return [n for n in [first] + middle + [last] if n in names]


class LivePosition(dict):
    """A position (a dict in the shape of core/debug/positions.ts `Position`) with its tensors by reference."""

    __slots__ = ("refs",)


class Debugger:
    def __init__(self, recorder, sites, commands, wire, keep_steps):
        self.rec = recorder
        self.sites = sites
        self.commands = commands
        self.wire = wire
        self.keep_steps = keep_steps
        # configuration
        self.breakpoints = []
        self.line_index = {}  # normalised file -> line -> [spec]
        self.function_bps = []
        self.has_line_bps = False
        self.filters = dict(_FILTER_DEFAULTS)
        self.hit_counts = {}
        self.reported_errors = set()
        self.rule = None
        self.stop_reason = "step"
        self.detached = False
        # positions
        self.next_id = 0
        self.step = -1
        self.current = []
        self.previous = []
        self.sent_up_to = -1
        self.last = None
        self.thrown = None
        # what the debugger knows of the run
        self.ranges = []
        self.unsent_ranges = []
        self.range_keys = set()
        self.call_lines = {}
        self.sites_per_call = {}
        self.multi_site = set()
        self.step_loss = None
        self.step_accuracy = None
        self.last_step_loss = None
        self.dead_reported = set()
        self.non_finite_stopped = False
        self.stops = 0

    # ------------------------------------------------------------ start

    def start(self):
        """Waits for the host's first `debug/configure` (sent right after the run starts)."""
        while True:
            cmd = self.commands.wait()
            outcome = self.handle(cmd)
            if outcome in ("configured", "detach", "eof"):
                return

    # ------------------------------------------------------------ the recorder's hooks

    def needs_site(self, layer, phase):
        return self.has_line_bps and (layer * 2 + (0 if phase == "forward" else 1)) in self.multi_site

    def open_calls(self):
        out = []
        for st in self.rec.call_stack:
            phase, site = getattr(st, "_bpl_open", ("forward", None))
            c = {"kind": "layer", "layer": st.id, "phase": phase}
            if site:
                c["site"] = site
            if not st.announced:  # the trace has not named it yet (its first call has not completed)
                c["name"] = (st.info or {}).get("name") or st.name or (self.sites.name_at(st.ctor_site) if st.ctor_site else None) or "%s#%d" % (st.class_name, st.id)
            out.append(c)
        out.extend(self._update_open)
        return out

    _update_open = ()

    def complete(self, rec):
        """A layer call was recorded (its final form: a loss's forward once `calculate` has its loss)."""
        st = rec.state
        p = LivePosition(id=self.next_id, kind="layer", step=rec.step, layer=st.id, phase=rec.phase, seq=rec.seq, open=self.open_calls())
        self.next_id += 1
        p.refs = rec.tensors
        if rec.site:
            p["site"] = rec.site
        if rec.loss is not None:
            p["loss"] = rec.loss
        if rec.accuracy is not None:
            p["accuracy"] = rec.accuracy
        if rec.step < self.keep_steps or (st.id * 2 + (0 if rec.phase == "forward" else 1)) not in self.range_keys:
            self.learn(rec)
        self.push(p)
        if rec.loss is not None and rec.parent is None:
            self.step_loss = rec.loss
            self.step_accuracy = rec.accuracy
        self.check(p)

    def update(self, opt, layer_obj, site, before=None):
        """An optimizer's `update_params(layer)` returned: one `param` position per parameter, then the update."""
        st = self.rec.state_of(layer_obj)
        if st is None or st.obj is not layer_obj or st.info is None or self.detached:
            return
        kind = optimizer_kind(opt)
        iterations = getattr(opt, "iterations", 0)
        iterations = int(iterations) if isinstance(iterations, (int, float)) and not isinstance(iterations, bool) else 0
        lr = learning_rate(opt)
        params = []
        try:
            params = list(st.params())
        except Exception:
            params = []
        out = []
        for name, value in params:
            tensors = {}
            t = arrays.as_float64(value)
            if t is None:
                continue
            tensors[name] = (t[0].copy(), t[1])
            if before and name in before:
                tensors[name + ".before"] = before[name]
            g = arrays.as_float64(getattr(layer_obj, "d" + name, None)) if arrays.is_array(getattr(layer_obj, "d" + name, None)) else None
            if g is not None:
                tensors["d" + name] = g
            for suffix, state_name in optimizer_state_names(kind):
                for stem in _stems(name):
                    s = getattr(layer_obj, stem + suffix, None)
                    if arrays.is_array(s):
                        a = arrays.as_float64(s)
                        if a is not None:
                            tensors["%s.%s" % (name, state_name)] = (a[0].copy(), a[1])
                        break
            out.append((name, tensors))
        self.update_positions(st, kind, iterations, lr, site, out)

    def update_positions(self, st, kind, iterations, lr, site, params):
        """The update of one layer: a `param` position per (name, tensors) in `params`, then the `update`
        position with all of them (the book's `update_params(layer)`; a torch module's part of `optimizer.step()`)."""
        if self.detached:
            return
        entry = {"kind": "update", "layer": st.id, "phase": "update"}
        if site:
            entry["site"] = site
        all_tensors = {}
        self._update_open = (entry,)
        try:
            for name, tensors in params:
                all_tensors.update(tensors)
                self._position("param", st.id, site, tensors, kind, iterations, lr, param=name)
        finally:
            self._update_open = ()
        self._position("update", st.id, site, all_tensors, kind, iterations, lr)

    def _position(self, kind, layer, site, tensors, opt_kind, iterations, lr, param=None):
        p = LivePosition(id=self.next_id, kind=kind, step=max(self.rec.step, 0), layer=layer, phase="update", open=self.open_calls(),
                         optimizer={"kind": opt_kind, "iterations": iterations})
        self.next_id += 1
        if lr is not None:
            p["learningRate"] = lr
        if param is not None:
            p["param"] = param
        if site:
            p["site"] = site
        p.refs = tensors
        self.push(p)
        self.check(p)

    def scalar_node(self, node):
        """A scalar operation of the plain-float single neuron (scalars.py), or one of its leaves."""
        if self.detached:
            return
        p = LivePosition(id=self.next_id, kind="scalar", step=node["step"], open=[], node=node)
        self.next_id += 1
        p.refs = None
        if node.get("site"):
            p["site"] = node["site"]
        self.push(p)
        self.check(p)

    def scalar_backward(self, backward, site):
        """One hand-written chain-rule product: the step's backward so far (its last step is this product)."""
        if self.detached:
            return
        p = LivePosition(id=self.next_id, kind="scalar-backward", step=backward["step"], open=[], backward=backward)
        self.next_id += 1
        p.refs = None
        if site:
            p["site"] = site
        self.push(p)
        self.check(p)

    def threw(self, state, phase, site, tensors):
        """A layer call raised (or its backward made `dinputs` of the wrong shape): kept for the error filter."""
        self.thrown = {"state": state, "phase": phase, "site": site, "tensors": tensors, "open": self.open_calls()}

    def on_anomaly(self, a):
        if self.detached:
            return
        code = a.get("code")
        if code == "exploding-gradient" and self.filters.get("exploding"):
            self.stop_at_anomaly("exploding", a.get("layer"), "backward", a.get("step", 0), a.get("message", ""))
        elif code == "gradient-check" and self.filters.get("gradCheck"):
            self.stop_at_anomaly("gradCheck", a.get("layer"), "backward", a.get("step", 0), a.get("message", ""))
        elif code == "non-finite" and self.filters.get("nonFinite") and not self.non_finite_stopped:
            self.non_finite_stopped = True
            self.stop_at_anomaly("nonFinite", a.get("layer"), None, a.get("step", 0), a.get("message", ""))

    def on_error(self, error, message):
        """The model raised: stop at the call that raised (the error filter), before the run ends."""
        from .recorder import NonFiniteStop

        if self.detached or not self.filters.get("error") or isinstance(error, (KeyboardInterrupt, SystemExit)):
            return
        if self.non_finite_stopped and isinstance(error, NonFiniteStop):
            return
        show = self.last
        t = self.thrown
        if t is not None:
            st = t["state"]
            p = LivePosition(id=self.next_id, kind="layer", step=max(self.step, 0), layer=st.id, phase=t["phase"], open=t["open"], error=message)
            self.next_id += 1
            p.refs = t["tensors"]
            if t["site"]:
                p["site"] = t["site"]
            if not st.announced:
                p["layerName"] = (st.info or {}).get("name") or st.name or (self.sites.name_at(st.ctor_site) if st.ctor_site else None) or "%s#%d" % (st.class_name, st.id)
            self.push(p)
            show = p
        if show is None:
            return
        self.stop("exception", show["id"], [], "error", message)

    # ------------------------------------------------------------ positions

    def push(self, p):
        if p["step"] != self.step:
            if 0 <= self.step < self.keep_steps:
                self.send_recorded()
            self.previous = self.current
            self.current = []
            if p["step"] > self.step:
                self.last_step_loss = self.step_loss
                self.step_loss = None
                self.step_accuracy = None
            self.step = p["step"]
        if len(self.current) >= MAX_POSITIONS_PER_STEP:
            del self.current[: MAX_POSITIONS_PER_STEP // 2]
        self.current.append(p)
        self.last = p

    def learn(self, rec):
        st = rec.state
        key = st.id * 2 + (0 if rec.phase == "forward" else 1)
        if rec.site:
            self.call_lines.setdefault(rec.site["file"], set()).add(rec.site["line"])
            seen = self.sites_per_call.setdefault(key, set())
            seen.add((rec.site["line"], rec.site.get("column", 0)))
            if len(seen) > 1:
                self.multi_site.add(key)
        if key in self.range_keys:
            return
        self.range_keys.add(key)
        cls = type(st.obj)
        if any(r["className"] == st.class_name and r["phase"] == rec.phase for r in self.ranges):
            return
        r = method_range(cls, st.class_name, rec.phase, self.sites)
        if r is not None:
            self.ranges.append(r)
            self.unsent_ranges.append(r)

    # ------------------------------------------------------------ stopping

    def check(self, p):
        if self.detached:
            return
        cmd = self.commands.poll()
        if cmd is not None and self.handle(cmd) == "pause":
            self.stop("pause", p["id"], [])
            return
        hits = self.breakpoints_at(p)
        if hits:
            only_functions = all(b["where"].get("kind") == "function" for b in hits)
            self.stop("function breakpoint" if only_functions else "breakpoint", p["id"], [b["id"] for b in hits])
            return
        if self.rule is not None and satisfies(self.rule, p):
            self.stop(self.stop_reason, p["id"], [])
            return
        loss = p.get("loss")
        if loss is not None and not p["open"]:
            if self.filters.get("nonFinite") and not math.isfinite(loss) and not self.non_finite_stopped:
                self.non_finite_stopped = True
                first = self.first_non_finite(self.previous + self.current)
                at = first[0] if first else p
                if first:
                    pos, name, index, value = first
                    shape = list(pos.refs[name][0].shape)
                    where = "%s[%s]" % (name, "][".join(str(k) for k in arrays.unflat_index(shape, index)))
                    value_text = js_num(value)
                else:
                    where, value_text = "the loss", js_num(loss)
                self.stop("exception", at["id"], [], "nonFinite", "%s first appeared in %s: %s, at step %d%s; the loss is %s"
                          % (value_text, self.label(at), where, at["step"], site_suffix(at.get("site")), js_num(loss)))
                return
            factor = self.filters.get("lossUp")
            if factor not in (False, None) and loss_went_up(self.last_step_loss, loss, float(factor)):
                self.stop("exception", p["id"], [], "lossUp", "the loss went up from %s to %s at step %d (more than %s\u00d7)"
                          % (short_number(self.last_step_loss), short_number(loss), p["step"], js_num(factor)))
                return
        if self.filters.get("deadRelu") and p["kind"] == "layer" and p["phase"] == "forward" and not p["open"] and p["layer"] not in self.dead_reported:
            st = self.rec.by_id[p["layer"]]
            out = (p.refs or {}).get("output")
            if st.kind == "relu" and out is not None and out[0].ndim == 2 and out[0].shape[0] >= 2:
                a = out[0]
                dead = int((~(a != 0).any(axis=0)).sum())
                if dead > 0:
                    self.dead_reported.add(p["layer"])
                    self.stop("exception", p["id"], [], "deadRelu", "dead ReLU: %d of %d units of %s output 0 for all %d samples at step %d"
                              % (dead, a.shape[1], self.layer_name(p["layer"]), a.shape[0], p["step"]))

    def first_non_finite(self, positions):
        for p in positions:
            refs = p.refs
            if not refs:
                continue
            for name in creation_order(p.get("phase"), list(refs)):
                a = refs[name][0]
                i = arrays.first_non_finite(a)
                if i >= 0:
                    return p, name, i, float(a.reshape(-1)[i])
        return None

    def breakpoints_at(self, p):
        candidates = []
        if self.has_line_bps:
            site = p.get("site")
            if site:
                by_line = self.line_index.get(_norm_path(site["file"]))
                if by_line:
                    candidates.extend(by_line.get(site["line"], ()))
            if p["kind"] == "layer" and self.ranges:
                for b in self.breakpoints:
                    if b["where"].get("kind") != "line" or b in candidates:
                        continue
                    if self.matches(b["where"], p):
                        candidates.append(b)
        for b in self.function_bps:
            if self.matches(b["where"], p):
                candidates.append(b)
        out = []
        for b in candidates:
            cond = b.get("condition")
            if cond is not None:
                try:
                    if not evaluate_condition(cond, self.env(p)):
                        continue
                except EvalError as e:
                    self.report_condition_error(b, p, str(e))
                    continue
                except Exception as e:  # a value the evaluator did not expect: say so, never break the model
                    self.report_condition_error(b, p, "%s: %s" % (type(e).__name__, e))
                    continue
            n = self.hit_counts.get(b["id"], 0) + 1
            self.hit_counts[b["id"]] = n
            if b.get("hit") and not hit_satisfied(b["hit"], n):
                continue
            if b.get("log") is not None:
                self.log(b, p)
                continue
            out.append(b)
        return out

    def matches(self, where, p):
        """core/debug/breakpoints.ts `matchesLocation` at a live position."""
        kind = p["kind"]
        if where.get("kind") == "function":
            if kind in ("scalar", "scalar-backward"):
                return where.get("name") == "backward" and where.get("phase") is None and kind == "scalar-backward"
            if kind == "param":
                return False
            phase = "update" if kind == "update" else p.get("phase")
            wphase = where.get("phase")
            if wphase is not None and wphase != phase:
                return False
            if wphase is None and phase == "update":
                return False
            if where.get("name") == "*":
                return True
            st = self.rec.by_id[p["layer"]] if p.get("layer") is not None and p["layer"] < len(self.rec.by_id) else None
            if st is None:
                return False
            name = st.info["name"] if st.info else None
            return where.get("name") in (name, st.class_name)
        site = p.get("site")
        if site and site["line"] == where.get("line") and same_path(site["file"], where.get("file", "")):
            return True
        if kind == "layer" and p.get("phase") in ("forward", "backward") and p.get("layer") is not None:
            st = self.rec.by_id[p["layer"]]
            for r in self.ranges:
                if r["className"] == st.class_name and r["phase"] == p["phase"] and r["startLine"] <= where.get("line", -1) <= r["endLine"] \
                        and same_path(r["file"], where.get("file", "")):
                    return not self.is_call_line(where.get("file", ""), where.get("line", -1))
        return False

    def is_call_line(self, file, line):
        for f, lines in self.call_lines.items():
            if line in lines and same_path(f, file):
                return True
        return False

    def report_condition_error(self, b, p, msg):
        key = "%s:%s" % (b["id"], msg)
        if key in self.reported_errors:
            return
        self.reported_errors.add(key)
        self.post({"type": "debug/output", "category": "stderr", "breakpoint": b["id"], "position": p["id"],
                   "text": "breakpoint condition '%s' could not be evaluated at %s (step %d): %s; the breakpoint does not stop there"
                   % (b.get("conditionText") or "", self.label(p), p["step"], msg)})

    def log(self, b, p):
        env = self.env(p)
        parts = []
        for part in b.get("logTemplate") or [b.get("log", "")]:
            if isinstance(part, str):
                parts.append(part)
                continue
            ast = part.get("ast") if isinstance(part, dict) else None
            if not is_ast(ast):
                parts.append("{%s}" % (part.get("expr", "") if isinstance(part, dict) else ""))
                continue
            try:
                parts.append(format_value(evaluate(ast, env)))
            except EvalError as e:
                parts.append("<%s>" % e)
        self.post({"type": "debug/output", "category": "console", "breakpoint": b["id"], "position": p["id"], "text": "".join(parts)})

    def layer_name(self, layer):
        if layer is None or layer >= len(self.rec.by_id):
            return "layer %s" % layer
        st = self.rec.by_id[layer]
        return st.info["name"] if st.info else (st.name or "layer %d" % layer)

    def label(self, p):
        kind = p["kind"]
        if kind == "layer":
            return "%s.%s" % (p.get("layerName") or self.layer_name(p.get("layer")), p.get("phase", "call"))
        if kind == "update":
            return "%s update %s" % ((p.get("optimizer") or {}).get("kind", "optimizer"), self.layer_name(p.get("layer")))
        if kind == "param":
            return "update %s.%s" % (self.layer_name(p.get("layer")), p.get("param", "?"))
        return "backward()" if kind == "scalar-backward" else "scalar operation"

    def env(self, p):
        """The names a condition may use at a live position: the step's values, the call's tensors, every layer's fields."""
        refs = p.refs or {}

        def own(name):
            if name == "step":
                return float(p["step"])
            if name == "loss":
                v = p.get("loss", self.step_loss)
                return None if v is None else float(v)
            if name == "accuracy":
                v = p.get("accuracy", self.step_accuracy)
                return None if v is None else float(v)
            if name in ("learningRate", "lr"):
                v = p.get("learningRate")
                if v is None and self.rec.optimizers:
                    v = learning_rate(self.rec.optimizers[-1])
                return None if v is None else float(v)
            if name == "phase":
                return p.get("phase")
            if name == "layer":
                return self.layer_name(p["layer"]) if p.get("layer") is not None else None
            t = refs.get(name)
            if t is not None:
                return Tensor(t[0].shape, t[0].reshape(-1), t[1])
            return None

        def lookup(name):
            v = own(name)
            if v is not None:
                return v
            for st in self.rec.by_id:
                if st.info is not None and st.info["name"] == name:
                    return live_layer(st)
            return None

        def names():
            out = [k for k in _OWN_NAMES if own(k) is not None]
            out += [k for k in refs if "." not in k]
            out += [st.info["name"] for st in self.rec.by_id if st.info is not None]
            return out

        return Env(lookup, names)

    def stop_at_anomaly(self, filter_id, layer, phase, step, text):
        at = None
        for x in reversed(self.previous + self.current):
            if x["kind"] == "layer" and x["step"] == step and (layer is None or x.get("layer") == layer) and (phase is None or x.get("phase") == phase):
                at = x
                break
        at = at or self.last
        if at is None:
            return
        self.stop("exception", at["id"], [], filter_id, text)

    def stop(self, reason, show, hits, filter_id=None, text=None):
        """Sends the stop and the positions the host lacks, then waits for a command that lets the model go on."""
        live = self.last
        if live is None:
            return
        positions = self.unsent(True)
        ranges, self.unsent_ranges = self.unsent_ranges, []
        msg = {"type": "debug/stopped", "reason": reason, "live": live["id"], "show": show, "positions": positions, "ranges": ranges, "hits": hits}
        if filter_id:
            msg["filter"] = filter_id
        if text is not None:
            msg["text"] = text
        self.post(msg)
        self.rule = None
        self.stops += 1
        self.wire.send({"k": "paused", "paused": True})
        try:
            while True:
                outcome = self.handle(self.commands.wait())
                if outcome in ("resume", "detach", "eof"):
                    return
        finally:
            self.wire.send({"k": "paused", "paused": False})

    def unsent(self, full):
        out = []
        for p in self.previous + self.current:
            if p["id"] <= self.sent_up_to:
                continue
            out.append(to_wire(p, full or p["kind"] != "layer" or "error" in p))
        if out:
            self.sent_up_to = max(self.sent_up_to, out[-1]["id"])
        return out

    def send_recorded(self):
        if self.detached:
            return
        positions = self.unsent(False)
        ranges, self.unsent_ranges = self.unsent_ranges, []
        if positions or ranges:
            self.post({"type": "debug/positions", "positions": positions, "ranges": ranges})

    def post(self, m):
        self.wire.control(m)

    def handle(self, cmd):
        if cmd is None:
            return "ignored"
        kind = cmd.get("type")
        if kind == "eof":
            # The host closed the command stream: run on to the end without stopping again.
            self.detached = True
            self.rule = None
            return "eof"
        if kind == "debug/configure" and isinstance(cmd.get("breakpoints"), list) and isinstance(cmd.get("filters"), dict):
            self.configure(cmd["breakpoints"], cmd["filters"])
            if cmd.get("stopOnEntry"):
                self.rule = {}
                self.stop_reason = "entry"
            return "configured"
        if kind == "debug/resume":
            rule = cmd.get("rule")
            self.rule = rule if isinstance(rule, dict) else None
            self.stop_reason = "step"
            return "resume"
        if kind == "debug/pause":
            return "pause"
        if kind == "debug/detach":
            self.detached = True
            self.rule = None
            return "detach"
        return "ignored"

    def configure(self, breakpoints, filters):
        ok = []
        for b in breakpoints:
            if not isinstance(b, dict) or not isinstance(b.get("id"), int) or not isinstance(b.get("where"), dict):
                continue
            if b.get("condition") is not None and not is_ast(b["condition"]):
                self.post({"type": "debug/output", "category": "stderr", "breakpoint": b["id"],
                           "text": "breakpoint %d: its condition did not arrive in a form the tracer understands; it stops without it" % b["id"]})
                b = dict(b)
                b.pop("condition")
            ok.append(b)
        self.breakpoints = ok
        f = dict(_FILTER_DEFAULTS)
        f.update({k: v for k, v in filters.items() if k in _FILTER_DEFAULTS})
        self.filters = f
        self.line_index = {}
        self.function_bps = []
        for b in ok:
            w = b["where"]
            if w.get("kind") == "function":
                self.function_bps.append(b)
            elif w.get("kind") == "line" and isinstance(w.get("file"), str) and isinstance(w.get("line"), int):
                self.line_index.setdefault(_norm_path(w["file"]), {}).setdefault(w["line"], []).append(b)
        self.has_line_bps = any(b["where"].get("kind") == "line" for b in ok)
        ids = set(b["id"] for b in ok)
        for k in list(self.hit_counts):
            if k not in ids:
                del self.hit_counts[k]


def _stems(name):
    """`weights` -> weight, weights; `biases` -> bias, biase, biases: the book's `weight_momentums`, `bias_cache`."""
    out = []
    if name.endswith("es"):
        out.append(name[:-2])
    if name.endswith("s"):
        out.append(name[:-1])
    out.append(name)
    return out


def optimizer_state_names(kind):
    """The book's optimizer state attributes and their names in the debugger (`weights.momentum`, `weights.m`, ...)."""
    k = kind.lower()
    if "adam" in k:
        return (("_momentums", "m"), ("_cache", "v"))
    if "sgd" in k:
        return (("_momentums", "momentum"),)
    return (("_momentums", "momentum"), ("_cache", "cache"))


def learning_rate(opt):
    for attr in ("current_learning_rate", "learning_rate", "lr"):
        v = getattr(opt, attr, None)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def method_range(cls, class_name, phase, sites):
    """The lines of a user class's `forward`/`backward` (1-based, inclusive), for breakpoints inside it."""
    fn = None
    for klass in cls.__mro__:
        if phase in klass.__dict__:
            fn = klass.__dict__[phase]
            break
    if fn is None:
        return None
    fn = getattr(fn, "__bpl_original__", fn)
    try:
        file = inspect.getsourcefile(fn)
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return None
    if not file or not sites.is_user_file(file):
        return None
    return {"className": class_name, "phase": phase, "file": os.path.abspath(file), "startLine": int(start), "endLine": int(start + len(lines) - 1)}


def live_layer(st):
    """A layer for expressions: its array and number fields as they are now."""
    obj = st.obj

    def read(name):
        if name.startswith("_"):
            return None
        try:
            v = getattr(obj, name)
        except Exception:
            return None
        if isinstance(v, bool):
            return v
        if isinstance(v, (int, float)):
            return float(v)
        if arrays.is_array(v):
            t = arrays.as_float64(v)
            if t is not None:
                return Tensor(t[0].shape, t[0].reshape(-1), t[1])
        return None

    def keys():
        d = getattr(obj, "__dict__", {})
        return [k for k in d if read(k) is not None]

    info = st.info
    return Obj("%s = %s" % (info["name"], info["description"]), read, keys)


def to_wire(p, full):
    out = {k: v for k, v in p.items()}
    if full and p.refs:
        tensors = {}
        for name, (a, dt) in p.refs.items():
            tensors[name] = arrays.to_wire(a, dt)
        out["tensors"] = tensors
    return out


def js_num(v):
    from .expr import js_number

    return js_number(v)


def site_suffix(site):
    if not site:
        return ""
    return " (%s:%d)" % (os.path.basename(site["file"]), site["line"])
