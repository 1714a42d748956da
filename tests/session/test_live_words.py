"""Words during a live session: transcribed on a worker as the session runs (closed speech stretches
only), handed to the final speakers at the end; the summary printed at the end is the one kept."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.config import default_config
from attunement.records import Segment, VadFrames
from attunement.session.live_words import SpeechRuns
from attunement.session.runners.live import run_session
from attunement.session.store.ending import ended_summary
from attunement.sources.clock import SessionClock
from attunement.sources.microphone import Microphone
from attunement.summary.json_out import review_to_json
from attunement.summary.text import summarize

CONFIG = default_config()


def _frames(flags, t0=0.0, hop=0.03):
    x = np.array(flags, bool)[None]
    return VadFrames(gated=x, audible=np.zeros_like(x), voiced=np.zeros_like(x),
                     level_db=np.zeros(x.shape, np.float32), hop_s=hop, t0=t0)


def test_speech_runs_close_after_enough_silence_across_feeds():
    runs = SpeechRuns(["a"], close_after_s=0.09)  # three frames of 30 ms
    assert runs.feed(_frames([0, 1, 1, 0, 0])) == []           # two silent frames: still open
    assert runs.open_start == pytest.approx(0.03)
    closed = runs.feed(_frames([0, 0, 1], t0=0.15))          # the third silent frame closes it
    assert closed == [Segment(pytest.approx(0.03), pytest.approx(0.09), "a")]
    assert runs.open_start == pytest.approx(0.21)             # a new stretch began
    assert runs.close() == [Segment(pytest.approx(0.21), pytest.approx(0.24), "a")]


@pytest.mark.realdata
@pytest.mark.slow
def test_a_live_session_on_real_speech_has_its_words_at_the_end(shared_data, tmp_path):
    wav = shared_data / "conversations" / "sample.wav"
    reviews = {}
    for keep in (False, True):
        with Microphone(wav, pace=0, clock=SessionClock(), start=0.0) as mic:
            result = run_session(mic=mic, config=CONFIG, num_speakers=2, root=tmp_path / str(keep), words=True,
                                 keep_words=keep)
        reviews[keep] = result
    kept = reviews[True].review
    said = " ".join(u.text for u in kept.words).lower()
    assert "new jersey" in said and "chicago" in said, said      # what the two people say in sample.wav
    assert {u.speaker for u in kept.words} <= set(kept.speakers)
    result = reviews[False]
    review = result.review
    assert review.words, "no words were heard"
    assert all(u.text == "" for u in review.words)               # not kept: times and labels only
    lang = review_to_json(review)["language"]
    assert lang["words_kept"] is False and all("text" not in u for u in lang["utterances"])
    assert lang["per_speaker"] == review_to_json(kept)["language"]["per_speaker"]  # keeping words changes no count
    assert ended_summary(result.folder) == summarize(review, config=CONFIG.summary).text()
    for f in result.folder.iterdir():                              # the text is nowhere in the folder
        assert b"jersey" not in f.read_bytes().lower(), f.name
