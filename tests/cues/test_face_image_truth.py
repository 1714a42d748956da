"""Face cues against image-level truth: the real portrait warped (sources/warp.py) into head poses,
gaze directions, leans and nods we set, then real mediapipe FaceMesh (FaceBodyLandmarker) and the
cue kernels on those frames, relative to a baseline calibrated on the unwarped portrait.

Three numbers per head pose separate the warp's error from the cues' error: the SET angle, the
angle the warp's own target landmarks IMPLY (the cue kernels on the exact landmarks of the warped
face: what a perfect landmarker would give), and the MEASURED angle (mediapipe on the warped image,
then the same kernels). `-s` prints the tables; docs/cues.md ("Image-level truth") keeps them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from attunement.config import default_config
from attunement.cues.calibration import calibrate
from attunement.cues.face import analyze_face
from attunement.perception.landmarks import FaceBodyLandmarker
from attunement.records import VideoFrame
from attunement.demo.video import portrait
from attunement.demo.warp import Nod, Pose, lean_in, warp_face
from attunement.demo.warp import pose_sequence

CONFIG = default_config()
CFG = CONFIG.cues
FPS = 15.0
HEAD_ANGLES = (-30.0, -20.0, -10.0, 10.0, 20.0, 30.0)


@pytest.fixture(scope="module")
def scene():
    """(image, its mediapipe landmarks [478, 3], size, baseline calibrated on the unwarped portrait)."""
    image = portrait()
    with FaceBodyLandmarker(CONFIG.perception, static=True) as marker:
        src = marker.process(VideoFrame(image, 0.0, 0)).face
    size = (image.shape[1], image.shape[0])
    n = int(CFG.baseline_s * FPS)
    baseline = calibrate(np.repeat(src[None], n, axis=0), np.arange(n) / FPS, size, config=CFG)
    return image, src, size, baseline


def static_measure(scene, poses: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(measured, implied) face landmarks [n, 478, 3] of the portrait warped into each pose."""
    image, src, _, _ = scene
    measured, implied = [], []
    with FaceBodyLandmarker(dataclasses.replace(CONFIG.perception, pose_rate_hz=0.0), static=True) as marker:
        for kw in poses:
            warped, target = warp_face(image, src, **kw)
            measured.append(marker.process(VideoFrame(warped, 0.0, 0)).face)
            implied.append(target)
    return np.array(measured), np.array(implied)


def video_measure(scene, keys, nods=()):
    """Frames of a warped clip through mediapipe in video (tracking) mode: (times, measured faces, the
    warp's own landmarks [n, 478, 3])."""
    image, src, _, _ = scene
    video = pose_sequence(image, src, keys, fps=FPS, nods=nods)
    with FaceBodyLandmarker(dataclasses.replace(CONFIG.perception, pose_rate_hz=0.0)) as marker:
        faces = np.array([marker.process(f).face for f in video.frames])
    return np.array([f.t for f in video.frames]), faces, video.landmarks


def cues(scene, faces, times=None):
    _, _, size, baseline = scene
    times = np.arange(len(faces)) / FPS if times is None else times
    return analyze_face(faces, times, size, config=CFG, baseline=baseline)


# ---------------------------------------------------------------- head pose

@pytest.fixture(scope="module")
def head_sweep(scene):
    """Yaw and pitch each set to +-10, 20, 30 deg: per pose the set angle, and for the warp's own
    landmarks (implied) and mediapipe's (measured) the turned axis and the other one, both against
    the line of sight (`head_deg`) and in the camera frame (`head_rel_deg`), relative to the portrait."""
    _, src, _, _ = scene
    poses = [{"yaw_deg": a} for a in HEAD_ANGLES] + [{"pitch_deg": a} for a in HEAD_ANGLES]
    measured, implied = static_measure(scene, poses)
    axis = np.array([0] * len(HEAD_ANGLES) + [1] * len(HEAD_ANGLES))
    rows = np.arange(len(poses))
    out = {"set": np.array(HEAD_ANGLES * 2), "axis": axis}
    still = cues(scene, src[None]).head_deg[0, :2]
    for name, marks in (("implied", implied), ("measured", measured)):
        face = cues(scene, marks)
        sight = face.head_deg[:, :2] - still
        out[name] = sight[rows, axis]
        out[name + "_other"] = sight[rows, 1 - axis]
        out[name + "_camera"] = face.head_rel_deg[rows, axis]
    print("\naxis   set | vs line of sight: implied  measured  meas-set | camera frame: implied  measured")
    for k in rows:
        print(f"{'yaw' if axis[k] == 0 else 'pitch':<5}{out['set'][k]:6.0f} |{out['implied'][k]:25.1f}"
              f"{out['measured'][k]:10.1f}{out['measured'][k] - out['set'][k]:10.1f} |"
              f"{out['implied_camera'][k]:23.1f}{out['measured_camera'][k]:10.1f}")
    return out


def test_head_pose_follows_the_set_angle_in_sign_and_order(head_sweep):
    """Every turn is read in the right direction, larger turns read larger, the other axis stays put."""
    s = head_sweep
    assert (np.sign(s["measured"]) == np.sign(s["set"])).all()
    for a in (0, 1):
        for side in (-1, 1):
            pick = (s["axis"] == a) & (np.sign(s["set"]) == side)
            order = np.argsort(np.abs(s["set"][pick]))
            assert (np.diff(np.abs(s["measured"][pick][order])) > 0).all()
    assert np.abs(s["measured_other"]).max() < 3.0


def test_warp_landmarks_imply_the_set_angle_against_the_line_of_sight(head_sweep):
    """The cue kernels on the warp's exact landmarks give the set turn against the line of sight
    (within 0.5 deg). In the camera frame they give about 0.75-0.85 of it: the warp is orthographic,
    so the face slides sideways as it turns about the neck, and the cues' perspective camera (65 deg
    at the portrait's 31 cm) reads that slide as a change of the line of sight (a warp error)."""
    s = head_sweep
    np.testing.assert_allclose(s["implied"], s["set"], atol=0.5)
    np.testing.assert_allclose(s["implied_other"], 0.0, atol=0.5)
    gain = s["implied_camera"] / s["set"]
    print(f"camera frame implied / set: {gain.round(2)}")
    assert ((gain > 0.7) & (gain < 0.9)).all()


def test_pitch_median_error_within_3_deg(head_sweep):
    """Pitch read by mediapipe on the warped images against the set angle: median error <= 3 deg."""
    s = head_sweep
    err = np.abs(s["measured"] - s["set"])[s["axis"] == 1]
    print(f"pitch |measured - set| median {np.median(err):.1f}, max {err.max():.1f} deg")
    assert np.median(err) <= 3.0


def test_yaw_read_at_a_fixed_share_of_the_set_turn(head_sweep):
    """Yaw: mediapipe reads the warped turns at 0.55-0.8 of the set angle (the warp slides a flat
    face texture; the ear side is never revealed nor the far cheek hidden as in a real turn)."""
    s = head_sweep
    gain = (s["measured"] / s["set"])[s["axis"] == 0]
    print(f"yaw measured / set {gain.round(2)}; |measured - set| median "
          f"{np.median(np.abs(s['measured'] - s['set'])[s['axis'] == 0]):.1f} deg")
    assert ((gain > 0.5) & (gain < 0.85)).all()


@pytest.mark.xfail(reason="the warp cannot produce yaw truth for mediapipe: it reads warped turns at ~0.6-0.7 "
                          "of the set angle while the warp's own landmarks give the set angle exactly; the "
                          "<= 3 deg yaw target is met at the landmark level (test_cues_truth.py)", strict=True)
def test_yaw_median_error_within_3_deg(head_sweep):
    s = head_sweep
    assert np.median(np.abs(s["measured"] - s["set"])[s["axis"] == 0]) <= 3.0


# ---------------------------------------------------------------- eye contact

HOLD_S, RAMP_S, SETTLE_S = 1.0, 0.3, 0.4
#: (pose, at the lens?): straight on; head turned or tilted with the eyes turned back to the lens;
#: head turned or tilted away with the eyes going along; glancing down at notes.
GAZE_SCRIPT = [
    (Pose(), True),
    (Pose(yaw_deg=30.0), False),
    (Pose(yaw_deg=20.0, gaze_yaw_deg=-20.0), True),
    (Pose(pitch_deg=-25.0), False),
    (Pose(yaw_deg=-20.0, gaze_yaw_deg=20.0), True),
    (Pose(yaw_deg=-30.0), False),
    (Pose(pitch_deg=15.0, gaze_pitch_deg=-15.0), True),
    (Pose(pitch_deg=25.0), False),
    (Pose(pitch_deg=-15.0, gaze_pitch_deg=15.0), True),
    (Pose(pitch_deg=-20.0, gaze_pitch_deg=-25.0), False),
    (Pose(gaze_yaw_deg=10.0), True),
]


def describe(pose: Pose) -> str:
    """The pose's non-default fields, e.g. 'yaw 20, gaze_yaw -20'."""
    return ", ".join(f"{f.name.removesuffix('_deg')} {getattr(pose, f.name):g}" for f in dataclasses.fields(pose)
                     if f.name.endswith("_deg") and getattr(pose, f.name)) or "straight"


def hold_keys(script, *, start: float = 0.0):
    """Keyframes holding each pose HOLD_S after a RAMP_S move; returns (keys, [(start, end, label)])."""
    keys, holds, t = [], [], start
    for pose, label in script:
        keys += [(t + RAMP_S, pose), (t + RAMP_S + HOLD_S, pose)]
        holds.append((t + RAMP_S, t + RAMP_S + HOLD_S, label))
        t += RAMP_S + HOLD_S
    return [(start, script[0][0])] + keys, holds


@pytest.fixture(scope="module")
def gaze_run(scene):
    keys, holds = hold_keys(GAZE_SCRIPT)
    t, faces, _ = video_measure(scene, keys)
    return t, cues(scene, faces, t), holds


def test_eye_contact_frame_accuracy(gaze_run):
    """Frames SETTLE_S into each hold: at the lens (incl. head turned 20 deg or tilted 15 deg with the
    eyes compensating) vs looking 25-30 deg away: >= 95% right."""
    t, face, holds = gaze_run
    right, total = 0, 0
    print("\nhold  at lens  contact share  median lens angle (deg)")
    for (a, b, label), (pose, _) in zip(holds, GAZE_SCRIPT):
        pick = (t >= a + SETTLE_S) & (t < b)
        share = face.eye_contact[pick].mean()
        right += int(np.sum(face.eye_contact[pick] == label))
        total += int(pick.sum())
        print(f"{a:5.1f}  {label!s:<7}  {share:13.2f}  {np.median(face.lens_angle_deg[pick]):6.1f}   {describe(pose)}")
    print(f"eye-contact frame accuracy {right / total:.3f} over {total} frames")
    assert total >= len(holds) * (HOLD_S - SETTLE_S) * FPS - len(holds)
    assert right / total >= 0.95


GAZE_ANGLES = (-30.0, -20.0, 20.0, 30.0)


@pytest.fixture(scope="module")
def gaze_sweep(scene):
    """Set, implied and measured gaze angle from the lens for the eyes alone turned +-20, 30 deg."""
    poses = [{"gaze_yaw_deg": a} for a in GAZE_ANGLES] + [{"gaze_pitch_deg": a} for a in GAZE_ANGLES]
    measured, implied = static_measure(scene, poses)
    got, want = cues(scene, measured).gaze_deg, cues(scene, implied).gaze_deg
    axis = np.array([0] * len(GAZE_ANGLES) + [1] * len(GAZE_ANGLES))
    rows = np.arange(len(poses))
    set_deg = np.array(GAZE_ANGLES * 2)
    print("\neyes   set  implied  measured  (gaze deg against the line of sight)")
    for k in rows:
        print(f"{'yaw' if axis[k] == 0 else 'pitch':<5}{set_deg[k]:6.0f}{want[k, axis[k]]:9.1f}{got[k, axis[k]]:10.1f}")
    return set_deg, axis, want[rows, axis], got[rows, axis]


def test_gaze_kernels_read_the_warped_eyes_exactly(gaze_sweep):
    """The cue kernels on the warp's own landmarks give the set eye turn (within 1.5 deg)."""
    set_deg, _, implied, _ = gaze_sweep
    np.testing.assert_allclose(implied, set_deg, atol=1.5)


def test_gaze_measured_on_warped_eyes_in_the_right_direction(gaze_sweep):
    """mediapipe on the warped eyes: the right direction, and more for more (a weak reading, see below)."""
    set_deg, axis, _, measured = gaze_sweep
    yaw = axis == 0
    print(f"measured / set: yaw {(measured / set_deg)[yaw].round(2)}, pitch {(measured / set_deg)[~yaw].round(2)}")
    assert (np.sign(measured[yaw]) == np.sign(set_deg[yaw])).all()
    assert (np.abs(measured[yaw][[0, 3]]) > np.abs(measured[yaw][[1, 2]])).all()


@pytest.mark.xfail(reason="the warp cannot make eyes-only glances mediapipe sees: its iris landmarks follow a "
                          "20-30 deg warped eye turn by about a quarter (yaw) or less (pitch), so the cues read "
                          "6-10 deg; eye contact lost by the eyes alone is checked at the landmark level "
                          "(test_cues_truth.py) and with the head moving along (test_eye_contact_frame_accuracy)",
                   strict=True)
def test_eyes_alone_looking_20_to_30_deg_away_read_as_away(gaze_sweep):
    set_deg, _, _, measured = gaze_sweep
    assert (np.abs(measured) >= 15.0).all()


# ---------------------------------------------------------------- leaning

def test_leans_found_and_none_while_still(scene):
    """8% and 10% nearer held 1 s (after a 0.4 s ramp) between still stretches with a slow +-6 deg
    sway: both lean-ins found near their start, no lean-back, none in the first 6 s of sway."""
    keys = [(0.0, Pose()), (1.5, Pose(yaw_deg=6.0)), (3.0, Pose(yaw_deg=-6.0, pitch_deg=4.0)), (4.5, Pose()),
            (6.0, Pose())]
    starts = (6.0, 10.5)
    for start, gain in zip(starts, (0.08, 0.10)):
        keys += lean_in(start, gain=gain, ramp_s=0.4, hold_s=1.0) + [(start + 1.8, Pose()), (start + 4.0, Pose())]
    t, faces, marks = video_measure(scene, keys)
    face, exact = cues(scene, faces, t), cues(scene, marks, t)
    leans = [(e.kind, round(e.start, 2), round(e.end, 2)) for e in face.events if e.kind.startswith("lean")]
    _, _, _, baseline = scene

    def nearer(f):
        return [f"{np.median(baseline.distance_cm / f.distance_cm[(t >= s + 0.4) & (t < s + 1.4)]) - 1:.3f}"
                for s in starts]

    print(f"\nleans {leans}; read as {nearer(face)} nearer, implied {nearer(exact)} (set 0.08, 0.10); "
          f"still distance within {np.abs(face.distance_cm[t < 6] / baseline.distance_cm - 1).max():.3f}")
    assert [k for k, _, _ in leans] == ["lean_in", "lean_in"]
    for (_, a, _), s in zip(leans, starts):
        assert s <= a <= s + 0.6
    assert not [e for e in exact.events if e.kind == "lean_back"]


# ---------------------------------------------------------------- nods

#: (start s, end s, amplitude deg, rate Hz) of the nods; between them, at least 1.2 s from any nod:
#: still, looking down at notes for 1.5 s and back (not a nod), a head turn and back, a slow tilt and roll.
#: (A 1-s glance down and straight back, 15 deg, is one slow down-up swing: it reads as a nod.)
NODS = [(1.5, 2.5, 8.0, 2.0), (7.0, 8.5, 6.0, 1.5), (12.5, 13.5, 10.0, 2.5), (17.5, 18.5, 7.0, 2.0),
        (22.5, 23.7, 8.0, 3.0), (28.5, 30.0, 6.0, 1.2)]


def test_nod_f1(scene):
    """Nods of 6-10 deg at 1.2-3 Hz among look-downs, turns and tilts: F1 >= 0.9 by time overlap,
    and each nod found within 0.5 s of its start and end."""
    down, turn, tilt = Pose(pitch_deg=-15.0), Pose(yaw_deg=20.0), Pose(roll_deg=10.0, yaw_deg=-10.0)
    keys = [(0.0, Pose()), (3.7, Pose()), (4.0, down), (5.5, down), (5.8, Pose()),
            (9.7, Pose()), (10.1, turn), (10.6, turn), (11.0, Pose()),
            (14.7, Pose()), (15.2, Pose(pitch_deg=6.0)), (15.8, Pose()),
            (19.7, Pose()), (20.1, tilt), (20.6, tilt), (21.0, Pose()),
            (24.9, Pose()), (25.2, down), (26.8, down), (27.1, Pose()), (31.0, Pose())]
    nods = [Nod(a, b, amplitude_deg=amp, rate_hz=hz) for a, b, amp, hz in NODS]
    t, faces, marks = video_measure(scene, keys, nods)
    f1 = {}
    for name, landmarks in (("measured", faces), ("implied", marks)):
        found = cues(scene, landmarks, t).of_kind("nod")
        pairs = [(e, (a, b)) for e in found for a, b, _, _ in NODS if e.start < b and e.end > a]
        precision = len({id(e) for e, _ in pairs}) / max(len(found), 1)
        recall = len({ab for _, ab in pairs}) / len(NODS)
        f1[name] = 2 * precision * recall / max(precision + recall, 1e-9)
        late = max((max(abs(e.start - a), abs(e.end - b)) for e, (a, b) in pairs), default=np.inf)
        print(f"\n{name}: nods {[(round(e.start, 2), round(e.end, 2), e.count) for e in found]}; "
              f"F1 {f1[name]:.2f} (precision {precision:.2f}, recall {recall:.2f}); bounds within {late:.2f} s")
        assert f1[name] >= 0.9 and late <= 0.5
