"""Live audio: a microphone through PortAudio (python-sounddevice), or a file replayed at
real-time pace, as `AudioBlock`s on the session clock.

The PortAudio callback only copies the block, its status and a sample count into a queue
(python-sounddevice's rec_unlimited pattern); stamping happens in the reader. The first
block is stamped with the session clock at capture; later blocks by counting samples from
it, so no jitter accumulates (re-anchored after an overflow, when input was lost).
sounddevice (and so PortAudio) is imported only when a microphone is opened.
"""

from __future__ import annotations

import logging
import os
import queue

import numpy as np

from ..errors import InputError
from ..records import AudioBlock
from .clock import END_OF_STREAM, LiveFeed, SessionClock
from .media import MediaReader

log = logging.getLogger(__name__)

#: Blocks held for a slow reader (at 20 ms blocks: 4 s) before the oldest are dropped.
QUEUE_BLOCKS = 200


def is_file(device) -> bool:
    """True when `device` names an existing file (a replay), not a sound device."""
    return isinstance(device, (str, os.PathLike)) and os.path.isfile(device)


class Microphone(LiveFeed):
    """Float32 `AudioBlock`s [shape=(channels, block)] at `rate` Hz from a PortAudio input
    (`device` None = the default, an index or a name) or a media file replayed at `pace` x real
    time (0 = as fast as read, nothing dropped; channels kept). A replayed block is stamped
    `start` + its media time (`start` default: now) and released when its last sample is due.
    `read(timeout) -> AudioBlock | None`. Use as a context manager.
    """

    def __init__(self, device: int | str | os.PathLike | None = None, *, rate: int = 16000,
                 block_s: float = 0.02, clock: SessionClock | None = None, channels: int = 1,
                 pace: float = 1.0, start: float | None = None, queue_size: int = QUEUE_BLOCKS):
        if int(rate) != rate or rate <= 0:
            raise ValueError(f"rate must be a positive whole number of Hz, got {rate!r}")
        if not block_s > 0 or round(block_s * rate) < 1:
            raise ValueError(f"block_s must be positive and hold at least one sample, got {block_s!r}")
        if not pace >= 0:
            raise ValueError(f"pace must be >= 0, got {pace!r}")
        name = f"microphone {os.fspath(device)}" if device is not None else "microphone (default)"
        super().__init__(clock=clock, queue_size=queue_size, name=name)
        self.device, self.rate, self.pace = device, int(rate), float(pace)
        self.block_n = int(round(block_s * rate))
        self.stats.rate = self.rate
        self._anchor: tuple[float, int] | None = None  # (session time, sample count) of a stamp
        self._stream = self._reader = None
        if is_file(device):
            self._reader = MediaReader(device, rate=self.rate, block_s=block_s)
            self._drop_oldest = self.pace > 0
            self.start = self.clock.now() if start is None else float(start)
            self._start()
        else:
            self.start = self.clock.now() if start is None else float(start)
            self._open_stream(int(channels))

    @property
    def replay(self) -> bool:
        """True when a media file is replayed instead of a device."""
        return self._reader is not None

    @property
    def channels(self) -> int:
        """How many channels this source delivers (a replayed file's, or the opened device's)."""
        if self._reader is not None:
            return int(self._reader.info.channels)
        return int(self._stream.channels) if self._stream is not None else 1

    @property
    def problems(self) -> list[str]:
        """Notes about a damaged replayed file (empty for a device)."""
        return self._reader.problems if self._reader is not None else []

    def _open_stream(self, channels: int) -> None:
        try:
            import sounddevice as sd  # loads PortAudio: only when a microphone is opened
        except OSError:
            raise InputError("PortAudio is missing: install libportaudio2 (Debian/Ubuntu)") from None
        q, clock, counted = self._queue, self.clock, [0]

        def callback(indata, frames, time_info, status):  # PortAudio's thread: copy and queue only
            try:
                q.put_nowait((indata.copy(), bool(status.input_overflow), counted[0], clock.now()))
            except queue.Full:
                self.stats.dropped += 1
            counted[0] += frames

        def finished():
            try:
                q.put_nowait(END_OF_STREAM)
            except queue.Full:
                pass

        try:
            self._stream = sd.InputStream(samplerate=self.rate, blocksize=self.block_n, device=self.device,
                                          channels=channels, dtype="float32", callback=callback,
                                          finished_callback=finished)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as e:
            if self._stream is not None:
                self._stream.close()
            raise InputError(f"{self.name}: cannot open it ({e})") from None
        self.stats.rate = int(self._stream.samplerate)

    def _run(self) -> None:  # replay of a file, on the capture thread
        try:
            done = 0
            for block in self._reader.blocks():
                n = block.samples.shape[1]
                # "captured" when its last sample was (media time), released then / pace
                now = self.start + block.t0 + n / self.rate
                release = self.start + (block.t0 + n / self.rate) / (self.pace or 1.0)
                if self.pace > 0 and not self.clock.sleep_until(release, stop=self._stop) or self._stop.is_set():
                    return
                self._offer((block.samples, False, done, now))
                done += n
        finally:
            self._reader.close()

    def read(self, timeout: float | None = None) -> AudioBlock | None:
        """The next block, or None when none came within `timeout` s; EndOfStream after the last."""
        item = super().read(timeout)
        if item is None:
            return None
        data, overflow, count, now = item
        samples = np.ascontiguousarray(data.T) if self._reader is None else data
        n = samples.shape[1]
        if overflow:
            self.stats.overflows += 1
        if self._anchor is None or overflow:
            self._anchor = (now - n / self.rate, count)  # captured ending now
        t_anchor, n_anchor = self._anchor
        return AudioBlock(samples, t_anchor + (count - n_anchor) / self.rate, self.rate)

    def close(self) -> None:
        """Stops the stream or the replay; safe to call more than once."""
        super().close()
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.stop()
            stream.close()


def list_microphones() -> list[dict]:
    """PortAudio's input devices: [{index, name, channels, rate}]; InputError when PortAudio is missing."""
    try:
        import sounddevice as sd
    except OSError:
        raise InputError("PortAudio is missing: install libportaudio2 (Debian/Ubuntu)") from None
    return [{"index": i, "name": d["name"], "channels": d["max_input_channels"],
             "rate": d["default_samplerate"]}
            for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]
