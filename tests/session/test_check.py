"""`attune check` measurements, run on replayed files whose timing and levels are known exactly."""

from __future__ import annotations

import ctypes.util
import glob
import math

import numpy as np
import pytest

from attunement.config import default_config
from attunement.perception.landmarks import FaceBodyLandmarker
from attunement.records import VideoFrame
from attunement.errors import InputError
from attunement.session.devices.check import _NO_FACE, check_devices, format_check, format_devices, run_check
from attunement.cues.frame import frame_cues
from attunement.sources.devices import list_devices
from attunement.sources.camera import Camera
from attunement.sources.clock import SessionClock
from attunement.demo.video import portrait, write_video
from attunement.sources.wav import write_wav
from attunement.sources.microphone import Microphone

FPS, RATE, SECONDS = 15, 16000, 2.0


@pytest.fixture(scope="module")
def marker():
    with FaceBodyLandmarker(default_config().perception) as m:
        frame_cues(_NO_FACE, default_config().cues)  # compile before any clock runs
        yield m


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 2 s talking-head clip (Grace Hopper's portrait, 256 x 300) at 15 fps with a 0.1 tone."""
    img = np.ascontiguousarray(portrait()[::2, ::2])
    audio = (0.1 * np.sin(2 * np.pi * 440 * np.arange(int(SECONDS * RATE)) / RATE)).astype(np.float32)[None]
    path = tmp_path_factory.mktemp("check") / "face.mkv"
    write_video(path, (np.roll(img, k % 3, axis=1) for k in range(int(SECONDS * FPS))), fps=FPS,
                audio=audio, rate=RATE)
    return path


def test_check_measures_a_replayed_camera_and_microphone(clip, marker):
    clock = SessionClock()
    start = clock.now() + 0.3  # both replays begin after the check has started
    with Camera(clip, clock=clock, start=start, queue_size=4) as cam, \
            Microphone(clip, clock=clock, start=start) as mic:
        r = check_devices(cam, mic, 10.0, landmarker=marker)
    c, m = r["camera"], r["microphone"]
    assert c["negotiated"] == {"width": 256, "height": 300, "fps": FPS}
    assert c["frames_captured"] == SECONDS * FPS and c["ended"] and m["ended"]
    assert c["frames_processed"] + c["dropped"] == SECONDS * FPS
    # replayed frames are stamped with their media times: 15 frames/s, Matroska's 1 ms rounding
    assert c["actual_fps"] == pytest.approx(FPS, rel=0.01)
    assert c["interval_ms_p50"] == pytest.approx(1000 / FPS, abs=1.0) and c["jitter_ms_p95"] <= 1.0
    assert 0 < c["latency_ms_p50"] <= c["latency_ms_p95"]
    assert c["face_share"] == 1.0 and c["gaps"] == []
    assert m["rate"] == RATE and m["seconds"] == SECONDS and m["overflows"] == m["dropped"] == 0
    assert m["level_dbfs"] == pytest.approx(20 * math.log10(0.1 / math.sqrt(2)), abs=0.02)
    assert m["peak_dbfs"] == pytest.approx(-20.0, abs=0.02) and m["clipping_share"] == 0.0
    assert not any("clip" in n or "silent" in n or "face" in n for n in r["notes"])


def test_clipping_share_and_the_note_are_exact(tmp_path):
    x = np.full((1, RATE), 0.05, np.float32)
    x[0, ::100] = 1.0  # 1% of the samples at full scale
    write_wav(tmp_path / "loud.wav", x, RATE)
    with Microphone(tmp_path / "loud.wav", pace=0) as mic:
        r = check_devices(None, mic, 60.0)
    assert r["camera"] is None and r["microphone"]["clipping_share"] == 0.01
    assert r["microphone"]["seconds"] == 1.0 and r["microphone"]["ended"]
    assert "the microphone clips: turn its input level down" in r["notes"]


def test_a_silent_microphone_is_noted(tmp_path):
    write_wav(tmp_path / "silent.wav", np.zeros((1, RATE // 2), np.float32), RATE)
    with Microphone(tmp_path / "silent.wav", pace=0) as mic:
        r = check_devices(None, mic, 60.0)
    assert r["microphone"]["level_dbfs"] is None and r["microphone"]["peak_dbfs"] is None
    assert any("nearly silent" in n for n in r["notes"])


def test_a_camera_without_a_face_in_view_is_noted(tmp_path, marker):
    path = tmp_path / "wall.mkv"
    write_video(path, (np.full((120, 160, 3), 90 + k, np.uint8) for k in range(8)), fps=FPS)
    with Camera(path, pace=0) as cam:
        r = check_devices(cam, None, 60.0, landmarker=marker)
    assert r["camera"]["face_share"] == 0.0 and r["microphone"] is None
    assert "no face was in view for most of the check" in r["notes"]


def test_the_check_stops_after_its_seconds(clip):
    with Microphone(clip) as mic:  # real-time pace: 2 s of audio
        r = check_devices(None, mic, 0.5)
    assert not r["microphone"]["ended"] and 0.3 <= r["microphone"]["seconds"] <= 0.6


def test_frame_cues_are_nan_without_a_face_and_finite_with_one(marker):
    cues = default_config().cues
    assert np.all(np.isnan(frame_cues(_NO_FACE, cues)))
    face = FaceBodyLandmarker(default_config().perception, static=True)
    try:
        marks = face.process(VideoFrame(np.ascontiguousarray(portrait()), 0.0, 0))
    finally:
        face.close()
    got = frame_cues(marks, cues)
    assert got.shape == (5,) and np.all(np.isfinite(got))
    assert np.all(np.abs(got[:4]) < 45)  # she looks roughly at the camera


def test_misuse_is_a_clear_error():
    with pytest.raises(ValueError, match="camera, a microphone or both"):
        check_devices(None, None, 1.0)
    with pytest.raises(ValueError, match="seconds"):
        check_devices(None, None, 0)


def test_run_check_opens_replayed_files_and_formats_the_result(clip):
    r = run_check(str(clip), str(clip), seconds=1.0)
    assert r["camera"]["negotiated"]["width"] == 256 and r["microphone"]["rate"] == RATE
    text = format_check(r)
    assert text.splitlines()[0].startswith(f"camera {clip}: 256x300 at 15 frames/s negotiated")
    assert f"microphone {clip}: 16000 Hz, level -23.0 dBFS, peak -20.0 dBFS, clipping 0.00%" in text
    only_mic = run_check("none", str(clip), seconds=0.3)
    assert only_mic["camera"] is None and not format_check(only_mic).startswith("camera")
    with pytest.raises(InputError, match="nothing to check"):
        run_check("none", "none")


def test_devices_are_listed_one_a_line():
    text = format_devices({"cameras": [{"path": "/dev/video0", "name": "Integrated Camera"}],
                           "microphones": [{"index": 3, "name": "USB Mic", "channels": 1, "rate": 48000.0}]})
    assert text == "cameras:\n  /dev/video0: Integrated Camera\nmicrophones:\n  3: USB Mic (1 ch, 48000 Hz)"
    assert format_devices({"cameras": [], "microphones": []}) == \
        "cameras:\n  (none found)\nmicrophones:\n  (none found)"


def test_list_devices_reports_what_this_machine_has():
    found = list_devices()
    assert [c["path"] for c in found["cameras"]] == sorted(glob.glob("/dev/video*"), key=lambda p: int(p[10:]))
    if ctypes.util.find_library("portaudio") is None:
        assert found["notes"] == ["PortAudio is missing: install libportaudio2 (Debian/Ubuntu)"]
    assert all(m["channels"] > 0 for m in found["microphones"])
