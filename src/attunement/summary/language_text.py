"""The summary's sentences about what was said: strengths (open questions, validating, reflecting,
"I" statements) and at most one suggestion (blame, only closed questions), from a review's
language cues (conversation/language.py). Quotes the person's own words only when they were kept
(--keep-words); the numbers stay in the JSON."""

from __future__ import annotations

from ..records import ME, Review

#: Strength cues in the order the summary mentions them, with their phrase and at least how often.
STRENGTHS = (("open_question", "open_questions", 1), ("validation", "validation", 1),
             ("reflection", "reflection", 1), ("i_statement", "i_statements", 2))
#: Blame statements at least this often make a suggestion; questions at least this many, all closed, too.
MIN_BLAME, MIN_CLOSED = 2, 3


def language_strengths(review: Review, say, person, how_many) -> list[str]:
    """Up to two strengths about the words of the user (or, without a known user, each speaker)."""
    lang = review.language
    if lang is None:
        return []
    out = []
    for speaker, stats in _who(review).items():
        for cue, phrase, least in STRENGTHS:
            n = stats.counts.get(cue, 0)
            if n >= least and len(out) < 2:
                out.append(say("strength", phrase, who=_cap(person(speaker)), count=_times(n, how_many, cue),
                               questions="question" if n == 1 else "questions",
                               their="your" if speaker == ME else "their", like=_like(review, speaker, cue)))
    return out


def language_suggestions(review: Review, say, person, when_t) -> list[str]:
    """At most one suggestion about the user's words: blame statements, or only closed questions."""
    lang = review.language
    if lang is None:
        return []
    for speaker, stats in _who(review).items():
        blame = [lu.utterance.start for lu in lang.labelled if lu.utterance.speaker == speaker and lu.count("you_blame")]
        if len(blame) >= MIN_BLAME:
            return [say("suggestion", "you_blame", who_lower=person(speaker), when=when_t(blame),
                        like=_like(review, speaker, "you_blame"))]
        closed, open_ = stats.counts.get("closed_question", 0), stats.counts.get("open_question", 0)
        if closed >= MIN_CLOSED and open_ == 0:
            return [say("suggestion", "closed_questions", whose="your" if speaker == ME else f"{person(speaker)}'s",
                        like=_like(review, speaker, "closed_question"))]
    return []


def _who(review: Review) -> dict:
    """The speakers the summary speaks to: the user once known, else everyone heard."""
    stats = review.language.per_speaker()
    if ME in stats:
        return {ME: stats[ME]}
    return {s: v for s, v in stats.items() if v.words}


def _times(n: int, how_many, cue: str) -> str:
    """How often, in words: 'an'/'two'/... open questions; 'once'/'twice'/... for the others."""
    if cue == "open_question":
        return {1: "an", 2: "two", 3: "three"}.get(n, "several")
    return "once" if n == 1 else "twice" if n == 2 else "a few times" if n <= 5 else "many times"


def _like(review: Review, speaker: str, cue: str) -> str:
    """', like "…"' quoting the first such sentence when the words were kept, else ''."""
    if not review.language.keep_words:
        return ""
    for lu in review.language.labelled:
        if lu.utterance.speaker == speaker:
            for text, labels in lu.sentences:
                if cue in labels:
                    return f', like "{text.strip().rstrip(".")}"'
    return ""


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def practice_lines(review: Review, say, when_t) -> list[str]:
    """One line per practice goal of a rehearsal: whether and where it happened."""
    out = []
    for goal, moments in (review.goals or {}).items():
        name = say("practice", goal)
        quote = next((q for _, q in moments if q), None)
        like = f', like "{quote.strip().rstrip(".")}"' if quote else ""
        times = [t for t, _ in moments]
        if goal == "avoid_blame":
            out.append(say("practice", "blame_kept", goal=name) if not times else
                       say("practice", "blame_slipped", goal=name, when=when_t(times), like=like))
        else:
            out.append(say("practice", "done", goal=name, when=when_t(times), like=like) if times else
                       say("practice", "not_yet", goal=name))
    return out
