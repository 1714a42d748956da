"""Pass/fail limits for a live session's devices (`attune check --strict`, the HIL tests), each with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The frame size every camera is asked for (sources/camera.py's default): enough for FaceMesh's
#: 478 points and the iris at arm's length, small enough for the cue kernels per frame. A camera may
#: negotiate another size; the check reports it and does not fail on it.
REQUESTED_SIZE = (640, 480)
#: Frames delivered per second at least this share of the negotiated rate: below it the camera is
#: dropping frames (dim light lengthens exposure, a busy USB bus), and nods (2-4 Hz,
#: cues.gesture_max_hz) lose the samples they are found from.
MIN_FPS_SHARE = 0.9
#: Frame-interval jitter (95th percentile of each interval's distance from the median interval) at
#: most this many negotiated frame intervals: beyond it frames arrive in bursts, and a late frame
#: more than one interval apart shifts gaze and nod events by more than a frame.
MAX_JITTER_INTERVALS = 1.5
#: Capture-to-cue latency, 95th percentile, ms: at most 50 ms keeps a cue within two frames of the
#: face at 30 fps and under the ~100 ms at which feedback stops feeling immediate (Card, Moran &
#: Newell 1983's perceptual processor cycle); also what lets every frame be processed at 20 fps.
MAX_LATENCY_MS = 50.0
#: The microphone's rate, Hz: webrtcvad and the whole audio path run at 16 kHz (perception/vad.py).
MIC_RATE = 16000
#: Input overflows allowed during the check: each one is lost audio, filled with silence in a session
#: and counted as a pause, so even one shifts the turn-taking measures.
MAX_OVERFLOWS = 0
#: Input level (RMS over the check, dBFS) above which the input is live: an unplugged or muted input
#: reads digital zero or its converter's own noise (16-bit quantisation noise is -101 dBFS; analogue
#: front ends about -90 dBFS), while a live microphone in a quiet room reads about -70 to -50 dBFS
#: from room noise alone. -80 dBFS sits 10 dB above the dead input and below the quietest live one.
MIN_LEVEL_DBFS = -80.0
#: Share of samples at full scale (|x| >= CLIP_LEVEL) below which the gain is acceptable: clipped
#: speech distorts webrtcvad's and the level gate's decisions; 1% allows a rare plosive or bump.
MAX_CLIP_SHARE = 0.01



@dataclass(frozen=True)
class Limit:
    """One limit applied to a check: what was measured, the limit, met (True/False; None: only reported
    or not measured) and why the limit is what it is."""

    name: str
    measured: Any
    limit: str
    ok: bool | None
    why: str


def check_limits(result: dict[str, Any]) -> list[Limit]:
    """The pass/fail limits (module constants) applied to a `check_devices` / `run_check` result, for
    a real device (`pytest -m hil`) or a replayed file alike. Camera limits are listed only when a
    camera was checked, microphone limits only when a microphone was."""
    out: list[Limit] = []
    cam, mic = result.get("camera"), result.get("microphone")
    if cam is not None:
        neg = cam["negotiated"]
        fps = neg["fps"] if neg["fps"] and neg["fps"] > 0 else None
        interval_ms = 1000.0 / fps if fps else cam["interval_ms_p50"]
        size = f"{neg['width']}x{neg['height']}"
        out.append(Limit("camera size", size, "{}x{} requested".format(*REQUESTED_SIZE), None,
                         "reported, not judged: a camera may offer only other sizes"))
        out.append(_at_least("camera frame rate", cam["actual_fps"], MIN_FPS_SHARE * fps if fps else None,
                             f">= {MIN_FPS_SHARE:g} x negotiated {fps or 0:g} frames/s", "frames dropped: nods lose samples"))
        out.append(_at_most("camera jitter p95", cam["jitter_ms_p95"],
                            MAX_JITTER_INTERVALS * interval_ms if interval_ms else None,
                            f"<= {MAX_JITTER_INTERVALS:g} frame intervals", "frames in bursts: events shift by frames"))
        out.append(_at_most("camera capture to cue p95", cam["latency_ms_p95"], MAX_LATENCY_MS,
                            f"<= {MAX_LATENCY_MS:g} ms", "cues within two frames of the face"))
    if mic is not None:
        out.append(Limit("microphone rate", mic["rate"], f"== {MIC_RATE} Hz",
                         None if mic["rate"] is None else mic["rate"] == MIC_RATE, "the audio path runs at 16 kHz"))
        out.append(_at_most("microphone overflows", mic["overflows"], MAX_OVERFLOWS, f"<= {MAX_OVERFLOWS}",
                            "lost audio counts as pauses"))
        level = mic["level_dbfs"] if mic["blocks"] else None
        ok = None if not mic["blocks"] else level is not None and level > MIN_LEVEL_DBFS
        out.append(Limit("microphone level", level, f"> {MIN_LEVEL_DBFS:g} dBFS", ok,
                         "above the noise floor of an unplugged input"))
        out.append(_at_most("microphone clipping", mic["clipping_share"], MAX_CLIP_SHARE, f"< {MAX_CLIP_SHARE:.0%}",
                            "clipped speech misleads the voice activity", strict=True))
    return out


def _at_most(name, measured, bound, text, why, *, strict: bool = False) -> Limit:
    ok = None if measured is None or bound is None else (measured < bound if strict else measured <= bound)
    return Limit(name, measured, text, ok, why)


def _at_least(name, measured, bound, text, why) -> Limit:
    return Limit(name, measured, text, None if measured is None or bound is None else measured >= bound, why)


def limits_met(limits: list[Limit]) -> bool:
    """True when no limit failed (limits only reported or not measured do not fail)."""
    return all(lim.ok is not False for lim in limits)


def format_limits(limits: list[Limit]) -> str:
    """The limits as plain lines: PASS / FAIL / info, the measured value and the limit."""
    mark = {True: "PASS", False: "FAIL", None: "info"}
    return "\n".join(f"{mark[lim.ok]:<4}  {lim.name}: {format_number(lim.measured, 'g') if not isinstance(lim.measured, str) else lim.measured}"
                     f" ({lim.limit})" for lim in limits)


def format_number(x: float | None, spec: str) -> str:
    """`x` formatted with `spec`, or "n/a" when it was not measured."""
    return "n/a" if x is None else format(x, spec)
