"""Mouth opening per frame: the inner-lip gap over the distance between the eyes (scale-free).

opening = |p13 - p14| / |m_right - m_left|, where 13 and 14 are the middle of the upper and lower
inner lip and m_right, m_left the midpoints of each eye's corners (3D landmark distances, so a
turned head changes it little). About 0 closed, 0.1-0.5 while talking (for speaker attribution).
"""

from __future__ import annotations

import math

import numpy as np

from .._numba import kernel
from .face_geometry import EYE_CORNERS, INNER_LIPS
from .headpose import as_faces


def mouth_opening(faces: np.ndarray) -> np.ndarray:
    """Inner-lip gap over the eye-centre distance per frame [n] (NaN without a face)."""
    faces = as_faces(faces)
    out = np.empty(faces.shape[0])
    _opening(faces, INNER_LIPS, EYE_CORNERS, out)
    return out


@kernel
def _opening(faces, lips, corners, out):
    for f in range(faces.shape[0]):
        gap = 0.0
        eyes = 0.0
        for j in range(3):
            gap += (np.float64(faces[f, lips[0], j]) - faces[f, lips[1], j]) ** 2
            mid_r = 0.5 * (np.float64(faces[f, corners[0, 0], j]) + faces[f, corners[0, 1], j])
            mid_l = 0.5 * (np.float64(faces[f, corners[1, 0], j]) + faces[f, corners[1, 1], j])
            eyes += (mid_r - mid_l) ** 2
        out[f] = math.sqrt(gap) / math.sqrt(eyes) if eyes > 0 else np.nan


def closed_level(opening: np.ndarray, *, percentile: float) -> float:
    """The mouth's closed level: a low percentile of the opening over frames with a face (NaN if none)."""
    x = np.asarray(opening, np.float64)
    x = x[np.isfinite(x)]
    return float(np.percentile(x, percentile)) if x.size else float("nan")
