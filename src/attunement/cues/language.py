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
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from ..config import WordsConfig
from ..perception.asr import Utterance

if TYPE_CHECKING:  # the turn engine's result, used by turn_events only; no import at run time
    from ..conversation.turns import TurnTaking

log = logging.getLogger(__name__)

CUES = ("open_question", "closed_question", "i_statement", "you_blame", "validation", "reflection",
        "dismissive", "defensive")
NEGATIVE = ("you_blame", "dismissive", "defensive")
_CONTRACTIONS = [
    (r"\bwon't\b", "will not"), (r"\bcan't\b", "can not"), (r"\bcannot\b", "can not"), (r"\bshan't\b", "shall not"),
    (r"\bain't\b", "is not"), (r"\blet's\b", "let us"), (r"\bi'm\b", "i am"), (r"\b(\w+)n't\b", r"\1 not"),
    (r"\b(you|we|they|who|what|there)'re\b", r"\1 are"), (r"\b(it|that|what|there|he|she|who|where|how|here)'s\b", r"\1 is"),
    (r"\b(\w+)'ve\b", r"\1 have"), (r"\b(\w+)'ll\b", r"\1 will"), (r"\b(\w+)'d\b", r"\1 would"),
]
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


@dataclass(frozen=True)
class Lexicon:
    """The compiled rules of language.toml."""

    markers: frozenset[str]
    wh: tuple[str, ...]
    aux: tuple[str, ...]
    closed_wh: tuple[str, ...]
    open_requests: tuple[str, ...]
    tags: tuple[str, ...]
    rules: dict[str, tuple[re.Pattern, ...]]
    not_rules: dict[str, tuple[re.Pattern, ...]]
    stems: tuple[str, ...]
    stopwords: frozenset[str]
    synonym_of: dict[str, str]
    fillers: frozenset[str]
    filler_phrases: tuple[str, ...]


@lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> Lexicon:
    """The lexicons and patterns of `path` (default: the packaged cues/language.toml)."""
    if path is None:
        raw = tomllib.loads((resources.files("attunement.cues") / "language.toml").read_text(encoding="utf-8"))
    else:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    subst = {"ADJ": "|".join(sorted(map(re.escape, raw["feelings"]["words"]), key=len, reverse=True)),
             "HARD": "|".join(sorted(map(re.escape, raw["validation"]["hard"]), key=len, reverse=True)),
             "TRAIT": "|".join(sorted(map(re.escape, raw["blame"]["traits"]), key=len, reverse=True))}

    def compile_all(patterns: list[str]) -> tuple[re.Pattern, ...]:
        out = []
        for p in patterns:
            for key, alt in subst.items():
                p = p.replace(f"(?:{key})", f"(?:{alt})")
            out.append(re.compile(p))
        return tuple(out)

    sections = {"i_statement": "i_statement", "you_blame": "blame", "validation": "validation",
                "dismissive": "dismissive", "defensive": "defensive"}
    synonym_of = {}
    for group in raw["reflection"]["synonyms"]:
        for w in group:
            synonym_of[_stem(w)] = _stem(group[0])
    q = raw["questions"]
    return Lexicon(
        markers=frozenset(raw["normalise"]["markers"]), wh=tuple(q["wh"]), aux=tuple(q["aux"]),
        closed_wh=tuple(q["closed_wh"]), open_requests=tuple(q["open_requests"]), tags=tuple(q["tags"]),
        rules={cue: compile_all(raw[sec]["patterns"]) for cue, sec in sections.items()},
        not_rules={cue: compile_all(raw[sec].get("not_patterns", [])) for cue, sec in sections.items()},
        stems=tuple(raw["reflection"]["stems"]), stopwords=frozenset(raw["reflection"]["stopwords"]),
        synonym_of=synonym_of, fillers=frozenset(raw["fillers"]["words"]),
        filler_phrases=tuple(raw["fillers"]["phrases"]))


def normalise(text: str) -> str:
    """Lower case, curly quotes straightened, contractions expanded, only words, "?" and "," kept."""
    t = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, repl in _CONTRACTIONS:
        t = re.sub(pattern, repl, t)
    t = re.sub(r"[^a-z0-9?,' ]+", " ", t).replace("'", "")
    return re.sub(r"\s+", " ", re.sub(r"\s*([?,])", r"\1", t)).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, split after ".", "?" and "!" (the recognizer and transcripts punctuate)."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if any(ch.isalnum() for ch in s)]


def _stem(word: str) -> str:
    """A light stem: common English suffixes off (-ing, -ed, -es, -s, -ly), never below 3 letters."""
    for suffix in ("ing", "ed", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _starts(words: str, phrases: Sequence[str]) -> bool:
    return any(words == p or words.startswith((p + " ", p + ",", p + "?"))
               for p in phrases)


def _strip_markers(norm: str, lex: Lexicon) -> str:
    words = norm.split(" ")
    while len(words) > 1 and words[0].rstrip(",") in lex.markers:
        words = words[1:]
    return " ".join(words).lstrip(", ")


def question_kind(sentence: str, lex: Lexicon | None = None) -> str | None:
    """"open", "closed" or None (not a question) for one sentence, by its form."""
    lex = lex or load_lexicon()
    norm = normalise(sentence)
    if norm.endswith("?") and "," in norm:  # "Of course, what should we start with?": the last clause asks
        last = _strip_markers(norm.rsplit(",", 1)[1].strip(), lex)
        if any(_starts(last, p) for p in (lex.wh, lex.aux, lex.closed_wh, lex.open_requests)):
            norm = last
    core = _strip_markers(norm, lex)
    if _starts(core, lex.open_requests):
        return "open"
    asked = norm.endswith("?")
    if _starts(core, lex.closed_wh):
        return "closed" if asked or len(core.split()) > 2 else None
    if _starts(core, lex.wh):
        return "open" if asked or _starts(core.split(" ", 1)[-1], lex.aux) else None
    if _starts(core, lex.aux):
        return "closed" if asked or _starts(core.split(" ", 1)[-1], ("you", "we", "i", "it", "he", "she", "they", "there", "that")) else None
    if asked:
        return "closed"  # a statement, a tag question or a single word with a rising tone
    return None


def _matches(cue: str, norm: str, lex: Lexicon) -> bool:
    return (any(p.search(norm) for p in lex.rules[cue]) and not any(p.search(norm) for p in lex.not_rules[cue]))


def content_words(text: str, lex: Lexicon) -> set[str]:
    """Stemmed content words (stopwords out, synonyms folded to one) of `text`."""
    out = set()
    for w in re.findall(r"[a-z0-9]+", normalise(text)):
        if w in lex.stopwords or len(w) < 3:
            continue
        s = _stem(w)
        out.add(lex.synonym_of.get(s, lex.synonym_of.get(w, s)))
    return out


def reflection_overlap(sentence: str, previous: str, lex: Lexicon | None = None) -> float:
    """Share of the sentence's content words found in the partner's previous turn (0..1)."""
    lex = lex or load_lexicon()
    mine = content_words(sentence, lex)
    if not mine:
        return 0.0
    return len(mine & content_words(previous, lex)) / len(mine)


def classify(sentence: str, *, previous: str | None = None, lex: Lexicon | None = None,
             min_overlap: float = 0.3) -> frozenset[str]:
    """The cues of one sentence; `previous` is the partner's previous turn (needed for reflections)."""
    lex = lex or load_lexicon()
    norm = normalise(sentence)
    if not norm:
        return frozenset()
    core = _strip_markers(norm, lex)
    labels = {cue for cue in ("i_statement", "you_blame", "validation", "dismissive", "defensive")
              if _matches(cue, core if cue == "dismissive" else norm, lex)}
    if "you_blame" in labels:
        labels.discard("i_statement")  # "I feel like you never…" is blame dressed as an I statement
    kind = question_kind(sentence, lex)
    stem = _starts(core, lex.stems) or _starts(norm, lex.stems)
    asks = any(_starts(core, phrases) for phrases in (lex.wh, lex.aux, lex.closed_wh, lex.open_requests))
    if asks and _starts(core, [s for s in lex.stems if s.split()[0] in lex.wh]):
        asks = False  # "What I'm hearing is…" opens a reflection, not a question
    if previous and not asks and not labels & set(NEGATIVE) and stem:
        about_partner = re.search(r"\b(?:you|your|yours|yourself)\b", core) is not None or _starts(
            core, [x for x in lex.stems if len(x.split()) > 1 and not x.startswith(("so", "you"))])
        if about_partner and reflection_overlap(sentence, previous, lex) >= min_overlap:
            labels.add("reflection")
    if kind and not labels & set(NEGATIVE) and "reflection" not in labels:
        labels.add(f"{kind}_question")
    return frozenset(labels)


_BOUNDARY = {",", "?", "."}
_NOT_BEFORE_LIKE = {"i", "you", "we", "they", "he", "she", "would", "do", "did", "does", "feel", "feels", "felt",
                    "look", "looks", "looked", "sound", "sounds", "seem", "seems", "more", "much", "not", "really"}
_NOT_AROUND_PHRASE = {"do", "did", "if", "what", "not", "you", "as", "to"}
_NOT_AFTER_PHRASE = {"what", "how", "who", "why", "that", "where", "when", "him", "her", "them", "it", "me",
                     "the", "this", "to", "a", "an", "about"}


def fillers(text: str, lex: Lexicon | None = None) -> int:
    """Filler words in `text`: um/uh/basically…, "you know" and "I mean" standing alone at a clause
    edge (not "do you know what…", "I mean it"), and "like" as a filler at a clause edge
    ("I was like, …", "Like, I…"), not the verb ("I like you") or a comparison ("feels like home")."""
    lex = lex or load_lexicon()
    t = re.sub(r"[.!]", " . ", text.lower().replace("\u2019", "'"))
    toks = [w for w in re.sub(r"([,?])", r" \1 ", t).replace("'", "").split()]
    toks = ["."] + toks + ["."]
    n = 0
    for k in range(1, len(toks) - 1):
        prev, w, nxt = toks[k - 1], toks[k], toks[k + 1]
        if w in lex.fillers or w == "like" and (prev in _BOUNDARY or nxt in _BOUNDARY) and prev not in _NOT_BEFORE_LIKE:
            n += 1
        else:
            for phrase in lex.filler_phrases:
                first, *rest = phrase.split()
                if w != first or toks[k + 1:k + 1 + len(rest)] != rest:
                    continue
                after = toks[k + 1 + len(rest)]
                if ((prev in _BOUNDARY or after in _BOUNDARY) and prev not in _NOT_AROUND_PHRASE
                        and after not in _NOT_AFTER_PHRASE):
                    n += 1
    return n


@dataclass(frozen=True)
class LabelledUtterance:
    """An utterance with the cues of each of its sentences (`sentences`: (text, labels) pairs)."""

    utterance: Utterance
    sentences: tuple[tuple[str, frozenset[str]], ...]
    fillers: int = 0

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
        previous = _partner_turn(utts, k)
        sentences = tuple((s, classify(s, previous=previous, lex=lex, min_overlap=config.reflection_min_overlap))
                          for s in split_sentences(u.text))
        out.append(LabelledUtterance(u, sentences, fillers(u.text, lex)))
    return tuple(out)


def _partner_turn(utts: Sequence[Utterance], k: int) -> str | None:
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
    return bool(lu.count("i_statement")) or re.search(r"\bi (?:feel|felt|am feeling|was feeling)\b",
                                                      normalise(lu.utterance.text)) is not None


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
        previous = _partner_turn(utts, k)
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
