"""mediapipe's landmarkers kept for reuse in one process: the FaceMesh and Pose graphs and their models
are built once per process (once per thread reviewing a video at the same time), not once per video.

A batch worker reviews one video after another; building the two graphs costs about 0.1 s of CPU and
some 100 MB of short-lived allocations each time. A landmarker handed out by `video_landmarker` has no
memory of earlier videos: one used before is `reset()` first (graphs restarted, carried pose and
schedules cleared), so a video's landmarks are the same whatever was reviewed before it in the process.
A landmarker whose use ended in an exception is closed, never handed out again. The idle ones are
closed when the process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from collections.abc import Iterator

from ..config import PerceptionConfig
from .landmarks import FaceBodyLandmarker

log = logging.getLogger(__name__)

#: Idle landmarkers kept per setting: one per thread that reviews videos at once (a batch worker has one).
KEEP = 2

_idle: dict[PerceptionConfig, list[FaceBodyLandmarker]] = {}
_lock = threading.Lock()


@contextlib.contextmanager
def video_landmarker(config: PerceptionConfig) -> Iterator[FaceBodyLandmarker]:
    """A FaceBodyLandmarker (video mode) for `config` that has seen no frame: an idle one of this
    process, reset, or a new one; given back for the next video when the block ends without an error."""
    with _lock:
        idle = _idle.get(config)
        marker = idle.pop() if idle else None
    if marker is not None and marker.used:
        try:
            marker.reset()
        except Exception:  # a graph that cannot restart is replaced, not reused
            log.debug("a kept landmarker could not be reset; building a new one", exc_info=True)
            _close(marker)
            marker = None
    if marker is None:
        marker = FaceBodyLandmarker(config)
    ok = False
    try:
        yield marker
        ok = True
    finally:
        if ok:
            _give_back(config, marker)
        else:
            _close(marker)


def idle_landmarkers() -> int:
    """How many landmarkers this process keeps idle (all settings)."""
    with _lock:
        return sum(len(v) for v in _idle.values())


def close_idle() -> None:
    """Close every idle landmarker of this process (also done when it exits)."""
    with _lock:
        markers = [m for v in _idle.values() for m in v]
        _idle.clear()
    for m in markers:
        _close(m)


def _give_back(config: PerceptionConfig, marker: FaceBodyLandmarker) -> None:
    with _lock:
        idle = _idle.setdefault(config, [])
        if len(idle) < KEEP:
            idle.append(marker)
            return
    _close(marker)


def _close(marker: FaceBodyLandmarker) -> None:
    with contextlib.suppress(Exception):
        marker.close()


atexit.register(close_idle)
