"""A gentle trend against the person's own earlier session, never against anyone else.

Compares the user's (`me`) turn-taking and eye contact in two review JSONs (docs/json-schema.md)
and says at most one kind sentence about what got better; nothing when nothing clearly did.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: How much better a measure must be before it is mentioned: interruptions per 10 minutes, the
#: share of talk time moved toward an even split, the eye-contact share.
MIN_FEWER_INTERRUPTIONS_PER_10MIN = 1.0
MIN_BALANCE_GAIN = 0.08
MIN_EYE_CONTACT_GAIN = 0.10


def _me(doc: dict[str, Any]) -> dict[str, Any] | None:
    return doc.get("turn_taking", {}).get("per_speaker", {}).get("me")


def _rate(doc: dict[str, Any]) -> float | None:
    me, minutes = _me(doc), doc.get("duration_s", 0.0) / 60.0
    return 10.0 * me["interruptions_made"] / minutes if me and minutes > 1.0 else None


def trend(current: dict[str, Any], earlier: dict[str, Any]) -> str | None:
    """One sentence about what improved since `earlier` (both review JSON objects), or None."""
    now, then = _me(current), _me(earlier)
    if now is None or then is None:
        return None
    r_now, r_then = _rate(current), _rate(earlier)
    if r_now is not None and r_then is not None and r_then - r_now >= MIN_FEWER_INTERRUPTIONS_PER_10MIN:
        return "You gave your partner more room to finish their thoughts than last time."
    if abs(then["talk_share"] - 0.5) - abs(now["talk_share"] - 0.5) >= MIN_BALANCE_GAIN:
        return "The talking was more evenly shared than last time."
    c_now = (current.get("cues") or {}).get("eye_contact_share_listening")
    c_then = (earlier.get("cues") or {}).get("eye_contact_share_listening")
    if c_now is not None and c_then is not None and c_now - c_then >= MIN_EYE_CONTACT_GAIN:
        return "You kept more eye contact while your partner spoke than last time."
    return None


def trend_since_last(folder: str | Path, past: list[dict]) -> str | None:
    """The trend of the session in `folder` against the latest session before it in `past`
    (history(), oldest first) that has a review."""
    folder = Path(folder)
    try:
        current = json.loads((folder / "review.json").read_text())
    except (OSError, ValueError):
        return None
    folders = [Path(entry["folder"]) for entry in past]  # oldest first
    earlier = folders[:folders.index(folder)] if folder in folders else folders
    for other in reversed(earlier):
        try:
            return trend(current, json.loads((other / "review.json").read_text()))
        except (OSError, ValueError):
            continue
    return None
