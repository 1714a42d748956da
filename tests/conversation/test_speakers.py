import numpy as np
import pytest

from attunement.conversation.speakers import channel_names, refill_masked, suppress_leak
from attunement.errors import InputError
from tests import naive


def test_leak_is_dropped_overlap_is_kept():
    # frame 0: A speaks, B's mic hears A 15 dB lower; frame 1: both speak; frame 2: B alone
    speech = np.array([[1, 1, 0, 1], [1, 1, 1, 1]], dtype=bool)
    level = np.array([[-20, -22, -60, -20], [-35, -24, -21, -40]], dtype=np.float32)
    out = suppress_leak(speech, level, margin_db=9.0)
    assert out.tolist() == [[True, True, False, True], [False, True, True, False]]


def test_matches_reference_on_random_input(rng):
    speech = rng.random((3, 500)) < 0.6
    level = rng.uniform(-70, -10, (3, 500)).astype(np.float32)
    for margin in (0.0, 6.0, 9.0, 30.0):
        np.testing.assert_array_equal(suppress_leak(speech, level, margin_db=margin),
                                      naive.suppress_leak(speech, level, margin))


def test_empty_and_silent():
    assert suppress_leak(np.zeros((2, 0), bool), np.zeros((2, 0), np.float32), margin_db=9).shape == (2, 0)
    assert not suppress_leak(np.zeros((2, 5), bool), np.zeros((2, 5), np.float32), margin_db=9).any()


def test_channel_names():
    assert channel_names(2) == ["speaker1", "speaker2"]
    assert channel_names(2, ["ana", "ben"]) == ["ana", "ben"]
    with pytest.raises(InputError, match="for 3 channels"):
        channel_names(3, ["ana", "ben"])
    with pytest.raises(InputError, match="must differ"):
        channel_names(2, ["ana", "ana"])


def test_refill_gives_back_masked_speech_inside_an_unbroken_run():
    speech = np.array([[1, 1, 1, 1, 1, 1, 0, 1, 1, 1]], dtype=bool)
    own = np.array([[1, 0, 0, 1, 0, 0, 0, 0, 0, 1]], dtype=bool)
    # the hole at 1-2 is inside the run and flanked by own speech; 4-5 ends the run masked;
    # 7-8 follows a silence, so it is the neighbour's voice, not the wearer's
    assert refill_masked(speech, own, max_frames=2).astype(int).tolist() == [[1, 1, 1, 1, 0, 0, 0, 0, 0, 1]]
    assert refill_masked(speech, own, max_frames=1).astype(int).tolist() == own.astype(int).tolist()


def test_refill_matches_reference_on_random_input(rng):
    for _ in range(20):
        speech = rng.random((2, 400)) < 0.8
        own = speech & (rng.random((2, 400)) < 0.6)
        for m in (0, 1, 3, 10):
            np.testing.assert_array_equal(refill_masked(speech, own, max_frames=m), naive.refill_masked(speech, own, m))
