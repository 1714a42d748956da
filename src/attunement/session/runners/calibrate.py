"""`attune calibrate`: a person's neutral baseline from the first seconds of a video or camera.

The person sits as they usually do and looks into the lens for `seconds` (5 s by default).
Face landmarks of those frames (mediapipe, no body pose) go to `cues.calibration.calibrate`,
which refuses, with one line saying why, a window without a face or with the person not
facing or not looking at the lens. The profile is kept per user under the XDG data folder.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ...config import Config
from ...cues.baseline_window import CalibrationWindow
from ...cues.calibration import Baseline
from ...errors import InputError
from ...perception.landmarks import FaceBodyLandmarker
from ...records import VideoFrame
from ...sources.video import VideoReader
from ..progress import FACE, SPEAKERS, VOICES, Progress, tell

log = logging.getLogger(__name__)

#: Longest calibration window accepted, seconds (the person holds still and looks at the lens).
MAX_SECONDS = 60.0


def default_profile_path() -> Path:
    """$XDG_DATA_HOME/attunement/profile.json (default ~/.local/share/attunement/profile.json).

    The folder is created with mode 0700 if missing; `save_profile` writes the file with 0600.
    """
    base = os.environ.get("XDG_DATA_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    folder = root / "attunement"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder / "profile.json"


def calibrate_from_frames(frames: Iterable[VideoFrame], *, config: Config, seconds: float = 5.0,
                          progress: Progress | None = None) -> Baseline:
    """Baseline from the frames (time order) within `seconds` of the first; stops reading after.

    Works for any frame source (a file's `VideoReader.frames()`, a camera). InputError (one line)
    when there are no frames or the baseline is refused (no face, head turned, not at the lens).
    """
    seconds = _check_seconds(seconds)
    perception = dataclasses.replace(config.perception, pose_rate_hz=0.0)  # the face is all it needs
    window = CalibrationWindow(seconds, config.cues)
    with FaceBodyLandmarker(perception) as marker:
        for frame in frames:
            if not window.add(marker.process(frame)):
                break
            tell(progress, FACE, frame.t - window.marks[0].t, seconds)
    log.debug("calibrating on %d frames", len(window.marks))
    tell(progress, FACE, seconds, seconds)
    return window.baseline()


def calibrate_from_video(path: str | Path, *, config: Config, seconds: float = 5.0,
                         progress: Progress | None = None) -> Baseline:
    """Baseline from the first `seconds` of the video file `path` (look at the lens, sit naturally).

    InputError (one line naming the file) when the file cannot be read or the baseline is refused.
    """
    seconds = _check_seconds(seconds)
    with VideoReader(path) as reader:
        try:
            baseline = calibrate_from_frames(reader.frames(), config=config, seconds=seconds, progress=progress)
        except InputError as e:
            raise InputError(f"{path}: {e}") from None
    return baseline


def _check_seconds(seconds: float) -> float:
    if not 0.5 <= float(seconds) <= MAX_SECONDS:
        raise InputError(f"--seconds {seconds}: the calibration window must last 0.5 to {MAX_SECONDS:g} s")
    return float(seconds)


def default_voice_path() -> Path:
    """$XDG_DATA_HOME/attunement/voice.json: the enrolled voice (`attune enroll`), next to the face profile."""
    return default_profile_path().with_name("voice.json")


def enroll_from_file(path: str | Path, *, config: Config, seconds: float | None = None,
                     progress: Progress | None = None):
    """A voice profile (conversation/voiceprint.py) from the first `seconds` (default all) of one
    person talking in the media file `path`; InputError naming the file when it cannot be made."""
    from ...conversation.voiceprint import enroll
    from ...sources.media import read_audio

    tell(progress, VOICES, 0, 1)
    x, _ = read_audio(path)  # 16 kHz, [channels, n]
    tell(progress, VOICES, 1, 1)
    x = x.mean(axis=0)
    if seconds is not None:
        x = x[: int(seconds * 16000)]
    tell(progress, SPEAKERS, 0, 1)
    try:
        profile = enroll(np.ascontiguousarray(x, np.float32), threads=config.diarization.nn_threads)
    except InputError as e:
        raise InputError(f"{path}: {e}") from None
    tell(progress, SPEAKERS, 1, 1)
    return profile
