"""The calibration window: the first seconds of a person's landmarks -> their Baseline.

One piece for `attune calibrate` (a file or camera, frames read until the window closes) and the
start of a live session (fed on the camera thread): the landmarks of the frames within `seconds`
of the first go to `calibration.calibrate`, which refuses with one line saying why.
"""

from __future__ import annotations

import dataclasses

from ..config import CueConfig
from ..errors import InputError
from ..records import Landmarks
from .calibration import Baseline, calibrate
from .face import stack_landmarks


class CalibrationWindow:
    """Collects landmarks (time order) for `seconds` after the first; `baseline()` calibrates once.

    `add` returns False once a frame falls past the window (the window is then closed); `baseline()`
    raises InputError ("calibration refused: ...") when there were no frames or `calibrate` refuses."""

    def __init__(self, seconds: float, config: CueConfig):
        self.seconds = float(seconds)
        self.config = dataclasses.replace(config, baseline_s=self.seconds)
        self.marks: list[Landmarks] = []
        self.closed = False
        self._result: Baseline | InputError | None = None

    def add(self, marks: Landmarks) -> bool:
        """Take one frame's landmarks; False (and nothing taken) once the window has closed."""
        if self.closed:
            return False
        if self.marks and marks.t >= self.marks[0].t + self.seconds:
            self.closed = True
            return False
        self.marks.append(marks)
        return True

    def baseline(self) -> Baseline:
        """The Baseline of the frames taken (closing the window); InputError if refused."""
        self.closed = True
        if self._result is None:
            try:
                if not self.marks:
                    raise InputError("calibration refused: no video frames")
                faces, times, size = stack_landmarks(self.marks)
                self._result = calibrate(faces, times, size, config=self.config, start_s=float(times[0]))
            except InputError as e:
                self._result = e
            self.marks = []  # the window's landmarks are not needed any more
        if isinstance(self._result, InputError):
            raise self._result
        return self._result
