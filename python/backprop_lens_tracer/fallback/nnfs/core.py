"""`nnfs.init()`: a fixed seed and float32 by default, as the book's package does.

With `dot_precision_workaround`, `np.dot` multiplies in float64 and returns float32 (results then
agree across machines); with `default_dtype`, `np.zeros` and `np.random.randn` make that dtype.
"""

import random

import numpy as np

_ORIGINAL = {"dot": np.dot, "zeros": np.zeros, "randn": np.random.randn}


def init(dot_precision_workaround=True, default_dtype="float32", random_seed=0):
    np.random.seed(random_seed)
    random.seed(random_seed)
    dot = _ORIGINAL["dot"]
    zeros = _ORIGINAL["zeros"]
    randn = _ORIGINAL["randn"]
    if dot_precision_workaround:
        def precise_dot(*args, **kwargs):
            return dot(*[np.asarray(a).astype("float64") for a in args], **kwargs).astype("float32")

        np.dot = precise_dot
    else:
        np.dot = dot
    if default_dtype:
        def typed_zeros(shape, dtype=None, *args, **kwargs):
            return zeros(shape, default_dtype if dtype is None else dtype, *args, **kwargs)

        def typed_randn(*args):
            return randn(*args).astype(default_dtype)

        np.zeros = typed_zeros
        np.random.randn = typed_randn
    else:
        np.zeros = zeros
        np.random.randn = randn
