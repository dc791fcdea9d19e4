"""Backprop Lens's Python tracer: runs a model file unchanged and streams its trace to the extension.

See docs/python.md and the "Python producer" section of docs/trace-format.md.
"""

VERSION = "0.1.0"
