"""Video input: decode a file's video track with PyAV into RGB frames on the session clock.

FFmpeg decodes (threaded) and libswscale converts each kept frame to RGB24, downscaled in
the same pass when it is wider than `max_width` and turned upright by the file's display
rotation. The session clock starts at the file's first audio sample (the clock of
`MediaReader`), or at the first video frame when there is no audio, so camera cues and
turn-taking line up. Damaged files keep what decodes and say so in `problems`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import av
import numpy as np

from ..errors import InputError
from ..records import VideoFrame
from .media import ContainerReader, open_container

#: A forward jump of the frame times larger than this many frame periods (and _GAP_MIN_S)
#: is a hole in the video (lost packets, or a recorder that stalled).
_GAP_FRAMES, _GAP_MIN_S = 2.5, 0.25
#: Decoding ending this much (s, or this share of the stated duration) before the
#: duration the container states is reported as a probable truncation (as media.py).
_SHORT_S, _SHORT_SHARE = 0.5, 0.02
#: Holes noted one by one in `problems`; more are summed up in one note.
_HOLES_NOTED = 3
#: Frame times closer than this (s) count as equal when thinning with `every_s`.
_EPS_S = 1e-6
#: libswscale's area averaging: the sharpest downscale without aliasing.
_INTERPOLATION = "AREA"


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds: `width` x `height` are of the frames handed out (scaled, upright)."""

    path: str
    fps: float
    width: int
    height: int
    frames: int
    duration_s: float
    has_audio: bool
    codec: str = ""


class VideoReader(ContainerReader):
    """Decodes the video track of one file into `VideoFrame`s: RGB uint8 [shape=(h, w, 3)], at
    most `max_width` pixels wide (aspect kept; None keeps the size), times in seconds on the
    session clock. Opening decodes the first frame, so bad input raises `InputError` here.
    Use as a context manager.
    """

    def __init__(self, path: str | os.PathLike, *, max_width: int | None = 640):
        if max_width is not None and (int(max_width) != max_width or max_width < 2):
            raise ValueError(f"max_width must be a whole number of pixels >= 2 or None, got {max_width!r}")
        self.path = os.fspath(path)
        self.max_width = None if max_width is None else int(max_width)
        self.problems: list[str] = []
        self._started = False
        self._stopped = False  # decoding ended early for a reason already noted in `problems`
        self._sizes: dict[tuple, tuple[int, int, int]] = {}
        self._container = open_container(self.path)
        try:
            self._stream = _video_stream(self._container, self.path)
            self._stream.thread_type = "AUTO"  # frame and slice threads, as many as there are cores
            self._fps = _frame_rate(self._stream)
            self._stated_s = _stated_duration(self._container, self._stream)
            self._origin = _audio_start(self._container)
            self._frames = self._decoded()
            first = next(self._frames, None)
            if first is None:
                why = f" ({self.problems[0]})" if self.problems else ""
                raise InputError(f"{self.path}: no video frame could be decoded from the file{why}")
            self._first = first
            if self._origin is None:  # no audio: the clock starts at the first frame
                self._origin = float(first.time) if first.time is not None else 0.0
            width, height, _ = self._size(first)
            frames = self._stream.frames or max(round(self._stated_s * self._fps), 1)
            self.info = VideoInfo(path=self.path, fps=self._fps, width=width, height=height, frames=frames,
                                  duration_s=self._stated_s, has_audio=bool(self._container.streams.audio),
                                  codec=self._stream.codec_context.name)
        except BaseException:
            self._container.close()
            raise

    def frames(self, every_s: float = 0.0, *, keep: Callable[[float], bool] | None = None) -> Iterator[VideoFrame]:
        """The frames in display order; with `every_s` > 0 only frames at least `every_s` s after
        the last one kept (at most 1/every_s a second), with `keep` only those at times t (s) for which
        keep(t) is true (e.g. a rate schedule); skipped frames are decoded, not converted.

        `index` counts every decoded frame, kept or not; `t` = the frame's presentation time minus
        the session clock's start. Notes about damaged input go to `problems`. Iterate once.
        """
        if not every_s >= 0:
            raise ValueError(f"every_s must be >= 0 s, got {every_s!r}")
        if self._started:
            raise RuntimeError(f"{self.path}: frames() can be iterated only once per reader")
        self._started = True
        next_t, end = -math.inf, None
        for index, (frame, t) in enumerate(self._timed()):
            end = t
            if t < next_t - _EPS_S or (keep is not None and not keep(t)):
                continue
            next_t = t + every_s
            yield VideoFrame(self._image(frame), t, index)
        if end is not None:
            self._check_length(end + 1.0 / self._fps)

    def _image(self, frame: av.VideoFrame) -> np.ndarray:
        """The frame as RGB uint8 [h, w, 3], scaled and turned upright in one libswscale pass."""
        width, height, quarter_turns = self._size(frame)
        if quarter_turns % 2:
            width, height = height, width
        image = frame.to_ndarray(width=width, height=height, format="rgb24", interpolation=_INTERPOLATION,
                                 threads=1)  # one thread: a pool costs more than it saves on small frames
        if quarter_turns:
            image = np.rot90(image, quarter_turns)
        return np.ascontiguousarray(image)

    def _size(self, frame: av.VideoFrame) -> tuple[int, int, int]:
        """(width, height) of the upright output image and the counterclockwise quarter turns
        that make the decoded picture upright (its display matrix)."""
        sar = self._stream.sample_aspect_ratio or self._stream.codec_context.sample_aspect_ratio
        key = (frame.width, frame.height, sar, frame.rotation)
        if key not in self._sizes:
            self._sizes[key] = _output_size(frame.width, frame.height, sar, frame.rotation, self.max_width)
        return self._sizes[key]

    def _timed(self) -> Iterator[tuple[av.VideoFrame, float]]:
        """Decoded frames with their session-clock times (s); holes in the times are noted.
        A frame without a timestamp is placed one frame period after the one before."""
        last, holes, missing = None, 0, 0.0
        gap = max(_GAP_MIN_S, _GAP_FRAMES / self._fps)
        for frame in self._first_then_rest():
            t = frame.time - self._origin if frame.time is not None else None
            if t is None:
                t = 0.0 if last is None else last + 1.0 / self._fps
            elif last is not None and t - last > gap:
                holes, missing = holes + 1, missing + t - last - 1.0 / self._fps
                if holes <= _HOLES_NOTED:
                    self._note(f"{t - last - 1.0 / self._fps:.2f} s of video missing at {last:.1f} s")
            last = t
            yield frame, t
        if holes > _HOLES_NOTED:
            self._note(f"{holes} holes in the video in all, {missing:.2f} s missing")

    def _first_then_rest(self) -> Iterator[av.VideoFrame]:
        first, self._first = self._first, None
        yield first
        yield from self._frames

    def _decoded(self) -> Iterator[av.VideoFrame]:
        """Decoded frames of the video track; damaged packets are skipped, a failed read ends it."""
        end = yield from self._decode_packets("video ")
        if end is not None and end[1]:
            self._note(f"skipped {end[1]} damaged video packet(s), the first at {self._session(end[2]):.1f} s")

    def _packet_time(self, packet, t: float) -> float:
        """The packet's presentation time (s), else `t`."""
        return float(packet.pts * packet.time_base) if packet.pts is not None and packet.time_base is not None else t

    def _check_length(self, end_t: float) -> None:
        """Notes a probable truncation: `end_t` (session s) is the end of the last frame decoded."""
        stream = self._stream
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        decoded = end_t - self._session(start)
        if self._stated_s - decoded > max(_SHORT_S, _SHORT_SHARE * self._stated_s) and not self._stopped:
            self._note(f"decoding stopped at {self._at(decoded)}: the file looks truncated or damaged")

    def _session(self, file_t: float) -> float:
        """A file time (s) on the session clock (before the first frame, on the audio's or the file's)."""
        return file_t - (self._origin or 0.0)


def _video_stream(container: av.container.InputContainer, path: str) -> av.VideoStream:
    """The best video track that is not cover art; InputError when there is none."""
    attached = av.stream.Disposition.attached_pic
    video = [s for s in container.streams.video if not s.disposition & attached]
    if not video:
        held = ", ".join(f"{s.type} {s.codec_context.name}" + (" (cover art)" if s.type == "video" else "")
                         for s in container.streams) or "no streams"
        raise InputError(f"{path}: has no video track (it holds {held})")
    best = container.streams.best("video")
    return best if best in video else video[0]


def _frame_rate(stream: av.VideoStream) -> float:
    """Frames per second: the average rate, else the guessed one, else 25 (FFmpeg's default)."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < float(rate) < 1000:
            return float(rate)
    return 25.0


def _stated_duration(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    """The duration (s) the container states for the video track, else for the file; 0.0 if unknown."""
    if stream.duration is not None and stream.time_base is not None:
        return max(float(stream.duration * stream.time_base), 0.0)
    if container.duration is not None:
        return max(container.duration / av.time_base, 0.0)
    return 0.0


def _audio_start(container: av.container.InputContainer) -> float | None:
    """The file time (s) of session time 0 when there is audio: the start of the track MediaReader
    reads (an encoder's priming, a negative start, counts as 0); None without audio."""
    if not container.streams.audio:
        return None
    audio = container.streams.best("audio")
    if audio is None:  # no decodable audio track: the video's own clock
        return None
    if audio.start_time is not None and audio.time_base is not None:
        return max(float(audio.start_time * audio.time_base), 0.0)
    return 0.0


def _output_size(width: int, height: int, sar, rotation: int, max_width: int | None) -> tuple[int, int, int]:
    """(width, height, quarter_turns) of the upright image: square pixels (the sample aspect ratio
    applied), at most `max_width` wide after turning, aspect kept; quarter turns counterclockwise."""
    turns = round((rotation or 0) / 90) % 4
    w = width * float(sar) if sar and float(sar) > 0 else float(width)
    h = float(height)
    if turns % 2:
        w, h = h, w
    if max_width is not None and w > max_width:
        w, h = max_width, h * max_width / w
    return max(int(round(w)), 1), max(int(round(h)), 1), turns
