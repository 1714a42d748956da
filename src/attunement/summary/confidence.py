"""How far the turn-taking of a review can be trusted: a level in [0, 1] and the reasons, like the
camera cues' (cues/confidence.py). Its evidence: voices, two or more people heard (a turn needs
someone to take it from); heard, the seconds of speech, full from 10 s (a few exchanges). Below
TRUST_LEVEL the summary says it could not judge the turn-taking and suggests nothing about it."""

from __future__ import annotations

from typing import Any

from ..cues.confidence import TRUST_LEVEL
from ..records import Review

#: Seconds of speech for full confidence in the turn-taking.
FULL_SPEECH_S = 10.0


def turn_taking_confidence(review: Review) -> dict[str, Any]:
    """{"level", "trusted", "evidence": {"voices", "heard"}, "why"} of the review's turn-taking."""
    per = review.turn_taking.per_speaker
    talk = [per[s].talk_time_s for s in review.speakers if per[s].talk_time_s > 0]
    seconds = float(sum(talk))
    voices = 1.0 if len(talk) >= 2 else 0.0
    heard = min(seconds / FULL_SPEECH_S, 1.0)
    why = []
    if voices < TRUST_LEVEL:
        why.append("no speech was heard" if not talk else "only one voice was heard")
    if heard < TRUST_LEVEL and talk:
        why.append(f"only {seconds:.0f} seconds of speech were heard")
    level = min(voices, heard)
    return {"level": round(level, 2), "trusted": level >= TRUST_LEVEL,
            "evidence": {"voices": voices, "heard": round(heard, 2)}, "why": why}
