"""End to end: a generated conversation with exact truth goes through the same path as any recording."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.config import default_config
from attunement.session.runners.offline import review_file
from attunement.sources.wav import write_wav
from attunement.demo.conversation import practice_conversation
from attunement.summary.json_out import review_to_json
from attunement.summary.text import summarize

CONFIG = default_config()
FRAME = CONFIG.vad.frame_ms / 1000.0  # "timing within one VAD frame"


@pytest.fixture(scope="module")
def two_mics(tmp_path_factory):
    convo = practice_conversation(seed=0, channels=2, leak_db=15.0)
    path = tmp_path_factory.mktemp("demo") / "practice.wav"
    write_wav(path, convo.audio, convo.rate)
    return convo, review_file(path, config=CONFIG, channels_are_speakers=True, speaker_names=convo.speakers)


def test_segments_match_truth_within_a_frame(two_mics):
    convo, review = two_mics
    assert review.speakers == convo.speakers
    for spk in convo.speakers:
        truth = [s for s in convo.segments if s.speaker == spk]
        found = [s for s in review.segments if s.speaker == spk]
        assert len(found) == len(truth), (spk, found, truth)
        for t, f in zip(truth, found):
            assert abs(f.start - t.start) <= FRAME and abs(f.end - t.end) <= FRAME, (t, f)


def test_events_match_truth(two_mics):
    convo, review = two_mics
    tt, exp = review.turn_taking, convo.expected
    assert [(i.by, i.of) for i in tt.interruptions] == [(e["by"], e["of"]) for e in exp["interruptions"]]
    for got, want in zip(tt.interruptions, exp["interruptions"]):
        assert got.t == pytest.approx(want["t"], abs=FRAME)
        assert got.overlap_s == pytest.approx(want["overlap_s"], abs=2 * FRAME)
    assert [(b.by, b.during) for b in tt.backchannels] == [(e["by"], e["during"]) for e in exp["backchannels"]]
    for got, want in zip(tt.backchannels, exp["backchannels"]):
        assert got.t == pytest.approx(want["t"], abs=FRAME)
    assert len(tt.attempted_interruptions) == len(exp["attempted_interruptions"])
    np.testing.assert_allclose(tt.floor_transfer_offsets_s, exp["floor_transfer_offsets_s"], atol=2 * FRAME)


def test_talk_shares_match_truth(two_mics):
    convo, review = two_mics
    talk = {s: sum(x.duration for x in convo.segments if x.speaker == s) for s in convo.speakers}
    total = sum(talk.values())
    for s in convo.speakers:
        assert review.turn_taking.per_speaker[s].talk_share == pytest.approx(talk[s] / total, abs=0.01)


def test_json_and_summary(two_mics):
    convo, review = two_mics
    doc = review_to_json(review)
    assert doc["duration_s"] == pytest.approx(convo.audio.shape[1] / convo.rate, abs=0.01)
    assert {s["speaker"] for s in doc["segments"]} == set(convo.speakers)
    assert set(doc["turn_taking"]["per_speaker"]) == set(convo.speakers)
    summary = summarize(review, config=CONFIG.summary)
    assert summary.strengths and len(summary.suggestions) <= 2
    assert any("at once" in s for s in summary.suggestions)  # the one interruption is named, kindly


def test_one_shared_microphone_is_one_track(tmp_path):
    convo = practice_conversation(seed=0, channels=1)
    path = tmp_path / "mono.wav"
    write_wav(path, convo.audio, convo.rate)
    review = review_file(path, config=CONFIG, num_speakers=1)
    assert review.speakers == ("speaker",)
    # union of the truth: overlapping speech of two people is one stretch of speech here
    union, (start, end) = [], (None, None)
    for s in sorted(convo.segments):
        if start is None or s.start > end + CONFIG.turns.bridge_pause_s:
            if start is not None:
                union.append((start, end))
            start, end = s.start, s.end
        else:
            end = max(end, s.end)
    union.append((start, end))
    found = [(s.start, s.end) for s in review.segments]
    assert len(found) == len(union)
    np.testing.assert_allclose(found, union, atol=FRAME)
