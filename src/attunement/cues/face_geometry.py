"""Which face-mesh landmarks the cues use, and the canonical frontal face they are fitted to.

mediapipe's canonical face model is not in the wheel, so the canonical face is built from
geometry (`build_canonical`): the landmarks of a real, near-frontal portrait looking at the
lens (matplotlib's public-domain `grace_hopper.jpg`), turned so that the face is mirror
symmetric about the plane x = 0 (yaw and roll from its left/right landmark pairs; pitch as
the portrait holds it), scaled to millimetres by the iris (mean of the horizontal and vertical
iris diameters = 11.7 mm, as MediaPipe Iris measures it) and symmetrised (each pair averaged
with its mirror image). `CANONICAL` holds the result for the rigid points; a test rebuilds it
from the portrait. Head frame: x toward image right of a frontal face (the person's left),
y down, z away from the camera (the face looks along -z); origin at the rigid points' centroid.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

# Face-mesh indices (refined, 478 points). "Right"/"left" are the person's: their right eye is
# on the image left. 468 is the centre of the person's right iris, 469-472 its ring
# (inner, top, outer, bottom); 473 the left iris centre, 474-477 its ring (outer, top, inner, bottom).
IRIS_CENTRE = np.array([468, 473], np.int64)
IRIS_RING = np.array([[469, 470, 471, 472], [474, 475, 476, 477]], np.int64)
#: Eye corners per eye: (outer, inner), and lids at the middle of the eye: (upper, lower).
EYE_CORNERS = np.array([[33, 133], [263, 362]], np.int64)
EYE_LIDS = np.array([[159, 145], [386, 374]], np.int64)
#: Inner lips: middle of the upper and the lower lip's inner edge.
INNER_LIPS = np.array([13, 14], np.int64)

#: Rigid points on the midline: forehead, nose bridge and ridge, nose tip.
MIDLINE = (10, 151, 168, 6, 197, 195, 5, 4, 1)
#: Rigid mirror pairs (person's right, person's left): upper forehead, temples, eye corners,
#: lateral cheekbones, sides of the nose. Not lips, jaw, brows or the soft cheeks that smile.
PAIRS = (
    (109, 338), (67, 297), (103, 332), (54, 284),            # upper forehead
    (21, 251), (71, 301), (139, 368), (162, 389),            # temples
    (33, 263), (133, 362), (130, 359),                       # eye corners
    (116, 345), (123, 352), (111, 340), (143, 372),          # cheekbones (lateral)
    (48, 278), (115, 344), (131, 360), (122, 351), (196, 419), (3, 248), (174, 399),
    (188, 412), (114, 343), (47, 277), (217, 437), (128, 357), (245, 465), (193, 417),  # nose
)
RIGID = np.array(MIDLINE + tuple(i for pair in PAIRS for i in pair), np.int64)

#: Canonical coordinates of RIGID (same order), millimetres, head frame. Made by
#: `build_canonical` from the grace_hopper.jpg landmarks (mediapipe 0.10.21, static image mode).
CANONICAL = np.array([
    [0.00, -49.37, -9.49], [0.00, -35.41, -12.63], [0.00, -6.26, -12.45], [0.00, 1.59, -16.64],
    [0.00, 8.83, -21.64], [0.00, 15.80, -26.98], [0.00, 23.39, -32.52], [0.00, 32.27, -34.67],
    [0.00, 38.61, -32.22], [-20.14, -48.96, -7.96], [20.14, -48.96, -7.96], [-37.16, -46.82, -1.46],
    [37.16, -46.82, -1.46], [-52.67, -42.02, 9.92], [52.67, -42.02, 9.92], [-62.20, -34.30, 23.40],
    [62.20, -34.30, 23.40], [-67.72, -24.47, 36.47], [67.72, -24.47, 36.47], [-63.70, -20.24, 22.52],
    [63.70, -20.24, 22.52], [-66.89, -10.59, 33.20], [66.89, -10.59, 33.20], [-70.48, -13.78, 50.37],
    [70.48, -13.78, 50.37], [-46.10, -4.37, 10.02], [46.10, -4.37, 10.02], [-17.31, -2.88, 4.77],
    [17.31, -2.88, 4.77], [-48.68, -3.78, 11.17], [48.68, -3.78, 11.17], [-64.31, 13.11, 23.42],
    [64.31, 13.11, 23.42], [-62.83, 25.94, 22.41], [62.83, 25.94, 22.41], [-57.50, 8.47, 16.21],
    [57.50, 8.47, 16.21], [-63.75, 0.72, 24.96], [63.75, 0.72, 24.96], [-20.66, 35.13, -15.89],
    [20.66, 35.13, -15.89], [-16.72, 33.38, -22.32], [16.72, 33.38, -22.32], [-16.82, 29.03, -20.10],
    [16.82, 29.03, -20.10], [-6.11, 2.98, -14.10], [6.11, 2.98, -14.10], [-5.95, 10.06, -20.11],
    [5.95, 10.06, -20.11], [-5.55, 16.65, -24.75], [5.55, 16.65, -24.75], [-10.31, 13.13, -15.55],
    [10.31, 13.13, -15.55], [-10.15, 6.44, -10.09], [10.15, 6.44, -10.09], [-14.36, 10.71, -6.99],
    [14.36, 10.71, -6.99], [-18.66, 14.61, -4.48], [18.66, 14.61, -4.48], [-14.19, 17.05, -10.80],
    [14.19, 17.05, -10.80], [-13.46, 5.48, -2.31], [13.46, 5.48, -2.31], [-10.01, 0.90, -4.26],
    [10.01, 0.90, -4.26], [-7.73, -6.34, -8.05], [7.73, -6.34, -8.05],
])
#: Eyeball centres (person's right, left), millimetres, head frame: 12 mm behind the iris
#: centres along the portrait's line of sight to the lens.
EYEBALLS = np.array([[-32.52, -5.41, 16.46], [32.52, -5.41, 16.46]])


def build_canonical(face: np.ndarray, *, iris_mm: float = 11.7,
                    eyeball_mm: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """Canonical frontal face from the landmarks of one near-frontal face looking at the lens.

    face float [478, 3] pixels (x right, y down, z depth in pixel scale). Returns
    (rigid [len(RIGID), 3], eyeballs [2, 3]) in millimetres in the head frame (module docstring).
    """
    face = np.asarray(face, np.float64)
    if face.shape != (478, 3) or not np.isfinite(face).all():
        raise InputError(f"build_canonical needs one finite face of 478 points, got shape {face.shape}")
    axes = frontal_axes(face)
    mm_per_px = iris_mm / float(np.mean(iris_diameters_2d(face)))
    centre = face[RIGID].mean(axis=0)
    head = (face - centre) @ axes.T * mm_per_px
    mirror = np.array([-1.0, 1.0, 1.0])
    for a, b in PAIRS + ((IRIS_CENTRE[0], IRIS_CENTRE[1]),):
        avg = (head[a] + head[b] * mirror) / 2
        head[a], head[b] = avg, avg * mirror
    for i in MIDLINE:
        head[i, 0] = 0.0
    away = axes @ np.array([0.0, 0.0, 1.0])  # the camera's +z (away from the lens), head frame
    eyeballs = head[IRIS_CENTRE] + eyeball_mm * away
    eyeballs[:, 0] = np.array([-1.0, 1.0]) * (eyeballs[1, 0] - eyeballs[0, 0]) / 2  # symmetric
    eyeballs[:, 1:] = eyeballs[:, 1:].mean(axis=0)
    origin = head[RIGID].mean(axis=0)
    return head[RIGID] - origin, eyeballs - origin


def frontal_axes(face: np.ndarray, view: np.ndarray | None = None) -> np.ndarray:
    """Rows x, y, z of the head frame in camera coordinates, for a near-frontal face [478, 3].

    x: the common direction of the mirror pairs (person's right to left, i.e. image right);
    z: the line of sight `view` (default the camera's z) made orthogonal to x, so the face's pitch
    is kept as photographed; y = z × x.
    """
    diffs = np.array([face[b] - face[a] for a, b in PAIRS], np.float64)
    x = diffs.sum(axis=0)
    x /= np.linalg.norm(x)
    view = np.array([0.0, 0.0, 1.0]) if view is None else np.asarray(view, np.float64) / np.linalg.norm(view)
    z = view - (view @ x) * x
    z /= np.linalg.norm(z)
    return np.stack([x, np.cross(z, x), z])


def iris_diameters_2d(face: np.ndarray) -> np.ndarray:
    """Horizontal and vertical iris diameters of both eyes in the image plane [4], pixels."""
    ring = np.asarray(face, np.float64)[IRIS_RING][..., :2]
    return np.concatenate([np.linalg.norm(ring[:, 0] - ring[:, 2], axis=-1),
                           np.linalg.norm(ring[:, 1] - ring[:, 3], axis=-1)])
