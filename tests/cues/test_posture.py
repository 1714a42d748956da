"""Open posture: the kernels against a plain-Python reference, and truth from synthetic arm poses.

The synthetic poses start from real mediapipe Pose landmarks (head and shoulders of the
public-domain portrait) and place the arms with a kinematic model (shoulder -> elbow -> wrist,
segment lengths kept) into crossed, clasped, lap, open, hanging and hidden poses, then vary body
size, position, small rotations of the whole body, and landmark jitter. Real recordings:
test_posture_realdata.py.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pytest

from attunement.config import PostureConfig, default_config
from attunement.cues import posture as P
from attunement.errors import ConfigError, InputError
from attunement.records import Landmarks
from tests import naive

CFG = default_config().posture
L_SH, R_SH, L_EL, R_EL, L_WR, R_WR = 11, 12, 13, 14, 15, 16
ARM = (13, 14, 15, 16, 17, 18, 19, 20, 21, 22)
#: Each arm pose class, and whether it is open (not crossed, hands in sight and apart).
OPEN_KINDS = ("open", "hanging", "lap")
CLOSED_KINDS = ("crossed", "clasped", "behind", "pockets")


def assert_matches_reference(pose, world, size, c=CFG, baseline=None):
    got = P.posture(pose, world, size, config=c, baseline=baseline)
    want = naive.posture(np.asarray(pose, np.float64), np.asarray(world, np.float64), size, c, baseline)
    for key, ref in want.items():
        np.testing.assert_allclose(getattr(got, key), ref, rtol=0, atol=1e-5 if key == "ratio" else 0, err_msg=key)
    return got


# ---------------------------------------------------------------- synthetic bodies

@dataclass(frozen=True)
class Body:
    """A real person's head and shoulders (mediapipe world landmarks [33, 3] and visibility [33]) with arm lengths."""

    world: np.ndarray
    vis: np.ndarray
    upper: float  # shoulder -> elbow, shoulder widths
    fore: float   # elbow -> wrist, shoulder widths

    @property
    def sw_m(self) -> float:
        return float(np.linalg.norm(self.world[L_SH] - self.world[R_SH]))

    def frame(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Origin (shoulder midpoint) and axes: a toward the left shoulder, b down, c forward (toward the camera)."""
        o = (self.world[L_SH] + self.world[R_SH]) / 2
        ex = (self.world[L_SH] - self.world[R_SH]) / self.sw_m
        down = np.array([0.0, 1.0, 0.0]) - ex[1] * ex
        ey = down / np.linalg.norm(down)
        forward = -np.cross(ex, ey)  # mediapipe z grows away from the camera
        return o, ex, ey, forward

    def to_world(self, abc) -> np.ndarray:
        o, ex, ey, fw = self.frame()
        a, b, c = abc
        return o + self.sw_m * (a * ex + b * ey + c * fw)

    def to_body(self, xyz) -> np.ndarray:
        o, ex, ey, fw = self.frame()
        return np.array([(xyz - o) @ ex, (xyz - o) @ ey, (xyz - o) @ fw]) / self.sw_m


def body_from(pose_px: np.ndarray, world: np.ndarray, rng: np.random.Generator) -> Body:
    """A body from a real detection, with arm lengths drawn from adult proportions (the real arms are out of view)."""
    return Body(world=np.asarray(world, np.float64).copy(), vis=np.asarray(pose_px[:, 3], np.float64).copy(),
                upper=rng.uniform(0.85, 1.0), fore=rng.uniform(0.7, 0.85))


def two_link(shoulder, target, upper, fore, pole):
    """Elbow and wrist (body coordinates, shoulder widths) reaching for `target`, the elbow bent toward `pole`.

    Segment lengths are exact; a target out of reach is pulled along the line from the shoulder.
    """
    d = np.asarray(target, float) - shoulder
    dist = float(np.linalg.norm(d))
    n = d / dist
    dist = min(max(dist, abs(upper - fore) + 1e-3), 0.98 * (upper + fore))
    x = (upper ** 2 - fore ** 2 + dist ** 2) / (2 * dist)
    r = math.sqrt(max(upper ** 2 - x ** 2, 0.0))
    side = np.asarray(pole, float) - (np.asarray(pole, float) @ n) * n
    side /= np.linalg.norm(side)
    elbow = shoulder + x * n + r * side
    return elbow, shoulder + dist * n


def crossed_arms(body: Body, rng) -> tuple[np.ndarray, np.ndarray]:
    """Elbows near the sides, forearms across the front, wrists past the midline, forearms resting on each other."""
    while True:
        arms = []
        for sgn in (1, -1):  # left arm (a > 0), then right
            shoulder = np.array([0.5 * sgn, 0.0, 0.0])
            ea, eb = sgn * rng.uniform(0.3, 0.55), rng.uniform(0.55, 0.95)
            rest = body.upper ** 2 - (ea - shoulder[0]) ** 2 - eb ** 2
            if rest <= 0:
                break
            elbow = np.array([ea, eb, math.sqrt(rest)])
            th, ph = math.radians(rng.uniform(-10, 30)), math.radians(rng.uniform(-15, 20))
            d = np.array([-sgn * math.cos(th) * math.cos(ph), -math.sin(th) * math.cos(ph), math.sin(ph)])
            arms.append((elbow, elbow + body.fore * d))
        if len(arms) < 2:
            continue
        (el, wl), (er, wr) = arms
        at_mid = [e[1] + (0 - e[0]) / (w[0] - e[0]) * (w[1] - e[1]) for e, w in arms]
        if wl[0] <= -0.12 and wr[0] >= 0.12 and 0.3 <= wl[1] <= 1.1 and 0.3 <= wr[1] <= 1.1 \
                and abs(at_mid[0] - at_mid[1]) <= 0.2:
            return np.array([el, er]), np.array([wl, wr])


def place_arms(body: Body, kind: str, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elbows [2, 3] and wrists [2, 3] (left, right; body coordinates) and wrist visibility [2] for a pose class."""
    if kind == "crossed":
        elbows, wrists = crossed_arms(body, rng)
        return elbows, wrists, rng.uniform(0.75, 1.0, 2)
    if kind == "clasped":
        mid = np.array([rng.uniform(-0.12, 0.12), rng.uniform(0.25, 0.85), rng.uniform(0.45, 0.8)])
        half = rng.uniform(0.07, 0.18)
        targets = [mid + [half, rng.uniform(-0.05, 0.05), 0], mid + [-half, rng.uniform(-0.05, 0.05), 0]]
        pole, vis = (1.0, 1.0, -0.3), rng.uniform(0.75, 1.0, 2)
    elif kind == "lap":
        targets = [[s * rng.uniform(-0.15, 0.55), rng.uniform(1.4, 1.65), rng.uniform(0.3, 0.7)] for s in (1, -1)]
        pole, vis = (1.0, 0.0, -1.0), rng.uniform(0.75, 1.0, 2)
    elif kind == "open":
        targets = [[s * rng.uniform(0.28, 1.2), rng.uniform(-0.4, 1.5), rng.uniform(0.0, 0.8)] for s in (1, -1)]
        pole, vis = (1.0, 1.0, -0.3), rng.uniform(0.75, 1.0, 2)
    elif kind == "hanging":
        targets = [[s * rng.uniform(0.5, 0.75), rng.uniform(1.3, 1.6), rng.uniform(-0.1, 0.2)] for s in (1, -1)]
        pole, vis = (0.3, 0.0, -1.0), rng.uniform(0.75, 1.0, 2)
    elif kind in ("behind", "behind_visible"):
        targets = [[s * rng.uniform(-0.1, 0.3), rng.uniform(1.0, 1.4), rng.uniform(-0.8, -0.55)] for s in (1, -1)]
        pole = (1.0, 0.3, -0.5)
        vis = rng.uniform(0.02, 0.45, 2) if kind == "behind" else rng.uniform(0.75, 1.0, 2)
    elif kind == "pockets":
        targets = [[s * rng.uniform(0.4, 0.55), rng.uniform(1.25, 1.45), rng.uniform(0.0, 0.15)] for s in (1, -1)]
        pole, vis = (1.0, 0.0, -1.0), rng.uniform(0.02, 0.45, 2)
    else:
        raise ValueError(kind)
    elbows, wrists = [], []
    for sgn, target in zip((1, -1), targets):
        mirrored_pole = (sgn * pole[0], pole[1], pole[2])
        e, w = two_link(np.array([0.5 * sgn, 0.0, 0.0]), target, body.upper, body.fore, mirrored_pole)
        elbows.append(e)
        wrists.append(w)
    return np.array(elbows), np.array(wrists), vis


def pose_world(body: Body, elbows, wrists, wrist_vis, *, raise_sw: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """World landmarks [33, 3] and visibility [33] with the arms placed and the shoulders raised by `raise_sw`."""
    world, vis = body.world.copy(), body.vis.copy()
    lift = np.array([0.0, -raise_sw, 0.0])
    for k, sgn in ((L_SH, 1), (R_SH, -1)):
        world[k] = body.to_world(np.array([0.5 * sgn, 0.0, 0.0]) + lift)
    for side in range(2):
        world[(L_EL, R_EL)[side]] = body.to_world(elbows[side] + lift)
        world[(L_WR, R_WR)[side]] = body.to_world(wrists[side] + lift)
        vis[(L_EL, R_EL)[side]] = 0.95
        vis[(L_WR, R_WR)[side]] = wrist_vis[side]
        for k in (17, 19, 21) if side == 0 else (18, 20, 22):  # hand points just beyond the wrist
            hand = wrists[side] + 0.25 * (wrists[side] - elbows[side]) / body.fore
            world[k] = body.to_world(hand + lift)
            vis[k] = wrist_vis[side]
    for k in range(25, 33):  # legs: below, not seen
        vis[k] = 0.01
    return world, vis


@dataclass(frozen=True)
class Camera:
    """Weak perspective: pixels = px_per_m * Rz(roll_px) (R_body world)_xy + centre; z likewise."""

    px_per_m: float
    centre: tuple[float, float]
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    size: tuple[int, int] = (1600, 1400)


def rotation(yaw, pitch, roll) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def shoot(world, vis, cam: Camera, rng=None, *, jitter_sw: float = 0.0, jitter_m: float = 0.0):
    """(pose [33, 4] pixels + visibility, pose_world [33, 3]) of a posed body seen by `cam`, with jitter."""
    o = (world[L_SH] + world[R_SH]) / 2
    moved = (world - o) @ rotation(cam.yaw, cam.pitch, cam.roll).T + o
    px = (moved - o) * cam.px_per_m
    px[:, 0] += cam.centre[0]
    px[:, 1] += cam.centre[1]
    vis = vis.copy()
    if jitter_sw:
        sw_px = np.linalg.norm(px[L_SH, :2] - px[R_SH, :2])
        px[:, :2] += rng.normal(0, jitter_sw * sw_px, (33, 2))
        moved = moved + rng.normal(0, jitter_m, moved.shape)
        seen = vis >= 0.5
        vis = np.clip(vis + rng.normal(0, 0.03, 33), 0, 1)
        vis = np.where(seen, np.maximum(vis, 0.55), np.minimum(vis, 0.45))  # jitter keeps what is seen
    w, h = cam.size
    outside = (px[:, 0] < 0) | (px[:, 0] >= w) | (px[:, 1] < 0) | (px[:, 1] >= h)
    vis[outside] = np.minimum(vis[outside], 0.1)  # mediapipe: points outside the picture are not visible
    return np.column_stack([px, vis]).astype(np.float32), moved.astype(np.float32)


#: Body turn (yaw), lean (pitch) and tilt (roll) of the synthetic poses, degrees either way.
TURN_DEG, LEAN_DEG, TILT_DEG = 10.0, 10.0, 10.0


def random_camera(body: Body, rng, *, turn=TURN_DEG, lean=LEAN_DEG, tilt=TILT_DEG) -> Camera:
    """A body 140-420 px across the shoulders, anywhere in the middle of a 1600 x 1400 frame, turned a little."""
    sw_px = rng.uniform(140, 420)
    w, h = 1600, 1400
    return Camera(px_per_m=sw_px / body.sw_m, centre=(rng.uniform(0.35, 0.65) * w, rng.uniform(0.25, 0.35) * h),
                  yaw=rng.uniform(-turn, turn), pitch=rng.uniform(-lean, lean), roll=rng.uniform(-tilt, tilt),
                  size=(w, h))


def synth(body: Body, kind: str, rng, *, n: int, jitter=True, raise_sw=0.0, **turns):
    """n synthetic frames of one pose class: (pose [n, 33, 4], world [n, 33, 3], size)."""
    poses, worlds = [], []
    for _ in range(n):
        elbows, wrists, wv = place_arms(body, kind, rng)
        world, vis = pose_world(body, elbows, wrists, wv, raise_sw=raise_sw)
        cam = random_camera(body, rng, **turns)
        p, w = shoot(world, vis, cam, rng, jitter_sw=0.01 if jitter else 0.0, jitter_m=0.004 if jitter else 0.0)
        poses.append(p)
        worlds.append(w)
    return np.stack(poses), np.stack(worlds), (1600, 1400)


# ---------------------------------------------------------------- the real portrait

@pytest.fixture(scope="module")
def portrait_pose() -> tuple[np.ndarray, np.ndarray]:
    """mediapipe Pose (static, model_complexity=1) on the grace_hopper portrait: pose [33, 4] px, world [33, 3] m."""
    import cv2
    import matplotlib.cbook as cbook
    import mediapipe as mp

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        result = pose.process(image)
    assert result.pose_landmarks is not None, "mediapipe found no body in the portrait"
    px = np.array([(q.x * w, q.y * h, q.z * w, q.visibility) for q in result.pose_landmarks.landmark], np.float32)
    world = np.array([(q.x, q.y, q.z) for q in result.pose_world_landmarks.landmark], np.float32)
    return px, world


@pytest.fixture(scope="module")
def body(portrait_pose) -> Body:
    px, world = portrait_pose
    return body_from(px, world, np.random.default_rng(7))


def canonical(**points) -> tuple[np.ndarray, np.ndarray]:
    """A hand-made frame in an 800 x 800 picture: shoulders 200 px apart at y = 300, ears 0.6 sw above them,
    elbows at the sides; `points` overrides (index name -> (a, b) in shoulder widths, or None = not seen)."""
    names = dict(l_el=L_EL, r_el=R_EL, l_wr=L_WR, r_wr=R_WR, l_ear=7, r_ear=8, l_sh=L_SH, r_sh=R_SH)
    ab = {L_SH: (0.5, 0), R_SH: (-0.5, 0), 7: (0.3, -0.6), 8: (-0.3, -0.6), 0: (0, -0.5),
          L_EL: (0.6, 0.9), R_EL: (-0.6, 0.9), L_WR: (0.6, 1.6), R_WR: (-0.6, 1.6), 23: (0.3, 1.4), 24: (-0.3, 1.4)}
    pose = np.full((33, 4), np.nan, np.float32)
    pose[:, 3] = 0.0
    for name, value in points.items():
        ab[names[name]] = value
    for k, value in ab.items():
        if value is None:
            pose[k] = (400, 900, 0, 0.1)  # not seen, predicted below the picture
        else:
            pose[k] = (400 + 200 * value[0], 300 + 200 * value[1], 0, 0.99)
    world = np.full((33, 3), np.nan, np.float32)
    return pose, world


HAND_MADE = {  # name: (points, expected crossed, hidden, clasped, open)
    "open, hands at the sides": (dict(), 0, 0, 0, 1),
    "arms crossed": (dict(l_el=(0.45, 0.8), r_el=(-0.45, 0.8), l_wr=(-0.3, 0.6), r_wr=(0.3, 0.6)), 1, 0, 0, 0),
    "crossed, forearms apart": (dict(l_el=(0.45, 0.3), r_el=(-0.45, 1.2), l_wr=(-0.3, 0.3),
                                     r_wr=(0.3, 1.2)), 0, 0, 0, 1),
    "crossed below the torso (lap)": (dict(l_wr=(-0.2, 1.5), r_wr=(0.2, 1.5)), 0, 0, 0, 1),
    "hands clasped at the chest": (dict(l_wr=(0.1, 0.6), r_wr=(-0.1, 0.6)), 0, 0, 1, 0),
    "hands apart at the chest": (dict(l_wr=(0.3, 0.6), r_wr=(-0.3, 0.6)), 0, 0, 0, 1),
    "hands out of the picture below": (dict(l_wr=None, r_wr=None), 0, np.nan, np.nan, np.nan),
    "one hand in sight": (dict(l_wr=None), 0, 0, 0, 1),
    "no shoulders": (dict(l_sh=None), np.nan, np.nan, np.nan, np.nan),
}


@pytest.mark.parametrize("name", HAND_MADE)
def test_hand_made_frames(name):
    points, *expected = HAND_MADE[name]
    pose, world = canonical(**points)
    got = assert_matches_reference(pose[None], world[None], (800, 800), baseline=0.6)
    np.testing.assert_array_equal([got.crossed[0], got.hidden[0], got.clasped[0], got.open[0]],
                                  np.array(expected, np.float32), err_msg=name)


def test_hidden_hands_need_the_torso_in_the_picture():
    pose, world = canonical()
    pose[[L_WR, R_WR], 3] = 0.1  # not seen, predicted at the sides inside the 800 x 800 picture
    got = assert_matches_reference(pose[None], world[None], (800, 800), baseline=0.6)
    assert got.hidden[0] == 1 and got.open[0] == 0
    short = assert_matches_reference(pose[None], world[None], (800, 480), baseline=0.6)  # torso cut off
    assert np.isnan(short.hidden[0]) and np.isnan(short.crossed[0]) and np.isnan(short.open[0])


def test_wrist_behind_the_back_is_hidden_even_when_reported_visible():
    pose, world = canonical()
    world[:] = 0.0
    world[L_SH], world[R_SH] = (0.17, -0.45, 0.0), (-0.17, -0.45, 0.0)
    world[L_WR], world[R_WR] = (0.05, 0.0, 0.2), (-0.05, 0.0, 0.2)  # 20 cm behind the shoulders
    got = assert_matches_reference(pose[None], world[None], (800, 800), baseline=0.6)
    assert got.hidden[0] == 1 and got.open[0] == 0
    world[L_WR, 2] = world[R_WR, 2] = 0.1  # 10 cm: beside the body
    got = assert_matches_reference(pose[None], world[None], (800, 800), baseline=0.6)
    assert got.hidden[0] == 0 and got.open[0] == 1


def test_raised_shoulders_against_the_baseline_margin_inclusive():
    margin = CFG.raise_margin_sw
    frames = []
    for drop in (0.0, margin, margin - 0.01, 2 * margin):
        pose, world = canonical(l_ear=(0.3, -0.6 + drop), r_ear=(-0.3, -0.6 + drop))
        frames.append((pose, world))
    pose, world = (np.stack(x) for x in zip(*frames))
    got = assert_matches_reference(pose, world, (800, 800), baseline=0.6)
    np.testing.assert_allclose(got.ratio, [0.6, 0.6 - margin, 0.6 - margin + 0.01, 0.6 - 2 * margin], atol=1e-5)
    np.testing.assert_array_equal(got.raised, [0, 1, 0, 1])
    np.testing.assert_array_equal(got.open, [1, 0, 1, 0])
    assert got.baseline == 0.6
    assert P.shoulder_baseline(got.ratio, percentile=0) == pytest.approx(0.6 - 2 * margin)


# ---------------------------------------------------------------- kernel vs reference

def scramble(pose, world, rng, *, nan_share=0.0, low_vis_share=0.0):
    """Copies with random landmarks made invisible, NaN (whole points or one coordinate) or world-less."""
    pose, world = pose.copy(), world.copy()
    n = pose.shape[0]
    pose[..., 3] = np.where(rng.random((n, 33)) < low_vis_share, rng.uniform(0, 0.5, (n, 33)), pose[..., 3])
    if nan_share:
        pose[rng.random((n, 33)) < nan_share, :3] = np.nan
        pose[rng.random((n, 33, 4)) < nan_share / 4] = np.nan
        world[rng.random((n, 33)) < nan_share] = np.nan
        world[rng.random(n) < 0.2] = np.nan
        pose[rng.random(n) < 0.1] = np.nan  # no body at all
    return pose, world


@pytest.mark.parametrize("kind", OPEN_KINDS + CLOSED_KINDS + ("behind_visible",))
def test_kernel_matches_reference_on_random_poses(body, kind, rng):
    pose, world, size = synth(body, kind, rng, n=60, raise_sw=rng.uniform(0, 0.15))
    assert_matches_reference(*scramble(pose, world, rng, low_vis_share=0.1), size)
    assert_matches_reference(*scramble(pose, world, rng, low_vis_share=0.2, nan_share=0.1), size)
    assert_matches_reference(pose, world, (1600, 700))  # the picture cut through the torso


def test_kernel_matches_reference_on_noise(rng):
    """Landmarks anywhere, any visibility, NaN here and there: the two agree frame by frame."""
    n = 400
    pose = np.concatenate([rng.uniform(-100, 900, (n, 33, 2)), rng.normal(0, 100, (n, 33, 1)),
                           rng.uniform(0, 1, (n, 33, 1))], axis=2).astype(np.float32)
    world = rng.normal(0, 0.3, (n, 33, 3)).astype(np.float32)
    assert_matches_reference(pose, world, (800, 800))
    assert_matches_reference(*scramble(pose, world, rng, nan_share=0.2), (800, 800))


def test_frames_then_baseline_match_reference(rng):
    """posture_frames (per-frame geometry) and posture_from (against a baseline) apart, as a live
    session runs them, on noise with frames without a body."""
    pose = rng.uniform(0, 800, (300, 33, 4))
    pose[..., 3] = rng.uniform(0, 1, (300, 33))
    world = rng.normal(0, 0.3, (300, 33, 3))
    pose, world = scramble(pose, world, rng, nan_share=0.2)
    frames = P.posture_frames(pose, world, (800, 800), config=CFG)
    for baseline in (None, 0.4):
        got = P.posture_from(frames, config=CFG, baseline=baseline)
        want = naive.posture(pose, world, (800, 800), CFG, baseline)
        for key, ref in want.items():
            np.testing.assert_allclose(getattr(got, key), ref, rtol=0, atol=1e-5 if key == "ratio" else 0,
                                       err_msg=key)


def test_no_body_is_unknown_not_an_error():
    pose = np.full((5, 33, 4), np.nan, np.float32)
    world = np.full((5, 33, 3), np.nan, np.float32)
    got = P.posture(pose, world, (640, 480), config=CFG)
    for key in ("crossed", "hidden", "clasped", "hands", "raised", "open", "ratio"):
        assert np.isnan(getattr(got, key)).all(), key
    assert math.isnan(got.baseline)
    empty = P.posture(np.zeros((0, 33, 4)), np.zeros((0, 33, 3)), (640, 480), config=CFG)
    assert empty.open.shape == (0,)


# ---------------------------------------------------------------- truth from synthetic poses

def test_generator_keeps_segment_lengths(body, rng):
    for kind in OPEN_KINDS + CLOSED_KINDS:
        for _ in range(20):
            elbows, wrists, _ = place_arms(body, kind, rng)
            for side, sgn in enumerate((1, -1)):
                shoulder = np.array([0.5 * sgn, 0.0, 0.0])
                assert np.linalg.norm(elbows[side] - shoulder) == pytest.approx(body.upper, abs=1e-9)
                assert np.linalg.norm(wrists[side] - elbows[side]) == pytest.approx(body.fore, abs=1e-9)


@pytest.mark.parametrize("kind", OPEN_KINDS + CLOSED_KINDS)
def test_crossed_arms_found_on_every_crossed_pose_and_never_on_others(body, kind, rng):
    pose, world, size = synth(body, kind, rng, n=300)
    got = P.posture(pose, world, size, config=CFG)
    if kind == "crossed":
        assert (got.crossed == 1).all(), f"missed {np.sum(got.crossed != 1)} of 300 crossed-arm poses"
    else:
        assert not (got.crossed == 1).any(), f"crossed arms on {np.sum(got.crossed == 1)} {kind} poses"


@pytest.mark.parametrize("kind", OPEN_KINDS + CLOSED_KINDS)
def test_open_posture_flag(body, kind, rng):
    """Open kinds are open on every pose; crossed, clasped, behind-the-back and pockets never are."""
    pose, world, size = synth(body, kind, rng, n=300)
    got = P.posture(pose, world, size, config=CFG)
    want = 1.0 if kind in OPEN_KINDS else 0.0
    assert (got.open == want).all(), f"{kind}: open = {np.unique(got.open, return_counts=True)}"
    if kind in ("clasped",):
        assert (got.clasped == 1).all()
    if kind in ("behind", "pockets"):
        assert (got.hidden == 1).all()


def test_hands_behind_the_back_reported_visible(body, rng):
    """mediapipe may report a hand behind the back as visible; its depth gives it away (body turned and
    tilted; a forward or backward lean moves it relative to the shoulders and is left out)."""
    pose, world, size = synth(body, "behind_visible", rng, n=300, lean=0.0)
    got = P.posture(pose, world, size, config=CFG)
    assert (got.hidden == 1).all() and (got.open == 0).all()


@pytest.mark.parametrize("kind", ("lap", "hanging", "crossed", "clasped"))
def test_head_and_shoulders_framing_never_claims_hands(body, kind, rng):
    """A webcam picture that ends at the shoulders shows no hands: nothing about them is claimed."""
    pose, world, _ = synth(body, kind, rng, n=100)
    height = 700
    for q in pose:  # each body moved so that the bottom edge runs through its higher shoulder
        q[:, 1] += height - q[[L_SH, R_SH], 1].min()
        below = q[:, 1] >= height
        below[[L_SH, R_SH]] = False  # mediapipe still places shoulders at the edge (as in the real clips)
        q[below, 3] = np.minimum(q[below, 3], 0.1)
    got = P.posture(pose, world, (1600, height), config=CFG)
    assert np.isnan(got.hidden).all() and np.isnan(got.clasped).all()
    assert not (got.crossed == 1).any() and not (got.open == 1).any()


def test_shoulders_raised_by_the_margin_found_exactly(body, rng):
    """No turn, lean or jitter (tilt, size and place vary): raises >= margin are found, smaller ones not."""
    margin = CFG.raise_margin_sw
    neutral, nw, size = synth(body, "open", rng, n=30, jitter=False, turn=0.0, lean=0.0)
    baseline = P.posture(neutral, nw, size, config=CFG).baseline
    for raise_sw, want in ((margin, 1.0), (margin + 0.05, 1.0), (margin - 0.005, 0.0), (0.0, 0.0)):
        pose, world, size = synth(body, "open", rng, n=30, jitter=False, raise_sw=raise_sw, turn=0.0, lean=0.0)
        got = P.posture(pose, world, size, config=CFG, baseline=baseline)
        assert (got.raised == want).all(), (raise_sw, got.ratio - baseline)


def raise_session(body, rng, raise_sw, **turns):
    """120 frames of a still person (open arm poses) then 30 with the shoulders raised by `raise_sw`."""
    parts = [synth(body, OPEN_KINDS[k % 3], rng, n=1, **turns) for k in range(120)]
    parts += [synth(body, "open", rng, n=1, raise_sw=raise_sw, **turns) for _ in range(30)]
    pose = np.concatenate([p[0] for p in parts])
    world = np.concatenate([p[1] for p in parts])
    return P.posture(pose, world, (1600, 1400), config=CFG)


@pytest.mark.parametrize("turned", (False, True))
def test_shoulders_raised_with_jitter_and_turns(body, rng, turned):
    """Jittered still frames are never raised (baseline from the session). Raises of the margin + 0.04 sw
    (4 jitter sd) are always found; with the body also turned and leaning by up to 10 degrees, which
    moves the ears against the shoulders by up to about 0.04 sw, raises of twice the margin are."""
    margin = CFG.raise_margin_sw
    turns = {} if turned else dict(turn=0.0, lean=0.0)
    got = raise_session(body, rng, 2 * margin if turned else margin + 0.04, **turns)
    assert not (got.raised[:120] == 1).any(), np.sort(got.ratio[:120] - got.baseline)[:5]
    assert (got.raised[120:] == 1).all(), np.sort(got.ratio[120:] - got.baseline)[-5:]


def test_portrait_as_is(portrait_pose):
    """The portrait itself: shoulders in view, hands below the picture: nothing about hands is claimed."""
    px, world = portrait_pose
    got = assert_matches_reference(px[None], world[None], (512, 600))
    assert got.ratio[0] == pytest.approx(0.59, abs=0.05)
    assert np.isnan(got.crossed[0]) and np.isnan(got.hidden[0]) and got.raised[0] == 0


# ---------------------------------------------------------------- API

def test_posture_of_landmark_records(body, rng):
    pose, world, size = synth(body, "crossed", rng, n=5)
    frames = [Landmarks(t=k / 25, size=size, face=np.full((478, 3), np.nan, np.float32), pose=pose[k],
                        pose_world=world[k]) for k in range(5)]
    got = P.posture_of(frames, config=CFG)
    want = P.posture(pose, world, size, config=CFG)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    assert (got.crossed == 1).all()


def test_bad_input_is_one_clear_error():
    with pytest.raises(ValueError, match="pose must be"):
        P.posture(np.zeros((3, 17, 4)), np.zeros((3, 33, 3)), (640, 480), config=CFG)
    with pytest.raises(ValueError, match="frames"):
        P.posture(np.zeros((3, 33, 4)), np.zeros((2, 33, 3)), (640, 480), config=CFG)
    with pytest.raises(ValueError, match="size"):
        P.posture(np.zeros((3, 33, 4)), np.zeros((3, 33, 3)), (0, 480), config=CFG)
    with pytest.raises(InputError, match="one size"):
        P.posture_of([Landmarks(0.0, (640, 480), np.zeros((478, 3)), np.zeros((33, 4)), np.zeros((33, 3))),
                      Landmarks(0.1, (320, 240), np.zeros((478, 3)), np.zeros((33, 4)), np.zeros((33, 3)))],
                     config=CFG)


def test_config_section_is_checked():
    assert isinstance(default_config().posture, PostureConfig)
    with pytest.raises(ConfigError, match="min_visibility"):
        dataclasses.replace(CFG, min_visibility=1.5)
    with pytest.raises(ConfigError, match="torso_top_sw"):
        dataclasses.replace(CFG, torso_top_sw=2.0)
    assert default_config().replace("posture", raise_margin_sw=0.1).posture.raise_margin_sw == 0.1
