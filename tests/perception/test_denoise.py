"""Spectral gating (perception/denoise.py): identity at 0 dB, a steady hum lowered by the set
amount, a louder sound that comes and goes kept, the box mean against a plain loop."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.errors import InputError
from attunement.perception import denoise as dn

RATE = 16000


def test_nothing_lowered_gives_the_input_back(rng):
    x = (0.1 * rng.standard_normal(RATE * 3 + 77)).astype(np.float32)
    np.testing.assert_allclose(dn.spectral_gate(x, reduce_db=0.0, block_s=1.0), x, atol=1e-5)
    assert dn.spectral_gate(np.zeros(0, np.float32), reduce_db=12).shape == (0,)
    with pytest.raises(InputError):
        dn.spectral_gate(x[None], reduce_db=12)


def db(x):
    return 10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2))


@pytest.mark.parametrize("reduce_db", [12.0, 20.0])
def test_a_steady_hum_is_lowered_and_a_passing_tone_kept(reduce_db):
    t = np.arange(RATE * 6) / RATE
    # steady, on bin centres far apart (31.25 Hz bins): every frame has the same spectrum
    hum = sum(0.01 * np.sin(2 * np.pi * f * t + f) for f in (250, 750, 1750, 3000))
    tone = 0.3 * np.sin(2 * np.pi * 1000 * t) * ((t >= 2) & (t < 4))             # a third of the time
    y = dn.spectral_gate((hum + tone).astype(np.float32), reduce_db=reduce_db)
    quiet = (t >= 0.5) & (t < 1.5)
    assert db(y[quiet]) == pytest.approx(db(hum[quiet]) - reduce_db, abs=1.0)
    loud = (t >= 2.5) & (t < 3.5)
    assert db(y[loud]) == pytest.approx(db((hum + tone)[loud]), abs=0.5)


def test_box_mean_matches_a_loop(rng):
    a = rng.random((9, 7)).astype(np.float32)
    got = dn.box_mean(a, 5, 3)
    p = np.pad(a, ((2, 2), (1, 1)), mode="edge")
    want = np.array([[p[i:i + 5, j:j + 3].mean() for j in range(7)] for i in range(9)])
    np.testing.assert_allclose(got, want, rtol=1e-6)
