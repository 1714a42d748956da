"""Local speaker activity in sliding 10 s windows: the pyannote community-1 segmentation model.

The model (models/`segmentation`) takes 10 s of 16 kHz audio and returns, for each of 589
frames (every 0.016875 s, each 0.0619375 s long), which of 3 *local* speakers talk: 0 or 1 each,
two at once where they overlap (the export already turned its powerset output into this
multilabel form). Local speaker k of one window is not speaker k of the next: clustering their
embeddings links them (neural_diarize.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

RATE = 16000
WINDOW_S = 10.0
WINDOW = 160000
FRAMES = 589
LOCAL_SPEAKERS = 3
FRAME_STEP_S = 0.016875
FRAME_DURATION_S = 0.0619375


@dataclass(frozen=True)
class Segmentation:
    """Local speaker activity of each window.

    activity : float32 [shape=(windows, 589, 3)], 0 or 1;
    starts : int64 [shape=(windows,)], first sample of each window (windows past the end are
    zero-padded); frame j of window w is centred at (starts[w] / 16000 + j * 0.016875 + 0.03097) s.
    """

    activity: np.ndarray
    starts: np.ndarray

    @property
    def windows(self) -> int:
        return self.activity.shape[0]


def window_starts(n_samples: int, *, step: int) -> np.ndarray:
    """First samples of the 10 s windows every `step` samples, the last one reaching the end."""
    if step <= 0:
        raise InputError(f"segmentation step {step} samples: must be > 0")
    if n_samples <= WINDOW:
        return np.zeros(1, dtype=np.int64)
    last = n_samples - WINDOW
    starts = np.arange(0, last + 1, step, dtype=np.int64)
    if starts[-1] < last:
        starts = np.append(starts, np.int64(starts[-1] + step))
    return starts


class Segmenter:
    """The segmentation model on `threads` onnxruntime threads, `batch` windows a run.

    Memory: its first (SincNet) layer holds 80 filters x 160000 samples per window, about 50 MB
    a window in float32, so batches stay small (4 windows: about 200 MB at the peak).
    """

    def __init__(self, *, threads: int = 2, batch: int = 4):
        from ..models import onnx_session
        self.session = onnx_session("segmentation", threads=threads)
        self.batch = batch

    def segment(self, x: np.ndarray, *, step_s: float) -> Segmentation:
        """Windows of mono 16 kHz audio `x` float32 [n] every `step_s` seconds -> Segmentation."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 1:
            raise InputError(f"segmentation needs mono samples [n]; got shape {x.shape}")
        step = round(step_s * RATE)
        starts = window_starts(x.shape[0], step=step)
        out = np.empty((starts.shape[0], FRAMES, LOCAL_SPEAKERS), dtype=np.float32)
        buf = np.zeros((self.batch, 1, WINDOW), dtype=np.float32)
        for a in range(0, starts.shape[0], self.batch):
            b = min(starts.shape[0], a + self.batch)
            for i, s in enumerate(starts[a:b]):
                piece = x[s:s + WINDOW]
                buf[i, 0, : piece.shape[0]] = piece
                buf[i, 0, piece.shape[0]:] = 0.0
            out[a:b] = self.session.run(None, {"waveforms": buf[: b - a]})[0]
        return Segmentation(out, starts)
