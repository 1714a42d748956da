"""The review JSON's `cues` object: the camera cues of a review as shares, counts, events and a thinned series.

Shares count only frames where the cue could be measured; the JSON says how many could not.
Speaking and listening are the user's ("me") own voice activity and another speaker's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..cues.track import Vision
from ..intervals import inside
from ..records import Review, Segment

#: The cue series in the JSON is thinned to at most this rate, Hz (the full rate stays in memory).
SERIES_RATE_HZ = 10.0


def _share(flags: np.ndarray, mask: np.ndarray) -> float | None:
    """Share of finite `flags` (1.0 = yes) within `mask`; None when nothing there was measurable."""
    values = flags[mask & np.isfinite(flags)]
    return round(float(np.mean(values > 0.5)), 3) if values.size else None


def _listening_count(t: np.ndarray, segments: Sequence[Segment], me: str) -> int:
    """How many of the times `t` fall while another speaker talks and `me` does not."""
    if t.size == 0:
        return 0
    mine = inside(t, [s for s in segments if s.speaker == me])
    return int(np.sum(inside(t, [s for s in segments if s.speaker != me]) & ~mine))


def cues_to_json(vision: Vision, segments: Sequence[Segment], *, me: str | None) -> dict[str, Any]:
    """The `cues` object of the review JSON (docs/json-schema.md)."""
    face, post, t = vision.face, vision.posture, vision.times
    n = t.size
    seen = face.has_face
    speaking = inside(t, [s for s in segments if s.speaker == me]) if me else np.zeros(n, bool)
    others = inside(t, [s for s in segments if s.speaker != me]) if me else np.zeros(n, bool)
    listening = others & ~speaking
    contact = np.where(seen, face.eye_contact.astype(np.float32), np.nan)
    lean_in = np.zeros(n, np.float32)
    for e in face.of_kind("lean_in"):
        lean_in[(t >= e.start) & (t < e.end)] = 1.0
    lean_in[~seen] = np.nan
    nods = face.of_kind("nod")
    nod_t = np.array([(e.start + e.end) / 2 for e in nods])
    everywhere = np.ones(n, bool)
    return {
        "frames": int(n),
        "frames_without_face": int(n - seen.sum()),
        "frames_without_posture": int(np.sum(~np.isfinite(post.open))),
        "face_visible_share": round(float(seen.mean()), 3) if n else None,
        "eye_contact_share": _share(contact, everywhere),
        "eye_contact_share_speaking": _share(contact, speaking) if me else None,
        "eye_contact_share_listening": _share(contact, listening) if me else None,
        "open_posture_share": _share(post.open, everywhere),
        "arms_crossed_share": _share(post.crossed, everywhere),
        "shoulders_raised_share": _share(post.raised, everywhere),
        "lean_in_share": _share(lean_in, everywhere),
        "nods": len(nods),
        "nods_while_listening": _listening_count(nod_t, segments, me) if me else None,
        "baseline": face.baseline,
        "baseline_note": face.baseline_note,
        "baseline_support": None if not np.isfinite(face.baseline_support) else round(face.baseline_support, 3),
        "confidence": vision.confidence,
        "events": [{"kind": e.kind, "start": round(e.start, 3), "end": round(e.end, 3),
                    **({"amplitude": round(float(e.amplitude), 3)} if np.isfinite(e.amplitude) else {}),
                    **({"count": e.count} if e.count else {})} for e in face.events if e.kind != "eye_contact"],
        "series": _series(vision),
    }


def _series(vision: Vision) -> dict[str, list]:
    """Per-frame cues thinned to SERIES_RATE_HZ, NaN as null: the report's timeline ribbons."""
    t = vision.times
    keep, last = [], -np.inf
    for i, ti in enumerate(t):
        if ti >= last + 1.0 / SERIES_RATE_HZ - 1e-9:
            keep.append(i)
            last = ti
    idx = np.array(keep, dtype=int)
    face, post = vision.face, vision.posture

    def col(x, digits=3):
        return [None if not np.isfinite(v) else round(float(v), digits) for v in np.asarray(x, float)[idx]]

    return {"t": col(t), "face": [bool(v) for v in face.has_face[idx]],
            "eye_contact": [bool(v) for v in face.eye_contact[idx]],
            "yaw_deg": col(face.head_rel_deg[:, 0], 1), "pitch_deg": col(face.head_rel_deg[:, 1], 1),
            "distance_cm": col(face.distance_cm, 1), "mouth": col(face.mouth),
            "open_posture": col(post.open, 0), "arms_crossed": col(post.crossed, 0)}


def review_cues(review: Review) -> dict[str, Any] | None:
    """The camera cues of `review` as in its JSON (`cues`), or None without video."""
    return None if review.vision is None else cues_to_json(review.vision, review.segments, me=review.on_camera)
