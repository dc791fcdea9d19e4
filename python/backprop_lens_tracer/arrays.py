"""What the tracer calls a tensor: NumPy arrays, torch tensors, nested lists of numbers.

Everything goes on the wire as float64 (float32, float16, ints and bools convert exactly), and the
source dtype travels with it (`dtype`, absent for float64) so the inspector can say "float32".
Statistics follow core/trace/stats.ts: non-finite elements are counted and left out of min, max,
mean, std; `norm` is the L2 norm over all elements (NaN when any is non-finite).
"""

import math
import sys

_np = None


def np():
    """NumPy, imported only when the model has already imported it (or a tensor needs it)."""
    global _np
    if _np is None:
        import numpy

        _np = numpy
    return _np


def numpy_loaded():
    return "numpy" in sys.modules


def is_torch_tensor(x):
    t = sys.modules.get("torch")
    return t is not None and isinstance(x, t.Tensor)


def is_array(x):
    """True for what the trace records as a tensor: an ndarray or a torch tensor of numbers."""
    if numpy_loaded() and isinstance(x, np().ndarray):
        return x.dtype.kind in "fiub"
    if is_torch_tensor(x):
        return not x.is_complex()
    return False


_F64 = None


def as_float64(x):
    """(float64 C-contiguous ndarray, source dtype name or None for float64), or None when x is not numeric."""
    global _F64
    n = np()
    if _F64 is None:
        _F64 = n.dtype(n.float64)
    if type(x) is n.ndarray and x.dtype == _F64 and x.flags.c_contiguous:
        return x, None  # the common case, without a copy
    if is_torch_tensor(x):
        dt = str(x.dtype).replace("torch.", "")
        a = x.detach().to("cpu")
        if a.is_complex():
            return None
        a = a.double().numpy()
        return n.ascontiguousarray(a), (None if dt == "float64" else dt)
    if isinstance(x, n.ndarray):
        if x.dtype.kind not in "fiub":
            return None
        dt = None if x.dtype == n.float64 else str(x.dtype)
        return n.ascontiguousarray(x, dtype=n.float64), dt
    if isinstance(x, (list, tuple)) and x:
        try:
            a = n.asarray(x)
        except Exception:
            return None
        if a.dtype.kind not in "fiub" or a.dtype == object:
            return None
        dt = None if a.dtype.kind == "f" else str(a.dtype)
        return n.ascontiguousarray(a, dtype=n.float64), dt
    if isinstance(x, (float, int)) and not isinstance(x, bool):
        return n.asarray([float(x)], dtype=n.float64), None
    return None


def to_wire(a, dtype):
    """A float64 ndarray as a wire tensor (0-d arrays are sent as shape [1])."""
    from .wire import Tensor

    n = np()
    shape = list(a.shape) if a.ndim > 0 else [1]
    data = a.astype("<f8", copy=False).tobytes()
    del n
    return Tensor(shape, data, dtype)


def stats(a):
    """size, min, max, mean, std, norm, nonFinite, zeros, nan, posInf, negInf of a float64 ndarray,
    as core/trace/stats.ts computes them: min/max over the elements that are not NaN, mean/std over the
    finite ones, norm over all (NaN when one is NaN, inf when one is infinite), scaled so that finite
    values never overflow or underflow."""
    n = np()
    flat = a.reshape(-1)
    size = int(flat.size)
    nan_mask = n.isnan(flat)
    nan = int(nan_mask.sum())
    pos_inf = int((flat == math.inf).sum())
    neg_inf = int((flat == -math.inf).sum())
    finite = flat[n.isfinite(flat)]
    if nan == size:
        mn = mx = float("nan")
    else:
        not_nan = flat[~nan_mask]
        mn = float(not_nan.min())
        mx = float(not_nan.max())
    if finite.size == 0:
        mean = std = float("nan")
        finite_norm = 0.0
    else:
        scale = float(n.abs(finite).max()) or 1.0
        x = finite / scale
        m = float(x.sum() / x.size)
        mean = m * scale
        std = math.sqrt(float(((x - m) * (x - m)).sum() / x.size)) * scale
        finite_norm = math.sqrt(float((x * x).sum())) * scale
    norm = float("nan") if nan else (math.inf if pos_inf + neg_inf else finite_norm)
    return {
        "size": size,
        "min": mn,
        "max": mx,
        "mean": mean,
        "std": std,
        "norm": norm,
        "nonFinite": nan + pos_inf + neg_inf,
        "zeros": int((finite == 0).sum()),
        "nan": nan,
        "posInf": pos_inf,
        "negInf": neg_inf,
    }


def l2norm(a):
    """L2 norm: NaN when any element is NaN, inf when any is infinite, else finite whenever the true norm is."""
    n = np()
    flat = a.reshape(-1)
    if not flat.size:
        return 0.0
    with n.errstate(all="ignore"):
        s = float(n.dot(flat, flat))
    if s != s:
        return float("nan")
    if 1e-290 < s < 1e300:
        return math.sqrt(s)
    if s == 0.0 and not flat.any():
        return 0.0
    if n.isnan(flat).any():
        return float("nan")
    scale = float(n.abs(flat).max())
    if scale == math.inf:
        return math.inf
    x = flat / scale
    return math.sqrt(float(n.dot(x, x))) * scale


def mean_abs(a):
    """The mean |value| of a gradient (NaN when it is empty or holds a NaN)."""
    n = np()
    flat = a.reshape(-1)
    if not flat.size:
        return float("nan")
    with n.errstate(all="ignore"):
        m = float(n.abs(flat).sum() / flat.size)
    if m == math.inf and n.isfinite(flat).all():
        m = float((n.abs(flat) / flat.size).sum())
    return m


def first_non_finite(a):
    """Flat index of the first NaN or ±Infinity, or -1."""
    n = np()
    bad = ~n.isfinite(a.reshape(-1))
    if not bad.any():
        return -1
    return int(n.argmax(bad))


def unflat_index(shape, i):
    out = []
    for d in reversed(shape):
        out.insert(0, 0 if d == 0 else i % d)
        i = 0 if d == 0 else i // d
    return out


def show_shape(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def shape_of(x):
    s = getattr(x, "shape", None)
    if s is None:
        return None
    try:
        return [int(d) for d in s]
    except Exception:
        return None
