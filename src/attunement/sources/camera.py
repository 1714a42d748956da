"""Live video: a webcam through OpenCV, or a file replayed at real-time pace, on the session clock.

A capture thread stamps each frame with the session clock the moment it is captured (a
replayed file: with its media time, and releases it when the clock gets there) and hands it to the
reader through a small bounded queue; when the reader falls behind the oldest frames are
dropped and counted, so cues always see fresh frames. A camera that delivers nothing for
longer than `gap_s` is noted in `stats.gaps`; one that keeps failing for `give_up_s` ends
the stream cleanly (EndOfStream), never hangs.
"""

from __future__ import annotations

import logging
import os
import re
from collections import deque

from ..errors import InputError
from ..records import VideoFrame
from .clock import LiveFeed, SessionClock
from .video import VideoReader

log = logging.getLogger(__name__)

#: A device that delivers no frame for longer than this (s) is reported as a gap.
GAP_S = 2.0
#: A device whose reads keep failing for this long (s) ends the stream.
GIVE_UP_S = 10.0
#: Capture times kept for `capture_times` (at 30 fps: two minutes).
CAPTURE_TIMES = 3600
_DEVICE = re.compile(r"^(\d+|/dev/video\d+)$")


def is_device(source: int | str | os.PathLike) -> bool:
    """True for a camera index (0, "0"), a /dev/video* path or a camera's name (no dot, no slash,
    not an existing file, e.g. "HD Pro Webcam C920"); False for a media file."""
    if isinstance(source, int):
        return True
    text = os.fspath(source)
    return bool(_DEVICE.match(text)) or not (os.path.exists(text) or "." in text or os.sep in text)


def camera_by_name(name: str) -> str:
    """The /dev/video* path of the camera whose V4L2 name contains `name` (case-insensitive)."""
    names = camera_names()
    found = [path for path, label in names.items() if name.lower() in label.lower()]
    if not found:
        have = ", ".join(f"{p} ({label})" for p, label in names.items()) or "none found"
        raise InputError(f"camera {name!r}: no camera by that name (cameras: {have})")
    return found[0]


def camera_names() -> dict[str, str]:
    """{/dev/videoN: its V4L2 name} from sysfs (Linux); empty elsewhere."""
    out = {}
    for path in list_cameras():
        try:
            with open(f"/sys/class/video4linux/{os.path.basename(path)}/name") as f:
                out[path] = f.read().strip()
        except OSError:
            out[path] = ""
    return out


class Camera(LiveFeed):
    """RGB `VideoFrame`s from a camera (`source` an index, a /dev/video* path or part of the
    camera's name; `width` x `height` at `fps` requested, `stats` says what was negotiated)
    or from a media file replayed at `pace` x real time (0 = as fast as the reader takes them, nothing dropped; frames at most
    `width` wide). A replayed frame is stamped `start` + its media time (`start` default: now)
    and released when the session clock reaches `start` + media time / `pace`.
    `backend="opencv"` reads any source OpenCV opens (a stream URL, a file) the way a camera is
    read: as fast as it delivers, stamped on arrival.
    `read(timeout) -> VideoFrame | None`. Use as a context manager.
    """

    def __init__(self, source: int | str | os.PathLike, *, width: int = 640, height: int = 480,
                 fps: float = 30, clock: SessionClock | None = None, pace: float = 1.0,
                 start: float | None = None, queue_size: int = 2, gap_s: float = GAP_S,
                 give_up_s: float = GIVE_UP_S, backend: str = "auto"):
        if not (pace >= 0):
            raise ValueError(f"pace must be >= 0, got {pace!r}")
        if backend not in ("auto", "opencv", "pyav"):
            raise ValueError(f"backend must be 'auto', 'opencv' or 'pyav', got {backend!r}")
        super().__init__(clock=clock, queue_size=queue_size, name=f"camera {os.fspath(source)}")
        self.source, self.pace, self.gap_s, self.give_up_s = source, float(pace), gap_s, give_up_s
        self.device = backend == "opencv" or (backend == "auto" and is_device(source))
        self._cap = self._reader = None
        #: Session times of the latest captured frames (delivered or dropped), for rate and jitter.
        self.capture_times: deque[float] = deque(maxlen=CAPTURE_TIMES)
        if self.device:
            self._cap = _open_device(source, width, height, fps, as_is=backend == "opencv")
            self.stats.width = int(self._cap.get(_cv2().CAP_PROP_FRAME_WIDTH))
            self.stats.height = int(self._cap.get(_cv2().CAP_PROP_FRAME_HEIGHT))
            self.stats.fps = float(self._cap.get(_cv2().CAP_PROP_FPS))
        else:
            self._reader = VideoReader(source, max_width=width)
            info = self._reader.info
            self.stats.width, self.stats.height, self.stats.fps = info.width, info.height, info.fps
            self._drop_oldest = self.pace > 0
        self.start = self.clock.now() if start is None else float(start)
        self._start()

    @property
    def replay(self) -> bool:
        """True when a media file is replayed instead of a device."""
        return self._reader is not None

    @property
    def problems(self) -> list[str]:
        """Notes about a damaged replayed file (empty for a device)."""
        return self._reader.problems if self._reader is not None else []

    def _run(self) -> None:
        if self.device:
            self._run_device()
        else:
            self._run_file()

    def _run_file(self) -> None:
        try:
            for frame in self._reader.frames():
                # a replayed frame was "captured" at its media time; it is released then / pace
                t, release = self.start + frame.t, self.start + frame.t / (self.pace or 1.0)
                if self.pace > 0 and not self.clock.sleep_until(release, stop=self._stop) or self._stop.is_set():
                    return
                self.capture_times.append(t)
                self._offer(VideoFrame(frame.image, t, frame.index))
        finally:
            self._reader.close()

    def _run_device(self) -> None:
        cv2, cap = _cv2(), self._cap
        index, last, failing_since = 0, None, None  # no gap before the first frame: cameras warm up
        try:
            while not self._stop.is_set():
                ok, bgr = cap.read()
                t = self.clock.now()
                if not ok or bgr is None:
                    failing_since = t if failing_since is None else failing_since
                    if t - failing_since > self.give_up_s:
                        log.warning("%s: no frames for %.1f s, ending", self.name, t - failing_since)
                        self.stats.gaps.append((failing_since if last is None else last, t))
                        return
                    self._stop.wait(0.01)
                    continue
                failing_since = None
                if last is not None and t - last > self.gap_s:
                    self.stats.gaps.append((last, t))
                last = t
                self.capture_times.append(t)
                self._offer(VideoFrame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t, index))
                index += 1
        finally:
            cap.release()


def _cv2():
    import cv2  # OpenCV comes with mediapipe; imported here so a file replay never needs it

    return cv2


def _open_device(source, width: int, height: int, fps: float, *, as_is: bool = False):
    """An opened cv2.VideoCapture asked for `width` x `height` at `fps`; InputError if it cannot open.
    `as_is`: hand `source` to OpenCV unchanged (a stream URL, a file), no name look-up."""
    cv2 = _cv2()
    spec = os.fspath(source) if not isinstance(source, int) else source
    if isinstance(spec, str) and not _DEVICE.match(spec) and not as_is:
        spec = camera_by_name(spec)
    target = int(spec) if isinstance(spec, str) and spec.isdigit() else spec
    if isinstance(target, str) and not as_is and not os.path.exists(target):
        raise InputError(f"camera {target}: no such device")
    cap = cv2.VideoCapture(target)
    if not cap.isOpened():
        cap.release()
        raise InputError(f"camera {spec}: cannot open it (in use, no permission, or not a camera)")
    cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    cap.set(cv2.CAP_PROP_FPS, fps)
    cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # fresh frames, not a backlog
    return cap


def list_cameras() -> list[str]:
    """The /dev/video* device paths present (Linux), sorted."""
    return sorted((f"/dev/{n}" for n in os.listdir("/dev") if re.fullmatch(r"video\d+", n)),
                  key=lambda p: int(p[10:])) if os.path.isdir("/dev") else []


__all__ = ["Camera", "is_device", "list_cameras"]
