"""A rehearsal's words and practice goals: the user's answers heard, the partner's lines as written,
and the summary saying whether and where each goal of the scenario happened."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from attunement.config import default_config
from attunement.conversation.language import analyze_language
from attunement.errors import InputError
from attunement.perception.transcribe import utterance_of
from attunement.records import ME, PARTNER, PartnerLine, Segment
from attunement.session.rehearsal.measure import practice_goals, rehearsal_words
from attunement.session.rehearsal.scenario import load_scenario, parse_scenario
from attunement.session.runners.offline import review_annotation
from attunement.session.runners.rehearse import run_rehearsal
from attunement.summary.text import summarize
from tests.session.test_rehearse import T0, ScriptedRoom, SyntheticVoice

CONFIG = default_config()
TRACK = [PartnerLine(0.0, 3.0, "I had a really stressful day at work."),
         PartnerLine(6.0, 9.0, "My boss keeps changing the plan and I feel lost.")]


def _review(answers, *, keep):
    heard = [utterance_of(ME, [(a, b)], text) for a, b, text in answers]
    heard.append(utterance_of(PARTNER, [(0.5, 2.5)], "echo of the partner"))  # the echo is dropped
    utts = rehearsal_words(heard, TRACK)
    segments = [Segment(u.start, u.end, u.speaker) for u in utts]
    review = review_annotation(segments, config=CONFIG, source="rehearsal")
    lang = analyze_language(utts, review.turn_taking, speakers=review.speakers, config=CONFIG.words, keep_words=keep)
    return dataclasses.replace(review, words=utts, language=lang)


def test_the_partners_words_are_the_script_and_the_echo_is_dropped():
    utts = rehearsal_words([utterance_of(PARTNER, [(0.5, 2.5)], "echo"), utterance_of(ME, [(3.5, 5)], "Oh no.")],
                           TRACK)
    assert [u.text for u in utts] == [TRACK[0].text, "Oh no.", TRACK[1].text]


def test_goals_say_whether_and_where_they_happened():
    review = _review([(3.4, 5.5, "That sounds really hard. What happened?"), (9.5, 12.0, "You always work too much.")],
                     keep=True)
    goals = practice_goals(("validate_before_answering", "ask_follow_up_question", "avoid_blame", "use_i_statements"),
                           review.language, config=CONFIG)
    assert [t for t, _ in goals["validate_before_answering"]] == pytest.approx([3.4])
    assert goals["validate_before_answering"][0][1] == "That sounds really hard."
    assert len(goals["ask_follow_up_question"]) == 1 and len(goals["avoid_blame"]) == 1
    assert goals["use_i_statements"] == ()
    text = summarize(dataclasses.replace(review, goals=goals), config=CONFIG.summary).text()
    assert "Your practice goals" in text
    assert "acknowledge your partner's feeling before answering: you did, around 00:03" in text, text
    assert 'like "That sounds really hard"' in text
    assert "speak from your own side" in text and "not this time" in text


def test_goals_quote_nothing_unless_the_words_are_kept():
    review = _review([(3.4, 5.5, "That sounds really hard.")], keep=False)
    goals = practice_goals(("validate",), review.language, config=CONFIG)
    assert goals["validate"][0][1] is None
    assert "really hard" not in summarize(dataclasses.replace(review, goals=goals), config=CONFIG.summary).text()


def test_scenarios_name_known_goals_only():
    assert load_scenario("feeling-unheard").goals == ("validate_before_answering", "reflect")
    bad = 'title = "t"\nintro = "i"\ntips = ["x"]\ngoals = ["be_nice"]\n[[lines]]\ntext = "Hi"\nanswer_s = [1, 2]\n'
    with pytest.raises(InputError, match="goals"):
        parse_scenario(bad, origin="x.toml", name="x")


def test_a_rehearsal_with_words_on_gives_its_goal_lines(rng, tmp_path):
    """The whole path with the transcription worker running (the scripted room's synthetic voice says
    no words, so each goal reads 'not this time'; the recognizer must not invent any)."""
    room = ScriptedRoom(rng)
    result = run_rehearsal(scenario=load_scenario("check-in"), mic=room, config=CONFIG, player=room.play,
                           voice=SyntheticVoice(rng), root=tmp_path, start_s=T0 + 0.5, words=True)
    review = result.review
    assert review.language is not None and set(review.goals) == {"ask_follow_up_question", "ask_open_question"}
    assert [u.speaker for u in review.words if u.speaker == PARTNER] == [PARTNER] * len(result.track)
    lines = summarize(review, config=CONFIG.summary).practice
    assert len(lines) == 2 and all("You set out to" in s for s in lines)
    assert np.isfinite(review.duration_s)
