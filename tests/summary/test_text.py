"""Selection rules of the gentle summary on conversations with known metrics."""

from __future__ import annotations

from attunement.summary.cues_json import review_cues

import re

import pytest

from attunement.config import default_config
from attunement.records import Segment
from attunement.session.runners.offline import review_annotation
from attunement.summary.text import clock, summarize

CONFIG = default_config()
GRADE_WORDS = re.compile(r"\b(score|grade|poor|bad|fail\w*|wrong|rating|points?)\b|%|/10", re.I)


def summary_of(segments):
    review = review_annotation(segments, config=CONFIG, source="test")
    return summarize(review, config=CONFIG.summary)


def alternate(turns, first="ann", second="ben", gap=0.2):
    """Alternating turns of the given lengths separated by `gap` seconds."""
    out, t = [], 0.0
    for i, length in enumerate(turns):
        out.append(Segment(t, t + length, first if i % 2 == 0 else second))
        t += length + gap
    return out


def no_grades(summary):
    text = summary.text()
    assert not GRADE_WORDS.search(text), text
    assert len(summary.suggestions) <= 2


def test_balanced_talk_gets_strengths_and_no_suggestions():
    s = summary_of(alternate([5, 4, 6, 5, 4, 5]))
    assert any("shared" in x for x in s.strengths)
    assert any("natural pace" in x for x in s.strengths)
    assert any("let the other finish" in x for x in s.strengths)
    assert s.suggestions == ()
    no_grades(s)


def test_an_interruption_is_named_kindly_with_its_moment():
    segs = alternate([5, 4, 6, 5])
    # ben starts at 3.0 inside ann's first turn (0-5), ann goes on to 5.0, ben goes on to 7.0
    segs = [Segment(0, 5, "ann"), Segment(3.0, 7.0, "ben"), Segment(7.2, 12, "ann"), Segment(12.2, 16, "ben")]
    s = summary_of(segs)
    assert len(s.suggestions) == 1 and "spoke at once" in s.suggestions[0]
    assert clock(3.0) in s.suggestions[0] and "feel heard" in s.suggestions[0]
    assert "interrupt" not in s.text().lower()
    no_grades(s)


def test_backchannels_are_a_strength():
    segs = alternate([6, 6, 6]) + [Segment(2.0, 2.5, "ben")]
    s = summary_of(sorted(segs))
    assert any("mm-hm" in x and clock(2.0) in x for x in s.strengths)


def test_at_most_two_suggestions_in_priority_order():
    # ann holds a 90 s monologue, ben answers late, ben butts in, talk is lopsided
    segs = [Segment(0, 90, "ann"), Segment(20, 23, "ben"), Segment(91.5, 93, "ben"),
            Segment(95, 150, "ann"), Segment(151.5, 153, "ben"), Segment(155, 170, "ann")]
    s = summary_of(segs)
    assert len(s.suggestions) == 2
    assert "spoke at once" in s.suggestions[0]
    assert "ann did most of the talking" in s.suggestions[1]
    no_grades(s)


def test_long_silences_before_answers():
    s = summary_of(alternate([4, 4, 4, 4, 4], gap=1.5))
    assert any("longer silence" in x for x in s.suggestions)
    assert not any("natural pace" in x for x in s.strengths)


def test_monologue_is_mentioned_with_its_start():
    s = summary_of([Segment(0, 5, "ann"), Segment(5.2, 100, "ben"), Segment(100.2, 140, "ann")])
    assert any("One stretch by ben" in x and clock(5.2) in x for x in s.suggestions)


def test_nothing_heard_says_so():
    s = summary_of([])
    assert "no speech" in s.strengths[0] and s.suggestions == ()


@pytest.mark.parametrize("t, text", [(0, "00:00"), (59.6, "01:00"), (134, "02:14"), (3725, "1:02:05")])
def test_clock(t, text):
    assert clock(t) == text


def test_the_user_is_you_and_the_other_your_partner():
    segs = [Segment(0, 90, "me"), Segment(30, 30.5, "partner"), Segment(91, 93, "partner"), Segment(93.2, 95, "me")]
    s = summary_of(segs)
    text = s.text()
    assert "You did most of the talking" in text and "ask your partner an open question" in text
    assert "Your partner showed they were listening" in text and "while you spoke" in text
    assert "One stretch by you" in text
    assert not re.search(r"\bme\b", text) and "partner" not in text.lower().replace("your partner", "")
    no_grades(s)


# --- the phrases file, response gaps against human norms, listening, and can't-see notes ----------

import dataclasses  # noqa: E402
import string  # noqa: E402

import numpy as np  # noqa: E402

from attunement.session.runners.offline import review_file  # noqa: E402
from attunement.summary.text import phrases  # noqa: E402


def test_phrases_file_is_kind_and_every_field_is_filled():
    table = phrases()
    assert set(table) == {"words", "strength", "suggestion", "note", "practice"}
    for section in ("strength", "suggestion", "note", "practice"):
        for key, phrase in table[section].items():
            assert not GRADE_WORDS.search(phrase), (section, key, phrase)
            fields = {f for _, f, _, _ in string.Formatter().parse(phrase) if f}
            phrase.format(**{f: "x" for f in fields})  # a well-formed template


def test_replies_near_the_everyday_norm_are_named_as_such():
    near = summary_of(alternate([4, 4, 4, 4, 4], gap=0.2))
    assert any("natural pace" in x and "fifth of a second" in x for x in near.strengths)
    slower = summary_of(alternate([4, 4, 4, 4, 4], gap=0.6))  # still easy, but not the quick norm
    assert any("natural pace" in x and "fifth of a second" not in x for x in slower.strengths)
    assert not any("longer silence" in x for x in slower.suggestions)


def test_long_silences_name_their_first_moment():
    segs = alternate([4, 4, 4, 4, 4], gap=1.5)
    s = summary_of(segs)
    assert any("longer silence" in x and clock(segs[1].start) in x for x in s.suggestions)


def test_little_speech_is_a_note():
    s = summarize(dataclasses.replace(review_annotation(alternate([1, 1, 1]), config=CONFIG, source="t"),
                                      duration_s=100.0), config=CONFIG.summary)
    assert any("not much here to reflect on" in n for n in s.notes)


def test_one_voice_is_a_note_that_says_how_to_get_turn_taking():
    """A recording where one voice is heard: no turn-taking strengths or suggestions, and a note
    that names the way to more (a speaker count, a channel each); never a claim about others."""
    s = summary_of([Segment(0.5, 4.0, "speaker1"), Segment(4.6, 9.0, "speaker1")])
    assert s.suggestions == () and not any("shared" in x or "let" in x for x in s.strengths)
    assert [n for n in s.notes if "one voice" in n] == [
        "I heard one voice only, so there is nothing here about taking turns. If others spoke too, say how many "
        "(--speakers N) or give each person a channel of their own (--channels-are-speakers)."]


@pytest.fixture(scope="module")
def video_review(demo_clips):
    return demo_clips.review(15.0)  # the first 15 s: both speak, two nods


def with_face(review, **changes):
    vision = dataclasses.replace(review.vision, face=dataclasses.replace(review.vision.face, **changes))
    return dataclasses.replace(review, vision=vision)


def listening_frames(review):
    t = review.vision.times
    me = np.zeros(t.size, bool)
    other = np.zeros(t.size, bool)
    for s in review.segments:
        (me if s.speaker == "me" else other)[(t >= s.start) & (t < s.end)] = True
    return other & ~me


def test_looking_away_while_the_partner_speaks_is_a_suggestion_with_its_moment(video_review):
    listening = listening_frames(video_review)
    first = video_review.vision.times[listening][0]
    review = with_face(video_review, eye_contact=video_review.vision.face.eye_contact & ~listening)
    s = summarize(review, config=CONFIG.summary)
    assert any("While your partner spoke, you looked away" in x and clock(first) in x for x in s.suggestions), s.text()
    assert not any("including while the other was speaking" in x for x in s.strengths)
    no_grades(s)


def test_eye_contact_while_listening_is_a_strength_even_when_speaking_looks_away(video_review):
    listening = listening_frames(video_review)
    review = with_face(video_review, eye_contact=video_review.vision.face.eye_contact & listening)
    cues = review_cues(review)
    assert cues["eye_contact_share"] < 0.6 <= cues["eye_contact_share_listening"]
    s = summarize(review, config=CONFIG.summary)
    assert any("While your partner spoke, you kept looking their way" in x for x in s.strengths), s.text()


def test_frames_without_a_face_are_a_note_with_the_first_moment(video_review):
    t = video_review.vision.times
    gone = t >= 10.0
    face = video_review.vision.face
    review = with_face(video_review, has_face=face.has_face & ~gone, eye_contact=face.eye_contact & ~gone)
    s = summarize(review, config=CONFIG.summary)
    assert any("couldn't see a face" in n and clock(t[gone][0]) in n for n in s.notes), s.text()
    assert summarize(video_review, config=CONFIG.summary).notes == tuple(
        n for n in s.notes if "couldn't see a face" not in n)


def test_no_speech_but_a_face_still_reflects_what_was_seen(demo_clips):
    review = review_file(demo_clips.clip(6.0, silent=True), config=CONFIG)
    s = summarize(review, config=CONFIG.summary)
    assert s.strengths[0].startswith("The person on camera kept eye contact"), s.text()
    assert any("no speech" in n.lower() for n in s.notes) and s.suggestions == ()
    no_grades(s)
