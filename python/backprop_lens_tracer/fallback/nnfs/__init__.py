"""A stand-in for the `nnfs` package of "Neural Networks from Scratch", used only when the real one
is not installed (Backprop Lens puts this folder at the *end* of `sys.path`, so `pip install nnfs`
always wins). It offers what chapter 9's code uses: `nnfs.init()` and `nnfs.datasets.spiral_data`
(also `vertical_data`, `sine_data`), with the same seed, dtypes and data.
"""

from .core import init  # noqa: F401

__version__ = "0.5.1-backprop-lens-stand-in"
