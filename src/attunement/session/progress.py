"""How far a long piece of work is: the runners call `progress(stage, done, total)` as they go, and
whoever asked (the CLI's bar, a batch's counter) shows it. No callback, no cost."""

from __future__ import annotations

from collections.abc import Callable

#: progress(stage, done, total): `done` of `total` units (seconds of media, frames) of `stage`.
Progress = Callable[[str, float, float], None]

#: The stages of a review, in the order they run (the bar shows each with its share and time left).
VOICES, SPEAKERS, FACE, WORDS, SUMMARY = "voices", "speakers", "face and posture", "words", "summary"
#: Extracting the trained models from the installed wheel (first use only).
MODELS = "models"


def tell(progress: Progress | None, stage: str, done: float, total: float) -> None:
    """Report `done` of `total` for `stage` to `progress`, if there is one."""
    if progress is not None:
        progress(stage, float(done), float(total))
