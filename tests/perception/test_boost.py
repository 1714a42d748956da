"""Phrase boosting in the beam search (perception/boost.py): the prefix tree's bonus, exactly, on
made-up tokens; and on the real model, a bonus of 0 changes no word."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from attunement.config import default_config
from attunement.conversation.cue_phrases import boost_phrases, literal_openings
from attunement.perception.asr import Recognizer
from attunement.perception.boost import PhraseBoost, spellings

BYTES = [b"<unk>", b"<s>", b"</s>"] + [bytes([i]) for i in range(256)]
WORDS = ["\u2581I", "\u2581need", "\u2581leave", "\u2581That", "\u2581sound", "s", "\u2581Th", "at", "\u2581you", "\u2581needle"]
PIECES = BYTES + [w.encode() for w in WORDS]
ID = {w: len(BYTES) + k for k, w in enumerate(WORDS)}


def walk(boost: PhraseBoost, tokens: list[str]) -> tuple[list[float], float]:
    """Each token's score change in turn, and the bonus still pending at the end."""
    node, pending, gains = 0, 0.0, []
    for t in tokens:
        g, n, p = boost.gains(node, pending, np.array([ID[t]]))
        gains.append(float(g[0]))
        node, pending = int(n[0]), float(p[0])
    return gains, pending


def test_bonus_kept_for_a_complete_phrase_and_withdrawn_for_an_abandoned_one():
    b = PhraseBoost(["i need", "that sounds"], PIECES, 1.5)
    # complete: each phrase token gains 1.5, nothing pending
    assert walk(b, ["\u2581I", "\u2581need"]) == ([1.5, 1.5], 0.0)
    # abandoned after "I": its 1.5 withdrawn when "leave" comes, total 0
    assert walk(b, ["\u2581I", "\u2581leave"]) == ([1.5, -1.5], 0.0)
    # any tokenization of the phrase is followed ("Th" "at" "sound" "s"), the final "s" a byte's
    # token or a piece's alike
    assert walk(b, ["\u2581Th", "at", "\u2581sound", "s"]) == ([1.5] * 4, 0.0)
    # three tokens into "That sounds", then off it: all 4.5 withdrawn; then a fresh start
    assert walk(b, ["\u2581Th", "at", "\u2581sound", "\u2581you", "\u2581I", "\u2581need"]) == ([1.5, 1.5, 1.5, -4.5, 1.5, 1.5], 0.0)
    # "I" again while "I" is pending: the first withdrawn, the second starts the phrase afresh
    assert walk(b, ["\u2581I", "\u2581I", "\u2581need"]) == ([1.5, 0.0, 1.5], 0.0)
    # a phrase left unfinished at the end stays pending, for the beam to withdraw
    assert walk(b, ["\u2581That", "\u2581sound"]) == ([1.5, 1.5], 3.0)
    # "needle" does not continue "I need" (its text runs past the phrase): "I" withdrawn
    assert walk(b, ["\u2581I", "\u2581needle"]) == ([1.5, -1.5], 0.0)
    # a phrase only starts at a word start: "at" alone gains nothing
    assert walk(b, ["at", "\u2581you"]) == ([0.0, 0.0], 0.0)


def test_spellings_and_lexicon_openings():
    assert spellings("i am sad") == {"I am sad", "I'm sad"}
    assert spellings("that sounds") == {"that sounds", "That sounds"}
    assert literal_openings(r"\bi (?:(?:ADV) )*(?:do )?(?:need|want) (?:ADJ)\b") == {"i need", "i want", "i do need", "i do want"}
    assert literal_openings(r"^(?=.*\byour?\b).*\b(?:sounds) (?:HARD)") == set()
    phrases = set(boost_phrases())
    assert {"i need", "that sounds", "that must be", "stressful", "i feel", "tell me more"} <= phrases and "what" not in phrases


@pytest.mark.realdata
def test_a_bonus_of_zero_changes_no_word(shared_data):
    """With the boost off (0, the default) the recognizer has no phrase tree; a tree with a zero
    bonus (every phrase token's candidates added to the beam's) says the same words as none."""
    from attunement.session.words import recognizer as product_recognizer
    from attunement.sources.media import read_audio

    cfg = default_config().words
    assert Recognizer.load(config=dataclasses.replace(cfg, boost=0.0), phrases=boost_phrases()).boost is None
    assert product_recognizer(cfg).boost is not None and product_recognizer(cfg).boost.bonus == cfg.boost > 0
    names = [line.split("\t")[0] for line in (shared_data / "speech" / "transcripts.tsv").read_text().splitlines()]
    x = read_audio(shared_data / "conversations" / "sample.wav")[0][0]
    audio = [read_audio(shared_data / "speech" / n)[0][0] for n in names] + [x[k:k + 64000] for k in range(0, x.size - 64000, 64000)]
    plain = Recognizer.load(threads=1)
    zero = Recognizer.load(threads=1, config=dataclasses.replace(cfg, boost=1.0, threads=1), phrases=boost_phrases())
    zero.boost = PhraseBoost(boost_phrases(), zero.tokenizer.pieces, 0.0)
    said = plain.recognize(audio)
    assert zero.recognize(audio) == said and sum(bool(t) for t in said) >= len(names)
