"""The phrases the recognizer listens for (perception/boost.py), read from the cue lexicon.

Every phrase comes from conversation/language.toml, never from test sentences: the literal openings
of the "I" statement and validation patterns ("i need", "that sounds", "that must be", "i hear you":
each pattern read up to its first non-literal part, optional words taken both ways, adverb slots
left out), the feeling and hardship words those patterns take, and the requests for elaboration that
open questions. Not the wh-words alone: a common word boosted wherever a word starts turned "Would
you like some tea?" into "What would you like…"; nor the patterns' full texts with the feeling and
hardship lists put in ("it is hard"): they made "It's not worth…" "It's hard worth…" (docs/words.md 4.3).
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources
from re import (
    _parser as _sre,  # the regular-expression parser (Python >= 3.11; sre_parse before)
)

#: Most literal openings taken from one pattern (its optional words multiply them).
MAX_PER_PATTERN = 200


def literal_openings(pattern: str) -> set[str]:
    """The literal texts a regular expression `pattern` can open with, read up to its first part
    that is not a literal word: alternatives and optional groups expanded, a repeated (`*`) group
    (the adverb slots) left out, anything else (a class, a lookaround, a placeholder like "(?:ADJ)")
    ends the text.

    >>> sorted(literal_openings(r"\\bi (?:do )?(?:need|want) (?:ADJ)"))
    ['i do need', 'i do want', 'i need', 'i want']
    """
    pattern = re.sub(r"\(\?:(ADJ|HARD|TRAIT|ADV|GOOD)\)", "[A-Z]", pattern)
    ends = _expand(list(_sre.parse(pattern)))
    return {" ".join(t.split()) for t, _ in ends if t.strip()}


def _expand(items: list) -> list[tuple[str, bool]]:
    """(text, stopped) for every way through the parsed `items`; stopped: a non-literal part was met."""
    out = [("", False)]
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            ways = [(chr(arg), False)]
        elif name == "AT":
            ways = [("", False)]
        elif name == "SUBPATTERN":
            ways = _expand(list(arg[-1]))
        elif name == "BRANCH":
            ways = [w for alt in arg[1] for w in _expand(list(alt))]
        elif name in ("MAX_REPEAT", "MIN_REPEAT") and arg[0] == 0:
            ways = [("", False)] + (_expand(list(arg[2])) if arg[1] == 1 else [])
        else:
            ways = [("", True)]
        out = [(t, True) if stop else (t + w, s) for t, stop in out for w, s in ([("", False)] if stop else ways)]
        out = list(dict.fromkeys(out))[:MAX_PER_PATTERN]
    return out


@lru_cache(maxsize=2)
def boost_phrases(path: str | None = None) -> tuple[str, ...]:
    """The cue phrases of `path` (default: the packaged language.toml), normalised lower-case text, sorted."""
    if path is None:
        raw = tomllib.loads((resources.files("attunement.conversation") / "language.toml").read_text(encoding="utf-8"))
    else:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    found: set[str] = set()
    for section in ("i_statement", "validation"):
        for p in raw[section]["patterns"]:
            found |= literal_openings(p)
    found |= set(raw["feelings"]["words"]) | set(raw["validation"]["hard"]) | set(raw["questions"]["open_requests"])
    return tuple(sorted(p for p in found if re.fullmatch(r"[a-z' ]+", p)))
