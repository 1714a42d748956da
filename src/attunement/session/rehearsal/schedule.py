"""When the partner speaks next in a rehearsal: the schedule of lines, driven by the user's (echo-free) speech."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...config import RehearsalConfig, default_config
from ...errors import InputError
from ...records import PartnerLine
from .scenario import Scenario


class Rehearsal:
    """The schedule of the partner's lines, driven by the user's (echo-free) speech as it happens.

    Call `update(t, user_speaking)` once per voice-activity frame; it returns the index of the line
    to start now (play or show it), else None. A line expecting an answer is followed by the next
    once the user has spoken `min_answer_s` and then been silent `end_silence_s`, or, once the
    answer's longest expected length (answer_s[1]) has passed since the line ended, after half
    that silence (at once if the user never spoke).
    """

    def __init__(self, scenario: Scenario, durations: Sequence[float], *, config: RehearsalConfig | None = None,
                 start_s: float = 0.5, spoken: bool = True):
        if len(durations) != len(scenario.lines):
            raise InputError(f"{len(durations)} line durations for {len(scenario.lines)} lines of {scenario.name}")
        self.scenario = scenario
        self.durations = [float(d) for d in durations]
        self.config = config or default_config().rehearse
        self.spoken = spoken
        self.track: list[PartnerLine] = []
        self._due = float(start_s)
        self._heard = 0.0
        self._last_speech = -np.inf
        self._last_t: float | None = None
        self._finished = False

    @property
    def done(self) -> bool:
        """True once every line has been started and the last has ended (and its answer, if any)."""
        return self._finished

    def update(self, t: float, user_speaking: bool) -> int | None:
        """Advance to time `t`; the index of the line to start at `t`, or None."""
        if self._finished:
            return None
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t
        k = len(self.track)
        if k and t < self.track[-1].end:
            return None                                   # the partner is speaking
        if user_speaking:
            self._heard += dt
            self._last_speech = t
        if k and self.scenario.lines[k - 1].expects_answer and self._due == np.inf:
            self._answer_due(t)
        if t < self._due:
            return None
        if k == len(self.scenario.lines):
            self._finished = True
            return None
        line = self.scenario.lines[k]
        self.track.append(PartnerLine(t, t + self.durations[k], line.text, self.spoken))
        self._heard, self._last_speech = 0.0, -np.inf
        self._due = np.inf if line.expects_answer else t + self.durations[k] + self.config.line_pause_s
        return k

    def _answer_due(self, t: float) -> None:
        cfg = self.config
        ended = self.track[-1].end
        answered = self._heard >= cfg.min_answer_s and t - self._last_speech >= cfg.end_silence_s
        # past the longest expected answer: a shorter silence will do, but never cut the user off mid-word
        timed_out = (t - ended >= self.scenario.lines[len(self.track) - 1].answer_s[1]
                     and t - self._last_speech >= cfg.end_silence_s / 2)
        if answered or timed_out:
            self._due = t
