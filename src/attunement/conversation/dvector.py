"""Speaker embeddings (d-vectors) from Resemblyzer's pretrained GE2E encoder, in numpy and numba (no torch).

The model (Wan et al. 2018, "Generalized end-to-end loss for speaker verification"; weights of
the PyPI wheel `Resemblyzer==0.1.4`, Apache-2.0, `resemblyzer/pretrained.pt`, 17 MB) maps 1.6 s
of speech to a unit vector of 256 values: 40-band mel power frames (25 ms Hann window, 10 ms hop,
16 kHz, librosa's Slaney mel filters, not log) -> LSTM 3 x 256 -> Linear 256 -> 256 -> ReLU ->
L2 norm; the embedding is the last layer's final hidden state so projected. Same-voice windows
have a high cosine similarity, different voices a lower one.

Mel frame k covers samples [160 k, 160 k + 400), the same grid as features.py's MFCC frames
(librosa's centred frames lie 2.5 ms earlier on the same 10 ms grid; no padding at the start). Each window's audio is scaled to -30 dBFS RMS, as Resemblyzer
normalises an utterance before embedding it. The LSTM runs over many windows at once: input
products are one matrix product per layer (BLAS, float32), the recurrent product one per step
for the whole batch, and the gate arithmetic a numba kernel.

The weights are never downloaded at run time: `model_path()` looks for them (see its doc).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._numba import kernel
from ..errors import InputError
from .torch_legacy import load_legacy

log = logging.getLogger(__name__)

RATE = 16000
HOP = 160                 # 10 ms
WIN = 400                 # 25 ms, also the FFT size (librosa n_fft=400)
N_MELS = 40
WINDOW_FRAMES = 160       # 1.6 s: Resemblyzer's partial utterance
HIDDEN = 256
LAYERS = 3
TARGET_DBFS = -30.0       # Resemblyzer's audio_norm_target_dBFS
MODEL_NAME = "resemblyzer-pretrained.pt"
#: sha256 of resemblyzer/pretrained.pt in the Resemblyzer 0.1.4 wheel.
MODEL_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
HOW_TO_GET = (f"pip download Resemblyzer==0.1.4 --no-deps, then unzip resemblyzer/pretrained.pt to "
              f"$ATTUNE_MODELS/{MODEL_NAME} or ~/.cache/attunement/{MODEL_NAME}")


def model_path() -> Path | None:
    """Where the encoder's weights are: `$ATTUNE_MODELS/resemblyzer-pretrained.pt`, else
    `$XDG_CACHE_HOME` (default ~/.cache)`/attunement/resemblyzer-pretrained.pt`, else
    `pretrained.pt` inside an installed `resemblyzer` package (found, never imported: it needs torch);
    None if nowhere."""
    candidates = []
    if os.environ.get("ATTUNE_MODELS"):
        candidates.append(Path(os.environ["ATTUNE_MODELS"]) / MODEL_NAME)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    candidates.append(cache / "attunement" / MODEL_NAME)
    try:
        spec = importlib.util.find_spec("resemblyzer")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "pretrained.pt" for p in spec.submodule_search_locations]
    return next((p for p in candidates if p.is_file()), None)


@dataclass(frozen=True)
class Encoder:
    """The GE2E encoder's weights, float32: per layer W_ih [1024, in], W_hh [1024, 256], bias [1024] (b_ih + b_hh);
    `linear_w` [256, 256], `linear_b` [256]. Gate order i, f, g, o (torch.nn.LSTM)."""

    w_ih: tuple[np.ndarray, ...]
    w_hh: tuple[np.ndarray, ...]
    bias: tuple[np.ndarray, ...]
    linear_w: np.ndarray
    linear_b: np.ndarray


def load_encoder(path: str | Path | None = None) -> Encoder:
    """The encoder from `path` (default `model_path()`, looked up on every call); InputError when it is
    missing or not this model. Loaded once per file (17 MB, about 20 ms)."""
    where = Path(path) if path is not None else model_path()
    if where is None:
        raise InputError(f"speaker-embedding model not found; {HOW_TO_GET}")
    if not where.is_file():
        raise InputError(f"speaker-embedding model not found at {where}; {HOW_TO_GET}")
    stat = where.stat()
    return _load(str(where.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _load(where: str, _size: int, _mtime_ns: int) -> Encoder:
    state = load_legacy(where)
    state = state.get("model_state", state) if isinstance(state, dict) else state
    want = {"linear.weight": (HIDDEN, HIDDEN), "linear.bias": (HIDDEN,)}
    for layer in range(LAYERS):
        want |= {f"lstm.weight_ih_l{layer}": (4 * HIDDEN, N_MELS if layer == 0 else HIDDEN),
                 f"lstm.weight_hh_l{layer}": (4 * HIDDEN, HIDDEN),
                 f"lstm.bias_ih_l{layer}": (4 * HIDDEN,), f"lstm.bias_hh_l{layer}": (4 * HIDDEN,)}
    for key, shape in want.items():
        got = getattr(state.get(key), "shape", None) if isinstance(state, dict) else None
        if got != shape:
            raise InputError(f"{where}: {key} has shape {got}, the GE2E encoder needs {shape}")
    f32 = lambda k: np.ascontiguousarray(state[k], dtype=np.float32)  # noqa: E731
    return Encoder(
        w_ih=tuple(f32(f"lstm.weight_ih_l{i}") for i in range(LAYERS)),
        w_hh=tuple(f32(f"lstm.weight_hh_l{i}") for i in range(LAYERS)),
        bias=tuple(f32(f"lstm.bias_ih_l{i}") + f32(f"lstm.bias_hh_l{i}") for i in range(LAYERS)),
        linear_w=f32("linear.weight"), linear_b=f32("linear.bias"))


# ---------------------------------------------------------------------------------------------
# Front end: librosa.feature.melspectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40)


def hz_to_mel_slaney(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz (3 mel / 200 Hz), log above."""
    f = np.asarray(f, dtype=np.float64)
    lin = f / (200.0 / 3)
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27), lin)


def mel_to_hz_slaney(m: np.ndarray) -> np.ndarray:
    """Inverse of `hz_to_mel_slaney`."""
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27) * (m - 15.0)), m * (200.0 / 3))


def mel_filterbank(n_mels: int = N_MELS, *, rate: int = RATE, nfft: int = WIN) -> np.ndarray:
    """librosa.filters.mel(sr=rate, n_fft=nfft, n_mels=n_mels): triangles on the Slaney mel scale from 0 to
    rate / 2, each scaled to unit area in Hz ("slaney" norm: 2 / bandwidth); float32 [n_mels, nfft // 2 + 1]."""
    freqs = np.fft.rfftfreq(nfft, 1.0 / rate)
    edges = mel_to_hz_slaney(np.linspace(hz_to_mel_slaney(0.0), hz_to_mel_slaney(rate / 2.0), n_mels + 2))
    width = np.diff(edges)
    ramps = edges[:, None] - freqs[None, :]
    lower = -ramps[:-2] / width[:-1, None]
    upper = ramps[2:] / width[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


_FB = mel_filterbank()
_HANN = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / WIN)).astype(np.float32)   # periodic, as librosa's


class MelStream:
    """Streaming mel power frames: `feed` float32 samples [n] at 16 kHz in any block sizes; `frames()` at the end.

    Keeps per frame the 40 mel powers and the frame's mean square (160 + 4 bytes per 10 ms), and
    one partial frame of audio.
    """

    def __init__(self) -> None:
        self._tail = np.zeros(0, dtype=np.float32)
        self._mels: list[np.ndarray] = []
        self._power: list[np.ndarray] = []

    def feed(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"mel input must be mono samples [n], got shape {x.shape}")
        buf = np.concatenate((self._tail, x)) if self._tail.size else x
        n = 0 if buf.size < WIN else 1 + (buf.size - WIN) // HOP
        if n:
            frames = np.lib.stride_tricks.sliding_window_view(buf, WIN)[::HOP][:n]
            spectrum = np.fft.rfft(frames * _HANN)
            power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
            self._mels.append(power @ _FB.T)
            self._power.append(np.mean(frames.astype(np.float64) ** 2, axis=1).astype(np.float32))
        self._tail = buf[n * HOP:].copy()

    def frames(self) -> tuple[np.ndarray, np.ndarray]:
        """(mel power float32 [frames, 40], mean square of each frame's samples float32 [frames])."""
        if not self._mels:
            return np.zeros((0, N_MELS), dtype=np.float32), np.zeros(0, dtype=np.float32)
        if len(self._mels) > 1:
            self._mels, self._power = [np.concatenate(self._mels)], [np.concatenate(self._power)]
        return self._mels[0], self._power[0]


def mel_frames(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mel power float32 [frames, 40] and frame mean squares float32 [frames] of float32 samples x [n] at 16 kHz."""
    stream = MelStream()
    stream.feed(x)
    return stream.frames()


# ---------------------------------------------------------------------------------------------
# The encoder


def embed_windows(samples: np.ndarray, rate: int, starts_s: np.ndarray, *,
                  encoder: Encoder | None = None) -> np.ndarray:
    """Unit d-vectors float32 [n, 256] of the 1.6 s windows of mono `samples` [n] at `rate` (16000) Hz starting
    at `starts_s` float [n] seconds (from the first sample); windows running past the end are cut short."""
    if rate != RATE:
        raise InputError(f"d-vectors need 16000 Hz audio, got {rate} Hz")
    mel, power = mel_frames(np.asarray(samples, dtype=np.float32))
    starts = np.round(np.asarray(starts_s, dtype=np.float64) * RATE / HOP).astype(np.int64)
    if starts.size and (starts.min() < 0 or starts.max() >= max(mel.shape[0], 1)):
        raise ValueError(f"window starts {starts_s!r:.60} lie outside the {samples.shape[-1] / RATE:.2f} s of audio")
    return embed_frames(mel, power, starts, encoder=encoder)


def embed_frames(mel: np.ndarray, power: np.ndarray, starts: np.ndarray, *, length: int = WINDOW_FRAMES,
                 encoder: Encoder | None = None, batch: int = 64) -> np.ndarray:
    """Unit d-vectors float32 [n, 256] of windows of `length` mel frames [start, start + length) of
    `mel` float32 [frames, 40] (`power` float32 [frames]: each frame's mean square, for the level
    normalisation); `starts` int [n]. A window running past the last frame is cut short. `batch` windows
    go through the LSTM together (64: 6-7 ms a window on two cores; 32-256 within 15 %)."""
    enc = encoder or load_encoder()
    starts = np.asarray(starts, dtype=np.int64)
    out = np.zeros((starts.size, HIDDEN), dtype=np.float32)
    if starts.size == 0 or mel.shape[0] == 0:
        return out
    for lo in range(0, starts.size, batch):
        first = starts[lo: lo + batch]
        for n_frames in np.unique(np.minimum(length, mel.shape[0] - first)):  # one length per sub-batch
            pick = np.flatnonzero(np.minimum(length, mel.shape[0] - first) == n_frames)
            rows = first[pick, None] + np.arange(n_frames)[None, :]
            x = mel[rows]                                             # [b, t, 40]
            ms = power[rows].mean(axis=1)                             # window mean square
            gain2 = 10.0 ** (TARGET_DBFS / 10.0) / np.maximum(ms, 1e-12)
            out[lo + pick] = _encode(x * gain2[:, None, None].astype(np.float32), enc)
    return out


def _encode(x: np.ndarray, enc: Encoder) -> np.ndarray:
    """Unit embeddings float32 [b, 256] of mel windows x float32 [b, t, 40]."""
    b, t, _ = x.shape
    h = np.zeros((b, HIDDEN), dtype=np.float32)
    for layer in range(LAYERS):
        gates_x = (x.reshape(b * t, -1) @ enc.w_ih[layer].T + enc.bias[layer]).reshape(b, t, 4 * HIDDEN)
        seq = np.empty((b, t, HIDDEN), dtype=np.float32)
        h = np.zeros((b, HIDDEN), dtype=np.float32)
        c = np.zeros((b, HIDDEN), dtype=np.float32)
        w_hh_t = np.ascontiguousarray(enc.w_hh[layer].T)
        gates = np.empty((b, 4 * HIDDEN), dtype=np.float32)
        for step in range(t):
            np.matmul(h, w_hh_t, out=gates)
            _lstm_gates(gates, gates_x[:, step], c, h)
            seq[:, step] = h
        x = seq
    e = np.maximum(h @ enc.linear_w.T + enc.linear_b, 0.0)
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)


def lstm_cell(gates: np.ndarray, gates_x: np.ndarray, c: np.ndarray, h: np.ndarray) -> None:
    """One LSTM step for a batch, in place: gates = h W_hh^T [b, 1024] + gates_x [b, 1024] (x W_ih^T + biases);
    c, h float32 [b, 256] updated (torch.nn.LSTM: i, f, g, o; c = f c + i g; h = o tanh c). `gates` is overwritten."""
    for a in (gates, gates_x, c, h):
        if a.dtype != np.float32 or not a.flags.c_contiguous and a is not gates_x:
            raise TypeError("lstm_cell takes C-contiguous float32 arrays")
    if gates.shape != gates_x.shape or gates.shape != (h.shape[0], 4 * h.shape[1]) or c.shape != h.shape:
        raise ValueError(f"lstm_cell shapes {gates.shape}, {gates_x.shape}, {c.shape}, {h.shape} do not fit")
    _lstm_gates(gates, gates_x, c, h)


@kernel
def _lstm_gates(gates, gates_x, c, h):
    b, n4 = gates.shape
    n = n4 // 4
    # float32 throughout; tanh(v) = 2 sigmoid(2 v) - 1 (expf is about 3x faster than tanhf)
    one, two = np.float32(1.0), np.float32(2.0)
    for r in range(b):
        for j in range(n):
            i = one / (one + np.exp(-(gates[r, j] + gates_x[r, j])))
            f = one / (one + np.exp(-(gates[r, n + j] + gates_x[r, n + j])))
            g = two / (one + np.exp(-two * (gates[r, 2 * n + j] + gates_x[r, 2 * n + j]))) - one
            o = one / (one + np.exp(-(gates[r, 3 * n + j] + gates_x[r, 3 * n + j])))
            cell = f * c[r, j] + i * g
            c[r, j] = cell
            h[r, j] = o * (two / (one + np.exp(-two * cell)) - one)


# ---------------------------------------------------------------------------------------------
# Windows over speech, for diarization

#: Diarization windows: 1.6 s (the model's partial utterance) every 0.5 s of speech (each frame lies in about three),
#: at most DIARIZE_MAX_WINDOWS of them (the hop grows beyond 12.5 min of speech: about 10 s of encoder time, and the
#: spectral clustering's eigen-decomposition stays small).
DIARIZE_WINDOW_FRAMES = WINDOW_FRAMES
DIARIZE_HOP_FRAMES = 50
DIARIZE_MAX_WINDOWS = 1500


def diarize_hop(n_speech: int, *, length: int = WINDOW_FRAMES, hop: int = DIARIZE_HOP_FRAMES,
                max_windows: int = DIARIZE_MAX_WINDOWS) -> int:
    """The window hop in frames for `n_speech` speech frames: `hop`, or larger so that at most `max_windows` fit."""
    return max(int(hop), -(-(n_speech - length) // max(max_windows - 1, 1)))


def speech_windows(n_speech: int, *, length: int = WINDOW_FRAMES, hop: int = DIARIZE_HOP_FRAMES) -> np.ndarray:
    """Starts int64 [w] of windows of `length` frames every `hop` frames over `n_speech` speech frames laid end
    to end (pauses cut out, as Resemblyzer trims long silences); the last window ends at the last frame;
    one window (cut short) when there is less speech than `length`; none without speech."""
    if n_speech <= 0:
        return np.zeros(0, dtype=np.int64)
    if n_speech <= length:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, n_speech - length + 1, max(int(hop), 1), dtype=np.int64)
    if starts[-1] != n_speech - length:
        starts = np.append(starts, n_speech - length)
    return starts


def window_votes(n_frames: int, starts: np.ndarray, length: int, scores: np.ndarray) -> np.ndarray:
    """Mean score float64 [n_frames, k] of the windows covering each frame: window w covers frames
    [starts[w], starts[w] + length) and scores it `scores` float [w, k]; NaN where no window covers a frame."""
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    if scores.ndim != 2 or scores.shape[0] != starts.size:
        raise ValueError(f"window scores of shape {scores.shape} do not match {starts.size} windows")
    out = np.zeros((n_frames, scores.shape[1]))
    _window_votes(starts, int(length), scores, out)
    return out


@kernel
def _window_votes(starts, length, scores, out):
    n, k = out.shape
    count = np.zeros(n)
    for w in range(starts.size):
        for t in range(max(starts[w], 0), min(starts[w] + length, n)):
            count[t] += 1.0
            for j in range(k):
                out[t, j] += scores[w, j]
    for t in range(n):
        for j in range(k):
            out[t, j] = out[t, j] / count[t] if count[t] > 0 else np.nan
