"""The numba kernels agree with their C reference versions in native/ (the correctness oracle)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "native"))
import oracle  # noqa: E402

from attunement.conversation.speakers import suppress_leak  # noqa: E402
from attunement.perception.vad_kernels import frame_energy_db, highpass, highpass_coefficients  # noqa: E402

native = oracle.load()
pytestmark = pytest.mark.skipif(native is None, reason=f"C oracle unavailable: {oracle.why_not}")


def test_highpass_matches_c_across_blocks(rng):
    x = rng.standard_normal(16000).astype(np.float32) * 0.1
    coef = highpass_coefficients(700.0, 16000)
    s_numba, s_c = np.zeros(2), np.zeros(2)
    for block in np.array_split(x, 7):
        np.testing.assert_allclose(highpass(block, coef, s_numba), native.highpass(block, coef, s_c), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(s_numba, s_c, rtol=1e-9)


@pytest.mark.parametrize("frame_len", [1, 160, 480])
def test_frame_energy_matches_c(rng, frame_len):
    x = (rng.standard_normal(48_017) * rng.uniform(0, 0.5)).astype(np.float32)
    x[:frame_len] = 0.0  # digital silence reads -120 dB in both
    np.testing.assert_allclose(frame_energy_db(x, frame_len), native.frame_energy_db(x, frame_len), atol=1e-4)


def test_suppress_leak_matches_c(rng):
    speech = rng.random((4, 3000)) < 0.5
    level = rng.uniform(-80, 0, (4, 3000)).astype(np.float32)
    np.testing.assert_array_equal(suppress_leak(speech, level, margin_db=9.0),
                                  native.suppress_leak(speech, level, margin_db=9.0))
