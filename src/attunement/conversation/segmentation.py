"""Local speaker activity in sliding 10 s windows: the pyannote community-1 segmentation model.

The model (models/`segmentation`) takes 10 s of 16 kHz audio and returns, for each of 589
frames (every 0.016875 s, each 0.0619375 s long), which of 3 *local* speakers talk: 0 or 1 each,
two at once where they overlap (the export already turned its powerset output into this
multilabel form). Local speaker k of one window is not speaker k of the next: clustering their
embeddings links them (neural_diarize.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import numpy as np

from ..errors import InputError
from ..intervals import bool_runs

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

    def segment(self, x: np.ndarray, *, step_s: float, both_ways: bool = False) -> Segmentation:
        """Windows of mono 16 kHz audio `x` float32 [n] every `step_s` seconds -> Segmentation.

        `both_ways`: each window where two or more local speakers talk at once is also segmented
        time-reversed, and a second voice's run-on past where that pass ends it is cut
        (`agree_both_ways`; windows with no such frame are not run twice: nothing would change)."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 1:
            raise InputError(f"segmentation needs mono samples [n]; got shape {x.shape}")
        step = round(step_s * RATE)
        starts = window_starts(x.shape[0], step=step)
        out = self._run(x, starts, reverse=False)
        if both_ways:
            two = np.flatnonzero(((out > 0.5).sum(axis=2) >= 2).any(axis=1))
            if two.size:
                backward = self._run(x, starts[two], reverse=True)
                for i, w in enumerate(two):
                    out[w] = agree_both_ways(out[w], backward[i])
        return Segmentation(out, starts)

    def _run(self, x: np.ndarray, starts: np.ndarray, *, reverse: bool) -> np.ndarray:
        # the model on the windows from `starts` (zero-padded past the end), `batch` at a time;
        # reverse: each window's samples time-reversed and its output frames flipped back
        out = np.empty((starts.shape[0], FRAMES, LOCAL_SPEAKERS), dtype=np.float32)
        buf = np.zeros((self.batch, 1, WINDOW), dtype=np.float32)
        for a in range(0, starts.shape[0], self.batch):
            b = min(starts.shape[0], a + self.batch)
            for i, s in enumerate(starts[a:b]):
                piece = x[s:s + WINDOW]
                buf[i, 0, : piece.shape[0]] = piece
                buf[i, 0, piece.shape[0]:] = 0.0
                if reverse:
                    buf[i, 0] = buf[i, 0, ::-1].copy()
            out[a:b] = self.session.run(None, {"waveforms": buf[: b - a]})[0]
        return reversed_frames(out) if reverse else out


def reversed_frames(activity: np.ndarray) -> np.ndarray:
    """Output of time-reversed windows [..., 589, 3] put back on the forward frame grid.

    Reversed frame j spans [j * 0.016875, + 0.0619375] s of the reversed window, i.e. forward
    [9.9381 - j * 0.016875, 10 - j * 0.016875] s; forward frame 589 - j starts 1.3 ms after that
    (588 - j would be 15.6 ms off). So forward frame i takes reversed frame 589 - i; frame 0,
    which has none, takes frame 588's.
    """
    flipped = activity[..., ::-1, :]
    out = np.empty_like(activity)
    out[..., 1:, :] = flipped[..., :-1, :]
    out[..., 0, :] = flipped[..., 0, :]
    return out


def agree_both_ways(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """One window's local speakers [589, 3] (0 or 1) with each second voice's run-on cut where the
    time-reversed pass ends it.

    backward: the same window segmented time-reversed, on the forward frame grid (`reversed_frames`).
    Its local speakers are numbered independently, so they are first matched to the forward ones:
    the one-to-one matching with the most frames active in both (all 6 of 3 x 3). Then a forward
    speaker is dropped from a stretch of frames where (a) the forward pass hears two or more
    speakers, (b) the backward pass hears at least one of them but not this one, and (c) both
    passes hear this one on the frame just before the stretch: the backward pass ends the voice
    there and the forward pass carries it on. Everything else is the forward pass's.

    Why (docs/diarization.md, "A time-reversed segmentation pass"): the model carries a short voice
    on for 0.6-0.9 s past its end into the other voice's speech, in every window holding it. Run
    on time-reversed audio it carries voices the other way (onsets come early, ends do not run
    on), so the forward pass is kept for where a voice starts and the backward one trusted for
    where a second voice ends. Stretches the backward pass does not hear at all (not (c)) are kept:
    there the two passes differ about the voice, not about its end.
    """
    f = forward > 0.5
    b = backward > 0.5
    overlap = f.T.astype(np.int64) @ b.astype(np.int64)  # [forward speaker, backward speaker] frames both active
    best = max(permutations(range(LOCAL_SPEAKERS)), key=lambda p: sum(overlap[k, p[k]] for k in range(LOCAL_SPEAKERS)))
    matched = b[:, list(best)]
    both = f & matched
    disputed = (f.sum(axis=1) >= 2) & both.any(axis=1)
    out = np.array(forward, dtype=np.float32, copy=True)
    for k in range(LOCAL_SPEAKERS):
        for a, z in zip(*bool_runs(disputed & f[:, k] & ~matched[:, k])):
            if a > 0 and both[a - 1, k]:
                out[a:z, k] = 0.0
    return out
