"""numba kernels of the voice-activity stage: speech-band filter, frame levels, level gate,
audibility, smoothing and the acoustically bounded extension of speech.

Frames are non-overlapping, `frame_len` samples each; per-frame arrays have shape (frames,).
Levels are dBFS: 10*log10(mean(x**2) + 1e-12), so digital silence reads -120 dB.
The public wrappers validate and allocate; the private kernels fill the output they are given.
"""

from __future__ import annotations

import math

import numpy as np

from .._numba import kernel
from ..config import VadConfig
from ..intervals import bool_runs

#: Added to the mean square before the log: digital silence reads -120 dBFS, never -inf.
POWER_EPS = 1e-12

#: The noise floor is never tracked below this, dBFS: about the quantisation noise of 16-bit
#: audio (-101 dBFS), so a stretch of digital silence cannot pull it out of reach of real noise.
FLOOR_MIN_DB = -100.0


def highpass_coefficients(cutoff_hz: float, rate: int) -> np.ndarray:
    """Biquad [b0, b1, b2, a1, a2] float64 of a 2nd-order Butterworth high-pass (bilinear transform).

    The same filter as scipy.signal.butter(2, cutoff_hz, "highpass", fs=rate).
    """
    if not 0.0 < cutoff_hz < rate / 2:
        raise ValueError(f"high-pass cutoff {cutoff_hz} Hz must lie in (0, {rate / 2}) Hz")
    k = math.tan(math.pi * cutoff_hz / rate)
    norm = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    return np.array([norm, -2.0 * norm, norm, 2.0 * (k * k - 1.0) * norm,
                     (1.0 - math.sqrt(2.0) * k + k * k) * norm])


def highpass(x: np.ndarray, coef: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Filter float32 samples [n] with biquad `coef` (see highpass_coefficients), float32 [n].

    `state` float64 [2] (transposed direct form II) is updated in place, so consecutive
    blocks filter exactly as one long signal; start it at zeros.
    """
    if state.shape != (2,) or state.dtype != np.float64 or coef.shape != (5,):
        raise ValueError(f"need coef [5] and float64 state [2], got {coef.shape} and {state.dtype}{state.shape}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = np.empty_like(x)
    _highpass(x, coef.astype(np.float64), state, out)
    return out


@kernel
def _highpass(x, coef, state, out):
    b0, b1, b2, a1, a2 = coef[0], coef[1], coef[2], coef[3], coef[4]
    z1, z2 = state[0], state[1]
    for i in range(x.shape[0]):
        xi = np.float64(x[i])
        y = b0 * xi + z1
        z1 = b1 * xi - a1 * y + z2
        z2 = b2 * xi - a2 * y
        out[i] = y
    state[0] = z1
    state[1] = z2


def frame_energy_db(x: np.ndarray, frame_len: int) -> np.ndarray:
    """Energy of each whole frame of `frame_len` samples, float32 dBFS [len(x) // frame_len].

    10*log10(mean(x**2) + 1e-12); a partial frame at the end is ignored.
    """
    if frame_len < 1:
        raise ValueError(f"frame_len must be >= 1, got {frame_len}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = np.empty(x.shape[0] // frame_len, dtype=np.float32)
    _frame_energy_db(x, frame_len, out)
    return out


@kernel
def _frame_energy_db(x, frame_len, out):
    for f in range(out.shape[0]):
        acc = 0.0
        for i in range(f * frame_len, (f + 1) * frame_len):
            v = np.float64(x[i])
            acc += v * v
        out[f] = 10.0 * np.log10(acc / frame_len + POWER_EPS)


def level_gate(band_db: np.ndarray, voiced: np.ndarray, state: np.ndarray, *, hop_s: float,
               min_snr_db: float, range_db: float, floor_rise_db_per_s: float,
               level_tau_s: float) -> np.ndarray:
    """Keep webrtcvad's `voiced` frames only when their speech-band level is plausible for speech.

    band_db float32 [frames]: speech-band level, dBFS. voiced bool [frames]: webrtcvad's call.
    A frame passes when it is `min_snr_db` above the noise floor and within `range_db` below
    the active speech level. The floor follows any lower frame at once and otherwise rises by
    `floor_rise_db_per_s` (minimum tracking); it starts at FLOOR_MIN_DB, so a recording that opens
    with speech is not taken for noise. The speech level is the average (dB) of passing frames
    over about `level_tau_s`, unset until the first one. Causal: `state` float64 [2] =
    (floor, level) dB, NaN until known, is updated in place so block-by-block calls equal one
    call. Returns bool [frames].
    """
    if band_db.shape != voiced.shape or band_db.ndim != 1:
        raise ValueError(f"band_db {band_db.shape} and voiced {voiced.shape} must be equal 1-D shapes")
    if state.shape != (2,) or state.dtype != np.float64:
        raise ValueError(f"state must be float64 [2], got {state.dtype}{state.shape}")
    if hop_s <= 0 or level_tau_s <= 0 or floor_rise_db_per_s < 0:
        raise ValueError("hop_s and level_tau_s must be > 0, floor_rise_db_per_s >= 0")
    out = np.empty(band_db.shape, dtype=np.bool_)
    _level_gate(np.ascontiguousarray(band_db, dtype=np.float32), np.ascontiguousarray(voiced, dtype=np.bool_),
                state, float(min_snr_db), float(range_db), float(floor_rise_db_per_s * hop_s),
                float(min(1.0, hop_s / level_tau_s)), out)
    return out


@kernel
def _level_gate(band_db, voiced, state, min_snr_db, range_db, rise_db, level_alpha, out):
    floor, level = state[0], state[1]
    for k in range(band_db.shape[0]):
        e = max(np.float64(band_db[k]), FLOOR_MIN_DB)
        if math.isnan(floor):
            floor = FLOOR_MIN_DB
        if e < floor:
            floor = e
        else:
            floor += rise_db
        threshold = floor + min_snr_db
        if not math.isnan(level):
            threshold = max(threshold, level - range_db)
        keep = voiced[k] and e > threshold
        if keep:
            level = e if math.isnan(level) else level + level_alpha * (e - level)
        out[k] = keep
    state[0] = floor
    state[1] = level


def audible_frames(level_db: np.ndarray, raw_voiced: np.ndarray, state: np.ndarray, *, hop_s: float,
                   floor_rise_db_per_s: float, audible_db: float, voiced_audible_db: float) -> np.ndarray:
    """Frames that hold sound above the background: where speech may be extended to, bool [frames].

    level_db float32 [frames]: full-band frame level, dBFS. raw_voiced bool [frames]: webrtcvad's
    call on the unfiltered frame. The background is the minimum-tracked level: it starts at the
    first frame, falls to any lower frame at once and rises by `floor_rise_db_per_s` otherwise (so
    it sits at the quiet end of the room noise within a second or two, unlike the level gate's
    floor, which starts low on purpose). A frame is audible when it is `audible_db` above the
    background, or `voiced_audible_db` above it while webrtcvad hears voice (a weak consonant or a
    tail in noise). Causal: `state` float64 [1] = background dB, NaN until the first frame, is
    updated in place so block-by-block calls equal one call.
    """
    if level_db.shape != raw_voiced.shape or level_db.ndim != 1:
        raise ValueError(f"level_db {level_db.shape} and raw_voiced {raw_voiced.shape} must be equal 1-D shapes")
    if state.shape != (1,) or state.dtype != np.float64:
        raise ValueError(f"state must be float64 [1], got {state.dtype}{state.shape}")
    if hop_s <= 0 or floor_rise_db_per_s < 0:
        raise ValueError("hop_s must be > 0 and floor_rise_db_per_s >= 0")
    out = np.empty(level_db.shape, dtype=np.bool_)
    _audible(np.ascontiguousarray(level_db, dtype=np.float32), np.ascontiguousarray(raw_voiced, dtype=np.bool_),
             state, float(floor_rise_db_per_s * hop_s), float(audible_db), float(voiced_audible_db), out)
    return out


@kernel
def _audible(level_db, raw_voiced, state, rise_db, audible_db, voiced_audible_db, out):
    floor = state[0]
    for k in range(level_db.shape[0]):
        e = max(np.float64(level_db[k]), FLOOR_MIN_DB)
        if math.isnan(floor) or e < floor:
            floor = e
        else:
            floor += rise_db
        above = e - floor
        out[k] = above > audible_db or (raw_voiced[k] and above > voiced_audible_db)
    state[0] = floor


def extend_speech(speech: np.ndarray, audible: np.ndarray, *, before_frames: int, after_frames: int) -> np.ndarray:
    """Each run of `speech` grown outward through `audible` frames only, bool [frames].

    A run [a, b) takes frame a-1, a-2, ... while they are audible, at most `before_frames`, and
    b, b+1, ... while audible, at most `after_frames`: weak onsets, consonants and decaying tails
    join their speech, silence never does. Runs grow from their own ends (a grown run is not
    grown again). speech, audible bool [frames].
    """
    speech = np.asarray(speech)
    if speech.ndim != 1 or np.shape(audible) != speech.shape:
        raise ValueError(f"speech {speech.shape} and audible {np.shape(audible)} must be equal 1-D shapes")
    if before_frames < 0 or after_frames < 0:
        raise ValueError("frame counts must be >= 0")
    speech = np.ascontiguousarray(speech, dtype=np.bool_)
    out = speech.copy()
    _extend(speech, np.ascontiguousarray(audible, dtype=np.bool_), int(before_frames), int(after_frames), out)
    return out


@kernel
def _extend(speech, audible, before_frames, after_frames, out):
    n = speech.shape[0]
    reach = 0  # frames left to grow forward from the last run's end; 0 = stopped
    for k in range(n):
        if speech[k]:
            reach = after_frames
        elif reach > 0 and audible[k]:
            out[k] = True
            reach -= 1
        else:
            reach = 0
    reach = 0
    for k in range(n - 1, -1, -1):
        if speech[k]:
            reach = before_frames
        elif reach > 0 and audible[k]:
            out[k] = True
            reach -= 1
        else:
            reach = 0


def fill_sounding_pauses(speech: np.ndarray, sounding: np.ndarray, *, max_frames: int, share: float) -> np.ndarray:
    """Fill each pause of `speech` (a run of False between two runs of True) that is at most
    `max_frames` long and has at least `share` (0..1) of its frames `sounding`, bool [frames].

    A stretch between words that is mostly sound (speech buried in noise, a murmur the speech-band
    gate misses) is not a pause; a silence is, however short the detector's margins make it.
    """
    speech = np.asarray(speech)
    if speech.ndim != 1 or np.shape(sounding) != speech.shape:
        raise ValueError(f"speech {speech.shape} and sounding {np.shape(sounding)} must be equal 1-D shapes")
    if max_frames < 0 or not 0.0 <= share <= 1.0:
        raise ValueError(f"need max_frames >= 0 and share in [0, 1], got {max_frames} and {share}")
    out = np.array(speech, dtype=np.bool_, copy=True)
    _fill_sounding(out, np.ascontiguousarray(sounding, dtype=np.bool_), int(max_frames), float(share))
    return out


@kernel
def _fill_sounding(s, sounding, max_frames, share):
    last_speech = -1
    count = 0  # sounding frames since last_speech
    for k in range(s.shape[0]):
        if s[k]:
            gap = k - last_speech - 1
            if last_speech >= 0 and 0 < gap <= max_frames and count >= share * gap:
                for j in range(last_speech + 1, k):
                    s[j] = True
            last_speech = k
            count = 0
        elif sounding[k]:
            count += 1


def smooth_speech(speech: np.ndarray, audible: np.ndarray, sounding: np.ndarray, *, hop_s: float,
                  config: VadConfig, fill_pauses: bool = True) -> np.ndarray:
    """Speech stretches from the gate's per-frame calls; speech, audible, sounding bool [frames] ->
    bool [frames].

    In order: pauses shorter than min_pause_s between speech are filled; speech shorter than
    min_speech_s is dropped; each stretch is extended through `audible` frames (see
    extend_speech) by at most extend_before_s before and extend_after_s after; pauses are filled
    once more (the extension may have brought stretches closer), and so are pauses of up to
    sounding_pause_s whose frames are at least sounding_share `sounding` (see
    fill_sounding_pauses). With fill_pauses=False only the drop and the extension are done (see
    VoiceActivityDetector). A streaming version would need sounding_pause_s + min_speech_s +
    extend_before_s of look-ahead at most.
    """
    fill = _frames(config.min_pause_s, hop_s) if fill_pauses else 0
    out = smooth_frames(speech, fill_frames=fill, min_frames=_frames(config.min_speech_s, hop_s),
                        pad_frames=0, hang_frames=0)
    out = extend_speech(out, audible, before_frames=_frames(config.extend_before_s, hop_s),
                        after_frames=_frames(config.extend_after_s, hop_s))
    if not fill_pauses:
        return out
    out = smooth_frames(out, fill_frames=fill, min_frames=0, pad_frames=0, hang_frames=0)
    return fill_sounding_pauses(out, sounding, max_frames=_frames(config.sounding_pause_s, hop_s),
                                share=config.sounding_share)


def smooth_frames(speech: np.ndarray, *, fill_frames: int, min_frames: int, pad_frames: int,
                  hang_frames: int) -> np.ndarray:
    """Fill pauses < fill_frames, drop runs < min_frames, then pad a fixed pad_frames before and
    hang_frames after each run. bool [frames] -> bool [frames]. The detector pads nothing (it
    extends through audible frames instead, see extend_speech); the speaker stage mends with it."""
    speech = np.asarray(speech)
    if speech.ndim != 1:
        raise ValueError(f"speech must be 1-D [frames], got shape {speech.shape}")
    if min(fill_frames, min_frames, pad_frames, hang_frames) < 0:
        raise ValueError("frame counts must be >= 0")
    out = np.array(speech, dtype=np.bool_, copy=True)
    _smooth(out, int(fill_frames), int(min_frames), int(pad_frames), int(hang_frames))
    return out


def _frames(seconds: float, hop_s: float) -> int:
    """Whole frames in `seconds` (rounded to nearest; 1e-9 guards decimal inputs like 0.09/0.03)."""
    return int(math.floor(seconds / hop_s + 0.5 + 1e-9))


@kernel
def _smooth(s, fill_frames, min_frames, pad_frames, hang_frames):
    n = s.shape[0]
    # 1. fill pauses shorter than fill_frames that have speech on both sides
    last_speech = -1
    for k in range(n):
        if s[k]:
            gap = k - last_speech - 1
            if last_speech >= 0 and gap > 0 and gap < fill_frames:
                for j in range(last_speech + 1, k):
                    s[j] = True
            last_speech = k
    # 2. drop runs of speech shorter than min_frames
    k = 0
    while k < n:
        if s[k]:
            j = k
            while j < n and s[j]:
                j += 1
            if j - k < min_frames:
                for i in range(k, j):
                    s[i] = False
            k = j
        else:
            k += 1
    # 3. hangover after each end (forward), then onset pad before each start (backward)
    last_speech = -n - hang_frames - 1
    for k in range(n):
        if s[k]:
            last_speech = k
        elif k - last_speech <= hang_frames:
            s[k] = True
    next_speech = 2 * n + pad_frames + 1
    for k in range(n - 1, -1, -1):
        if s[k]:
            next_speech = k
        elif next_speech - k <= pad_frames:
            s[k] = True


def speech_segments(speech: np.ndarray, *, hop_s: float, t0: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Runs of speech in bool [frames] as (starts, ends) float64 seconds [shape=(segments,)].

    Frame k covers [t0 + k*hop_s, t0 + (k+1)*hop_s); a run of frames a..b-1 is [t0 + a*hop_s, t0 + b*hop_s).
    """
    speech = np.asarray(speech)
    if speech.ndim != 1:
        raise ValueError(f"speech must be 1-D [frames], got shape {speech.shape}")
    if hop_s <= 0:
        raise ValueError(f"hop_s must be > 0, got {hop_s}")
    first, stop = bool_runs(speech)
    return t0 + first * hop_s, t0 + stop * hop_s



def segments_to_frames(starts: np.ndarray, ends: np.ndarray, *, frames: int, hop_s: float,
                       t0: float = 0.0) -> np.ndarray:
    """The inverse of speech_segments: bool [frames], frame k set when its centre
    t0 + (k + 0.5)*hop_s lies in any [start, end). starts, ends float64 seconds [shape=(n,)], any order."""
    starts = np.ascontiguousarray(starts, dtype=np.float64)
    ends = np.ascontiguousarray(ends, dtype=np.float64)
    if starts.shape != ends.shape or starts.ndim != 1:
        raise ValueError(f"starts {starts.shape} and ends {ends.shape} must be equal 1-D shapes")
    if hop_s <= 0 or frames < 0:
        raise ValueError(f"need hop_s > 0 and frames >= 0, got {hop_s} and {frames}")
    if not (np.isfinite(starts).all() and np.isfinite(ends).all()):
        raise ValueError("segment times must be finite")
    out = np.zeros(frames, dtype=np.bool_)
    _segments_to_frames(starts, ends, float(hop_s), float(t0), out)
    return out


@kernel
def _segments_to_frames(starts, ends, hop_s, t0, out):
    n = out.shape[0]
    for i in range(starts.shape[0]):
        # first frame whose centre is >= start, first frame whose centre is >= end
        a = max(0, int(math.ceil((starts[i] - t0) / hop_s - 0.5)))
        b = min(n, int(math.ceil((ends[i] - t0) / hop_s - 0.5)))
        for k in range(a, b):
            out[k] = True
