"""The calm preview window of a live session, and Ctrl-C handling around the session's worker thread."""

from __future__ import annotations

import signal
import threading

import numpy as np

#: The recording dot: a calm blue (Okabe-Ito), never red.
DOT_BGR = (178, 114, 0)


def run_with_preview(fn, *, stop: threading.Event, latest: dict, show: bool, name: str):
    """Run `fn()` on a worker thread while this (main) thread shows the calm preview of `latest["frame"]`.

    Ctrl-C sets `stop` instead of raising, so the session ends with its review; an error in the
    worker also sets `stop` and is raised here. Returns what `fn` returned.
    """
    box: dict = {}

    def work():
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the main thread, raised there
            box["error"] = e
            stop.set()

    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        worker = threading.Thread(target=work, name=name)
        worker.start()
        if show:
            _preview(worker, latest, stop)
        worker.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    if "error" in box:
        raise box["error"]
    return box["result"]


def _preview(worker: threading.Thread, latest: dict, stop: threading.Event) -> None:
    """The calm window on the main thread (OpenCV's GUI must live there)."""
    import cv2

    name = "attunement (Esc or q to end)"
    try:
        cv2.namedWindow(name, cv2.WINDOW_NORMAL)
    except cv2.error:  # no display: go on without the preview
        worker.join()
        return
    while worker.is_alive():
        frame = latest.get("frame")
        if frame is not None:
            cv2.imshow(name, _with_dot(cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR)))
        key = cv2.waitKey(30)
        if key in (27, ord("q")) or cv2.getWindowProperty(name, cv2.WND_PROP_VISIBLE) < 1:
            stop.set()
    cv2.destroyAllWindows()


def _with_dot(image: np.ndarray) -> np.ndarray:
    import cv2

    out = image.copy()
    cv2.circle(out, (18, 18), 7, DOT_BGR, -1, lineType=cv2.LINE_AA)
    return out
