"""Selection rules of the gentle summary on conversations with known metrics."""

from __future__ import annotations

import re

import pytest

from attunement.config import default_config
from attunement.records import Segment
from attunement.session.review import review_annotation
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
