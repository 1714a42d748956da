"""A self-baseline for eye contact without calibration: the densest direction of gaze.

Each open-eye frame says what eye-in-head bias it would imply if the person were looking into
the lens in that frame (measured minus required eye-in-head angles). Frames that truly look at
the lens agree on one value (the person's own offset of iris and eye corners against the
canonical face); frames looking elsewhere scatter. So the bias is the densest point of those
implied biases: the centre of the largest group within `radius_deg` of one another, refined
by the median of the group. It is accepted only when it is plausible (at most `max_shift_deg`:
a larger steady offset more likely means the person looked at a screen or notes) and supported
(at least `min_support` of the open-eye frames and `min_frames` of them), and its confidence is
that support: how much of the session agrees with it.

Why not "frames already within 10 deg of the lens": a person whose geometry is off by 10-12 deg
(face shape unlike the canonical face, eye corners set differently) has almost no such frames,
so the baseline was refused exactly for the people who needed it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._numba import kernel
from .gaze import EYES_CLOSED, EYES_OPEN, NO_FACE, EyeGaze
from .headpose import HeadPose


class GazeBaseline(NamedTuple):
    """bias_deg: (yaw, pitch) to subtract from eye-in-head angles, or None when refused.
    support: share of open-eye frames within the radius of it (0 without any), the confidence.
    note: one line saying why."""

    bias_deg: tuple[float, float] | None
    support: float
    note: str


def implied_bias(geometry: EyeGaze, pose: HeadPose, target_deg: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Per frame [n, 2] (yaw, pitch) deg: measured minus the eye-in-head angles that look at `target_deg`."""
    ty, tp = math.radians(target_deg[0]), math.radians(target_deg[1])
    target = np.array([math.sin(ty) * math.cos(tp), -math.sin(tp), -math.cos(ty) * math.cos(tp)])
    need = np.einsum("nji,j->ni", pose.apparent, target)  # R^T · target, line-of-sight frame
    need_deg = np.degrees(np.stack([np.arctan2(need[:, 0], -need[:, 2]),
                                    np.arcsin(np.clip(-need[:, 1], -1, 1))], axis=1))
    return geometry.eye - need_deg


def densest_bias(geometry: EyeGaze, pose: HeadPose, *, open_eyes: np.ndarray, radius_deg: float,
                 max_shift_deg: float, min_support: float, min_frames: int,
                 target_deg: tuple[float, float] = (0.0, 0.0)) -> GazeBaseline:
    """The self-baseline of a session (module docstring); `open_eyes` bool [n] marks the usable frames."""
    implied = implied_bias(geometry, pose, target_deg)
    ok = open_eyes & np.isfinite(implied).all(axis=1)
    pts = implied[ok]
    n = pts.shape[0]
    if n < min_frames:
        return GazeBaseline(None, 0.0, f"only {n} frames with open eyes (need {min_frames})")
    cand = pts[:: max(1, n // 400)]  # candidates: at most ~800 frames; counts over all of them
    centre = cand[int(np.argmax(neighbour_counts(np.ascontiguousarray(cand), np.ascontiguousarray(pts),
                                                 float(radius_deg))))]
    for _ in range(3):  # the median of the group, then the group around that
        group = np.hypot(*(pts - centre).T) <= radius_deg
        centre = np.median(pts[group], axis=0)
    group = np.hypot(*(pts - centre).T) <= radius_deg
    support = float(group.mean())
    shift = float(np.hypot(*centre))
    where = f"({centre[0]:+.1f}, {centre[1]:+.1f}) deg from {int(group.sum())} of {n} open-eye frames"
    if int(group.sum()) < min_frames or support < min_support:
        return GazeBaseline(None, support, f"no steady direction of gaze: the densest, {where}, holds "
                                           f"{support:.0%} (need {min_support:.0%} and {min_frames} frames)")
    if shift > max_shift_deg:
        return GazeBaseline(None, support, f"the steadiest gaze is {shift:.1f} deg from the lens ({where}), more "
                                           f"than the {max_shift_deg:g} deg a personal eye offset plausibly is")
    return GazeBaseline((float(centre[0]), float(centre[1])), support, f"eye bias {where}")


@kernel
def neighbour_counts(cand, pts, radius):
    """For each candidate [m, 2] (deg), how many points [n, 2] lie within `radius` deg of it: int64 [m].
    A loop, not an [m, n] distance matrix: an hour of video at 15 Hz made that matrix 0.5 GB."""
    out = np.zeros(cand.shape[0], np.int64)
    r2 = radius * radius
    for i in range(cand.shape[0]):
        c = 0
        for j in range(pts.shape[0]):
            dy = pts[j, 0] - cand[i, 0]
            dp = pts[j, 1] - cand[i, 1]
            if dy * dy + dp * dp <= r2:
                c += 1
        out[i] = c
    return out


def angle_noise_deg(angle_deg: np.ndarray, contact: np.ndarray) -> float:
    """Landmark jitter as seen in the lens angle: median |frame-to-frame change| in degrees over
    consecutive frames both in contact (NaN with fewer than 10 such pairs)."""
    a = np.asarray(angle_deg, np.float64)
    both = contact[1:] & contact[:-1] & np.isfinite(a[1:]) & np.isfinite(a[:-1])
    if both.sum() < 10:
        return float("nan")
    return float(np.median(np.abs(np.diff(a))[both]))




def lid_states(state: np.ndarray, openness: np.ndarray, times: np.ndarray, angle_deg: np.ndarray, *,
               lowered_ratio: float, hold_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Eye states and lens angles [n] with lowered lids and long closures made explicit.

    Lids lowered below `lowered_ratio` of the person's open level (90th percentile of the lid
    gap) count as closed: looking down at notes or a phone lowers the lids and the iris
    landmarks then read too little of the turn. A closure (or lowered lids) that lasts longer
    than `hold_s` (a blink and the lids opening again) is not a blink: the whole run reads as open eyes looking away (angle 180 deg),
    so it ends eye contact instead of keeping it. Returns new (state int8, angle float64) arrays.
    """
    state = np.array(state, np.int8)
    angle = np.array(angle_deg, np.float64)
    face = state != NO_FACE
    if face.any():
        level = float(np.nanpercentile(openness[face], 90))
        state[face & (openness < lowered_ratio * level)] = EYES_CLOSED
    closed = state == EYES_CLOSED
    edges = np.flatnonzero(np.diff(np.concatenate([[0], closed.astype(np.int8), [0]])))
    step = float(np.median(np.diff(times))) if times.shape[0] > 1 else 0.0
    for a, b in zip(edges[::2], edges[1::2]):
        if times[b - 1] + step - times[a] > hold_s:
            state[a:b] = EYES_OPEN
            angle[a:b] = 180.0
    return state, angle
