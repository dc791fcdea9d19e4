"""Runs one model file under the tracer: `python bpl_run.py`, with the run's settings on stdin.

Protocol (docs/trace-format.md, "The Python producer"):
- stdin, one JSON object per line: first the run's settings
  `{"file", "source"?, "keepSteps", "gradCheck": {...} | null, "memoryLimitMb", "traceVersion"?}`, then commands
  (`{"type": "where"}`, `{"type": "stop"}`, and what the debugger adds).
- stdout: frames (wire.py). The model's prints, warnings and C-level output become `console` events.

The model runs as `__main__` with its own folder first on `sys.path`, as `python model.py` would run
it; nothing is written next to it (no `__pycache__`: the tracer runs with `-B`).
"""

import builtins
import io
import json
import os
import sys
import threading
import time
import traceback
import types

from . import VERSION
from .commands import Commands
from .duck import Duck
from .scalars import NAME as SCALARS_NAME, Scalars, compile_with_scalars
from .recorder import NonFiniteStop, Recorder, ShapeStop, describe_error_layer
from .sites import Sites, at
from .torch_hooks import TorchHooks
from .wire import ConsoleWriter, Stdio, Wire, flush_std_streams

_SHAPE_WORDS = ("not aligned", "could not be broadcast", "shapes cannot be multiplied", "size mismatch", "Input operand",
                "must match the size", "cannot reshape", "mismatch in dimension", "shape mismatch", "incompatible dimensions")


def main(argv):
    stdio = Stdio()
    wire = Wire(stdio.wire_fd)
    try:
        config = json.loads(sys.stdin.buffer.readline().decode("utf-8") or "{}")
    except ValueError as e:
        stdio.real_stderr("backprop-lens: the tracer's settings line is not JSON: %s\n" % e)
        return 2
    run = Run(config, stdio, wire)
    code = run.run()
    flush_std_streams()
    stdio.release()
    wire.send({"k": "exit"})
    os._exit(code)


def _find(name):
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _version_of(name):
    try:
        from importlib import metadata

        return metadata.version(name)
    except Exception:
        return None


class Run:
    def __init__(self, config, stdio, wire):
        self.config = config
        self.stdio = stdio
        self.wire = wire
        self.file = os.path.abspath(config["file"])
        self.sites = Sites(self.file)
        self.memory_limit_mb = float(config.get("memoryLimitMb") or 1024)
        self.started = time.monotonic()
        self.main_thread = threading.main_thread()
        self.rec = Recorder(wire, self.sites, keep_steps=int(config.get("keepSteps") or 3), gradcheck=config.get("gradCheck"))
        self.torch = TorchHooks(self.rec, self.sites)
        self.duck = Duck(self.rec, self.sites, self.torch)
        self.commands = Commands(self, wire)
        self.debugger = None
        if config.get("debug"):
            from .debugger import Debugger

            self.debugger = Debugger(self.rec, self.sites, self.commands, wire, keep_steps=int(config.get("keepSteps") or 3))
            self.rec.observer = self.debugger

    # ------------------------------------------------------------ console

    def console(self, level, text, site):
        ev = {"type": "console", "level": level, "text": text}
        if site:
            ev["site"] = site
        self.wire.event(ev)

    def _caller_site(self):
        return self.sites.capture(3)

    def _install_console(self):
        self.stdio.capture(self.console)
        # stdin carries the extension's commands: the model reads an empty one (input() raises EOFError)
        sys.stdin = io.StringIO("")
        sys.stdout = ConsoleWriter(self.console, "log", self._caller_site)
        sys.stderr = ConsoleWriter(self.console, "error", self._caller_site)
        import warnings

        def showwarning(message, category, filename, lineno, file=None, line=None):
            site = {"file": os.path.abspath(filename), "line": int(lineno), "column": 1} if self.sites.is_user_file(filename) else self.sites.capture(2)
            self.console("warn", "%s: %s" % (category.__name__, message), site)

        warnings.showwarning = showwarning

    # ------------------------------------------------------------ limits

    def _install_limits(self):
        limit = int(self.memory_limit_mb * 2 ** 20)
        try:
            import resource

            if hasattr(resource, "RLIMIT_DATA") and sys.platform.startswith("linux"):
                soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
                if hard == resource.RLIM_INFINITY or hard > limit:
                    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
        except Exception:
            pass
        t = threading.Thread(target=self._watch_memory, args=(limit,), name="bpl-memory", daemon=True)
        t.start()

    def _rss(self):
        try:
            if sys.platform.startswith("linux"):
                with open("/proc/self/statm") as f:
                    return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            if os.name == "nt":
                import ctypes
                from ctypes import wintypes

                class PMC(ctypes.Structure):
                    _fields_ = [("cb", wintypes.DWORD), ("PageFaultCount", wintypes.DWORD)] + [
                        (n, ctypes.c_size_t) for n in ("PeakWorkingSetSize", "WorkingSetSize", "QuotaPeakPagedPoolUsage", "QuotaPagedPoolUsage",
                                                       "QuotaPeakNonPagedPoolUsage", "QuotaNonPagedPoolUsage", "PagefileUsage", "PeakPagefileUsage")]
                pmc = PMC()
                pmc.cb = ctypes.sizeof(PMC)
                ctypes.windll.psapi.GetProcessMemoryInfo(ctypes.windll.kernel32.GetCurrentProcess(), ctypes.byref(pmc), pmc.cb)
                return int(pmc.WorkingSetSize)
            import resource

            return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # macOS: bytes (peak)
        except Exception:
            return 0

    def _watch_memory(self, limit):
        while True:
            time.sleep(0.05)
            rss = self._rss()
            if rss > limit:
                site, frames = self.where()
                self.wire.send({"k": "memory", "rss": rss, "site": site, "frames": frames})
                os._exit(137)

    def where(self):
        """The innermost user line the main thread is running, and its user frames (innermost first)."""
        frame = sys._current_frames().get(self.main_thread.ident)
        frames = []
        f = frame
        while f is not None:
            if self.sites.is_user_file(f.f_code.co_filename):
                frames.append(self.sites.site_of_frame(f))
            f = f.f_back
        return (frames[0] if frames else None), frames[:20]

    # ------------------------------------------------------------ run

    def run(self):
        self.wire.send({
            "k": "hello", "tracer": VERSION, "python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
            "numpy": _version_of("numpy") if _find("numpy") else None, "torch": _version_of("torch") if _find("torch") else None,
            "pid": os.getpid(),
        })
        self.rec.emit({"type": "run/start", "version": int(self.config.get("traceVersion") or 2), "file": self.file, "startedAt": int(time.time() * 1000)})
        self._install_console()
        self._install_limits()
        self.commands.start()
        error = None
        completed = False
        source = self.config.get("source")
        try:
            if source is None:
                with open(self.file, "rb") as f:
                    source = f.read()
            code = compile(source, self.file, "exec", dont_inherit=True)
            self.scalar_sites = None
            rewritten = compile_with_scalars(source, self.file)
            if rewritten is not None:
                code, self.scalar_sites = rewritten
        except SyntaxError as e:
            error = self.syntax_error(e)
        except OSError as e:
            error = {"kind": "import", "message": "%s: could not read the model file: %s" % (self.file, e)}
        if error is None and self.debugger is not None:
            self.debugger.start()  # the breakpoints and filters arrive before the model's first line
        if error is None:
            completed, error = self.execute(code)
        try:
            self.rec.finish(completed=completed)
        except BaseException as e:  # a non-finite loss at the end, or a failing hook
            if error is None:
                error = self.run_error(e)
        flush_std_streams()
        end = {"type": "run/end", "ok": error is None, "steps": self.rec.step_count, "durationMs": (time.monotonic() - self.started) * 1000.0,
               "keptSteps": self.rec.kept_steps}
        if error is not None:
            end["error"] = error
        self.rec.emit(end)
        return 0

    def execute(self, code):
        module = types.ModuleType("__main__")
        module.__file__ = self.file
        module.__builtins__ = builtins
        module.__loader__ = None
        module.__spec__ = None
        scalars = None
        if getattr(self, "scalar_sites", None) is not None:
            scalars = Scalars(self.rec, self.file, self.scalar_sites)
            module.__dict__[SCALARS_NAME] = scalars
        saved_main = sys.modules.get("__main__")
        sys.modules["__main__"] = module
        sys.argv = [self.file]
        sys.path[0:0] = [os.path.dirname(self.file)]
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.append(os.path.join(here, "fallback"))  # a stand-in `nnfs` when the real one is not installed
        while os.path.dirname(here) in sys.path:
            sys.path.remove(os.path.dirname(here))
        self.duck.install()
        self.torch.install()
        error = None
        completed = False
        try:
            exec(code, module.__dict__)
            completed = True
        except SystemExit as e:
            if e.code is None or e.code == 0:
                completed = True
            else:
                error = self.exit_error(e)
        except BaseException as e:
            error = self.run_error(e)
            if self.debugger is not None:
                self.debugger.on_error(e, error["message"])
        finally:
            if scalars is not None:
                try:
                    scalars.finish()
                except BaseException as e:
                    if error is None:
                        error = self.run_error(e)
            self.duck.uninstall()
            self.torch.uninstall()
            if saved_main is not None:
                sys.modules["__main__"] = saved_main
        try:
            self.torch.flush_backward()
        except BaseException as e:
            if error is None:
                error = self.run_error(e)
                completed = False
        return completed, error

    # ------------------------------------------------------------ errors

    def syntax_error(self, e):
        fname = os.path.abspath(e.filename or self.file)
        line = int(e.lineno or 1)
        col = int(e.offset or 1)
        site = {"file": fname, "line": line, "column": max(1, col)}
        text = (e.text or "").rstrip("\n")
        msg = "%s:%d:%d: %s: %s" % (os.path.basename(fname), line, col, type(e).__name__, e.msg)
        if text.strip():
            msg += " in `%s`" % text.strip()
        return {"kind": "syntax", "message": msg, "site": site, "frames": [site]}

    def exit_error(self, e):
        frames = self.sites.frames_of_traceback(e.__traceback__)
        site = frames[0] if frames else None
        prefix = "%s: " % at(site) if site else ""
        err = {"kind": "throw", "message": "%sthe model called sys.exit(%r) and stopped before its end" % (prefix, e.code)}
        if site:
            err["site"] = site
            err["frames"] = frames
        return err

    def run_error(self, e):
        if isinstance(e, SyntaxError) and not isinstance(e, IndentationError) or isinstance(e, IndentationError):
            if e.filename and self.sites.is_user_file(e.filename):
                return self.syntax_error(e)
        frames = self.sites.frames_of_traceback(e.__traceback__)
        ctx = getattr(e, "__bpl_context__", None)
        site = getattr(e, "site", None) if isinstance(e, (NonFiniteStop, ShapeStop)) else None
        site = site or (frames[0] if frames else None) or (ctx or {}).get("site")
        prefix = "%s: " % at(site) if site else ""
        what = "%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__
        kind = "throw"
        layer = None
        if isinstance(e, NonFiniteStop):
            kind = "non-finite"
            message = prefix + str(e)
        elif isinstance(e, ShapeStop):
            kind = "shape"
            message = prefix + str(e)
            layer = e.layer
        elif isinstance(e, MemoryError):
            kind = "memory"
            message = "%sthe model used more than the memory limit of %d MB (%s); look for data that grows without bound, or raise the limit (setting backpropLens.memoryLimitMb, CLI --memory-limit)" % (
                prefix, self.memory_limit_mb, what)
        elif isinstance(e, ImportError):
            kind = "import"
            message = prefix + self.import_message(e, what)
        elif isinstance(e, KeyboardInterrupt):
            kind = "cancelled"
            message = "the run was stopped"
        else:
            if any(w in str(e) for w in _SHAPE_WORDS) or type(e).__name__ == "ShapeError":
                kind = "shape"
            if ctx is not None:
                info = ctx["layer"]
                layer = info
                message = "%s%s.%s failed: %s" % (prefix, info["name"], ctx["phase"], what)
                if ctx.get("detail"):
                    message += "; " + ctx["detail"]
                message += ". " + describe_error_layer(info)
            else:
                chain = ""
                if len(frames) > 1:
                    chain = " (called from %s)" % " \u2190 ".join(at(f) for f in frames[1:4])
                message = prefix + what + chain
        err = {"kind": kind, "message": message}
        if site:
            err["site"] = site
        if layer is not None:
            err["layer"] = {"id": layer["id"], "name": layer["name"], "className": layer["className"]}
        if frames:
            err["frames"] = frames
        if kind in ("throw", "shape", "internal") and not frames:
            # an error in the tracer itself, or in a library with no user frame: keep the Python traceback
            self.stdio.real_stderr("".join(traceback.format_exception(type(e), e, e.__traceback__)))
        return err

    def import_message(self, e, what):
        name = getattr(e, "name", None) or ""
        top = name.split(".")[0]
        exe = sys.executable
        pretty = {"numpy": "NumPy", "torch": "PyTorch", "nnfs": "nnfs"}.get(top)
        if isinstance(e, ModuleNotFoundError) and pretty is not None:
            pkg = {"torch": "torch"}.get(top, top)
            return ("%s is not installed for the Python that ran the model (%s, Python %d.%d): install it with `%s -m pip install %s`, "
                    "or choose an interpreter that has it (Python: Select Interpreter, or the setting backpropLens.pythonPath)"
                    % (pretty, exe, sys.version_info[0], sys.version_info[1], exe, pkg))
        return what
