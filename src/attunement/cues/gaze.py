"""Eye gaze from the irises, combined with head pose, and eye contact with the camera.

Eye model: each eyeball turns about a centre fixed in the head, `eyeball_radius_mm` behind the
iris centre (canonical offset from the midpoint of that eye's corners, `EYEBALLS`). Per frame
the centre is placed from the eye's corners and the head's apparent pose; the iris centre (mean
of the iris centre and ring landmarks) then lies at centre + radius · gaze, so the image offset
(iris - centre) / (scale · radius) gives the gaze direction's x and y as seen along the line of
sight (head and eyes together; (0, 0) = the iris in front of the eyeball's centre = looking into
the lens, exactly so under perspective too); the apparent head pose turns it into eye-in-head
angles. Only image x, y of the eye points are used (the landmark depth of irises is not
trusted). Angles follow headpose's conventions: yaw > 0 toward image right, pitch > 0 up. A
per-person bias of the eye-in-head angles (from a baseline while looking at the lens) is
subtracted before head and eyes are combined again, so that a turned head with compensating
eyes still points at the lens.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._numba import kernel
from ..errors import InputError
from .events import as_times, frame_ends
from .face_geometry import (
    CANONICAL,
    EYE_CORNERS,
    EYE_LIDS,
    EYEBALLS,
    IRIS_CENTRE,
    IRIS_RING,
    RIGID,
)
from .headpose import HeadPose, as_faces

#: Iris points averaged for each eye's iris centre: the centre and its four ring points.
IRIS_POINTS = np.concatenate([IRIS_CENTRE[:, None], IRIS_RING], axis=1)

# eye states for eye_contact
NO_FACE, EYES_OPEN, EYES_CLOSED = 0, 1, 2
#: An eye whose lid gap is under this share of the other eye's is winked shut: its iris landmarks
#: are not trusted, the open eye alone gives the gaze and the openness. Open eyes differ by 0.8-1.0
#: (head turns foreshorten one), a wink is 0.2-0.35 of the open eye (the real clip d3, winking
#: between looks at the lens); a blink or lowered lids close both, so neither is taken for a wink.
WINK_RATIO = 0.5


def _canonical_eye_offsets() -> np.ndarray:
    """Eyeball centre minus the midpoint of that eye's corners [2, 3], canonical mm."""
    where = {int(i): k for k, i in enumerate(RIGID)}
    mids = np.array([(CANONICAL[where[int(a)]] + CANONICAL[where[int(b)]]) / 2 for a, b in EYE_CORNERS])
    return EYEBALLS - mids


EYE_OFFSETS = _canonical_eye_offsets()


class EyeGaze(NamedTuple):
    """Per-frame gaze. eye float64 [n, 2]: eye-in-head yaw, pitch in degrees as measured (both
    eyes combined, no bias removed). gaze float64 [n, 2]: gaze yaw, pitch in degrees against the
    line of sight after the bias is removed; (0, 0) is into the lens. openness float64 [n]: lid gap
    over eye width, mean of both eyes, or of the open one in a wink (see WINK_RATIO; about 0.3-0.4
    open, under 0.15 closed). NaN without a face.
    """

    eye: np.ndarray
    gaze: np.ndarray
    openness: np.ndarray


class EyeFeatures(NamedTuple):
    """What gaze needs of each frame's eye landmarks, 40 bytes a frame instead of the face.

    offset float64 [n, 2, 2]: per eye (0, 1), the iris centre minus the eyeball centre's image
    (x, y), over the face scale: canonical units; a winked eye takes the open eye's offset, so the
    open eye alone sets the gaze. openness float64 [n]: as in EyeGaze.
    NaN without a face.
    """

    offset: np.ndarray
    openness: np.ndarray


def eye_features(faces: np.ndarray, pose: HeadPose) -> EyeFeatures:
    """The per-frame eye measurements of landmarks [n, 478, 3] (pixels) under their head pose."""
    faces = as_faces(faces)
    n = faces.shape[0]
    if pose.scale.shape != (n,):
        raise ValueError(f"head pose has {pose.scale.shape[0]} frames, landmarks have {n}")
    offset = np.empty((n, 2, 2))
    openness = np.empty(n)
    _features(faces, pose.apparent, pose.scale, IRIS_POINTS, EYE_CORNERS, EYE_LIDS, EYE_OFFSETS, offset, openness)
    return EyeFeatures(offset, openness)


def gaze_of(features: EyeFeatures, pose: HeadPose, *, radius_units: float,
            bias_deg: tuple[float, float] = (0.0, 0.0)) -> EyeGaze:
    """Gaze of each frame from its eye features and head pose.

    radius_units: the eyeball radius in canonical units for this person (see `radius_units`).
    bias_deg: (yaw, pitch) the person's measured eye-in-head angles exceed the true ones by.
    """
    n = features.openness.shape[0]
    if pose.scale.shape != (n,):
        raise ValueError(f"head pose has {pose.scale.shape[0]} frames, eye features have {n}")
    if not radius_units > 0:
        raise InputError(f"eyeball radius = {radius_units} canonical units: must be > 0")
    eye = np.empty((n, 2))
    gaze = np.empty((n, 2))
    _gaze(features.offset, pose.apparent, float(radius_units), math.radians(bias_deg[0]),
          math.radians(bias_deg[1]), eye, gaze)
    return EyeGaze(eye, gaze, features.openness)


def eye_gaze(faces: np.ndarray, pose: HeadPose, *, radius_units: float,
             bias_deg: tuple[float, float] = (0.0, 0.0)) -> EyeGaze:
    """Gaze of each frame from its landmarks [n, 478, 3] (pixels) and head pose (`gaze_of` of `eye_features`)."""
    return gaze_of(eye_features(faces, pose), pose, radius_units=radius_units, bias_deg=bias_deg)


def radius_units(iris_units: float, *, eyeball_radius_mm: float, iris_diameter_mm: float) -> float:
    """The eyeball radius in canonical units, for a person whose iris measures `iris_units` of them."""
    return eyeball_radius_mm * iris_units / iris_diameter_mm


@kernel
def _clamp_unit(x):
    """x clipped to [-1, 1] for asin/acos; NaN stays NaN (headpose has its own: no private import)."""
    if x > 1.0:
        return 1.0
    if x < -1.0:
        return -1.0
    return x


@kernel
def _direction(yaw, pitch, out):
    """Unit vector of yaw, pitch (radians): (sin y cos p, -sin p, -cos y cos p)."""
    out[0] = math.sin(yaw) * math.cos(pitch)
    out[1] = -math.sin(pitch)
    out[2] = -math.cos(yaw) * math.cos(pitch)


@kernel
def _features(faces, rot, scale, iris, corners, lids, offsets, offset, openness):
    op = np.empty(2)
    for f in range(faces.shape[0]):
        s = scale[f]
        if not np.isfinite(s):
            offset[f] = np.nan
            openness[f] = np.nan
            continue
        for e in range(2):
            ix = 0.0
            iy = 0.0
            for k in range(iris.shape[1]):
                ix += faces[f, iris[e, k], 0]
                iy += faces[f, iris[e, k], 1]
            ix /= iris.shape[1]
            iy /= iris.shape[1]
            a, b = corners[e, 0], corners[e, 1]
            cx = 0.5 * (np.float64(faces[f, a, 0]) + faces[f, b, 0])
            cy = 0.5 * (np.float64(faces[f, a, 1]) + faces[f, b, 1])
            ex = cx + s * (rot[f, 0, 0] * offsets[e, 0] + rot[f, 0, 1] * offsets[e, 1] + rot[f, 0, 2] * offsets[e, 2])
            ey = cy + s * (rot[f, 1, 0] * offsets[e, 0] + rot[f, 1, 1] * offsets[e, 1] + rot[f, 1, 2] * offsets[e, 2])
            offset[f, e, 0] = (ix - ex) / s
            offset[f, e, 1] = (iy - ey) / s
            width = 0.0
            gap = 0.0
            for j in range(3):
                width += (np.float64(faces[f, a, j]) - faces[f, b, j]) ** 2
                gap += (np.float64(faces[f, lids[e, 0], j]) - faces[f, lids[e, 1], j]) ** 2
            op[e] = math.sqrt(gap / width) if width > 0 else np.nan
        openness[f] = 0.5 * (op[0] + op[1])
        for e in range(2):  # a wink: the open eye (1 - e) alone
            if op[e] < WINK_RATIO * op[1 - e]:
                offset[f, e, 0] = offset[f, 1 - e, 0]
                offset[f, e, 1] = offset[f, 1 - e, 1]
                openness[f] = op[1 - e]


@kernel
def _gaze(offset, rot, radius, bias_y, bias_p, eye, gaze):
    g = np.empty(3)
    h = np.empty(3)
    for f in range(offset.shape[0]):
        if not np.isfinite(offset[f, 0, 0]):
            eye[f] = np.nan
            gaze[f] = np.nan
            continue
        h[:] = 0.0
        for e in range(2):
            vx = offset[f, e, 0] / radius
            vy = offset[f, e, 1] / radius
            norm2 = vx * vx + vy * vy
            if norm2 > 0.998:
                k2 = math.sqrt(0.998 / norm2)
                vx *= k2
                vy *= k2
                norm2 = 0.998
            vz = -math.sqrt(1.0 - norm2)
            for j in range(3):  # eye-in-head: R^T g
                h[j] += rot[f, 0, j] * vx + rot[f, 1, j] * vy + rot[f, 2, j] * vz
        norm = math.sqrt(h[0] * h[0] + h[1] * h[1] + h[2] * h[2])
        eye_y = math.atan2(h[0], -h[2])
        eye_p = math.asin(_clamp_unit(-h[1] / norm))
        eye[f, 0] = math.degrees(eye_y)
        eye[f, 1] = math.degrees(eye_p)
        _direction(eye_y - bias_y, eye_p - bias_p, h)
        for j in range(3):
            g[j] = rot[f, j, 0] * h[0] + rot[f, j, 1] * h[1] + rot[f, j, 2] * h[2]
        gaze[f, 0] = math.degrees(math.atan2(g[0], -g[2]))
        gaze[f, 1] = math.degrees(math.asin(_clamp_unit(-g[1])))


def angle_to(gaze_deg: np.ndarray, target_deg: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Angle in degrees [n] between each gaze direction (yaw, pitch) [n, 2] and a target direction."""
    gaze_deg = np.ascontiguousarray(gaze_deg, np.float64)
    if gaze_deg.ndim != 2 or gaze_deg.shape[1] != 2:
        raise ValueError(f"gaze must have shape (frames, 2), got {gaze_deg.shape}")
    out = np.empty(gaze_deg.shape[0])
    _angle_to(gaze_deg, math.radians(target_deg[0]), math.radians(target_deg[1]), out)
    return out


@kernel
def _angle_to(gaze, ty, tp, out):
    t = np.empty(3)
    g = np.empty(3)
    _direction(ty, tp, t)
    for f in range(gaze.shape[0]):
        if not (np.isfinite(gaze[f, 0]) and np.isfinite(gaze[f, 1])):
            out[f] = np.nan
            continue
        _direction(math.radians(gaze[f, 0]), math.radians(gaze[f, 1]), g)
        c = g[0] * t[0] + g[1] * t[1] + g[2] * t[2]
        out[f] = math.degrees(math.acos(_clamp_unit(c)))


def eye_states(gaze: EyeGaze, *, blink_openness: float) -> np.ndarray:
    """Per-frame int8 [n]: NO_FACE, EYES_OPEN, or EYES_CLOSED (lid gap under `blink_openness` of the eye width)."""
    state = np.full(gaze.openness.shape, EYES_OPEN, np.int8)
    state[gaze.openness < blink_openness] = EYES_CLOSED
    state[~np.isfinite(gaze.gaze[:, 0])] = NO_FACE
    return state


def eye_contact(times: np.ndarray, angle_deg: np.ndarray, state: np.ndarray, *, on_deg: float,
                off_deg: float, min_s: float, bridge_s: float) -> np.ndarray:
    """Eye contact per frame (bool [n]) from the gaze's angle to the lens [n] in degrees.

    Hysteresis: contact starts at angle <= on_deg and ends at angle > off_deg; closed eyes keep
    the state, no face ends it. Then breaks shorter than `bridge_s` seconds between two contacts
    are filled (glances, saccades; not through frames without a face), and contacts shorter than
    `min_s` seconds are dropped, if both their ends were seen: a contact running into the first
    or the last frame began before (or lasts beyond) the recording, so its length is unknown and
    it is kept (the real clip d3 opens on the lens and turns away after 0.13 s).
    """
    times = as_times(times)
    n = times.shape[0]
    angle = np.ascontiguousarray(angle_deg, np.float64)
    state = np.ascontiguousarray(state, np.int8)
    if angle.shape != (n,) or state.shape != (n,):
        raise ValueError(f"angles {angle.shape} and states {state.shape} must match the {n} frame times")
    if not 0 <= on_deg <= off_deg or min_s < 0 or bridge_s < 0:
        raise InputError(f"eye contact needs 0 <= on_deg ({on_deg}) <= off_deg ({off_deg}) and "
                         f"min_s ({min_s}), bridge_s ({bridge_s}) >= 0")
    out = np.empty(n, np.bool_)
    _contact(angle, state, times, frame_ends(times), float(on_deg), float(off_deg), float(min_s),
             float(bridge_s), out)
    return out


@kernel
def _contact(angle, state, times, ends, on_deg, off_deg, min_s, bridge_s, out):
    n = angle.shape[0]
    cur = False
    for i in range(n):
        if state[i] == NO_FACE:
            cur = False
        elif state[i] == EYES_OPEN and np.isfinite(angle[i]):
            if cur and angle[i] > off_deg:
                cur = False
            elif not cur and angle[i] <= on_deg:
                cur = True
        out[i] = cur
    i = 0
    while i < n:  # fill short breaks between contacts (never through a frame without a face)
        if out[i]:
            i += 1
            continue
        j = i
        face = state[i] != NO_FACE
        while j + 1 < n and not out[j + 1]:
            j += 1
            face = face and state[j] != NO_FACE
        if i > 0 and j + 1 < n and face and ends[j] - times[i] < bridge_s:
            out[i:j + 1] = True
        i = j + 1
    i = 0
    while i < n:  # drop short contacts whose start and end were both seen
        if not out[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and out[j + 1]:
            j += 1
        if i > 0 and j + 1 < n and ends[j] - times[i] < min_s:
            out[i:j + 1] = False
        i = j + 1


def lens_bias(geometry: EyeGaze, pose: HeadPose, *, target_deg: tuple[float, float],
              accept_deg: float, min_share: float, min_frames: int, max_shift_deg: float,
              blink_openness: float) -> tuple[tuple[float, float] | None, str]:
    """The person's eye-in-head bias from frames taken while they look at the lens.

    Only frames whose geometry-only gaze (`geometry`, computed with no bias) is already within
    `accept_deg` of the target count; they must be at least `min_share` of the frames with open
    eyes and at least `min_frames`. The bias is the median of measured minus required eye-in-head
    (yaw, pitch), degrees; it is refused when larger than `max_shift_deg`, so a person who looks
    away most of the time falls back to geometry instead of being re-centred on where they look.
    Returns (bias or None, a one-line reason).
    """
    open_eyes = np.isfinite(geometry.gaze[:, 0]) & ~(geometry.openness < blink_openness)
    near = open_eyes & (angle_to(geometry.gaze, target_deg) <= accept_deg)
    n_open, n_near = int(open_eyes.sum()), int(near.sum())
    if n_near < min_frames or n_near < min_share * n_open:
        return None, (f"only {n_near} of {n_open} frames with open eyes look within {accept_deg:g} deg "
                      f"of the lens (need {min_frames} and {min_share:.0%})")
    target = np.empty(3)
    _direction(math.radians(target_deg[0]), math.radians(target_deg[1]), target)
    need = np.einsum("nji,j->ni", pose.apparent[near], target)  # R^T · target, line-of-sight frame
    need_deg = np.degrees(np.stack([np.arctan2(need[:, 0], -need[:, 2]),
                                    np.arcsin(np.clip(-need[:, 1], -1, 1))], axis=1))
    bias = np.median(geometry.eye[near] - need_deg, axis=0)
    shift = float(np.hypot(*bias))
    if shift > max_shift_deg:
        return None, f"eye bias {shift:.1f} deg exceeds {max_shift_deg:g} deg"
    note = f"eye bias ({bias[0]:+.1f}, {bias[1]:+.1f}) deg from {n_near} of {n_open} frames"
    return (float(bias[0]), float(bias[1])), note
