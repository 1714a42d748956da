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

from ..config import Config, default_config
from ..cues.calibration import Baseline
from ..cues.face import FaceCues, FaceFrames, face_cues, face_frames, join_frames
from ..cues.posture import Posture
from ..cues.posture import PostureFrames, posture_frames, posture_from
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
    """Per-frame face and posture measurements of a video, filled frame by frame: landmarks are
    buffered `chunk` frames at a time and then reduced to what the cues need (cues/face.py's
    FaceFrames, cues/posture.py's PostureFrames: about 300 bytes a frame instead of the
    landmarks' 6.6 kB), so an hour at 30 fps holds ~35 MB, not 0.7 GB. The reduction is per
    frame, so the cues are the same as from all landmarks at once (`analyze_face`, `posture`).

    `config`: the settings the per-frame part uses (camera field of view, fit robustness,
    posture thresholds; default: the shipped ones); `capacity`: the expected frame count.
    """

    def __init__(self, capacity: int = 1024, *, config: Config | None = None, chunk: int = 256):
        self.config = config if config is not None else default_config()
        self.n, self.size = 0, None
        self._times = np.empty(max(int(capacity), 16), np.float64)
        self._chunk = max(int(chunk), 1)
        self._faces = np.empty((self._chunk, FACE_POINTS, 3), np.float32)
        self._pose = np.empty((self._chunk, POSE_POINTS, 4), np.float32)
        self._world = np.empty((self._chunk, POSE_POINTS, 3), np.float32)
        self._buffered = 0
        self._face_parts: list[FaceFrames] = []
        self._posture_parts: list[PostureFrames] = []

    def add(self, marks: Landmarks) -> None:
        """Append one frame's landmarks (frames of one size, in time order)."""
        if self.size is None:
            self.size = (int(marks.size[0]), int(marks.size[1]))
        elif tuple(marks.size) != self.size:
            raise InputError(f"landmark frames come from different image sizes (first {self.size}, "
                             f"then {tuple(marks.size)} at {marks.t:.2f} s)")
        if self.n == self._times.shape[0]:
            self._times = np.concatenate([self._times, np.empty(self.n // 2, np.float64)])
        k = self._buffered
        self._faces[k], self._pose[k], self._world[k] = marks.face, marks.pose, marks.pose_world
        self._times[self.n] = marks.t
        self.n += 1
        self._buffered += 1
        if self._buffered == self._chunk:
            self._reduce()

    def _reduce(self) -> None:
        """The buffered frames -> their per-frame measurements; the buffer is reused."""
        k = self._buffered
        if k:
            self._face_parts.append(face_frames(self._faces[:k], self.size, config=self.config.cues))
            self._posture_parts.append(posture_frames(self._pose[:k], self._world[:k], self.size,
                                                      config=self.config.posture))
            self._buffered = 0

    def measured(self) -> tuple[FaceFrames, PostureFrames, np.ndarray]:
        """(face frames, posture frames, times [n] s) of every frame added so far (at least one)."""
        if not self.n:
            raise InputError("no landmark frames were added")
        self._reduce()
        if len(self._face_parts) > 1:  # keep one part, so the next call does not join again
            self._face_parts = [join_frames(self._face_parts)]
            self._posture_parts = [PostureFrames(*(np.concatenate(c) for c in zip(*self._posture_parts)))]
        return self._face_parts[0], self._posture_parts[0], self._times[:self.n]


def watch_video(path: str | Path, *, config: Config, profile: Baseline | None = None) -> Vision:
    """Landmarks of every frame of `path` (reduced as they come, see LandmarkTrack), then all face and posture cues."""
    with VideoReader(path) as reader, FaceBodyLandmarker(config.perception) as marker:
        track = LandmarkTrack(capacity=reader.info.frames + 16, config=config)
        for frame in reader.frames():
            track.add(marker.process(frame))
        problems = tuple(reader.problems)
    if not track.n:
        raise InputError(f"{path}: no video frames could be decoded")
    return vision_from_track(track, config=config, profile=profile, problems=problems)


def vision_from_track(track: LandmarkTrack, *, config: Config, profile: Baseline | None = None,
                      problems: tuple[str, ...] = ()) -> Vision:
    """All face and posture cues of the frames in `track` (at least one), and notes on the face's visibility.

    `config` must agree with the track's per-frame settings (camera, fit, posture)."""
    if (_per_frame(track.config) != _per_frame(config)):
        raise ValueError("the landmark track was reduced with other camera/posture settings than the review uses")
    frames, pframes, times = track.measured()
    face = face_cues(frames, times, track.size, config=config.cues, baseline=profile)
    posture = posture_from(pframes, config=config.posture)
    if not face.has_face.any():
        problems += ("no face was in view, so eye contact, leaning and nods could not be judged",)
    elif face.has_face.mean() < 0.8:
        problems += (f"the face was out of view for {100 * (1 - face.has_face.mean()):.0f}% of the video",)
    return Vision(face=face, posture=posture, problems=problems)


def _per_frame(config: Config) -> tuple:
    """The settings LandmarkTrack's per-frame reduction depends on."""
    return config.cues.camera_hfov_deg, config.cues.fit_robust_mm, config.posture


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
