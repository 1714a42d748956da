"""`attune check`: measure what the camera and microphone really deliver before a live session.

Camera: negotiated size and frame rate, the rate actually captured, frame-interval jitter,
and capture-to-cue latency (capture stamp to after landmarks and the per-frame cue kernels).
Microphone: sample rate, overflows, input level (dBFS) and the share of clipped samples.
Works the same with replayed files (`Camera("clip.mp4")`, `Microphone("talk.wav")`).
`check_limits` judges a result against the limits a live session needs (the constants below;
`pytest -m hil` on real devices, docs/hil.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import threading
from typing import Any

import numpy as np

from ...config import Config, CueConfig, default_config
from ...cues.frame import frame_cues
from ...errors import EndOfStream, InputError
from ...perception.landmarks import FaceBodyLandmarker, Landmarker
from ...records import FACE_POINTS, POSE_POINTS, Landmarks
from ...sources.camera import Camera, list_cameras
from ...sources.clock import SessionClock
from ...sources.devices import device_spec
from ...sources.microphone import Microphone
from .limits import Limit, check_limits, format_limits, format_number

log = logging.getLogger(__name__)

#: A sample at or above this magnitude (full scale 1.0) counts as clipped.
CLIP_LEVEL = 0.999
#: Notes are added when: the captured rate is below this share of the negotiated one,
_SLOW_SHARE = 0.8
#: more than this share of samples clipped, the input level (RMS) below this (dBFS),
_CLIP_SHARE, _QUIET_DBFS = 0.001, -60.0
#: or capture-to-cue latency p95 above this (ms).
_LATE_MS = 250.0
_NO_FACE = Landmarks(t=0.0, size=(640, 480), face=np.full((FACE_POINTS, 3), np.nan, np.float32),
                     pose=np.full((POSE_POINTS, 4), np.nan, np.float32),
                     pose_world=np.full((POSE_POINTS, 3), np.nan, np.float32))


def check_devices(camera: Camera | None, mic: Microphone | None, seconds: float, *,
                  config: Config | None = None, landmarker: Landmarker | None = None) -> dict[str, Any]:
    """Reads both (opened) sources for `seconds` s of session time, or until both end, and
    returns the measurements as a JSON-ready dict ({"seconds", "camera", "microphone", "notes"})."""
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds!r}")
    if camera is None and mic is None:
        raise ValueError("check_devices needs a camera, a microphone or both")
    config = config if config is not None else default_config()
    clock = camera.clock if camera is not None else mic.clock
    own = camera is not None and landmarker is None
    if own:
        landmarker = FaceBodyLandmarker(config.perception)
    try:
        return _check(camera, mic, seconds, clock, config, landmarker)
    finally:
        if own:
            landmarker.close()


def _check(camera, mic, seconds, clock, config, landmarker) -> dict[str, Any]:
    """check_devices after set-up: the measurement starts once the cue kernels are compiled."""
    frame_cues(_NO_FACE, config.cues)  # load the compiled kernels before the clock starts
    t_begin = clock.now()
    until = t_begin + seconds
    audio = _AudioMeter(mic, until)
    thread = None
    if mic is not None:
        thread = threading.Thread(target=audio.run, name="attune-check-mic", daemon=True)
        thread.start()
    video = None
    if camera is not None:
        video = _watch(camera, t_begin, until, landmarker, config.cues)
    if thread is not None:
        thread.join()
    result = {"seconds": round(clock.now() - t_begin, 3),
              "camera": video, "microphone": audio.result() if mic is not None else None}
    result["notes"] = _notes(result)
    return result


def _watch(camera: Camera, begin: float, until: float, marker: Landmarker, cues: CueConfig) -> dict[str, Any]:
    """Landmarks and per-frame cues of every frame captured from `begin` and read until `until`
    (session s); capture timing and capture-to-cue latency."""
    latency, faces, ended = [], 0, False
    dropped_before = camera.stats.dropped
    process = getattr(marker, "process_live", marker.process)  # as a session measures frames (VideoPath)
    while camera.clock.now() < until:
        try:
            frame = camera.read(timeout=0.2)
        except EndOfStream:
            ended = True
            break
        if frame is None or frame.t < begin:  # queued while the kernels were loading
            continue
        marks = process(frame)
        frame_cues(marks, cues)
        latency.append(camera.clock.now() - frame.t)
        faces += marks.has_face
    times = np.array([t for t in camera.capture_times.copy() if t >= begin])  # copy: C-level, atomic
    stats = camera.stats
    return {
        "source": os.fspath(camera.source) if not isinstance(camera.source, int) else camera.source,
        "negotiated": {"width": stats.width, "height": stats.height, "fps": round(stats.fps, 3)},
        "frames_captured": int(times.size), "frames_processed": len(latency), "dropped": stats.dropped - dropped_before,
        **frame_timing(times),
        "latency_ms_p50": _ms(np.percentile(latency, 50)) if latency else None,
        "latency_ms_p95": _ms(np.percentile(latency, 95)) if latency else None,
        "face_share": round(faces / len(latency), 3) if latency else None,
        "gaps": [[round(a, 3), round(b, 3)] for a, b in stats.gaps],
        "ended": ended, "problems": list(camera.problems)}


def frame_timing(times: np.ndarray) -> dict[str, float | None]:
    """Capture timing of frames stamped at `times` (s, increasing [n]): actual_fps (frames per second
    between the first and last stamp), interval_ms_p50 (median interval) and jitter_ms_p95 (95th
    percentile of each interval's distance from the median, ms); None where fewer than 2 frames."""
    steps = np.diff(np.asarray(times, np.float64))
    return {"actual_fps": _round(steps.size / (times[-1] - times[0])) if steps.size and times[-1] > times[0] else None,
            "interval_ms_p50": _ms(np.median(steps)) if steps.size else None,
            "jitter_ms_p95": _ms(np.percentile(np.abs(steps - np.median(steps)), 95)) if steps.size else None}


class _AudioMeter:
    """Drains a microphone until a session time, keeping level, peak and clipping counts."""

    def __init__(self, mic: Microphone | None, until: float):
        self.mic, self.until = mic, until
        self.blocks = self.samples = self.clipped = 0
        self.energy, self.peak, self.ended = 0.0, 0.0, False
        self.first_t = self.last_end = None

    def run(self) -> None:
        mic = self.mic
        while mic.clock.now() < self.until:
            try:
                block = mic.read(timeout=0.2)
            except EndOfStream:
                self.ended = True
                return
            if block is None:
                continue
            x = block.samples
            self.blocks += 1
            self.samples += x.size
            self.energy += float(np.dot(x.ravel(), x.ravel()))
            self.peak = max(self.peak, float(np.max(np.abs(x))) if x.size else 0.0)
            self.clipped += int(np.count_nonzero(np.abs(x) >= CLIP_LEVEL))
            self.first_t = block.t0 if self.first_t is None else self.first_t
            self.last_end = block.t0 + block.duration

    def result(self) -> dict[str, Any]:
        mic, stats = self.mic, self.mic.stats
        rms = math.sqrt(self.energy / self.samples) if self.samples else 0.0
        return {
            "source": os.fspath(mic.device) if mic.device is not None else "default",
            "rate": stats.rate, "blocks": self.blocks,
            "seconds": round(self.last_end - self.first_t, 3) if self.blocks else 0.0,
            "overflows": stats.overflows, "dropped": stats.dropped,
            "level_dbfs": _db(rms), "peak_dbfs": _db(self.peak),
            "clipping_share": round(self.clipped / self.samples, 5) if self.samples else None,
            "ended": self.ended, "problems": list(mic.problems)}


def _notes(result: dict[str, Any]) -> list[str]:
    """Plain-language hints about what the numbers mean for a session."""
    notes = []
    cam, mic = result["camera"], result["microphone"]
    if cam is not None:
        fps = cam["negotiated"]["fps"]
        if cam["actual_fps"] is not None and fps and cam["actual_fps"] < _SLOW_SHARE * fps:
            notes.append(f"the camera delivered {cam['actual_fps']:.1f} frames/s of the {fps:.0f} it promised "
                         "(more light often helps)")
        if cam["latency_ms_p95"] is not None and cam["latency_ms_p95"] > _LATE_MS:
            notes.append(f"cues lag the camera by up to {cam['latency_ms_p95']:.0f} ms; a smaller frame size helps")
        if cam["face_share"] is not None and cam["face_share"] < 0.5:
            notes.append("no face was in view for most of the check")
        if cam["gaps"]:
            notes.append(f"the camera stopped delivering {len(cam['gaps'])} time(s)")
    if mic is not None:
        if mic["overflows"] or mic["dropped"]:
            notes.append(f"the microphone lost input {mic['overflows'] + mic['dropped']} time(s)")
        if mic["clipping_share"] is not None and mic["clipping_share"] > _CLIP_SHARE:
            notes.append("the microphone clips: turn its input level down")
        if mic["blocks"] and (mic["level_dbfs"] is None or mic["level_dbfs"] < _QUIET_DBFS):
            notes.append("the microphone is nearly silent: check it is not muted")
    return notes


# --- pass/fail limits: what a live session needs from the devices (`pytest -m hil`, `attune check`) ---



def run_check(camera: str | None = None, mic: str | None = None, *, seconds: float = 5.0,
              config: Config | None = None) -> dict[str, Any]:
    """`attune check`: opens the camera (`camera`: index, /dev/video*, name or a file to replay;
    None = the first camera, skipped with a note when there is none; "none" = skip) and the
    microphone (`mic`: PortAudio index or name, or a file; None = the default; "none" = skip),
    loads the landmarker first, then runs `check_devices` for `seconds`."""
    config = config if config is not None else default_config()
    notes = []
    if camera is None:
        found = list_cameras()
        camera = found[0] if found else "none"
        if not found:
            notes.append("no camera found (no /dev/video* device): only the microphone was checked")
    use_camera, use_mic = str(camera).lower() != "none", str(mic).lower() != "none"
    if not (use_camera or use_mic):
        raise InputError("nothing to check: no camera and no microphone")
    clock = SessionClock()
    with contextlib.ExitStack() as stack:
        marker = stack.enter_context(FaceBodyLandmarker(config.perception)) if use_camera else None
        frame_cues(_NO_FACE, config.cues)
        cam = stack.enter_context(Camera(device_spec(camera), clock=clock)) if use_camera else None
        microphone = stack.enter_context(Microphone(device_spec(mic), clock=clock)) if use_mic else None
        result = check_devices(cam, microphone, seconds, config=config, landmarker=marker)
    result["notes"] = notes + result["notes"]
    result["limits"] = [dataclasses.asdict(lim) for lim in check_limits(result)]
    return result


def format_check(result: dict[str, Any]) -> str:
    """The check as a few plain lines for the terminal."""
    lines = []
    cam, mic = result["camera"], result["microphone"]
    if cam is not None:
        neg = cam["negotiated"]
        lines.append(f"camera {cam['source']}: {neg['width']}x{neg['height']} at {neg['fps']:g} frames/s "
                     f"negotiated, {format_number(cam['actual_fps'], '.1f')} frames/s delivered, "
                     f"jitter p95 {format_number(cam['jitter_ms_p95'], '.1f')} ms, {cam['dropped']} dropped")
        lines.append(f"  capture to cues: p50 {format_number(cam['latency_ms_p50'], '.0f')} ms, "
                     f"p95 {format_number(cam['latency_ms_p95'], '.0f')} ms; face in view "
                     f"{format_number(None if cam['face_share'] is None else 100 * cam['face_share'], '.0f')}% of frames")
    if mic is not None:
        lines.append(f"microphone {mic['source']}: {mic['rate']} Hz, level {format_number(mic['level_dbfs'], '.1f')} dBFS, "
                     f"peak {format_number(mic['peak_dbfs'], '.1f')} dBFS, clipping "
                     f"{format_number(None if mic['clipping_share'] is None else 100 * mic['clipping_share'], '.2f')}%, "
                     f"{mic['overflows']} overflows, {mic['dropped']} dropped")
    lines += [f"note: {n}" for n in result["notes"]]
    if result.get("limits"):
        lines += ["limits for a live session:"] + ["  " + ln for ln in
                                                   format_limits([Limit(**d) for d in result["limits"]]).split("\n")]
    return "\n".join(lines)


def format_devices(devices: dict[str, Any]) -> str:
    """`attune devices` as plain lines."""
    lines = ["cameras:"] + [f"  {c['path']}: {c['name']}" for c in devices["cameras"]]
    if not devices["cameras"]:
        lines.append("  (none found)")
    lines.append("microphones:")
    lines += [f"  {m['index']}: {m['name']} ({m['channels']} ch, {m['rate']:g} Hz)" for m in devices["microphones"]]
    if not devices["microphones"]:
        lines.append("  (none found)")
    lines += [f"note: {n}" for n in devices.get("notes", ())]
    return "\n".join(lines)


def _ms(seconds: float) -> float:
    return round(float(seconds) * 1000.0, 2)


def _round(x: float) -> float:
    return round(float(x), 3)


def _db(x: float) -> float | None:
    return round(20.0 * math.log10(x), 2) if x > 0 else None


