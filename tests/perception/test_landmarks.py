"""Face and body landmarks: real mediapipe on real images (the public-domain portrait, its
mirror image, a clip made from it, the talking-head recordings), plus the protobuf kernel
against a plain-Python reading of the same messages.
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys

import mediapipe as mp
import numpy as np
import pytest
from matplotlib.path import Path as Polygon
from mediapipe.framework.formats import landmark_pb2

from attunement.config import default_config
from attunement.perception.landmarks import FaceBodyLandmarker, Landmarker, _native_stderr_to_log, landmark_array
from attunement.records import FACE_POINTS, POSE_POINTS, VideoFrame
from attunement.sources.video import VideoReader
from tests.conftest import REPO
from tests.sources.test_video import FPS, make_clip, portrait
from tests import naive

FIELDS = ("x", "y", "z", "visibility", "presence")
NOSE_TIP, CHIN, FOREHEAD, UPPER_LIP, LOWER_LIP = 1, 152, 10, 13, 14
RIGHT_IRIS, LEFT_IRIS = 468, 473  # centres; the person's right eye is on the image's left
#: Points on the face's midline in mediapipe's canonical mesh: the mirror image maps each onto itself.
MIDLINE = [0, 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 94, 151, 152, 164, 168, 175,
           195, 197, 199, 200]
POSE_NAMES = [p.name for p in mp.solutions.pose.PoseLandmark]
#: pose point -> its mirror partner (LEFT_x <-> RIGHT_x, the nose onto itself)
POSE_MIRROR = [POSE_NAMES.index(n.replace("LEFT", "RIGHT") if "LEFT" in n else n.replace("RIGHT", "LEFT"))
               for n in POSE_NAMES]
L_SHOULDER, R_SHOULDER = POSE_NAMES.index("LEFT_SHOULDER"), POSE_NAMES.index("RIGHT_SHOULDER")


# ---- the protobuf kernel against a plain reading of the message (tests/naive) ----

def random_list(rng, n: int, *, nan_share: float = 0.0, unset_share: float = 0.0, normalized=True) -> bytes:
    cls = landmark_pb2.NormalizedLandmarkList if normalized else landmark_pb2.LandmarkList
    message = cls()
    for _ in range(n):
        point = message.landmark.add()
        for name in FIELDS:
            if rng.random() >= unset_share:
                value = rng.normal(0.5, 2.0) if rng.random() >= nan_share else rng.choice([np.nan, np.inf, -np.inf])
                setattr(point, name, float(value))
    return message.SerializeToString()


def test_kernel_reads_a_hand_made_list_exactly():
    message = landmark_pb2.NormalizedLandmarkList()
    for x, y, z, vis in [(0.5, 0.25, -0.125, 0.75), (0.0, 1.0, 0.5, 0.0)]:
        message.landmark.add(x=x, y=y, z=z, visibility=vis)
    message.landmark.add(x=0.25)  # y, z and visibility unset
    got = landmark_array(message.SerializeToString(), points=3, scale=(640, 480, 640, 1.0))
    expected = np.array([[320, 120, -80, 0.75], [0, 480, 320, 0], [160, np.nan, np.nan, np.nan]], np.float32)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float32 and got.shape == (3, 4)


@pytest.mark.parametrize("n,cols,normalized", [(FACE_POINTS, 3, True), (POSE_POINTS, 4, True),
                                               (POSE_POINTS, 3, False), (7, 5, True)])
@pytest.mark.parametrize("nan_share,unset_share", [(0.0, 0.0), (0.3, 0.0), (0.0, 0.4), (0.2, 0.2)])
def test_kernel_matches_the_protobuf_library(rng, n, cols, normalized, nan_share, unset_share):
    data = random_list(rng, n, nan_share=nan_share, unset_share=unset_share, normalized=normalized)
    scale = tuple(rng.uniform(1, 1000, cols))
    np.testing.assert_array_equal(landmark_array(data, points=n, scale=scale), naive.landmark_array(data, scale, normalized))


def test_kernel_skips_unknown_fields(rng):
    """Fields a newer mediapipe might add (varint, 64-bit, bytes) inside and between landmarks."""
    base = landmark_pb2.NormalizedLandmarkList.FromString(random_list(rng, 5))
    extra_in = bytes([6 << 3 | 0, 0x96, 0x01, 7 << 3 | 1]) + bytes(8) + bytes([8 << 3 | 2, 3, 1, 2, 3])
    data = b"".join(bytes([0x0A, len(p.SerializeToString()) + len(extra_in)]) + p.SerializeToString() + extra_in
                    for p in base.landmark) + bytes([2 << 3 | 0, 0x05, 3 << 3 | 5, 1, 2, 3, 4])
    np.testing.assert_array_equal(landmark_array(data, points=5, scale=(2.0, 3.0, 4.0)),
                                  naive.landmark_array(base.SerializeToString(), (2.0, 3.0, 4.0)))


def test_kernel_rejects_malformed_or_miscounted_lists(rng):
    data = random_list(rng, 10)
    with pytest.raises(ValueError, match="not a serialized landmark list"):
        landmark_array(data[:-3], points=10, scale=(1.0, 1.0))
    with pytest.raises(ValueError, match="holds 10 landmarks, expected 478"):
        landmark_array(data, points=FACE_POINTS, scale=(1.0, 1.0))
    with pytest.raises(ValueError, match="holds 0 landmarks"):
        landmark_array(b"", points=1, scale=(1.0,))
    with pytest.raises(ValueError, match="scale"):
        landmark_array(data, points=10, scale=())


# ---- mediapipe on the portrait ----

@pytest.fixture(scope="module")
def still():
    """Static-mode landmarks of the portrait and of its mirror image."""
    image = portrait()
    with FaceBodyLandmarker(static=True) as landmarker:
        plain = landmarker.process(VideoFrame(image, 1.5, 0))
        mirrored = landmarker.process(VideoFrame(np.ascontiguousarray(image[:, ::-1]), 2.5, 1))
    return image, plain, mirrored


def eye_contour(edges) -> np.ndarray:
    """The point indices of a closed contour given as a set of edges, in walking order."""
    neighbours: dict[int, list[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    start = min(neighbours)
    order, previous = [start], None
    while True:
        here = order[-1]
        step = next(n for n in neighbours[here] if n != previous)
        if step == start:
            return np.array(order)
        order.append(step)
        previous = here


def test_portrait_face_is_found_with_irises_inside_the_eyes(still):
    image, marks, _ = still
    h, w = image.shape[:2]
    assert marks.has_face and marks.size == (w, h) and marks.t == 1.5
    face = marks.face
    assert face.shape == (FACE_POINTS, 3) and face.dtype == np.float32 and np.all(np.isfinite(face))
    assert np.all((face[:, 0] > 0) & (face[:, 0] < w) & (face[:, 1] > 0) & (face[:, 1] < h))
    connections = mp.solutions.face_mesh_connections
    for iris, eye in [(RIGHT_IRIS, connections.FACEMESH_RIGHT_EYE), (LEFT_IRIS, connections.FACEMESH_LEFT_EYE)]:
        outline = face[eye_contour(eye), :2]
        assert Polygon(outline).contains_point(face[iris, :2]), iris
    assert face[RIGHT_IRIS, 0] < face[NOSE_TIP, 0] < face[LEFT_IRIS, 0]  # she faces the camera
    assert face[FOREHEAD, 1] < face[RIGHT_IRIS, 1] < face[NOSE_TIP, 1] < face[UPPER_LIP, 1] < face[CHIN, 1]
    # z is in pixels of x: the nose tip is nearest the camera, the face about as deep as it is wide
    assert face[NOSE_TIP, 2] < np.quantile(face[:, 2], 0.01)
    assert 0.3 < np.ptp(face[:, 2]) / np.ptp(face[:, 0]) < 1.5


def test_portrait_pose_finds_the_shoulders(still):
    image, marks, _ = still
    h, w = image.shape[:2]
    pose, world = marks.pose, marks.pose_world
    assert marks.has_pose and marks.pose_t == marks.t
    assert pose.shape == (POSE_POINTS, 4) and world.shape == (POSE_POINTS, 3)
    for s in (L_SHOULDER, R_SHOULDER):
        assert pose[s, 3] > 0.9 and 0 <= pose[s, 0] <= w and marks.face[CHIN, 1] < pose[s, 1] <= h
    assert pose[R_SHOULDER, 0] < marks.face[NOSE_TIP, 0] < pose[L_SHOULDER, 0]
    assert 0.2 < np.linalg.norm(world[L_SHOULDER] - world[R_SHOULDER]) < 0.5  # metres: a person's shoulders


def test_mirror_image_gives_mirrored_landmarks(still):
    image, plain, mirrored = still
    w = image.shape[1]
    expected = plain.face.copy()
    expected[:, 0] = w - expected[:, 0]
    face = mirrored.face
    midline_error = np.linalg.norm(face[MIDLINE, :2] - expected[MIDLINE, :2], axis=1)
    assert midline_error.max() < 6, midline_error
    assert np.linalg.norm(face[RIGHT_IRIS, :2] - expected[LEFT_IRIS, :2]) < 2
    assert np.linalg.norm(face[LEFT_IRIS, :2] - expected[RIGHT_IRIS, :2]) < 2
    nearest = np.linalg.norm(face[:, None, :2] - expected[None, :, :2], axis=2).min(axis=1)
    assert nearest.mean() < 3 and nearest.max() < 10
    pose = plain.pose.copy()
    pose[:, 0] = w - pose[:, 0]
    seen = np.flatnonzero(plain.pose[:, 3] > 0.9)
    assert {L_SHOULDER, R_SHOULDER} <= set(seen)
    shoulders = np.linalg.norm(plain.pose[L_SHOULDER, :2] - plain.pose[R_SHOULDER, :2])
    error = np.linalg.norm(mirrored.pose[seen, :2] - pose[np.array(POSE_MIRROR)[seen], :2], axis=1)
    assert error.max() < 0.07 * shoulders, error  # the body model is coarser than the face mesh


@pytest.mark.parametrize("kind", ["black", "noise"])
def test_frame_without_a_person_gives_nan_not_an_error(rng, kind):
    image = (np.zeros((480, 640, 3), np.uint8) if kind == "black"
             else rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))
    with FaceBodyLandmarker() as landmarker:
        marks = [landmarker.process(VideoFrame(image, k / FPS, k)) for k in range(3)]
    for m in marks:
        assert not m.has_face and not m.has_pose and m.size == (640, 480)
        assert np.all(np.isnan(m.face)) and np.all(np.isnan(m.pose)) and np.all(np.isnan(m.pose_world))
    assert marks[0].pose_t == 0.0  # measured at once, nothing found; carried after


# ---- video mode on a clip made from the portrait ----

@pytest.fixture(scope="module")
def clip_frames(tmp_path_factory) -> list[VideoFrame]:
    path = make_clip(tmp_path_factory.mktemp("clip") / "portrait.mp4", seconds=1.2)
    with VideoReader(path) as reader:
        return list(reader.frames())


def scheduled(times, rate):
    """Plain reference: a pose on the first frame at or after each tick k/rate (restarting when behind)."""
    out, due = [], -np.inf
    for t in times:
        if t >= due - 1e-6:
            out.append(t)
            due = due + 1 / rate if t < due + 1 / rate <= t + 1 / rate + 1e-9 else t + 1 / rate
    return out


@pytest.mark.parametrize("rate", [10.0, 12.5, 25.0, 4.0])
def test_pose_runs_at_pose_rate_hz_on_average_and_is_carried_between(clip_frames, rate):
    """At 25 fps, 10 Hz gives frames 0, 3, 5, 8, 10, ... (0.12 s and 0.08 s apart, 10 Hz on average)."""
    config = default_config().replace("perception", pose_rate_hz=rate)
    with FaceBodyLandmarker(config.perception) as landmarker:
        marks = [landmarker.process(f) for f in clip_frames]
    measured = sorted({m.pose_t for m in marks})
    np.testing.assert_allclose(measured, scheduled([f.t for f in clip_frames], rate), atol=1e-9)
    span = clip_frames[-1].t - clip_frames[0].t
    assert len(measured) >= min(rate, FPS) * span  # at least pose_rate_hz on average
    for m in marks:
        assert m.has_face and m.has_pose and 0 <= m.t - m.pose_t < 1 / rate + 1 / FPS
    first_gap = round((measured[1] - measured[0]) * FPS) if len(measured) > 1 else len(marks)
    assert all(m.pose is marks[0].pose for m in marks[:first_gap])  # carried, not copied or re-measured


def test_video_mode_tracks_the_face_like_single_images(clip_frames):
    with FaceBodyLandmarker() as video, FaceBodyLandmarker(static=True) as single:
        tracked = [video.process(f) for f in clip_frames]
        alone = [single.process(clip_frames[k]) for k in (0, 10, 20)]
    assert all(m.has_face for m in tracked)
    for m, k in zip(alone, (0, 10, 20)):
        assert np.abs(tracked[k].face[:, :2] - m.face[:, :2]).mean() < 3
    opening = [mouth_opening(m.face) for m in tracked]
    assert np.std(opening) < 0.005  # a still portrait: the mouth does not move


def test_no_pose_at_rate_zero(clip_frames):
    config = default_config().replace("perception", pose_rate_hz=0.0)
    with FaceBodyLandmarker(config.perception) as landmarker:
        marks = [landmarker.process(f) for f in clip_frames[:3]]
    assert all(m.has_face and not m.has_pose and math.isnan(m.pose_t) for m in marks)


def mouth_opening(face: np.ndarray) -> float:
    """Inner-lip gap (13-14) over face height (forehead 10 to chin 152)."""
    return float(np.linalg.norm(face[UPPER_LIP, :2] - face[LOWER_LIP, :2])
                 / np.linalg.norm(face[FOREHEAD, :2] - face[CHIN, :2]))


# ---- the object itself ----

def test_landmarker_follows_the_protocol_and_guards_its_output(still):
    image, marks, _ = still
    landmarker = FaceBodyLandmarker(static=True)
    assert isinstance(landmarker, Landmarker)
    with pytest.raises(ValueError, match="RGB uint8"):
        landmarker.process(VideoFrame(image.astype(np.float32), 0.0, 0))
    with pytest.raises(ValueError, match="RGB uint8"):
        landmarker.process(VideoFrame(image[:, :, 0], 0.0, 0))
    landmarker.close()
    landmarker.close()
    with pytest.raises(RuntimeError, match="after close"):
        landmarker.process(VideoFrame(image, 0.0, 0))
    for array in (marks.face, marks.pose, marks.pose_world):
        with pytest.raises(ValueError, match="read-only"):
            array[0, 0] = 0


def test_native_stderr_is_logged_chatter_quietly_and_the_rest_loudly(caplog):
    caplog.set_level(logging.DEBUG, logger="attunement.perception.landmarks")
    with _native_stderr_to_log():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"E0000 00:00:1.0 123 graph.cc:1] Calculator failed: something real\n")
    levels = {r.getMessage(): r.levelno for r in caplog.records}
    assert levels["mediapipe: INFO: Created TensorFlow Lite XNNPACK delegate for CPU."] == logging.DEBUG
    assert levels["mediapipe: E0000 00:00:1.0 123 graph.cc:1] Calculator failed: something real"] == logging.WARNING


def test_mediapipe_start_up_chatter_stays_off_stderr():
    """A fresh process (mediapipe logs its start-up once per process) prints nothing to stderr."""
    code = ("import numpy as np\n"
            "from attunement.perception.landmarks import FaceBodyLandmarker\n"
            "from attunement.records import VideoFrame\n"
            "from tests.sources.test_video import portrait\n"
            "with FaceBodyLandmarker() as lm:\n"
            "    for k in range(3):\n"
            "        assert lm.process(VideoFrame(portrait(), k / 25, k)).has_face\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))  # the repo root: tests is a package
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


# ---- the real talking-head recordings ----

@pytest.mark.realdata
@pytest.mark.parametrize("name", ["WDA_AlexandriaOcasioCortez_000", "WDA_KatieHill_000"])
def test_real_speaker_face_in_every_frame_and_mouth_moves(shared_data, name, record_property):
    with VideoReader(shared_data / "video" / f"{name}.mp4") as reader, FaceBodyLandmarker() as landmarker:
        marks = [landmarker.process(f) for f in reader.frames()]
    assert len(marks) == 200 and all(m.has_face for m in marks)
    assert all(m.has_pose for m in marks)  # head and shoulders in view
    opening = np.array([mouth_opening(m.face) for m in marks])
    record_property("mouth_opening_std", float(opening.std()))
    print(f"{name}: mouth opening (inner lips / face height) mean {opening.mean():.3f} "
          f"std {opening.std():.3f} range {opening.min():.3f}-{opening.max():.3f}")
    assert opening.std() > 0.015 and np.ptp(opening) > 0.1  # talking; a still face gives std < 0.005


def test_process_live_keeps_the_pose_beside_the_frames(clip_frames):
    """At the clip's own pace, Pose runs on its thread: every frame has its face at once, carries a
    pose measured on an earlier (or the same) frame, close to what `process` measures on that frame,
    about pose_rate_hz times a second; closing ends the thread."""
    import threading
    import time

    rate = 10.0
    config = default_config().replace("perception", pose_rate_hz=rate)
    with FaceBodyLandmarker(config.perception) as serial:
        reference = {f.t: serial.process(f) for f in clip_frames}
    with FaceBodyLandmarker(config.perception) as landmarker:
        t0 = time.perf_counter()
        marks = []
        for f in clip_frames:
            time.sleep(max(0.0, t0 + f.t - time.perf_counter()))
            marks.append(landmarker.process_live(f))
        assert any(t.name == "attune-pose" for t in threading.enumerate())
    assert not any(t.name == "attune-pose" for t in threading.enumerate())
    assert all(m.has_face for m in marks)
    for m, f in zip(marks, clip_frames):
        np.testing.assert_allclose(m.face[:, :2], reference[f.t].face[:, :2], atol=3)  # the same tracked face
    posed = [m for m in marks if not math.isnan(m.pose_t)]
    assert len(posed) >= len(marks) - 8  # the first pose arrives within a few frames
    times = {f.t for f in clip_frames}
    for m in posed:
        assert m.pose_t in times and m.pose_t <= m.t and not m.pose.flags.writeable
        assert np.abs(m.pose[:, :2] - reference[m.pose_t].pose[:, :2]).mean() < 5  # the frame's own pose
    measured = sorted({m.pose_t for m in posed})
    span = clip_frames[-1].t - clip_frames[0].t
    assert len(measured) >= 0.5 * rate * span  # ticks move only while Pose is busy
