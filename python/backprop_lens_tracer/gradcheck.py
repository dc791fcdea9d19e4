"""Gradient checks by central differences in float64, on the layer's own forward and backward.

The same criterion as core/gradcheck.ts: for an element x, numeric = (f(x+h) - f(x-h)) / 2h with
h = 1e-6 * max(1, |x|), and the check passes when |analytic - numeric| <= atol + rtol * |numeric|.
Where the one-sided slopes disagree and one of them equals the analytic value the function has a kink
there (ReLU at 0, a clip boundary): that element is counted as a kink and not judged.

f is the loss for loss layers (forward returns a number, or the layer is a cross-entropy), otherwise
sum(output * dvalues) for the `dvalues` the model passed to backward, so `dinputs` must equal
df/dinputs and each `dP` must equal df/dP.

The check runs in float64 whatever the model used: the layer's parameters are swapped for float64
copies during the check, NumPy functions patched to float32 (nnfs.init) are restored for its
duration, and the layer's attributes are put back as they were afterwards.
"""

import contextlib
import math
import random
import time

from . import arrays

MIN_ELEMENTS_PAST_DEADLINE = 8
CLIP = 1e-7


def check_tensor(name, x, analytic, f, h=1e-6, rtol=1e-5, atol=1e-7, maxElements=512, deadline=None, skip=None, rng=None, index_map=None):
    """Compares `analytic` (same size as x) with central differences of f over the elements of x (x is restored)."""
    flat = x.reshape(-1)
    an = analytic.reshape(-1)
    if an.size != flat.size:
        raise ValueError("gradient check of %s: %d gradient values for %d elements (shapes %s and %s)"
                         % (name, an.size, flat.size, arrays.show_shape(analytic.shape), arrays.show_shape(x.shape)))
    n = flat.size
    rng = rng or random.Random(1)
    indices = list(range(n)) if n <= maxElements else sorted(rng.sample(range(n), maxElements))
    f0 = f()
    worst = None
    worst_score = -math.inf
    ok = True
    kinks = 0
    visited = 0
    for i in indices:
        if deadline is not None and visited >= MIN_ELEMENTS_PAST_DEADLINE and time.monotonic() > deadline:
            break
        visited += 1
        if skip is not None and skip(i):
            kinks += 1
            continue
        xi = float(flat[i])
        step = h * max(1.0, abs(xi))
        flat[i] = xi + step
        fp = f()
        flat[i] = xi - step
        fm = f()
        flat[i] = xi
        numeric = (fp - fm) / (2 * step)
        a = float(an[i])
        abs_err = abs(a - numeric)
        allowed = atol + rtol * abs(numeric)
        passed = abs_err <= allowed
        if not passed:
            right = (fp - f0) / step
            left = (f0 - fm) / step

            def near(s):
                return abs(a - s) <= atol + rtol * abs(s) + 1e-3 * abs(right - left)

            if abs(right - left) > allowed and (near(right) or near(left)):
                kinks += 1
                continue
        score = abs_err / allowed if allowed > 0 else abs_err
        if score > worst_score or abs_err != abs_err:
            worst_score = math.inf if abs_err != abs_err else score
            index = arrays.unflat_index(list(x.shape), i)
            if index_map is not None:
                index = index_map(index)
            worst = {"index": index, "analytic": a, "numeric": numeric, "absErr": abs_err,
                     "relErr": abs_err / max(abs(numeric), 5e-324)}
        if not passed:
            ok = False
    out = {"name": name, "ok": ok, "checked": visited - kinks, "total": n, "kinks": kinks, "rtol": rtol, "atol": atol}
    if worst is not None:
        out["worst"] = worst
    return out


@contextlib.contextmanager
def float64_numpy():
    """Undoes nnfs.init()'s float32 patches of np.dot, np.zeros and np.random.randn for the duration."""
    np = arrays.np()
    swaps = []
    try:
        core = getattr(np, "_core", None)  # NumPy 2 (numpy.core is a deprecated alias there)
        multiarray = core.multiarray if core is not None else np.core.multiarray
        originals = [(np, "dot", multiarray.dot), (np, "zeros", multiarray.zeros), (np.random, "randn", np.random.mtrand.randn)]
    except Exception:
        originals = []
    for mod, name, orig in originals:
        cur = getattr(mod, name, None)
        if cur is not orig:
            swaps.append((mod, name, cur))
            setattr(mod, name, orig)
    with np.errstate(all="ignore"):
        try:
            yield
        finally:
            for mod, name, cur in swaps:
                setattr(mod, name, cur)


def _scalar(r):
    """A Python float for a number-like forward result, else None."""
    np = arrays.np()
    if isinstance(r, bool):
        return None
    if isinstance(r, (int, float, np.number)):
        return float(r)
    if isinstance(r, np.ndarray) and r.ndim == 0:
        return float(r)
    return None


def option_subset(options):
    keys = ("h", "rtol", "atol", "maxElements", "deadline")
    return {k: options[k] for k in keys if k in options and options[k] is not None}


def gradcheck_numpy_layer(obj, forward, backward, kind, params, fwd_args, fwd_kwargs, bwd_args, bwd_kwargs, options):
    """Checks `backward` of a NumPy layer object against central differences (see the module comment).

    `forward`/`backward` are the layer's own (unwrapped) functions; `params` the parameter names.
    """
    np = arrays.np()
    opts = option_subset(options)
    saved = dict(obj.__dict__)
    try:
        with float64_numpy():
            x = np.array(fwd_args[0], dtype=np.float64)
            rest = list(fwd_args[1:])
            for p in params:
                v = getattr(obj, p, None)
                if isinstance(v, np.ndarray):
                    setattr(obj, p, v.astype(np.float64))
            first = forward(obj, x, *rest, **fwd_kwargs)
            loss = kind in ("cce", "softmax-cce") or _scalar(first) is not None
            g = None
            if not loss:
                out = getattr(obj, "output", None)
                if not isinstance(out, np.ndarray):
                    out = first
                if not isinstance(out, np.ndarray):
                    raise ValueError("%s.forward neither set self.output nor returned an array" % type(obj).__name__)
                given = bwd_args[0] if bwd_args else None
                g = np.array(given, dtype=np.float64) if given is not None else np.random.RandomState(1).standard_normal(out.shape)
                if g.shape != out.shape:
                    raise ValueError("dvalues of shape %s do not fit output of shape %s" % (arrays.show_shape(g.shape), arrays.show_shape(out.shape)))

            def objective():
                r = forward(obj, x, *rest, **fwd_kwargs)
                s = _scalar(r)
                if s is not None:
                    return s
                if loss:
                    v = r if isinstance(r, np.ndarray) else getattr(obj, "output")
                    return float(np.mean(v))
                out = getattr(obj, "output", None)
                if not isinstance(out, np.ndarray):
                    out = r
                return float(np.sum(np.asarray(out, dtype=np.float64) * g))

            forward(obj, x, *rest, **fwd_kwargs)
            if not loss:
                bargs = [g] + list(bwd_args[1:])
            else:
                bargs = list(bwd_args)
                if kind == "softmax-cce":
                    bargs[0:1] = [getattr(obj, "output")]
                elif kind == "cce":
                    bargs[0:1] = [x.copy()]
            backward(obj, *bargs, **bwd_kwargs)
            dinputs = getattr(obj, "dinputs", None)
            if not isinstance(dinputs, np.ndarray):
                raise ValueError("%s.backward did not set self.dinputs to an array" % type(obj).__name__)
            dinputs = np.array(dinputs, dtype=np.float64)
            grads = []
            for p in params:
                dp = getattr(obj, "d" + p, None)
                if isinstance(dp, np.ndarray) and isinstance(getattr(obj, p, None), np.ndarray):
                    grads.append((p, getattr(obj, p), np.array(dp, dtype=np.float64)))
            skip = clipped_rows(kind, x, rest[0] if rest else None) if loss else None
            tensors = [check_tensor("dinputs", x, dinputs, objective, skip=skip, **opts)]
            for p, value, dp in grads:
                tensors.append(check_tensor("d" + p, value, dp, objective, **opts))
            return {"ok": all(t["ok"] for t in tensors), "tensors": tensors}
    finally:
        obj.__dict__.clear()
        obj.__dict__.update(saved)


def clipped_rows(kind, x, y_true):
    """For a cross-entropy: a predicate on flat indices of rows whose target probability is clipped."""
    np = arrays.np()
    if x.ndim != 2 or y_true is None:
        return None
    n, k = x.shape
    if kind == "softmax-cce":
        e = np.exp(x - x.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
    else:
        probs = x
    try:
        y = np.asarray(y_true)
        idx = np.argmax(y, axis=1) if y.ndim == 2 else y.astype(int)
        p = probs[np.arange(n), idx]
    except Exception:
        return None
    clipped = (p < CLIP) | (p > 1 - CLIP)
    if not clipped.any():
        return None
    return lambda i: bool(clipped[i // k])
