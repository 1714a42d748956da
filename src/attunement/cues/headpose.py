"""Head pose per frame: a similarity fit (rotation, scale, translation) of the canonical face to
the rigid face landmarks, and yaw/pitch/roll in degrees, absolute or relative to a baseline.

Conventions (camera frame: x image right, y down, z away from the camera):
yaw > 0: the face turns toward image right (the person's left); pitch > 0: the face turns up;
roll > 0: the top of the head tilts toward image right (toward the person's left shoulder).
R = Ry(-yaw) Rx(-pitch) Rz(roll) with the standard right-handed axis rotations, so the face's
forward direction R·(0, 0, -1) = (sin yaw cos pitch, -sin pitch, -cos yaw cos pitch).
Two frames of reference: the apparent pose is the head's rotation against the line of sight
from the lens to the face (what the landmarks show: a face facing the lens reads 0 wherever it
is in the picture); the camera-frame pose turns it by that line of sight (given the camera's
focal length), so that moving sideways does not read as turning. Zero is the canonical
portrait's frontal face (pitch as that portrait holds its head).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._numba import kernel
from ..errors import InputError
from .face_geometry import CANONICAL, RIGID


class HeadPose(NamedTuple):
    """Per-frame similarity fit: landmarks ≈ scale · apparent · canonical + translation.

    apparent float64 [n, 3, 3]: the head's rotation relative to the line of sight, as the image
    shows it (the landmarks are a weak-perspective view). rotation float64 [n, 3, 3]: the head's
    rotation in the camera frame, the apparent one turned by the line of sight (equal to it when no
    camera was given). view float64 [n, 3]: unit line of sight from the lens to the face.
    scale float64 [n], pixels per canonical mm; translation float64 [n, 3], pixels; residual
    float64 [n], RMS misfit of the rigid points in canonical mm. All NaN in frames without a face.
    """

    rotation: np.ndarray
    apparent: np.ndarray
    view: np.ndarray
    scale: np.ndarray
    translation: np.ndarray
    residual: np.ndarray


def as_faces(faces: np.ndarray) -> np.ndarray:
    """Validate face landmarks [n, 478, 3] (or one frame [478, 3]) and return them as float32 [n, 478, 3]."""
    arr = np.asarray(faces)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (478, 3):
        raise ValueError(f"face landmarks must have shape (frames, 478, 3), got {arr.shape}")
    return np.ascontiguousarray(arr, np.float32)


def fit_head_pose(faces: np.ndarray, *, camera: tuple[float, float, float] | None = None,
                  robust_mm: float = 3.0, iterations: int = 2) -> HeadPose:
    """Fit the canonical face to each frame's rigid landmarks (Horn's quaternion method, weighted).

    faces float [n, 478, 3] pixels. camera: (focal length, principal point x, y) in pixels; with
    it the apparent rotation is turned by the line of sight to the face (a face off the optical
    axis is seen from the side), giving the rotation in the camera frame. After the least-squares
    fit, `iterations` reweighted fits down-weight points off by more than `robust_mm` (Cauchy
    weights), so that a local expression does not tilt the head. A frame with any NaN rigid
    point gets NaN outputs.
    """
    faces = as_faces(faces)
    if robust_mm <= 0 or iterations < 0:
        raise InputError(f"robust_mm = {robust_mm} must be > 0 and iterations = {iterations} >= 0")
    focal, cx, cy = (0.0, 0.0, 0.0) if camera is None else (float(c) for c in camera)
    if camera is not None and not focal > 0:
        raise InputError(f"camera focal length = {focal} px: must be > 0")
    n = faces.shape[0]
    app = np.empty((n, 3, 3))
    rot = np.empty((n, 3, 3))
    view = np.empty((n, 3))
    scale = np.empty(n)
    trans = np.empty((n, 3))
    resid = np.empty(n)
    _fit(faces, RIGID, CANONICAL, float(robust_mm), int(iterations), app, scale, trans, resid)
    _to_camera(app, trans, focal, cx, cy, rot, view)
    return HeadPose(rot, app, view, scale, trans, resid)


def line_of_sight(view: np.ndarray) -> np.ndarray:
    """The smallest rotations [n, 3, 3] taking the optical axis (0, 0, 1) to unit vectors `view`
    [n, 3] (the direction from the camera to the head); NaN views give NaN rotations."""
    view = np.ascontiguousarray(view, np.float64)
    if view.ndim != 2 or view.shape[1] != 3:
        raise ValueError(f"views must have shape (frames, 3), got {view.shape}")
    out = np.empty((view.shape[0], 3, 3))
    _lines_of_sight(view, out)
    return out


@kernel
def _lines_of_sight(view, out):
    for f in range(view.shape[0]):
        _line_of_sight(view[f], out[f])


@kernel
def _clamp_unit(x):
    """x clipped to [-1, 1] for asin/acos; NaN stays NaN."""
    if x > 1.0:
        return 1.0
    if x < -1.0:
        return -1.0
    return x


@kernel
def _line_of_sight(view, out):
    """The smallest rotation [3, 3] taking the optical axis (0, 0, 1) to the unit vector `view`, into out."""
    vx, vy, vz = view[0], view[1], view[2]
    k = 1.0 / (1.0 + vz)
    out[0, 0] = 1.0 - vx * vx * k
    out[0, 1] = -vx * vy * k
    out[0, 2] = vx
    out[1, 0] = -vx * vy * k
    out[1, 1] = 1.0 - vy * vy * k
    out[1, 2] = vy
    out[2, 0] = -vx
    out[2, 1] = -vy
    out[2, 2] = vz


@kernel
def _to_camera(app, trans, focal, cx, cy, rot, view):
    los = np.empty((3, 3))
    for f in range(app.shape[0]):
        if focal > 0:
            vx, vy = (trans[f, 0] - cx) / focal, (trans[f, 1] - cy) / focal
            norm = np.sqrt(vx * vx + vy * vy + 1.0)
            view[f, 0], view[f, 1], view[f, 2] = vx / norm, vy / norm, 1.0 / norm
        else:
            view[f, 0], view[f, 1], view[f, 2] = 0.0, 0.0, 1.0
        if not np.isfinite(trans[f, 0]):
            view[f] = np.nan
        _line_of_sight(view[f], los)
        for a in range(3):
            for b in range(3):
                rot[f, a, b] = los[a, 0] * app[f, 0, b] + los[a, 1] * app[f, 1, b] + los[a, 2] * app[f, 2, b]


@kernel
def _top_eigenvector4(m, out, a, v):
    """Eigenvector of the largest eigenvalue of a symmetric 4x4 matrix (cyclic Jacobi), into out[4];
    a, v: 4x4 scratch (no allocation per call: this runs three times a frame)."""
    for p in range(4):
        for q in range(4):
            a[p, q] = m[p, q]
            v[p, q] = 1.0 if p == q else 0.0
    for _sweep in range(30):
        off = 0.0
        for p in range(3):
            for q in range(p + 1, 4):
                off += a[p, q] * a[p, q]
        if off < 1e-30 * (1.0 + a[0, 0] ** 2 + a[1, 1] ** 2 + a[2, 2] ** 2 + a[3, 3] ** 2):
            break
        for p in range(3):
            for q in range(p + 1, 4):
                if a[p, q] == 0.0:
                    continue
                theta = (a[q, q] - a[p, p]) / (2.0 * a[p, q])
                t = (1.0 if theta >= 0 else -1.0) / (abs(theta) + math.sqrt(theta * theta + 1.0))
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for k in range(4):
                    akp, akq = a[k, p], a[k, q]
                    a[k, p] = c * akp - s * akq
                    a[k, q] = s * akp + c * akq
                for k in range(4):
                    apk, aqk = a[p, k], a[q, k]
                    a[p, k] = c * apk - s * aqk
                    a[q, k] = s * apk + c * aqk
                for k in range(4):
                    vkp, vkq = v[k, p], v[k, q]
                    v[k, p] = c * vkp - s * vkq
                    v[k, q] = s * vkp + c * vkq
    best = 0
    for k in range(1, 4):
        if a[k, k] > a[best, best]:
            best = k
    for k in range(4):
        out[k] = v[k, best]


@kernel
def _similarity(src, dst, w, rot, trans, scratch):
    """Weighted similarity dst ≈ s·R·src + t (Horn 1987, unit quaternions); fills rot, trans; returns s.
    scratch float64 [4, 4, 4] (reused, so nothing is allocated per call). The sums are scalars, not
    scratch arrays, so they stay in registers (as the C twin's stack arrays do): 1.36x -> C's speed."""
    k = src.shape[0]
    wsum = c0 = c1 = c2 = d0 = d1 = d2 = 0.0
    for i in range(k):
        wi = w[i]
        wsum += wi
        c0 += wi * src[i, 0]
        d0 += wi * dst[i, 0]
        c1 += wi * src[i, 1]
        d1 += wi * dst[i, 1]
        c2 += wi * src[i, 2]
        d2 += wi * dst[i, 2]
    c0, c1, c2, d0, d1, d2 = c0 / wsum, c1 / wsum, c2 / wsum, d0 / wsum, d1 / wsum, d2 / wsum
    var = s00 = s01 = s02 = s10 = s11 = s12 = s20 = s21 = s22 = 0.0
    for i in range(k):
        wi = w[i]
        e0, e1, e2 = dst[i, 0] - d0, dst[i, 1] - d1, dst[i, 2] - d2
        da = src[i, 0] - c0
        var += wi * (da * da)
        s00 += wi * da * e0
        s01 += wi * da * e1
        s02 += wi * da * e2
        da = src[i, 1] - c1
        var += wi * (da * da)
        s10 += wi * da * e0
        s11 += wi * da * e1
        s12 += wi * da * e2
        da = src[i, 2] - c2
        var += wi * (da * da)
        s20 += wi * da * e0
        s21 += wi * da * e1
        s22 += wi * da * e2
    n, q = scratch[0], scratch[3, 0]
    n[0, 0] = s00 + s11 + s22
    n[0, 1] = n[1, 0] = s12 - s21
    n[0, 2] = n[2, 0] = s20 - s02
    n[0, 3] = n[3, 0] = s01 - s10
    n[1, 1] = s00 - s11 - s22
    n[1, 2] = n[2, 1] = s01 + s10
    n[1, 3] = n[3, 1] = s20 + s02
    n[2, 2] = -s00 + s11 - s22
    n[2, 3] = n[3, 2] = s12 + s21
    n[3, 3] = -s00 - s11 + s22
    _top_eigenvector4(n, q, scratch[1], scratch[2])
    q0, qx, qy, qz = q[0], q[1], q[2], q[3]
    r00 = q0 * q0 + qx * qx - qy * qy - qz * qz
    r01 = 2.0 * (qx * qy - q0 * qz)
    r02 = 2.0 * (qx * qz + q0 * qy)
    r10 = 2.0 * (qy * qx + q0 * qz)
    r11 = q0 * q0 - qx * qx + qy * qy - qz * qz
    r12 = 2.0 * (qy * qz - q0 * qx)
    r20 = 2.0 * (qz * qx - q0 * qy)
    r21 = 2.0 * (qz * qy + q0 * qx)
    r22 = q0 * q0 - qx * qx - qy * qy + qz * qz
    rot[0, 0], rot[0, 1], rot[0, 2] = r00, r01, r02
    rot[1, 0], rot[1, 1], rot[1, 2] = r10, r11, r12
    rot[2, 0], rot[2, 1], rot[2, 2] = r20, r21, r22
    cov = 0.0  # sum over a, b of rot[b, a] * s[a, b], in the C twin's order
    cov += r00 * s00
    cov += r10 * s01
    cov += r20 * s02
    cov += r01 * s10
    cov += r11 * s11
    cov += r21 * s12
    cov += r02 * s20
    cov += r12 * s21
    cov += r22 * s22
    s = cov / var
    trans[0] = d0 - s * (r00 * c0 + r01 * c1 + r02 * c2)
    trans[1] = d1 - s * (r10 * c0 + r11 * c1 + r12 * c2)
    trans[2] = d2 - s * (r20 * c0 + r21 * c1 + r22 * c2)
    return s


@kernel
def _fit(faces, idx, canon, robust, iterations, rot, scale, trans, resid):
    k = idx.shape[0]
    dst = np.empty((k, 3))
    w = np.empty(k)
    r = np.empty(k)
    scratch = np.empty((4, 4, 4))
    for f in range(faces.shape[0]):
        ok = True
        for i in range(k):
            for j in range(3):
                dst[i, j] = faces[f, idx[i], j]
            if not (np.isfinite(dst[i, 0]) and np.isfinite(dst[i, 1]) and np.isfinite(dst[i, 2])):
                ok = False
        if not ok:
            rot[f] = np.nan
            scale[f] = np.nan
            trans[f] = np.nan
            resid[f] = np.nan
            continue
        w[:] = 1.0
        for it in range(iterations + 1):
            s = _similarity(canon, dst, w, rot[f], trans[f], scratch)
            if not s > 0.0:  # the points collapsed onto one place (a degenerate detection): no pose
                ok = False
                break
            total = 0.0
            rf, tf = rot[f], trans[f]
            for i in range(k):
                x0, x1, x2 = canon[i, 0], canon[i, 1], canon[i, 2]
                p0 = s * (rf[0, 0] * x0 + rf[0, 1] * x1 + rf[0, 2] * x2) + tf[0] - dst[i, 0]
                p1 = s * (rf[1, 0] * x0 + rf[1, 1] * x1 + rf[1, 2] * x2) + tf[1] - dst[i, 1]
                p2 = s * (rf[2, 0] * x0 + rf[2, 1] * x1 + rf[2, 2] * x2) + tf[2] - dst[i, 2]
                e2 = p0 * p0
                e2 += p1 * p1
                e2 += p2 * p2
                r[i] = math.sqrt(e2) / s
                total += r[i] * r[i]
                w[i] = 1.0 / (1.0 + (r[i] / robust) ** 2)
        if not ok:
            rot[f] = np.nan
            scale[f] = np.nan
            trans[f] = np.nan
            resid[f] = np.nan
            continue
        scale[f] = s
        resid[f] = math.sqrt(total / k)


def rotation_from_angles(yaw: np.ndarray | float, pitch: np.ndarray | float,
                         roll: np.ndarray | float = 0.0) -> np.ndarray:
    """Rotation matrices [..., 3, 3] for yaw, pitch, roll in degrees (module conventions)."""
    y, p, r = (np.radians(np.asarray(a, np.float64)) for a in (yaw, pitch, roll))
    y, p, r = np.broadcast_arrays(y, p, r)
    cy, sy, cp, sp, cr, sr = np.cos(y), np.sin(y), np.cos(p), np.sin(p), np.cos(r), np.sin(r)
    one, zero = np.ones_like(y), np.zeros_like(y)
    ry = np.stack([np.stack([cy, zero, -sy], -1), np.stack([zero, one, zero], -1),
                   np.stack([sy, zero, cy], -1)], -2)                      # Ry(-yaw)
    rx = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, cp, sp], -1),
                   np.stack([zero, -sp, cp], -1)], -2)                     # Rx(-pitch)
    rz = np.stack([np.stack([cr, -sr, zero], -1), np.stack([sr, cr, zero], -1),
                   np.stack([zero, zero, one], -1)], -2)                   # Rz(roll)
    return ry @ rx @ rz


def pose_angles(rotation: np.ndarray) -> np.ndarray:
    """Yaw, pitch, roll in degrees [n, 3] of rotations [n, 3, 3] (NaN rotations give NaN)."""
    rotation = np.ascontiguousarray(rotation, np.float64)
    if rotation.ndim != 3 or rotation.shape[1:] != (3, 3):
        raise ValueError(f"rotations must have shape (frames, 3, 3), got {rotation.shape}")
    out = np.empty((rotation.shape[0], 3))
    _angles(rotation, out)
    return out


@kernel
def _angles(rot, out):
    for f in range(rot.shape[0]):
        fx, fy, fz = -rot[f, 0, 2], -rot[f, 1, 2], -rot[f, 2, 2]   # forward = R·(0, 0, -1)
        yaw = math.atan2(fx, -fz)
        pitch = math.asin(_clamp_unit(-fy))
        # roll: the head's x axis after undoing yaw and pitch, Rx(-pitch)^T Ry(-yaw)^T R e_x
        cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
        x0, x1, x2 = rot[f, 0, 0], rot[f, 1, 0], rot[f, 2, 0]
        u0 = cy * x0 + sy * x2
        w2 = -sy * x0 + cy * x2
        u1 = cp * x1 - sp * w2
        out[f, 0] = math.degrees(yaw)
        out[f, 1] = math.degrees(pitch)
        out[f, 2] = math.degrees(math.atan2(u1, u0))


def relative_angles(rotation: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Yaw, pitch, roll [n, 3] degrees of each rotation relative to a baseline rotation [3, 3].

    The relative rotation is R · R_baseline^T: the head's turn since the baseline, in camera axes.
    """
    rotation = np.asarray(rotation, np.float64)
    return pose_angles(rotation @ np.asarray(baseline, np.float64).T)
