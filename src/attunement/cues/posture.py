"""Open posture from mediapipe Pose landmarks: arms crossed, hands hidden or clasped, shoulders raised.

Per frame, in a body frame fixed to the shoulders: origin at their midpoint, a along the line
from the right shoulder (12) to the left (11), b perpendicular to it (down the torso), both in
shoulder widths (sw), so body size, position and a sideways tilt do not matter (turns and leans
up to 10 degrees are tested). Every flag is float32 1.0 (yes), 0.0 (no) or NaN (cannot be seen:
no body, shoulders not visible, the hands out of the picture). A landmark with visibility below
`min_visibility` counts as not found; its predicted position is used only to tell a hand hidden
inside the picture (behind the back, under an arm; judged only when the torso is in the
picture) from one outside it. Definitions, thresholds and sources: docs/posture.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._numba import kernel
from ..config import PostureConfig
from ..errors import InputError
from ..records import POSE_POINTS, Landmarks

# mediapipe Pose indices
LEFT_EAR, RIGHT_EAR = 7, 8
LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_ELBOW, RIGHT_ELBOW, LEFT_WRIST, RIGHT_WRIST = 11, 12, 13, 14, 15, 16

# wrist states (see _wrist_state)
SEEN, HIDDEN, OUT = 0, 1, 2

# order of the thresholds in the kernels' `params` array
(_MIN_VIS, _CROSS_MARGIN, _TORSO_TOP, _TORSO_BOTTOM, _FOREARM_GAP, _CLASP_DIST, _CHEST_TOP, _CHEST_BOTTOM,
 _CHEST_HALF, _BEHIND_M) = range(10)


class Posture(NamedTuple):
    """Per-frame posture, float32 [shape=(n,)], 1.0 / 0.0 / NaN (unknown).

    crossed: arms crossed over the torso. hidden: both hands hidden (out of sight inside the
    picture, or behind the back). clasped: both hands together in front of the chest. hands:
    hidden or clasped. raised: shoulders raised toward the ears. open: none of crossed, hands,
    raised (NaN when one is unknown and none is yes). ratio: how far the ears sit above the
    shoulder line, in shoulder widths (NaN without shoulders or ears); baseline: the person's
    usual ratio, against which `raised` was judged.
    """

    crossed: np.ndarray
    hidden: np.ndarray
    clasped: np.ndarray
    hands: np.ndarray
    raised: np.ndarray
    open: np.ndarray
    ratio: np.ndarray
    baseline: float


def posture(pose: np.ndarray, pose_world: np.ndarray, size: tuple[int, int], *, config: PostureConfig,
            baseline: float | None = None) -> Posture:
    """Posture of n frames of one person.

    pose float [n, 33, 4]: x, y, z in pixels and visibility 0..1; pose_world float [n, 33, 3]
    in metres (NaN where unknown; may be all NaN); size (width, height) of the frames in
    pixels. `baseline`: the person's usual ear-above-shoulder ratio (shoulder widths); None
    takes the `baseline_percentile` of this batch's ratios.
    """
    return posture_from(posture_frames(pose, pose_world, size, config=config), config=config, baseline=baseline)


class PostureFrames(NamedTuple):
    """The per-frame part of posture (float32 [n] each, 16 bytes a frame instead of the pose
    landmarks' 924): arms crossed, hands hidden, hands clasped (1/0/NaN), ear-above-shoulder ratio."""

    crossed: np.ndarray
    hidden: np.ndarray
    clasped: np.ndarray
    ratio: np.ndarray


def posture_frames(pose: np.ndarray, pose_world: np.ndarray, size: tuple[int, int], *,
                   config: PostureConfig) -> PostureFrames:
    """The per-frame geometry of posture (arguments as `posture`), before the person's baseline is known."""
    pose = _array(pose, (POSE_POINTS, 4), "pose")
    world = _array(pose_world, (POSE_POINTS, 3), "pose_world")
    if world.shape[0] != pose.shape[0]:
        raise ValueError(f"pose has {pose.shape[0]} frames but pose_world has {world.shape[0]}")
    width, height = (float(s) for s in size)
    if not (width > 0 and height > 0):
        raise ValueError(f"frame size {size} must be positive (width, height) in pixels")
    n = pose.shape[0]
    crossed, hidden, clasped, ratio = (np.empty(n, np.float32) for _ in range(4))
    _geometry(pose, world, width, height, _params(config), crossed, hidden, clasped, ratio)
    return PostureFrames(crossed, hidden, clasped, ratio)


def posture_from(frames: PostureFrames, *, config: PostureConfig, baseline: float | None = None) -> Posture:
    """Posture of per-frame geometry `frames`: shoulders raised against `baseline` (None: this batch's)."""
    crossed, hidden, clasped, ratio = frames
    if baseline is None:
        baseline = shoulder_baseline(ratio, percentile=config.baseline_percentile)
    n = ratio.shape[0]
    hands, raised, is_open = (np.empty(n, np.float32) for _ in range(3))
    _combine(crossed, hidden, clasped, ratio, float(baseline), float(config.raise_margin_sw), hands, raised, is_open)
    return Posture(crossed, hidden, clasped, hands, raised, is_open, ratio, float(baseline))


def posture_of(frames: Sequence[Landmarks], *, config: PostureConfig, baseline: float | None = None) -> Posture:
    """`posture` of a sequence of Landmarks records of one camera (all of one frame size)."""
    if not frames:
        raise ValueError("posture_of needs at least one Landmarks record")
    sizes = {tuple(f.size) for f in frames}
    if len(sizes) != 1:
        raise InputError(f"all frames must have one size, got {sorted(sizes)}")
    pose = np.stack([f.pose for f in frames])
    world = np.stack([f.pose_world for f in frames])
    return posture(pose, world, sizes.pop(), config=config, baseline=baseline)


def shoulder_baseline(ratio: np.ndarray, *, percentile: float = 50.0) -> float:
    """The person's usual ear-above-shoulder ratio: a percentile of the finite `ratio` values (NaN if none)."""
    ratio = np.asarray(ratio, np.float64)
    finite = ratio[np.isfinite(ratio)]
    return float(np.percentile(finite, percentile)) if finite.size else float("nan")


def _array(x: np.ndarray, tail: tuple[int, int], name: str) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[1:] != tail:
        raise ValueError(f"{name} must be [n, {tail[0]}, {tail[1]}] (mediapipe Pose), got shape {x.shape}")
    return np.ascontiguousarray(x)


def _params(c: PostureConfig) -> np.ndarray:
    return np.array([c.min_visibility, c.cross_margin_sw, c.torso_top_sw, c.torso_bottom_sw, c.forearm_gap_sw,
                     c.clasp_distance_sw, c.chest_top_sw, c.chest_bottom_sw, c.chest_half_width_sw, c.behind_m])


# ---------------------------------------------------------------- kernels

@kernel
def _geometry(pose, world, width, height, params, crossed, hidden, clasped, ratio):
    """Fill crossed, hidden, clasped (1/0/NaN) and the ear ratio of each frame."""
    for f in range(pose.shape[0]):
        p = pose[f]
        crossed[f] = hidden[f] = clasped[f] = ratio[f] = np.nan
        if not (_seen(p, LEFT_SHOULDER, params) and _seen(p, RIGHT_SHOULDER, params)):
            continue
        ox = 0.5 * (p[LEFT_SHOULDER, 0] + p[RIGHT_SHOULDER, 0])
        oy = 0.5 * (p[LEFT_SHOULDER, 1] + p[RIGHT_SHOULDER, 1])
        dx, dy = p[LEFT_SHOULDER, 0] - p[RIGHT_SHOULDER, 0], p[LEFT_SHOULDER, 1] - p[RIGHT_SHOULDER, 1]
        sw = np.sqrt(dx * dx + dy * dy)
        if sw < 1e-6:
            continue
        ux, uy = dx / sw, dy / sw  # the a axis; the b axis is (-uy, ux)
        ratio[f] = _ear_ratio(p, ox, oy, ux, uy, sw, params)
        torso_in = _torso_in_frame(ox, oy, ux, uy, sw, width, height, params)
        state_l = _wrist_state(p, world[f], LEFT_WRIST, width, height, torso_in, params)
        state_r = _wrist_state(p, world[f], RIGHT_WRIST, width, height, torso_in, params)
        al, bl = _body(p, LEFT_WRIST, ox, oy, ux, uy, sw)
        ar, br = _body(p, RIGHT_WRIST, ox, oy, ux, uy, sw)
        hidden[f] = _hidden(state_l, state_r)
        clasped[f] = _clasped(state_l, state_r, al, bl, ar, br, params)
        crossed[f] = _crossed(p, state_l, state_r, al, bl, ar, br, torso_in, ox, oy, ux, uy, sw, params)


@kernel
def _ear_ratio(p, ox, oy, ux, uy, sw, params):
    """Mean height of the seen ears above the shoulder line, in shoulder widths (NaN without ears)."""
    total, count = 0.0, 0
    for ear in (LEFT_EAR, RIGHT_EAR):
        if _seen(p, ear, params):
            total -= (-(p[ear, 0] - ox) * uy + (p[ear, 1] - oy) * ux) / sw
            count += 1
    return total / count if count else np.nan


@kernel
def _hidden(state_l, state_r):
    """Both hands hidden is yes, one in sight is no."""
    if state_l == SEEN or state_r == SEEN:
        return 0.0
    return 1.0 if state_l == HIDDEN and state_r == HIDDEN else np.nan


@kernel
def _clasped(state_l, state_r, al, bl, ar, br, params):
    """Both wrists in front of the chest and close together; a seen wrist elsewhere is no."""
    in_l = state_l == SEEN and _in_chest(al, bl, params)
    in_r = state_r == SEEN and _in_chest(ar, br, params)
    if (state_l == SEEN and not in_l) or (state_r == SEEN and not in_r):
        return 0.0
    if in_l and in_r:
        return 1.0 if np.hypot(al - ar, bl - br) <= params[_CLASP_DIST] else 0.0
    return np.nan


@kernel
def _crossed(p, state_l, state_r, al, bl, ar, br, torso_in, ox, oy, ux, uy, sw, params):
    """Wrists at torso height on each other's side, forearms across each other."""
    if state_l == SEEN and state_r == SEEN:
        if ar - al >= params[_CROSS_MARGIN] and _forearms_cross(p, al, bl, ar, br, ox, oy, ux, uy, sw, params):
            return 1.0
        return 0.0
    if (state_l == SEEN and (al >= 0.5 or not _at_torso(bl, params))) or \
            (state_r == SEEN and (ar <= -0.5 or not _at_torso(br, params))):
        return 0.0  # one arm visibly not across the body
    if (state_l == OUT or state_r == OUT) and torso_in:
        return 0.0  # a hand outside the picture is not across a torso that is inside it
    return np.nan


@kernel
def _combine(crossed, hidden, clasped, ratio, baseline, margin, hands, raised, is_open):
    """hands = hidden or clasped; raised = ratio <= baseline - margin; open = not (crossed or hands or raised)."""
    for f in range(crossed.shape[0]):
        hands[f] = _or(hidden[f], clasped[f])
        r = ratio[f]
        raised[f] = np.nan if not (np.isfinite(r) and np.isfinite(baseline)) else (
            1.0 if r <= baseline - margin else 0.0)
        closed = _or(_or(crossed[f], hands[f]), raised[f])
        is_open[f] = np.nan if np.isnan(closed) else 1.0 - closed


@kernel
def _or(x, y):
    """Three-valued or: yes if either is yes, no if both are no, else unknown (NaN)."""
    if x == 1.0 or y == 1.0:
        return 1.0
    if x == 0.0 and y == 0.0:
        return 0.0
    return np.nan


@kernel
def _seen(p, k, params):
    return p[k, 3] >= params[_MIN_VIS] and np.isfinite(p[k, 0]) and np.isfinite(p[k, 1])


@kernel
def _body(p, k, ox, oy, ux, uy, sw):
    """(a, b) of landmark k in shoulder widths: a toward the left shoulder, b down the torso."""
    x, y = p[k, 0] - ox, p[k, 1] - oy
    return (x * ux + y * uy) / sw, (-x * uy + y * ux) / sw


@kernel
def _wrist_state(p, world, k, width, height, torso_in, params):
    """SEEN: visible and not behind the back. HIDDEN: not visible although predicted inside the
    picture while the torso is in it, or visible yet more than `behind_m` behind the shoulders.
    OUT: not visible and predicted outside the picture, or the torso is not in the picture."""
    x, y = p[k, 0], p[k, 1]
    if not _seen(p, k, params):
        inside = np.isfinite(x) and np.isfinite(y) and 0.0 <= x < width and 0.0 <= y < height
        return HIDDEN if inside and torso_in else OUT
    if _behind(world, k) > params[_BEHIND_M]:  # False when NaN
        return HIDDEN
    return SEEN


@kernel
def _behind(world, k):
    """How far (m) world point k lies behind the shoulders: along the horizontal normal of the
    shoulder line (the shoulder line x the camera's down axis), so a turn of the body is
    followed; NaN without the shoulders' or the point's world coordinates."""
    ex = world[LEFT_SHOULDER, 0] - world[RIGHT_SHOULDER, 0]
    ez = world[LEFT_SHOULDER, 2] - world[RIGHT_SHOULDER, 2]
    norm = np.sqrt(ex * ex + ez * ez)  # |shoulder line x (0, 1, 0)|
    if not norm > 1e-9:
        return np.nan
    nx, nz = -ez / norm, ex / norm
    sx = 0.5 * (world[LEFT_SHOULDER, 0] + world[RIGHT_SHOULDER, 0])
    sz = 0.5 * (world[LEFT_SHOULDER, 2] + world[RIGHT_SHOULDER, 2])
    return (world[k, 0] - sx) * nx + (world[k, 2] - sz) * nz


@kernel
def _in_chest(a, b, params):
    return abs(a) <= params[_CHEST_HALF] and params[_CHEST_TOP] <= b <= params[_CHEST_BOTTOM]


@kernel
def _at_torso(b, params):
    return params[_TORSO_TOP] <= b <= params[_TORSO_BOTTOM]


@kernel
def _forearms_cross(p, al, bl, ar, br, ox, oy, ux, uy, sw, params):
    """Both wrists at torso height and, when both elbows are seen, the forearms within `forearm_gap` of each other."""
    if not (_at_torso(bl, params) and _at_torso(br, params)):
        return False
    if not (_seen(p, LEFT_ELBOW, params) and _seen(p, RIGHT_ELBOW, params)):
        return True
    el_a, el_b = _body(p, LEFT_ELBOW, ox, oy, ux, uy, sw)
    er_a, er_b = _body(p, RIGHT_ELBOW, ox, oy, ux, uy, sw)
    return _segment_distance(el_a, el_b, al, bl, er_a, er_b, ar, br) <= params[_FOREARM_GAP]


@kernel
def _torso_in_frame(ox, oy, ux, uy, sw, width, height, params):
    """Whether the torso band (a in [-1/2, 1/2], b from torso_top to torso_bottom) lies inside the picture."""
    for a in (-0.5, 0.5):
        for b in (params[_TORSO_TOP], params[_TORSO_BOTTOM]):
            x = ox + sw * (a * ux - b * uy)
            y = oy + sw * (a * uy + b * ux)
            if not (0.0 <= x < width and 0.0 <= y < height):
                return False
    return True


@kernel
def _segment_distance(ax, ay, bx, by, cx, cy, dx, dy):
    """Distance between segments AB and CD in the plane (0 when they cross)."""
    d1 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    d2 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
    d3 = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx)
    d4 = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx)
    if d1 * d2 < 0.0 and d3 * d4 < 0.0:
        return 0.0
    return min(min(_point_segment(ax, ay, cx, cy, dx, dy), _point_segment(bx, by, cx, cy, dx, dy)),
               min(_point_segment(cx, cy, ax, ay, bx, by), _point_segment(dx, dy, ax, ay, bx, by)))


@kernel
def _point_segment(px, py, ax, ay, bx, by):
    ex, ey = bx - ax, by - ay
    ll = ex * ex + ey * ey
    t = 0.0 if ll == 0.0 else min(max(((px - ax) * ex + (py - ay) * ey) / ll, 0.0), 1.0)
    return np.hypot(px - ax - t * ex, py - ay - t * ey)
