"""The time-reversed segmentation pass (segmentation.reversed_frames, agree_both_ways) on windows
with exact truth, and against a plain frame-by-frame reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from attunement.conversation import segmentation as sg

F = sg.FRAMES


def window(*runs):
    """[589, 3] activity from (local speaker, first frame, end frame) runs."""
    a = np.zeros((F, sg.LOCAL_SPEAKERS), np.float32)
    for k, lo, hi in runs:
        a[lo:hi, k] = 1.0
    return a


def test_reversed_frames_land_on_the_nearest_forward_frame():
    # reversed frame j spans [j * step, j * step + duration] of the reversed window: forward time
    # [10 - j * step - duration, 10 - j * step]; each forward frame i >= 1 must take the j whose
    # span starts nearest its own (i * step), frame 0 (which has none within a frame) the last one
    backward = np.arange(F * 3, dtype=np.float32).reshape(F, 3)
    got = sg.reversed_frames(backward)
    starts = sg.WINDOW_S - np.arange(F) * sg.FRAME_STEP_S - sg.FRAME_DURATION_S
    for i in range(1, F):
        j = int(np.argmin(np.abs(starts - i * sg.FRAME_STEP_S)))
        assert abs(starts[j] - i * sg.FRAME_STEP_S) < 0.002
        np.testing.assert_array_equal(got[i], backward[j])
    np.testing.assert_array_equal(got[0], backward[F - 1])
    # windows in a batch are flipped each on its own
    np.testing.assert_array_equal(sg.reversed_frames(np.stack([backward, 2 * backward]))[1], 2 * got)


def test_a_voice_carried_past_the_backward_end_is_cut():
    # A (forward local 0) talks over frames 0-400; B's backchannel is 100-150, and the forward pass
    # carries B on to 200. The backward pass numbers them differently (B 0, A 1) and carries B's
    # onset early (from 80) but ends it at 150. B is cut at 150-200 and nothing else changes: the
    # early onset is not taken from the backward pass.
    forward = window((0, 0, 400), (2, 100, 200))
    backward = window((1, 0, 400), (0, 80, 150))
    np.testing.assert_array_equal(sg.agree_both_ways(forward, backward), window((0, 0, 400), (2, 100, 150)))


def test_true_overlap_and_voices_the_backward_pass_does_not_hear_are_kept():
    forward = window((0, 0, 500), (1, 100, 200), (2, 260, 300), (1, 350, 380))
    backward = window((2, 0, 500), (0, 100, 200))
    # 100-200: both hear B (true overlap); 260-300 and 350-380: the backward pass never hears that
    # voice there (no frame heard by both just before), so it is a disagreement about the voice
    np.testing.assert_array_equal(sg.agree_both_ways(forward, backward), forward)


def test_frames_with_one_forward_voice_are_never_changed():
    forward = window((0, 0, 300))
    for backward in (window(), window((1, 0, 589)), window((0, 100, 120), (2, 200, 589))):
        np.testing.assert_array_equal(sg.agree_both_ways(forward, backward), forward)


def test_a_cut_stops_where_the_backward_pass_hears_the_voice_again():
    # B runs on 150-200 past the backward end, and the backward pass picks B up again at 200
    forward = window((0, 0, 400), (1, 100, 300))
    backward = window((0, 0, 400), (1, 100, 150), (1, 200, 300))
    np.testing.assert_array_equal(sg.agree_both_ways(forward, backward),
                                  window((0, 0, 400), (1, 100, 150), (1, 200, 300)))


def agree_reference(forward, backward):
    """The rule frame by frame: the best of the 6 matchings by frames heard by both, then per forward
    speaker a stretch of disputed frames (forward hears >= 2, the backward pass one of them but not
    this one) dropped when this speaker was heard by both just before it."""
    f, b = forward > 0.5, backward > 0.5
    best, score = None, -1
    for p in itertools.permutations(range(3)):
        s = sum(int((f[:, k] & b[:, p[k]]).sum()) for k in range(3))
        if s > score:
            best, score = p, s
    m = b[:, list(best)]
    out = forward.copy()
    for k in range(3):
        cutting = False
        for t in range(F):
            if f[t].sum() >= 2 and (f[t] & m[t]).any() and f[t, k] and not m[t, k]:
                if not cutting:  # a stretch starts: cut it if both passes heard the voice just before
                    cutting = t > 0 and f[t - 1, k] and m[t - 1, k]
                if cutting:
                    out[t, k] = 0.0
            else:
                cutting = False
    return out


def blocky(rng):
    """Random activity in runs of 5-80 frames, as the model gives."""
    a = np.zeros((F, 3), np.float32)
    for k in range(3):
        t, on = 0, bool(rng.integers(2))
        while t < F:
            n = int(rng.integers(5, 80))
            a[t:t + n, k] = on
            t, on = t + n, not on
    return a


@pytest.mark.parametrize("seed", range(40))
def test_agree_both_ways_matches_the_frame_by_frame_reference(seed):
    rng = np.random.default_rng(seed)
    forward = blocky(rng)
    # a backward pass that mostly agrees (shuffled labels, runs trimmed and extended) or is random
    if seed % 2:
        backward = blocky(rng)
    else:
        backward = forward[:, rng.permutation(3)].copy()
        backward[rng.random(F) < 0.1] = 0.0
        backward = np.maximum(backward, np.roll(backward, int(rng.integers(-10, 10)), axis=0))
    np.testing.assert_array_equal(sg.agree_both_ways(forward, backward), agree_reference(forward, backward))
