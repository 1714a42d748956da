"""Build native/kernels.c with the system C compiler and load it with ctypes (tests and benchmarks only).

`load()` returns None, with the reason in `why_not`, when no compiler is found, so callers can
skip with a message that names what to install (Debian: gcc).
"""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SOURCE = Path(__file__).with_name("kernels.c")
why_not = ""


def load() -> "Native | None":
    global why_not
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        why_not = "no C compiler on PATH (Debian/Ubuntu: apt-get install gcc)"
        return None
    digest = hashlib.sha1(SOURCE.read_bytes()).hexdigest()[:12]
    lib = Path(tempfile.gettempdir()) / f"attunement-native-{digest}.so"
    if not lib.exists():
        tmp = lib.with_suffix(f".{digest}.tmp.so")
        proc = subprocess.run([cc, "-O3", "-march=native", "-shared", "-fPIC", str(SOURCE), "-o", str(tmp), "-lm"],
                              capture_output=True, text=True)
        if proc.returncode:
            why_not = f"{cc} failed: {proc.stderr.strip()[:200]}"
            return None
        tmp.replace(lib)
    return Native(ctypes.CDLL(str(lib)))


def _ptr(a: np.ndarray, ctype):
    return a.ctypes.data_as(ctypes.POINTER(ctype))


class Native:
    """numpy-friendly wrappers with the same signatures as the numba kernels' public wrappers."""

    def __init__(self, lib: ctypes.CDLL):
        self.lib = lib

    def highpass(self, x: np.ndarray, coef: np.ndarray, state: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        coef = np.ascontiguousarray(coef, dtype=np.float64)
        out = np.empty_like(x)
        self.lib.highpass(_ptr(x, ctypes.c_float), ctypes.c_int64(x.size), _ptr(coef, ctypes.c_double),
                          _ptr(state, ctypes.c_double), _ptr(out, ctypes.c_float))
        return out

    def frame_energy_db(self, x: np.ndarray, frame_len: int) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        out = np.empty(x.size // frame_len, dtype=np.float32)
        self.lib.frame_energy_db(_ptr(x, ctypes.c_float), ctypes.c_int64(out.size), ctypes.c_int64(frame_len),
                                 _ptr(out, ctypes.c_float))
        return out

    def suppress_leak(self, speech: np.ndarray, level_db: np.ndarray, *, margin_db: float) -> np.ndarray:
        s = np.ascontiguousarray(speech, dtype=np.uint8)
        lv = np.ascontiguousarray(level_db, dtype=np.float32)
        out = np.empty_like(s)
        self.lib.suppress_leak(_ptr(s, ctypes.c_uint8), _ptr(lv, ctypes.c_float), ctypes.c_int64(s.shape[0]),
                               ctypes.c_int64(s.shape[1]), ctypes.c_float(margin_db), _ptr(out, ctypes.c_uint8))
        return out.astype(bool)
