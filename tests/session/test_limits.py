"""The pass/fail limits of `pytest -m hil`, exercised in the ordinary suite: on replayed files (the
`attune check --camera FILE --mic FILE` path) whose timing and levels are known, and on capture
stamps made by hand where the truth is the point (a camera that drops frames)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attunement.session.devices.check import check_devices, format_check, frame_timing, run_check
from attunement.session.devices.limits import MAX_CLIP_SHARE, MAX_LATENCY_MS, MIN_FPS_SHARE, MIN_LEVEL_DBFS
from attunement.session.devices.limits import Limit, check_limits, format_limits, limits_met
from attunement.demo.video import render_demo_video
from attunement.sources.wav import write_wav
from attunement.sources.microphone import Microphone
from attunement.demo.conversation import synth_voice

RATE, FPS = 16000, 15.0


def by_name(limits) -> dict:
    return {(lim["name"] if isinstance(lim, dict) else lim.name): (lim if isinstance(lim, dict) else vars(lim))
            for lim in limits}


@pytest.fixture(scope="module")
def demo_clip(tmp_path_factory):
    """The demo video (the moving portrait, 15 fps) with a voice at -26 dBFS RMS, 3 s."""
    rng = np.random.default_rng(5)
    audio = (0.05 * synth_voice(3.0, f0_hz=140.0, rate=RATE, rng=rng)).astype(np.float32)[None]
    path = tmp_path_factory.mktemp("limits") / "demo.mkv"
    render_demo_video(path, audio, RATE, fps=FPS)
    return path


def test_a_replayed_demo_video_meets_the_device_limits(demo_clip):
    """`attune check --camera demo.mkv --mic demo.mkv`: the file's steady 15 fps and clean audio pass."""
    r = run_check(str(demo_clip), str(demo_clip), seconds=2.0)
    lim = by_name(r["limits"])
    cam, mic = r["camera"], r["microphone"]
    assert lim["camera size"]["ok"] is None
    assert lim["camera size"]["measured"] == f"{cam['negotiated']['width']}x{cam['negotiated']['height']}"
    assert lim["camera frame rate"]["ok"] is True and lim["camera frame rate"]["measured"] == pytest.approx(FPS, rel=0.01)
    assert lim["camera jitter p95"]["ok"] is True and lim["camera jitter p95"]["measured"] <= 1.0
    # latency is the machine's speed: judged against the limit, whatever it is here (no timing assertion)
    latency = lim["camera capture to cue p95"]
    assert latency["measured"] == cam["latency_ms_p95"] > 0 and latency["ok"] == (latency["measured"] <= MAX_LATENCY_MS)
    assert lim["microphone rate"]["measured"] == mic["rate"] == RATE and lim["microphone rate"]["ok"] is True
    assert lim["microphone overflows"]["ok"] is True
    assert lim["microphone level"]["ok"] is True
    assert lim["microphone level"]["measured"] == pytest.approx(20 * math.log10(0.05), abs=1.0)
    assert lim["microphone clipping"] == {**lim["microphone clipping"], "measured": 0.0, "ok": True}
    text = format_check(r)
    assert "limits for a live session:" in text and "PASS  camera frame rate: 15" in text
    assert "info  camera size: " in text and "PASS  microphone clipping: 0 (< 1%)" in text


def _mic_limits(tmp_path, x: np.ndarray) -> dict:
    write_wav(tmp_path / "in.wav", x[None], RATE)
    with Microphone(tmp_path / "in.wav", pace=0) as mic:
        return by_name(check_limits(check_devices(None, mic, 60.0)))


@pytest.mark.parametrize("share, ok", [(0.005, True), (0.02, False)])
def test_clipping_limit_on_a_replayed_file(tmp_path, share, ok):
    x = np.full(RATE, 0.05, np.float32)
    x[::round(1 / share)] = 1.0
    lim = _mic_limits(tmp_path, x)
    assert lim["microphone clipping"]["measured"] == share and lim["microphone clipping"]["ok"] is ok
    assert "camera frame rate" not in lim and lim["microphone level"]["ok"] is True


@pytest.mark.parametrize("level_dbfs, ok", [(None, False), (-95.0, False), (-70.0, True)])
def test_level_limit_tells_a_dead_input_from_a_quiet_room(tmp_path, rng, level_dbfs, ok):
    """Digital silence and noise at -95 dBFS (a dead input's converter noise) fail; -70 dBFS (a quiet room) passes."""
    x = np.zeros(RATE, np.float32)
    if level_dbfs is not None:
        x = (10 ** (level_dbfs / 20) * rng.standard_normal(RATE)).astype(np.float32)
    lim = _mic_limits(tmp_path, x)["microphone level"]
    assert lim["ok"] is ok and MIN_LEVEL_DBFS == -80.0
    if level_dbfs is None:
        assert lim["measured"] is None
    else:  # 16-bit quantisation adds its own -101 dBFS of noise
        assert lim["measured"] == pytest.approx(10 * math.log10(10 ** (level_dbfs / 10) + 10 ** (-101.2 / 10)), abs=0.7)


def _camera(times, *, fps=30.0, latency_ms=20.0, size=(640, 480)) -> dict:
    """A check's camera part around hand-made capture stamps (the timing computed as the check does)."""
    return {"negotiated": {"width": size[0], "height": size[1], "fps": fps}, **frame_timing(np.asarray(times)),
            "latency_ms_p95": latency_ms}


def test_camera_limits_on_capture_stamps():
    steady = np.arange(91) / 30.0
    lim = by_name(check_limits({"camera": _camera(steady)}))
    assert [lim[k]["ok"] for k in ("camera size", "camera frame rate", "camera jitter p95", "camera capture to cue p95")] == \
        [None, True, True, True]
    assert "microphone rate" not in lim
    # a camera that delivers 2 frames of every 3 (every other interval doubled): 20 of 30 frames/s
    # (< 0.9 x 30); the median interval is 1.5, so every interval is half an interval off it (met)
    steps = np.tile([1, 2], 30) / 30.0
    lim = by_name(check_limits({"camera": _camera(np.concatenate([[0.0], np.cumsum(steps)]))}))
    assert lim["camera frame rate"]["measured"] == pytest.approx(20.0) and lim["camera frame rate"]["ok"] is False
    assert lim["camera jitter p95"]["measured"] == pytest.approx(1000 / 60, abs=0.01)
    assert lim["camera jitter p95"]["ok"] is True
    # bursts: one interval in four is 3 intervals long (a 2-interval stall), then frames catch up
    steps = np.tile([1, 1, 1, 3], 15) / 30.0
    lim = by_name(check_limits({"camera": _camera(np.concatenate([[0.0], np.cumsum(steps)]), latency_ms=60.0)}))
    assert lim["camera jitter p95"]["measured"] == pytest.approx(2000 / 30, abs=0.01)  # > 1.5 x 33.3 ms
    assert lim["camera jitter p95"]["ok"] is False and lim["camera capture to cue p95"]["ok"] is False
    assert lim["camera frame rate"]["ok"] is False  # 4 frames per 6 intervals: 20 frames/s
    # a camera that negotiated no rate (0): intervals judged against the median interval; frames not judged
    lim = by_name(check_limits({"camera": _camera(steady, fps=0.0, size=(1280, 720))}))
    assert lim["camera frame rate"]["ok"] is None and lim["camera jitter p95"]["ok"] is True
    assert lim["camera size"]["measured"] == "1280x720"


def test_microphone_limits_on_a_hand_made_result():
    """What a replayed file cannot produce: another rate, overflows; and nothing measured."""
    mic = {"rate": 48000, "overflows": 2, "blocks": 10, "level_dbfs": -40.0, "clipping_share": MAX_CLIP_SHARE}
    lim = by_name(check_limits({"microphone": mic}))
    assert [lim[k]["ok"] for k in ("microphone rate", "microphone overflows", "microphone level",
                                   "microphone clipping")] == [False, False, True, False]   # 1% is not < 1%
    none = by_name(check_limits({"microphone": {**mic, "rate": None, "blocks": 0, "clipping_share": None}}))
    assert {k: v["ok"] for k, v in none.items()} == {"microphone rate": None, "microphone overflows": False,
                                                     "microphone level": None, "microphone clipping": None}


def test_limits_met_and_their_lines():
    limits = [Limit("a", 1.0, "<= 2", True, "x"), Limit("b", None, "> 0", None, "y")]
    assert limits_met(limits) and not limits_met(limits + [Limit("c", 3, "<= 2", False, "z")])
    assert format_limits(limits) == "PASS  a: 1 (<= 2)\ninfo  b: n/a (> 0)"
    assert MIN_FPS_SHARE == 0.9


@pytest.mark.realdata
def test_a_real_recording_replayed_meets_the_camera_and_microphone_limits(shared_data):
    clip = sorted((shared_data / "video").glob("*.mp4"))[0]
    r = run_check(str(clip), str(clip), seconds=2.0)
    lim = by_name(r["limits"])
    assert lim["camera size"]["measured"] == "512x512"
    for name in ("camera frame rate", "camera jitter p95", "microphone rate", "microphone overflows",
                 "microphone level", "microphone clipping"):
        assert lim[name]["ok"] is True, (name, lim[name])


@pytest.mark.parametrize("level, status", [(0.0, 1), (0.05, 0)])
def test_attune_check_strict_exits_1_when_a_limit_fails(tmp_path, level, status):
    """`attune check --strict` (the HIL runner's exit code): a dead (digitally silent) input fails
    the level limit and exits 1; a steady tone at -26 dBFS passes them all and exits 0."""
    import subprocess
    import sys
    from pathlib import Path

    t = np.arange(RATE * 2) / RATE
    write_wav(tmp_path / "in.wav", (level * np.sin(2 * np.pi * 220 * t))[None].astype(np.float32), RATE)
    attune = Path(sys.executable).with_name("attune")
    proc = subprocess.run([str(attune), "check", "--camera", "none", "--mic", str(tmp_path / "in.wav"),
                           "--seconds", "1", "--strict"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert ("FAIL  microphone level" in proc.stdout) is (status == 1)
