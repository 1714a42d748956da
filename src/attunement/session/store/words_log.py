"""The words a live session heard, appended to its store as they are produced (`words.log`), so a
session that is killed is rebuilt with the same words and language cues as one that ended.

One record per recognised word: its utterance (a running index), the utterance's span, the word's
span (seconds on the session clock), the live speaker (a channel index; 0 on one shared
microphone, where the speakers are only known at the end), the index of its sentence in the
utterance, and that sentence's cue labels (a bit per `CUES` entry), whether it starts "I feel…"
and its filler count (on its first word). The word's text is stored only when words are kept
(`--keep-words`, docs/privacy.md); otherwise the field is empty and the log holds times and
labels, nothing that was said.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...conversation.language_rules import CUES
from ...perception.asr import Utterance, Word
from ..words import Heard, Sentence

#: Stream name of the words log in the session folder.
STREAM = "words"
#: Longest word text kept, bytes of UTF-8 (a longer token is cut; only with --keep-words).
TEXT_BYTES = 64

WORDS_DTYPE = np.dtype([("u", "<i4"), ("u0", "<f8"), ("u1", "<f8"), ("t0", "<f8"), ("t1", "<f8"),
                        ("speaker", "<i2"), ("s", "<i2"), ("labels", "<u2"), ("feeling", "?"),
                        ("fillers", "u1"), ("text", f"S{TEXT_BYTES}")])


def heard_records(k: int, heard: Heard, *, channel: int, keep_words: bool) -> np.ndarray:
    """`heard` (utterance number `k`, live speaker `channel`) as words-log records."""
    u = heard.utterance
    rec = np.zeros(len(u.words), WORDS_DTYPE)
    rec["u"], rec["u0"], rec["u1"], rec["speaker"] = k, u.start, u.end, channel
    rec["t0"] = [w.start for w in u.words]
    rec["t1"] = [w.end for w in u.words]
    for j, s in enumerate(heard.sentences):
        rec["s"][s.first:s.last] = j
        rec["labels"][s.first:s.last] = sum(1 << CUES.index(c) for c in s.labels if c in CUES)
        rec["feeling"][s.first:s.last] = s.feeling
        if s.last > s.first:
            rec["fillers"][s.first] = min(s.fillers, 255)
    if keep_words:
        rec["text"] = [w.text.encode("utf-8")[:TEXT_BYTES] for w in u.words]
    return rec


def heard_from_records(rec: np.ndarray, *, names: Sequence[str]) -> tuple[Heard, ...]:
    """The utterances of a words log (`names`: live speaker name per channel index), in the order
    they were heard; word and sentence texts are "" where the words were not kept."""
    out = []
    if not rec.size:
        return ()
    starts = np.flatnonzero(np.r_[True, rec["u"][1:] != rec["u"][:-1]])
    for a, b in zip(starts, np.r_[starts[1:], rec.size]):
        rows = rec[a:b]
        ch = int(rows["speaker"][0])
        speaker = names[ch] if 0 <= ch < len(names) else ""
        words = tuple(Word(speaker, float(r["t0"]), float(r["t1"]), bytes(r["text"]).decode("utf-8", "replace"))
                      for r in rows)
        sentences = []
        edges = np.flatnonzero(np.r_[True, rows["s"][1:] != rows["s"][:-1]])
        for s0, s1 in zip(edges, np.r_[edges[1:], rows.size]):
            bits = int(rows["labels"][s0])
            sentences.append(Sentence(int(s0), int(s1), frozenset(c for i, c in enumerate(CUES) if bits >> i & 1),
                                      bool(rows["feeling"][s0]), int(rows["fillers"][s0]),
                                      " ".join(w.text for w in words[s0:s1] if w.text)))
        text = " ".join(w.text for w in words if w.text)
        out.append(Heard(Utterance(speaker, float(rows["u0"][0]), float(rows["u1"][0]), text, words), tuple(sentences)))
    return tuple(out)


__all__ = ["STREAM", "WORDS_DTYPE", "heard_records", "heard_from_records"]
