"""The pieces of a live session that run on its threads: a pump per source, the microphone half
(contiguous blocks -> VAD + speakers, frames to the store) and the camera half (frames -> landmarks ->
the compact track, landmarks and per-frame cues to the store). Shared by the session and the rehearsal."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ...config import Config
from ...conversation.neural_live import LiveNeuralDiarizer, WindowOutput
from ...cues.baseline_window import CalibrationWindow
from ...cues.frame import frame_cues
from ...cues.track import LandmarkTrack
from ...errors import EndOfStream
from ...perception.vad import VoiceActivityDetector
from ...records import AudioBlock, Landmarks, VideoFrame
from ...sources.mend import AudioMender
from ...sources.wav import WavWriter
from ..assemble import for_vad
from ..live_words import LiveWords
from ..store.formats import (
    cues_record,
    marks_record,
    mfcc_records,
    vad_records,
    window_records,
)
from ..store.writer import SessionWriter

#: A source silent for longer than this, s, is named as a gap in the review.
GAP_S = 2.0


#: How long a reader waits for a source before checking whether the session is over, s.
POLL_S = 0.1


class SourcePump(threading.Thread):
    """Reads one source until it ends or the session is over; notes when it ended and its silences."""

    def __init__(self, name: str, source, handle: Callable, done: threading.Event):
        super().__init__(name=f"attune-{name}", daemon=True)
        self.label, self.source, self.handle, self.done = name, source, handle, done
        self.first = self.last = None
        self.ended_early = False
        self.gaps: list[tuple[float, float]] = []
        self.error: BaseException | None = None  # a fault of ours while handling an item: ends the session
        self.failure: str | None = None  # the source itself failed (unplugged, a driver error): it ends, the rest goes on
        self.limit_s: float | None = None  # stop after this much data, s (files replayed at pace 0)

    def run(self) -> None:
        try:
            while not self.done.is_set():
                try:
                    item = self.source.read(timeout=POLL_S)
                except EndOfStream:
                    self.ended_early = True
                    return
                except Exception as e:  # noqa: BLE001 - a device error (PortAudio, a camera driver) ends this source only
                    at = f" at {self.last:.1f} s" if self.last is not None else " before delivering anything"
                    self.failure = f"{type(e).__name__}{at}: {str(e).splitlines()[0][:200] if str(e) else ''}".rstrip(": ")
                    self.ended_early = True
                    return
                if item is None:
                    continue
                t0, t1 = _span(item)
                if self.limit_s is not None and self.first is not None and t0 - self.first >= self.limit_s:
                    return
                if self.last is not None and t0 - self.last > GAP_S:
                    self.gaps.append((self.last, t0))
                self.first = t0 if self.first is None else self.first
                self.last = t1
                self.handle(item)
        except BaseException as e:  # handed to the session, raised there
            self.error = e


def replayed_fast(source) -> bool:
    """A file replayed as fast as it reads (pace 0): its media time runs ahead of the clock."""
    return getattr(source, "pace", 1.0) == 0 and bool(getattr(source, "replay", False))


def _span(item) -> tuple[float, float]:
    if isinstance(item, AudioBlock):
        return item.t0, item.t0 + item.duration
    return item.t, item.t


class AudioPath:
    """The microphone half: blocks made contiguous (sources/mend.py) -> VAD + speaker strategy; the
    VAD's frames (and a diarizer's features; the trained one's windows, from its worker thread) to
    the store; with `keep`, the audio as a 0600 WAV; with `words`, blocks and closed speech
    stretches to the transcription worker (session/live_words.py)."""

    def __init__(self, speakers, vad_channels: int, *, config: Config, writer: SessionWriter, keep: Path | None,
                 words: LiveWords | None = None):
        self.speakers, self.vad_channels, self.writer, self.words = speakers, vad_channels, writer, words
        self.vad = VoiceActivityDetector(config=config.vad, channels=vad_channels)
        self.mender = AudioMender()
        self._wav = WavWriter(keep, channels=vad_channels, private=True) if keep is not None else None
        if isinstance(speakers, LiveNeuralDiarizer):
            speakers.on_window = self._store_window

    @property
    def end(self) -> float | None:
        """Session time just after the last sample heard (None before any)."""
        return self.mender.end

    @property
    def filled_s(self) -> float:
        """Seconds of lost input counted as silence."""
        return self.mender.filled_s

    def __call__(self, block: AudioBlock) -> None:
        block = self.mender.mend(block)
        if block is None:
            return
        block = for_vad(block, self.vad_channels)
        frames = self.vad.feed(block)
        self.writer.append("vad", vad_records(frames))
        if self.words is not None:
            self.words.feed(block, frames)
        features = self.speakers.feed(block)
        if features is not None:  # a diarizer's MFCC frames (the trained one's fallback)
            self.writer.append("mfcc", mfcc_records(features))
        if self._wav is not None:
            self._wav.write(block.samples, block.rate)

    def _store_window(self, out: WindowOutput) -> None:
        seg, emb = window_records(out)
        self.writer.append("seg", seg)  # the rebuild of a killed session clusters these (rebuild.py)
        self.writer.append("emb", emb)

    def finish(self):
        if self._wav is not None:
            self._wav.close()
        return self.vad.finish()


class VideoPath:
    """The camera half: frames -> landmarks -> the compact track; each frame's landmarks and its
    per-frame cues (head pose, gaze, mouth: cues/frame.py's `frame_cues`) to the store. With
    `realtime` (a camera, a file replayed at pace > 0) the landmarker's `process_live` runs Pose
    beside the frames instead of within them (a frame waits for FaceMesh only: capture-to-cue p95
    under the frame interval, docs/performance.md); a file replayed as fast as it reads keeps
    `process`, whose pose frames are exactly the offline review's."""

    def __init__(self, marker, *, config: Config, writer: SessionWriter, on_frame,
                 calibration: CalibrationWindow | None = None, realtime: bool = True):
        self.marker, self.config, self.writer, self.on_frame = marker, config, writer, on_frame
        self.measure = getattr(marker, "process_live", marker.process) if realtime else marker.process
        self.calibration = calibration
        self.track = LandmarkTrack(config=config)
        self.size: tuple[int, int] | None = None  # (width, height) of the first frame; later ones are scaled to it
        self.resized: list[str] = []  # notes: when the camera changed its frame size

    def __call__(self, frame: VideoFrame) -> None:
        frame = self._first_size(frame)
        marks: Landmarks = self.measure(frame)
        self.track.add(marks)
        self.writer.append("marks", marks_record(marks))
        self.writer.append("cues", cues_record(marks.t, frame_cues(marks, self.config.cues)))
        if self.calibration is not None:
            self.calibration.add(marks)
        if self.on_frame is not None:
            self.on_frame(frame, marks)

    def _first_size(self, frame: VideoFrame) -> VideoFrame:
        """`frame`, scaled to the session's first frame size if the camera changed it (a resolution
        switch, another camera): landmarks stay in one pixel frame, so the cues go on."""
        h, w = frame.image.shape[:2]
        if self.size is None:
            self.size = (w, h)
        if (w, h) == self.size:
            return frame
        import cv2  # OpenCV comes with mediapipe

        if len(self.resized) < 3:
            self.resized.append(f"the camera changed its frame size from {self.size[0]}x{self.size[1]} to {w}x{h} "
                                f"at {frame.t:.1f} s; those frames were scaled to the first size")
        image = cv2.resize(frame.image, self.size, interpolation=cv2.INTER_AREA)
        return VideoFrame(image, frame.t, frame.index)


def warm_up(config: Config, size: tuple[int, int] = (640, 480)) -> None:
    """Load the per-frame cue kernels (numba cache; about 0.5 s the first time in a process) on a
    frame without a face, so the camera's first frame is not held up. Call before opening the camera."""
    nan = np.full((478, 3), np.nan, np.float32)
    frame_cues(Landmarks(0.0, size, nan, np.full((33, 4), np.nan, np.float32),
                         np.full((33, 3), np.nan, np.float32)), config.cues)
