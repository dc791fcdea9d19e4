"""Commands from the extension: JSON lines on stdin, read by a thread (contract 6).

`where` is answered at once from the reader thread (the main thread's current user line, also while
it is stuck in an endless loop); `stop` ends the process. Every other command is queued for the
model thread: `poll()` takes one without blocking, `wait()` blocks until one arrives (the debugger
pauses the model there and resumes it with a `resume`-style command).
"""

import json
import os
import queue
import sys
import threading


class Commands:
    def __init__(self, run, wire):
        self.run = run
        self.wire = wire
        self.queue = queue.Queue()
        self.closed = False
        self.stdin = sys.stdin.buffer  # the extension's command stream (the model gets an empty stdin)

    def start(self):
        t = threading.Thread(target=self._read, name="bpl-commands", daemon=True)
        t.start()

    def _read(self):
        stdin = self.stdin
        while True:
            try:
                line = stdin.readline()
            except (OSError, ValueError):
                line = b""
            if not line:
                self.closed = True
                self.queue.put({"type": "eof"})
                return
            try:
                cmd = json.loads(line.decode("utf-8"))
            except ValueError:
                self.wire.control({"type": "tracer-warning", "message": "a command that is not JSON was ignored"})
                continue
            if not isinstance(cmd, dict) or not isinstance(cmd.get("type"), str):
                continue
            kind = cmd["type"]
            if kind == "where":
                site, frames = self.run.where()
                self.wire.send({"k": "where", "id": cmd.get("id"), "site": site, "frames": frames})
            elif kind == "stop":
                os._exit(0)
            elif kind == "noop":
                continue
            else:
                self.queue.put(cmd)

    def poll(self):
        try:
            return self.queue.get_nowait()
        except queue.Empty:
            return None

    def wait(self, timeout=None):
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def post(self, message):
        self.wire.control(message)
