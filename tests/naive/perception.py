"""References of attunement.intervals and attunement.perception (vad_kernels, echo, landmarks)."""

from __future__ import annotations


import numpy as np

from attunement.perception.vad_kernels import FLOOR_MIN_DB

LANDMARK_FIELDS = ("x", "y", "z", "visibility", "presence")


# ---------------------------------------------------------------- runs (intervals.bool_runs)

def runs(flags) -> list[list[int]]:
    """[first, stop) of each run of True, stop exclusive, by walking the flags."""
    out, start = [], None
    for k, s in enumerate(list(flags) + [False]):
        if s and start is None:
            start = k
        elif not s and start is not None:
            out.append([start, k])
            start = None
    return out


def bool_runs(flags) -> tuple[np.ndarray, np.ndarray]:
    """intervals.bool_runs: (first, stop) int64 arrays of the runs of True."""
    found = runs(np.asarray(flags, bool).tolist())
    return (np.array([a for a, _ in found], np.int64), np.array([b for _, b in found], np.int64))


def speech_segments(speech, *, hop_s: float, t0: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Frame k covers [t0 + k hop, t0 + (k+1) hop): each run's first frame start and last frame end."""
    found = runs(np.asarray(speech, bool).tolist())
    return (np.array([t0 + a * hop_s for a, _ in found], np.float64),
            np.array([t0 + b * hop_s for _, b in found], np.float64))


# ---------------------------------------------------------------- vad_kernels

def highpass(x, coef, state=None):
    """The biquad in direct form I from rest (the kernel runs transposed direct form II with a state;
    `state` is not used: block splits are checked against one long call)."""
    b0, b1, b2, a1, a2 = coef
    x1 = x2 = y1 = y2 = 0.0
    out = []
    for v in map(float, x):
        y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        x2, x1, y2, y1 = x1, v, y1, y
        out.append(y)
    return np.array(out, dtype=np.float32)


def frame_energy_db(x, frame_len):
    """10 log10(mean square + 1e-12) of each whole frame of `frame_len` samples (float64 sums); a
    partial tail is dropped."""
    n = len(x) // frame_len
    frames = np.asarray(x[:n * frame_len], np.float64).reshape(n, frame_len)
    return (10 * np.log10((frames ** 2).mean(axis=1) + 1e-12)).astype(np.float32)


def rising_floor(levels_db, *, rise_db: float, first: float | None) -> np.ndarray:
    """The noise floor after each frame: down to the level at once, else up by `rise_db` per frame;
    levels below FLOOR_MIN_DB count as FLOOR_MIN_DB; `first` is the floor before frame 0 (None: the
    first level)."""
    floors, floor = [], first
    for e in levels_db:
        e = max(float(e), FLOOR_MIN_DB)
        floor = e if floor is None or e < floor else floor + rise_db
        floors.append(floor)
    return np.array(floors, np.float64)


def level_gate(band_db, voiced, *, hop_s, min_snr_db, range_db, floor_rise_db_per_s, level_tau_s):
    """A voiced frame is kept when its level (>= FLOOR_MIN_DB) exceeds both floor + min_snr_db and the
    running speech level - range_db; the speech level starts at the first kept frame and then moves a
    share min(1, hop_s / level_tau_s) toward each kept frame's level."""
    e = np.maximum(np.asarray(band_db, np.float64), FLOOR_MIN_DB)
    floors = rising_floor(band_db, rise_db=floor_rise_db_per_s * hop_s, first=FLOOR_MIN_DB)
    share = min(1.0, hop_s / level_tau_s)
    speech_level, out = None, np.zeros(e.size, bool)
    for k in np.flatnonzero(np.asarray(voiced, bool)):          # only voiced frames can move the level
        bar = floors[k] + min_snr_db
        if speech_level is not None:
            bar = max(bar, speech_level - range_db)
        if e[k] > bar:
            out[k] = True
            speech_level = e[k] if speech_level is None else (1 - share) * speech_level + share * e[k]
    return out


def smooth_frames(speech, fill, min_len, pad, hang):
    """Runs closer than `fill` frames merged, runs shorter than `min_len` dropped, then `pad` frames
    added before and `hang` after each."""
    merged = []
    for run in runs(speech):
        if merged and run[0] - merged[-1][1] < fill:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    out = np.zeros(len(speech), dtype=bool)
    for a, b in merged:
        if b - a >= min_len:
            out[max(0, a - pad):min(len(speech), b + hang)] = True
    return out


def audible_frames(level_db, raw_voiced, *, hop_s, floor_rise_db_per_s, audible_db, voiced_audible_db):
    """Audible: the level is more than audible_db over its rising floor, or more than voiced_audible_db
    where webrtcvad heard a voice."""
    above = np.maximum(np.asarray(level_db, np.float64), FLOOR_MIN_DB) - rising_floor(
        level_db, rise_db=floor_rise_db_per_s * hop_s, first=None)
    return (above > audible_db) | (np.asarray(raw_voiced, bool) & (above > voiced_audible_db))


def extend_speech(speech, audible, before, after):
    """Each run grows over up to `before` audible non-speech frames before it and `after` after it."""
    out = np.array(speech, dtype=bool)
    for a, b in runs(speech):
        k = a - 1
        while k >= 0 and a - k <= before and audible[k] and not speech[k]:
            out[k] = True
            k -= 1
        k = b
        while k < len(speech) and k - b < after and audible[k] and not speech[k]:
            out[k] = True
            k += 1
    return out


def fill_sounding_pauses(speech, sounding, max_frames, share):
    """A pause between two runs, at most `max_frames` long, is filled when at least `share` of it sounds."""
    out = np.array(speech, dtype=bool)
    found = runs(speech)
    for (_, end), (start, _) in zip(found, found[1:]):
        gap = start - end
        if gap <= max_frames and sum(sounding[end:start]) >= share * gap:
            out[end:start] = True
    return out


def segments_to_frames(starts, ends, frames, hop_s, t0):
    """A frame is speech when its centre lies in some [start, end)."""
    centres = t0 + (np.arange(frames) + 0.5) * hop_s
    out = np.zeros(frames, dtype=bool)
    for a, b in zip(starts, ends):
        out |= (centres >= a) & (centres < b)
    return out


# ---------------------------------------------------------------- echo

def suppress_echo(speech, mic_db, ref_db, gain_db, margin_db, background_db, lag, ref_floor_db,
                  onset_margin_db=1.5, onset_frames=0):
    """echo.suppress_echo from its docstring: the echo predicted from the loudest playback frame of
    t-lag-1..t-lag+1 (NaN is silence), kept runs reaching back over soft onsets."""
    n = len(speech)
    out = np.zeros(n, dtype=bool)
    expected = np.full(n, -np.inf)
    for t in range(n):
        if not speech[t]:
            continue
        window = ref_db[max(0, t - lag - 1):max(0, t - lag + 2)]
        window = window[~np.isnan(window)]
        ref = window.max() if window.size else -np.inf
        if not ref > ref_floor_db:
            out[t] = True
        else:
            expected[t] = max(ref + gain_db, background_db)
            out[t] = mic_db[t] > expected[t] + margin_db
    soft = speech & (mic_db > expected + onset_margin_db)
    kept = out.copy()
    for t in range(1, n):
        if kept[t] and not kept[t - 1]:                 # a run onset before any reaching back
            for u in range(t - 1, max(-1, t - 1 - onset_frames), -1):
                if not soft[u]:
                    break
                out[u] = True
    return out


def decide_frames(level_db, band_db, voiced, ref_db, floor, rise_db, min_snr_db, gain_db, margin_db):
    """(decisions, final floor): the floor series first (down at once, up by at most rise_db a
    frame, NaN at first), then the three conditions of the docstring as whole-array tests."""
    floors = []
    for band in np.asarray(band_db, np.float64):
        floor = band if np.isnan(floor) else min(band, floor + rise_db)
        floors.append(floor)
    floors = np.array(floors, np.float64)
    band = np.asarray(band_db, np.float64)
    level, ref = np.asarray(level_db, np.float64), np.asarray(ref_db, np.float64)
    with np.errstate(invalid="ignore"):
        loud = np.asarray(voiced, bool) & (band > floors + min_snr_db)
        echo = ref > -np.inf                                 # NaN or -inf: the partner is silent
        over = level > ref + gain_db + margin_db
    return loud & (~echo | over), floor


# ---------------------------------------------------------------- landmarks

def landmark_array(data: bytes, scale, normalized: bool = True) -> np.ndarray:
    """float32 [n, len(scale)] read by the protobuf library itself: field j times scale[j], NaN if unset."""
    from mediapipe.framework.formats import landmark_pb2

    cls = landmark_pb2.NormalizedLandmarkList if normalized else landmark_pb2.LandmarkList
    message = cls.FromString(data)
    out = np.full((len(message.landmark), len(scale)), np.nan, np.float32)
    for k, point in enumerate(message.landmark):
        for j, factor in enumerate(scale):
            if point.HasField(LANDMARK_FIELDS[j]):
                out[k, j] = getattr(point, LANDMARK_FIELDS[j]) * factor
    return out
