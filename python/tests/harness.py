"""Runs a model under the tracer in a child process (as the extension does) and decodes its frames."""

import json
import os
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TRACER = os.path.join(os.path.dirname(HERE), "bpl_run.py")
REPO = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(REPO, "examples", "python")


class Trace:
    def __init__(self, frames, stderr, returncode):
        self.frames = frames
        self.stderr = stderr
        self.returncode = returncode
        self.events = [e for f in frames if f["k"] in ("event", "events") for e in ([f["event"]] if f["k"] == "event" else f["events"])]

    def of(self, kind):
        return [e for e in self.events if e["type"] == kind]

    @property
    def end(self):
        ends = self.of("run/end")
        return ends[-1] if ends else None

    @property
    def layers(self):
        return {e["layer"]["name"]: e["layer"] for e in self.of("layer/new")}

    def calls(self, name=None, phase=None):
        ids = {l["id"]: n for n, l in self.layers.items()}
        out = [e["call"] for e in self.of("layer/call")]
        if name is not None:
            out = [c for c in out if ids.get(c["layer"]) == name]
        if phase is not None:
            out = [c for c in out if c["phase"] == phase]
        return out

    def console(self):
        return [e["text"] for e in self.of("console")]

    def anomalies(self, code=None):
        return [e["anomaly"] for e in self.of("anomaly") if code is None or e["anomaly"]["code"] == code]


def decode(data):
    frames = []
    i = 0
    while i < len(data):
        magic, jlen, blen = struct.unpack_from("<4sII", data, i)
        if magic != b"BPL1":
            raise AssertionError("stream corrupted at byte %d: %r" % (i, data[i:i + 40]))
        payload = data[i + 12:i + 12 + jlen]
        binary = data[i + 12 + jlen:i + 12 + jlen + blen]

        def hook(o, binary=binary):
            if set(o) == {"$num"}:
                return float(o["$num"])
            if "bin" in o and "shape" in o:
                off, count = o["bin"]
                vals = list(struct.unpack_from("<%dd" % count, binary, off))
                t = {"shape": o["shape"], "data": vals}
                if "dtype" in o:
                    t["dtype"] = o["dtype"]
                return t
            return o

        frames.append(json.loads(payload.decode("utf-8"), object_hook=hook))
        i += 12 + jlen + blen
    return frames


def run_source(source, name="model.py", extra_files=None, **config):
    d = tempfile.mkdtemp(prefix="bpl-test-")
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(source)
    for n, text in (extra_files or {}).items():
        with open(os.path.join(d, n), "w") as f:
            f.write(text)
    return run_file(path, **config)


def run_file(path, commands=(), timeout=120, after=None, **config):
    cfg = {"file": path, "keepSteps": 3, "gradCheck": None, "memoryLimitMb": 1024}
    cfg.update(config)
    p = subprocess.Popen([sys.executable, "-B", TRACER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=os.path.dirname(path))
    p.stdin.write((json.dumps(cfg) + "\n").encode("utf-8"))
    p.stdin.flush()
    if after is not None:
        time.sleep(after)
    for c in commands:
        p.stdin.write((json.dumps(c) + "\n").encode("utf-8"))
        p.stdin.flush()
    if after is not None:
        time.sleep(0.5)
        p.kill()
    out, err = p.communicate(timeout=timeout)
    return Trace(decode(out), err.decode("utf-8", "replace"), p.returncode)


with open(os.path.join(EXAMPLES, "nnfs_ch9.py")) as _f:
    BOOK_CLASSES = _f.read()
