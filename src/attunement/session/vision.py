"""The camera half of a review: video frames -> landmarks -> face and posture cues -> shares.

Shares count only frames where the cue could be measured; the JSON says how many could not.
Speaking and listening are the user's ("me") own voice activity and another speaker's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..cues.calibration import Baseline
from ..cues.face import FaceCues, analyze_face
from ..cues.posture import Posture
from ..cues.posture import posture as posture_cues
from ..errors import InputError
from ..perception.landmarks import FaceBodyLandmarker
from ..records import FACE_POINTS, POSE_POINTS, Landmarks, Segment
from ..sources.video import VideoReader

log = logging.getLogger(__name__)

#: The cue series in the JSON is thinned to at most this rate, Hz (the full rate stays in memory).
SERIES_RATE_HZ = 10.0


@dataclass(frozen=True)
class Vision:
    """Per-frame face and posture cues of one video, on the session clock."""

    face: FaceCues
    posture: Posture
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def times(self) -> np.ndarray:
        return self.face.times


class LandmarkTrack:
    """Landmarks of a video's frames kept as compact float32 arrays (about 6.6 kB a frame: face
    [478, 3], pose [33, 4], pose_world [33, 3], time), filled frame by frame; no per-frame objects.

    `capacity`: the expected frame count (grown by half when exceeded).
    """

    def __init__(self, capacity: int = 1024):
        self.n, self.size = 0, None
        self._alloc(max(int(capacity), 16))

    def _alloc(self, cap: int) -> None:
        old = getattr(self, "faces", None)
        fields = {"faces": (FACE_POINTS, 3), "pose": (POSE_POINTS, 4), "pose_world": (POSE_POINTS, 3)}
        for name, tail in fields.items():
            grown = np.empty((cap, *tail), np.float32)
            if old is not None:
                grown[:self.n] = getattr(self, name)[:self.n]
            setattr(self, name, grown)
        times = np.empty(cap, np.float64)
        if old is not None:
            times[:self.n] = self.times[:self.n]
        self.times = times

    def add(self, marks: Landmarks) -> None:
        """Append one frame's landmarks (frames of one size, in time order)."""
        if self.size is None:
            self.size = (int(marks.size[0]), int(marks.size[1]))
        elif tuple(marks.size) != self.size:
            raise InputError(f"landmark frames come from different image sizes (first {self.size}, "
                             f"then {tuple(marks.size)} at {marks.t:.2f} s)")
        if self.n == self.times.shape[0]:
            self._alloc(self.n + self.n // 2)
        k = self.n
        self.faces[k], self.pose[k], self.pose_world[k] = marks.face, marks.pose, marks.pose_world
        self.times[k] = marks.t
        self.n += 1

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(faces [n, 478, 3], pose [n, 33, 4], pose_world [n, 33, 3], times [n]): views, no copies."""
        n = self.n
        return self.faces[:n], self.pose[:n], self.pose_world[:n], self.times[:n]


def watch_video(path: str | Path, *, config: Config, profile: Baseline | None = None) -> Vision:
    """Landmarks of every frame of `path` (kept as compact arrays), then all face and posture cues."""
    with VideoReader(path) as reader, FaceBodyLandmarker(config.perception) as marker:
        track = LandmarkTrack(capacity=reader.info.frames + 16)
        for frame in reader.frames():
            track.add(marker.process(frame))
        problems = tuple(reader.problems)
    if not track.n:
        raise InputError(f"{path}: no video frames could be decoded")
    return vision_from_track(track, config=config, profile=profile, problems=problems)


def vision_from_track(track: LandmarkTrack, *, config: Config, profile: Baseline | None = None,
                      problems: tuple[str, ...] = ()) -> Vision:
    """All face and posture cues of the frames in `track` (at least one), and notes on the face's visibility."""
    faces, pose, world, times = track.arrays()
    face = analyze_face(faces, times, track.size, config=config.cues, baseline=profile)
    posture = posture_cues(pose, world, track.size, config=config.posture)
    if not face.has_face.any():
        problems += ("no face was in view, so eye contact, leaning and nods could not be judged",)
    elif face.has_face.mean() < 0.8:
        problems += (f"the face was out of view for {100 * (1 - face.has_face.mean()):.0f}% of the video",)
    return Vision(face=face, posture=posture, problems=problems)


def inside(times: np.ndarray, segments: Sequence[Segment]) -> np.ndarray:
    """bool [n]: which `times` fall inside any of `segments`."""
    out = np.zeros(times.shape, dtype=bool)
    for s in segments:
        out |= (times >= s.start) & (times < s.end)
    return out


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
