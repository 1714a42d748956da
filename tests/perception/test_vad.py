"""Voice-activity kernels against plain-Python references, and the detector's streaming contract.

Truth on real speech is in test_vad_realdata.py; here the structure is exact and synthetic.
"""

from __future__ import annotations


import numpy as np
import pytest

from attunement.config import default_config
from attunement.errors import ConfigError, InputError
from attunement.perception.vad import RATES, VoiceActivityDetector, detect_speech, speech_segments
from attunement.perception import vad as vad_module
from attunement.perception.vad_kernels import (audible_frames, extend_speech,
                                               fill_sounding_pauses, frame_energy_db, highpass,
                                               highpass_coefficients, level_gate, segments_to_frames,
                                               smooth_frames, smooth_speech)
from attunement.records import AudioBlock
from tests import naive

CONFIG = default_config().vad


def random_speech(rng, n, p_switch=0.3):
    """bool [n] with runs of random length."""
    return (np.cumsum(rng.random(n) < p_switch) % 2).astype(bool)


# ---------------------------------------------------------------- high-pass

def test_highpass_matches_reference_and_butterworth(rng):
    coef = highpass_coefficients(700.0, 16000)
    x = rng.standard_normal(3000).astype(np.float32)
    np.testing.assert_allclose(highpass(x, coef, np.zeros(2)), naive.highpass(x, coef, None), atol=1e-5)
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
    np.testing.assert_allclose(got, naive.frame_energy_db(x, frame_len), atol=1e-4)


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
    assert got.tolist() == naive.level_gate(band, voiced, **GATE).tolist()


def test_level_gate_floor_rises_slowly_and_falls_at_once():
    # 10 frames at the -100 dB floor, 200 of steady -60 dB, then -90 dB and a -85 dB frame
    band = np.r_[np.full(10, -100.0), np.full(200, -60.0), -90.0, -85.0].astype(np.float32)
    state = np.full(2, np.nan)
    params = {**GATE, "floor_rise_db_per_s": 10.0, "range_db": 100.0}  # 0.3 dB a frame; no level test
    got = level_gate(band, np.ones(band.size, bool), state, **params)
    # the floor climbs from -100 at frame 9 by 0.3 dB a frame: -60 > floor + 3 up to frame 9 + 123
    assert not got[:10].any() and got[10:133].all() and not got[133:210].any()
    assert got[211] and state[0] == pytest.approx(-90.0 + 0.3)  # the floor fell to -90 at once
    assert got.tolist() == naive.level_gate(band, np.ones(band.size, bool), **params).tolist()


@pytest.mark.parametrize("n", [0, 1, 2, 500])
def test_level_gate_matches_reference_on_random_input(rng, n):
    band = rng.uniform(-110, -10, n).astype(np.float32)
    voiced = rng.random(n) < 0.6
    for params in (GATE, {**GATE, "min_snr_db": 0.0, "range_db": 30.0, "level_tau_s": 0.01}):
        got = level_gate(band, voiced, np.full(2, np.nan), **params)
        assert got.tolist() == naive.level_gate(band, voiced, **params).tolist()


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


def test_smooth_speech_is_fill_drop_extend_fill_in_frames(rng):
    cfg = default_config().replace("vad", min_pause_s=0.09, min_speech_s=0.06, extend_before_s=0.03,
                                   extend_after_s=0.06, sounding_pause_s=0.3, sounding_share=0.5).vad
    for n in (0, 1, 14, 400):
        for p in (0.1, 0.4):
            s, audible, sounding = random_speech(rng, n, p), rng.random(n) < 0.6, rng.random(n) < 0.5
            grown = naive.extend_speech(naive.smooth_frames(s, 3, 2, 0, 0), audible, 1, 2)
            want = naive.fill_sounding_pauses(naive.smooth_frames(grown, 3, 0, 0, 0), sounding, 10, 0.5)
            got = smooth_speech(s, audible, sounding, hop_s=0.03, config=cfg)
            assert got.tolist() == want.tolist()
            alone = naive.extend_speech(naive.smooth_frames(s, 0, 2, 0, 0), audible, 1, 2)
            got = smooth_speech(s, audible, sounding, hop_s=0.03, config=cfg, fill_pauses=False)
            assert got.tolist() == alone.tolist()


def test_fill_sounding_pauses_hand_made():
    s = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1], dtype=bool)
    sounding = np.array([0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0], dtype=bool)
    # pauses: 3 frames 2/3 sounding, 4 frames 2/4 sounding, 2 frames 2/2 sounding; the edges are never pauses
    assert fill_sounding_pauses(s, sounding, max_frames=4, share=0.6).astype(int).tolist() == \
        [1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]
    assert fill_sounding_pauses(s, sounding, max_frames=4, share=0.5).all()
    assert fill_sounding_pauses(s, sounding, max_frames=2, share=0.0).astype(int).tolist() == \
        [1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1]
    edge = np.array([0, 0, 1, 0, 1, 0], dtype=bool)
    assert fill_sounding_pauses(edge, np.ones(6, bool), max_frames=9, share=1.0).astype(int).tolist() == \
        [0, 0, 1, 1, 1, 0]


@pytest.mark.parametrize("n", [0, 1, 7, 300])
@pytest.mark.parametrize("max_frames, share", [(0, 0.5), (3, 0.0), (10, 0.6), (40, 1.0)])
def test_fill_sounding_pauses_matches_reference_on_random_input(rng, n, max_frames, share):
    for p_speech, p_sounding in ((0.05, 0.9), (0.3, 0.5), (0.8, 0.2)):
        s, sounding = random_speech(rng, n, p_speech), rng.random(n) < p_sounding
        got = fill_sounding_pauses(s, sounding, max_frames=max_frames, share=share)
        assert got.tolist() == naive.fill_sounding_pauses(s, sounding, max_frames, share).tolist()


def test_fill_sounding_pauses_rejects_bad_input():
    with pytest.raises(ValueError, match="equal 1-D"):
        fill_sounding_pauses(np.zeros(3, bool), np.zeros(2, bool), max_frames=1, share=0.5)
    with pytest.raises(ValueError, match="share"):
        fill_sounding_pauses(np.zeros(3, bool), np.zeros(3, bool), max_frames=1, share=1.5)


@pytest.mark.parametrize("n", [0, 1, 7, 300])
@pytest.mark.parametrize("fill, min_len, pad, hang", [(0, 0, 0, 0), (3, 2, 1, 2), (1, 5, 0, 4), (8, 1, 6, 0)])
def test_smooth_matches_reference_on_random_input(rng, n, fill, min_len, pad, hang):
    for p in (0.05, 0.3, 0.8):
        s = random_speech(rng, n, p)
        got = smooth_frames(s, fill_frames=fill, min_frames=min_len, pad_frames=pad, hang_frames=hang)
        assert got.tolist() == naive.smooth_frames(s, fill, min_len, pad, hang).tolist()


def test_smooth_all_speech_all_silence_and_input_untouched():
    for s in (np.ones(50, bool), np.zeros(50, bool)):
        before = s.copy()
        got = smooth_frames(s, fill_frames=5, min_frames=3, pad_frames=2, hang_frames=4)
        assert got.tolist() == s.tolist() and s.tolist() == before.tolist()
    assert smooth_frames(np.ones(2, bool), fill_frames=0, min_frames=3, pad_frames=0, hang_frames=0).sum() == 0


# ---------------------------------------------------------------- audibility

AUDIBLE = dict(hop_s=0.03, floor_rise_db_per_s=1.0, audible_db=6.0, voiced_audible_db=3.0)


def test_audible_hand_made():
    # background -70; a sound 8 dB up; a voiced frame 3.9 dB up; the floor falls to -75; voice 3.9 up; speech
    level = np.float32([-70, -69, -62, -66, -75, -74.5, -71, -50])
    voiced = np.array([0, 1, 0, 1, 0, 0, 1, 0], dtype=bool)
    state = np.full(1, np.nan)
    got = audible_frames(level, voiced, state, **AUDIBLE)
    assert got.tolist() == [False, False, True, True, False, False, True, True]
    assert got.tolist() == naive.audible_frames(level, voiced, **AUDIBLE).tolist()
    assert state[0] == pytest.approx(-75.0 + 3 * 0.03)


def test_audible_background_starts_at_the_first_frame_and_follows_the_room():
    # opens with speech: nothing is audible until the first quieter frame sets the background
    level = np.r_[np.full(5, -30.0), np.full(100, -65.0), np.full(5, -30.0)].astype(np.float32)
    got = audible_frames(level, np.zeros(level.size, bool), np.full(1, np.nan), **AUDIBLE)
    assert not got[:105].any() and got[105:].all()
    # digital silence is read as FLOOR_MIN_DB, so faint room noise after it is heard
    quiet = np.r_[np.full(10, -120.0), np.full(3, -92.0)].astype(np.float32)
    got = audible_frames(quiet, np.zeros(13, bool), np.full(1, np.nan), **AUDIBLE)
    assert got.tolist() == [False] * 10 + [True] * 3


@pytest.mark.parametrize("n", [0, 1, 2, 500])
def test_audible_matches_reference_on_random_input(rng, n):
    level = rng.uniform(-110, -10, n).astype(np.float32)
    voiced = rng.random(n) < 0.5
    for params in (AUDIBLE, {**AUDIBLE, "floor_rise_db_per_s": 30.0, "audible_db": 0.0, "voiced_audible_db": 0.0}):
        got = audible_frames(level, voiced, np.full(1, np.nan), **params)
        assert got.tolist() == naive.audible_frames(level, voiced, **params).tolist()


def test_audible_in_blocks_equals_one_call(rng):
    level = rng.uniform(-90, -20, 400).astype(np.float32)
    voiced = rng.random(400) < 0.5
    whole = audible_frames(level, voiced, np.full(1, np.nan), **AUDIBLE)
    state = np.full(1, np.nan)
    cuts = np.sort(rng.integers(0, 400, 9))
    parts = [audible_frames(a, v, state, **AUDIBLE) for a, v in zip(np.split(level, cuts), np.split(voiced, cuts))]
    assert np.concatenate(parts).tolist() == whole.tolist()


def test_audible_rejects_bad_shapes():
    with pytest.raises(ValueError, match="equal 1-D"):
        audible_frames(np.zeros(3, np.float32), np.zeros(4, bool), np.full(1, np.nan), **AUDIBLE)
    with pytest.raises(ValueError, match="state"):
        audible_frames(np.zeros(3, np.float32), np.zeros(3, bool), np.full(2, np.nan), **AUDIBLE)


# ---------------------------------------------------------------- extension

def test_extend_hand_made():
    s = np.array([0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0], dtype=bool)
    audible = np.array([1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1], dtype=bool)
    # grows through audible frames only: frame 1 and frame 7 are silent and stop it
    assert extend_speech(s, audible, before_frames=2, after_frames=2).astype(int).tolist() == \
        [0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1]
    # and by at most the given number of frames
    assert extend_speech(s, audible, before_frames=1, after_frames=1).astype(int).tolist() == \
        [0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0]
    assert extend_speech(s, audible, before_frames=0, after_frames=0).tolist() == s.tolist()
    # nothing audible: nothing grows, however far it may reach
    assert extend_speech(s, np.zeros(12, bool), before_frames=9, after_frames=9).tolist() == s.tolist()


@pytest.mark.parametrize("n", [0, 1, 7, 300])
@pytest.mark.parametrize("before, after", [(0, 0), (1, 3), (6, 15), (50, 0)])
def test_extend_matches_reference_on_random_input(rng, n, before, after):
    for p_speech, p_audible in ((0.05, 0.9), (0.3, 0.5), (0.8, 0.2), (0.1, 1.0)):
        s, audible = random_speech(rng, n, p_speech), rng.random(n) < p_audible
        got = extend_speech(s, audible, before_frames=before, after_frames=after)
        assert got.tolist() == naive.extend_speech(s, audible, before, after).tolist()
        assert (got | ~s).all()  # speech is never removed


def test_extend_rejects_bad_input():
    with pytest.raises(ValueError, match="equal 1-D"):
        extend_speech(np.zeros(3, bool), np.zeros(2, bool), before_frames=1, after_frames=1)
    with pytest.raises(ValueError, match=">= 0"):
        extend_speech(np.zeros(3, bool), np.zeros(3, bool), before_frames=-1, after_frames=1)


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
        runs = naive.runs(s)
        np.testing.assert_allclose(starts, [3.0 + a * 0.02 for a, _ in runs])
        np.testing.assert_allclose(ends, [3.0 + b * 0.02 for _, b in runs])
        assert segments_to_frames(starts, ends, frames=n, hop_s=0.02, t0=3.0).tolist() == s.tolist()


def test_segments_to_frames_matches_reference(rng):
    starts = rng.uniform(-1.0, 10.0, 40)
    ends = starts + rng.uniform(0.0, 1.5, 40)
    for frames, hop_s, t0 in ((1000, 0.01, 0.0), (333, 0.03, 0.5), (0, 0.01, 0.0)):
        got = segments_to_frames(starts, ends, frames=frames, hop_s=hop_s, t0=t0)
        assert got.tolist() == naive.segments_to_frames(starts, ends, frames, hop_s, t0).tolist()
    assert not segments_to_frames(np.zeros(0), np.zeros(0), frames=5, hop_s=0.01).any()


# ---------------------------------------------------------------- the detector

def voiced_bursts(rate=16000, seconds=4.0, seed=0):
    """A buzz with formant-like spectrum, on for 1 s, off for 1 s, in faint noise (webrtcvad calls it speech)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    phase = np.cumsum(120 + 20 * np.sin(np.pi * t)) / rate
    buzz = sum(np.sin(2 * np.pi * h * phase) / h for h in range(1, 30))
    return (0.05 * buzz * ((t % 2) < 1.0) + 5e-4 * rng.standard_normal(t.size)).astype(np.float32)


def buzz(n, rate=16000):
    """A unit-RMS 120 Hz buzz (29 harmonics) with 8 ms ramps, like the synthetic voices' edges."""
    t = np.arange(n) / rate
    phase = np.cumsum(120 + 10 * np.sin(2 * np.pi * 3 * t)) / rate
    x = sum(np.sin(2 * np.pi * h * phase) / h for h in range(1, 30))
    return x / np.sqrt(np.mean(x ** 2)) * np.minimum(1, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.008 * rate))


def scene(parts, seconds, seed=0, rate=16000):
    """float32 [n]: white background at -85 dBFS plus (start s, end s, "buzz" or "hiss", dBFS) parts."""
    rng = np.random.default_rng(seed)
    x = 10 ** (-85 / 20) * rng.standard_normal(int(seconds * rate))
    for a, b, kind, db in parts:
        i, j = round(a * rate), round(b * rate)
        x[i:j] += 10 ** (db / 20) * (buzz(j - i) if kind == "buzz" else rng.standard_normal(j - i))
    return x.astype(np.float32)


def test_detector_extends_through_weak_sounds_and_stops_at_silence():
    """A hiss 30 dB under the voice (a final /s/, a breathy onset) joins its word; the background
    never does, and a long hiss only as far as extend_after_s."""
    cfg = default_config().replace("vad", extend_before_s=0.18, extend_after_s=0.45).vad
    x = scene([(0.515, 1.537, "buzz", -26), (1.537, 1.737, "hiss", -55),   # a word-final /s/, 0.2 s
               (2.38, 2.5, "hiss", -55), (2.5, 3.41, "buzz", -26),         # a breathy onset, 0.12 s
               (4.013, 4.8, "buzz", -26), (4.8, 6.3, "hiss", -55)], 7.0)  # 1.5 s of hiss after a word
    va = detect_speech(x, 16000, config=cfg)
    starts, ends = speech_segments(va.speech[0], hop_s=va.hop_s)
    want = [(0.515, 1.737), (2.38, 3.41), (4.013, 4.8 + 0.45)]
    assert len(starts) == len(want), list(zip(starts, ends))
    for (a, b), s, e in zip(want, starts, ends):
        assert abs(s - a) <= va.hop_s and abs(e - b) <= va.hop_s, (a, b, s, e)
    # without the extension, the hisses are not speech: the gate alone hears only the voice
    bare = detect_speech(x, 16000, config=default_config().replace("vad", extend_before_s=0.0,
                                                                  extend_after_s=0.0).vad)
    assert speech_segments(bare.speech[0], hop_s=bare.hop_s)[1][0] < 1.537 + bare.hop_s


def test_detector_fills_pauses_only_on_one_channel():
    """A pause shorter than min_pause_s is filled on one shared channel; with one mic per person
    it is left for the speaker stage, which knows whose voice each side is."""
    cfg = default_config().replace("vad", min_pause_s=0.24).vad
    x = scene([(0.5, 1.5, "buzz", -26), (1.62, 2.5, "buzz", -26)], 3.0)
    runs = lambda va, ch=0: len(speech_segments(va.speech[ch], hop_s=va.hop_s)[0])  # noqa: E731
    assert runs(detect_speech(x, 16000, config=cfg)) == 1
    two = detect_speech(np.stack([x, x]), 16000, config=cfg)
    assert runs(two, 0) == runs(two, 1) == 2
    assert runs(detect_speech(np.stack([x, x]), 16000, config=cfg, fill_pauses=True), 1) == 1
    assert VoiceActivityDetector(config=cfg, channels=2).fill_pauses is False


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


def test_detector_fed_many_small_blocks_keeps_few_parts_and_the_same_result():
    """A live microphone's 20 ms blocks (hundreds of feeds) are joined as they pile up, with the
    same result as one pass; the newest feed's frames stay the last part (the session store reads them)."""
    x = np.stack([voiced_bursts(seconds=12.0, seed=5), voiced_bursts(seconds=12.0, seed=6)])
    whole = detect_speech(x, 16000, config=CONFIG)
    detector = VoiceActivityDetector(config=CONFIG, channels=2)
    step, frames = 320, 0
    for k, start in enumerate(range(0, x.shape[1], step)):
        detector.feed(AudioBlock(x[:, start:start + step], start / 16000, 16000))
        newest = detector._level[1][-1]
        total = sum(p.shape[0] for p in detector._level[1])
        assert newest.shape[0] == total - frames  # the last part is exactly this feed's frames
        frames = total
    assert k + 1 > 2 * vad_module.JOIN_PARTS and len(detector._speech[0]) <= vad_module.JOIN_PARTS
    streamed = detector.finish()
    np.testing.assert_array_equal(streamed.speech, whole.speech)
    np.testing.assert_array_equal(streamed.level_db, whole.level_db)


def test_detector_channels_are_independent_and_level_is_raw_energy():
    a, b = voiced_bursts(seed=3), 0.1 * voiced_bursts(seed=4)
    both = detect_speech(np.stack([a, b]), 16000, config=CONFIG)
    for ch, x in enumerate((a, b)):
        alone = detect_speech(x, 16000, config=CONFIG, fill_pauses=False)  # as for several channels
        np.testing.assert_array_equal(both.speech[ch], alone.speech[0])
        frame = 16000 * CONFIG.frame_ms // 1000
        want = naive.frame_energy_db(x[:x.size // frame * frame], frame)
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
    np.testing.assert_allclose(va.level_db[0], naive.frame_energy_db(x[:va.frames * frame], frame), atol=1e-4)


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
                                        ("range_db", 0.0), ("extend_after_s", -0.1), ("level_tau_s", 0.0),
                                        ("audible_mode", 4), ("extend_before_s", 11.0), ("voiced_audible_db", -1.0),
                                        ("audible_db", 99.0), ("sounding_pause_s", -1.0), ("sounding_share", 1.5)])
def test_config_rejects_out_of_range_values(key, value):
    with pytest.raises(ConfigError, match=key):
        default_config().replace("vad", **{key: value})
