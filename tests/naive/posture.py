"""References of attunement.cues.posture, straight from the definitions in docs/posture.md."""

from __future__ import annotations

import math

import numpy as np

from attunement.config import PostureConfig

L_SH, R_SH, L_EL, R_EL, L_WR, R_WR = 11, 12, 13, 14, 15, 16


def posture_frame(p, world, width, height, c: PostureConfig) -> tuple[float, float, float, float]:
    """(crossed, hidden, clasped, ratio) of one frame, straight from the definitions in docs/posture.md."""
    nan = math.nan

    def seen(k):
        return p[k][3] >= c.min_visibility and math.isfinite(p[k][0]) and math.isfinite(p[k][1])

    if not (seen(L_SH) and seen(R_SH)):
        return nan, nan, nan, nan
    o = (p[L_SH][:2] + p[R_SH][:2]) / 2
    across = p[L_SH][:2] - p[R_SH][:2]
    sw = float(np.hypot(*across))
    if sw < 1e-6:
        return nan, nan, nan, nan
    u = across / sw
    v = np.array([-u[1], u[0]])

    def body(k):
        return float((p[k][:2] - o) @ u / sw), float((p[k][:2] - o) @ v / sw)

    ears = [-body(k)[1] for k in (7, 8) if seen(k)]
    ratio = sum(ears) / len(ears) if ears else nan

    def inside(x, y):
        return 0 <= x < width and 0 <= y < height

    corners = [o + sw * (a * u + b * v) for a in (-0.5, 0.5) for b in (c.torso_top_sw, c.torso_bottom_sw)]
    torso_in = all(inside(*q) for q in corners)

    def state(k):
        if not seen(k):
            x, y = p[k][0], p[k][1]
            return "hidden" if math.isfinite(x) and math.isfinite(y) and inside(x, y) and torso_in else "out"
        return "hidden" if behind(world, k) > c.behind_m else "seen"

    sl, sr = state(L_WR), state(R_WR)
    (al, bl), (ar, br) = body(L_WR), body(R_WR)
    hidden = 0.0 if "seen" in (sl, sr) else 1.0 if sl == sr == "hidden" else nan

    def chest(a, b):
        return abs(a) <= c.chest_half_width_sw and c.chest_top_sw <= b <= c.chest_bottom_sw

    if (sl == "seen" and not chest(al, bl)) or (sr == "seen" and not chest(ar, br)):
        clasped = 0.0
    elif sl == sr == "seen":
        clasped = float(math.hypot(al - ar, bl - br) <= c.clasp_distance_sw)
    else:
        clasped = nan

    def band(b):
        return c.torso_top_sw <= b <= c.torso_bottom_sw

    if sl == sr == "seen":
        crossed_now = band(bl) and band(br) and ar - al >= c.cross_margin_sw
        if crossed_now and seen(L_EL) and seen(R_EL):
            gap = segment_distance(np.array([body(L_EL), (al, bl)]), np.array([body(R_EL), (ar, br)]))
            crossed_now = gap <= c.forearm_gap_sw
        crossed = float(crossed_now)
    elif (sl == "seen" and (al >= 0.5 or not band(bl))) or (sr == "seen" and (ar <= -0.5 or not band(br))):
        crossed = 0.0
    elif "out" in (sl, sr) and torso_in:
        crossed = 0.0
    else:
        crossed = nan
    return crossed, hidden, clasped, ratio


def behind(world, k) -> float:
    """Depth (m) of world point k behind the shoulders, along the horizontal normal of the shoulder line."""
    world = np.asarray(world, np.float64)
    across = world[L_SH] - world[R_SH]
    normal = np.cross(across, [0.0, 1.0, 0.0])
    norm = np.linalg.norm(normal)
    return float((world[k] - (world[L_SH] + world[R_SH]) / 2) @ normal / norm) if norm > 1e-9 else math.nan


def segment_distance(s1: np.ndarray, s2: np.ndarray) -> float:
    """Shortest distance between two segments [2, 2], by dense sampling of one against the other exactly."""
    t = np.linspace(0, 1, 2001)[:, None]
    pts = s1[0] + t * (s1[1] - s1[0])
    e = s2[1] - s2[0]
    ll = float(e @ e)
    w = np.clip(((pts - s2[0]) @ e) / ll, 0, 1)[:, None] if ll else np.zeros((len(pts), 1))
    return float(np.min(np.hypot(*(pts - s2[0] - w * e).T)))


def either(*xs: float) -> float:
    """Three-valued or: 1 if any is 1, 0 if all are 0, else NaN (unknown)."""
    if any(x == 1.0 for x in xs):
        return 1.0
    return 0.0 if all(x == 0.0 for x in xs) else math.nan


def posture(pose, world, size, c: PostureConfig, baseline=None) -> dict[str, np.ndarray]:
    """Every column of cues.posture.posture, frame by frame from `posture_frame`, against `baseline`
    (None: the percentile of this batch)."""
    rows = [posture_frame(p, w, size[0], size[1], c) for p, w in zip(pose, world)]
    crossed, hidden, clasped, ratio = (np.array(col, np.float64) for col in zip(*rows))
    if baseline is None:
        finite = ratio[np.isfinite(ratio)]
        baseline = float(np.percentile(finite, c.baseline_percentile)) if finite.size else math.nan
    raised = np.array([math.nan if math.isnan(r) or math.isnan(baseline) else float(r <= baseline - c.raise_margin_sw)
                       for r in ratio])
    hands = np.array([either(h, k) for h, k in zip(hidden, clasped)])
    closed = np.array([either(x, h, r) for x, h, r in zip(crossed, hands, raised)])
    return dict(crossed=crossed, hidden=hidden, clasped=clasped, hands=hands, raised=raised, open=1.0 - closed,
                ratio=ratio)
