"""Face cues on the real talking-head clips of ../shared/data/video (mediapipe in tracking mode).

What is known of the clips (their README): one face in view all the time, the speaker addresses
the camera (eye contact with the lens most of the time) and talks almost throughout. So: a face
in every frame, an eye-contact share >= 0.8 with geometry only, with a self-baseline and with a
calibration from the first 3 s, and a mouth that moves. Then the synthetic-truth checks of
test_cues_truth.py again, on heads made from frames of these clips.
"""

from __future__ import annotations

import functools
from pathlib import Path

import av
import mediapipe as mp
import numpy as np
import pytest
from tests.cues.test_face import mediapipe_face
from tests.cues.test_face_truth import CAM, HeadModel, eye_contact_accuracy, render

from attunement.config import default_config
from attunement.cues.calibration import calibrate
from attunement.cues.face import analyze_face
from attunement.cues.headpose import fit_head_pose, relative_angles

pytestmark = pytest.mark.realdata

CFG = default_config().cues
CLIPS = ("WDA_AlexandriaOcasioCortez_000", "WDA_KatieHill_000")


@functools.lru_cache(maxsize=None)
def clip_landmarks(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Face landmarks [n, 478, 3] (pixels), frame times [n] (s) and size of a video, mediapipe tracking mode."""
    faces, times = [], []
    with av.open(str(path)) as container, mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False, refine_landmarks=True, max_num_faces=1) as mesh:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            image = frame.to_ndarray(format="rgb24")
            faces.append(mediapipe_face(image, mesh=mesh))
            times.append(float(frame.pts * stream.time_base))
            size = (image.shape[1], image.shape[0])
    return np.stack(faces), np.array(times), size


@pytest.fixture(scope="module", params=CLIPS)
def clip(request, shared_data):
    path = shared_data / "video" / f"{request.param}.mp4"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return request.param, *clip_landmarks(path)


def test_face_in_every_frame(clip):
    name, faces, times, size = clip
    assert len(faces) >= 150 and np.isfinite(faces).all(), name


def test_eye_contact_share_geometry_self_and_calibrated(clip):
    name, faces, times, size = clip
    shares = {}
    for mode in ("geometry", "self", "calibrated"):
        baseline = calibrate(faces, times, size, config=CFG) if mode == "calibrated" else None
        cues = analyze_face(faces, times, size, config=CFG, baseline=baseline, self_baseline=mode == "self")
        shares[mode] = cues.eye_contact_share
        print(f"{name} {mode}: eye contact {cues.eye_contact_share:.3f} ({cues.baseline}: {cues.baseline_note}); "
              f"lens angle median {np.median(cues.lens_angle_deg):.1f}, 90th pct "
              f"{np.percentile(cues.lens_angle_deg, 90):.1f} deg")
    assert min(shares.values()) >= 0.8, shares


def test_mouth_moves_while_talking(clip):
    name, faces, times, size = clip
    cues = analyze_face(faces, times, size, config=CFG)
    spread = np.percentile(cues.mouth, 90) - np.percentile(cues.mouth, 10)
    print(f"{name}: mouth opening median {np.median(cues.mouth):.3f}, std {cues.mouth.std():.3f}, "
          f"10-90% spread {spread:.3f} (eye-centre distances)")
    # a closed mouth reads ~0.01 (the real portrait: 0.016); talking opens it to 0.2-0.4 now and then
    assert cues.mouth.std() > 0.04 and spread > 0.1


def test_cues_of_the_clip_are_sane(clip):
    name, faces, times, size = clip
    cues = analyze_face(faces, times, size, config=CFG)
    kinds = sorted({e.kind for e in cues.events})
    print(f"{name}: distance {np.median(cues.distance_cm):.1f} cm (assuming a {CFG.camera_hfov_deg:g} deg camera), "
          f"head |yaw| median {np.median(np.abs(cues.head_deg[:, 0])):.1f} deg, events "
          + ", ".join(f"{k} x{len(cues.of_kind(k))}" for k in kinds))
    # talking to the camera: facing it, no lean (they stay put), eye contact throughout
    assert np.median(np.abs(cues.head_deg[:, :2])) < 10
    assert not cues.of_kind("lean_in") and not cues.of_kind("lean_back")


@pytest.fixture(scope="module")
def clip_heads(shared_data):
    """Heads made from two frames of each clip: eyes open wider and mouth less than usual, and
    looking into the lens (gaze within 5 deg of it), as a head model assumes of its source frame."""
    heads = {}
    for name in CLIPS:
        path = shared_data / "video" / f"{name}.mp4"
        if not path.is_file():
            pytest.skip(f"{path} not found")
        faces, times, size = clip_landmarks(path)
        cues = analyze_face(faces, times, size, config=CFG)
        usable = ((cues.mouth < np.median(cues.mouth)) & (cues.eye_openness > np.median(cues.eye_openness))
                  & (cues.lens_angle_deg < 5))
        opened = np.flatnonzero(usable)
        for k in (opened[len(opened) // 4], opened[3 * len(opened) // 4]):
            heads[f"{name}@{k}"] = HeadModel.from_landmarks(faces[k])
    return heads


def test_head_pose_truth_on_heads_from_the_clips(clip_heads, rng):
    grid = np.array([(y, p) for y in range(-30, 31, 10) for p in range(-30, 31, 10)], float)
    camera = (CAM.focal_px, CAM.width / 2, CAM.height / 2)
    for name, model in clip_heads.items():
        base = fit_head_pose(render(model, rng, 0.0, 0.0), camera=camera)
        pose = fit_head_pose(render(model, rng, grid[:, 0], grid[:, 1]), camera=camera)
        err = np.abs(relative_angles(pose.rotation, base.rotation[0])[:, :2] - grid)
        print(f"{name}: median |error| yaw, pitch {np.median(err, axis=0).round(2)} deg")
        assert np.median(err, axis=0).max() <= 3.0


@pytest.mark.parametrize("mode", ["geometry", "self", "calibrated"])
def test_eye_contact_truth_on_heads_from_the_clips(clip_heads, mode, rng):
    for name, model in clip_heads.items():
        acc, cues, truth = eye_contact_accuracy(model, rng, mode)
        print(f"{name} {mode}: accuracy {acc:.3f} ({cues.baseline})")
        assert acc >= 0.95
