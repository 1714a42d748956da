"""`attune session`: open the devices, run the live session with a calm preview, end cleanly.

The preview shows the camera image and a small recording dot, nothing else: no scores, no meters.
Ctrl-C, closing the window, Esc/q, `--duration` or the end of a replayed file end the session;
the review is saved either way.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from ...config import Config
from ...errors import InputError
from ...sources.devices import device_spec
from ..devices.preview import run_with_preview
from .live import LiveResult, run_session
from .streams import warm_up


def practise(*, config: Config, camera: str | None, mic: str | None, duration_s: float | None,
             window: bool, keep_media: bool, profile_path: str | None, calibrate_s: float = 0.0,
             channels_are_speakers: bool = False, num_speakers: int | None = None,
             me: str | None = None, words: bool = False, keep_words: bool | None = None,
             progress=None) -> LiveResult:
    """Run one live session with the given device specs ('none' skips one) and return its result.

    `calibrate_s` > 0 (and no `profile_path`): the first seconds, looking at the lens, calibrate the
    session's eye contact and leaning and are saved as the default profile (see run_session).
    `channels_are_speakers`: the microphone has one channel per person (a device is opened with two);
    else its sound is one shared microphone, diarized (`num_speakers`, `me` as for `attune review`)."""
    from ...cues.calibration import load_profile
    from ...perception.landmarks import FaceBodyLandmarker
    from ...sources.camera import Camera, list_cameras
    from ...sources.clock import SessionClock
    from ...sources.microphone import Microphone

    if duration_s is not None and not duration_s > 0:
        raise InputError(f"--duration must be > 0, got {duration_s}")
    cam_spec = camera if camera is not None else (list_cameras() or ["none"])[0]
    use_cam, use_mic = str(cam_spec).lower() != "none", str(mic).lower() != "none"
    if not (use_cam or use_mic):
        raise InputError("no camera and no microphone: nothing to practise with (see 'attune devices')")
    profile = load_profile(profile_path) if profile_path else None
    stop, clock, latest = threading.Event(), SessionClock(), {}
    with contextlib.ExitStack() as stack:
        marker = stack.enter_context(FaceBodyLandmarker(config.perception)) if use_cam else None
        if use_cam:
            warm_up(config)  # the first frame's cue code compiled before the camera runs
        cam = stack.enter_context(Camera(device_spec(cam_spec), clock=clock)) if use_cam else None
        mic_src = (stack.enter_context(Microphone(device_spec(mic), clock=clock,
                                                  channels=2 if channels_are_speakers else 1))
                   if use_mic else None)
        show = window and use_cam
        return run_with_preview(
            lambda: run_session(camera=cam, mic=mic_src, config=config, duration_s=duration_s, profile=profile,
                                keep_media=keep_media, stop=stop, landmarker=marker, words=words, keep_words=keep_words, progress=progress,
                                channels_are_speakers=channels_are_speakers, num_speakers=num_speakers, me=me,
                                calibrate_s=0.0 if profile is not None else calibrate_s,
                                on_frame=(lambda frame, marks: latest.update(frame=frame)) if show else None),
            stop=stop, latest=latest, show=show, name="attune-session")


def saved_message(result: LiveResult) -> str:
    folder = Path(result.folder)
    return f"Saved in {folder} (review.json, report.html)"
