"""The rehearsal partner's voice: each line spoken with espeak-ng, or shown on screen when it is absent.

The partner's audio is known sample for sample, so its speaking times on the session clock are
exact (PartnerTrack), and its echo in the microphone can be told from the user (rehearse.py).
Playback to the speakers (sounddevice.play) belongs to the live runner; here are the audio and times.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ...errors import InputError
from ...sources.media import read_audio

log = logging.getLogger(__name__)

#: Debian package that provides the partner's voice.
ESPEAK_PACKAGE = "espeak-ng"
#: Reading pace of a line shown on screen instead of spoken (words per second, ~160 words/min,
#: the espeak-ng rate used for speech).
SHOWN_WORDS_PER_S = 160 / 60


def espeak_available() -> bool:
    """True when the espeak-ng program is on PATH."""
    return shutil.which("espeak-ng") is not None


def speak(text: str, *, rate: int = 16000, voice: str = "en-us", words_per_min: int = 160) -> np.ndarray:
    """One line synthesized by espeak-ng: float32 mono [n] at `rate` Hz, leading/trailing silence trimmed.

    Raises InputError when espeak-ng is missing (Debian package espeak-ng) or fails on the text.
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise InputError(f"espeak-ng not found: install the Debian package {ESPEAK_PACKAGE} for a spoken partner")
    with tempfile.TemporaryDirectory(prefix="attune-partner-") as tmp:
        out = Path(tmp) / "line.wav"
        done = subprocess.run([exe, "-w", str(out), "-v", voice, "-s", str(int(words_per_min)), text],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0 or not out.is_file():
            raise InputError(f"espeak-ng failed on {text[:40]!r}: {done.stderr.strip() or done.returncode}")
        audio, _ = read_audio(out, rate=rate)
    mono = audio.mean(axis=0).astype(np.float32)
    return trim_silence(mono, rate=rate)


def trim_silence(x: np.ndarray, *, rate: int, floor_db: float = -50.0) -> np.ndarray:
    """`x` without its leading and trailing 10 ms frames quieter than `floor_db` below its peak frame."""
    hop = max(1, rate // 100)
    n = len(x) // hop
    if n == 0:
        return x
    energy = np.sqrt(np.mean(x[:n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1))
    level = 20 * np.log10(energy + 1e-12)
    loud = np.flatnonzero(level > level.max() + floor_db)
    return x[loud[0] * hop:(loud[-1] + 1) * hop].copy()


def shown_duration(text: str) -> float:
    """Seconds a line stays on screen when it cannot be spoken: its words at SHOWN_WORDS_PER_S, at least 1.5 s."""
    return max(1.5, len(text.split()) / SHOWN_WORDS_PER_S)


class PartnerVoice:
    """Audio for each line: espeak-ng when installed (and `spoken`), else None (the line is shown on screen)."""

    def __init__(self, *, rate: int = 16000, spoken: bool | None = None, voice: str = "en-us",
                 words_per_min: int = 160):
        self.rate = rate
        self.spoken = espeak_available() if spoken is None else bool(spoken)
        if self.spoken and not espeak_available():
            raise InputError(f"espeak-ng not found: install the Debian package {ESPEAK_PACKAGE}, "
                             "or rehearse with the lines shown on screen")
        if not self.spoken:
            log.info("partner lines shown on screen: espeak-ng (Debian package %s) not used", ESPEAK_PACKAGE)
        self.voice = voice
        self.words_per_min = words_per_min
        self._cache: dict[str, np.ndarray] = {}

    def audio(self, text: str) -> np.ndarray | None:
        """float32 [n] at `rate` Hz for the line, or None when shown instead of spoken."""
        if not self.spoken:
            return None
        if text not in self._cache:
            self._cache[text] = speak(text, rate=self.rate, voice=self.voice, words_per_min=self.words_per_min)
        return self._cache[text]

    def duration(self, text: str) -> float:
        """Seconds the line takes, spoken or shown."""
        audio = self.audio(text)
        return shown_duration(text) if audio is None else len(audio) / self.rate
