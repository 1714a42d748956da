"""Per-frame cues of one frame's landmarks, for the live store and `attune check`."""

from __future__ import annotations

import numpy as np

from ..config import CueConfig
from ..records import Landmarks
from .distance import camera_intrinsics
from .gaze import eye_gaze, radius_units
from .headpose import fit_head_pose
from .mouth import mouth_opening


def frame_cues(marks: Landmarks, config: CueConfig) -> np.ndarray:
    """The per-frame cue kernels a live session runs on one frame's face: head pose, gaze
    and mouth opening. Returns float [5]: yaw, pitch (deg, apparent), eye gaze yaw, pitch
    (deg), mouth opening (NaN without a face)."""
    faces = marks.face[None]
    pose = fit_head_pose(faces, camera=camera_intrinsics(marks.size, config.camera_hfov_deg),
                         robust_mm=config.fit_robust_mm)
    radius = radius_units(config.iris_diameter_mm, eyeball_radius_mm=config.eyeball_radius_mm,
                          iris_diameter_mm=config.iris_diameter_mm)
    gaze = eye_gaze(faces, pose, radius_units=radius)
    return np.concatenate([gaze.eye[0], gaze.gaze[0], mouth_opening(faces)])
