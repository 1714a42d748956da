"""Speaker features of 16 kHz mono audio: MFCCs on a 10 ms grid, streamed, and Gaussian statistics of chunks.

MFCC c1..c19 (c0, the loudness, is dropped: it says how far someone sits from the mic, not who
they are) from 40 mel bands of 25 ms Hamming frames every 10 ms after 0.97 pre-emphasis:
the standard front end of GMM speaker recognition (Reynolds & Rose 1995). Frame k is centred
at t0 + (k * HOP + WIN / 2) / RATE seconds. `MfccStream` keeps only the features (76 bytes a
frame, 27 MB an hour) and one partial frame of audio.
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from ..errors import InputError

RATE = 16000
HOP = 160          # 10 ms
WIN = 400          # 25 ms
NFFT = 512
N_MELS = 40
N_CEPS = 19        # c1..c19
PRE_EMPHASIS = 0.97
FMIN_HZ, FMAX_HZ = 20.0, 7600.0
HOP_S = HOP / RATE


def mel_filterbank(n_mels: int = N_MELS, *, rate: int = RATE, nfft: int = NFFT,
                   fmin_hz: float = FMIN_HZ, fmax_hz: float = FMAX_HZ) -> np.ndarray:
    """Triangular mel filters float32 [n_mels, nfft // 2 + 1] (HTK mel scale, unit peak)."""
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    hz = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)  # noqa: E731
    edges = hz(np.linspace(mel(fmin_hz), mel(fmax_hz), n_mels + 2))
    bins = np.fft.rfftfreq(nfft, 1.0 / rate)
    left, centre, right = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.clip(np.minimum((bins - left) / (centre - left), (right - bins) / (right - centre)), 0, None).astype(np.float32)


def dct_matrix(n_in: int = N_MELS, n_out: int = N_CEPS + 1) -> np.ndarray:
    """Orthonormal DCT-II rows 0..n_out-1, float32 [n_out, n_in]."""
    k, n = np.arange(n_out)[:, None], np.arange(n_in)[None, :]
    m = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    m[0] /= np.sqrt(2.0)
    return m.astype(np.float32)


_FB = mel_filterbank()
_DCT = dct_matrix()[1:]          # c1..c19
_WINDOW = np.hamming(WIN).astype(np.float32)


def mfcc(x: np.ndarray) -> np.ndarray:
    """MFCC c1..c19 float32 [frames, 19] of float32 samples x [n] at 16 kHz (whole frames only)."""
    stream = MfccStream()
    stream.feed(x)
    return stream.features()


class MfccStream:
    """Streaming MFCCs: `feed` float32 samples [n] at 16 kHz in any block sizes; `features()` at the end.

    The result equals `mfcc` of the whole signal at once: pre-emphasis carries its last sample
    and framing its last partial window over block edges.
    """

    def __init__(self) -> None:
        self._tail = np.zeros(0, dtype=np.float32)   # pre-emphasised samples not yet in a whole hop
        self._last = np.float32(0.0)                  # the last raw sample, for pre-emphasis
        self._started = False
        self._parts: list[np.ndarray] = []
        self.frames = 0

    def feed(self, x: np.ndarray) -> np.ndarray:
        """Take float32 samples [n]; returns the MFCC frames they completed, float32 [k, 19]."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"MFCC input must be mono samples [n], got shape {x.shape}")
        if x.size == 0:
            return np.zeros((0, N_CEPS), dtype=np.float32)
        emph = np.empty_like(x)
        _pre_emphasis(x, np.float32(x[0] if not self._started else self._last), np.float32(PRE_EMPHASIS), emph)
        self._started, self._last = True, x[-1]
        buf = np.concatenate((self._tail, emph)) if self._tail.size else emph
        n = 0 if buf.size < WIN else 1 + (buf.size - WIN) // HOP
        new = np.zeros((0, N_CEPS), dtype=np.float32)
        if n:
            frames = np.lib.stride_tricks.sliding_window_view(buf, WIN)[::HOP][:n] * _WINDOW
            power = np.abs(np.fft.rfft(frames, NFFT)).astype(np.float32) ** 2
            new = np.log(power @ _FB.T + 1e-8) @ _DCT.T
            self.add(new)
        self._tail = buf[n * HOP:].copy()
        return new

    def add(self, frames: np.ndarray) -> None:
        """Append MFCC frames computed elsewhere (float32 [k, 19]: a live session's stored ones)."""
        if frames.shape[0]:
            self._parts.append(np.ascontiguousarray(frames, dtype=np.float32))
            self.frames += frames.shape[0]

    def features(self) -> np.ndarray:
        """All MFCC frames so far, float32 [frames, 19]."""
        if not self._parts:
            return np.zeros((0, N_CEPS), dtype=np.float32)
        if len(self._parts) > 1:
            self._parts = [np.concatenate(self._parts)]
        return self._parts[0]


def frame_times(frames: int, t0: float = 0.0) -> np.ndarray:
    """Centre time (s) of each feature frame, float64 [frames]."""
    return t0 + (np.arange(frames) * HOP + WIN / 2) / RATE


def speech_chunks(speech: np.ndarray, *, chunk_frames: int) -> np.ndarray:
    """[start, end) frame indices int64 [chunks, 2]: each run of speech cut into near-equal pieces of ~chunk_frames."""
    if chunk_frames < 1:
        raise InputError(f"chunk length {chunk_frames} frames must be >= 1")
    speech = np.ascontiguousarray(speech, dtype=np.bool_)
    if speech.ndim != 1:
        raise ValueError(f"speech must be 1-D [frames], got shape {speech.shape}")
    out = np.zeros((speech.size + 1, 2), dtype=np.int64)
    n = _speech_chunks(speech, chunk_frames, out)
    return out[:n]


def chunk_stats(features: np.ndarray, chunks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sufficient statistics of each chunk: counts float64 [c], sums [c, d], scatter sums [c, d, d]."""
    f = np.ascontiguousarray(features, dtype=np.float64)
    chunks = np.ascontiguousarray(chunks, dtype=np.int64)
    if f.ndim != 2 or chunks.ndim != 2 or chunks.shape[1] != 2:
        raise ValueError(f"need features [n, d] and chunks [c, 2], got {f.shape} and {chunks.shape}")
    if chunks.size and not (chunks.min() >= 0 and chunks.max() <= f.shape[0] and (chunks[:, 0] <= chunks[:, 1]).all()):
        raise ValueError(f"chunks must be [start, end) spans within the {f.shape[0]} frames")
    c, d = chunks.shape[0], f.shape[1]
    n, s1, s2 = np.zeros(c), np.zeros((c, d)), np.zeros((c, d, d))
    _chunk_stats(f, chunks, n, s1, s2)
    return n, s1, s2


def glr_distances(n: np.ndarray, s1: np.ndarray, s2: np.ndarray, prior: np.ndarray, *, shrink_frames: float) -> np.ndarray:
    """Gaussian log-likelihood ratio per frame between every pair of chunks, float64 [c, c], 0 on the diagonal.

    GLR(i, j) = [n_ij logdet S_ij - n_i logdet S_i - n_j logdet S_j] / (2 n_ij), with each full
    covariance S shrunk toward `prior` [d, d] by `shrink_frames` pseudo-frames (short chunks
    would otherwise have singular covariances). 0 for identical statistics, larger when the
    two chunks are less likely one voice (Gish, Siu & Rohlicek 1991).
    """
    n, s1, s2, prior = (np.ascontiguousarray(a, dtype=np.float64) for a in (n, s1, s2, prior))
    c, d = n.shape[0], prior.shape[0]
    if n.ndim != 1 or s1.shape != (c, d) or s2.shape != (c, d, d) or prior.shape != (d, d):
        raise ValueError(f"need n [c], s1 [c, d], s2 [c, d, d], prior [d, d]; got {n.shape}, {s1.shape}, "
                         f"{s2.shape}, {prior.shape}")
    out = np.zeros((c, c))
    if c:
        _glr(n, s1, s2, prior, float(shrink_frames), out)
    return out


@kernel
def _pre_emphasis(x, previous, coef, out):
    out[0] = x[0] - coef * previous
    for i in range(1, x.size):
        out[i] = x[i] - coef * x[i - 1]


@kernel
def _speech_chunks(speech, chunk_frames, out):
    n, i, c = speech.size, 0, 0
    while i < n:
        if not speech[i]:
            i += 1
            continue
        j = i
        while j < n and speech[j]:
            j += 1
        pieces = max(1, int(round((j - i) / chunk_frames)))
        for p in range(pieces):
            out[c, 0] = i + (j - i) * p // pieces
            out[c, 1] = i + (j - i) * (p + 1) // pieces
            c += 1
        i = j
    return c


@kernel
def _chunk_stats(f, chunks, n, s1, s2):
    d = f.shape[1]
    for c in range(chunks.shape[0]):
        for t in range(chunks[c, 0], chunks[c, 1]):
            n[c] += 1.0
            for a in range(d):
                s1[c, a] += f[t, a]
                for b in range(d):
                    s2[c, a, b] += f[t, a] * f[t, b]


@kernel
def _logdet_cov(n, s1, s2, prior, tau, work):
    """log det of (s2 - n mu mu' + tau prior) / (n + tau); Cholesky in `work` [d, d]."""
    d = s1.size
    for a in range(d):
        for b in range(d):
            work[a, b] = (s2[a, b] - s1[a] * s1[b] / n + tau * prior[a, b]) / (n + tau) if n > 0 else prior[a, b]
    total = 0.0
    for j in range(d):
        acc = work[j, j]
        for k in range(j):
            acc -= work[j, k] * work[j, k]
        if acc <= 1e-300:
            acc = 1e-300
        root = np.sqrt(acc)
        work[j, j] = root
        total += 2.0 * np.log(root)
        for i in range(j + 1, d):
            acc = work[i, j]
            for k in range(j):
                acc -= work[i, k] * work[j, k]
            work[i, j] = acc / root
    return total


@kernel
def _glr(n, s1, s2, prior, tau, out):
    c, d = s1.shape
    work = np.empty((d, d))
    own = np.empty(c)
    for i in range(c):
        own[i] = _logdet_cov(n[i], s1[i], s2[i], prior, tau, work)
    m1, m2 = np.empty(d), np.empty((d, d))
    for i in range(c):
        for j in range(i + 1, c):
            m = n[i] + n[j]
            for a in range(d):
                m1[a] = s1[i, a] + s1[j, a]
                for b in range(d):
                    m2[a, b] = s2[i, a, b] + s2[j, a, b]
            both = _logdet_cov(m, m1, m2, prior, tau, work)
            v = 0.5 * (m * both - n[i] * own[i] - n[j] * own[j]) / m if m > 0 else 0.0
            out[i, j] = v
            out[j, i] = v
