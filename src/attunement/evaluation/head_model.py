"""Face landmark sequences with exact truth, for tests and benchmarks: real landmarks made into a
metric 3D head, then turned, moved, their eyes turned, and projected through a pinhole camera.

Camera model (pinhole, no lens distortion): camera frame x right, y down, z away from the
camera, millimetres; principal point at the image centre; focal length f = (width/2)/tan(hfov/2)
pixels. A point P = (X, Y, Z) lands at x = f·X/Z + width/2, y = f·Y/Z + height/2, and gets the
mediapipe-style depth z = f·((P - C)·v)/C_z pixels: its depth along the line of sight v from the
lens to the face's centre C (the rigid points' centroid), in the image scale at that centre.
So z is what an appearance-based landmarker sees (the face as viewed along v), and x, y are exact.

Head model (`HeadModel.from_landmarks`): the landmarks of a real face looking at its camera, read
as a weak-perspective view (x, y, z offsets from the face's centre along the line of sight),
are scaled to millimetres by their iris (11.7 mm), expressed in the face's own symmetric head
frame (face_geometry.frontal_axes) about a pivot `pivot_mm` behind the rigid points' centroid
(the head turns about the neck, not the nose), and each eye gets an eyeball centre `eyeball_mm`
behind its iris centre along the line of sight. Eyes turn by rotating the five iris points of
each eye about its eyeball centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..cues.face_geometry import (
    IRIS_CENTRE,
    IRIS_RING,
    RIGID,
    frontal_axes,
    iris_diameters_2d,
)
from ..errors import InputError


@dataclass(frozen=True)
class PinholeCamera:
    """An ideal camera `width` x `height` pixels with horizontal field of view `hfov_deg`."""

    width: int = 1280
    height: int = 720
    hfov_deg: float = 65.0

    @property
    def focal_px(self) -> float:
        return (self.width / 2) / math.tan(math.radians(self.hfov_deg) / 2)

    def project(self, points_mm: np.ndarray, centre_mm: np.ndarray) -> np.ndarray:
        """Pixels [..., 3] (x, y, mediapipe-style z) of camera-frame points [..., 3] in mm, for a face
        whose centre is at `centre_mm` [3] (z: depth along the line of sight to it, in x's scale there)."""
        p = np.asarray(points_mm, np.float64)
        c = np.asarray(centre_mm, np.float64)
        f = self.focal_px
        out = np.empty_like(p)
        out[..., 0] = f * p[..., 0] / p[..., 2] + self.width / 2
        out[..., 1] = f * p[..., 1] / p[..., 2] + self.height / 2
        out[..., 2] = f * ((p - c) @ (c / np.linalg.norm(c))) / c[2]
        return out


def direction(yaw_deg, pitch_deg) -> np.ndarray:
    """Unit vectors [..., 3] for yaw, pitch in degrees (headpose conventions; (0, 0) = (0, 0, -1))."""
    y, p = np.radians(yaw_deg), np.radians(pitch_deg)
    return np.stack(np.broadcast_arrays(np.sin(y) * np.cos(p), -np.sin(p), -np.cos(y) * np.cos(p)), axis=-1)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation [3, 3] turning vector a into vector b (Rodrigues; not for opposite vectors)."""
    a = np.asarray(a, np.float64) / np.linalg.norm(a)
    b = np.asarray(b, np.float64) / np.linalg.norm(b)
    v, c = np.cross(a, b), float(a @ b)
    if np.linalg.norm(v) < 1e-12:
        return np.eye(3)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


@dataclass(frozen=True)
class HeadModel:
    """A metric head (head frame, mm, origin at the pivot): landmarks [478, 3], eyeball centres [2, 3],
    and each eye's rest gaze [2, 3] (unit, head frame) as captured."""

    points: np.ndarray
    eyeballs: np.ndarray
    rest_gaze: np.ndarray

    @classmethod
    def from_landmarks(cls, face: np.ndarray, *, iris_mm: float = 11.7, eyeball_mm: float = 12.0,
                       pivot_mm: float = 90.0) -> "HeadModel":
        """The head of a real face's landmarks [478, 3] (pixels; the person looked into the lens)."""
        face = np.asarray(face, np.float64)
        if face.shape != (478, 3) or not np.isfinite(face).all():
            raise InputError(f"a head model needs one finite face of 478 points, got shape {face.shape}")
        centre = face[RIGID].mean(axis=0)
        pts = (face - centre) * (iris_mm / float(np.mean(iris_diameters_2d(face))))  # mm, line-of-sight frame
        axes = frontal_axes(pts)
        away = np.array([0.0, 0.0, 1.0])  # from the lens through the irises
        eyeballs = pts[IRIS_CENTRE] + eyeball_mm * away
        pivot = pivot_mm * axes[2]
        to_head = lambda p: (p - pivot) @ axes.T  # noqa: E731
        rest = np.tile(-away @ axes.T, (2, 1))
        return cls(points=to_head(pts), eyeballs=to_head(eyeballs), rest_gaze=rest)

    def posed(self, rotation: np.ndarray, position_mm: np.ndarray, *, eye_deg=None, look_at_mm=None) -> np.ndarray:
        """Camera-frame landmarks [478, 3] mm of the head turned by `rotation` [3, 3] with its pivot at
        `position_mm`, eyes turned to eye-in-head (yaw, pitch) `eye_deg` or to the point `look_at_mm`
        (camera frame; the lens is the origin), or left as captured when neither is given."""
        rotation = np.asarray(rotation, np.float64)
        position = np.asarray(position_mm, np.float64)
        pts = self.points.copy()
        for e, (centre, ring) in enumerate(zip(IRIS_CENTRE, IRIS_RING)):
            if look_at_mm is not None:
                ball = position + rotation @ self.eyeballs[e]
                want = rotation.T @ (np.asarray(look_at_mm, np.float64) - ball)
            elif eye_deg is not None:
                want = direction(*eye_deg)
            else:
                continue
            turn = rotation_between(self.rest_gaze[e], want)
            idx = np.concatenate([[centre], ring])
            pts[idx] = (pts[idx] - self.eyeballs[e]) @ turn.T + self.eyeballs[e]
        return pts @ rotation.T + position

    def render(self, camera: PinholeCamera, rotation: np.ndarray, position_mm: np.ndarray, *, eye_deg=None,
               look_at_mm=None) -> np.ndarray:
        """Landmarks [478, 3] in pixels as `camera` sees the posed head (see `posed`)."""
        pts = self.posed(rotation, position_mm, eye_deg=eye_deg, look_at_mm=look_at_mm)
        return camera.project(pts, pts[RIGID].mean(axis=0))

    def gaze(self, rotation: np.ndarray, position_mm: np.ndarray, *, eye_deg=None,
             look_at_mm=None) -> tuple[np.ndarray, np.ndarray]:
        """True (cyclopean gaze unit vector [3], eyes' midpoint [3]) in the camera frame, mm."""
        rotation = np.asarray(rotation, np.float64)
        position = np.asarray(position_mm, np.float64)
        balls = position + self.eyeballs @ rotation.T
        if look_at_mm is not None:
            rays = np.asarray(look_at_mm, np.float64) - balls
            rays /= np.linalg.norm(rays, axis=1, keepdims=True)
        elif eye_deg is not None:
            rays = np.tile(rotation @ direction(*eye_deg), (2, 1))
        else:
            rays = self.rest_gaze @ rotation.T
        g = rays.sum(axis=0)
        return g / np.linalg.norm(g), balls.mean(axis=0)
