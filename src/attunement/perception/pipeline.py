"""The schedules and threads behind `FaceBodyLandmarker.stream` (perception/landmarks.py): which
frames are measured at a given rate, and the queues between the decode, pose and face threads."""

from __future__ import annotations

import contextlib
import math
import queue
import threading
from collections.abc import Callable, Iterable

import numpy as np

from ..records import VideoFrame

#: A frame this early (s) still counts as on a tick: MKV/WebM round times to 1 ms, so a 15 fps frame
#: meant for the tick at 0.1333 s says 0.133 s.
SLACK_S = 2e-3
#: Pose measurements of a stream run with native stderr caught (the model talks on its first calls only).
_WATCHED_POSES = 3


class RateSchedule:
    """Which frames are measured (a pose; a face at an analysis rate): the first at or after each tick
    of period `every_s` (1/every_s a second whatever the frame rate; `SLACK_S` early counts, for
    containers that round times to the millisecond), any after the clock went back, all with `always`."""

    def __init__(self, every_s: float, *, always: bool = False):
        self.every_s, self.always = float(every_s), bool(always)
        self.last, self.next = math.nan, -math.inf

    def due(self, t: float) -> bool:
        """True if the frame at `t` (s) is measured (and counts it as measured; asked again, still True)."""
        if t == self.last:
            return True
        if not (self.always or math.isnan(self.last) or t < self.last or t >= self.next - SLACK_S):
            return False
        self.last, self.next = t, _next_due(self.next, t, self.every_s)
        return True


class FramePipeline:
    """The queues, schedules and stop flag between the threads of `FaceBodyLandmarker.stream`:
    `prepare(image)` checks a frame's image (on the decode thread), `quiet()` is the context the first
    `_WATCHED_POSES` pose measurements run in (catching native start-up chatter)."""

    def __init__(self, depth: int, face: RateSchedule, pose: RateSchedule | None, *,
                 prepare: Callable[[np.ndarray], np.ndarray], quiet: Callable[[], contextlib.AbstractContextManager]):
        self.stop = threading.Event()
        self.prepare, self.quiet = prepare, quiet
        self.face, self.pose = face, pose
        self.frames: queue.Queue = queue.Queue(max(int(depth), 1))
        self.to_pose: queue.Queue = queue.Queue(max(int(depth), 1))
        self.poses: queue.Queue = queue.Queue()
        self.poses_taken = 0

    def _put(self, q: queue.Queue, item) -> bool:
        while not self.stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                pass
        return False

    def wanted(self, t: float) -> bool:
        """Whether the frame at `t` is for the face or the pose (asking again for `t` answers the same)."""
        return self.face.due(t) | (self.pose is not None and self.pose.due(t))

    def feed(self, frames: Callable[..., Iterable[VideoFrame]]) -> None:
        """(decode thread) frames -> images for the pose; (frame, image, poses sent so far) for the face."""
        sent = 0
        try:
            for frame in frames(keep=self.wanted):
                image = self.prepare(frame.image)
                if self.pose is not None and self.pose.due(frame.t):
                    sent += 1
                    if not self._put(self.to_pose, (image, frame.t)):
                        return
                if self.face.due(frame.t) and not self._put(self.frames, (frame, image, sent)):
                    return
            self._put(self.frames, None)
        except BaseException as e:  # handed to the caller's thread, raised there
            self._put(self.frames, e)
        finally:
            self._put(self.to_pose, None)

    def serve(self, measure) -> None:
        """(pose thread) measure(image, t) of each image sent, results in order."""
        calls = 0
        while not self.stop.is_set():
            try:
                item = self.to_pose.get(timeout=0.05)
            except queue.Empty:
                continue
            if item is None:
                return
            calls += 1
            try:
                with self.quiet() if calls <= _WATCHED_POSES else contextlib.nullcontext():
                    self.poses.put(measure(*item))
            except BaseException as e:
                self.poses.put(e)
                return

    def next_frame(self):
        return _raised(self.frames.get())

    def next_pose(self):
        self.poses_taken += 1
        return _raised(self.poses.get())


def _raised(item):
    """`item`, raised if it is an exception another thread handed over."""
    if isinstance(item, BaseException):
        raise item
    return item


def _next_due(due: float, t: float, every: float) -> float:
    """The next tick of a schedule of period `every` after a measurement at `t`; restarts from `t` when behind."""
    nxt = due + every
    return nxt if t < nxt <= t + every + SLACK_S else t + every


class PoseBehind:
    """Pose on its own thread for a live camera (`FaceBodyLandmarker.process_live`): `give(image, t)`
    hands it one frame when it is `idle`, `take()` returns the newest finished measurement (None if
    none since the last take) without waiting, so the camera's thread waits for FaceMesh only.
    `measure(image, t)` runs on the thread; its first `_WATCHED_POSES` calls inside `quiet()`.
    An error there is raised by the next `take`. `close()` ends the thread."""

    def __init__(self, measure: Callable, quiet: Callable[[], contextlib.AbstractContextManager]):
        self.measure, self.quiet = measure, quiet
        self._todo: queue.SimpleQueue = queue.SimpleQueue()
        self._done = None
        self._busy = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="attune-pose", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        return not self._busy

    def give(self, image: np.ndarray, t: float) -> None:
        """Measure `image` (read-only while measured) of the frame at `t` s; only when `idle`."""
        if self._busy:
            raise RuntimeError("PoseBehind.give() while a pose is being measured")
        self._busy = True
        self._todo.put((image, t))

    def take(self):
        """The newest finished measurement (or None); an error of the thread is raised here."""
        with self._lock:
            done, self._done = self._done, None
        return _raised(done) if done is not None else None

    def close(self) -> None:
        self._todo.put(None)
        self._thread.join()

    def _run(self) -> None:
        calls = 0
        while (item := self._todo.get()) is not None:
            calls += 1
            try:
                with self.quiet() if calls <= _WATCHED_POSES else contextlib.nullcontext():
                    done = self.measure(*item)
            except BaseException as e:  # noqa: BLE001 - handed to the camera's thread
                done = e
            with self._lock:
                self._done = done
            self._busy = False
