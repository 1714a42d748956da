"""Voice-activity kernels against plain-Python references, and the detector's streaming contract.

Truth on real speech is in test_vad_realdata.py; here the structure is exact and synthetic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from attunement.config import default_config
from attunement.errors import ConfigError, InputError
from attunement.perception.vad import RATES, VoiceActivityDetector, detect_speech, speech_segments
from attunement.perception.vad_kernels import (FLOOR_MIN_DB, frame_energy_db, highpass,
                                               highpass_coefficients, level_gate, segments_to_frames,
                                               smooth_frames, smooth_speech)
from attunement.records import AudioBlock

CONFIG = default_config().vad


# ---------------------------------------------------------------- plain-Python references

def ref_highpass(x, coef, state):
    b0, b1, b2, a1, a2 = coef
    x1 = x2 = y1 = y2 = 0.0  # direct form I from rest; state is only checked via block splits
    out = []
    for v in map(float, x):
        y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        x2, x1, y2, y1 = x1, v, y1, y
        out.append(y)
    return np.array(out, dtype=np.float32)


def ref_frame_energy_db(x, frame_len):
    return np.array([10 * math.log10(sum(float(v) ** 2 for v in x[i:i + frame_len]) / frame_len + 1e-12)
                     for i in range(0, len(x) - frame_len + 1, frame_len)], dtype=np.float32)


def ref_level_gate(band_db, voiced, *, hop_s, min_snr_db, range_db, floor_rise_db_per_s, level_tau_s):
    floor, level, out = FLOOR_MIN_DB, None, []
    for e, v in zip(band_db, voiced):
        e = max(float(e), FLOOR_MIN_DB)
        floor = e if e < floor else floor + floor_rise_db_per_s * hop_s
        threshold = floor + min_snr_db if level is None else max(floor + min_snr_db, level - range_db)
        keep = bool(v) and e > threshold
        if keep:
            level = e if level is None else level + min(1.0, hop_s / level_tau_s) * (e - level)
        out.append(keep)
    return np.array(out, dtype=bool)


def ref_runs(speech):
    runs, start = [], None
    for k, s in enumerate(list(speech) + [False]):
        if s and start is None:
            start = k
        elif not s and start is not None:
            runs.append([start, k])
            start = None
    return runs


def ref_smooth(speech, fill, min_len, pad, hang):
    merged = []
    for run in ref_runs(speech):
        if merged and run[0] - merged[-1][1] < fill:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    out = np.zeros(len(speech), dtype=bool)
    for a, b in merged:
        if b - a >= min_len:
            out[max(0, a - pad):min(len(speech), b + hang)] = True
    return out


def ref_segments_to_frames(starts, ends, frames, hop_s, t0):
    centres = t0 + (np.arange(frames) + 0.5) * hop_s
    out = np.zeros(frames, dtype=bool)
    for a, b in zip(starts, ends):
        out |= (centres >= a) & (centres < b)
    return out


def random_speech(rng, n, p_switch=0.3):
    """bool [n] with runs of random length."""
    return (np.cumsum(rng.random(n) < p_switch) % 2).astype(bool)


# ---------------------------------------------------------------- high-pass

def test_highpass_matches_reference_and_butterworth(rng):
    coef = highpass_coefficients(700.0, 16000)
    x = rng.standard_normal(3000).astype(np.float32)
    np.testing.assert_allclose(highpass(x, coef, np.zeros(2)), ref_highpass(x, coef, None), atol=1e-5)
    signal = pytest.importorskip("scipy.signal")
    b, a = signal.butter(2, 700.0, "highpass", fs=16000)
    np.testing.assert_allclose(coef, np.r_[b, a[1:]], rtol=1e-12)


def test_highpass_split_into_blocks_equals_one_pass(rng):
    coef = highpass_coefficients(300.0, 8000)
    x = rng.standard_normal(5000).astype(np.float32)
    whole = highpass(x, coef, np.zeros(2))
    state = np.zeros(2)
    cuts = np.sort(rng.integers(0, len(x), 7))
    parts = [highpass(p, coef, state) for p in np.split(x, cuts)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_highpass_passes_speech_band_and_stops_breath_band():
    rate = 16000
    t = np.arange(rate) / rate
    coef = highpass_coefficients(700.0, rate)
    gain = {f: np.std(highpass(np.sin(2 * np.pi * f * t).astype(np.float32), coef, np.zeros(2))[rate // 2:])
            / np.std(np.sin(2 * np.pi * f * t)) for f in (100, 700, 3000)}
    assert 20 * np.log10(gain[100]) == pytest.approx(-34.0, abs=0.5)   # 12 dB/octave, 2.8 octaves down
    assert 20 * np.log10(gain[700]) == pytest.approx(-3.0, abs=0.1)    # Butterworth corner
    assert 20 * np.log10(gain[3000]) == pytest.approx(0.0, abs=0.2)


@pytest.mark.parametrize("cutoff, rate", [(0.0, 16000), (8000.0, 16000), (-5.0, 8000)])
def test_highpass_rejects_cutoff_outside_band(cutoff, rate):
    with pytest.raises(ValueError, match="cutoff"):
        highpass_coefficients(cutoff, rate)


# ---------------------------------------------------------------- frame energy

@pytest.mark.parametrize("n, frame_len", [(0, 480), (479, 480), (480, 480), (4801, 480), (1000, 1)])
def test_frame_energy_matches_reference(rng, n, frame_len):
    x = (rng.standard_normal(n) * rng.uniform(1e-4, 0.5)).astype(np.float32)
    got = frame_energy_db(x, frame_len)
    assert got.shape == (n // frame_len,) and got.dtype == np.float32
    np.testing.assert_allclose(got, ref_frame_energy_db(x, frame_len), atol=1e-4)


def test_frame_energy_of_known_signals():
    full_scale_square = np.tile(np.float32([1.0, -1.0]), 240)
    assert frame_energy_db(full_scale_square, 480)[0] == pytest.approx(0.0, abs=1e-6)
    sine = np.sin(2 * np.pi * np.arange(480) / 48).astype(np.float32)  # whole periods
    assert frame_energy_db(sine, 480)[0] == pytest.approx(-3.0103, abs=1e-3)
    assert frame_energy_db(np.zeros(960, np.float32), 480).tolist() == [-120.0, -120.0]


# ---------------------------------------------------------------- level gate

GATE = dict(hop_s=0.03, min_snr_db=3.0, range_db=12.0, floor_rise_db_per_s=1.0, level_tau_s=10.0)


def test_level_gate_hand_made():
    #                  noise     speech    breath (voiced, ~20 dB under)  speech  digital silence
    band = np.float32([-80, -80, -40, -42, -60, -61, -44, -120, -119])
    voiced = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1], dtype=bool)
    got = level_gate(band, voiced, np.full(2, np.nan), **GATE)
    assert got.tolist() == [False, False, True, True, False, False, True, False, False]
    assert got.tolist() == ref_level_gate(band, voiced, **GATE).tolist()


def test_level_gate_floor_rises_slowly_and_falls_at_once():
    # 10 frames at the -100 dB floor, 200 of steady -60 dB, then -90 dB and a -85 dB frame
    band = np.r_[np.full(10, -100.0), np.full(200, -60.0), -90.0, -85.0].astype(np.float32)
    state = np.full(2, np.nan)
    params = {**GATE, "floor_rise_db_per_s": 10.0, "range_db": 100.0}  # 0.3 dB a frame; no level test
    got = level_gate(band, np.ones(band.size, bool), state, **params)
    # the floor climbs from -100 at frame 9 by 0.3 dB a frame: -60 > floor + 3 up to frame 9 + 123
    assert not got[:10].any() and got[10:133].all() and not got[133:210].any()
    assert got[211] and state[0] == pytest.approx(-90.0 + 0.3)  # the floor fell to -90 at once
    assert got.tolist() == ref_level_gate(band, np.ones(band.size, bool), **params).tolist()


@pytest.mark.parametrize("n", [0, 1, 2, 500])
def test_level_gate_matches_reference_on_random_input(rng, n):
    band = rng.uniform(-110, -10, n).astype(np.float32)
    voiced = rng.random(n) < 0.6
    for params in (GATE, {**GATE, "min_snr_db": 0.0, "range_db": 30.0, "level_tau_s": 0.01}):
        got = level_gate(band, voiced, np.full(2, np.nan), **params)
        assert got.tolist() == ref_level_gate(band, voiced, **params).tolist()


def test_level_gate_in_blocks_equals_one_call(rng):
    band = rng.uniform(-90, -20, 400).astype(np.float32)
    voiced = rng.random(400) < 0.5
    whole = level_gate(band, voiced, np.full(2, np.nan), **GATE)
    state = np.full(2, np.nan)
    cuts = np.sort(rng.integers(0, 400, 9))
    parts = [level_gate(b, v, state, **GATE) for b, v in zip(np.split(band, cuts), np.split(voiced, cuts))]
    assert np.concatenate(parts).tolist() == whole.tolist()


def test_level_gate_all_speech_and_all_silence():
    loud = np.full(100, -30.0, np.float32)
    assert level_gate(loud, np.ones(100, bool), np.full(2, np.nan), **GATE).all()
    assert not level_gate(loud, np.zeros(100, bool), np.full(2, np.nan), **GATE).any()
    silent = np.full(100, -120.0, np.float32)
    assert not level_gate(silent, np.ones(100, bool), np.full(2, np.nan), **GATE).any()


# ---------------------------------------------------------------- smoothing

def test_smooth_hand_made():
    s = np.array([0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0], dtype=bool)
    # fill gaps < 3: the 2-frame gap goes, the 3-frame gap stays; drop runs < 2: the lone frame 8 goes
    assert smooth_frames(s, fill_frames=3, min_frames=2, pad_frames=0, hang_frames=0).astype(int).tolist() == \
        [0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0]
    # pad 1 before, hang 2 after, clipped at the array ends
    assert smooth_frames(s, fill_frames=3, min_frames=2, pad_frames=1, hang_frames=2).astype(int).tolist() == \
        [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    # a leading or trailing silence is never "filled"
    edge = np.array([0, 0, 1, 1, 0, 0], dtype=bool)
    assert smooth_frames(edge, fill_frames=10, min_frames=0, pad_frames=0, hang_frames=0).tolist() == edge.tolist()


def test_smooth_speech_converts_seconds_with_the_frame_hop():
    cfg = default_config().replace("vad", min_pause_s=0.09, min_speech_s=0.06, onset_pad_s=0.03,
                                   hangover_s=0.06).vad
    s = np.array([0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], dtype=bool)
    want = smooth_frames(s, fill_frames=3, min_frames=2, pad_frames=1, hang_frames=2)
    assert smooth_speech(s, hop_s=0.03, config=cfg).tolist() == want.tolist()


@pytest.mark.parametrize("n", [0, 1, 7, 300])
@pytest.mark.parametrize("fill, min_len, pad, hang", [(0, 0, 0, 0), (3, 2, 1, 2), (1, 5, 0, 4), (8, 1, 6, 0)])
def test_smooth_matches_reference_on_random_input(rng, n, fill, min_len, pad, hang):
    for p in (0.05, 0.3, 0.8):
        s = random_speech(rng, n, p)
        got = smooth_frames(s, fill_frames=fill, min_frames=min_len, pad_frames=pad, hang_frames=hang)
        assert got.tolist() == ref_smooth(s, fill, min_len, pad, hang).tolist()


def test_smooth_all_speech_all_silence_and_input_untouched():
    for s in (np.ones(50, bool), np.zeros(50, bool)):
        before = s.copy()
        got = smooth_frames(s, fill_frames=5, min_frames=3, pad_frames=2, hang_frames=4)
        assert got.tolist() == s.tolist() and s.tolist() == before.tolist()
    assert smooth_frames(np.ones(2, bool), fill_frames=0, min_frames=3, pad_frames=0, hang_frames=0).sum() == 0


# ---------------------------------------------------------------- frames <-> segments

def test_speech_segments_hand_made():
    starts, ends = speech_segments(np.array([0, 1, 1, 0, 1], bool), hop_s=0.03, t0=1.0)
    np.testing.assert_allclose(starts, [1.03, 1.12])
    np.testing.assert_allclose(ends, [1.09, 1.15])
    assert starts.dtype == np.float64
    for s in (np.zeros(0, bool), np.zeros(9, bool)):
        a, b = speech_segments(s, hop_s=0.01)
        assert a.size == 0 and b.size == 0
    a, b = speech_segments(np.ones(9, bool), hop_s=0.01)
    np.testing.assert_allclose(np.r_[a, b], [0.0, 0.09])


@pytest.mark.parametrize("n", [1, 2, 101])
def test_speech_segments_matches_reference_and_round_trips(rng, n):
    for p in (0.1, 0.5, 0.9):
        s = random_speech(rng, n, p)
        starts, ends = speech_segments(s, hop_s=0.02, t0=3.0)
        runs = ref_runs(s)
        np.testing.assert_allclose(starts, [3.0 + a * 0.02 for a, _ in runs])
        np.testing.assert_allclose(ends, [3.0 + b * 0.02 for _, b in runs])
        assert segments_to_frames(starts, ends, frames=n, hop_s=0.02, t0=3.0).tolist() == s.tolist()


def test_segments_to_frames_matches_reference(rng):
    starts = rng.uniform(-1.0, 10.0, 40)
    ends = starts + rng.uniform(0.0, 1.5, 40)
    for frames, hop_s, t0 in ((1000, 0.01, 0.0), (333, 0.03, 0.5), (0, 0.01, 0.0)):
        got = segments_to_frames(starts, ends, frames=frames, hop_s=hop_s, t0=t0)
        assert got.tolist() == ref_segments_to_frames(starts, ends, frames, hop_s, t0).tolist()
    assert not segments_to_frames(np.zeros(0), np.zeros(0), frames=5, hop_s=0.01).any()


# ---------------------------------------------------------------- the detector

def voiced_bursts(rate=16000, seconds=4.0, seed=0):
    """A buzz with formant-like spectrum, on for 1 s, off for 1 s, in faint noise (webrtcvad calls it speech)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    phase = np.cumsum(120 + 20 * np.sin(np.pi * t)) / rate
    buzz = sum(np.sin(2 * np.pi * h * phase) / h for h in range(1, 30))
    return (0.05 * buzz * ((t % 2) < 1.0) + 5e-4 * rng.standard_normal(t.size)).astype(np.float32)


def test_detector_streams_in_any_blocks_like_one_pass(rng):
    x = np.stack([voiced_bursts(seed=1), voiced_bursts(seed=2)[::-1].copy()])
    whole = detect_speech(x, 16000, config=CONFIG)
    assert whole.speech.any() and not whole.speech.all()
    detector = VoiceActivityDetector(config=CONFIG, channels=2)
    cuts = np.sort(np.r_[rng.integers(0, x.shape[1], 25), 17, 17])  # includes an empty block
    t = 2.5
    for part in np.split(x, cuts, axis=1):
        detector.feed(AudioBlock(part, t, 16000))
        t += part.shape[1] / 16000
        assert all(a.pending < a.frame_len for a in detector._analyzers)
    streamed = detector.finish()
    assert streamed.t0 == 2.5 and streamed.hop_s == whole.hop_s == CONFIG.frame_ms / 1000
    np.testing.assert_array_equal(streamed.speech, whole.speech)
    np.testing.assert_array_equal(streamed.level_db, whole.level_db)


def test_detector_channels_are_independent_and_level_is_raw_energy():
    a, b = voiced_bursts(seed=3), 0.1 * voiced_bursts(seed=4)
    both = detect_speech(np.stack([a, b]), 16000, config=CONFIG)
    for ch, x in enumerate((a, b)):
        alone = detect_speech(x, 16000, config=CONFIG)
        np.testing.assert_array_equal(both.speech[ch], alone.speech[0])
        frame = 16000 * CONFIG.frame_ms // 1000
        want = ref_frame_energy_db(x[:x.size // frame * frame], frame)
        np.testing.assert_allclose(both.level_db[ch], want, atol=1e-4)
    assert both.speech.shape == both.level_db.shape == (2, a.size // frame)
    assert both.speech.dtype == np.bool_ and both.level_db.dtype == np.float32


def test_detector_silence_and_empty_input():
    silent = detect_speech(np.zeros(16000, np.float32), 16000, config=CONFIG)
    assert not silent.speech.any() and (silent.level_db == -120.0).all()
    empty = detect_speech(np.zeros((1, 0), np.float32), 16000, config=CONFIG)
    assert empty.speech.shape == (1, 0) and empty.level_db.shape == (1, 0) and empty.t0 == 0.0
    tail = detect_speech(np.zeros(479, np.float32), 16000, config=CONFIG)
    assert tail.frames == 0


@pytest.mark.parametrize("rate", RATES)
def test_detector_takes_every_webrtcvad_rate(rate):
    """Frames are frame_ms long at every rate (speech truth at several rates is in test_vad_realdata)."""
    x = voiced_bursts(rate=rate, seconds=2.0)
    va = detect_speech(x, rate, config=CONFIG)
    frame = rate * CONFIG.frame_ms // 1000
    assert va.frames == x.size // frame and va.hop_s == CONFIG.frame_ms / 1000
    np.testing.assert_allclose(va.level_db[0], ref_frame_energy_db(x[:va.frames * frame], frame), atol=1e-4)


def test_detector_rejects_bad_input():
    with pytest.raises(InputError, match="44100 Hz"):
        VoiceActivityDetector(config=CONFIG, rate=44100)
    with pytest.raises(InputError, match="at least one channel"):
        VoiceActivityDetector(config=CONFIG, channels=0)
    det = VoiceActivityDetector(config=CONFIG, channels=2)
    with pytest.raises(InputError, match=r"expected \[2, n\]"):
        det.feed(AudioBlock(np.zeros((1, 100), np.float32), 0.0, 16000))
    with pytest.raises(InputError, match="8000 Hz"):
        det.feed(AudioBlock(np.zeros((2, 100), np.float32), 0.0, 8000))
    det.feed(AudioBlock(np.zeros((2, 1600), np.float32), 0.0, 16000))
    with pytest.raises(InputError, match="contiguous"):
        det.feed(AudioBlock(np.zeros((2, 1600), np.float32), 0.5, 16000))
    bad = np.zeros((2, 1600), np.float32)
    bad[1, 7] = np.nan
    with pytest.raises(InputError, match="NaN"):
        det.feed(AudioBlock(bad, 0.1, 16000))
    with pytest.raises(InputError, match="shape"):
        detect_speech(np.zeros((1, 2, 3), np.float32), 16000, config=CONFIG)
    det.finish()
    with pytest.raises(RuntimeError):
        det.feed(AudioBlock(np.zeros((2, 10), np.float32), 0.2, 16000))


@pytest.mark.parametrize("key, value", [("frame_ms", 25), ("aggressiveness", 4), ("highpass_hz", 0.0),
                                        ("range_db", 0.0), ("hangover_s", -0.1), ("level_tau_s", 0.0)])
def test_config_rejects_out_of_range_values(key, value):
    with pytest.raises(ConfigError, match=key):
        default_config().replace("vad", **{key: value})
