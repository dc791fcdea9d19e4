# Entry point of the Backprop Lens Python tracer: `python bpl_run.py '<config json>'`.
# This file is kept to the syntax every Python accepts, so that an old interpreter gets a clear
# message (exit status 3) instead of a syntax error in the tracer.
import sys
import os

MIN_VERSION = (3, 8)

if sys.version_info[:2] < MIN_VERSION:
    sys.stderr.write(
        "backprop-lens: Python %d.%d or newer is needed to run a model, but %s is Python %s. "
        "Choose a newer interpreter (the Python extension's interpreter picker, or the setting "
        "backpropLens.pythonPath).\n" % (MIN_VERSION[0], MIN_VERSION[1], sys.executable, sys.version.split()[0])
    )
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backprop_lens_tracer.runner import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
