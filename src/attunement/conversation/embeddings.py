"""Speaker embeddings with the WeSpeaker ResNet34 of pyannote community-1 (models/`embedding`).

Features as pyannote's WeSpeaker wrapper computes them (`BaseWeSpeakerResNet.compute_fbank`):
Kaldi log-mel filterbank of the waveform scaled to 16-bit range, 80 bins (20 Hz to 8 kHz),
25 ms frames every 10 ms (snip_edges), DC offset removed, pre-emphasis 0.97, Hamming window,
512-point power spectrum, dither 0, natural log floored at float32 epsilon; then the mean over
the window's frames is subtracted. The model pools the frames weighted by `weights`, so one
10 s window gives one embedding per local speaker (its frames weighted 1, the rest 0).

`fbank(x)` computes the frames of a whole recording once (windows then slice it: a window that
starts on a multiple of 160 samples has exactly the frames Kaldi would compute for it alone).
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from ..errors import InputError

RATE = 16000
FRAME = 400        # samples (25 ms)
SHIFT = 160        # samples (10 ms)
NFFT = 512
N_MELS = 80
LOW_HZ = 20.0
PREEMPH = 0.97
SCALE = 32768.0    # Kaldi works on 16-bit sample values
EPS = float(np.finfo(np.float32).eps)
#: frames per block of the FFT (bounds memory: 8192 x 512 float32 = 16 MB)
_BLOCK = 8192


def frame_count(n_samples: int) -> int:
    """Kaldi frames (snip_edges) of `n_samples`: 1 + (n - 400) // 160, 0 if shorter than a frame."""
    return 0 if n_samples < FRAME else 1 + (n_samples - FRAME) // SHIFT


def window(kind: str = "hamming") -> np.ndarray:
    """Kaldi's analysis window of 400 samples, float64: "hamming" or "povey"."""
    a = 2 * np.pi / (FRAME - 1)
    i = np.arange(FRAME)
    if kind == "hamming":
        return 0.54 - 0.46 * np.cos(a * i)
    if kind == "povey":
        return (0.5 - 0.5 * np.cos(a * i)) ** 0.85
    raise InputError(f"window {kind!r}: must be 'hamming' or 'povey'")


def mel_banks(n_mels: int = N_MELS, *, rate: int = RATE, nfft: int = NFFT, low_hz: float = LOW_HZ) -> np.ndarray:
    """Kaldi's triangular mel filters, float64 [shape=(nfft // 2 + 1, n_mels)] (the Nyquist bin gets 0)."""
    def mel(f):
        return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)
    high = rate / 2
    lo, hi = mel(low_hz), mel(high)
    delta = (hi - lo) / (n_mels + 1)
    bins = mel(np.arange(nfft // 2) * rate / nfft)
    out = np.zeros((nfft // 2 + 1, n_mels))
    for m in range(n_mels):
        left, center, right = lo + m * delta, lo + (m + 1) * delta, lo + (m + 2) * delta
        up = (bins - left) / (center - left)
        down = (right - bins) / (right - center)
        out[: nfft // 2, m] = np.maximum(0.0, np.minimum(up, down))
    return out


_BANKS = mel_banks().astype(np.float32)


def fbank(x: np.ndarray, *, window_kind: str = "hamming") -> np.ndarray:
    """Kaldi log-mel filterbank of mono 16 kHz audio.

    x : np.ndarray [shape=(n,)] float, in [-1, 1]
    returns float32 [shape=(frame_count(n), 80)], not mean-normalised (see `normalise`).
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise InputError(f"fbank needs mono samples [n]; got shape {x.shape}")
    n = frame_count(x.shape[0])
    out = np.empty((n, N_MELS), dtype=np.float32)
    win = window(window_kind).astype(np.float32)
    frames = np.empty((min(n, _BLOCK), NFFT), dtype=np.float32)
    for a in range(0, n, _BLOCK):
        b = min(n, a + _BLOCK)
        buf = frames[: b - a]
        _frames(x, a, win, np.float32(PREEMPH), np.float32(SCALE), buf)
        spec = np.fft.rfft(buf, axis=1)
        power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
        np.log(np.maximum(power @ _BANKS, EPS), out=out[a:b])
    return out


def normalise(feats: np.ndarray) -> np.ndarray:
    """Subtract the mean over frames (axis -2), as pyannote does per window. float32 [..., frames, 80]."""
    return (feats - feats.mean(axis=-2, keepdims=True)).astype(np.float32)


@kernel
def _frames(x, first, win, preemph, scale, out):
    """Fill out[f, :512] with frame first+f: scaled, DC removed, pre-emphasised, windowed, zero-padded."""
    nf, width = out.shape
    nw = win.shape[0]
    for f in range(nf):
        s = (first + f) * SHIFT
        mean = 0.0
        for i in range(nw):
            mean += x[s + i]
        mean = mean * scale / nw
        prev = x[s] * scale - mean
        for i in range(nw - 1, 0, -1):
            cur = x[s + i] * scale - mean
            before = x[s + i - 1] * scale - mean
            out[f, i] = (cur - preemph * before) * win[i]
        out[f, 0] = (prev - preemph * prev) * win[0]
        for i in range(nw, width):
            out[f, i] = 0.0


class Embedder:
    """The ResNet34 speaker-embedding model on `threads` onnxruntime threads, batched.

    `embed(feats, weights)`: feats float32 [batch, frames, 80] (mean-normalised fbank), weights
    float32 [batch, frames] (1 keep, 0 drop) -> float32 [batch, 256] embeddings as the model gives
    them (not length-normalised: the PLDA of VBx clustering is trained on that scale; cosine users
    normalise, `unit=True` does it here).
    """

    def __init__(self, *, threads: int = 2, batch: int = 16):
        from ..models import onnx_session
        self.session = onnx_session("embedding", threads=threads)
        self.batch = batch

    def embed(self, feats: np.ndarray, weights: np.ndarray, *, unit: bool = False) -> np.ndarray:
        if feats.ndim != 3 or feats.shape[2] != N_MELS or weights.shape != feats.shape[:2]:
            raise InputError(f"embed needs feats [b, frames, 80] and weights [b, frames]; got {feats.shape}, "
                             f"{weights.shape}")
        out = np.empty((feats.shape[0], 256), dtype=np.float32)
        for a in range(0, feats.shape[0], self.batch):
            b = min(feats.shape[0], a + self.batch)
            out[a:b] = self.session.run(None, {"fbank": np.ascontiguousarray(feats[a:b], dtype=np.float32),
                                               "weights": np.ascontiguousarray(weights[a:b], dtype=np.float32)})[0]
        if not unit:
            return out
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
