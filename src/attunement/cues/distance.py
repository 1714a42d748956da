"""Distance to the camera from the face's scale, anchored by the iris, and leaning in or back.

Pinhole camera: an object of size S mm at distance D mm spans f·S/D pixels, with the focal length
f = (width / 2) / tan(hfov / 2) pixels. The iris (11.7 mm across in adults, nearly the same in
everyone) sets how many millimetres one canonical unit of this person's face is; the face's
fitted scale (pixels per canonical unit, from dozens of rigid points) then gives the distance
in every frame with far less jitter than the iris alone:
D = f · iris_mm / (iris_units · scale), where iris_units is the person's iris diameter in
canonical units (median over a baseline or a batch).
"""

from __future__ import annotations

import math

import numpy as np

from .._numba import kernel
from ..errors import InputError
from .events import CueEvent, as_times, frame_ends
from .face_geometry import IRIS_RING
from .headpose import HeadPose, as_faces


def focal_length_px(width: int, hfov_deg: float) -> float:
    """Focal length in pixels of a camera `width` pixels wide with horizontal field of view `hfov_deg`."""
    if width <= 0 or not 0 < hfov_deg < 180:
        raise InputError(f"camera width {width} px and field of view {hfov_deg} deg: need width > 0 and 0 < fov < 180")
    return (width / 2) / math.tan(math.radians(hfov_deg) / 2)


def camera_intrinsics(size: tuple[int, int], hfov_deg: float) -> tuple[float, float, float]:
    """(focal length, principal point x, y) in pixels of an image of `size` (width, height), centre principal point."""
    return focal_length_px(size[0], hfov_deg), size[0] / 2, size[1] / 2


def iris_diameter_px(faces: np.ndarray) -> np.ndarray:
    """Mean of the horizontal and vertical image-plane iris diameters of both eyes [n], pixels (NaN without a face)."""
    faces = as_faces(faces)
    out = np.empty(faces.shape[0])
    _iris(faces, IRIS_RING, out)
    return out


@kernel
def _iris(faces, ring, out):
    for f in range(faces.shape[0]):
        total = 0.0
        for e in range(2):
            for a in range(2):
                p, q = ring[e, a], ring[e, a + 2]
                total += math.sqrt((np.float64(faces[f, p, 0]) - faces[f, q, 0]) ** 2
                                   + (np.float64(faces[f, p, 1]) - faces[f, q, 1]) ** 2)
        out[f] = total / 4.0


def iris_units(iris_px: np.ndarray, pose: HeadPose, *, usable: np.ndarray | None = None) -> float:
    """The person's iris diameter in canonical units: median of iris pixels / face scale over usable frames.

    NaN when no frame is usable (no face anywhere).
    """
    ratio = np.asarray(iris_px, np.float64) / pose.scale
    ok = np.isfinite(ratio) if usable is None else np.isfinite(ratio) & np.asarray(usable, bool)
    return float(np.median(ratio[ok])) if ok.any() else float("nan")


def distance_cm(pose: HeadPose, *, iris_units: float, focal_px: float, iris_diameter_mm: float) -> np.ndarray:
    """Distance from the camera to the face [n], centimetres (NaN without a face)."""
    if not (iris_units > 0 and focal_px > 0 and iris_diameter_mm > 0):
        raise InputError(f"distance needs iris_units ({iris_units}), focal_px ({focal_px}) and "
                         f"iris_diameter_mm ({iris_diameter_mm}) > 0")
    return focal_px * iris_diameter_mm / (iris_units * pose.scale) / 10.0


def lean_events(times: np.ndarray, distance: np.ndarray, *, baseline_cm: float, margin: float,
                release: float, hold_s: float, max_gap_s: float) -> list[CueEvent]:
    """Leaning in (nearer than the baseline by at least `margin`, e.g. 0.06 = 6%) and leaning back
    (farther by as much), each held at least `hold_s` seconds.

    A lean ends when the distance comes back within `release` of the baseline (hysteresis;
    release < margin). Frames without a face keep the state for up to `max_gap_s` seconds.
    Event amplitude: the median relative change over the event (negative = nearer).
    """
    times = as_times(times)
    dist = np.ascontiguousarray(distance, np.float64)
    if dist.shape != times.shape:
        raise ValueError(f"distances {dist.shape} must match the frame times {times.shape}")
    if not (baseline_cm > 0 and 0 <= release < margin < 1 and hold_s >= 0 and max_gap_s >= 0):
        raise InputError(f"lean needs baseline_cm ({baseline_cm}) > 0, 0 <= release ({release}) < margin "
                         f"({margin}) < 1, hold_s ({hold_s}) and max_gap_s ({max_gap_s}) >= 0")
    change = dist / baseline_cm - 1.0
    ends = frame_ends(times)
    events = []
    for kind, sign in (("lean_in", -1.0), ("lean_back", 1.0)):
        starts = np.empty(times.size, np.int64)
        stops = np.empty(times.size, np.int64)
        m = _held_runs(sign * change, times, ends, margin, release, hold_s, max_gap_s, starts, stops)
        for a, b in zip(starts[:m], stops[:m]):
            events.append(CueEvent(float(times[a]), float(ends[b]), kind, float(np.nanmedian(change[a:b + 1]))))
    return sorted(events)


@kernel
def _held_runs(x, times, ends, enter, leave, hold_s, max_gap_s, starts, stops):
    """Runs where x >= enter (staying while x > leave), NaN held up to max_gap_s, lasting >= hold_s."""
    m = 0
    inside = False
    first = 0
    last = 0
    for i in range(x.shape[0]):
        if not np.isfinite(x[i]):
            if inside and ends[i] - ends[last] > max_gap_s:
                inside = False
                if ends[last] - times[first] >= hold_s:
                    starts[m] = first
                    stops[m] = last
                    m += 1
            continue
        if inside:
            if x[i] > leave:
                last = i
                continue
            inside = False
            if ends[last] - times[first] >= hold_s:
                starts[m] = first
                stops[m] = last
                m += 1
        if x[i] >= enter:
            inside = True
            first = i
            last = i
    if inside and ends[last] - times[first] >= hold_s:
        starts[m] = first
        stops[m] = last
        m += 1
    return m
