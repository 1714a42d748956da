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


def load() -> Native | None:
    global why_not
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        why_not = "no C compiler on PATH (Debian/Ubuntu: apt-get install gcc)"
        return None
    digest = hashlib.sha1(SOURCE.read_bytes()).hexdigest()[:12]
    lib = Path(tempfile.gettempdir()) / f"attunement-native-{digest}.so"
    if not lib.exists():
        tmp = lib.with_suffix(f".{digest}.tmp.so")
        proc = subprocess.run([cc, "-std=c99", "-O3", "-march=native", "-shared", "-fPIC", str(SOURCE), "-o", str(tmp), "-lm"],
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

    def fit_head_pose(self, faces: np.ndarray, *, camera=None, robust_mm: float = 3.0, iterations: int = 2):
        """(rotation, apparent, view, scale, translation, residual) as cues/headpose.py's HeadPose."""
        from attunement.cues.face_geometry import CANONICAL, RIGID

        faces = np.ascontiguousarray(faces, dtype=np.float32).reshape(-1, 478, 3)
        idx = np.ascontiguousarray(RIGID, dtype=np.int64)
        canon = np.ascontiguousarray(CANONICAL, dtype=np.float64)
        focal, cx, cy = (0.0, 0.0, 0.0) if camera is None else (float(c) for c in camera)
        n = faces.shape[0]
        app, rot = np.empty((n, 3, 3)), np.empty((n, 3, 3))
        view, trans, scale, resid = np.empty((n, 3)), np.empty((n, 3)), np.empty(n), np.empty(n)
        d = ctypes.c_double
        self.lib.fit_head_pose(_ptr(faces, ctypes.c_float), ctypes.c_int64(n), _ptr(idx, ctypes.c_int64),
                               ctypes.c_int64(idx.size), _ptr(canon, d), d(robust_mm), ctypes.c_int64(iterations),
                               d(focal), d(cx), d(cy), _ptr(app, d), _ptr(rot, d), _ptr(view, d), _ptr(scale, d),
                               _ptr(trans, d), _ptr(resid, d))
        return rot, app, view, scale, trans, resid

    def bridge_pauses(self, starts, ends, speakers, *, bridge_pause_s: float):
        s, e, k = _segments(starts, ends, speakers)
        out_s, out_e, out_k = np.empty_like(s), np.empty_like(e), np.empty_like(k)
        self.lib.bridge_pauses.restype = ctypes.c_int64
        m = self.lib.bridge_pauses(_ptr(s, ctypes.c_double), _ptr(e, ctypes.c_double), _ptr(k, ctypes.c_int32),
                                   ctypes.c_int64(s.size), ctypes.c_double(bridge_pause_s), _ptr(out_s, ctypes.c_double),
                                   _ptr(out_e, ctypes.c_double), _ptr(out_k, ctypes.c_int32))
        return out_s[:m], out_e[:m], out_k[:m]

    def run_floor(self, starts, ends, speakers, *, backchannel_max_s: float, interruption_min_holdover_s: float,
                  interruption_min_continue_s: float):
        """(kind, holder, offset_s, overlap_s, turn_speaker, turn_start, turn_end) as FloorResult."""
        s, e, k = _segments(starts, ends, speakers)
        n, d = s.size, ctypes.c_double
        kind, holder = np.zeros(n, np.int8), np.full(n, -1, np.int32)
        offset, overlap = np.zeros(n), np.zeros(n)
        turn_k, turn_s, turn_e = np.empty(n, np.int32), np.empty(n), np.empty(n)
        self.lib.run_floor.restype = ctypes.c_int64
        m = self.lib.run_floor(_ptr(s, d), _ptr(e, d), _ptr(k, ctypes.c_int32), ctypes.c_int64(n),
                               d(backchannel_max_s), d(interruption_min_holdover_s), d(interruption_min_continue_s),
                               _ptr(kind, ctypes.c_int8), _ptr(holder, ctypes.c_int32), _ptr(offset, d),
                               _ptr(overlap, d), _ptr(turn_k, ctypes.c_int32), _ptr(turn_s, d), _ptr(turn_e, d))
        return kind, holder, offset, overlap, turn_k[:m], turn_s[:m], turn_e[:m]


def _segments(starts, ends, speakers):
    return (np.ascontiguousarray(starts, dtype=np.float64), np.ascontiguousarray(ends, dtype=np.float64),
            np.ascontiguousarray(speakers, dtype=np.int32))
