"""Contiguous audio from a live source: blocks lost before a block (an overflow, dropped blocks)
become silence, samples heard twice are cut. The VAD and the speaker strategies need blocks that
follow each other sample for sample; the live session and the rehearsal both mend through this."""

from __future__ import annotations

import logging

import numpy as np

from ..records import AudioBlock

log = logging.getLogger(__name__)


class AudioMender:
    """Feeds blocks through `mend`; `end` is the session time just after the last sample passed on
    (None before any), `filled_s` the seconds of lost input filled with silence so far."""

    def __init__(self) -> None:
        self.end: float | None = None
        self.filled_s = 0.0

    def mend(self, block: AudioBlock) -> AudioBlock | None:
        """`block` made to start at `end`: a gap before it filled with zeros, samples already passed
        on cut; None if nothing new is left. The first block passes as it is."""
        if self.end is not None:
            missing = int(round((block.t0 - self.end) * block.rate))
            if missing > 0:
                log.info("%.2f s of microphone input lost at %.2f s: counted as silence", missing / block.rate, self.end)
                self.filled_s += missing / block.rate
                pad = np.zeros((block.samples.shape[0], missing), np.float32)
                block = AudioBlock(np.concatenate([pad, block.samples], axis=1), self.end, block.rate)
            elif missing < 0:
                cut = -missing
                if cut >= block.samples.shape[1]:
                    return None
                block = AudioBlock(block.samples[:, cut:], self.end, block.rate)
        self.end = block.t0 + block.duration
        return block
