"""16-bit PCM WAV files written from float samples: whole (demo, tests) or block by block (a
session's kept audio, created 0600)."""

from __future__ import annotations

import os
import wave

import numpy as np

from ..errors import InputError


class WavWriter:
    """A 16-bit PCM WAV written block by block: float [channels, n] samples in [-1, 1] (clipped).

    `private=True` creates the file with mode 0600 (a session's kept audio). The header is set by
    the first block (or at `close`, an empty but valid file with `channels` and `rate`)."""

    def __init__(self, path: str | os.PathLike, *, channels: int = 1, rate: int = 16000, private: bool = False):
        self.path, self.channels, self.rate = path, int(channels), int(rate)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o666)
            self._file = os.fdopen(fd, "wb")
        except OSError as e:
            raise InputError(f"{os.fspath(path)}: cannot write the WAV file ({e.strerror or e})") from None
        self._wav = wave.open(self._file, "wb")  # noqa: SIM115 (closed in close)
        self._set = False

    def write(self, samples: np.ndarray, rate: int | None = None) -> None:
        """Append float samples [channels, n] (at `rate` Hz; the first block's rate holds)."""
        samples = np.asarray(samples)
        if samples.ndim != 2 or samples.shape[0] < 1:
            raise ValueError(f"samples must be [channels, n] with at least one channel, got shape {samples.shape}")
        if not np.all(np.isfinite(samples)):
            raise ValueError("samples hold NaN or infinite values")
        if not self._set:
            self._header(samples.shape[0], self.rate if rate is None else rate)
        pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
        self._wav.writeframes(np.ascontiguousarray(pcm.T).tobytes())

    def _header(self, channels: int, rate: int) -> None:
        if int(rate) != rate or rate <= 0:
            raise ValueError(f"rate must be a positive whole number of Hz, got {rate!r}")
        self._wav.setparams((int(channels), 2, int(rate), 0, "NONE", "not compressed"))
        self._set = True

    def close(self) -> None:
        if not self._set:
            self._header(self.channels, self.rate)
        self._wav.close()
        self._file.close()

    def __enter__(self) -> "WavWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_wav(path: str | os.PathLike, samples: np.ndarray, rate: int, *, private: bool = False) -> None:
    """Writes float [shape=(channels, n)] samples in [-1, 1] as a 16-bit PCM WAV at `rate` Hz.

    Values outside [-1, 1] are clipped; `private` creates the file 0600.
    """
    samples = np.asarray(samples)
    if samples.ndim != 2 or samples.shape[0] < 1:
        raise ValueError(f"samples must be [channels, n] with at least one channel, "
                         f"got shape {samples.shape}")
    if int(rate) != rate or rate <= 0:
        raise ValueError(f"rate must be a positive whole number of Hz, got {rate!r}")
    with WavWriter(path, channels=samples.shape[0], rate=int(rate), private=private) as w:
        try:
            w.write(samples)
        except OSError as e:
            raise InputError(f"{os.fspath(path)}: cannot write the WAV file ({e.strerror or e})") from None
