"""The camera half of a review: video frames -> landmarks -> face and posture cues -> shares.

Shares count only frames where the cue could be measured; the JSON says how many could not.
Speaking and listening are the user's ("me") own voice activity and another speaker's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ..config import Config, default_config
from ..errors import InputError
from ..records import FACE_POINTS, POSE_POINTS, Landmarks
from .calibration import Baseline
from .confidence import cue_confidence
from .face import FaceCues, FaceFrames, face_cues, face_frames, join_frames
from .posture import Posture, PostureFrames, posture_frames, posture_from

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Vision:
    """Per-frame face and posture cues of one video, on the session clock."""

    face: FaceCues
    posture: Posture
    problems: tuple[str, ...] = field(default_factory=tuple)
    confidence: dict = field(default_factory=dict)  # cue -> {"level", "trusted", "evidence", "why"} (confidence.py)

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
    iris = frames.iris_px[face.has_face]
    confidence = cue_confidence(face, posture_seen=np.isfinite(posture.open),
                                iris_px=float(np.median(iris)) if iris.size else float("nan"),
                                steady_share=config.cues.self_min_support)
    return Vision(face=face, posture=posture, problems=problems, confidence=confidence)


def _per_frame(config: Config) -> tuple:
    """The settings LandmarkTrack's per-frame reduction depends on."""
    return config.cues.camera_hfov_deg, config.cues.fit_robust_mm, config.posture


