"""Face cue kernels against plain numpy / Python references, on hand-made, random and NaN-laden
input; the canonical face rebuilt from the real portrait; profiles and settings.

Real landmarks come from mediapipe 0.10.21 run here on real images (helpers below, shared with
test_cues_truth.py and test_cues_realdata.py).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import stat

import matplotlib.cbook
import mediapipe as mp
import numpy as np
import pytest
from PIL import Image

from attunement.config import CueConfig, default_config
from attunement.cues import distance, events, gaze, headpose, mouth, nods
from attunement.cues.calibration import Baseline, calibrate, load_profile, save_profile
from attunement.cues.face import analyze_face, stack_landmarks
from attunement.cues.face_geometry import (CANONICAL, EYEBALLS, IRIS_RING, RIGID,
                                           build_canonical)
from attunement.errors import ConfigError, InputError
from attunement.intervals import bool_runs
from attunement.records import Landmarks
from tests import naive

CFG = default_config().cues


# ---------------------------------------------------------------- real landmarks (mediapipe)

def mediapipe_face(image: np.ndarray, *, mesh=None) -> np.ndarray:
    """Face landmarks [478, 3] in pixels (x*w, y*h, z*w) of an RGB image; NaN when no face."""
    h, w = image.shape[:2]
    own = mesh is None
    mesh = mesh or mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=1)
    try:
        res = mesh.process(np.ascontiguousarray(image))
    finally:
        if own:
            mesh.close()
    if not res.multi_face_landmarks:
        return np.full((478, 3), np.nan, np.float32)
    return np.array([(p.x * w, p.y * h, p.z * w) for p in res.multi_face_landmarks[0].landmark], np.float32)


@functools.lru_cache(maxsize=None)
def portrait_image() -> np.ndarray:
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as im:
        return np.asarray(im.convert("RGB"))


@functools.lru_cache(maxsize=None)
def portrait_face(mirror: bool = False) -> np.ndarray:
    """The real portrait's landmarks (or those of its mirror image: another real face layout)."""
    image = portrait_image()
    return mediapipe_face(image[:, ::-1] if mirror else image)


def random_rotations(rng, n: int, max_deg: float = 40.0) -> np.ndarray:
    return headpose.rotation_from_angles(*rng.uniform(-max_deg, max_deg, (3, n)))


def posed_faces(rng, n: int, *, nan_frames=()) -> np.ndarray:
    """The portrait's landmarks turned, scaled and moved at random, with jitter; some frames NaN."""
    face = portrait_face().astype(np.float64)
    centre = face[RIGID].mean(axis=0)
    out = np.empty((n, 478, 3))
    for k, rot in enumerate(random_rotations(rng, n)):
        out[k] = (face - centre) @ rot.T * rng.uniform(0.5, 2) + rng.uniform(100, 500, 3)
    out += rng.normal(0, 1.0, out.shape)
    out[list(nan_frames)] = np.nan
    return out.astype(np.float32)


# ---------------------------------------------------------------- canonical face

def test_canonical_face_is_rebuilt_from_the_real_portrait():
    rigid, eyeballs = build_canonical(portrait_face())
    np.testing.assert_allclose(rigid, CANONICAL, atol=0.006)
    np.testing.assert_allclose(eyeballs, EYEBALLS, atol=0.006)
    # symmetric by construction, centred, and of human size (iris 11.7 mm set the scale)
    assert abs(CANONICAL.mean(axis=0)).max() < 1e-2
    where = {int(i): k for k, i in enumerate(RIGID)}
    outer = np.linalg.norm(CANONICAL[where[33]] - CANONICAL[where[263]])
    assert 80 < outer < 105, outer   # biocular width of adults: about 85-100 mm
    assert 55 < np.linalg.norm(EYEBALLS[0] - EYEBALLS[1]) < 72  # interpupillary distance


def test_build_canonical_rejects_a_frame_without_a_face():
    with pytest.raises(InputError, match="478"):
        build_canonical(np.full((478, 3), np.nan))


# ---------------------------------------------------------------- head pose kernels

def test_fit_matches_svd_umeyama_on_random_poses_with_nan_frames(rng):
    faces = posed_faces(rng, 40, nan_frames=(3, 17))
    faces[25, RIGID[5], 1] = np.nan          # one rigid point missing: the whole frame is NaN
    faces[30, 13, :] = np.nan                # a non-rigid point missing: the fit is unaffected
    pose = headpose.fit_head_pose(faces)
    for k in range(len(faces)):
        rot, s, t, r = naive.head_pose_frame(faces[k])
        if k in (3, 17, 25):
            assert np.isnan(pose.scale[k]) and np.isnan(pose.rotation[k]).all() and np.isnan(pose.residual[k])
            continue
        np.testing.assert_allclose(pose.rotation[k], rot, atol=1e-6)
        np.testing.assert_allclose(pose.scale[k], s, rtol=1e-6)
        np.testing.assert_allclose(pose.translation[k], t, atol=1e-3)
        np.testing.assert_allclose(pose.residual[k], r, rtol=1e-5)
        np.testing.assert_allclose(pose.apparent[k], pose.rotation[k])  # no camera: no line-of-sight turn


def test_fit_recovers_a_hand_made_similarity_exactly():
    face = portrait_face().astype(np.float64)
    base = headpose.fit_head_pose(face)
    rot = headpose.rotation_from_angles(25.0, -15.0, 8.0)
    centre = face[RIGID].mean(axis=0)
    moved = (face - centre) @ rot.T * 1.7 + centre + [40.0, -25.0, 3.0]
    pose = headpose.fit_head_pose(moved)
    np.testing.assert_allclose(pose.scale / base.scale, 1.7, rtol=1e-5)
    np.testing.assert_allclose(headpose.relative_angles(pose.rotation, base.rotation[0])[0], [25, -15, 8], atol=1e-3)


def test_pose_angles_match_reference_and_invert_rotation_from_angles(rng):
    ypr = np.column_stack([rng.uniform(-80, 80, 200), rng.uniform(-80, 80, 200), rng.uniform(-170, 170, 200)])
    rots = headpose.rotation_from_angles(*ypr.T)
    got = headpose.pose_angles(rots)
    np.testing.assert_allclose(got, ypr, atol=1e-9)
    np.testing.assert_allclose(got, [naive.pose_angle_frame(r) for r in rots], atol=1e-9)
    rots[5] = np.nan
    assert np.isnan(headpose.pose_angles(rots)[5]).all()


def test_rotation_conventions_by_hand():
    # yaw +90: the face (looking along -z) turns to image right (+x)
    np.testing.assert_allclose(headpose.rotation_from_angles(90, 0, 0) @ [0, 0, -1], [1, 0, 0], atol=1e-12)
    # pitch +90: the face turns up (-y, image y points down)
    np.testing.assert_allclose(headpose.rotation_from_angles(0, 90, 0) @ [0, 0, -1], [0, -1, 0], atol=1e-12)
    # roll +90: the top of the head (-y) tilts to image right (+x)
    np.testing.assert_allclose(headpose.rotation_from_angles(0, 0, 90) @ [0, -1, 0], [1, 0, 0], atol=1e-12)


def test_camera_turn_matches_rodrigues(rng):
    faces = posed_faces(rng, 12, nan_frames=(4,))
    camera = (900.0, 320.0, 240.0)
    pose = headpose.fit_head_pose(faces, camera=camera)
    for k in range(len(faces)):
        if k == 4:
            assert np.isnan(pose.view[k]).all() and np.isnan(pose.rotation[k]).all()
            continue
        v = np.array([(pose.translation[k, 0] - 320) / 900, (pose.translation[k, 1] - 240) / 900, 1.0])
        v /= np.linalg.norm(v)
        np.testing.assert_allclose(pose.view[k], v, atol=1e-12)
        np.testing.assert_allclose(pose.rotation[k], naive.line_of_sight_one(v) @ pose.apparent[k], atol=1e-9)


def test_head_pose_rejects_bad_shapes():
    with pytest.raises(ValueError, match="478"):
        headpose.fit_head_pose(np.zeros((3, 468, 3)))
    with pytest.raises(ValueError, match="rotations"):
        headpose.pose_angles(np.zeros((3, 3)))


# ---------------------------------------------------------------- gaze kernels

def test_gaze_matches_reference_on_random_frames_with_nan(rng):
    faces = posed_faces(rng, 30, nan_frames=(0, 11))
    # move the irises at random (gaze), and close one eye in one frame
    for k in range(30):
        for e, ring in enumerate(IRIS_RING):
            faces[k, np.r_[[468, 473][e], ring], :2] += rng.normal(0, 3, 2).astype(np.float32)
    faces[20, 159] = faces[20, 145]
    pose = headpose.fit_head_pose(faces, camera=(800.0, 300.0, 300.0))
    bias = (3.0, -2.0)
    got = gaze.eye_gaze(faces, pose, radius_units=12.3, bias_deg=bias)
    for k in range(30):
        eye, g, op = naive.eye_gaze_frame(faces[k], pose.apparent[k], pose.scale[k], 12.3, bias)
        np.testing.assert_allclose(got.eye[k], eye, atol=1e-6)
        np.testing.assert_allclose(got.gaze[k], g, atol=1e-6)
        np.testing.assert_allclose(got.openness[k], op, rtol=1e-5, equal_nan=True)
    assert np.isnan(got.gaze[[0, 11]]).all()


def test_gaze_of_the_portrait_points_at_the_lens():
    """The canonical face was made from this portrait, looking into the lens: gaze near (0, 0)."""
    face = portrait_face()
    pose = headpose.fit_head_pose(face)
    k = distance.iris_units(distance.iris_diameter_px(face), pose)
    got = gaze.eye_gaze(face, pose, radius_units=gaze.radius_units(k, eyeball_radius_mm=12, iris_diameter_mm=11.7))
    assert gaze.angle_to(got.gaze)[0] < 3.0
    assert 0.2 < got.openness[0] < 0.45


def test_angle_to_matches_dot_product(rng):
    g = rng.uniform(-60, 60, (100, 2))
    g[7] = np.nan
    target = (4.0, -6.0)
    got = gaze.angle_to(g, target)
    np.testing.assert_allclose(got, naive.angle_to(g, target), atol=1e-6)
    assert gaze.angle_to(np.array([[4.0, -6.0], [4.0, 24.0]]), target) == pytest.approx([0, 30], abs=1e-5)


def test_eye_contact_hand_made():
    t = np.arange(20) / 10.0
    angle = np.array([20, 9, 9, 12, 12, 14, 9, 9, 9, 9, 30, 30, 9, 9, 9, 9, 9, 9, 30, 30], float)
    state = np.full(20, gaze.EYES_OPEN, np.int8)
    # on at <= 10, off at > 13: frames 1-4 on, 5 breaks (14), 6-9 on, 10-11 break of 0.2 s bridged
    got = gaze.eye_contact(t, angle, state, on_deg=10, off_deg=13, min_s=0.3, bridge_s=0.25)
    assert got.tolist() == [False] + [True] * 17 + [False, False]
    # without bridging, the 0.1 s break at frame 5 and the 0.2 s break at 10-11 stay
    got = gaze.eye_contact(t, angle, state, on_deg=10, off_deg=13, min_s=0.3, bridge_s=0.0)
    assert got.tolist() == [False] + [True] * 4 + [False] + [True] * 4 + [False] * 2 + [True] * 6 + [False] * 2
    # a no-face frame ends contact and is never bridged; closed eyes keep the state
    state[14] = gaze.NO_FACE
    state[6] = gaze.EYES_CLOSED
    angle[6] = 40
    got = gaze.eye_contact(t, angle, state, on_deg=10, off_deg=13, min_s=0.3, bridge_s=0.25)
    assert not got[14] and got[6] and got[13] and got[15]


def test_short_contact_is_dropped_only_when_both_its_ends_were_seen():
    """A 0.2 s contact inside the recording is a glance through the lens (dropped at min_s 0.3);
    the same 0.2 s at the first or the last frame began before or lasts beyond the recording, so
    its length is unknown and it is kept."""
    t = np.arange(12) / 10.0
    state = np.full(12, gaze.EYES_OPEN, np.int8)
    inside = np.array([30, 30, 30, 30, 5, 5, 30, 30, 30, 30, 30, 30], float)
    edges = np.array([5, 5, 30, 30, 30, 30, 30, 30, 30, 30, 5, 5], float)
    kw = dict(on_deg=10, off_deg=13, min_s=0.3, bridge_s=0.0)
    assert not gaze.eye_contact(t, inside, state, **kw).any()
    assert gaze.eye_contact(t, edges, state, **kw).tolist() == [True] * 2 + [False] * 8 + [True] * 2
    assert not gaze.eye_contact(t, edges, state, **{**kw, "on_deg": 4, "off_deg": 4}).any()


@pytest.mark.parametrize("seed", range(4))
def test_eye_contact_matches_reference_on_random_series(seed):
    rng = np.random.default_rng(seed)
    n = 300
    t = np.cumsum(rng.uniform(0.02, 0.05, n))
    angle = np.abs(np.cumsum(rng.normal(0, 3, n))) % 30
    angle[rng.random(n) < 0.05] = np.nan
    state = rng.choice([gaze.NO_FACE, gaze.EYES_OPEN, gaze.EYES_CLOSED], n, p=[0.05, 0.85, 0.1]).astype(np.int8)
    got = gaze.eye_contact(t, angle, state, on_deg=8, off_deg=12, min_s=0.2, bridge_s=0.15)
    np.testing.assert_array_equal(got, naive.eye_contact(t, angle, state, 8, 12, 0.2, 0.15))


def test_eye_contact_rejects_bad_settings():
    t = np.arange(3.0)
    with pytest.raises(InputError, match="on_deg"):
        gaze.eye_contact(t, np.zeros(3), np.ones(3, np.int8), on_deg=12, off_deg=10, min_s=0, bridge_s=0)
    with pytest.raises(InputError, match="increasing"):
        gaze.eye_contact(t[::-1], np.zeros(3), np.ones(3, np.int8), on_deg=8, off_deg=10, min_s=0, bridge_s=0)


# ---------------------------------------------------------------- distance, mouth, events

def test_iris_and_mouth_kernels_match_numpy(rng):
    faces = posed_faces(rng, 25, nan_frames=(2, 9))
    np.testing.assert_allclose(distance.iris_diameter_px(faces), naive.iris_diameter_px(faces), rtol=1e-6)
    np.testing.assert_allclose(mouth.mouth_opening(faces), naive.mouth_opening(faces), rtol=1e-6)
    assert np.isnan(mouth.mouth_opening(faces)[[2, 9]]).all()


def test_focal_length_and_distance_by_hand():
    assert distance.focal_length_px(1280, 90.0) == pytest.approx(640.0)
    face = portrait_face()
    pose = headpose.fit_head_pose(face)
    k = distance.iris_units(distance.iris_diameter_px(face), pose)
    assert k == pytest.approx(11.7, rel=0.02)   # the canonical face's unit is this portrait's millimetre
    # an iris of 11.7 mm spanning d pixels at focal length f is f * 11.7 / d mm away
    d_cm = distance.distance_cm(pose, iris_units=k, focal_px=500.0, iris_diameter_mm=11.7)[0]
    assert d_cm == pytest.approx(500.0 * 11.7 / (k * pose.scale[0]) / 10)
    with pytest.raises(InputError, match="field of view"):
        distance.focal_length_px(640, 0)


def test_lean_events_hand_made():
    t = np.arange(60) / 10.0
    dist = np.full(60, 50.0)
    dist[10:25] = 45.5     # 9% nearer for 1.5 s: lean in
    dist[30:37] = 45.5     # 0.7 s only: too short
    dist[40:55] = 54.0     # 8% farther for 1.5 s: lean back
    dist[45:47] = np.nan   # a 0.2 s gap without a face inside it is held
    got = distance.lean_events(t, dist, baseline_cm=50.0, margin=0.06, release=0.03, hold_s=1.0, max_gap_s=0.25)
    found = [(e.kind, round(e.start, 6), round(e.end, 6)) for e in got]
    assert found == [("lean_in", 1.0, 2.5), ("lean_back", 4.0, 5.5)]
    assert got[0].amplitude == pytest.approx(-0.09)


@pytest.mark.parametrize("seed", range(4))
def test_held_runs_match_reference(seed):
    rng = np.random.default_rng(seed)
    n = 400
    t = np.cumsum(rng.uniform(0.02, 0.06, n))
    x = np.cumsum(rng.normal(0, 0.01, n)) + 0.1 * np.sin(t)
    x[rng.random(n) < 0.08] = np.nan
    ends = events.frame_ends(t)
    starts, stops = np.empty(n, np.int64), np.empty(n, np.int64)
    m = distance._held_runs(x, t, ends, 0.06, 0.03, 0.5, 0.1, starts, stops)
    assert list(zip(starts[:m].tolist(), stops[:m].tolist())) == naive.held_runs(x, t, 0.06, 0.03, 0.5, 0.1)
    assert m > 0


@pytest.mark.parametrize("seed", range(3))
def test_runs_kernel_matches_reference(seed):
    flags = np.random.default_rng(seed).random(500) < 0.6
    first, stop = bool_runs(flags)  # stop is exclusive; the reference's last index inclusive
    want = [(i, j) for i, j in naive.equal_runs(flags.tolist()) if flags[i]]
    assert list(zip(first.tolist(), (stop - 1).tolist())) == want


def test_runs_to_events_by_hand():
    t = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    got = events.runs_to_events(t, np.array([True, True, False, True, True]), "eye_contact")
    assert [(e.start, e.end) for e in got] == [(0.0, 0.2), (0.3, pytest.approx(0.5))]
    assert events.runs_to_events(t, np.zeros(5, bool), "x") == []


# ---------------------------------------------------------------- nods and shakes

def nod_series(t, starts_freq_count_amp, sign=-1.0):
    x = np.zeros_like(t)
    for t0, f, count, amp in starts_freq_count_amp:
        m = (t >= t0) & (t < t0 + count / f)
        x[m] += sign * amp / 2 * (1 - np.cos(2 * np.pi * f * (t[m] - t0)))
    return x


def test_nods_hand_made():
    t = np.arange(0, 12, 1 / 30)
    x = nod_series(t, [(1.0, 2.0, 3, 8.0), (4.0, 1.0, 1, 10.0), (7.0, 5.0, 4, 5.0)])
    got = nods.swing_events(t, x, kind="nod", min_deg=3, min_hz=0.7, max_hz=7, return_ratio=0.5, max_gap_s=0.25,
                            min_swings=2, down_first=True)
    assert [e.count for e in got] == [3, 1, 4]
    for e, (t0, t1, amp) in zip(got, [(1.0, 2.5, 8.0), (4.0, 5.0, 10.0), (7.0, 7.8, 5.0)]):
        assert e.start == pytest.approx(t0, abs=0.05) and e.end == pytest.approx(t1, abs=0.05)
        assert e.amplitude == pytest.approx(amp, rel=0.05)
    # a chin-up-first movement is not a nod; too slow (0.3 Hz) or too small (2 deg) neither
    for bad in ([(1.0, 2.0, 1, -8.0)], [(1.0, 0.3, 2, 8.0)], [(1.0, 2.0, 3, 2.0)]):
        assert nods.swing_events(t, nod_series(t, bad), kind="nod", min_deg=3, min_hz=0.7, max_hz=7,
                                 return_ratio=0.5, max_gap_s=0.25, min_swings=2, down_first=True) == []


def test_looking_down_and_back_is_not_a_nod():
    t = np.arange(0, 6, 1 / 30)
    x = np.zeros_like(t)
    x[(t >= 1) & (t < 3)] = -15.0       # looks down at notes for 2 s, then back up
    x = np.convolve(x, np.ones(6) / 6, mode="same")
    assert nods.swing_events(t, x, kind="nod", min_deg=3, min_hz=0.7, max_hz=7, return_ratio=0.5,
                             max_gap_s=0.25, min_swings=2, down_first=True) == []


@pytest.mark.parametrize("seed", range(6))
def test_gestures_match_reference_on_random_series(seed):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(1 / 35, 1 / 20, 900))
    events_ = [(rng.uniform(0, t[-1] - 3), rng.uniform(0.8, 6), int(rng.integers(1, 5)), rng.uniform(2, 12))
               for _ in range(8)]
    x = nod_series(t, events_) + np.cumsum(rng.normal(0, 0.3, t.size)) + rng.normal(0, 0.5, t.size)
    for _ in range(5):  # NaN gaps, short and long
        a = int(rng.integers(0, t.size - 20))
        x[a:a + int(rng.integers(1, 15))] = np.nan
    for down_first, min_swings in ((True, 2), (False, 3)):
        got = nods.swing_events(t, x, kind="g", min_deg=3, min_hz=0.7, max_hz=7, return_ratio=0.5, max_gap_s=0.25,
                                min_swings=min_swings, down_first=down_first)
        want = naive.swing_events(t, x, 3, 0.7, 7, 0.5, 0.25, min_swings, down_first)
        assert len(got) == len(want), (seed, down_first)
        for e, w in zip(got, want):
            assert (e.start, e.end, e.count, e.amplitude) == pytest.approx(w), (seed, down_first)


def test_gap_fill_and_turning_points_by_hand():
    t = np.arange(10) / 10.0
    x = np.array([0, 1, np.nan, 3, np.nan, np.nan, np.nan, np.nan, 8, 9], float)
    y, seg = np.empty(10), np.empty(10, np.int64)
    nods._fill(x, t, events.frame_ends(t), 0.15, y, seg)
    np.testing.assert_allclose(y[:4], [0, 1, 2, 3])
    assert seg.tolist() == [0, 0, 0, 0, -1, -1, -1, -1, 1, 1]
    y = np.array([0, 5, 1, 6, 0, 0.5, 0, 7], float)
    tp = np.empty(9, np.int64)
    m = nods._turning_points(y, np.zeros(8, np.int64), 3.0, tp)
    assert tp[:m].tolist() == [0, 1, 2, 3, 4, 7]


# ---------------------------------------------------------------- baseline profiles and settings

def test_profile_round_trip_is_private(tmp_path):
    b = Baseline(head_deg=(1.0, -2.0, 0.5), eye_bias_deg=(0.3, 1.2), iris_units=12.1, distance_cm=55.0,
                 mouth_closed=0.01, frames=80, start_s=0.0, end_s=3.0, image_size=(1280, 720))
    path = tmp_path / "me.json"
    path.write_text("old")
    os.chmod(path, 0o644)
    save_profile(b, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_profile(path) == b
    np.testing.assert_allclose(b.rotation, headpose.rotation_from_angles(1.0, -2.0, 0.5))


@pytest.mark.parametrize("text, match", [("{", "not readable JSON"), ('{"version": 9}', "version"),
                                         ('{"version": 1, "head_deg": [0, 0, 0]}', "missing")])
def test_bad_profiles_are_one_line_input_errors(tmp_path, text, match):
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        load_profile(path)
    with pytest.raises(InputError, match="not found"):
        load_profile(tmp_path / "none.json")


def test_calibration_refuses_frames_without_a_face():
    faces = np.full((90, 478, 3), np.nan, np.float32)
    faces[:5] = portrait_face()
    with pytest.raises(InputError, match="a face in 5 of 90 frames"):
        calibrate(faces, np.arange(90) / 30, (512, 600), config=CFG)


def test_cue_settings_are_checked():
    assert isinstance(CFG, CueConfig)
    with pytest.raises(ConfigError, match="contact_on_deg"):
        dataclasses.replace(CFG, contact_on_deg=15.0, contact_off_deg=10.0)
    with pytest.raises(ConfigError, match="lean_release"):
        dataclasses.replace(CFG, lean_release=0.1)
    with pytest.raises(ConfigError, match="camera_hfov_deg"):
        default_config().replace("cues", camera_hfov_deg=0.0)


# ---------------------------------------------------------------- the whole batch

def test_stack_landmarks_and_a_batch_without_any_face():
    face = portrait_face()
    empty = np.full((478, 3), np.nan, np.float32)
    frames = [Landmarks(t=k / 30, size=(512, 600), face=face if k % 2 else empty,
                        pose=np.full((33, 4), np.nan, np.float32), pose_world=np.full((33, 3), np.nan, np.float32))
              for k in range(6)]
    faces, times, size = stack_landmarks(frames)
    assert faces.shape == (6, 478, 3) and faces.dtype == np.float32 and size == (512, 600)
    np.testing.assert_allclose(times, np.arange(6) / 30)
    with pytest.raises(InputError, match="different image sizes"):
        stack_landmarks(frames[:2] + [dataclasses.replace(frames[2], size=(640, 480))])
    cues = analyze_face(np.full((40, 478, 3), np.nan, np.float32), np.arange(40) / 30, (640, 480), config=CFG)
    assert not cues.has_face.any() and not cues.eye_contact.any() and math.isnan(cues.eye_contact_share)
    assert cues.events == () and cues.baseline == "geometry" and np.isnan(cues.distance_cm).all()


def test_a_wink_leaves_the_gaze_to_the_open_eye(rng):
    """One eye winked shut (its lids together): wherever its iris landmarks wander, the gaze is the
    open eye's and the openness that eye's; a blink (both shut) is still closed."""
    faces = posed_faces(rng, 3)
    faces[:, 159] = faces[:, 145]                        # the person's right eye winked in every frame
    moved = faces.copy()
    moved[1, np.r_[468, IRIS_RING[0]], :2] += 6.0       # its iris landmarks drift (they do when shut)
    pose = headpose.fit_head_pose(faces, camera=(800.0, 300.0, 300.0))
    a = gaze.eye_gaze(faces, pose, radius_units=12.3)
    b = gaze.eye_gaze(moved, pose, radius_units=12.3)
    np.testing.assert_allclose(a.gaze, b.gaze, atol=1e-9)
    assert np.all(a.openness > 0.2)                      # the open eye's lid gap, not half of it
    both = faces.copy()
    both[:, 386] = both[:, 374]
    assert np.all(gaze.eye_gaze(both, pose, radius_units=12.3).openness < 0.05)
