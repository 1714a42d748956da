"""Face cues against exact synthetic truth at the landmark level.

Real landmarks (mediapipe on the real portrait and on its mirror image) become a metric head
(cues/synthetic.py), which is turned about its neck pivot, moved, its eyes turned about their
eyeball centres and projected through a pinhole camera (1280 x 720, 65 degrees) with 0.5 px
landmark jitter. The truth is what was set: head rotation, gaze ray, distance, nod and shake
trajectories, mouth opening. The same checks on heads made from real video frames are in
test_cues_realdata.py.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
from tests.cues.test_face import mediapipe_face, portrait_face, portrait_image

from attunement.config import default_config
from attunement.cues.calibration import calibrate
from attunement.cues.face import analyze_face
from attunement.cues.distance import camera_intrinsics, distance_cm, iris_diameter_px, iris_units
from attunement.cues.headpose import fit_head_pose, pose_angles, relative_angles, rotation_from_angles
from attunement.cues.face_geometry import RIGID
from attunement.evaluation.head_model import HeadModel, PinholeCamera, rotation_between

CFG = default_config().cues
CAM = PinholeCamera(1280, 720, 65.0)
SIZE = (CAM.width, CAM.height)
FPS = 30.0
LENS = np.zeros(3)
JITTER_PX = 0.5


def portrait_head(mirror: bool = False) -> HeadModel:
    return HeadModel.from_landmarks(portrait_face(mirror))


HEADS = {"portrait": lambda: portrait_head(False), "mirrored": lambda: portrait_head(True)}


def render(model: HeadModel, rng, yaw, pitch, roll=None, *, position=(0.0, 0.0, 600.0), look=None,
           jitter_px: float = JITTER_PX) -> np.ndarray:
    """Frames [n, 478, 3] for per-frame head angles [n] (degrees), positions [n, 3] or [3] (mm),
    and `look`: None (eyes as captured), "lens", a point [3] / points [n, 3] (mm), or eye angles
    ("eye", yaw, pitch)."""
    yaw = np.atleast_1d(np.asarray(yaw, float))
    n = yaw.size
    pitch = np.broadcast_to(np.asarray(pitch, float), (n,))
    roll = np.zeros(n) if roll is None else np.broadcast_to(np.asarray(roll, float), (n,))
    pos = np.broadcast_to(np.asarray(position, float), (n, 3))
    rots = rotation_from_angles(yaw, pitch, roll)
    out = np.empty((n, 478, 3))
    for k in range(n):
        out[k] = model.render(CAM, rots[k], pos[k], **_look(look, k))
    return (out + rng.normal(0, jitter_px, out.shape)).astype(np.float32)


def _look(look, k):
    if look is None:
        return {}
    if isinstance(look, str):
        return {"look_at_mm": LENS}
    if isinstance(look, tuple) and look[0] == "eye":
        return {"eye_deg": look[1:]}
    pts = np.asarray(look, float)
    return {"look_at_mm": pts if pts.ndim == 1 else pts[k]}


def true_lens_angle(model, yaw, pitch, position, look) -> float:
    """Degrees between the true (cyclopean) gaze ray and the direction from the eyes to the lens."""
    gaze, eyes = model.gaze(rotation_from_angles(yaw, pitch, 0.0), np.asarray(position, float), **_look(look, 0))
    to_lens = (LENS - eyes) / np.linalg.norm(LENS - eyes)
    return float(np.degrees(np.arccos(np.clip(gaze @ to_lens, -1, 1))))


# ---------------------------------------------------------------- head pose

@pytest.mark.parametrize("head", HEADS)
def test_head_pose_relative_to_baseline_within_30_degrees(head, rng):
    """Yaw and pitch error <= 3 deg median against the baseline frame, anywhere in +-30 deg,
    with the head off the optical axis too (the pose is corrected for the line of sight)."""
    model = HEADS[head]()
    grid = np.array([(y, p) for y in range(-30, 31, 10) for p in range(-30, 31, 10)], float)
    roll = rng.uniform(-10, 10, len(grid))
    errors = []
    for position in ((0, 0, 600), (120, -60, 550), (-150, 80, 800)):
        base = fit_head_pose(render(model, rng, 0.0, 0.0, position=position), camera=(CAM.focal_px, 640, 360))
        pose = fit_head_pose(render(model, rng, grid[:, 0], grid[:, 1], roll, position=position),
                             camera=(CAM.focal_px, 640, 360))
        rel = relative_angles(pose.rotation, base.rotation[0])
        errors.append(np.abs(rel - np.column_stack([grid, roll])))
    err = np.concatenate(errors)
    median = np.median(err, axis=0)
    print(f"{head}: median |error| yaw {median[0]:.2f}, pitch {median[1]:.2f}, roll {median[2]:.2f} deg; "
          f"95th percentile {np.percentile(err, 95, axis=0).round(2)}")
    assert median[0] <= 3.0 and median[1] <= 3.0
    assert np.percentile(err[:, :2], 95) <= 5.0


def test_absolute_pose_of_the_frontal_portrait_is_near_zero(rng):
    """Without a baseline, anywhere in the picture: the portrait's head facing along the optical
    axis reads ~0 in the camera frame, and turned to face the lens reads ~0 against the line of sight."""
    model = portrait_head()
    for position in ((0, 0, 600), (200, 100, 600), (-180, -90, 450)):
        pose = fit_head_pose(render(model, rng, 0.0, 0.0, position=position), camera=(CAM.focal_px, 640, 360))
        assert np.abs(pose_angles(pose.rotation)[0]).max() < 3.0, position
        turn = np.eye(3)
        for _ in range(4):  # turn the head to face the lens: its line of sight depends on the turn
            face = model.posed(turn, position)[RIGID].mean(axis=0)
            turn = rotation_between([0.0, 0.0, 1.0], face)
        frame = model.render(CAM, turn, position) + rng.normal(0, JITTER_PX, (478, 3))
        pose = fit_head_pose(frame, camera=(CAM.focal_px, 640, 360))
        assert np.abs(pose_angles(pose.apparent)[0]).max() < 3.0, position


def test_signs_follow_the_picture(rng):
    """yaw > 0: nose toward image right; pitch > 0: nose up; roll > 0: image-left eye higher."""
    model = portrait_head()
    cases = {(20.0, 0.0, 0.0): 0, (0.0, 20.0, 0.0): 1, (0.0, 0.0, 15.0): 2}
    front = render(model, rng, 0.0, 0.0, jitter_px=0)[0]
    nose = lambda f: f[1, :2] - (f[33, :2] + f[263, :2]) / 2  # noqa: E731
    for (yaw, pitch, roll), axis in cases.items():
        face = render(model, rng, yaw, pitch, roll, jitter_px=0)[0]
        if axis == 0:
            assert nose(face)[0] > nose(front)[0] + 10
        elif axis == 1:
            assert nose(face)[1] < nose(front)[1] - 10
        else:
            assert face[33, 1] < face[263, 1] - 10
        got = pose_angles(fit_head_pose(face, camera=(CAM.focal_px, 640, 360)).rotation)[0]
        assert got[axis] == pytest.approx([yaw, pitch, roll][axis], abs=3.0)


# ---------------------------------------------------------------- eye contact

def contact_script():
    """(seconds, head yaw, head pitch, look) segments: the first 3 s at the lens (calibration)."""
    return [(3.0, 0, 0, "lens"), (1.5, 15, 0, "lens"), (1.5, -20, 5, "lens"), (1.5, 0, 0, (0, 250, 0)),
            (1.5, 10, -10, "lens"), (1.5, 0, -15, "lens"), (1.5, 20, 0, ("eye", 0, 0)), (1.5, 0, 0, (350, 0, 0)),
            (1.5, -10, 10, "lens"), (1.5, 0, -5, (0, 300, 100)), (1.5, 25, 0, "lens"), (1.5, -25, 0, ("eye", 5, 0)),
            (1.5, 0, 0, ("eye", 0, -20))]


def play(model, rng, script, position=(30.0, -20.0, 600.0)):
    """Frames, times and per-frame true angle to the lens for a script of segments."""
    frames, truth = [], []
    for seconds, yaw, pitch, look in script:
        n = int(round(seconds * FPS))
        sway = rng.normal(0, 0.3, (3, n))
        frames.append(render(model, rng, yaw + sway[0], pitch + sway[1], sway[2], position=position, look=look))
        truth += [true_lens_angle(model, yaw, pitch, position, look)] * n
    faces = np.concatenate(frames)
    return faces, np.arange(len(faces)) / FPS, np.array(truth)


def eye_contact_accuracy(model, rng, mode, script=None):
    faces, times, truth = play(model, rng, script or contact_script())
    baseline = calibrate(faces, times, SIZE, config=CFG) if mode == "calibrated" else None
    cues = analyze_face(faces, times, SIZE, config=CFG, baseline=baseline, self_baseline=mode == "self")
    return float(np.mean(cues.eye_contact == (truth < 5))), cues, truth


@pytest.mark.parametrize("mode", ["geometry", "self", "calibrated"])
@pytest.mark.parametrize("head", HEADS)
def test_eye_contact_frame_accuracy(head, mode, rng):
    """Looking into the lens (also with the head turned and the eyes compensating) vs. looking
    away (notes, screen, a window; head turned with eyes straight): >= 95% of frames right."""
    acc, cues, truth = eye_contact_accuracy(HEADS[head](), rng, mode)
    print(f"{head} {mode}: accuracy {acc:.3f} (baseline: {cues.baseline}; {cues.baseline_note}); true contact "
          f"{np.mean(truth < 5):.2f}, median lens angle in contact {np.median(cues.lens_angle_deg[truth < 5]):.1f} deg")
    assert cues.baseline == {"geometry": "geometry", "self": "session", "calibrated": "profile"}[mode]
    assert acc >= 0.95


@pytest.mark.parametrize("shift_mm", [(0.6, -1.0, 0.0), (-1.0, 0.6, 0.0)])
def test_calibration_removes_a_personal_eye_offset(shift_mm, rng):
    """A person whose irises sit ~1 mm off the canonical place in their eyes (a ~5-7 deg bias):
    the calibrated baseline brings the gaze back onto the lens."""
    model = portrait_head()
    points = model.points.copy()
    points[468:478] += shift_mm
    model = dataclasses.replace(model, points=points, eyeballs=model.eyeballs + shift_mm)
    acc = {}
    angle = {}
    for mode in ("geometry", "calibrated"):
        acc[mode], cues, truth = eye_contact_accuracy(model, rng, mode)
        angle[mode] = float(np.median(cues.lens_angle_deg[truth < 5]))
    print(f"shift {shift_mm} mm: accuracy {acc}, median lens angle in contact {angle}")
    assert angle["geometry"] > 4.0 and angle["calibrated"] < 3.0
    assert acc["calibrated"] >= 0.95


def test_self_baseline_never_makes_looking_away_eye_contact(rng):
    """Someone who mostly looks away (70%: screen, notes, aside) keeps a low contact share with the
    self-baseline; someone who always looks 15 deg off the lens gets none."""
    model = portrait_head()
    away = [(2.0, 0, 0, (0, 200, 0)), (1.0, 0, 0, "lens"), (2.0, 10, 0, (300, 50, 0)), (1.0, 0, 0, "lens"),
            (2.0, -5, -10, (0, 350, 200)), (1.0, 0, 0, "lens"), (1.5, 0, 0, (-250, 0, 0))]
    acc, cues, truth = eye_contact_accuracy(model, rng, "self", away)
    true_share = float(np.mean(truth < 5))
    print(f"mostly away: true share {true_share:.2f}, found {cues.eye_contact_share:.2f} ({cues.baseline_note})")
    assert cues.baseline == "geometry"
    assert cues.eye_contact_share <= true_share + 0.05 and acc >= 0.95
    off = np.tan(np.radians(15)) * 600  # a point 15 deg below the lens, seen from 60 cm
    acc, cues, truth = eye_contact_accuracy(model, rng, "self", [(10.0, 0, 0, (0, off, 0))])
    print(f"always 15 deg off: found {cues.eye_contact_share:.2f} ({cues.baseline_note})")
    assert cues.baseline == "geometry" and cues.eye_contact_share <= 0.05


def test_camera_offset_moves_the_target(rng):
    """Looking 15 deg below the lens (a screen under the camera) counts only with a -15 deg pitch offset."""
    model = portrait_head()
    below = (0.0, np.tan(np.radians(15)) * 600, 0.0)
    faces, times, truth = play(model, rng, [(4.0, 0, 0, below)], position=(0.0, 0.0, 600.0))
    plain = analyze_face(faces, times, SIZE, config=CFG, self_baseline=False)
    shifted = analyze_face(faces, times, SIZE, config=dataclasses.replace(CFG, camera_pitch_offset_deg=-15.0),
                           self_baseline=False)
    assert plain.eye_contact_share == 0.0 and shifted.eye_contact_share == 1.0


# ---------------------------------------------------------------- distance and leaning

def lean_script(rng, base_mm, changes):
    """Head pivot depth per frame: 3 s at the baseline, then each (factor, hold_s) reached by a 0.4 s
    ramp, held, and back (0.4 s ramp, 2 s rest). Returns depths and the true hold intervals."""
    depth, holds, t = [np.full(int(3 * FPS), base_mm)], [], 3.0
    for factor, hold in changes:
        ramp = np.linspace(1, factor, int(0.4 * FPS) + 1)[1:]
        depth += [base_mm * ramp, np.full(int(hold * FPS), base_mm * factor), base_mm * ramp[::-1],
                  np.full(int(2 * FPS), base_mm)]
        holds.append((factor, t + 0.4, t + 0.4 + hold))
        t += 0.8 + hold + 2
    depth = np.concatenate(depth)
    return depth, holds


@pytest.mark.parametrize("base_mm", [450.0, 600.0, 800.0])
@pytest.mark.parametrize("head", HEADS)
def test_lean_in_and_back_held_one_second(head, base_mm, rng):
    """Every 8% change of the face's distance held 1 s is reported as lean in / back; 0.5 s is not."""
    model = HEADS[head]()
    # the face (not the neck pivot) must come 8% nearer: move the pivot by 8% of the face's distance
    face_mm = base_mm - 90.0
    changes = [(0.92, 1.0), (1.08, 1.0), (0.92, 0.5), (0.90, 1.5), (1.10, 1.2)]
    depth, holds = lean_script(rng, face_mm, changes)
    n = depth.size
    t = np.arange(n) / FPS
    sway = np.column_stack([4 * np.sin(2 * np.pi * 0.13 * t), 3 * np.sin(2 * np.pi * 0.07 * t + 1)])
    faces = render(model, rng, sway[:, 0], sway[:, 1], position=np.column_stack([np.zeros(n), np.zeros(n), depth + 90]),
                   look="lens")
    cues = analyze_face(faces, t, SIZE, config=CFG)
    leans = cues.of_kind("lean_in") + cues.of_kind("lean_back")
    print(f"{head} at {base_mm:.0f} mm: distance {np.median(cues.distance_cm):.1f} cm; "
          + ", ".join(f"{e.kind} {e.start:.2f}-{e.end:.2f} ({e.amplitude:+.3f})" for e in sorted(leans)))
    expected = [(("lean_in" if f < 1 else "lean_back"), a, b) for f, a, b in holds if b - a >= 0.99]
    assert len(leans) == len(expected)
    for (kind, a, b), e in zip(expected, sorted(leans)):
        assert e.kind == kind and e.start < b and e.end > a and e.duration >= 1.0


@pytest.mark.parametrize("head", HEADS)
def test_no_lean_while_still(head, rng):
    """20 s at one distance, with jitter, head sway (+-8 deg) and talking: no lean events, and the
    distance reads within 5% of the truth."""
    model = HEADS[head]()
    t = np.arange(int(20 * FPS)) / FPS
    yaw = 8 * np.sin(2 * np.pi * 0.11 * t)
    pitch = 6 * np.sin(2 * np.pi * 0.17 * t + 0.5)
    faces = render(model, rng, yaw, pitch, position=(40.0, -30.0, 650.0), look="lens")
    cues = analyze_face(faces, t, SIZE, config=CFG)
    assert not cues.of_kind("lean_in") and not cues.of_kind("lean_back")
    face_cm = np.linalg.norm(model.posed(np.eye(3), (40.0, -30.0, 650.0))[[33, 263, 168]].mean(axis=0)) / 10
    assert np.median(cues.distance_cm) == pytest.approx(face_cm, rel=0.05)


# ---------------------------------------------------------------- nods and shakes

def gesture_script(rng, seconds=40.0):
    """Pitch and yaw tracks with nods (0.8-6.5 Hz, 5-12 deg, 1-4 cycles) and shakes (1.5-4 Hz,
    8-16 deg, 2-3 cycles) between still stretches, on a slow sway; and the true events."""
    t = np.arange(0, seconds, 1 / FPS)
    pitch = 3 * np.sin(2 * np.pi * rng.uniform(0.08, 0.2) * t + rng.uniform(0, 6)) + rng.uniform(-5, 5)
    yaw = 3 * np.sin(2 * np.pi * rng.uniform(0.05, 0.15) * t + rng.uniform(0, 6)) + rng.uniform(-5, 5)
    truth, t0 = [], rng.uniform(1, 2)
    while True:
        nod = rng.random() < 0.7
        f = (rng.uniform(0.8, 1.5) if rng.random() < 0.3 else rng.uniform(1.5, 6.5)) if nod else rng.uniform(1.5, 4)
        cycles = int(rng.integers(1, 5)) if nod else int(rng.integers(2, 4))
        amp = rng.uniform(5, 12) if nod else rng.uniform(8, 16)
        t1 = t0 + cycles / f
        if t1 > seconds - 1:
            return t, yaw, pitch, truth
        m = (t >= t0) & (t < t1)
        if nod:
            pitch[m] -= amp / 2 * (1 - np.cos(2 * np.pi * f * (t[m] - t0)))
        else:
            yaw[m] += amp / 2 * np.sin(2 * np.pi * f * (t[m] - t0))
        truth.append(("nod" if nod else "shake", t0, t1, cycles))
        t0 = t1 + rng.uniform(1.0, 2.5)


def match(found, truth):
    """One-to-one matches by time overlap (largest first): (true positives, [(found, true)])."""
    pairs = sorted(((min(f.end, b) - max(f.start, a), i, j) for i, f in enumerate(found)
                    for j, (a, b, _) in enumerate(truth)), reverse=True)
    used_f, used_t, matched = set(), set(), []
    for overlap, i, j in pairs:
        if overlap > 0 and i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
            matched.append((found[i], truth[j]))
    return len(matched), matched


@pytest.mark.parametrize("head", HEADS)
def test_nod_and_shake_events_f1(head, rng):
    """Nod and shake events (matched by time overlap) over 4 x 40 s with jitter, sway, drift and
    0.07-0.2 s face losses: F1 >= 0.9 each, and most counts right."""
    model = HEADS[head]()
    tally = {k: [0, 0, 0, 0] for k in ("nod", "shake")}  # true positives, found, true, right counts
    for _ in range(4):
        t, yaw, pitch, truth = gesture_script(rng)
        faces = render(model, rng, yaw, pitch, look="lens")
        for _ in range(4):
            a = int(rng.integers(0, t.size - 10))
            faces[a:a + int(rng.integers(2, 7))] = np.nan
        cues = analyze_face(faces, t, SIZE, config=CFG)
        for kind in tally:
            found = cues.of_kind(kind)
            true = [(a, b, c) for k, a, b, c in truth if k == kind]
            tp, matched = match(found, true)
            tally[kind] = [x + y for x, y in zip(tally[kind], (tp, len(found), len(true),
                                                               sum(f.count == c for f, (_, _, c) in matched)))]
    for kind, (tp, n_found, n_true, counts) in tally.items():
        precision, recall = tp / max(n_found, 1), tp / max(n_true, 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        print(f"{head} {kind}: F1 {f1:.3f} (precision {precision:.3f}, recall {recall:.3f}, {n_true} true); "
              f"count right in {counts}/{tp}")
        assert n_true >= 5 and f1 >= 0.9 and counts >= 0.8 * tp


# ---------------------------------------------------------------- mouth

LOWER_LIP = [14, 87, 178, 88, 95, 78, 317, 402, 318, 324, 308, 17, 84, 181, 91, 146, 314, 405, 321, 375]


@pytest.mark.parametrize("head", HEADS)
def test_mouth_opening_is_monotone_in_the_set_opening(head, rng):
    """The lower lip dropped by 0-15 mm: the opening grows with it at every head pose, is nearly
    independent of the pose, and once open is about the lip gap over the eye-centre distance."""
    model = HEADS[head]()
    drops = np.arange(0, 16, 1.5)
    poses = rng.uniform(-25, 25, (6, 2))
    eye_mm = np.linalg.norm(model.points[[33, 133]].mean(axis=0) - model.points[[263, 362]].mean(axis=0))
    openings = np.empty((len(poses), len(drops)))
    for j, drop in enumerate(drops):
        points = model.points.copy()
        points[LOWER_LIP, 1] += drop
        opened = dataclasses.replace(model, points=points)
        faces = render(opened, rng, poses[:, 0], poses[:, 1], jitter_px=0.0)
        openings[:, j] = analyze_face(faces, np.arange(len(poses)) / FPS, SIZE, config=CFG).mouth
    print(f"{head}: opening at drops {drops.tolist()} mm:\n{openings.round(3)}")
    assert (np.diff(openings, axis=1) > 0).all()
    assert (openings.std(axis=0) / openings.mean(axis=0))[1:].max() < 0.1   # nearly pose-free
    big = drops >= 6
    want = np.broadcast_to(drops[big] / eye_mm, openings[:, big].shape)
    np.testing.assert_allclose(openings[:, big], want, rtol=0.15)


# ---------------------------------------------------------------- real mediapipe on transformed real images

def portrait_camera():
    h, w = portrait_image().shape[:2]
    return (w, h), camera_intrinsics((w, h), CFG.camera_hfov_deg)


def turned_portrait(degrees: float) -> np.ndarray:
    """The portrait turned clockwise by `degrees` about the image centre (the camera rolled)."""
    image = portrait_image()
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -degrees, 1.0)
    return cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def zoomed_portrait(factor: float) -> np.ndarray:
    """The portrait scaled by `factor` about the image centre, same image size (the face nearer by 1/factor)."""
    image = portrait_image()
    h, w = image.shape[:2]
    m = np.array([[factor, 0, (1 - factor) * w / 2], [0, factor, (1 - factor) * h / 2]])
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("degrees", [-20.0, -10.0, 10.0, 20.0])
def test_real_portrait_turned_in_the_image_changes_roll_only(degrees):
    """Turning the picture turns the head about the optical axis: relative pose (0, 0, angle)."""
    _, camera = portrait_camera()
    base = fit_head_pose(portrait_face(), camera=camera)
    pose = fit_head_pose(mediapipe_face(turned_portrait(degrees)), camera=camera)
    rel = relative_angles(pose.rotation, base.rotation[0])[0]
    print(f"turned {degrees:+.0f} deg: relative yaw, pitch, roll {rel.round(2)}")
    np.testing.assert_allclose(rel, [0.0, 0.0, degrees], atol=1.5)


def test_real_portrait_mirrored_flips_yaw_and_roll():
    size, camera = portrait_camera()
    a = pose_angles(fit_head_pose(portrait_face(), camera=camera).apparent)[0]
    b = pose_angles(fit_head_pose(portrait_face(mirror=True), camera=camera).apparent)[0]
    print(f"portrait {a.round(2)}, mirrored {b.round(2)}")
    np.testing.assert_allclose(b, a * [-1, 1, -1], atol=3.0)
    assert np.abs(a).max() < 3.0   # the portrait faces the lens


@pytest.mark.parametrize("factor", [0.8, 0.9, 1.1, 1.25])
def test_real_portrait_zoomed_changes_distance_by_the_zoom(factor):
    size, camera = portrait_camera()
    base_face = portrait_face()
    base = fit_head_pose(base_face, camera=camera)
    k = iris_units(iris_diameter_px(base_face), base)
    d0 = distance_cm(base, iris_units=k, focal_px=camera[0], iris_diameter_mm=11.7)[0]
    d = distance_cm(fit_head_pose(mediapipe_face(zoomed_portrait(factor)), camera=camera), iris_units=k,
                    focal_px=camera[0], iris_diameter_mm=11.7)[0]
    print(f"zoom {factor}: distance ratio {d / d0:.4f}, true {1 / factor:.4f}")
    assert d / d0 == pytest.approx(1 / factor, rel=0.04)


def test_real_portrait_lean_in_and_back(rng):
    """Real landmarks of the portrait zoomed 8% nearer / farther, held 1.2 s between still stretches
    (0.5 px jitter): one lean in, one lean back, nothing else."""
    size, _ = portrait_camera()
    still, near, far = (mediapipe_face(zoomed_portrait(f)) for f in (1.0, 1 / 0.92, 1 / 1.08))
    plan = [(still, 3.0), (near, 1.2), (still, 2.0), (far, 1.2), (still, 2.0)]
    faces = np.concatenate([np.repeat(f[None], int(sec * FPS), axis=0) for f, sec in plan])
    faces = (faces + rng.normal(0, JITTER_PX, faces.shape)).astype(np.float32)
    cues = analyze_face(faces, np.arange(len(faces)) / FPS, size, config=CFG)
    leans = [(e.kind, round(e.start, 2), round(e.end, 2)) for e in cues.events if e.kind.startswith("lean")]
    print(f"leans {leans}")
    assert leans == [("lean_in", 3.0, 4.2), ("lean_back", 6.2, 7.4)]
