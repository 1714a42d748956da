"""Speech probability from a trained detector: Silero VAD v5, extracted from the pinned wheel.

The model (models/`silero-vad`, MIT) is recurrent: each call takes one chunk of 512 new samples
at 16 kHz (32 ms) preceded by the last 64 samples of the chunk before (`input` float32
[batch, 576]), the recurrent `state` float32 [2, batch, 128] (zeros at the start) and `sr` int64
16000, and returns the chunk's speech probability (`output` [batch, 1]) and the next state.

A long recording is cut into pieces of `piece_s` (60 s) that run side by side as one batch (the
model's cost per chunk falls from about 0.18 to 0.05 ms at a batch of 16); each piece starts
`warmup_s` (8 s) early, from zero state, and the warm-up chunks' outputs are dropped. The state
has a long memory: against one pass over the whole file, 1-4 % of the chunks of 5 s pieces
crossed 0.5 differently after 1 s of warm-up, 0-1 % after 8 s (the 12 files of
benchmarks/neural_eval.py). A recording up to `piece_s` long is one pass.

`speech_chunks` turns probabilities into speech the way the model's authors publish: speech starts
at `threshold`, continues until the probability stays under 0.7 `threshold` (their 0.35 at their
0.5) for `min_silence_s`, runs shorter than `min_speech_s` are dropped and each run is padded by
`pad_s`.
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from ..errors import InputError
from ..intervals import bool_runs
from ..records import VoiceActivity
from .vad_kernels import frame_energy_db

RATE = 16000
CHUNK = 512
CONTEXT = 64
HOP_S = CHUNK / RATE
STATE = 128
#: speech ends below this share of the start threshold (the authors' 0.35 at 0.5)
OFF_RATIO = 0.7


class SileroVad:
    """Silero VAD on `threads` onnxruntime threads; `probabilities(x)`, `activity(x)`."""

    def __init__(self, *, threads: int = 1, piece_s: float = 60.0, warmup_s: float = 8.0, batch: int = 16):
        from ..models import onnx_session
        if piece_s <= 0 or warmup_s < 0 or batch < 1:
            raise InputError(f"piece_s {piece_s}, warmup_s {warmup_s}, batch {batch}: must be > 0, >= 0, >= 1")
        self.session = onnx_session("silero-vad", threads=threads)
        self.piece = max(1, round(piece_s / HOP_S))
        self.warmup = round(warmup_s / HOP_S)
        self.batch = batch

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Speech probability of each 32 ms chunk of mono 16 kHz float32 audio x [n]: float32
        [ceil(n / 512)]; chunk i covers samples [512 i, 512 (i + 1)) (the last one zero-padded)."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 1:
            raise InputError(f"Silero VAD needs mono samples [n]; got shape {x.shape}")
        chunks = -(-x.shape[0] // CHUNK)
        out = np.zeros(chunks, dtype=np.float32)
        if chunks == 0:
            return out
        # the audio as chunks of 576 samples (64 of context + 512 new), a zero chunk before the start
        padded = np.zeros((chunks + 1) * CHUNK, dtype=np.float32)
        padded[CHUNK:CHUNK + x.shape[0]] = x
        framed = padded.reshape(chunks + 1, CHUNK)
        inputs = np.concatenate([framed[:-1, -CONTEXT:], framed[1:]], axis=1)  # [chunks, 576]
        firsts = np.arange(0, chunks, self.piece)
        for a in range(0, firsts.size, self.batch):
            group = firsts[a:a + self.batch]
            self._run_pieces(inputs, group, out)
        return out

    def _run_pieces(self, inputs: np.ndarray, firsts: np.ndarray, out: np.ndarray) -> None:
        # pieces [f - warmup, f + piece) side by side, lock-step; a piece that has ended (or not yet
        # begun, at the recording's start) is fed zeros and its outputs are not kept
        chunks = inputs.shape[0]
        starts = np.maximum(firsts - self.warmup, 0)
        steps = int((np.minimum(firsts + self.piece, chunks) - starts).max())
        state = np.zeros((2, firsts.size, STATE), dtype=np.float32)
        buf = np.zeros((firsts.size, CHUNK + CONTEXT), dtype=np.float32)
        sr = np.array(RATE, dtype=np.int64)
        for s in range(steps):
            at = starts + s
            live = at < np.minimum(firsts + self.piece, chunks)
            buf[live] = inputs[at[live]]
            buf[~live] = 0.0
            prob, state = self.session.run(None, {"input": buf, "state": state, "sr": sr})
            keep = live & (at >= firsts)
            out[at[keep]] = prob[keep, 0]

    def activity(self, x: np.ndarray, *, threshold: float = 0.5, min_silence_s: float = 0.1,
                 min_speech_s: float = 0.25, pad_s: float = 0.03, t0: float = 0.0) -> VoiceActivity:
        """Speech of x as a one-channel VoiceActivity on the 32 ms chunk grid from `t0` (see
        `speech_chunks`); level_db is each chunk's energy in dBFS."""
        prob = self.probabilities(x)
        speech = speech_chunks(prob, threshold=threshold, min_silence_s=min_silence_s, min_speech_s=min_speech_s,
                               pad_s=pad_s)
        padded = np.zeros(prob.size * CHUNK, dtype=np.float32)
        padded[: np.asarray(x).shape[0]] = x
        level = frame_energy_db(padded, CHUNK)
        return VoiceActivity(speech[None], level[None], HOP_S, t0)


def speech_chunks(prob: np.ndarray, *, threshold: float = 0.5, min_silence_s: float = 0.1,
                  min_speech_s: float = 0.25, pad_s: float = 0.03) -> np.ndarray:
    """Speech bool [chunks] from Silero's probabilities float32 [chunks] (32 ms each).

    Hysteresis: speech begins at a chunk >= `threshold` and ends at the first of at least
    `min_silence_s` of chunks under `OFF_RATIO` x `threshold` (shorter dips stay speech); runs
    shorter than `min_speech_s` are dropped, the rest widened by `pad_s` on both sides. Defaults: the
    model's authors' (silero-vad `get_speech_timestamps`: 0.5, 100 ms, 250 ms, 30 ms; their end
    threshold is `threshold - 0.15`, 0.35 at 0.5, which at thresholds under 0.2 would never end
    speech: the same ratio is kept instead).
    """
    if not 0 < threshold < 1:
        raise InputError(f"Silero threshold {threshold}: must be in (0, 1)")
    prob = np.ascontiguousarray(prob, dtype=np.float32)
    speech = np.zeros(prob.size, dtype=np.bool_)
    _hysteresis(prob, np.float32(threshold), np.float32(OFF_RATIO * threshold),
                max(1, int(np.ceil(min_silence_s / HOP_S - 1e-9))), speech)
    begins, ends = bool_runs(speech)
    long = (ends - begins) * HOP_S >= min_speech_s - 1e-9
    pad = round(pad_s / HOP_S)
    out = np.zeros_like(speech)
    for a, b in zip(begins[long], ends[long]):
        out[max(a - pad, 0):b + pad] = True
    return out


@kernel
def _hysteresis(prob, on, off, min_silence, speech):
    talking = False
    quiet = 0  # consecutive chunks under `off` while talking
    for i in range(prob.shape[0]):
        p = prob[i]
        if not talking:
            if p >= on:
                talking = True
                quiet = 0
                speech[i] = True
            continue
        if p < off:
            quiet += 1
            if quiet >= min_silence:
                for j in range(i - quiet + 1, i + 1):
                    speech[j] = False
                talking = False
                continue
        else:
            quiet = 0
        speech[i] = True
