"""Hardware in the loop (`pytest -m hil -rs -s`): the real camera and microphone against the limits a
live session needs (session/check.py: MIN_FPS_SHARE, MAX_JITTER_INTERVALS, MAX_LATENCY_MS, MIC_RATE,
MAX_OVERFLOWS, MIN_LEVEL_DBFS, MAX_CLIP_SHARE; docs/hil.md). Each test skips, naming what is missing,
on a machine without the device. The same limit logic runs on replayed files in test_check_limits.py."""

from __future__ import annotations

import ctypes.util
import glob

import pytest

from attunement.session.devices.limits import Limit, format_limits, limits_met
from attunement.session.devices.check import format_check, run_check

SECONDS = 5.0


def camera_missing() -> str | None:
    return None if glob.glob("/dev/video*") else "no camera: no /dev/video* device"


def microphone_missing() -> str | None:
    if ctypes.util.find_library("portaudio") is None:
        return "PortAudio is missing: install libportaudio2 (Debian/Ubuntu)"
    from attunement.errors import InputError
    from attunement.sources.microphone import list_microphones

    try:
        found = list_microphones()
    except InputError as e:
        return str(e)
    return None if found else "no input device: PortAudio lists no microphone"


def _judged(result: dict, prefix: str) -> list[Limit]:
    limits = [Limit(**d) for d in result["limits"] if d["name"].startswith(prefix)]
    print("\n" + format_check(result))  # shown with -s: what this machine's device delivered
    assert limits, f"no {prefix} limits were applied"
    return limits


@pytest.mark.hil
@pytest.mark.skipif(camera_missing() is not None, reason=camera_missing() or "")
def test_real_camera_meets_the_live_session_limits():
    """The first /dev/video* for 5 s, a face in view or not: the negotiated size is reported (640x480
    asked); frame rate >= 0.9 x negotiated, jitter p95 <= 1.5 intervals, capture-to-cue p95 <= 50 ms."""
    result = run_check(None, "none", seconds=SECONDS)
    limits = _judged(result, "camera")
    measured = {lim.name: lim for lim in limits}
    assert result["camera"]["frames_captured"] > 0, "the camera delivered no frames"
    for name in ("camera frame rate", "camera jitter p95", "camera capture to cue p95"):
        assert measured[name].ok is not None, f"{name} could not be measured: {measured[name]}"
    assert limits_met(limits), format_limits(limits)


@pytest.mark.hil
@pytest.mark.skipif(microphone_missing() is not None, reason=microphone_missing() or "")
def test_real_microphone_meets_the_live_session_limits():
    """The default input for 5 s (speak or let the room be heard): 16 kHz, no overflows, a level above
    an unplugged input's noise floor and under 1% of samples clipped."""
    result = run_check("none", None, seconds=SECONDS)
    limits = _judged(result, "microphone")
    assert result["microphone"]["blocks"] > 0, "the microphone delivered nothing"
    assert all(lim.ok is not None for lim in limits), format_limits(limits)
    assert limits_met(limits), format_limits(limits)
