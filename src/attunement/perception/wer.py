"""Word error rate: word-level Levenshtein distance over normalised words (as jiwer computes it).

WER = (substitutions + deletions + insertions) / reference words, summed over all pairs before
dividing (a corpus WER, not a mean of per-sentence rates).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_NOT_WORD = re.compile(r"[^a-z0-9' ]+")


def normalize(text: str) -> list[str]:
    """Lower-case words without punctuation (apostrophes kept: "don't"); hyphens split words."""
    return _NOT_WORD.sub(" ", text.lower().replace("-", " ")).split()


def word_errors(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Fewest substitutions, deletions and insertions turning `ref` into `hyp` (O(len(ref) * len(hyp)))."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diag, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (r != h))
    return row[-1]


def word_error_rate(pairs: Iterable[tuple[str, str]]) -> float:
    """Corpus WER of (reference, hypothesis) texts; 0.0 when the references hold no words."""
    errors = words = 0
    for ref, hyp in pairs:
        r = normalize(ref)
        errors += word_errors(r, normalize(hyp))
        words += len(r)
    return errors / words if words else 0.0
