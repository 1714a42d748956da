"""The progress bar of long commands: the stage, the share done and the time left, on standard
error, drawn by rich. Only on a terminal, only once the work has run about two seconds, never
with --quiet; piped or CI output stays clean."""

from __future__ import annotations

import os
import sys
import time

#: The bar appears only for work that has run this long, s.
DELAY_S = 2.0


def wanted(quiet: bool = False, stream=None) -> bool:
    """Whether to draw a bar: a terminal on standard error, not --quiet, not a dumb terminal."""
    stream = stream if stream is not None else sys.stderr
    return (not quiet and hasattr(stream, "isatty") and stream.isatty()
            and os.environ.get("TERM", "") != "dumb")


class Bar:
    """A `session.progress.Progress` callback that draws one rich task per stage (created when the
    stage first reports), started only after DELAY_S; `close()` completes and removes the display.
    With `enabled=False` it only counts, drawing nothing."""

    def __init__(self, *, enabled: bool, delay_s: float = DELAY_S):
        self.enabled, self.delay_s = enabled, delay_s
        self.t0 = time.monotonic()
        self._progress = None
        self._tasks: dict[str, int] = {}
        self._last: dict[str, tuple[float, float]] = {}

    def __call__(self, stage: str, done: float, total: float) -> None:
        self._last[stage] = (done, total)
        if not self.enabled:
            return
        if self._progress is None:
            if time.monotonic() - self.t0 < self.delay_s:
                return
            self._start()
        self._show(stage, done, total)

    @property
    def drawing(self) -> bool:
        """Whether the bar is on the terminal now."""
        return self._progress is not None

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(TextColumn("{task.description:<17}"), BarColumn(), TaskProgressColumn(),
                                  TextColumn("left"), TimeRemainingColumn(),
                                  console=Console(file=sys.stderr), transient=False, refresh_per_second=8)
        self._progress.start()
        for stage, (done, total) in self._last.items():  # what happened before the bar appeared
            self._show(stage, done, total)

    def _show(self, stage: str, done: float, total: float) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=max(total, 1e-9))
        self._progress.update(self._tasks[stage], completed=min(done, total), total=max(total, 1e-9))

    def close(self) -> None:
        """Mark every stage done and stop drawing (the final state stays on the terminal)."""
        if self._progress is not None:
            for stage, task in self._tasks.items():
                total = self._last.get(stage, (1.0, 1.0))[1]
                self._progress.update(task, completed=max(total, 1e-9), total=max(total, 1e-9))
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
