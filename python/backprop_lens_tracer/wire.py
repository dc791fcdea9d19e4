"""The wire between the tracer and the extension: length-prefixed frames on the tracer's original stdout.

A frame is

    magic  b"BPL1"                      4 bytes
    jlen   JSON length, uint32 LE       4 bytes
    blen   binary length, uint32 LE     4 bytes
    json   UTF-8 JSON object            jlen bytes
    bin    raw little-endian float64    blen bytes (the tensors of this frame, back to back)

The JSON object has a kind `k`: "hello" (first frame: interpreter and library versions), "event" (one
trace event in `event`), "events" (step summaries batched, at most one frame per 50 ms), "control" (a contract-6 control message in `message`), "where" (the answer
to a `where` command: the main thread's current line). A tensor inside an event is
`{"shape": [...], "bin": [byteOffset, count], "dtype"?: "float32"}`: its values are `count` float64s
at `byteOffset` in this frame's binary part. JSON has no NaN or Infinity: such a number (outside
tensors) is written `{"$num": "NaN" | "Infinity" | "-Infinity"}`.

The user's prints never reach this stream: before the model runs, file descriptors 1 and 2 are
pointed at pipes that the tracer reads into `console` events, and the frames go to a duplicate of
the original descriptor 1 that nothing else knows about (see `Stdio`).
"""

import json
import math
import os
import struct
import sys
import threading
import time

MAGIC = b"BPL1"
HEADER = struct.Struct("<4sII")


class Tensor:
    """A tensor on its way to the wire: shape, float64 bytes (little-endian) and the source dtype."""

    __slots__ = ("shape", "data", "dtype")

    def __init__(self, shape, data, dtype=None):
        self.shape = shape
        self.data = data  # bytes-like, little-endian float64
        self.dtype = dtype  # None when the source was float64


def _clean(v, blobs):
    """JSON-safe copy of an event: non-finite floats boxed, tensors replaced by references into `blobs`."""
    if isinstance(v, float):
        if math.isfinite(v):
            return v
        return {"$num": "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")}
    if isinstance(v, dict):
        return {k: _clean(x, blobs) for k, x in v.items() if x is not None}
    if isinstance(v, (list, tuple)):
        return [_clean(x, blobs) for x in v]
    if isinstance(v, Tensor):
        offset = sum(len(b) for b in blobs)
        blobs.append(v.data)
        out = {"shape": list(v.shape), "bin": [offset, len(v.data) // 8]}
        if v.dtype is not None:
            out["dtype"] = v.dtype
        return out
    if v is True or v is False or v is None or isinstance(v, (int, str)):
        return v
    # NumPy scalars and anything else number-like
    try:
        return _clean(float(v), blobs)
    except (TypeError, ValueError):
        return str(v)


class Wire:
    """Writes frames to one file descriptor; thread-safe (the console readers and the watchdog write too)."""

    def __init__(self, fd):
        self.fd = fd
        self.lock = threading.Lock()
        self.broken = False
        self._summaries = []
        self._last_flush = 0.0
        self._order = threading.RLock()  # keeps batched summaries before whatever any thread sends next

    def send(self, obj):
        with self._order:
            if self._summaries:
                self._flush_summaries()
            self._send(obj)

    def _flush_summaries(self):
        with self._order:
            batch, self._summaries = self._summaries, []
            self._last_flush = time.monotonic()
            if batch:
                self._send({"k": "events", "events": batch})

    def _send(self, obj):
        blobs = []
        payload = json.dumps(_clean(obj, blobs), separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
        binary = b"".join(bytes(b) if not isinstance(b, (bytes, bytearray)) else b for b in blobs) if blobs else b""
        frame = HEADER.pack(MAGIC, len(payload), len(binary)) + payload + binary
        with self.lock:
            if self.broken:
                return
            view = memoryview(frame)
            try:
                while view:
                    n = os.write(self.fd, view)
                    view = view[n:]
            except OSError:
                # the extension went away: nothing left to tell it
                self.broken = True

    def event(self, event):
        # Step summaries of a long training loop go out in batches (at most one frame per 50 ms);
        # every other event goes out at once, after them, so the order is kept.
        if event.get("type") == "step/summary":
            with self._order:
                self._summaries.append(event)
                if time.monotonic() - self._last_flush > 0.05:
                    self._flush_summaries()
            return
        self.send({"k": "event", "event": event})

    def control(self, message):
        self.send({"k": "control", "message": message})


class ConsoleWriter:
    """`sys.stdout`/`sys.stderr` for the model: each completed line becomes a `console` event at the user's line."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, emit, level, site_of_caller):
        self._emit = emit
        self._level = level
        self._site = site_of_caller
        self._buf = ""
        self._buf_site = None
        self._lock = threading.RLock()

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        with self._lock:
            if self._buf == "":
                self._buf_site = self._site()
            self._buf += s
            # print() writes its text and then its end ("\n") separately: one event per completed print
            if self._buf.endswith("\n") or len(self._buf) > 65536:
                text = self._buf[:-1] if self._buf.endswith("\n") else self._buf
                self._buf = ""
                self._emit(self._level, text, self._buf_site)
                self._buf_site = None
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        with self._lock:
            if self._buf:
                text, self._buf = self._buf, ""
                self._emit(self._level, text, self._buf_site)

    def isatty(self):
        return False

    def readable(self):
        return False

    def writable(self):
        return True

    def seekable(self):
        return False

    def fileno(self):
        return 1 if self._level == "log" else 2

    @property
    def closed(self):
        return False

    def close(self):
        self.flush()


class Stdio:
    """Moves descriptors 1 and 2 onto pipes read into console events; the wire keeps the original stdout."""

    def __init__(self):
        self.wire_fd = os.dup(1)
        self.real_stderr_fd = os.dup(2)
        if os.name == "nt":
            import msvcrt  # noqa: F401  (binary mode for the wire)

            os.set_inheritable(self.wire_fd, False)
            try:
                msvcrt.setmode(self.wire_fd, os.O_BINARY)
            except OSError:
                pass
        self._readers = []
        self._emit = None
        self._devnull = os.open(os.devnull, os.O_WRONLY)

    def real_stderr(self, text):
        try:
            os.write(self.real_stderr_fd, text.encode("utf-8", "replace"))
        except OSError:
            pass

    def capture(self, emit):
        """Points fds 1 and 2 at pipes whose text (C-level writes, child processes) becomes console events."""
        self._emit = emit
        for fd, level in ((1, "log"), (2, "error")):
            r, w = os.pipe()
            os.dup2(w, fd)
            os.close(w)
            t = threading.Thread(target=self._pump, args=(r, level), name="bpl-fd%d" % fd, daemon=True)
            t.start()
            self._readers.append((fd, t))

    def _pump(self, r, level):
        pending = b""
        while True:
            try:
                chunk = os.read(r, 65536)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            if b"\n" in pending:
                head, _, pending = pending.rpartition(b"\n")
                self._emit(level, head.decode("utf-8", "replace"), None)
        if pending:
            self._emit(level, pending.decode("utf-8", "replace"), None)
        os.close(r)

    def release(self, timeout=0.5):
        """Closes the capture pipes (after the model ended) and waits a moment for their last text."""
        for fd, _ in self._readers:
            try:
                os.dup2(self._devnull, fd)
            except OSError:
                pass
        for _, t in self._readers:
            t.join(timeout)


def flush_std_streams():
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except Exception:
            pass
