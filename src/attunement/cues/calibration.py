"""A person's neutral baseline from the first seconds of a session, kept as a JSON profile.

The person is asked to sit as usual and look into the lens for a few seconds. The baseline
holds the medians over those frames (with a face and open eyes) of head pose, the eye-in-head
bias (measured minus the angle that points at the lens), the iris size in canonical units,
the distance and the closed-mouth level. It is refused when too few frames had a face or when
the person was not facing the lens (the same test that guards the self-baseline in gaze.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import CueConfig
from ..errors import InputError
from .distance import (
    camera_intrinsics,
    distance_cm,
    focal_length_px,
    iris_diameter_px,
    iris_units,
)
from .events import as_times
from .gaze import eye_gaze, lens_bias, radius_units
from .headpose import as_faces, fit_head_pose, pose_angles, rotation_from_angles
from .mouth import closed_level, mouth_opening

PROFILE_VERSION = 1


@dataclass(frozen=True)
class Baseline:
    """Neutral baseline of one person and camera.

    head_deg: median (yaw, pitch, roll) in the camera frame, degrees: the reference of relative
    head pose. eye_bias_deg: (yaw, pitch) by which measured eye-in-head angles exceed the true
    ones while looking at the lens. iris_units: iris diameter in canonical units. distance_cm:
    median distance. mouth_closed: low percentile of the mouth opening. frames: frames with open
    eyes used; start_s, end_s: the window, seconds; image_size: (width, height) pixels.
    """

    head_deg: tuple[float, float, float]
    eye_bias_deg: tuple[float, float]
    iris_units: float
    distance_cm: float
    mouth_closed: float
    frames: int
    start_s: float
    end_s: float
    image_size: tuple[int, int]

    @property
    def rotation(self) -> np.ndarray:
        """The baseline head rotation [3, 3] (camera from head)."""
        return rotation_from_angles(*self.head_deg)


def calibrate(faces: np.ndarray, times: np.ndarray, size: tuple[int, int], *, config: CueConfig,
              start_s: float | None = None) -> Baseline:
    """Baseline from the frames in [start_s, start_s + config.baseline_s) (start: the first frame).

    faces float [n, 478, 3] pixels, times [n] seconds, size (width, height) pixels. Raises
    InputError (one line, saying why) when the baseline must be refused.
    """
    faces = as_faces(faces)
    times = as_times(times, faces.shape[0])
    t0 = float(times[0]) if start_s is None else float(start_s)
    window = (times >= t0) & (times < t0 + config.baseline_s)
    faces, times = faces[window], times[window]
    pose = fit_head_pose(faces, camera=camera_intrinsics(size, config.camera_hfov_deg),
                         robust_mm=config.fit_robust_mm)
    has_face = np.isfinite(pose.scale)
    n_win, n_face = int(window.sum()), int(has_face.sum())
    if n_face < config.baseline_min_frames or n_face < config.baseline_min_share * n_win:
        raise InputError(f"calibration refused: a face in {n_face} of {n_win} frames of the {config.baseline_s:g} s "
                         f"from {t0:.1f} s (need {config.baseline_min_frames} and {config.baseline_min_share:.0%})")
    iris_px = iris_diameter_px(faces)
    k = iris_units(iris_px, pose)
    radius = radius_units(k, eyeball_radius_mm=config.eyeball_radius_mm, iris_diameter_mm=config.iris_diameter_mm)
    geometry = eye_gaze(faces, pose, radius_units=radius)
    open_eyes = has_face & ~(geometry.openness < config.blink_openness)
    facing = np.median(pose_angles(pose.apparent)[has_face], axis=0)
    if max(abs(facing[0]), abs(facing[1])) > config.baseline_max_head_deg:
        raise InputError(f"calibration refused: head turned away from the camera (yaw {facing[0]:.0f}, pitch "
                         f"{facing[1]:.0f} deg; at most {config.baseline_max_head_deg:g})")
    head = np.median(pose_angles(pose.rotation)[has_face], axis=0)
    bias, why = lens_bias(geometry, pose, target_deg=(0.0, 0.0), accept_deg=config.calibration_accept_deg,
                          min_share=config.baseline_min_share, min_frames=config.baseline_min_frames,
                          max_shift_deg=config.calibration_max_shift_deg, blink_openness=config.blink_openness)
    if bias is None:
        raise InputError(f"calibration refused: not looking at the lens ({why})")
    focal = focal_length_px(size[0], config.camera_hfov_deg)
    dist = distance_cm(pose, iris_units=k, focal_px=focal, iris_diameter_mm=config.iris_diameter_mm)
    mouth = closed_level(mouth_opening(faces)[has_face], percentile=config.mouth_closed_percentile)
    return Baseline(head_deg=(float(head[0]), float(head[1]), float(head[2])), eye_bias_deg=bias,
                    iris_units=k, distance_cm=float(np.nanmedian(dist)), mouth_closed=mouth,
                    frames=int(open_eyes.sum()), start_s=t0, end_s=t0 + config.baseline_s,
                    image_size=(int(size[0]), int(size[1])))


def save_profile(baseline: Baseline, path: str | Path) -> None:
    """Write the baseline as JSON to `path`, readable by the owner only (mode 0600)."""
    data = {"version": PROFILE_VERSION, **dataclasses.asdict(baseline)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)
        json.dump(data, f, indent=1)
        f.write("\n")


def load_profile(path: str | Path) -> Baseline:
    """Read a profile written by `save_profile`; InputError naming the file if it cannot be used."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise InputError(f"calibration profile not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"calibration profile {path} is not readable JSON: {e}") from None
    version = data.get("version") if isinstance(data, dict) else None
    if version != PROFILE_VERSION:
        raise InputError(f"calibration profile {path}: unknown version {version!r} (expected {PROFILE_VERSION})")
    fields = {f.name for f in dataclasses.fields(Baseline)}
    got = set(data) - {"version"}
    if got != fields:
        raise InputError(f"calibration profile {path}: missing {sorted(fields - got)}, unknown {sorted(got - fields)}")
    try:
        baseline = Baseline(head_deg=tuple(float(v) for v in data["head_deg"]),
                            eye_bias_deg=tuple(float(v) for v in data["eye_bias_deg"]),
                            iris_units=float(data["iris_units"]), distance_cm=float(data["distance_cm"]),
                            mouth_closed=float(data["mouth_closed"]), frames=int(data["frames"]),
                            start_s=float(data["start_s"]), end_s=float(data["end_s"]),
                            image_size=tuple(int(v) for v in data["image_size"]))
    except (TypeError, ValueError) as e:
        raise InputError(f"calibration profile {path}: bad value ({e})") from None
    if len(baseline.head_deg) != 3 or len(baseline.eye_bias_deg) != 2 or len(baseline.image_size) != 2 \
            or not (baseline.iris_units > 0 and baseline.distance_cm > 0):
        raise InputError(f"calibration profile {path}: values out of range")
    return baseline
