"""Media input: decode any audio or video file with PyAV and resample its audio to `rate` Hz.

FFmpeg's demuxers and decoders read the file packet by packet; libswresample (through
`av.AudioResampler`) converts each decoded frame to 32-bit float at `rate` Hz with the
channel layout kept (never downmixed: each channel may be one person's microphone).
`MediaReader.blocks()` hands the result on in fixed-size blocks, so a two-hour file is
never held in memory. See docs/media.md.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Generator, Iterator

import av
import numpy as np

from ..errors import InputError
from ..records import AudioBlock, MediaInfo

log = logging.getLogger(__name__)

#: A forward jump of the decoded timestamps larger than this (s) is a hole in the audio
#: (damaged or missing packets); it is filled with silence so later times stay right.
#: Matroska stores times in whole milliseconds, so smaller jumps are only rounding.
_GAP_S = 0.02
#: Demuxers whose packets carry stored timestamps. Raw streams (WAV, FLAC, MP3, ADTS AAC)
#: get theirs counted up by FFmpeg, wrongly after a change of sample rate, so their
#: holes cannot be found; MPEG-TS may jump at a legitimate discontinuity.
_TIMED_FORMATS = frozenset({"mov", "mp4", "matroska", "webm", "ogg", "avi", "flv", "asf", "nut"})
#: Decoding ending this much (s, or this share of the stated duration) before the
#: duration the container states is reported as a probable truncation.
_SHORT_S, _SHORT_SHARE = 0.5, 0.02
#: Holes noted one by one in `problems`; more are summed up in one note.
_HOLES_NOTED = 3
#: After this many damaged packets in a row the rest of the file is given up.
_MAX_BAD_RUN = 200


class ContainerReader:
    """What every file reader shares: a PyAV container in `_container`, closed on exit, and the
    notes about damaged input in `problems` (with `path` and the container's `_stated_s`)."""

    _container: av.container.InputContainer
    path: str
    problems: list[str]
    _stated_s: float
    _stopped: bool

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Releases the file; safe to call more than once."""
        self._container.close()

    def _at(self, t: float) -> str:
        """'12.3 s', or '12.3 s of 24.6 s' when the container states a duration."""
        return f"{t:.1f} s of {self._stated_s:.1f} s" if self._stated_s > 0 else f"{t:.1f} s"

    def _stop(self, text: str) -> None:
        self._stopped = True
        self._note(text)

    def _note(self, text: str) -> None:
        log.info("%s: %s", self.path, text)  # the caller shows `problems`; the log is for --debug
        self.problems.append(text)

    def _session(self, file_t: float) -> float:
        """A file time (s) as the notes give it (readers with an origin shift it)."""
        return file_t

    def _packet_time(self, packet, t: float) -> float:
        """The file time (s) to report a packet at; `t` the last one known."""
        return t

    def _frame_time(self, frame, t: float) -> float:
        """The file time (s) after `frame`; `t` the last one known."""
        return t

    def _decode_packets(self, label: str) -> Generator:
        """Decoded frames of `_stream`: a damaged packet is skipped and counted, `_MAX_BAD_RUN` of
        them in a row or a failed read stop decoding (noted; returns None). Otherwise returns
        (damaged packets at the end in a row, damaged in all, file time of the first, last time),
        times in s as `_packet_time` / `_frame_time` track them; `label` names the track in logs."""
        packets = self._container.demux(self._stream)
        bad_run, bad_total, first_bad, t = 0, 0, 0.0, 0.0
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as e:
                self._stop(f"decoding stopped at {self._at(self._session(t))}: {error_reason(e)}; "
                           "the file looks truncated or damaged")
                yield from self._flush_decoder(label)
                return None
            t = self._packet_time(packet, t)
            try:
                frames = packet.decode()
            except av.error.FFmpegError as e:
                log.debug("%s: damaged %spacket at %.2f s: %s", self.path, label, t, error_reason(e))
                first_bad = t if bad_total == 0 else first_bad
                bad_run, bad_total = bad_run + 1, bad_total + 1
                if bad_run >= _MAX_BAD_RUN:
                    self._stop(f"decoding stopped at {self._at(self._session(t))}: {bad_run} damaged packets in a row")
                    return None
                continue
            bad_run = 0 if packet.size else bad_run  # the empty packet at the end only flushes
            for frame in frames:
                t = self._frame_time(frame, t)
                yield frame
        return bad_run, bad_total, first_bad, t

    def _flush_decoder(self, label: str) -> Iterator:
        """What the decoder still holds after a failed read."""
        try:
            yield from self._stream.codec_context.decode(None)
        except av.error.FFmpegError as e:
            log.debug("%s: flushing the %sdecoder failed: %s", self.path, label, error_reason(e))


class MediaReader(ContainerReader):
    """Decodes the best audio track of one media file into float32 blocks at `rate` Hz.

    Opening probes the file and decodes its first audio frame, so bad input raises
    `InputError` here, not halfway through a review. Use as a context manager.
    """

    def __init__(self, path: str | os.PathLike, *, rate: int = 16000, block_s: float = 1.0):
        if int(rate) != rate or rate <= 0:
            raise ValueError(f"rate must be a positive whole number of Hz, got {rate!r}")
        if not block_s > 0 or round(block_s * rate) < 1:
            raise ValueError(f"block_s must be positive and hold at least one sample, got {block_s!r}")
        self.path = os.fspath(path)
        self.rate = int(rate)
        self.block_n = int(round(block_s * rate))
        self.problems: list[str] = []
        self._started = False
        self._stopped = False  # decoding ended early for a reason already noted in `problems`
        self._container = open_container(self.path)
        try:
            self._stream = _audio_stream(self._container, self.path)
            self._stated_s = _stated_duration(self._container, self._stream)
            self._start_s = _stated_start(self._stream)
            self._timed = not _TIMED_FORMATS.isdisjoint(self._container.format.name.split(","))
            self._frames = self._decoded()
            first = next(self._frames, None)
            if first is None:
                why = f" ({self.problems[0]})" if self.problems else ""
                raise InputError(f"{self.path}: no audio could be decoded from the file{why}")
            self._first = first
            self.info = _media_info(self.path, self._container, self._stream, first, self._stated_s)
        except BaseException:
            self._container.close()
            raise

    def blocks(self) -> Iterator[AudioBlock]:
        """The audio as blocks, float32 [shape=(channels, block_n)] at `rate` Hz, C-contiguous.

        Block k starts at t0 = k * block_n / rate s; the last block may be shorter.
        Notes about damaged or truncated input are appended to `problems` on the way.
        Can be iterated once.
        """
        if self._started:
            raise RuntimeError(f"{self.path}: blocks() can be iterated only once per reader")
        self._started = True
        channels, n = self.info.channels, self.block_n
        buf, fill, done = np.empty((channels, n), np.float32), 0, 0
        for chunk in self._resampled():
            pos, m = 0, chunk.shape[1]
            while pos < m:
                take = min(n - fill, m - pos)
                buf[:, fill:fill + take] = chunk[:, pos:pos + take]
                fill, pos = fill + take, pos + take
                if fill == n:
                    yield AudioBlock(np.clip(buf, -1.0, 1.0, out=buf), done / self.rate, self.rate)
                    buf, fill, done = np.empty((channels, n), np.float32), 0, done + n
        if fill:
            last = np.ascontiguousarray(buf[:, :fill])
            yield AudioBlock(np.clip(last, -1.0, 1.0, out=last), done / self.rate, self.rate)
        if done + fill == 0:
            why = f" ({self.problems[0]})" if self.problems else ""
            raise InputError(f"{self.path}: no audio could be decoded from the file{why}")
        self._check_length((done + fill) / self.rate)

    def _resampled(self) -> Iterator[np.ndarray]:
        """The decoded audio through libswresample, float32 [shape=(channels, m)] (a transposed
        view of packed samples), with silence where packets were lost."""
        channels, resampler, shape, produced = self.info.channels, None, None, 0
        for piece in self._pieces():
            chunks = []
            if resampler is not None and (isinstance(piece, float) or _shape(piece) != shape):
                chunks += _arrays(resampler.resample(None), channels)  # drain before a hole or a change
                resampler = None
            if isinstance(piece, float):  # a hole: silence up to where the audio resumes
                done = produced + sum(c.shape[1] for c in chunks)
                chunks.append(np.zeros((channels, max(round(piece * self.rate) - done, 0)), np.float32))
            elif piece.layout.nb_channels != channels:
                self._stop(f"decoding stopped at {self._at(piece.time or 0.0)}: the number of channels "
                           f"changed from {channels} to {piece.layout.nb_channels}")
                yield from chunks
                return
            else:
                if resampler is None:
                    # Packed float: PyAV 18 mishandles planar frames of 8 or more channels.
                    resampler = av.AudioResampler(format="flt", layout=piece.layout.name, rate=self.rate)
                    shape = _shape(piece)
                chunks += _arrays(resampler.resample(piece), channels)
            for chunk in chunks:
                produced += chunk.shape[1]
                yield chunk
        if resampler is not None:
            yield from _arrays(resampler.resample(None), channels)

    def _first_then_rest(self) -> Iterator[av.AudioFrame]:
        first, self._first = self._first, None
        yield first
        yield from self._frames

    def _pieces(self) -> Iterator[av.AudioFrame | float]:
        """The decoded frames and, where their timestamps jump forward (lost packets), the time
        (s from the start of the output) at which the audio resumes.

        The first frame is checked against the track's stated start, so a damaged beginning
        is found too. Only containers that store timestamps are checked.
        """
        start, origin, expected = self._start_s, None, None
        holes, missing = 0, 0.0
        for frame in self._first_then_rest():
            t = frame.time if self._timed else None
            if t is not None and origin is None:
                origin = expected = t if start is None else min(t, start)
            if t is not None and t - expected > _GAP_S:
                holes, missing = holes + 1, missing + t - expected
                if holes <= _HOLES_NOTED:
                    self._note(f"{t - expected:.2f} s of audio missing at {expected - origin:.1f} s "
                               "(filled with silence)")
                yield t - origin
            if t is not None:
                expected = t
            if expected is not None:
                expected += frame.samples / frame.sample_rate
            yield frame
        if holes > _HOLES_NOTED:
            self._note(f"{holes} holes in the audio in all, {missing:.2f} s filled with silence")

    def _decoded(self) -> Iterator[av.AudioFrame]:
        """Decoded frames of the audio track; damaged packets are skipped, a failed read ends it."""
        end = yield from self._decode_packets("")
        if end is None:
            return
        bad_run, bad_total, first_bad, t = end
        if bad_run and bad_run == bad_total:
            self._stop(f"decoding stopped at {self._at(t)}: the file ends in a damaged packet; "
                       "it looks truncated")
        elif bad_total:
            self._note(f"skipped {bad_total} damaged packet(s), the first at {first_bad:.1f} s")

    def _frame_time(self, frame, t: float) -> float:
        """The end of `frame` (s): its own time when it has one."""
        return (frame.time if frame.time is not None else t) + frame.samples / frame.sample_rate

    def _check_length(self, decoded_s: float) -> None:
        stated = self.info.duration_s
        if stated - decoded_s > max(_SHORT_S, _SHORT_SHARE * stated) and not self._stopped:
            self._note(f"decoding stopped at {self._at(decoded_s)}: the file looks truncated or damaged")


def read_audio(path: str | os.PathLike, *, rate: int = 16000) -> tuple[np.ndarray, MediaInfo]:
    """The whole audio of a file, float32 [shape=(channels, n)] at `rate` Hz (for tests, short files)."""
    with MediaReader(path, rate=rate, block_s=10.0) as reader:
        parts = [block.samples for block in reader.blocks()]
        return np.concatenate(parts, axis=1), reader.info


def open_container(path: str) -> av.container.InputContainer:
    """The opened container; InputError for a missing, empty, unreadable or non-media file."""
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory, not a media file")
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise InputError(f"{path}: cannot read the file ({e.strerror or e})") from None
    if size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    try:
        return av.open(path, mode="r")
    except PermissionError:
        raise InputError(f"{path}: cannot read the file (permission denied)") from None
    except (av.error.FFmpegError, OSError) as e:
        raise InputError(f"{path}: FFmpeg cannot read it as audio or video ({error_reason(e)}): "
                         "not a media file, or a damaged one") from None
    except UnicodeDecodeError:  # PyAV decodes the container's tags as UTF-8 while opening
        raise InputError(f"{path}: its metadata tags are not valid text: a damaged media file") from None


def tracks(path: str | os.PathLike) -> tuple[bool, bool]:
    """(has an audio track, has a video track) of a media file; bad input raises InputError."""
    with open_container(os.fspath(path)) as container:
        return bool(container.streams.audio), bool(container.streams.video)


def describe(path: str | os.PathLike) -> str:
    """What a media file holds by its headers alone (no decoding), for a title line: length, picture
    and sound, e.g. "10 s, video 640x480 at 30 fps, sound in 2 channels"; bad input raises InputError."""
    with open_container(os.fspath(path)) as container:
        parts = []
        if container.duration is not None and container.duration > 0:
            parts.append(_clock(container.duration / av.time_base))
        attached = av.stream.Disposition.attached_pic
        video = [v for v in container.streams.video if not (v.disposition & attached)]
        if video:
            v = video[0]
            fps = f" at {float(v.average_rate):.3g} fps" if v.average_rate else ""
            parts.append(f"video {v.codec_context.width}x{v.codec_context.height}{fps}")
        if container.streams.audio:
            n = container.streams.audio[0].codec_context.channels
            parts.append("sound in one channel" if n == 1 else f"sound in {n} channels")
        else:
            parts.append("no sound")
    return ", ".join(parts)


def _clock(seconds: float) -> str:
    """A length for people: "8.4 s", "3 min 05 s", "1 h 02 min"."""
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    return f"{minutes} min {sec:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _audio_stream(container: av.container.InputContainer, path: str) -> av.AudioStream:
    if not container.streams.audio:
        held = ", ".join(f"{s.type} {s.codec_context.name}" for s in container.streams) or "no streams"
        raise InputError(f"{path}: has no audio track (it holds {held})")
    best = container.streams.best("audio")  # None when no track states a codec FFmpeg can decode
    if best is None:
        raise InputError(f"{path}: its audio track cannot be decoded (no sample rate or channels found): "
                         "not a media file, or a damaged one")
    return best


def _stated_duration(container: av.container.InputContainer, stream: av.AudioStream) -> float:
    """The duration (s) the container states for the track, else for the file; 0.0 if unknown."""
    if stream.duration is not None and stream.time_base is not None:
        return max(float(stream.duration * stream.time_base), 0.0)
    tag = stream.metadata.get("DURATION", "")  # Matroska's per-track tag, "HH:MM:SS.nnnnnnnnn"
    try:
        hours, minutes, seconds = tag.split(":")
        return max(int(hours) * 3600 + int(minutes) * 60 + float(seconds), 0.0)
    except ValueError:
        pass
    if container.duration is not None:
        return max(container.duration / av.time_base, 0.0)
    return 0.0


def _stated_start(stream: av.AudioStream) -> float | None:
    """Where the track says it starts (s), None if it does not; an encoder's priming
    (a negative start) counts as 0."""
    if stream.start_time is None or stream.time_base is None:
        return None
    return max(float(stream.start_time * stream.time_base), 0.0)


#: Sample rates below this are no recording of speech (a damaged or forged header): refused, since
#: resampling them to 16 kHz would make hours of audio out of a few kilobytes.
MIN_SOURCE_RATE = 4000


def _media_info(path: str, container, stream, first: av.AudioFrame, duration: float) -> MediaInfo:
    if first.sample_rate < MIN_SOURCE_RATE:
        raise InputError(f"{path}: the audio claims {first.sample_rate} samples a second; a recording of speech "
                         f"has at least {MIN_SOURCE_RATE} (the file's header is damaged)")
    attached = av.stream.Disposition.attached_pic
    video = any(not (s.disposition & attached) for s in container.streams.video)
    return MediaInfo(path=path, duration_s=duration, channels=first.layout.nb_channels,
                     source_rate=first.sample_rate, codec=stream.codec_context.name, has_video=video)


def _shape(frame: av.AudioFrame) -> tuple[str, str, int]:
    """What a resampler is set up for: sample format, channel layout, rate."""
    return frame.format.name, frame.layout.name, frame.sample_rate


def _arrays(frames: list[av.AudioFrame], channels: int) -> list[np.ndarray]:
    """Packed float frames as float32 [shape=(channels, n)] views."""
    return [frame.to_ndarray().reshape(-1, channels).T for frame in frames]


def error_reason(e: Exception) -> str:
    """FFmpeg's one-line reason, without the path PyAV appends."""
    return str(getattr(e, "strerror", None) or e).splitlines()[0]
