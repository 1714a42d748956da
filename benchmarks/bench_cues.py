"""Per-frame cost of the face and posture cue kernels: numba vs numpy / plain-Python references, on
synthetic sequences made from the real portrait's landmarks (5 minutes at 30 fps).

Prints microseconds per frame and the ratio reference / numba, side by side in one run (machines
are noisy, ratios less so). The references are the ones the tests check the kernels against
(tests/naive), plus a batched numpy SVD fit (the best plain numpy does for the pose). Posture frames: mediapipe Pose of the portrait made into a body whose
arms take every pose class of test_posture.py (open, hanging, lap, crossed, clasped, behind,
pockets), seen by random cameras with jitter, 10% of frames without a body.
Target: all cue kernels together (face and posture) <= 200 us per frame.

    python benchmarks/bench_cues.py [--minutes 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests is a package
sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import best_of  # noqa: E402

from tests import naive  # noqa: E402
from tests.cues import test_posture as bodies  # noqa: E402  (the synthetic arm poses)
from tests.cues.test_face import portrait_face  # noqa: E402

from attunement.config import default_config  # noqa: E402
from attunement.cues import distance, gaze, headpose, mouth, nods, posture  # noqa: E402
from attunement.cues.face import analyze_face  # noqa: E402
from attunement.cues.face_geometry import CANONICAL, RIGID  # noqa: E402
from attunement.evaluation.head_model import HeadModel, PinholeCamera  # noqa: E402

FPS = 30.0
CFG = default_config().cues
CAM = PinholeCamera(1280, 720, 65.0)
CAMERA = (CAM.focal_px, CAM.width / 2, CAM.height / 2)



def make_frames(n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    model = HeadModel.from_landmarks(portrait_face())
    t = np.arange(n) / FPS
    yaw = 15 * np.sin(2 * np.pi * 0.07 * t) + 4 * np.sin(2 * np.pi * 2.5 * t) * (np.sin(0.3 * t) > 0.5)
    pitch = 8 * np.sin(2 * np.pi * 0.11 * t) + 5 * np.sin(2 * np.pi * 2.0 * t) * (np.sin(0.2 * t) > 0.6)
    depth = 600 + 60 * np.sin(2 * np.pi * 0.03 * t)
    rots = headpose.rotation_from_angles(yaw, pitch, np.zeros(n))
    faces = np.empty((n, 478, 3), np.float32)
    for k in range(n):
        faces[k] = model.render(CAM, rots[k], (0.0, 0.0, depth[k]), look_at_mm=np.zeros(3))
    faces += rng.normal(0, 0.5, faces.shape).astype(np.float32)
    return faces, t


def make_bodies(n: int, rng) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Pose frames [n, 33, 4] and world [n, 33, 3]: 700 synthetic frames of every arm pose class
    (test_posture.synth on the portrait's real mediapipe body), tiled to n; every tenth frame NaN."""
    import cv2
    import matplotlib.cbook as cbook
    import mediapipe as mp

    image = cv2.cvtColor(cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))), cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as solution:
        found = solution.process(image)
    px = np.array([(q.x * w, q.y * h, q.z * w, q.visibility) for q in found.pose_landmarks.landmark], np.float32)
    world = np.array([(q.x, q.y, q.z) for q in found.pose_world_landmarks.landmark], np.float32)
    body = bodies.body_from(px, world, rng)
    made = [bodies.synth(body, kind, rng, n=100) for kind in bodies.OPEN_KINDS + bodies.CLOSED_KINDS]
    pose, wld = (np.concatenate([m[i] for m in made]).astype(np.float32) for i in (0, 1))
    reps = -(-n // len(pose))
    pose, wld = np.tile(pose, (reps, 1, 1))[:n].copy(), np.tile(wld, (reps, 1, 1))[:n].copy()
    pose[::10] = np.nan
    wld[::10] = np.nan
    return pose, wld, made[0][2]


def numpy_fit(faces, robust=3.0, iterations=2):
    """Batched weighted Umeyama with numpy's stacked SVD (vectorised over frames)."""
    dst = faces[:, RIGID].astype(np.float64)
    src = CANONICAL[None]
    w = np.ones(dst.shape[:2])
    for _ in range(iterations + 1):
        wn = w / w.sum(axis=1, keepdims=True)
        cs, cd = np.einsum("nk,nkj->nj", wn, np.broadcast_to(src, dst.shape)), np.einsum("nk,nkj->nj", wn, dst)
        a, b = src - cs[:, None], dst - cd[:, None]
        u, sig, vt = np.linalg.svd(np.einsum("nk,nki,nkj->nij", wn, a, b))
        d = np.sign(np.linalg.det(np.transpose(vt, (0, 2, 1)) @ np.transpose(u, (0, 2, 1))))
        dd = np.stack([np.ones_like(d), np.ones_like(d), d], axis=1)
        rot = np.transpose(vt, (0, 2, 1)) @ (dd[:, :, None] * np.transpose(u, (0, 2, 1)))
        s = (sig * dd).sum(axis=1) / np.einsum("nk,nk->n", wn, (a ** 2).sum(axis=2))
        t = cd - s[:, None] * np.einsum("nij,nj->ni", rot, cs)
        r = np.linalg.norm(s[:, None, None] * np.einsum("nij,nkj->nki", rot, np.broadcast_to(src, dst.shape))
                           + t[:, None] - dst, axis=2) / s[:, None]
        w = 1 / (1 + (r / robust) ** 2)
    return rot, s, t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="minutes of frames at 30 fps (default 5)")
    minutes = parser.parse_args().minutes
    rng = np.random.default_rng(0)
    n = int(minutes * 60 * FPS)
    faces, times = make_frames(n, rng)
    size = (CAM.width, CAM.height)
    pose = headpose.fit_head_pose(faces, camera=CAMERA)
    k = distance.iris_units(distance.iris_diameter_px(faces), pose)
    radius = gaze.radius_units(k, eyeball_radius_mm=12.0, iris_diameter_mm=11.7)
    eg = gaze.eye_gaze(faces, pose, radius_units=radius)
    angle = gaze.angle_to(eg.gaze)
    state = gaze.eye_states(eg, blink_openness=0.15)
    dist = distance.distance_cm(pose, iris_units=k, focal_px=CAM.focal_px, iris_diameter_mm=11.7)
    angles = headpose.pose_angles(pose.rotation)
    sub = slice(0, n // 10)  # the slow per-frame Python references run on a tenth of the frames
    m = n // 10
    swing = dict(kind="nod", min_deg=3, min_hz=0.7, max_hz=7, return_ratio=0.5, max_gap_s=0.25, min_swings=2,
                 down_first=True)
    rows = [
        ("head pose fit (+camera)", lambda: headpose.fit_head_pose(faces, camera=CAMERA), n,
         lambda: [naive.head_pose_frame(f) for f in faces[sub]], m),
        ("  batched numpy SVD fit", None, n, lambda: numpy_fit(faces), n),
        ("pose angles", lambda: headpose.pose_angles(pose.rotation), n,
         lambda: naive.pose_angles(pose.rotation[sub]), m),
        ("eye gaze", lambda: gaze.eye_gaze(faces, pose, radius_units=radius), n,
         lambda: [naive.eye_gaze_frame(faces[i], pose.apparent[i], pose.scale[i], radius) for i in range(m)], m),
        ("angle to lens", lambda: gaze.angle_to(eg.gaze), n,
         lambda: naive.angle_to(eg.gaze[sub]), m),
        ("eye contact (hysteresis)", lambda: gaze.eye_contact(times, angle, state, on_deg=10, off_deg=13, min_s=0.3,
                                                                bridge_s=0.4), n,
         lambda: naive.eye_contact(times[sub], angle[sub], state[sub], 10, 13, 0.3, 0.4), m),
        ("iris diameter", lambda: distance.iris_diameter_px(faces), n, lambda: naive.iris_diameter_px(faces[sub]), m),
        ("mouth opening", lambda: mouth.mouth_opening(faces), n, lambda: naive.mouth_opening(faces[sub]), m),
        ("lean events", lambda: distance.lean_events(times, dist, baseline_cm=float(np.median(dist)), margin=0.06,
                                                      release=0.03, hold_s=1.0, max_gap_s=0.25), n,
         lambda: naive.held_runs(dist[sub] / np.median(dist) - 1, times[sub], 0.06, 0.03, 1.0, 0.25), m),
        ("nods (pitch swings)", lambda: nods.swing_events(times, angles[:, 1], **swing), n,
         lambda: naive.swing_events(times[sub], angles[sub, 1], 3, 0.7, 7, 0.5, 0.25, 2, True), m),
    ]
    print(f"{n} frames ({minutes:g} min at {FPS:g} fps, 1280x720), best of 3, one thread; us per frame")
    print(f"{'kernel':<28}{'numba':>10}{'reference':>12}{'ref/numba':>11}")
    total, fit_us = 0.0, float("nan")
    for name, fast, nf, slow, ns in rows:
        t_slow = best_of(slow, repeats=1) / ns * 1e6 if slow else float("nan")
        if fast is None:  # an alternative reference of the row above
            print(f"{name:<28}{'':>10}{t_slow:12.1f}{t_slow / fit_us:11.1f}")
            continue
        t_fast = best_of(fast) / nf * 1e6
        fit_us = t_fast
        total += t_fast
        print(f"{name:<28}{t_fast:10.2f}{t_slow:12.1f}{t_slow / t_fast:11.1f}")
    shakes = best_of(lambda: nods.swing_events(times, angles[:, 0], **{**swing, "kind": "shake", "min_swings": 3,
                                                                        "down_first": False})) / n * 1e6
    total += shakes
    print(f"{'shakes (yaw swings)':<28}{shakes:10.2f}")
    print(f"{'all face kernels above':<28}{total:10.2f}{'':>12}{'':>11}")
    body, world, body_size = make_bodies(n, rng)
    pcfg = default_config().posture
    t_post = best_of(lambda: posture.posture(body, world, body_size, config=pcfg)) / n * 1e6
    t_pref = best_of(lambda: naive.posture(body[sub], world[sub], body_size, pcfg), repeats=1) / m * 1e6
    total += t_post
    print(f"{'posture (all kernels)':<28}{t_post:10.2f}{t_pref:12.1f}{t_pref / t_post:11.1f}")
    print(f"{'all kernels (face+posture)':<28}{total:10.2f}{'':>12}{'':>11}   target <= 200")
    whole = best_of(lambda: analyze_face(faces, times, size, config=CFG)) / n * 1e6
    print(f"{'analyze_face (end to end)':<28}{whole:10.2f}{'':>12}{'':>11}   target <= 200")
    both = best_of(lambda: (analyze_face(faces, times, size, config=CFG),
                            posture.posture(body, world, body_size, config=pcfg))) / n * 1e6
    print(f"{'face + posture (end to end)':<28}{both:10.2f}{'':>12}{'':>11}   target <= 200")


if __name__ == "__main__":
    main()
