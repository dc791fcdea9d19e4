"""Drives the tracer as the debugger does: settings with `debug: true`, commands on stdin, frames read as they come."""

import json
import os
import queue
import struct
import subprocess
import sys
import threading

from harness import TRACER, Trace, decode


class DebugRun:
    """One debug run of a model file: `stopped()` waits for the next `debug/stopped`, `send()` writes a command."""

    def __init__(self, path, breakpoints=(), filters=None, stop_on_entry=False, **config):
        cfg = {"file": path, "keepSteps": 3, "gradCheck": None, "memoryLimitMb": 1024, "debug": True}
        cfg.update(config)
        self.path = path
        self.p = subprocess.Popen([sys.executable, "-B", TRACER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  cwd=os.path.dirname(path))
        self.frames = []
        self.controls = queue.Queue()
        self.raw = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.write(cfg)
        configure = {"type": "debug/configure", "breakpoints": list(breakpoints), "filters": filters if filters is not None else {
            "nonFinite": True, "gradCheck": True, "exploding": True, "deadRelu": False, "lossUp": False, "error": True}}
        if stop_on_entry:
            configure["stopOnEntry"] = True
        self.write(configure)

    def _read(self):
        buf = b""
        out = self.p.stdout
        while True:
            chunk = out.read1(65536) if hasattr(out, "read1") else out.read(65536)
            if not chunk:
                break
            self.raw += chunk
            buf += chunk
            while len(buf) >= 12:
                _, jlen, blen = struct.unpack_from("<4sII", buf, 0)
                if len(buf) < 12 + jlen + blen:
                    break
                (frame,) = decode(buf[:12 + jlen + blen])
                buf = buf[12 + jlen + blen:]
                self.frames.append(frame)
                if frame["k"] == "control":
                    self.controls.put(frame["message"])
                elif frame["k"] == "paused":
                    self.controls.put({"type": "paused", "paused": frame["paused"]})
        self.controls.put(None)

    def write(self, obj):
        self.p.stdin.write((json.dumps(obj) + "\n").encode("utf-8"))
        self.p.stdin.flush()

    def message(self, kind, timeout=60):
        """The next control message of `kind` (skipping others); None when the run ended first."""
        while True:
            m = self.controls.get(timeout=timeout)
            if m is None:
                return None
            if m.get("type") == kind:
                return m

    def stopped(self, timeout=60):
        return self.message("debug/stopped", timeout)

    def resume(self, rule=None):
        self.write({"type": "debug/resume", "rule": rule})

    def finish(self, timeout=120):
        """Detaches, waits for the end and returns the whole trace."""
        try:
            self.write({"type": "debug/detach"})
        except (BrokenPipeError, OSError):
            pass
        try:
            self.p.stdin.close()
        except OSError:
            pass
        self.p.wait(timeout)
        self.reader.join(10)
        err = self.p.stderr.read().decode("utf-8", "replace")
        self.p.stdout.close()
        self.p.stderr.close()
        return Trace(self.frames, err, self.p.returncode)

    def kill(self):
        self.p.kill()
        self.p.wait(10)
        self.reader.join(10)
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                f.close()
            except OSError:
                pass
