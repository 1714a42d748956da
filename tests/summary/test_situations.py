"""The summary's words fit the situation (issue 13): one voice or several, a review, a live session or
a rehearsal; a strength only where something was done; who spoke over whom; silence said plainly."""

from __future__ import annotations

import dataclasses

from attunement.config import default_config
from attunement.records import Segment
from attunement.session.runners.offline import review_annotation
from attunement.summary.text import summarize

CONFIG = default_config()


def summary_of(segments, kind="review", duration_s=None):
    review = review_annotation(segments, config=CONFIG, source="test", duration_s=duration_s)
    return summarize(dataclasses.replace(review, kind=kind), config=CONFIG.summary)


def test_one_voice_gets_no_strength_for_a_conversation_that_did_not_happen():
    s = summary_of([Segment(0.5, 3.5, "speaker")], duration_s=8.0)
    assert not any("real conversation" in x for x in s.strengths), s.strengths
    assert s.suggestions == ()
    assert any("one voice only" in n and "--speakers N" in n for n in s.notes), s.notes
    assert "What went well" not in s.text()


def test_one_voice_in_a_live_session_says_how_to_start_one_with_two():
    s = summary_of([Segment(0.5, 30, "me")], kind="live", duration_s=40.0)
    assert any("start the session with --speakers 2" in n for n in s.notes), s.notes
    assert not any("real conversation" in x for x in s.strengths)


def test_two_voices_that_talked_get_the_fallback_strength_only_then():
    # ann talks on, ben answers twice late: no balance, no pace, no backchannel strengths
    segs = [Segment(0, 40, "ann"), Segment(43, 44, "ben"), Segment(47, 80, "ann"), Segment(83, 84, "ben")]
    s = summary_of(segs)
    assert s.strengths, s


def test_partner_started_while_you_were_speaking():
    segs = [Segment(0, 5, "me"), Segment(3.0, 7.0, "partner"), Segment(7.2, 12, "me"), Segment(12.2, 16, "partner")]
    s = summary_of(segs)
    assert any("your partner started while you were speaking" in x for x in s.suggestions), s.suggestions


def test_you_started_while_your_partner_was_speaking():
    segs = [Segment(0, 5, "partner"), Segment(3.0, 7.0, "me"), Segment(7.2, 12, "partner"), Segment(12.2, 16, "me")]
    s = summary_of(segs)
    assert any("you started while your partner was speaking" in x for x in s.suggestions), s.suggestions


def test_named_speakers_say_who_spoke_over_whom():
    segs = [Segment(0, 5, "ann"), Segment(3.0, 7.0, "ben"), Segment(7.2, 12, "ann"), Segment(12.2, 16, "ben")]
    s = summary_of(segs)
    assert any("ben started while ann was speaking" in x for x in s.suggestions), s.suggestions


def test_a_rehearsal_credits_only_what_you_did():
    # balanced lines, the scripted partner says "mm-hm" inside your answer: not a strength of yours
    segs = [Segment(0, 5, "partner"), Segment(5.2, 10, "me"), Segment(7.0, 7.4, "partner"),
            Segment(10.2, 15, "partner"), Segment(15.2, 20, "me")]
    s = summary_of(sorted(segs), kind="rehearsal")
    assert not any("shared" in x for x in s.strengths), s.strengths
    assert not any("mm-hm" in x for x in s.strengths), s.strengths
    assert any("You let your partner finish each line" in x for x in s.strengths), s.strengths


def test_the_same_talk_as_a_review_credits_both():
    segs = [Segment(0, 5, "partner"), Segment(5.2, 10, "me"), Segment(10.2, 15, "partner"), Segment(15.2, 20, "me")]
    s = summary_of(segs, kind="review")
    assert any("shared" in x for x in s.strengths) and any("let the other finish" in x for x in s.strengths)


def test_silence_is_a_note_not_a_strength():
    s = summary_of([], duration_s=10.0)
    assert s.strengths == () and s.suggestions == ()
    assert any("no speech" in n.lower() for n in s.notes), s.notes


def test_the_demo_says_who_spoke_over_whom_and_suggests_only_from_trusted_cues(demo_clips):
    review = demo_clips.review(20.0)
    s = summarize(review, config=CONFIG.summary)
    print(s.text())
    cues = review.vision.confidence
    assert all("level" in c and "why" in c for c in cues.values()) and set(cues) >= {"eye_contact", "posture"}
    if any("spoke at once" in x for x in s.suggestions):
        assert any("started while" in x for x in s.suggestions), s.suggestions
    if not cues["eye_contact"]["trusted"]:
        assert not any("eye contact" in x or "looked away" in x for x in s.suggestions + s.strengths)
    if not cues["posture"]["trusted"]:
        assert not any("arms crossed" in x for x in s.suggestions)


def test_a_few_seconds_of_two_voices_suggest_nothing_about_turns():
    segs = [Segment(0, 1.5, "me"), Segment(1.0, 2.6, "partner"), Segment(2.8, 3.2, "me")]
    review = review_annotation(segs, config=CONFIG, source="test", duration_s=4.0)
    s = summarize(review, config=CONFIG.summary)
    assert s.suggestions == (), s.suggestions
    assert any("couldn't judge the turn-taking" in n and "seconds of speech" in n for n in s.notes), s.notes
    from attunement.summary.json_out import review_to_json
    conf = review_to_json(review)["confidence"]["turn_taking"]
    assert not conf["trusted"] and conf["why"]
