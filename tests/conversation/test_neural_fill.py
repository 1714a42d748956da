"""Missed speech given to the nearest heard speaker (conversation/neural_fill.py): a hand-made case
with its exact answer, the kernel against a plain reference, heard frames never changed."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.conversation import neural_fill as nfill
from attunement.conversation import segmentation as sg
from attunement.conversation.neural_records import HOP_S, Diarization
from attunement.records import VoiceActivity


def nearest_reference(heard, speech):
    """For each frame in a run of speech: the closest heard frame of that run (earlier on ties), else -1."""
    n = heard.size
    out = np.full(n, -1)
    g = 0
    while g < n:
        if not speech[g]:
            g += 1
            continue
        end = g
        while end < n and speech[end]:
            end += 1
        hs = [h for h in range(g, end) if heard[h]]
        for f in range(g, end):
            if hs:
                out[f] = min(hs, key=lambda h: (abs(h - f), h))
        g = end
    return out


def test_kernel_matches_the_reference(rng):
    for _ in range(200):
        n = int(rng.integers(1, 60))
        heard = rng.random(n) < rng.uniform(0, 0.5)
        speech = (rng.random(n) < rng.uniform(0.3, 1)) | heard
        got = np.full(n, -1, dtype=np.int64)
        nfill._nearest_heard(heard, speech, got)
        np.testing.assert_array_equal(got, nearest_reference(heard, speech))


def diarization(n, runs):
    active = np.zeros((n, 3), dtype=bool)
    for c, a, b in runs:
        active[a:b, c] = True
    return Diarization(active, active.sum(axis=1).astype(np.int8))


def test_hand_made_fill():
    # speaker 0 heard on 10-19, speaker 1 on 41-49, speakers 1 and 2 together on 70-74
    d = diarization(100, [(0, 10, 20), (1, 41, 50), (1, 70, 75), (2, 70, 75)])
    speech = np.zeros(100, dtype=bool)
    speech[5:10] = speech[20:41] = True   # one stretch joining both voices: split at the midpoint
    speech[55:60] = True                  # a stretch nobody was heard in: stays empty
    speech[75:80] = True                  # after an overlap: the lower-numbered of the two
    out = nfill.fill_missed(d, speech)
    want = d.active.copy()
    want[5:10, 0] = True
    want[20:31, 0] = True                 # frame 30 is 11 from 19 and 11 from 41: the earlier
    want[31:41, 1] = True
    want[75:80, 1] = True
    np.testing.assert_array_equal(out.active, want)
    np.testing.assert_array_equal(out.count, want.sum(axis=1))


def test_heard_frames_are_never_changed(rng):
    for _ in range(50):
        n = 200
        active = rng.random((n, 3)) < 0.1
        active[rng.random(n) < 0.5] = False
        d = Diarization(active, active.sum(axis=1).astype(np.int8))
        out = nfill.fill_missed(d, rng.random(n) < 0.6)
        heard = active.any(axis=1)
        np.testing.assert_array_equal(out.active[heard], active[heard])
        assert (out.active[~heard].sum(axis=1) <= 1).all()


def test_on_grid_takes_the_detector_frame_under_each_centre():
    d = diarization(10, [])
    # detector frames of 32 ms from t = 0: speech in [0.064, 0.128)
    speech = np.zeros((1, 6), dtype=bool)
    speech[0, 2:4] = True
    act = VoiceActivity(speech, np.zeros((1, 6), np.float32), 0.032, 0.0)
    centres = sg.FRAME_DURATION_S / 2 + np.arange(10) * HOP_S
    np.testing.assert_array_equal(nfill.on_grid(d, act), (centres >= 0.064) & (centres < 0.128))


@pytest.mark.parametrize("threshold", [0.0, 0.1])
def test_the_hook_in_finish(threshold, shared_data):
    """NeuralDiarizer.finish with nn_fill_threshold: never fewer speaking frames than without it."""
    import dataclasses

    from attunement.config import default_config
    from attunement.conversation.neural_diarize import NeuralDiarizer
    from attunement.records import AudioBlock
    from attunement.sources.media import read_audio
    x, _ = read_audio(shared_data / "conversations" / "ami" / "trn04.wav", rate=16000)
    x = (x.mean(axis=0) if x.ndim == 2 else x).astype(np.float32)
    config = default_config().diarization
    heard = {}
    for th in (0.0, threshold):
        d = NeuralDiarizer(config=dataclasses.replace(config, nn_fill_threshold=th, nn_min_heard=0.0))
        d.feed(AudioBlock(x[None], 0.0, 16000))
        d.finish(None, x.size / 16000)
        heard[th] = d.result.count > 0
    assert (heard[threshold] >= heard[0.0]).all()
    if threshold > 0:  # trn04's quietest voice: Silero hears some of what the model missed
        assert heard[threshold].sum() > heard[0.0].sum()
