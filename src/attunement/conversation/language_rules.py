"""Sentence rules of the language cues (conversation/language.py): the lexicon (`language.toml`),
normalising, questions open or closed, each cue's phrase match, reflections against the partner's
words, filler words. Definitions, look-alikes and sources: docs/words.md."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

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
    subjects: tuple[str, ...]
    rules: dict[str, tuple[re.Pattern, ...]]
    not_rules: dict[str, tuple[re.Pattern, ...]]
    stems: tuple[str, ...]
    stopwords: frozenset[str]
    synonym_of: dict[str, str]
    fillers: frozenset[str]
    filler_phrases: tuple[str, ...]


@lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> Lexicon:
    """The lexicons and patterns of `path` (default: the packaged conversation/language.toml)."""
    if path is None:
        raw = tomllib.loads((resources.files("attunement.conversation") / "language.toml").read_text(encoding="utf-8"))
    else:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    subst = {"ADJ": "|".join(sorted(map(re.escape, raw["feelings"]["words"]), key=len, reverse=True)),
             "HARD": "|".join(sorted(map(re.escape, raw["validation"]["hard"]), key=len, reverse=True)),
             "TRAIT": "|".join(sorted(map(re.escape, raw["blame"]["traits"]), key=len, reverse=True)),
             "ADV": "|".join(raw["modifiers"]["adverbs"]),
             "GOOD": "|".join(sorted(map(re.escape, raw["blame"]["positive"]), key=len, reverse=True))}

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
        subjects=tuple(q["subjects"]),
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
    """"open", "closed" or None (not a question) for one sentence, by its form. Without a "?" (which
    recognizers drop) the word order still asks: an inverted auxiliary and subject ("did you…",
    "isn't that…"), a wh-word before an auxiliary ("how was…") or as the subject ("what happened"),
    a question tag after a clause ("…, right", "…, didn't you")."""
    lex = lex or load_lexicon()
    norm = normalise(sentence)
    if "," in norm:  # "Of course, what should we start with?": the last clause asks
        last = _strip_markers(norm.rsplit(",", 1)[1].strip(), lex)
        if any(_starts(last, p) for p in (lex.wh, lex.aux, lex.closed_wh, lex.open_requests)) and (
                norm.endswith("?") or _unmarked_kind(last.rstrip("?"), lex)):
            norm = last
    core = _strip_markers(norm, lex)
    if _starts(core, lex.open_requests):
        return "open"
    if norm.endswith("?"):
        if _starts(core, lex.closed_wh):
            return "closed"
        return "open" if _starts(core, lex.wh) else "closed"  # a statement or a word said with a rising tone
    return _unmarked_kind(core, lex)


def _unmarked_kind(core: str, lex: Lexicon) -> str | None:
    """The question a sentence without "?" (`core`: normalised, leading markers off) asks by its form."""
    words = core.split()
    rest = core.split(" ", 1)[-1]
    if _starts(core, lex.closed_wh):
        return "closed" if len(words) > 2 else None
    if _starts(core, lex.wh):
        if _starts(rest, lex.aux) or words[:2] == ["how", "come"]:
            return "open"
        # "what" as the subject ("What happened", "What made you…"), not the free relative of a
        # pseudo-cleft ("What I need is…", "What matters is…") nor an exclamation ("What a day")
        if words[0] == "what" and len(words) > 1 and words[1] not in lex.subjects and words[1] not in ("a", "an") \
                and not any(w in ("is", "was") and p not in lex.subjects for p, w in zip(words[1:], words[2:])):
            return "open"
        return None
    if _starts(core, lex.aux) and not words[0].startswith(("any", "every")):  # "Everything you do…" states
        if words[0] != "do" and rest.startswith("not "):
            rest = rest[4:]  # "isn't that…", "didn't you…"; "don't you…" is as often an order ("Don't you dare")
        return "closed" if _starts(rest, lex.subjects) else None
    head, _, tag = core.rpartition(", ")
    if len(head.split()) >= 3 and (tag == "right" or tag in _TAGS):
        return "closed"  # "You locked the door, didn't you", "You're coming, right"
    return None


#: Question tags: an auxiliary, perhaps "not", and a pronoun closing a clause (Quirk et al. 1985, chapter 11).
_TAGS = frozenset(f"{a}{n} {p}" for a in ("is", "are", "was", "were", "am", "do", "does", "did", "have", "has", "had",
                                          "can", "could", "will", "would", "should", "shall")
                  for n in ("", " not") for p in ("you", "it", "he", "she", "they", "we", "i", "there"))


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
    if labels & set(NEGATIVE):
        labels.discard("validation")  # "You're the reason this is so hard": criticism, whatever its words
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
