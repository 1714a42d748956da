"""The diarizer's oracles (evaluation/oracle.py) on a synthetic segmentation whose truth is exact:
each window's local speakers are the reference's voices in a shuffled order, plus a phantom."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.conversation import segmentation as sg
from attunement.conversation.neural_frames import reconstruct
from attunement.conversation.neural_records import Diarization
from attunement.evaluation.der import diarization_error
from attunement.evaluation.oracle import frame_times, oracle_clusters, oracle_count_active, unheard_share
from attunement.intervals import inside
from attunement.records import Segment as S

#: 18 s in three 10 s windows 4 s apart: A 0.5-4, B 3-8 (overlap 3-4), nobody 8-10, A 10-14.5
REF = [S(0.5, 4.0, "A"), S(3.0, 8.0, "B"), S(10.0, 14.5, "A")]
STARTS = np.array([0, 4 * sg.RATE, 8 * sg.RATE])
#: local slot of A and of B in each window (slot 2 holds a phantom voice in window 1)
SLOTS = [(2, 0), (1, 2), (0, 1)]
PHANTOM = (8.2, 9.6)


def segmentation(reference=REF) -> sg.Segmentation:
    t = frame_times(sg.Segmentation(np.zeros((len(STARTS), sg.FRAMES, 3), np.float32), STARTS))
    act = np.zeros((len(STARTS), sg.FRAMES, 3), np.float32)
    for w, slots in enumerate(SLOTS):
        for who, k in zip("AB", slots):
            act[w, :, k] = inside(t[w], [s for s in reference if s.speaker == who])
    act[1, :, 0] = (t[1] >= PHANTOM[0]) & (t[1] < PHANTOM[1])  # window 1's slot 0: speech no one said
    return sg.Segmentation(act, STARTS)


def test_each_window_maps_its_local_speakers_to_the_right_voice():
    clusters, ids = oracle_clusters(segmentation(), REF)
    assert ids == ["A", "B"]
    want = np.full((3, 3), -1)
    for w, (a, b) in enumerate(SLOTS):
        want[w, a], want[w, b] = 0, 1
    want[2, 1] = -1           # window 2 (8-18 s) hears no B: slot 1 silent, nothing to map
    assert np.array_equal(clusters, want)


def test_many_to_one_joins_a_voice_split_inside_a_window():
    seg = segmentation()
    t = frame_times(seg)[0]
    a = seg.activity[0, :, 2].copy()
    seg.activity[0, :, 2] = a * (t < 2.0)          # A's first stretch in slot 2, the rest in slot 1
    seg.activity[0, :, 1] = a * (t >= 2.0)
    one, _ = oracle_clusters(seg, REF)
    many, _ = oracle_clusters(seg, REF, one_to_one=False)
    assert sorted(one[0]) == [-1, 0, 1]              # one-to-one: the smaller part of A is left over
    assert list(many[0]) == [1, 0, 0]                # many-to-one: both parts go to A


def test_the_oracle_clustering_rebuilds_the_reference():
    seg = segmentation()
    clusters, ids = oracle_clusters(seg, REF)
    active, count = reconstruct(seg, clusters)
    hyp = [S(s.start, s.end, ids[int(s.speaker.removeprefix("speaker")) - 1])
           for s in Diarization(active, count).segments(end_s=18.0)]
    e = diarization_error(REF, hyp, uem=(0.0, 18.0))
    assert e.confusion_s == 0.0 and e.missed_s < 0.05 and e.false_alarm_s < 0.05
    # the phantom is heard in window 1 only, one of the three there: rounded away, given to no one
    assert not any(s.start < PHANTOM[1] and s.end > PHANTOM[0] for s in hyp)


def test_the_reference_count_keeps_speech_one_window_of_three_hears():
    ref = REF + [S(8.6, 9.4, "A")]                 # heard by window 0 (0-10 s) only, not by windows 1 and 2
    seg = segmentation(ref)
    t = frame_times(seg)
    seg.activity[1, :, 0] = 0.0                    # no phantom here
    for w in (1, 2):
        seg.activity[w, :, SLOTS[w][0]] = inside(t[w], [s for s in REF if s.speaker == "A"])
    clusters, _ = oracle_clusters(seg, ref)
    mean_count, _ = reconstruct(seg, clusters)
    frame = int(round((9.0 - sg.FRAME_DURATION_S / 2) / sg.FRAME_STEP_S))
    assert not mean_count[frame].any()                        # 1 local speaker over 3 windows rounds to 0
    active = oracle_count_active(seg, clusters, ref)
    assert active[frame].tolist() == [True, False]            # the reference's count: A, who window 0 heard
    assert active[int(round((3.5 - sg.FRAME_DURATION_S / 2) / sg.FRAME_STEP_S))].tolist() == [True, True]


def test_unheard_share_speech_is_what_no_window_hears():
    seg = segmentation()
    assert unheard_share(seg, REF, (0.0, 18.0)) == pytest.approx(0.0, abs=0.005)  # edge frames only
    t = frame_times(seg)
    for w, (a, b) in enumerate(SLOTS):
        seg.activity[w, :, b] *= ~(((t[w] >= 5.0) & (t[w] < 6.0)) | ((t[w] >= 3.0) & (t[w] < 4.0)))  # B unheard 3-4, 5-6 s
    total = 3.5 + 5.0 + 4.5                       # reference speech, speaker-seconds
    assert unheard_share(seg, REF, (0.0, 18.0)) == pytest.approx(1.0 / total, abs=0.005)  # 5-6 s; 3-4 s A is heard
    assert unheard_share(seg, REF, (5.5, 18.0)) == pytest.approx(0.5 / 7.0, abs=0.005)  # within the UEM only: B 5.5-8, A 10-14.5
