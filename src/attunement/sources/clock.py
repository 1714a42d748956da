"""The session clock (seconds since the session started, from `time.monotonic`) and the bounded
hand-over queue that the live sources (camera, microphone) share.

Every live source stamps what it captures with one shared `SessionClock`, so camera frames,
audio blocks and cues line up on one time axis (t = 0 at session start).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import EndOfStream

log = logging.getLogger(__name__)


class SessionClock:
    """Seconds (float) since `start`, on the monotonic clock; `origin` is the monotonic time of t = 0."""

    def __init__(self, origin: float | None = None):
        self.origin = time.monotonic() if origin is None else float(origin)

    def now(self) -> float:
        """The session time now, s."""
        return time.monotonic() - self.origin

    def __call__(self) -> float:
        return self.now()

    def sleep_until(self, t: float, *, stop=None) -> bool:
        """Sleeps until session time `t` (s); returns False early if the `stop` Event is set."""
        while True:
            left = t - self.now()
            if left <= 0:
                return True
            if stop is not None:
                if stop.wait(min(left, 0.05)):
                    return False
            else:
                time.sleep(min(left, 0.05))


@dataclass
class SourceStats:
    """What a live source did so far: items `delivered` to the reader, `dropped` (queue full),
    `overflows` (device reported lost input), negotiated `width` x `height` at `fps` (camera)
    or `rate` Hz (microphone), and `gaps`: (start, end) session seconds with no input for
    longer than the source's gap limit."""

    delivered: int = 0
    dropped: int = 0
    overflows: int = 0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    rate: int = 0
    gaps: list[tuple[float, float]] = field(default_factory=list)


#: The capture thread's last item on a queue: end of stream (or the error that ended it).
END_OF_STREAM = object()  # the capture thread's last item: end of stream (or the error that ended it)


class LiveFeed:
    """A capture thread handing items to one reader through a bounded queue (what Camera and
    Microphone share). `drop_oldest=True` keeps the freshest items when the reader is slow
    (counted in `stats.dropped`); False makes the capture thread wait (replay at pace 0).
    Subclasses implement `_run()`, calling `_offer(item)`; the thread ends the stream on return.
    """

    def __init__(self, *, clock: SessionClock | None, queue_size: int, name: str):
        if int(queue_size) != queue_size or queue_size < 1:
            raise ValueError(f"queue_size must be a whole number >= 1, got {queue_size!r}")
        self.clock = clock if clock is not None else SessionClock()
        self.stats = SourceStats()
        self.name = name
        self._queue: queue.Queue = queue.Queue(maxsize=int(queue_size))
        self._stop = threading.Event()
        self._ended = False
        self._error: BaseException | None = None
        self._drop_oldest = True
        self._thread: threading.Thread | None = None

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._main, name=f"attune-{self.name}", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            self._run()
        except BaseException as e:  # handed to the reader, raised there once
            log.warning("%s: capture stopped: %s", self.name, e)
            self._error = e
        finally:
            self._offer(END_OF_STREAM)

    def _run(self) -> None:
        raise NotImplementedError

    def _offer(self, item) -> None:
        """Queues `item`; when full, drops the oldest (counted) or waits until there is room
        (or until `close()`, which may drop)."""
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                if not self._drop_oldest and not self._stop.is_set():
                    self._stop.wait(0.002)
                    continue
            try:
                old = self._queue.get_nowait()
                if old is not END_OF_STREAM:
                    self.stats.dropped += 1
            except queue.Empty:
                pass

    def read(self, timeout: float | None = None):
        """The next item, or None when none came within `timeout` s. After the last item,
        raises `EndOfStream` (again on every later call: never blocks after the end)."""
        if self._ended:
            raise EndOfStream(f"{self.name}: end of stream")
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is END_OF_STREAM:
            self._ended = True
            if self._error is not None and not isinstance(self._error, EndOfStream):
                error, self._error = self._error, None
                raise error
            raise EndOfStream(f"{self.name}: end of stream")
        self.stats.delivered += 1
        return item

    def __iter__(self) -> Iterator:
        """Items until the end of the stream."""
        while True:
            try:
                item = self.read(timeout=0.5)
            except EndOfStream:
                return
            if item is not None:
                yield item

    def close(self) -> None:
        """Stops capture and joins the thread; safe to call more than once."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
            if self._thread.is_alive():
                log.warning("%s: capture thread did not stop within 5 s", self.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
