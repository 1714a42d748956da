"""Image-level truth: warp a real portrait into head poses and gaze directions we choose.

The face-mesh landmarks of the portrait (mediapipe FaceMesh, refined irises, pixels with
z*width) are rotated about the head centre, scaled, shifted, and their irises turned for a
gaze offset; the image follows by a piecewise-affine warp of the mesh triangles, so that
mediapipe itself can then run on frames whose truth we set. See docs/posture.md ("Warped
portraits") for the model, its conventions and the measured landmark error.

Projection is orthographic (weak perspective): the head is rotated in 3-D and x, y kept, so
`scale` stands in for a change of distance (1.1 = 10 % nearer). Angles are relative to the
portrait's own head pose and gaze, in image terms: yaw > 0 turns the nose toward image right,
pitch > 0 lifts the chin (nose moves up), roll > 0 turns the face clockwise in the image;
gaze yaw > 0 moves the irises toward image right, gaze pitch > 0 moves them up.
R = Rz(roll) @ Rx(pitch) @ Ry(yaw), applied to points relative to the head centre.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InputError
from ..records import FACE_POINTS, VideoFrame
from .warp_kernels import gaze_slide, rasterize

#: Iris landmarks (mediapipe refine_landmarks): centre then 4 boundary points, per eye.
RIGHT_IRIS = (468, 469, 470, 471, 472)   # the person's right eye (image left)
LEFT_IRIS = (473, 474, 475, 476, 477)
#: Face-contour points at the ear line (left and right of the image), used for the head centre.
CHEEK_POINTS = (234, 454)
#: Eyeball radius over iris diameter: about 12 mm over 11.7 mm in adults.
EYEBALL_PER_IRIS = 1.03
#: Rings around the face (multiples of the face-oval radius about its centroid): the inner
#: ring (hair, ears, jaw) moves with the head, the outer ring and all beyond stay still.
INNER_RING, OUTER_RING = 1.35, 2.2
#: Eye corners (outer, inner of the person's right eye; inner, outer of the left eye).
EYE_CORNERS = ((33, 133), (362, 263))
#: How far the upper and lower eyelids follow the iris when looking up or down (a model choice:
#: the upper lid keeps about the same cover of the iris, the lower lid moves less).
UPPER_LID_FOLLOW, LOWER_LID_FOLLOW = 1.0, 0.4
#: Largest head angle (degrees) the piecewise-affine model is meant for.
MAX_ANGLE_DEG = 45.0

_FACE, _BAND = 0, 1  # rasterizer layers: the face mesh (z-buffered) wins over the band around it


@dataclass(frozen=True)
class Pose:
    """Warp parameters of one frame, and so its truth (degrees, pixels; see the module docstring)."""

    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    scale: float = 1.0
    shift_px: tuple[float, float] = (0.0, 0.0)
    gaze_yaw_deg: float = 0.0
    gaze_pitch_deg: float = 0.0


@dataclass(frozen=True)
class Nod:
    """A nod: pitch oscillation `amplitude_deg` * sin(2 pi rate_hz (t - start_s)) during [start_s, end_s)."""

    start_s: float
    end_s: float
    amplitude_deg: float = 8.0
    rate_hz: float = 2.0


def warp_face(image: np.ndarray, src_landmarks: np.ndarray, *, yaw_deg: float = 0.0, pitch_deg: float = 0.0,
              roll_deg: float = 0.0, scale: float = 1.0, shift_px: tuple[float, float] = (0.0, 0.0),
              gaze_yaw_deg: float = 0.0, gaze_pitch_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Warp `image` (uint8 [h, w, 3]) so its face takes the given pose; returns (image, target landmarks [478, 3]).

    `src_landmarks` float [478, 3]: FaceMesh of `image` in pixels (x, y, z*width). The image
    outside the outer ring (about twice the face's radius) is unchanged.
    """
    image, src = _check(image, src_landmarks)
    pose = Pose(yaw_deg, pitch_deg, roll_deg, scale, (float(shift_px[0]), float(shift_px[1])),
                gaze_yaw_deg, gaze_pitch_deg)
    _check_pose(pose)
    return _warp(image, src, pose)


def lean_in(start_s: float, *, base: Pose = Pose(), gain: float = 0.10, ramp_s: float = 0.5,
            hold_s: float = 1.0) -> list[tuple[float, Pose]]:
    """Keyframes of a lean-in: scale grows by `gain` (0.10 = 10 % nearer) over `ramp_s`, then holds `hold_s`."""
    leaned = dataclasses.replace(base, scale=base.scale * (1.0 + gain))
    return [(start_s, base), (start_s + ramp_s, leaned), (start_s + ramp_s + hold_s, leaned)]


# ---------------------------------------------------------------- geometry

def pose_at(keys: Sequence[tuple[float, Pose]], nods: Sequence[Nod], t: float) -> Pose:
    times = [kt for kt, _ in keys]
    j = int(np.searchsorted(times, t, side="right"))
    if j == 0 or j == len(keys):
        pose = keys[0][1] if j == 0 else keys[-1][1]
    else:
        (ta, a), (tb, b) = keys[j - 1], keys[j]
        u = (t - ta) / (tb - ta) if tb > ta else 1.0
        mix = lambda x, y: x + u * (y - x)  # noqa: E731
        pose = Pose(mix(a.yaw_deg, b.yaw_deg), mix(a.pitch_deg, b.pitch_deg), mix(a.roll_deg, b.roll_deg),
                    mix(a.scale, b.scale), (mix(a.shift_px[0], b.shift_px[0]), mix(a.shift_px[1], b.shift_px[1])),
                    mix(a.gaze_yaw_deg, b.gaze_yaw_deg), mix(a.gaze_pitch_deg, b.gaze_pitch_deg))
    nod = sum(nd.amplitude_deg * math.sin(2 * math.pi * nd.rate_hz * (t - nd.start_s))
              for nd in nods if nd.start_s <= t < nd.end_s)
    return dataclasses.replace(pose, pitch_deg=pose.pitch_deg + nod) if nod else pose


def _rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """R = Rz(roll) @ Rx(pitch) @ Ry(yaw) in image axes (x right, y down, z away from the camera)."""
    y, p, r = np.radians([yaw_deg, pitch_deg, roll_deg])
    ry = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def _head_centre(src: np.ndarray) -> np.ndarray:
    """x at the middle of the ear-line contour points, y at the mesh's mean, z at the ear line's depth."""
    ears = src[list(CHEEK_POINTS)]
    return np.array([ears[:, 0].mean(), src[:468, 1].mean(), ears[:, 2].mean()])


def _rigid(points: np.ndarray, centre: np.ndarray, rot: np.ndarray, pose: Pose) -> np.ndarray:
    out = (points - centre) @ rot.T * pose.scale + centre
    out[:, 0] += pose.shift_px[0]
    out[:, 1] += pose.shift_px[1]
    return out


def _turn_iris(src: np.ndarray, iris: tuple[int, ...], gaze_yaw: float, gaze_pitch: float) -> np.ndarray:
    """The 5 iris points turned about the eyeball centre, which lies one eyeball radius behind the iris."""
    pts = src[list(iris)]
    diameter = 0.5 * (np.linalg.norm(pts[1, :2] - pts[3, :2]) + np.linalg.norm(pts[2, :2] - pts[4, :2]))
    ball = pts[0] + np.array([0.0, 0.0, EYEBALL_PER_IRIS * diameter])
    return (pts - ball) @ _rotation(gaze_yaw, gaze_pitch, 0.0).T + ball


def _gaze_source(src: np.ndarray, pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """Source points with the eyelids moved for the gaze, without and with the irises turned.

    Each eye-opening point moves vertically by follow * sin(pi u) * (the iris centre's vertical
    move), u in [0, 1] its place between the eye corners, follow = UPPER_LID_FOLLOW above the
    corner line and LOWER_LID_FOLLOW below it: the lids go along with looking up and down.
    """
    lids = src.copy()
    turned = []
    _, _, holes = _mesh()
    for iris, (c0, c1) in zip((RIGHT_IRIS, LEFT_IRIS), EYE_CORNERS):
        pts = _turn_iris(src, iris, pose.gaze_yaw_deg, pose.gaze_pitch_deg)
        turned.append((iris, pts))
        dy = pts[0, 1] - src[iris[0], 1]
        loop = next(lp for lp in holes if c0 in lp)
        a, axis = src[c0, :2], src[c1, :2] - src[c0, :2]
        rel = src[loop, :2] - a
        u = np.clip(rel @ axis / (axis @ axis), 0.0, 1.0)
        above = np.sign(axis[0]) * (axis[0] * rel[:, 1] - axis[1] * rel[:, 0]) < 0
        follow = np.where(above, UPPER_LID_FOLLOW, LOWER_LID_FOLLOW)
        lids[loop, 1] += follow * np.sin(np.pi * u) * dy
    gazed = lids.copy()
    for iris, pts in turned:
        gazed[list(iris)] = pts
    return lids, gazed


def _carried(point: np.ndarray, loop: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray | None:
    """Where the hole fan of `loop` (source `src` -> target `dst` points) takes the source `point` (xy)."""
    cs, cd = src[loop, :2].mean(axis=0), dst[loop, :2].mean(axis=0)
    for i in range(len(loop)):
        a, b = loop[i], loop[(i + 1) % len(loop)]
        m = np.column_stack([src[a, :2] - cs, src[b, :2] - cs])
        if abs(np.linalg.det(m)) < 1e-12:
            continue
        la, lb = np.linalg.solve(m, point - cs)
        if la >= -1e-9 and lb >= -1e-9 and la + lb <= 1 + 1e-9:
            return cd + la * (dst[a, :2] - cd) + lb * (dst[b, :2] - cd)
    return None


@functools.lru_cache(maxsize=1)
def _mesh() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """Triangles [852, 3] of mediapipe's face tessellation, its outer loop (the face oval, 36
    points in order around it) and its three holes (both eye openings, the mouth), as loops."""
    from mediapipe.python.solutions import face_mesh_connections as fmc

    edges = {tuple(sorted(e)) for e in fmc.FACEMESH_TESSELATION}
    adj: dict[int, set[int]] = {}
    for a, b in edges:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    tris = {tuple(sorted((a, b, c))) for a, b in edges for c in adj[a] & adj[b]}
    uses: dict[tuple[int, int], int] = {}
    for t in tris:
        for e in ((t[0], t[1]), (t[0], t[2]), (t[1], t[2])):
            uses[e] = uses.get(e, 0) + 1
    # Two 3-cliques of the edge graph are not faces: all three of their edges border 3 triangles.
    tris = {t for t in tris if not all(uses[e] == 3 for e in ((t[0], t[1]), (t[0], t[2]), (t[1], t[2])))}
    loops = _loops([e for e in edges if uses[e] == 1])
    oval = {v for e in fmc.FACEMESH_FACE_OVAL for v in e}
    outer = next(lp for lp in loops if set(lp) <= oval)
    holes = tuple(np.array(lp, np.int32) for lp in loops if lp is not outer)
    return np.array(sorted(tris), np.int32), np.array(outer, np.int32), holes


def _loops(boundary: list[tuple[int, int]]) -> list[list[int]]:
    nxt: dict[int, list[int]] = {}
    for a, b in boundary:
        nxt.setdefault(a, []).append(b)
        nxt.setdefault(b, []).append(a)
    seen: set[int] = set()
    loops = []
    for start in sorted(nxt):
        if start in seen:
            continue
        loop, prev, cur = [start], -1, start
        while True:
            seen.add(cur)
            step = [v for v in nxt[cur] if v != prev][0]
            if step == start:
                break
            loop.append(step)
            prev, cur = cur, step
        loops.append(loop)
    return loops


def _geometry(src: np.ndarray, dst: np.ndarray, move) -> tuple[np.ndarray, ...]:
    """Triangles of the warp as (target xy [T,3,2], source xy [T,3,2], target z [T,3], layer [T]).

    `move` maps source points [n, 3] to target points (the head transform, without gaze).
    """
    tris, outer, holes = _mesh()
    # Hole fills: a fan from each hole's centroid (a virtual point moving with the head).
    pts_s, pts_d, fans = [src], [dst], []
    for k, loop in enumerate(holes):
        pts_s.append(src[loop].mean(axis=0, keepdims=True))
        pts_d.append(dst[loop].mean(axis=0, keepdims=True))
        c = src.shape[0] + k
        fans += [(loop[i], loop[(i + 1) % len(loop)], c) for i in range(len(loop))]
    ps, pd = np.concatenate(pts_s), np.concatenate(pts_d)
    face = np.concatenate([tris, np.array(fans, np.int32)])
    # The band: face oval -> inner ring (moves with the head, at the oval's depth) -> outer ring (still).
    oval = src[outer]
    centre = oval[:, :2].mean(axis=0)
    inner = np.column_stack([centre + INNER_RING * (oval[:, :2] - centre), oval[:, 2]])
    far = np.column_stack([centre + OUTER_RING * (oval[:, :2] - centre), oval[:, 2]])
    rings_s = np.stack([oval, inner, far])
    rings_d = np.stack([dst[outer], move(inner), far])
    m = len(outer)
    i = np.arange(m)
    j = (i + 1) % m
    band = []  # (ring, index) triples of the band's triangles
    for r in range(2):
        band += [np.stack([np.full(m, r), i, np.full(m, r), j, np.full(m, r + 1), j], axis=1),
                 np.stack([np.full(m, r), i, np.full(m, r + 1), j, np.full(m, r + 1), i], axis=1)]
    band = np.concatenate(band).reshape(-1, 3, 2)
    band_s = rings_s[band[..., 0], band[..., 1]]
    band_d = rings_d[band[..., 0], band[..., 1]]
    tri_d = np.concatenate([pd[face][:, :, :2], band_d[:, :, :2]])
    tri_s = np.concatenate([ps[face][:, :, :2], band_s[:, :, :2]])
    tri_z = np.concatenate([pd[face][:, :, 2], band_d[:, :, 2]])
    layer = np.concatenate([np.full(len(face), _FACE, np.int32), np.full(len(band), _BAND, np.int32)])
    return tri_d, tri_s, tri_z, layer


def _signed_area(tri: np.ndarray) -> np.ndarray:
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


# ---------------------------------------------------------------- the warp

def _warp(image: np.ndarray, src: np.ndarray, pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    centre = _head_centre(src)
    rot = _rotation(pose.yaw_deg, pose.pitch_deg, pose.roll_deg)
    move = lambda pts: _rigid(pts, centre, rot, pose)  # noqa: E731
    lids, gazed = _gaze_source(src, pose)
    head, target = move(lids), move(gazed)  # the mesh moves with the lids; irises slide on top
    tri_d, tri_s, tri_z, layer = _geometry(src, head, move)
    band = layer == _BAND
    flipped = np.sign(_signed_area(tri_d[band])) != np.sign(_signed_area(tri_s[band]))
    if flipped.any():
        raise InputError(f"{pose} moves the head too far from where it is in the image for this warp "
                         "(the band around the face folds); use a smaller shift, scale or angle")
    map_x, map_y, _, _ = rasterize(tri_d, tri_s, tri_z, layer, shape=image.shape[:2], empty_layer=_BAND + 1)
    _, _, holes = _mesh()
    for iris, (corner, _) in zip((RIGHT_IRIS, LEFT_IRIS), EYE_CORNERS):
        loop = next(lp for lp in holes if corner in lp)
        start = _carried(src[iris[0], :2], loop, src, head)
        if start is None:  # iris centre outside the eye opening (eye nearly closed)
            start = move(src[iris[0]][None])[0, :2]
        radius = 0.25 * sum(np.linalg.norm(target[k, :2] - target[iris[0], :2]) for k in iris[1:])
        gaze_slide(map_x, map_y, eye=head[loop, :2], centre=start, shift=target[iris[0], :2] - start,
                   radius=float(radius))
    out = cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out, target.astype(np.float32)


def _check(image: np.ndarray, src_landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError(f"warp_face needs a uint8 RGB image [h, w, 3], got {image.dtype} {image.shape}")
    src = np.asarray(src_landmarks, np.float64)
    if src.shape != (FACE_POINTS, 3) or not np.isfinite(src).all():
        raise InputError(f"src_landmarks must be {FACE_POINTS} finite face-mesh points [478, 3] in pixels "
                         f"(refine_landmarks=True), got shape {src.shape}")
    return np.ascontiguousarray(image), src


def _check_pose(pose: Pose) -> None:
    for name in ("yaw_deg", "pitch_deg", "roll_deg", "gaze_yaw_deg", "gaze_pitch_deg"):
        if not abs(getattr(pose, name)) <= MAX_ANGLE_DEG:
            raise InputError(f"{name} = {getattr(pose, name)}: the warp is meant for "
                             f"|angle| <= {MAX_ANGLE_DEG} degrees")
    if not 0.5 <= pose.scale <= 2.0:
        raise InputError(f"scale = {pose.scale}: the warp is meant for 0.5 <= scale <= 2")


# ---------------------------------------------------------------- kernels


@dataclass(frozen=True)
class WarpedVideo:
    """Frames of a warped portrait and their truth: `poses[k]` and `landmarks[k]` [478, 3] belong to `frames[k]`."""

    frames: list[VideoFrame]
    poses: list[Pose]
    landmarks: np.ndarray


def target_landmarks(src_landmarks: np.ndarray, pose: Pose) -> np.ndarray:
    """The landmarks [478, 3] of the warped face: the source with irises turned by the gaze and
    eyelids following its vertical part, moved by the head transform."""
    src = np.asarray(src_landmarks, np.float64)
    _, gazed = _gaze_source(src, pose)
    return _rigid(gazed, _head_centre(src), _rotation(pose.yaw_deg, pose.pitch_deg, pose.roll_deg), pose)


def pose_sequence(image: np.ndarray, src_landmarks: np.ndarray, keyframes: Sequence[tuple[float, Pose]], *,
                  fps: float = 25.0, nods: Sequence[Nod] = (), t0: float = 0.0) -> WarpedVideo:
    """A video of the portrait moved through `keyframes` [(t seconds, Pose), ...] at `fps`.

    Poses are interpolated linearly between keyframes (held after the last); each `Nod` adds
    its pitch oscillation. Frame k is at t0 + k/fps, up to the last keyframe's time.
    """
    image, src = _check(image, src_landmarks)
    keys = sorted(keyframes, key=lambda kf: kf[0])
    if not keys or fps <= 0:
        raise InputError(f"pose_sequence needs keyframes and fps > 0 (got {len(keys)} keyframes, fps={fps})")
    n = int(math.floor((keys[-1][0] - t0) * fps + 1e-9)) + 1
    frames, poses, marks = [], [], np.empty((max(n, 0), FACE_POINTS, 3), np.float32)
    for k in range(n):
        t = t0 + k / fps
        pose = pose_at(keys, nods, t)
        _check_pose(pose)
        warped, target = _warp(image, src, pose)
        frames.append(VideoFrame(image=warped, t=t, index=k))
        poses.append(pose)
        marks[k] = target
    return WarpedVideo(frames=frames, poses=poses, landmarks=marks)
