"""The partner's echo in a rehearsal: the kernels against their references in tests/naive, on
hand-made, random and NaN-laden levels (moved here from the session tests: they test perception)."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.perception.echo import decide_frames, suppress_echo
from tests import naive


# ---------------------------------------------------------------- echo kernel vs reference

def _echo_args(speech, mic, ref, **kw):
    args = dict(gain_db=-10.0, margin_db=6.0, background_db=-60.0, lag=0, ref_floor_db=-70.0)
    args.update(kw)
    return suppress_echo(speech, mic, ref, **args), naive.suppress_echo(speech, mic, ref, **args)


def test_suppress_echo_hand_made():
    speech = np.array([1, 1, 1, 1, 1, 1, 0, 1], dtype=bool)
    ref = np.array([-120, -30, -30, -30, -120, -120, -120, -120], dtype=np.float32)
    mic = np.array([-50, -40, -25, -41, -45, -55, -20, -30], dtype=np.float32)
    got, want = _echo_args(speech, mic, ref, lag=0)
    # frame 0: ref at frame 1 (t+1) is loud, mic -50 < -40+6; frame 2: -25 > -34 (user); frame 4: window
    # holds frame 3; frame 5: window 4..6 silent -> kept; frame 6 no speech; frame 7 silent ref -> kept.
    assert got.tolist() == [False, False, True, False, False, True, False, True]
    got, want = _echo_args(speech, mic, ref, lag=2)
    # two frames late: frames 2..5 see the line; frame 2 (-25) and frame 4 (-45 < -34) -> user, echo.
    assert got.tolist() == [True, True, True, False, False, False, False, True]
    got, want = _echo_args(speech, mic, ref, lag=0, onset_frames=2, onset_margin_db=3.0)
    # reaching back from frame 2: frame 1 (-40 > -40 + 3?) no: nothing added; with 0 dB margin, frame 1 is.
    assert got.tolist() == want.tolist() == [False, False, True, False, False, True, False, True]
    got, want = _echo_args(speech, mic, ref, lag=0, onset_frames=2, onset_margin_db=-0.5)
    assert got.tolist() == want.tolist() == [False, True, True, False, False, True, False, True]
    assert got.tolist() == want.tolist()


def test_suppress_echo_random_and_nan(rng):
    for _ in range(20):
        n = int(rng.integers(1, 300))
        speech = rng.random(n) < 0.7
        mic = rng.uniform(-80, -10, n).astype(np.float32)
        ref = np.where(rng.random(n) < 0.5, -120, rng.uniform(-60, -10, n)).astype(np.float32)
        ref[rng.random(n) < 0.1] = np.nan
        mic[rng.random(n) < 0.1] = np.nan
        got, want = _echo_args(speech, mic, ref, lag=int(rng.integers(0, 5)), gain_db=float(rng.uniform(-30, 0)),
                               onset_frames=int(rng.integers(0, 8)), onset_margin_db=float(rng.uniform(-100, 4)))
        assert got.tolist() == want.tolist()


def test_suppress_echo_rejects_bad_shapes():
    with pytest.raises(ValueError):
        suppress_echo(np.zeros(3, bool), np.zeros(3), np.zeros(4), gain_db=0, margin_db=6, background_db=-60,
                      lag=1, ref_floor_db=-70)


# ---------------------------------------------------------------- the per-frame decision, kernel vs reference

def _both(level, band, voiced, ref, floor=np.nan, **kw):
    args = dict(rise_db=0.1, min_snr_db=6.0, gain_db=-10.0, margin_db=6.0) | kw
    state = np.full(1, floor)
    got = decide_frames(level, band, voiced, ref, state=state, **args)
    want, want_floor = naive.decide_frames(level, band, voiced, ref, floor, *args.values())
    return got, state[0], want, want_floor


def test_decide_frames_hand_made():
    band = np.array([-60, -30, -30, -59, -30, -30], dtype=np.float32)
    level = band + 2
    voiced = np.array([1, 1, 0, 1, 1, 1], dtype=bool)
    ref = np.array([-np.inf, -np.inf, -np.inf, -np.inf, -20, -40], dtype=np.float32)
    got, floor, want, want_floor = _both(level, band, voiced, ref)
    # frame 0 sets the floor (-60: not above it); 1 loud and voiced; 2 unvoiced; 3 quiet; 4 under the
    # echo (-28 < -20 - 10 + 6 = -24); 5 above it (-28 > -44)
    assert got.tolist() == want.tolist() == [False, True, False, False, False, True]
    assert floor == pytest.approx(want_floor) and floor == pytest.approx(-60 + 0.5, abs=1e-5)


def test_decide_frames_random_and_nan(rng):
    for _ in range(20):
        n = int(rng.integers(0, 200))
        band = rng.uniform(-80, -10, n).astype(np.float32)
        level = (band + rng.uniform(0, 5, n)).astype(np.float32)
        voiced = rng.random(n) < 0.6
        ref = np.where(rng.random(n) < 0.5, -np.inf, rng.uniform(-60, -10, n)).astype(np.float32)
        ref[rng.random(n) < 0.1] = np.nan
        level[rng.random(n) < 0.1] = np.nan
        floor = float(rng.choice([np.nan, -70.0]))
        got, floor_got, want, floor_want = _both(level, band, voiced, ref, floor, gain_db=float(rng.uniform(-30, 0)))
        assert got.tolist() == want.tolist()
        assert floor_got == pytest.approx(floor_want, nan_ok=True)


def test_decide_frames_rejects_bad_shapes():
    with pytest.raises(ValueError):
        decide_frames(np.zeros(3), np.zeros(3), np.zeros(3, bool), np.zeros(4), state=np.full(1, np.nan),
                      rise_db=0.1, min_snr_db=6, gain_db=0, margin_db=6)
