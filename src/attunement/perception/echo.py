"""The partner's echo in the microphone during a rehearsal: playback levels on the voice-activity grid,
the echo's delay and gain, and the frames that are the user's own speech (numba kernels).

The partner's lines are known sample for sample, so their echo is predicted from the playback level
plus a per-session echo gain; mic speech during a line counts as the user only where it is clearly
louder than that prediction. Levels are dBFS of frames on the voice-activity grid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._numba import kernel
from ..records import PartnerLine
from .vad_kernels import frame_energy_db


def playback_levels(track: Sequence[PartnerLine], audio: Sequence[np.ndarray | None], *, frames: int,
                    hop_s: float, rate: int, t0: float = 0.0) -> np.ndarray:
    """Frame levels (dBFS, float32 [frames]) of the partner's playback on the voice-activity grid.

    Each line's audio (float32 [n] at `rate`, None if shown) is placed at its start; silence is -120 dB.
    """
    hop = round(hop_s * rate)
    signal = np.zeros(frames * hop, dtype=np.float32)
    for line, x in zip(track, audio):
        if x is None:
            continue
        at = round((line.start - t0) * rate)
        lo, hi = max(at, 0), min(at + len(x), len(signal))
        if hi > lo:
            signal[lo:hi] += x[lo - at:hi - at]
    return frame_energy_db(signal, hop)


def estimate_echo_gain(mic_db: np.ndarray, ref_db: np.ndarray, *, floor_db: float) -> float:
    """Echo path gain in dB (mic level minus playback level), the median over the loud playback frames.

    Taken per session from the first spoken line; frames within `floor_db` of the loudest playback
    frame count. The median keeps a short interruption by the user from raising it. NaN if none.
    """
    if mic_db.shape != ref_db.shape:
        raise ValueError(f"mic_db {mic_db.shape} and ref_db {ref_db.shape} must be equal shapes")
    if ref_db.size == 0:
        return float("nan")
    loud = ref_db > ref_db.max() - min(floor_db, 20.0)
    return float(np.median(mic_db[loud] - ref_db[loud])) if loud.any() else float("nan")


def estimate_echo_delay(mic_db: np.ndarray, ref_db: np.ndarray, *, max_frames: int) -> int:
    """Playback-to-mic delay in frames (0..max_frames): the lag that best matches the level envelopes.

    mic_db, ref_db: dBFS [frames] over the first spoken line (and a little after it); the lag
    maximizing the Pearson correlation of mic_db[t] with ref_db[t - lag] wins.
    """
    if mic_db.shape != ref_db.shape or mic_db.ndim != 1:
        raise ValueError(f"mic_db {mic_db.shape} and ref_db {ref_db.shape} must be equal 1-D shapes")
    best, best_r = 0, -np.inf
    for lag in range(0, min(max_frames, len(mic_db) - 3) + 1):
        m, r = mic_db[lag:].astype(np.float64), ref_db[:len(ref_db) - lag].astype(np.float64)
        ok = np.isfinite(m) & np.isfinite(r)
        if ok.sum() < 3 or m[ok].std() == 0 or r[ok].std() == 0:
            continue
        c = float(np.corrcoef(m[ok], r[ok])[0, 1])
        if c > best_r:
            best, best_r = lag, c
    return best


def suppress_echo(speech: np.ndarray, mic_db: np.ndarray, ref_db: np.ndarray, *, gain_db: float,
                  margin_db: float, background_db: float, lag: int, ref_floor_db: float,
                  onset_margin_db: float = 1.5, onset_frames: int = 0) -> np.ndarray:
    """The user's own speech, bool [frames]: mic `speech` minus what the partner's echo explains.

    The echo at frame t is predicted from the playback (ref_db, dBFS [frames]) `lag` frames earlier,
    the loudest of frames t-lag-1..t-lag+1, plus gain_db; where that is silent (not above ref_floor_db)
    the prediction is the mic background level. A speech frame is kept only when mic_db exceeds
    the larger of the two by margin_db; where the playback is silent, speech is kept as it is.
    Each kept run then reaches back up to `onset_frames` speech frames that exceed the prediction
    by onset_margin_db (a soft onset under the echo, hysteresis). NaN levels count as silence.
    """
    if not speech.shape == mic_db.shape == ref_db.shape or speech.ndim != 1:
        raise ValueError(f"speech {speech.shape}, mic_db {mic_db.shape}, ref_db {ref_db.shape} must be equal 1-D")
    if lag < 0:
        raise ValueError(f"lag must be >= 0, got {lag}")
    out = np.zeros(speech.shape, dtype=np.bool_)
    _suppress_echo(np.ascontiguousarray(speech, dtype=np.bool_), np.ascontiguousarray(mic_db, dtype=np.float32),
                   np.ascontiguousarray(ref_db, dtype=np.float32), np.float32(gain_db), np.float32(margin_db),
                   np.float32(background_db), int(lag), np.float32(ref_floor_db), np.float32(onset_margin_db),
                   int(onset_frames), np.empty(speech.shape, dtype=np.float32), np.zeros(speech.shape, np.bool_), out)
    return out


@kernel
def _suppress_echo(speech, mic_db, ref_db, gain_db, margin_db, background_db, lag, ref_floor_db,
                   onset_margin_db, onset_frames, expected, kept, out):
    n = speech.shape[0]
    for t in range(n):
        expected[t] = -np.inf
        if not speech[t]:
            continue
        ref = np.float32(-np.inf)
        for u in range(max(0, t - lag - 1), min(n, max(0, t - lag + 2))):
            if ref_db[u] > ref:                     # NaN compares False: silence
                ref = ref_db[u]
        if not ref > ref_floor_db:
            kept[t] = True                          # the partner is silent around t
        else:
            expected[t] = max(ref + gain_db, background_db)
            kept[t] = mic_db[t] > expected[t] + margin_db
        out[t] = kept[t]
    for t in range(1, n):                           # soft onsets: reach back from each kept run
        if kept[t] and not kept[t - 1]:
            u = t - 1
            while u >= 0 and u >= t - onset_frames and speech[u] and mic_db[u] > expected[u] + onset_margin_db:
                out[u] = True
                u -= 1


def line_frame_levels(audio: np.ndarray, at: int, *, hop: int) -> tuple[int, np.ndarray]:
    """One line's playback levels on the frame grid: (first frame, dBFS float32 [k]) for the frames
    its samples touch when it starts at sample `at` (>= 0) of a grid of `hop`-sample frames. Equal to
    playback_levels' values there while no other line shares a frame (lines never overlap)."""
    if at < 0 or hop < 1:
        raise ValueError(f"at must be >= 0 and hop >= 1, got at={at}, hop={hop}")
    first = at // hop
    k = -(-(at + len(audio)) // hop) - first
    buf = np.zeros(k * hop, np.float32)
    buf[at - first * hop:at - first * hop + len(audio)] = audio
    return first, frame_energy_db(buf, hop)


def levels_from_frames(first: np.ndarray, levels: Sequence[np.ndarray], *, frames: int, hop: int) -> np.ndarray:
    """Playback levels dBFS float32 [frames] from lines' (first frame, levels) (line_frame_levels):
    silence is the level of an all-zero frame; a frame two lines share gets their summed power."""
    silent = frame_energy_db(np.zeros(hop, np.float32), hop)[0]
    out = np.full(frames, silent, np.float32)
    seen = np.zeros(frames, np.bool_)
    for f, db in zip(np.asarray(first).tolist(), levels):
        db = np.asarray(db, np.float32)[:max(0, frames - f)]
        here, both = out[f:f + len(db)], seen[f:f + len(db)]
        summed = 10 * np.log10(10 ** (here / 10.0) + 10 ** (db / 10.0) - 10 ** (silent / 10.0))
        here[:] = np.where(both, summed, db)
        both[:] = True
    return out


def decide_frames(level_db: np.ndarray, band_db: np.ndarray, voiced: np.ndarray, ref_db: np.ndarray, *,
                  state: np.ndarray, rise_db: float, min_snr_db: float, gain_db: float, margin_db: float
                  ) -> np.ndarray:
    """The user speaks, bool [frames]: webrtcvad's `voiced` where the speech-band level `band_db`
    (dBFS [frames]) exceeds the tracked floor by min_snr_db and, where the partner's playback
    `ref_db` (dBFS [frames], the loudest over the echo delay; -inf or NaN when silent) sounds, the
    frame level `level_db` exceeds ref_db + gain_db by margin_db. The floor (state[0], dBFS, NaN at
    first) follows band_db down at once and rises at most rise_db per frame; updated in place."""
    n = level_db.shape[0]
    if not band_db.shape == voiced.shape == ref_db.shape == (n,) or state.shape != (1,):
        raise ValueError(f"level_db {level_db.shape}, band_db {band_db.shape}, voiced {voiced.shape}, "
                         f"ref_db {ref_db.shape} must be equal 1-D shapes; state {state.shape} must be (1,)")
    out = np.zeros(n, dtype=np.bool_)
    _decide_frames(np.ascontiguousarray(level_db, np.float32), np.ascontiguousarray(band_db, np.float32),
                   np.ascontiguousarray(voiced, np.bool_), np.ascontiguousarray(ref_db, np.float32), state,
                   float(rise_db), float(min_snr_db), float(gain_db), float(margin_db), out)
    return out


@kernel
def _decide_frames(level_db, band_db, voiced, ref_db, state, rise_db, min_snr_db, gain_db, margin_db, out):
    for t in range(level_db.shape[0]):
        band = band_db[t]
        if np.isnan(state[0]):
            state[0] = band
        else:
            state[0] = min(band, state[0] + rise_db)
        speaking = voiced[t] and band > state[0] + min_snr_db
        if ref_db[t] > -np.inf:                       # NaN compares False: silence
            speaking = speaking and level_db[t] > ref_db[t] + gain_db + margin_db
        out[t] = speaking
