"""All face cues of a batch of frames in one call: head pose, gaze and eye contact, distance and
leaning, nods and shakes, mouth opening.

Which baseline is used, in this order: a calibrated `Baseline` (profile) if given; else a
self-baseline from the session itself, the densest direction of gaze when it is plausible and
supported (gaze_baseline.densest_bias); else geometry alone. The lean reference distance is the
baseline's, else the median over the first `baseline_s` seconds with a face, else the batch median.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..config import CueConfig
from ..errors import InputError
from ..records import Landmarks
from .calibration import Baseline
from .distance import (
    camera_intrinsics,
    distance_cm,
    focal_length_px,
    iris_diameter_px,
    iris_units,
    lean_events,
)
from .events import CueEvent, as_times, runs_to_events
from .gaze import (
    EYES_OPEN,
    EyeFeatures,
    angle_to,
    eye_contact,
    eye_features,
    eye_states,
    gaze_of,
    radius_units,
)
from .gaze_baseline import densest_bias, lid_states
from .headpose import HeadPose, as_faces, fit_head_pose, pose_angles, relative_angles
from .mouth import mouth_opening
from .nods import head_gestures


@dataclass(frozen=True)
class FaceCues:
    """Per-frame face cues [n] on the frames' `times` (seconds), and the events found.

    head_deg [n, 3]: yaw, pitch, roll relative to the line of sight (0 = facing the camera).
    head_rel_deg [n, 3]: the head's turn in the camera frame since the baseline (without one:
    since facing along the optical axis); a sideways move does not turn it. gaze_deg [n, 2]:
    gaze yaw, pitch against the line of sight, (0, 0) into the lens; eye_deg [n, 2]: measured
    eye-in-head angles; eye_openness [n]: lid gap over eye width (under `blink_openness`: closed).
    lens_angle_deg [n]: angle from the gaze to the eye-contact target, degrees; eye_contact bool [n].
    distance_cm [n]; mouth [n]: mouth opening (mouth.py). baseline: "profile", "session" or
    "geometry", with `baseline_note` saying why and `baseline_support` how much of the session agreed
with a self-baseline (share of open-eye frames near it; 1 for a profile). All NaN (eye_contact False) without a face.
    """

    times: np.ndarray
    has_face: np.ndarray
    head_deg: np.ndarray
    head_rel_deg: np.ndarray
    eye_deg: np.ndarray
    gaze_deg: np.ndarray
    eye_openness: np.ndarray
    lens_angle_deg: np.ndarray
    eye_contact: np.ndarray
    distance_cm: np.ndarray
    mouth: np.ndarray
    events: tuple[CueEvent, ...]
    baseline: str
    baseline_note: str
    baseline_support: float = float("nan")

    @property
    def eye_contact_share(self) -> float:
        """Share of frames with a face that are in eye contact (NaN without any face)."""
        n = int(self.has_face.sum())
        return float(self.eye_contact[self.has_face].sum() / n) if n else float("nan")

    def of_kind(self, kind: str) -> list[CueEvent]:
        return [e for e in self.events if e.kind == kind]


def stack_landmarks(frames: Sequence[Landmarks]) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(faces float32 [n, 478, 3], times float64 [n], size) from a sequence of Landmarks of one camera."""
    if not frames:
        raise InputError("no landmark frames given")
    size = frames[0].size
    if any(f.size != size for f in frames):
        raise InputError(f"landmark frames come from different image sizes (first {size})")
    return (np.stack([f.face for f in frames]).astype(np.float32), np.array([f.t for f in frames], np.float64),
            (int(size[0]), int(size[1])))


class FaceFrames(NamedTuple):
    """The per-frame measurements of faces that the cues need, without the landmarks (about 260
    bytes a frame instead of 5.7 kB), so a long session keeps these and drops the landmarks:
    head pose, iris diameter (pixels [n]), eye features and mouth opening [n]."""

    pose: HeadPose
    iris_px: np.ndarray
    eyes: EyeFeatures
    mouth: np.ndarray

    def __len__(self) -> int:  # type: ignore[override]
        return int(self.mouth.shape[0])


def face_frames(faces: np.ndarray, size: tuple[int, int], *, config: CueConfig) -> FaceFrames:
    """The per-frame part of the face cues of landmarks [n, 478, 3] (pixels) from an image of `size`."""
    faces = as_faces(faces)
    pose = fit_head_pose(faces, camera=camera_intrinsics(size, config.camera_hfov_deg),
                         robust_mm=config.fit_robust_mm)
    return FaceFrames(pose, iris_diameter_px(faces), eye_features(faces, pose), mouth_opening(faces))


def join_frames(parts: Sequence[FaceFrames]) -> FaceFrames:
    """FaceFrames of consecutive batches joined in order (at least one batch)."""
    if not parts:
        raise InputError("no face frames to join")
    pose = HeadPose(*(np.concatenate([p.pose[k] for p in parts]) for k in range(len(HeadPose._fields))))
    eyes = EyeFeatures(*(np.concatenate([p.eyes[k] for p in parts]) for k in range(len(EyeFeatures._fields))))
    return FaceFrames(pose, np.concatenate([p.iris_px for p in parts]), eyes,
                      np.concatenate([p.mouth for p in parts]))


def analyze_face(faces: np.ndarray, times: np.ndarray, size: tuple[int, int], *, config: CueConfig,
                 baseline: Baseline | None = None, self_baseline: bool = True) -> FaceCues:
    """Face cues of frames [n, 478, 3] (pixels) at `times` [n] (seconds) from an image of `size` (w, h)."""
    return face_cues(face_frames(faces, size, config=config), times, size, config=config, baseline=baseline,
                     self_baseline=self_baseline)


def face_cues(frames: FaceFrames, times: np.ndarray, size: tuple[int, int], *, config: CueConfig,
              baseline: Baseline | None = None, self_baseline: bool = True) -> FaceCues:
    """Face cues of the per-frame measurements `frames` at `times` [n] (seconds): the parts that
    need the whole session (the person's iris size, eye bias, lean reference, events)."""
    pose = frames.pose
    times = as_times(times, len(frames))
    has_face = np.isfinite(pose.scale)
    head = pose_angles(pose.apparent)
    k = baseline.iris_units if baseline is not None else iris_units(frames.iris_px, pose)
    if not np.isfinite(k):  # no face in the whole batch
        k = config.iris_diameter_mm
    radius = radius_units(k, eyeball_radius_mm=config.eyeball_radius_mm, iris_diameter_mm=config.iris_diameter_mm)
    gaze = gaze_of(frames.eyes, pose, radius_units=radius)
    if baseline is not None:
        source, note, bias = "profile", f"calibrated baseline of {baseline.frames} frames", baseline.eye_bias_deg
        support = 1.0
    elif self_baseline:
        open_eyes = eye_states(gaze, blink_openness=config.blink_openness) == EYES_OPEN
        bias, support, note = densest_bias(gaze, pose, open_eyes=open_eyes, radius_deg=config.self_accept_deg,
                                           max_shift_deg=config.self_max_shift_deg,
                                           min_support=config.self_min_support,
                                           min_frames=config.baseline_min_frames)
        source = "session" if bias is not None else "geometry"
    else:
        source, note, bias, support = "geometry", "self-baseline not requested", None, float("nan")
    if bias is not None:
        gaze = gaze_of(frames.eyes, pose, radius_units=radius, bias_deg=bias)
    target = (config.camera_yaw_offset_deg, config.camera_pitch_offset_deg)
    angle = angle_to(gaze.gaze, target)
    state, held = lid_states(eye_states(gaze, blink_openness=config.blink_openness), gaze.openness, times, angle,
                             lowered_ratio=config.lowered_lid_ratio, hold_s=config.closed_hold_s)
    contact = eye_contact(times, held, state,
                          on_deg=config.contact_on_deg, off_deg=config.contact_off_deg,
                          min_s=config.contact_min_s, bridge_s=config.contact_bridge_s)
    focal = focal_length_px(size[0], config.camera_hfov_deg)
    dist = distance_cm(pose, iris_units=k, focal_px=focal, iris_diameter_mm=config.iris_diameter_mm)
    events = runs_to_events(times, contact, "eye_contact")
    reference = baseline.distance_cm if baseline is not None else _reference_distance(times, dist, config)
    if np.isfinite(reference):
        events += lean_events(times, dist, baseline_cm=reference, margin=config.lean_margin,
                              release=config.lean_release, hold_s=config.lean_hold_s, max_gap_s=config.gap_fill_s)
    rel = relative_angles(pose.rotation, baseline.rotation) if baseline is not None else pose_angles(pose.rotation)
    nods, shakes = head_gestures(times, rel[:, 1], rel[:, 0], config)
    return FaceCues(times=times, has_face=has_face, head_deg=head, head_rel_deg=rel, eye_deg=gaze.eye,
                    gaze_deg=gaze.gaze, eye_openness=gaze.openness, lens_angle_deg=angle, eye_contact=contact,
                    distance_cm=dist, mouth=frames.mouth, events=tuple(sorted(events + nods + shakes)),
                    baseline=source, baseline_note=note, baseline_support=support)


def _reference_distance(times: np.ndarray, dist: np.ndarray, config: CueConfig) -> float:
    """Median distance over the first baseline_s seconds with a face (enough frames), else over all."""
    ok = np.isfinite(dist)
    if not ok.any():
        return float("nan")
    first = ok & (times < times[ok][0] + config.baseline_s)
    pick = first if first.sum() >= config.baseline_min_frames else ok
    return float(np.median(dist[pick]))
