"""Calibration at the start of a live session, with replayed videos: the demo (the first seconds
look at the lens) writes a private profile that the session's cues use; a video that looks away at
the start is refused with a note and the session still completes on its own baseline."""

from __future__ import annotations

from attunement.summary.cues_json import review_cues

import json
import stat

import numpy as np
import pytest

from attunement.config import default_config
from attunement.cues.calibration import load_profile
from attunement.errors import InputError
from attunement.perception.landmarks import FaceBodyLandmarker
from attunement.records import VideoFrame
from attunement.session.runners.calibrate import calibrate_from_video, default_profile_path
from attunement.session.runners.live import run_session
from attunement.session.store.formats import PROFILE_FILE
from attunement.sources.camera import Camera
from attunement.sources.clock import SessionClock
from attunement.demo.video import portrait, write_video
from attunement.sources.microphone import Microphone
from attunement.demo.conversation import practice_conversation
from attunement.demo.warp import warp_face

pytestmark = pytest.mark.slow  # live sessions on rendered video with mediapipe

CONFIG = default_config()
SECONDS = 6.0  # of the demo conversation replayed: the calibration window and a little after
CALIBRATE_S = 2.0


@pytest.fixture(scope="module")
def convo():
    return practice_conversation(seed=0, channels=2)


@pytest.fixture(scope="module")
def demo(demo_clips):
    return demo_clips.clip(SECONDS)


@pytest.fixture(scope="module")
def away(convo, tmp_path_factory):
    """The portrait with head and eyes turned 35 degrees aside for the whole clip (4 s at 15 fps)."""
    image = portrait()
    with FaceBodyLandmarker(CONFIG.perception, static=True) as marker:
        src = marker.process(VideoFrame(image, 0.0, 0)).face
    turned = warp_face(image, src, yaw_deg=35.0, gaze_yaw_deg=35.0)[0]
    path = tmp_path_factory.mktemp("calib") / "away.mkv"
    write_video(path, (turned for _ in range(60)), fps=15.0, audio=convo.audio[:, : 4 * convo.rate], rate=convo.rate)
    return path


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg"


def replay(path, convo, root, **kw):
    clock = SessionClock()
    with Camera(path, pace=0.0, clock=clock, start=0.0) as cam, \
            Microphone(path, pace=0.0, clock=clock, start=0.0) as mic:
        return run_session(camera=cam, mic=mic, config=CONFIG, speaker_names=convo.speakers,
                           me=convo.speakers[0], root=root, channels_are_speakers=True, **kw)


def test_calibration_writes_a_private_profile_that_the_session_uses(demo, convo, tmp_path, data_home):
    result = replay(demo, convo, tmp_path / "sessions", calibrate_s=CALIBRATE_S)
    path = default_profile_path()
    assert path.parent.parent == data_home
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    profile = load_profile(path)
    assert profile.frames >= 0.8 * CALIBRATE_S * 15  # nearly every frame of the window at 15 fps
    assert profile.start_s == pytest.approx(0.0, abs=0.1) and profile.end_s <= CALIBRATE_S + 0.1
    # the same logic as `attune calibrate` on the file's first seconds
    offline = calibrate_from_video(demo, config=CONFIG, seconds=CALIBRATE_S)
    np.testing.assert_allclose(profile.head_deg, offline.head_deg, atol=0.5)
    np.testing.assert_allclose(profile.eye_bias_deg, offline.eye_bias_deg, atol=0.5)
    assert profile.frames == offline.frames
    assert review_cues(result.review)["baseline"] == "profile"
    assert load_profile(result.folder / PROFILE_FILE) == profile
    assert not [n for n in result.notes if "calibrat" in n]


def test_without_calibration_the_session_uses_its_own_baseline(demo, convo, tmp_path, data_home):
    result = replay(demo, convo, tmp_path / "sessions", calibrate_s=0.0)
    assert review_cues(result.review)["baseline"] != "profile"
    assert not default_profile_path().exists()


def test_looking_away_at_the_start_is_a_note_and_the_session_completes(away, convo, tmp_path, data_home):
    result = replay(away, convo, tmp_path / "sessions", calibrate_s=CALIBRATE_S)
    notes = [n for n in result.notes if "calibration" in n]
    assert len(notes) == 1 and "own baseline" in notes[0], result.notes
    assert notes[0] in result.review.problems
    assert not default_profile_path().exists()
    assert review_cues(result.review)["baseline"] != "profile"
    assert result.review.duration_s == pytest.approx(4.0, abs=0.1)
    saved = json.loads((result.folder / "review.json").read_text())
    assert notes[0] in saved["problems"]
    assert saved["cues"]["frames"] == 60


def test_a_given_profile_wins_over_calibration_and_a_profile_path_is_honoured(demo, away, convo, tmp_path,
                                                                              data_home):
    target = tmp_path / "mine.json"
    first = replay(demo, convo, tmp_path / "sessions", calibrate_s=CALIBRATE_S, profile_path=target)
    profile = load_profile(target)
    assert not default_profile_path().exists()
    # looking away now does not matter: the saved profile is used and not overwritten
    second = replay(away, convo, tmp_path / "sessions", calibrate_s=CALIBRATE_S, profile=profile,
                    profile_path=target)
    assert review_cues(second.review)["baseline"] == "profile"
    assert not [n for n in second.notes if "calibrat" in n]
    assert load_profile(target) == profile == load_profile(second.folder / PROFILE_FILE)
    assert first.folder != second.folder


@pytest.mark.parametrize("seconds", [0.2, -1.0, 61.0])
def test_a_calibration_window_out_of_range_is_an_input_error(seconds, tmp_path):
    with pytest.raises(InputError, match="calibration window"):
        run_session(mic=object(), config=CONFIG, calibrate_s=seconds, root=tmp_path)
