"""Language cues: F1 per cue on the labelled sentences (both halves), look-alikes, fillers, rate, turn events."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from attunement.config import default_config
from attunement.conversation.turns import analyze_turns
from attunement.conversation.language import label_utterances, per_speaker, turn_events
from attunement.conversation.language_rules import CUES, classify, fillers, load_lexicon, question_kind, reflection_overlap, split_sentences
from attunement.perception.transcribe import utterance_of
from attunement.records import Segment

HERE = Path(__file__).parent
SHORT = {"open_q": "open_question", "closed_q": "closed_question", "i_stmt": "i_statement", "you_blame": "you_blame",
         "validation": "validation", "reflection": "reflection", "dismissive": "dismissive", "defensive": "defensive"}
CFG = default_config()
FLOORS = {"open_question": 0.9, "closed_question": 0.9, "i_statement": 0.9, "you_blame": 0.9, "validation": 0.85,
          "reflection": 0.85, "dismissive": 0.85, "defensive": 0.85}


def labelled_rows(name: str = "language_sentences.tsv") -> list[tuple[str, set[str], str | None, str]]:
    """(half, cues, partner's previous turn, sentence) of a labelled file; half "A" or "B" by crc32 parity."""
    rows = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        labels, context, text = line.split("\t")
        cues = {SHORT[x] for x in labels.split(",") if x != "-"}
        rows.append(("AB"[zlib.crc32(text.encode()) % 2], cues, None if context == "-" else context, text))
    return rows


def without_question_marks(rows):
    """`rows` (of labelled_rows) with every "?" made a "." in the sentence and the partner's turn:
    what a recognizer that drops question marks gives."""
    plain = lambda t: None if t is None else t.replace("?", ".")
    return [(half, cues, plain(context), plain(text)) for half, cues, context, text in rows]


def f1_per_cue(rows) -> dict[str, float]:
    lex = load_lexicon()
    tp, fp, fn = ({c: 0 for c in CUES} for _ in range(3))
    for _, truth, context, text in rows:
        got = classify(text, previous=context, lex=lex)
        for c in CUES:
            tp[c] += c in truth and c in got
            fp[c] += c not in truth and c in got
            fn[c] += c in truth and c not in got
    return {c: 2 * tp[c] / (2 * tp[c] + fp[c] + fn[c]) if tp[c] + fp[c] + fn[c] else 1.0 for c in CUES}


def test_labelled_set_is_large_and_covers_every_cue():
    rows = labelled_rows()
    assert len(rows) >= 250
    for half in "AB":
        for c in CUES:
            assert sum(c in r[1] for r in rows if r[0] == half) >= 5, (half, c)


@pytest.mark.parametrize("half", ["A", "B"])
def test_f1_per_cue_on_each_half(half):
    f1 = f1_per_cue([r for r in labelled_rows() if r[0] == half])
    low = {c: round(v, 3) for c, v in f1.items() if v < FLOORS[c]}
    assert not low, low


@pytest.mark.parametrize("name, floors", [
    # written after the rules, measured once, then the rules were tuned on it (docs/words.md)
    ("language_fresh.tsv", {"open_question": 0.9, "closed_question": 0.9, "i_statement": 0.9, "you_blame": 0.9,
                            "validation": 0.9, "reflection": 0.9, "dismissive": 0.9, "defensive": 0.9}),
    # written after that tuning, never tuned on; measured before and after the second round of
    # rules (docs/words.md): floors at what it measures now
    ("language_fresh2.tsv", {"open_question": 0.9, "closed_question": 0.9, "i_statement": 0.9, "you_blame": 0.9,
                             "validation": 0.9, "reflection": 0.85, "dismissive": 0.75, "defensive": 0.8}),
    # written before the second round of rules, measured once after it, never tuned on
    ("language_fresh3.tsv", {"open_question": 0.95, "closed_question": 0.95, "i_statement": 0.95, "you_blame": 0.9,
                             "validation": 0.9, "reflection": 0.85, "dismissive": 0.9, "defensive": 0.9}),
])
def test_later_sets_floors(name, floors):
    """Sets written after the rules: a change that makes the rules generalise worse shows here."""
    f1 = f1_per_cue(labelled_rows(name))
    low = {c: round(f1[c], 3) for c in floors if f1[c] < floors[c]}
    assert not low, low


@pytest.mark.parametrize("half", ["A", "B"])
def test_questions_without_question_marks(half):
    """Recognizers drop "?": the word order still marks most questions (docs/words.md, 4.2)."""
    f1 = f1_per_cue(without_question_marks([r for r in labelled_rows() if r[0] == half]))
    low = {c: round(f1[c], 3) for c in ("open_question", "closed_question") if f1[c] < 0.9}
    assert not low, low


@pytest.mark.parametrize("sentence, kind", [
    ("What if we went to the beach on Saturday?", "closed"),
    ("How about we order pizza tonight?", "closed"),
    ("What time is it?", "closed"),
    ("Tell me more about what happened.", "open"),
    ("So, what did you think of the film?", "open"),
    ("Of course, what should we start with?", "open"),
    ("Did you have a good day", "closed"),  # no question mark: the form still asks
    ("did the bus leave already", "closed"),  # auxiliary + definite subject: inverted, a question
    ("Had a great time.", None),              # the subject dropped, not inverted
    ("I wondered how you did it.", "open"),
    ("What a day.", None),
    ("I went home.", None),
    # without "?": the word order asks (inversion, a wh-word before an auxiliary or as the subject, a tag)
    ("Isn't that the new restaurant.", "closed"),          # negated auxiliary, then the subject
    ("Was it you.", "closed"),
    ("How was your day.", "open"),
    ("What happened.", "open"),                            # "what" as the subject
    ("What plans do you have for the weekend.", "open"),
    ("You locked the door, didn't you.", "closed"),        # a question tag
    ("You're coming tonight, right.", "closed"),
    ("Of course, what should we start with.", "open"),     # the last clause asks
    # …and their look-alikes
    ("Do what you want.", None),                           # an order: "do" + no subject
    ("Can't complain.", None),                             # the subject dropped
    ("Wasn't me.", None),
    ("Don't you dare.", None),                             # "don't you…" is as often an order
    ("Everything you do matters.", None),                  # "everything" is no auxiliary
    ("What I need is some time.", None),                   # a pseudo-cleft, not a question
    ("What matters is that you're safe.", None),
    ("What you said hurt me.", None),                      # a free relative as the subject
    ("Yeah, right.", None),                                # no clause before the tag
    ("I know, what a day.", None),
    ("If you want, we can go.", None),
    ("How nice.", None),                                   # an exclamation
])
def test_question_look_alikes(sentence, kind):
    assert question_kind(sentence) == kind


@pytest.mark.parametrize("sentence, cues", [
    ("I think you always put your friends first.", {"you_blame"}),
    ("I feel like you never listen to me.", {"you_blame"}),
    ("I feel like pizza tonight.", set()),
    ("You always know the best restaurants.", set()),
    ("Why do you always leave your shoes everywhere?", {"you_blame"}),
    ("That sounds like a plan.", set()),
    ("That makes no sense at all.", {"dismissive"}),
    ("I'm so proud of you.", {"validation"}),
    ("I truly appreciate your patience.", {"validation"}),         # any -ly adverb in the slot
    ("It bothered me when the plans changed.", {"i_statement"}),
    ("I worried all night when you didn't call.", {"i_statement"}),  # the need or worry in the past too
    ("I needed you there.", {"i_statement"}),
    ("I missed the bus.", set()),                                 # "missed" as often fails to catch
    ("You always make the best coffee.", set()),                  # praise after "you always"
    ("You will never have to ask twice.", set()),                 # a negated obligation reassures
    ("I was going to the gym.", set()),
    ("I was going to tell you tonight.", {"defensive"}),           # intention as an excuse
    ("At least you still have a job.", {"dismissive"}),            # "at least…" (Brown 2013)
    ("At least I tried.", {"defensive"}),
    ("Relax your jaw and breathe.", set()),                        # transitive: not "relax!"
    ("You're the reason this is so hard.", {"you_blame"}),         # criticism is never validation
])
def test_cue_look_alikes(sentence, cues):
    assert set(classify(sentence)) == cues


def test_reflection_is_measured_against_what_the_partner_said():
    said = "Work has been piling up and I just can't keep up with it."
    reflection = "So you're feeling overwhelmed because the work keeps piling up?"
    assert classify(reflection, previous=said) == {"reflection"}
    assert reflection_overlap(reflection, said) >= 0.5
    assert "reflection" not in classify(reflection, previous="My sister is visiting on Sunday.")
    assert "reflection" not in classify(reflection)  # no partner turn: nothing to reflect
    assert classify("So you want to go to the movies tonight?", previous=said) == {"closed_question"}


def test_fillers_count_fillers_not_the_verb_like():
    assert fillers("Um, I was like, you know, really tired. Uh, I mean it.") == 4
    assert fillers("I like you. Do you know what I mean?") == 0
    assert split_sentences("Hi. How are you? Fine!") == ["Hi.", "How are you?", "Fine!"]


def _conversation():
    lines = [("ana", 0.0, 4.0, "I feel so lonely since we moved to the city."),
             ("ben", 4.5, 7.5, "It sounds like the move to the city has felt lonely."),
             ("ana", 8.0, 10.0, "Yes. What do you think I should do?"),
             ("ana", 10.0, 50.0, " ".join(["and then I went to the shop and talked to people"] * 12)),
             ("ben", 51.0, 53.0, "That makes sense."),
             ("ana", 53.5, 57.0, "I feel hurt when you are on your phone all the time."),
             ("ben", 55.0, 60.0, "Whatever, I was only trying to help.")]
    return [utterance_of(s, ((a, b),), t) for s, a, b, t in lines]


def test_per_speaker_counts_and_rate():
    utts = _conversation()
    lab = label_utterances(utts, config=CFG.words)
    counts = per_speaker(lab, speakers=["ana", "ben", "cy"])
    assert counts["ana"].counts["i_statement"] == 2 and counts["ana"].counts["open_question"] == 1
    assert counts["ben"].counts["reflection"] == 1 and counts["ben"].counts["validation"] == 1
    assert counts["ben"].counts["dismissive"] == 1 and counts["ben"].counts["defensive"] == 1
    assert counts["cy"].words == 0 and counts["cy"].words_per_minute is None
    ana_words = sum(len(u.words) for u in utts if u.speaker == "ana")
    assert counts["ana"].words_per_minute == pytest.approx(60 * ana_words / (4 + 2 + 40 + 3.5))
    assert counts["ana"].to_json()["words"] == ana_words


def test_turn_events():
    utts = _conversation()
    lab = label_utterances(utts, config=CFG.words)
    segs = [Segment(u.start, u.end, u.speaker) for u in utts]
    tt = analyze_turns(segs, config=CFG.turns)
    events = turn_events(lab, tt, config=CFG.words)
    kinds = [(e.kind, e.speaker) for e in events]
    assert ("reflection_after_turn", "ben") in kinds
    assert ("question_then_monologue", "ana") in kinds
    assert ("interrupted_feeling", "ben") in kinds
    q = next(e for e in events if e.kind == "question_then_monologue")
    assert q.t == 10.0 and q.duration_s == pytest.approx(40.0) and q.partner == "ben"


def test_practice_goals():
    from attunement.conversation.language import GOALS, goal_moments

    utts = [utterance_of("partner", ((0.0, 3.0),), "My boss yelled at me in the meeting today."),
            utterance_of("me", ((3.5, 6.0),), "That sounds really upsetting. What did he say?"),
            utterance_of("partner", ((6.5, 9.0),), "That my report was late."),
            utterance_of("me", ((9.5, 12.0),), "Well, you always hand things in late.")]
    lab = label_utterances(utts, config=CFG.words)
    got = {g: goal_moments(g, lab, speaker="me", config=CFG.words) for g in GOALS}
    assert got["validate_before_answering"] == (1,) and got["ask_follow_up_question"] == (1,)
    assert got["ask_open_question"] == (1,) and got["avoid_blame"] == (3,) and got["reflect"] == ()
    with pytest.raises(Exception, match="unknown practice goal"):
        goal_moments("be nice", lab, speaker="me", config=CFG.words)


def test_language_json_keeps_words_only_when_asked():
    import json

    from attunement.conversation.language import language_json

    utts = _conversation()
    lab = label_utterances(utts, config=CFG.words)
    events = turn_events(lab, analyze_turns([Segment(u.start, u.end, u.speaker) for u in utts], config=CFG.turns),
                         config=CFG.words)
    private = json.dumps(language_json(lab, events, speakers=["ana", "ben"], keep_words=False))
    assert "lonely" not in private and "phone" not in private and '"i_statement": 2' in private
    kept = language_json(lab, events, speakers=["ana", "ben"], keep_words=True)
    assert kept["utterances"][0]["text"].startswith("I feel so lonely") and kept["words_kept"]
