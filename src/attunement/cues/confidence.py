"""How far each camera cue of a video can be trusted: a level in [0, 1] and the reasons.

Every cue's level is the weakest of the evidence it rests on, each scored in [0, 1]:

- seen: the share of frames with a face (posture: with shoulders and arms), and at least
  `MIN_SEEN_S` seconds of it;
- face size: the median iris diameter in pixels (eye contact only), full at >= 5 px (the real
  clips at a third of their size, 4.7-7.9 px, still read their labels), none at 2.5 px;
- landmark jitter: the median frame-to-frame change of the lens angle while in contact, full up
  to 1.5 deg (the real clips: 0.24-1.05 deg), none at 4 deg;
- baseline: a calibration 1; a self-baseline its support (share of open-eye frames that agree
  with it) over 0.6, at most 1; geometry alone 0.6 when the gaze never held one direction (the
  person looked around: the labelled real clip d3 still read right), 0.3 when it held steadily
  one direction too far from the lens to be a personal offset: either the person looked at
  something else (a screen, notes) or the geometry is off for this face, and nothing here can
  tell which.

Below `TRUST_LEVEL` the summary says it could not judge the cue and why, and suggests nothing
about it (summary/text.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .face import FaceCues
from .gaze_baseline import angle_noise_deg

#: Below this level a cue is reported as not judged (no strength, no suggestion from it).
TRUST_LEVEL = 0.5
#: Seconds of a face (or of shoulders) needed for full confidence.
MIN_SEEN_S = 3.0


def _ramp(x: float, zero: float, full: float) -> float:
    """0 at `zero`, 1 at `full`, linear between (either direction); NaN reads 0."""
    if not np.isfinite(x):
        return 0.0
    return float(np.clip((x - zero) / (full - zero), 0.0, 1.0))


def _level(parts: dict[str, tuple[float, str]]) -> dict[str, Any]:
    """{"level", "trusted", "evidence": {name: score}, "why": reasons of the parts under TRUST_LEVEL}."""
    level = min(score for score, _ in parts.values())
    return {"level": round(level, 2), "trusted": level >= TRUST_LEVEL,
            "evidence": {k: round(score, 2) for k, (score, _) in parts.items()},
            "why": [why for score, why in parts.values() if score < TRUST_LEVEL]}


def _seen(mask: np.ndarray, step_s: float, what: str) -> tuple[float, str]:
    n = mask.shape[0]
    share = float(mask.mean()) if n else 0.0
    seconds = float(mask.sum()) * step_s
    score = min(share / 0.5, _ramp(seconds, 0.0, MIN_SEEN_S))  # half the video seen is enough
    return score, f"{what} was in view for only {seconds:.0f} s, {'under half' if share < 0.5 else 'part'} of the video"


def cue_confidence(face: FaceCues, *, posture_seen: np.ndarray, iris_px: float,
                   steady_share: float) -> dict[str, dict[str, Any]]:
    """Confidence of each camera cue: eye_contact, lean_in, nods, posture (see the module docstring).

    posture_seen bool [n]: frames whose shoulders and arms were measured; iris_px: median iris
    diameter in pixels over the frames with a face; steady_share: the support at which a
    direction of gaze counts as held steadily (`[cues] self_min_support`)."""
    t = face.times
    step = float(np.median(np.diff(t))) if t.shape[0] > 1 else 0.0
    face_seen = _seen(face.has_face, step, "the face")
    size = (_ramp(iris_px, 2.5, 5.0), f"the face was small in the picture (iris {iris_px:.1f} px across)")
    noise = angle_noise_deg(face.lens_angle_deg, face.eye_contact)
    jitter = (1.0 if not np.isfinite(noise) else _ramp(noise, 4.0, 1.5),
              f"the eye landmarks jittered ({noise:.1f} deg from frame to frame)")
    if face.baseline == "profile":
        base = (1.0, "")
    elif face.baseline == "session":
        base = (min(1.0, face.baseline_support / 0.6),
                "the gaze seldom settled on one direction, so where the lens is could not be told")
    elif face.baseline_support >= steady_share:  # refused as implausible, not for want of support
        base = (0.3, "the gaze held steadily one direction too far from the lens to tell a look at a screen or "
                     "notes from how this face's eyes are set (a calibration, attune calibrate, would tell)")
    else:
        base = (0.6, "")
    return {
        "eye_contact": _level({"seen": face_seen, "face_size": size, "jitter": jitter, "baseline": base}),
        "lean_in": _level({"seen": face_seen}),
        "nods": _level({"seen": face_seen}),
        "posture": _level({"seen": _seen(posture_seen, step, "the upper body")}),
    }
