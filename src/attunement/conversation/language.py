"""Language cues: what the words do, per sentence, per speaker, and at the turn events.

Rules plus lexicons (`language.toml`), no trained model. Per sentence (an utterance is split at
".", "?" and "!"): open and closed questions, "I" statements, "you"-blame, validating and
appreciating phrases, reflections of the partner's previous turn (measured against what the
partner said), dismissive and defensive phrases. Per speaker: those counts, filler words and the
speaking rate. Tied to the turn-taking result: a question followed by the asker's long
monologue, a reflection right after the partner's turn, an interruption in the middle of the
partner's feeling statement. Definitions, look-alikes and sources: docs/words.md.

Decisions on look-alikes (documented in docs/words.md):
- "What if we…?", "How about…?", "Why don't we…?" are suggestions: closed questions.
- Short-fact wh-questions ("What time…?", "How many…?", "When…?", "Which…?") are closed.
- Without a "?" (recognizers drop it) the word order still asks: "Did you…", "Isn't that…",
  "What happened", "…, didn't you"; not "Do what you want", "What matters is…", "Everything you do…".
- "Tell me more about…", "Can you tell me…?", "I wonder what…" are open (MITI 4).
- A question that blames, dismisses or defends ("Why do you always…?", "Who cares?",
  "What about the time you…?") counts as that, not as a question: it asks for no answer.
- "I think you always…", "I feel like you never…", "I feel that you are…" are blame, not
  "I" statements; "I feel like pizza" is neither.
- "So you're feeling overwhelmed because…?" is a reflection (MITI codes a reflection said with
  a rising tone as a reflection), not a closed question; "So you want pizza?" after talk of work is
  a closed question.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..config import WordsConfig
from ..perception.asr import Utterance
from .language_rules import (
    CUES,
    Lexicon,
    classify,
    fillers,
    load_lexicon,
    normalise,
    reflection_overlap,
    split_sentences,
)
from .turns import TurnTaking

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledUtterance:
    """An utterance with the cues of each of its sentences (`sentences`: (text, labels) pairs).
    `feeling`: whether it says "I feel…", when that was decided where the text was at hand (the
    live words log keeps no text); None: read it from the text."""

    utterance: Utterance
    sentences: tuple[tuple[str, frozenset[str]], ...]
    fillers: int = 0
    feeling: bool | None = None

    @property
    def labels(self) -> frozenset[str]:
        return frozenset().union(*(lab for _, lab in self.sentences)) if self.sentences else frozenset()

    def count(self, cue: str) -> int:
        return sum(1 for _, lab in self.sentences if cue in lab)


def label_utterances(utterances: Sequence[Utterance], *, config: WordsConfig, lex: Lexicon | None = None) -> tuple[LabelledUtterance, ...]:
    """Each utterance's sentences labelled, in start order. A reflection is measured against the
    partner's previous turn: the text of the other speakers' utterances since this speaker last
    spoke (their last utterance when this speaker spoke more recently)."""
    lex = lex or load_lexicon()
    utts = sorted(utterances, key=lambda u: (u.start, u.speaker))
    out = []
    for k, u in enumerate(utts):
        previous = partner_turn(utts, k)
        sentences = tuple((s, classify(s, previous=previous, lex=lex, min_overlap=config.reflection_min_overlap))
                          for s in split_sentences(u.text))
        out.append(LabelledUtterance(u, sentences, fillers(u.text, lex)))
    return tuple(out)


def partner_turn(utts: Sequence[Utterance], k: int) -> str | None:
    """The text the speaker of `utts[k]` (start order) answers: the other speakers' utterances since
    they last spoke (skipping their own just before); None when no one else spoke before."""
    me = utts[k].speaker
    texts, j = [], k - 1
    while j >= 0 and utts[j].speaker == me:  # my own earlier utterances in this turn: skip back
        j -= 1
    while j >= 0 and utts[j].speaker != me:
        texts.append(utts[j].text)
        j -= 1
    return " ".join(reversed(texts)) or None


@dataclass(frozen=True)
class SpeakerLanguage:
    """One speaker's language counts (sentences with each cue), filler words, words and rate."""

    counts: dict[str, int] = field(default_factory=dict)
    fillers: int = 0
    words: int = 0
    speaking_s: float = 0.0

    @property
    def words_per_minute(self) -> float | None:
        """Words per minute of the speaker's own speech time (their words' spans), None under 10 s."""
        return 60.0 * self.words / self.speaking_s if self.speaking_s >= 10.0 else None

    def to_json(self) -> dict:
        wpm = self.words_per_minute
        return {**{c: self.counts.get(c, 0) for c in CUES}, "fillers": self.fillers, "words": self.words,
                "speaking_s": round(self.speaking_s, 3), "words_per_minute": None if wpm is None else round(wpm, 1)}


def per_speaker(labelled: Sequence[LabelledUtterance], *, speakers: Sequence[str] | None = None) -> dict[str, SpeakerLanguage]:
    """Counts per speaker (every name in `speakers` gets a row, zeros when silent)."""
    names = list(speakers) if speakers is not None else sorted({lu.utterance.speaker for lu in labelled})
    out = {}
    for name in names:
        mine = [lu for lu in labelled if lu.utterance.speaker == name]
        words = [w for lu in mine for w in lu.utterance.words]
        out[name] = SpeakerLanguage(counts={c: sum(lu.count(c) for lu in mine) for c in CUES},
                                    fillers=sum(lu.fillers for lu in mine), words=len(words),
                                    speaking_s=sum(w.end - w.start for w in words))
    return out


@dataclass(frozen=True)
class LanguageEvent:
    """A language cue tied to a turn event, at `t` seconds on the session clock.

    kind: "question_then_monologue" (`speaker` asked, then talked on for `duration_s` before the
    partner spoke), "reflection_after_turn" (`speaker` reflected `partner`'s turn that had just
    ended, `duration_s` after its end), "interrupted_feeling" (`speaker` interrupted `partner`
    while the partner was saying how they feel). `utterance` indexes the labelled utterances.
    """

    kind: str
    t: float
    speaker: str
    partner: str
    duration_s: float
    utterance: int


def turn_events(labelled: Sequence[LabelledUtterance], turn_taking: TurnTaking, *,
                config: WordsConfig) -> tuple[LanguageEvent, ...]:
    """The language cues at the turn events of `turn_taking` (conversation/turns.py), in time order."""
    turns = turn_taking.turns
    events: list[LanguageEvent] = []

    def turn_at(speaker: str, t: float) -> int | None:
        for i, tr in enumerate(turns):
            if tr.speaker == speaker and tr.start - 0.3 <= t <= tr.end + 0.3:
                return i
        return None

    for k, lu in enumerate(labelled):
        u = lu.utterance
        i = turn_at(u.speaker, u.start)
        if i is None:
            continue
        tr = turns[i]
        if lu.count("open_question") or lu.count("closed_question"):
            after = tr.end - u.end
            if after >= config.question_monologue_s:
                events.append(LanguageEvent("question_then_monologue", u.end, u.speaker, _next_speaker(turns, i),
                                            after, k))
        if lu.count("reflection") and i > 0 and turns[i - 1].speaker != u.speaker:
            delay = u.start - turns[i - 1].end
            if delay <= config.reflection_max_delay_s and u.start - tr.start <= config.reflection_max_delay_s:
                events.append(LanguageEvent("reflection_after_turn", u.start, u.speaker, turns[i - 1].speaker,
                                            max(0.0, delay), k))
    for e in turn_taking.interruptions:
        for k, lu in enumerate(labelled):
            u = lu.utterance
            if u.speaker == e.of and u.start <= e.t <= u.end + 0.5 and _feeling(lu):
                events.append(LanguageEvent("interrupted_feeling", e.t, e.by, e.of, e.overlap_s, k))
                break
    return tuple(sorted(events, key=lambda e: (e.t, e.kind)))


def _feeling(lu: LabelledUtterance) -> bool:
    """A feeling statement: an "I" statement, or words of feeling after "I feel"/"I'm" cut off mid-way."""
    return bool(lu.count("i_statement")) or (lu.feeling if lu.feeling is not None else says_feeling(lu.utterance.text))


def says_feeling(text: str) -> bool:
    """Whether `text` holds "I feel", "I felt", "I'm feeling" or "I was feeling" (a feeling
    statement begun, perhaps cut off before its feeling word)."""
    return re.search(r"\bi (?:feel|felt|am feeling|was feeling)\b", normalise(text)) is not None


def _next_speaker(turns, i: int) -> str:
    return turns[i + 1].speaker if i + 1 < len(turns) else ""


#: Practice goals a rehearsal scenario may name (docs/words.md), each a test on labelled utterances.
GOALS = ("ask_open_question", "ask_follow_up_question", "validate", "validate_before_answering", "reflect",
         "use_i_statements", "avoid_blame")


def goal_moments(goal: str, labelled: Sequence[LabelledUtterance], *, speaker: str,
                 config: WordsConfig, lex: Lexicon | None = None) -> tuple[int, ...]:
    """Indices of `speaker`'s labelled utterances where practice `goal` happened (for "avoid_blame":
    where it did not, i.e. the blaming ones). Goals:
    ask_open_question, validate, reflect, use_i_statements: an utterance with that cue;
    ask_follow_up_question: a question in the reply right after the partner spoke, or any
    question sharing content words with the partner's previous turn (`reflection_min_overlap`);
    validate_before_answering: the first sentence after the partner spoke is a validation or a reflection;
    avoid_blame: utterances with you-blame (none = goal met).
    """
    if goal not in GOALS:
        from ..errors import InputError

        raise InputError(f"unknown practice goal {goal!r}; known: {', '.join(GOALS)}")
    lex = lex or load_lexicon()
    simple = {"ask_open_question": "open_question", "validate": "validation", "reflect": "reflection",
              "use_i_statements": "i_statement", "avoid_blame": "you_blame"}
    utts = [lu.utterance for lu in labelled]
    out = []
    for k, lu in enumerate(labelled):
        if lu.utterance.speaker != speaker or not lu.sentences:
            continue
        if goal in simple:
            if lu.count(simple[goal]):
                out.append(k)
            continue
        previous = partner_turn(utts, k)
        replying = k > 0 and utts[k - 1].speaker != speaker and previous is not None
        if goal == "validate_before_answering":
            if replying and lu.sentences[0][1] & {"validation", "reflection"}:
                out.append(k)
        elif goal == "ask_follow_up_question":
            for text, labels in lu.sentences:
                if labels & {"open_question", "closed_question"} and previous is not None and (
                        replying or reflection_overlap(text, previous, lex) >= config.reflection_min_overlap):
                    out.append(k)
                    break
    return tuple(out)


def language_json(labelled: Sequence[LabelledUtterance], events: Sequence[LanguageEvent], *,
                  speakers: Sequence[str], keep_words: bool) -> dict:
    """The "language" part of a review's JSON, with the privacy default in one place: per-speaker
    counts, each utterance's time, speaker and cue labels, and the turn events are always there;
    the words (utterance text, sentence text) only when `keep_words` (--keep-words)."""
    rows = []
    for lu in labelled:
        u = lu.utterance
        row = {"speaker": u.speaker, "start": round(u.start, 3), "end": round(u.end, 3),
               "labels": sorted(lu.labels), "sentences": [sorted(lab) for _, lab in lu.sentences]}
        if keep_words:
            row["text"] = u.text
            row["sentence_text"] = [text for text, _ in lu.sentences]
        rows.append(row)
    return {"per_speaker": {sp: s.to_json() for sp, s in per_speaker(labelled, speakers=speakers).items()},
            "utterances": rows,
            "events": [{"kind": e.kind, "t": round(e.t, 3), "speaker": e.speaker, "partner": e.partner,
                        "duration_s": round(e.duration_s, 3), "utterance": e.utterance} for e in events],
            "words_kept": keep_words}


@dataclass(frozen=True)
class Language:
    """The language cues of one conversation: each utterance labelled (in start order), the events
    at the turns, and per-speaker counts. `keep_words`: the text may be shown and kept."""

    labelled: tuple[LabelledUtterance, ...]
    events: tuple[LanguageEvent, ...]
    speakers: tuple[str, ...]
    keep_words: bool = False

    def per_speaker(self) -> dict[str, SpeakerLanguage]:
        return per_speaker(self.labelled, speakers=self.speakers)

    def to_json(self) -> dict:
        return language_json(self.labelled, self.events, speakers=self.speakers, keep_words=self.keep_words)


def analyze_language(utterances: Sequence[Utterance], turn_taking: TurnTaking, *, speakers: Sequence[str],
                     config: WordsConfig, keep_words: bool = False) -> Language:
    """Label every utterance and find the language events at the turns (see the module)."""
    labelled = label_utterances(utterances, config=config)
    return Language(labelled, turn_events(labelled, turn_taking, config=config), tuple(speakers), keep_words)
