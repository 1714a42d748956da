"""`attune calibrate` from a video: the real portrait warped into known poses, encoded, decoded,
run through real mediapipe. A profile made from the first seconds reproduces eye contact; a
video turned away or without a face is refused with one line; the profile lives under XDG."""

from __future__ import annotations

import dataclasses
import os
import stat

import numpy as np
import pytest

from attunement.config import default_config
from attunement.cues.calibration import load_profile, save_profile
from attunement.errors import InputError
from attunement.perception.landmarks import FaceBodyLandmarker
from attunement.records import Landmarks, VideoFrame
from attunement.session.runners.calibrate import calibrate_from_video, default_profile_path
from attunement.cues.face import analyze_face, stack_landmarks
from attunement.cues.posture import posture_of
from attunement.cues.track import LandmarkTrack, vision_from_track
from attunement.session.runners.offline import watch_video
from attunement.sources.video import VideoReader
from attunement.demo.video import portrait, write_video
from attunement.demo.warp import Pose
from attunement.demo.warp import pose_sequence

CONFIG = default_config()
FPS = 15.0
LENS = (0.0, 3.0)             # at the lens: still, facing the camera
TURNED = (3.3, 5.0)           # head turned 15 deg, eyes back on the lens
AWAY = (5.3, 7.0)             # head turned 30 deg, eyes going along with it


@pytest.fixture(scope="module")
def portrait_marks():
    image = portrait()
    with FaceBodyLandmarker(CONFIG.perception, static=True) as marker:
        return image, marker.process(VideoFrame(image, 0.0, 0)).face


def make_video(path, portrait_marks, keys):
    image, src = portrait_marks
    video = pose_sequence(image, src, keys, fps=FPS)
    write_video(path, (f.image for f in video.frames), fps=FPS)
    return path


@pytest.fixture(scope="module")
def session_video(tmp_path_factory, portrait_marks):
    turned, away = Pose(yaw_deg=15.0, gaze_yaw_deg=-15.0), Pose(yaw_deg=30.0)
    keys = [(0.0, Pose()), (LENS[1], Pose()), (TURNED[0], turned), (TURNED[1], turned), (AWAY[0], away),
            (AWAY[1], away)]
    return make_video(tmp_path_factory.mktemp("cal") / "session.mkv", portrait_marks, keys)


def test_profile_from_the_first_seconds_reproduces_eye_contact(session_video, tmp_path, monkeypatch):
    baseline = calibrate_from_video(session_video, config=CONFIG, seconds=2.5)
    assert (baseline.start_s, baseline.end_s) == (0.0, 2.5)
    assert baseline.frames >= 0.9 * 2.5 * FPS and baseline.image_size == (512, 600)
    assert max(abs(v) for v in baseline.eye_bias_deg) < 3.0   # the portrait looks at the lens
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = default_profile_path()
    save_profile(baseline, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    vision = watch_video(session_video, config=CONFIG, profile=load_profile(path))
    face, t = vision.face, vision.times
    assert face.baseline == "profile"
    at_lens = (t < LENS[1]) | ((t >= TURNED[0]) & (t < TURNED[1]))
    away = t >= AWAY[0] + 0.3
    print(f"contact at the lens {face.eye_contact[at_lens].mean():.3f}, away {face.eye_contact[away].mean():.3f}; "
          f"head yaw turned {np.median(face.head_rel_deg[(t >= TURNED[0]) & (t < TURNED[1]), 0]):.1f} deg")
    assert face.eye_contact[at_lens].all()
    assert not face.eye_contact[away].any()
    # relative head pose starts at the baseline: still frames within 1.5 deg of zero
    np.testing.assert_allclose(np.median(face.head_rel_deg[t < LENS[1], :2], axis=0), 0.0, atol=1.5)


def test_video_turned_away_is_refused_with_one_line(tmp_path, portrait_marks):
    path = make_video(tmp_path / "away.mkv", portrait_marks, [(0.0, Pose(yaw_deg=30.0)), (3.0, Pose(yaw_deg=30.0))])
    with pytest.raises(InputError) as err:
        calibrate_from_video(path, config=CONFIG, seconds=2.5)
    text = str(err.value)
    print(text)
    assert "\n" not in text and str(path) in text and "calibration refused" in text
    assert "lens" in text or "turned away" in text


def test_video_without_a_face_is_refused(tmp_path):
    path = tmp_path / "empty.mkv"
    write_video(path, (np.full((240, 320, 3), 40 + k, np.uint8) for k in range(30)), fps=FPS)
    with pytest.raises(InputError, match=r"calibration refused: a face in 0 of \d+ frames") as err:
        calibrate_from_video(path, config=CONFIG, seconds=1.5)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("seconds", [0.0, -1.0, 600.0])
def test_bad_window_is_refused(session_video, seconds):
    with pytest.raises(InputError, match="--seconds"):
        calibrate_from_video(session_video, config=CONFIG, seconds=seconds)


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(InputError) as err:
        calibrate_from_video(tmp_path / "nope.mp4", config=CONFIG)
    assert "\n" not in str(err.value) and "nope.mp4" in str(err.value)


def test_default_profile_path_follows_xdg_with_private_modes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    path = default_profile_path()
    assert path == tmp_path / "xdg" / "attunement" / "profile.json"
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_profile_path() == tmp_path / "home" / ".local" / "share" / "attunement" / "profile.json"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # XDG: relative paths are ignored
    assert default_profile_path() == tmp_path / "home" / ".local" / "share" / "attunement" / "profile.json"


def test_landmark_track_gives_the_cues_of_all_landmarks_at_once(session_video):
    """The streaming track (landmarks reduced 7 frames at a time, times grown from a small
    capacity) gives exactly the cues of stacking every frame's Landmarks and analysing the batch."""
    marks, track = [], LandmarkTrack(capacity=16, config=CONFIG, chunk=7)
    with VideoReader(session_video) as reader, FaceBodyLandmarker(CONFIG.perception) as marker:
        for frame in reader.frames():
            marks.append(marker.process(frame))
            track.add(marks[-1])
    want_faces, want_times, size = stack_landmarks(marks)
    assert track.n == len(marks) > 16 and track.n % 7 and track.size == size
    streamed = vision_from_track(track, config=CONFIG)
    batch = analyze_face(want_faces, want_times, size, config=CONFIG.cues)
    np.testing.assert_array_equal(streamed.times, want_times)
    np.testing.assert_array_equal(streamed.face.eye_contact, batch.eye_contact)
    np.testing.assert_array_equal(streamed.face.head_deg, batch.head_deg)
    np.testing.assert_array_equal(streamed.face.gaze_deg, batch.gaze_deg)
    np.testing.assert_array_equal(streamed.face.distance_cm, batch.distance_cm)
    assert streamed.face.events == batch.events and streamed.face.baseline == batch.baseline
    np.testing.assert_array_equal(streamed.posture.open, posture_of(marks, config=CONFIG.posture).open)
    again = vision_from_track(track, config=CONFIG)  # asking twice gives the same
    np.testing.assert_array_equal(again.face.eye_contact, streamed.face.eye_contact)
    every = dataclasses.replace(CONFIG.perception, face_rate_hz=0.0, review_pose_rate_hz=CONFIG.perception.pose_rate_hz)
    whole = watch_video(session_video, config=dataclasses.replace(CONFIG, perception=every))  # every frame, as above
    np.testing.assert_array_equal(whole.face.eye_contact, batch.eye_contact)


def test_landmark_track_holds_a_few_hundred_bytes_a_frame():
    """What a long session keeps per frame: the reduced measurements, not the 6.6 kB of landmarks."""
    track = LandmarkTrack(capacity=16, config=CONFIG, chunk=64)
    nan = np.full((478, 3), np.nan, np.float32)
    pose, world = np.full((33, 4), np.nan, np.float32), np.full((33, 3), np.nan, np.float32)
    for i in range(640):
        track.add(Landmarks(t=i / 30, size=(640, 480), face=nan, pose=pose, pose_world=world, pose_t=np.nan))
    frames, pframes, times = track.measured()
    kept = sum(a.nbytes for a in (*frames.pose, frames.iris_px, *frames.eyes, frames.mouth, *pframes, times))
    assert len(frames) == times.size == 640
    assert kept / 640 < 400


def test_landmark_track_refuses_other_per_frame_settings():
    track = LandmarkTrack(config=CONFIG)
    nan = np.full((478, 3), np.nan, np.float32)
    track.add(Landmarks(t=0.0, size=(640, 480), face=nan, pose=np.full((33, 4), np.nan, np.float32),
                        pose_world=np.full((33, 3), np.nan, np.float32), pose_t=np.nan))
    other = dataclasses.replace(CONFIG, cues=dataclasses.replace(CONFIG.cues, camera_hfov_deg=90.0))
    with pytest.raises(ValueError, match="other camera"):
        vision_from_track(track, config=other)


def test_landmark_track_refuses_a_change_of_frame_size():
    track = LandmarkTrack()
    nan = np.full((478, 3), np.nan, np.float32)
    pose, world = np.full((33, 4), np.nan, np.float32), np.full((33, 3), np.nan, np.float32)
    track.add(Landmarks(t=0.0, size=(640, 480), face=nan, pose=pose, pose_world=world, pose_t=np.nan))
    with pytest.raises(InputError, match="different image sizes"):
        track.add(Landmarks(t=0.1, size=(320, 240), face=nan, pose=pose, pose_world=world, pose_t=np.nan))
