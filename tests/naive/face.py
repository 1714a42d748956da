"""References of the face cues: attunement.cues.headpose, gaze, distance, mouth, nods (docs/cues.md)."""

from __future__ import annotations

import math

import numpy as np

from attunement.cues import gaze
from attunement.cues.face_geometry import CANONICAL, EYE_CORNERS, EYE_LIDS, EYEBALLS, INNER_LIPS, IRIS_RING, RIGID


# ---------------------------------------------------------------- head pose

def head_pose_frame(face, robust=3.0, iterations=2):
    """Weighted Umeyama by SVD with Cauchy reweighting: (R, s, t, rms residual)."""
    dst = np.asarray(face, np.float64)[RIGID]
    src = CANONICAL
    if not np.isfinite(dst).all():
        return np.full((3, 3), np.nan), np.nan, np.full(3, np.nan), np.nan
    w = np.ones(len(src))
    for _ in range(iterations + 1):
        wn = w / w.sum()
        cs, cd = wn @ src, wn @ dst
        a, b = src - cs, dst - cd
        u, sig, vt = np.linalg.svd((a * wn[:, None]).T @ b)
        d = np.diag([1, 1, np.sign(np.linalg.det(vt.T @ u.T))])
        rot = vt.T @ d @ u.T
        s = np.trace(np.diag(sig) @ d) / (wn @ (a ** 2).sum(axis=1))
        t = cd - s * rot @ cs
        r = np.linalg.norm(s * src @ rot.T + t - dst, axis=1) / s
        w = 1 / (1 + (r / robust) ** 2)
    return rot, s, t, math.sqrt(np.mean(r ** 2))


def direction(yaw_deg, pitch_deg):
    """Unit vector of (yaw, pitch) degrees: yaw turns right (+x), pitch up (-y), forward is -z."""
    y, p = math.radians(yaw_deg), math.radians(pitch_deg)
    return np.array([math.sin(y) * math.cos(p), -math.sin(p), -math.cos(y) * math.cos(p)])


def yaw_pitch(v):
    """(yaw, pitch) degrees of a direction vector (the inverse of `direction`)."""
    v = np.asarray(v, np.float64) / np.linalg.norm(v)
    return math.degrees(math.atan2(v[0], -v[2])), math.degrees(math.asin(max(-1.0, min(1.0, -v[1]))))


def pose_angle_frame(rot):
    """(yaw, pitch, roll) by undoing yaw and pitch with explicit axis rotations."""
    if not np.isfinite(rot).all():
        return np.full(3, np.nan)
    yaw, pitch = yaw_pitch(rot @ [0, 0, -1])
    y, p = math.radians(yaw), math.radians(pitch)
    ry = np.array([[math.cos(-y), 0, math.sin(-y)], [0, 1, 0], [-math.sin(-y), 0, math.cos(-y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(-p), -math.sin(-p)], [0, math.sin(-p), math.cos(-p)]])
    rz = rx.T @ ry.T @ rot
    return np.array([yaw, pitch, math.degrees(math.atan2(rz[1, 0], rz[0, 0]))])


def line_of_sight_one(view):
    """Rodrigues rotation taking (0, 0, 1) to `view`."""
    a, b = np.array([0.0, 0.0, 1.0]), np.asarray(view, np.float64)
    v, c = np.cross(a, b), a @ b
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


def eye_gaze_frame(face, app, s, radius, bias=(0.0, 0.0)):
    """(eye yaw, pitch), (gaze yaw, pitch), openness of one frame by the eye model, in numpy."""
    face = np.asarray(face, np.float64)
    if not np.isfinite(s):
        return np.full(2, np.nan), np.full(2, np.nan), np.nan
    opens, vs = [], []
    for e in range(2):
        iris = face[np.r_[[468, 473][e], IRIS_RING[e]], :2].mean(axis=0)
        corners = face[EYE_CORNERS[e]]
        offset = EYEBALLS[e] - CANONICAL[[list(RIGID).index(i) for i in EYE_CORNERS[e]]].mean(axis=0)
        ball = corners[:, :2].mean(axis=0) + s * (app @ offset)[:2]
        vs.append((iris - ball) / (s * radius))
        lids = face[EYE_LIDS[e]]
        opens.append(np.linalg.norm(lids[0] - lids[1]) / np.linalg.norm(corners[0] - corners[1]))
    winked = [opens[e] < gaze.WINK_RATIO * opens[1 - e] for e in range(2)]
    used = [e for e in range(2) if not winked[e]] or [0, 1]
    h = np.zeros(3)
    for e in (0, 1):
        v = vs[used[0] if winked[e] else e]  # a winked eye counts as its open twin
        if v @ v > 0.998:
            v = v * math.sqrt(0.998 / (v @ v))
        h += app.T @ np.array([v[0], v[1], -math.sqrt(1 - v @ v)])
    eye = np.array(yaw_pitch(h))
    g = app @ direction(eye[0] - bias[0], eye[1] - bias[1])
    return eye, np.array(yaw_pitch(g)), float(np.mean([opens[e] for e in used]))


def eye_contact(times, angle, state, on, off, min_s, bridge_s):
    """Contact per frame: hysteresis (on at <= on, off at > off; closed eyes hold, no face ends it),
    then short breaks bridged (not across no-face frames) and short contacts dropped unless they
    touch the first or the last frame (their length is unknown)."""
    n = len(times)
    ends = list(times[1:]) + [times[-1] + float(np.median(np.diff(times)))]
    out, cur = [], False
    for a, st in zip(angle, state):
        if st == gaze.NO_FACE:
            cur = False
        elif st == gaze.EYES_OPEN and not math.isnan(a):
            cur = (a <= off) if cur else (a <= on)
        out.append(cur)
    runs = lambda val: [(i, j) for i, j in equal_runs(out) if out[i] == val]  # noqa: E731
    for i, j in runs(False):
        if i > 0 and j < n - 1 and all(state[k] != gaze.NO_FACE for k in range(i, j + 1)) \
                and ends[j] - times[i] < bridge_s:
            out[i:j + 1] = [True] * (j - i + 1)
    for i, j in runs(True):
        if i > 0 and j < n - 1 and ends[j] - times[i] < min_s:
            out[i:j + 1] = [False] * (j - i + 1)
    return np.array(out)


def equal_runs(flags):
    """(first, last) index of each run of equal values."""
    out, i = [], 0
    while i < len(flags):
        j = i
        while j + 1 < len(flags) and flags[j + 1] == flags[i]:
            j += 1
        out.append((i, j))
        i = j + 1
    return out


def held_runs(x, times, enter, leave, hold_s, max_gap_s):
    """(first, last) frame of each run: it starts at a finite x >= enter and grows forward over
    every finite x > leave and over frames without a value (NaN) while they end within max_gap_s of
    the last frame kept; it counts when the time from its first frame's start to its last frame's end
    is at least hold_s."""
    x, n = np.asarray(x, np.float64), len(x)
    ends = list(times[1:]) + [times[-1] + float(np.median(np.diff(times)))]
    found, i = [], 0
    while i < n:
        if not (np.isfinite(x[i]) and x[i] >= enter):
            i += 1
            continue
        last, j = i, i + 1
        while j < n and (x[j] > leave if np.isfinite(x[j]) else ends[j] - ends[last] <= max_gap_s):
            last = j if np.isfinite(x[j]) else last
            j += 1
        if ends[last] - times[i] >= hold_s:
            found.append((i, last))
        i = j
    return found


def swing_events(times, x, min_deg, min_hz, max_hz, ratio, max_gap_s, min_swings, down_first):
    """Plain-Python nods/shakes: fill short gaps, zigzag turning points, pairwise timing, chains."""
    times, x = list(times), list(x)
    n = len(x)
    ends = times[1:] + [times[-1] + float(np.median(np.diff(times)))]
    y, seg, s, last = [math.nan] * n, [-1] * n, -1, -1
    for i in range(n):
        if math.isnan(x[i]):
            continue
        if last < 0:
            s += 1
        elif i > last + 1:
            if times[i] - ends[last] <= max_gap_s:
                for k in range(last + 1, i):
                    w = (times[k] - times[last]) / (times[i] - times[last])
                    y[k], seg[k] = x[last] + w * (x[i] - x[last]), s
            else:
                s += 1
        y[i], seg[i], last = x[i], s, i
    tps = []
    for sid in sorted(set(seg) - {-1}):
        idx = [i for i in range(n) if seg[i] == sid]
        seg_tps, direction, hi, lo, ext = [], 0, idx[0], idx[0], None
        for i in idx[1:]:
            v = y[i]
            if direction == 0:
                hi = i if v > y[hi] else hi
                lo = i if v < y[lo] else lo
                if y[hi] - v >= min_deg:
                    seg_tps.append(hi)
                    direction, ext = -1, i
                elif v - y[lo] >= min_deg:
                    seg_tps.append(lo)
                    direction, ext = 1, i
            elif direction * (v - y[ext]) > 0:
                ext = i
            elif direction * (y[ext] - v) >= min_deg:
                seg_tps.append(ext)
                direction, ext = -direction, i
        if direction != 0 and seg_tps and abs(y[ext] - y[seg_tps[-1]]) >= min_deg:
            seg_tps.append(ext)
        tps += seg_tps

    def cross(j, level):
        d = y[j] - y[j - 1]
        w = 0.5 if d == 0 else (level - y[j - 1]) / d
        return times[j - 1] + w * (times[j] - times[j - 1])

    def timing(i0, i1, l0, l1):
        span = l1 - l0
        j85 = next((j for j in range(i0 + 1, i1 + 1) if (y[j] - l0) / span >= 0.85), i1)
        j15 = next((j for j in range(j85 - 1, i0 - 1, -1) if (y[j] - l0) / span <= 0.15), i0)
        t85, t15 = cross(j85, l0 + 0.85 * span), cross(j15 + 1, l0 + 0.15 * span)
        return t15 - 0.5 * (t85 - t15), t85 + 0.5 * (t85 - t15), 2 * (t85 - t15)

    def excursion(apex, end, window):
        step = 1 if end > apex else -1
        return max([abs(y[j] - y[apex]) for j in range(apex + step, end + step, step)
                    if abs(times[j] - times[apex]) <= window], default=0.0)

    lo_half, hi_half = 0.5 / max_hz, 0.5 / min_hz
    pairs = []
    for k in range(len(tps) - 2):
        a, apex, b = tps[k:k + 3]
        if seg[a] != seg[b]:
            pairs.append(None)
            continue
        slack = times[apex] - times[apex - 1]
        left, right = excursion(apex, a, hi_half + slack), excursion(apex, b, hi_half + slack)
        amp, sign = min(left, right), (1 if y[apex] > y[a] else -1)
        if amp < min_deg or amp < ratio * max(left, right):
            pairs.append(None)
            continue
        f = timing(a, apex, y[apex] - sign * amp, y[apex])
        g = timing(apex, b, y[apex], y[apex] - sign * amp)
        good = (all(lo_half - slack <= h <= hi_half + slack for h in (f[2], g[2])) and g[0] - f[1] <= max(f[2], g[2]))
        pairs.append((f, g, amp, y[apex] > y[a]) if good else None)
    found, k = [], 0
    while k < len(pairs):
        if pairs[k] is None or (down_first and pairs[k][3]):
            k += 1
            continue
        b = k
        while (b + 1 < len(pairs) and pairs[b + 1] is not None
               and pairs[b + 1][0][0] - pairs[b][1][1] <= max(pairs[b][1][2], pairs[b + 1][0][2])):
            b += 1
        if b - k + 2 >= min_swings:
            found.append((pairs[k][0][0], pairs[b][1][1], (b - k + 2) // 2,
                          float(np.median([p[2] for p in pairs[k:b + 1]]))))
        k = b + 1
    return found


def pose_angles(rotations) -> np.ndarray:
    """headpose.pose_angles: (yaw, pitch, roll) degrees [n, 3] of rotations [n, 3, 3]."""
    return np.array([pose_angle_frame(r) for r in rotations]).reshape(-1, 3)


def line_of_sight(views) -> np.ndarray:
    """headpose.line_of_sight: Rodrigues' rotations [n, 3, 3] taking (0, 0, 1) to each view [n, 3]."""
    return np.array([line_of_sight_one(v) for v in np.asarray(views, np.float64)]).reshape(-1, 3, 3)


# ---------------------------------------------------------------- measures of one frame

def mouth_opening(faces) -> np.ndarray:
    """Inner-lip gap over the distance between the two eyes' corner midpoints, per frame (3-D points)."""
    out = []
    for face in np.asarray(faces, np.float64).reshape(-1, 478, 3):
        gap = np.linalg.norm(face[INNER_LIPS[0]] - face[INNER_LIPS[1]])
        eye_r = (face[EYE_CORNERS[0, 0]] + face[EYE_CORNERS[0, 1]]) / 2
        eye_l = (face[EYE_CORNERS[1, 0]] + face[EYE_CORNERS[1, 1]]) / 2
        eyes = np.linalg.norm(eye_r - eye_l)
        out.append(gap / eyes if eyes > 0 else math.nan)
    return np.array(out)


def iris_diameter_px(faces) -> np.ndarray:
    """Mean of the horizontal and vertical image-plane (x, y) iris diameters of both eyes, per frame:
    the ring's opposite points (0, 2) and (1, 3)."""
    out = []
    for face in np.asarray(faces, np.float64).reshape(-1, 478, 3):
        diameters = [math.dist(face[ring[a], :2], face[ring[a + 2], :2]) for ring in IRIS_RING for a in (0, 1)]
        out.append(sum(diameters) / 4)
    return np.array(out)


def angle_to(gaze_deg, target_deg=(0.0, 0.0)) -> np.ndarray:
    """The angle (degrees) between unit vectors of each (yaw, pitch) and of the target; NaN without a gaze."""
    t = direction(*target_deg)
    return np.array([math.degrees(math.acos(max(-1.0, min(1.0, float(direction(*g) @ t)))))
                     if np.isfinite(g).all() else math.nan for g in np.asarray(gaze_deg, np.float64)])


# ---------------------------------------------------------------- events

def lean_events(times, distance, *, baseline_cm, margin, release, hold_s, max_gap_s):
    """distance.lean_events as (kind, start, end, amplitude) sorted: held runs of the relative change
    beyond the margin (nearer: lean_in, farther: lean_back), the amplitude its median over the run."""
    times = np.asarray(times, np.float64)
    change = np.asarray(distance, np.float64) / baseline_cm - 1.0
    ends = list(times[1:]) + [times[-1] + float(np.median(np.diff(times)))]
    found = []
    for kind, sign in (("lean_in", -1.0), ("lean_back", 1.0)):
        for a, b in held_runs(sign * change, times, margin, release, hold_s, max_gap_s):
            found.append((float(times[a]), float(ends[b]), kind, float(np.nanmedian(change[a:b + 1]))))
    return [(k, s, e, amp) for s, e, k, amp in sorted(found)]
