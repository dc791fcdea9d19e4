"""Source positions in the user's code: which files are the user's, the innermost user frame, names.

A file is the user's when it is the model file, or any other Python file that is neither part of
this package nor installed (site-packages, dist-packages, the standard library): the user's own
modules, wherever they live.
Positions are 1-based lines and columns (the column of the call where Python 3.11's
`co_positions` knows it, else the first non-blank column of the line).
"""

import linecache
import os
import re
import sys

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_INSTALLED = re.compile(r"[\\/](site-packages|dist-packages)[\\/]")
_ASSIGN = re.compile(r"^\s*(?:self\.)?([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=]+)?=(?!=)")


class Sites:
    def __init__(self, model_file):
        self.model_file = os.path.abspath(model_file)
        self.root = os.path.dirname(self.model_file)
        self._cache = {}
        std = set()
        for p in {sys.base_prefix, sys.prefix, getattr(sys, "base_exec_prefix", sys.prefix)}:
            std.add(os.path.join(os.path.abspath(p), "lib"))
            std.add(os.path.join(os.path.abspath(p), "Lib"))
        self._std = tuple(s + os.sep for s in std)

    def is_user_file(self, filename):
        r = self._cache.get(filename)
        if r is not None:
            return r
        if not filename or filename.startswith("<"):
            r = False
        else:
            path = os.path.abspath(filename)
            r = path == self.model_file or (
                not path.startswith(_PKG_DIR + os.sep) and not _INSTALLED.search(path) and not path.startswith(self._std)
            )
        self._cache[filename] = r
        return r

    def site_of_frame(self, frame):
        code = frame.f_code
        line = frame.f_lineno or 1
        col = None
        positions = getattr(code, "co_positions", None)
        if positions is not None and frame.f_lasti >= 0:
            try:
                for i, pos in enumerate(positions()):
                    if i == frame.f_lasti // 2:
                        if pos[0] == line and pos[2] is not None:
                            col = pos[2] + 1
                        break
            except Exception:
                col = None
        if col is None:
            text = linecache.getline(code.co_filename, line)
            col = len(text) - len(text.lstrip()) + 1 if text.strip() else 1
        return {"file": os.path.abspath(code.co_filename), "line": int(line), "column": int(col)}

    def innermost_user_frame(self, frame):
        f = frame
        while f is not None:
            if self.is_user_file(f.f_code.co_filename):
                return f
            f = f.f_back
        return None

    def capture(self, depth=1):
        """The site of the innermost user frame calling into us."""
        try:
            f = sys._getframe(depth)
        except ValueError:
            return None
        f = self.innermost_user_frame(f)
        return self.site_of_frame(f) if f is not None else None

    def name_at(self, site):
        """`dense1` for `dense1 = Layer_Dense(2, 3)` (or `self.dense1 = …`) at the site's line."""
        if site is None:
            return None
        text = linecache.getline(site["file"], site["line"])
        m = _ASSIGN.match(text)
        return m.group(1) if m else None

    def frames_of_traceback(self, tb):
        """The user's frames of a traceback, innermost first."""
        out = []
        while tb is not None:
            if self.is_user_file(tb.tb_frame.f_code.co_filename):
                out.append(self._tb_site(tb))
            tb = tb.tb_next
        out.reverse()
        return out

    def _tb_site(self, tb):
        site = self.site_of_frame(tb.tb_frame)
        site["line"] = int(tb.tb_lineno)
        text = linecache.getline(site["file"], site["line"])
        col = None
        positions = getattr(tb.tb_frame.f_code, "co_positions", None)
        if positions is not None and tb.tb_lasti >= 0:
            try:
                for i, pos in enumerate(positions()):
                    if i == tb.tb_lasti // 2:
                        if pos[0] == site["line"] and pos[2] is not None:
                            col = pos[2] + 1
                        break
            except Exception:
                col = None
        if col is None:
            col = len(text) - len(text.lstrip()) + 1 if text.strip() else 1
        site["column"] = int(col)
        return site


def base_name(path):
    return os.path.basename(path)


def at(site):
    return "%s:%d" % (base_name(site["file"]), site["line"]) if site else "?"
