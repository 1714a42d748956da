"""The live session: camera and microphone on one session clock -> the same review as a recording.

A camera thread turns frames into landmarks (FaceBodyLandmarker) and a microphone thread feeds
audio blocks to the voice activity detector and the speaker strategy; both append what they find
to the session store as it happens (flushed at least every second, see signals.py), so a session
that is killed can be rebuilt (`load_review`). The session ends at `duration_s`, when `stop` is set
(Ctrl-C, the window closed) or when both sources end; a source that ends or falls silent early is
named in the review's problems while the other goes on. The review at the end goes through the
same functions as the offline review (session/review.py's `assemble_review`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import Config
from ..conversation.diarize import Diarizer
from ..conversation.speakers import ChannelsAreSpeakers, SingleTrack
from ..cues.calibration import Baseline, calibrate, save_profile
from ..cues.face import stack_landmarks
from ..errors import EndOfStream, InputError
from ..perception.landmarks import FaceBodyLandmarker
from ..perception.vad import VoiceActivityDetector
from ..records import AudioBlock, Landmarks, VideoFrame
from ..summary.json_out import write_json
from ..summary.report import write_report
from ..summary.text import summarize
from ..summary.trend import trend_since_last
from .review import Review, assemble_review, for_vad, speaker_strategy
from .calibrate import MAX_SECONDS, default_profile_path
from .check import frame_cues
from .signals import PROFILE_FILE, VadTap, cues_record, history, marks_record, vad_dtype
from .store import SessionWriter
from .vision import LandmarkTrack, vision_from_track

log = logging.getLogger(__name__)

#: A source silent for longer than this, s, is named as a gap in the review.
GAP_S = 2.0
#: How long a reader waits for a source before checking whether the session is over, s.
POLL_S = 0.1


@dataclass(frozen=True)
class LiveResult:
    """A finished live session: its review and its folder (review.json, report.html, the signals)."""

    review: Review
    folder: Path
    notes: tuple[str, ...] = field(default_factory=tuple)


class _Reader(threading.Thread):
    """Reads one source until it ends or the session is over; notes when it ended and its silences."""

    def __init__(self, name: str, source, handle: Callable, done: threading.Event):
        super().__init__(name=f"attune-{name}", daemon=True)
        self.label, self.source, self.handle, self.done = name, source, handle, done
        self.first = self.last = None
        self.ended_early = False
        self.gaps: list[tuple[float, float]] = []
        self.error: BaseException | None = None
        self.limit_s: float | None = None  # stop after this much data, s (files replayed at pace 0)

    def run(self) -> None:
        try:
            while not self.done.is_set():
                try:
                    item = self.source.read(timeout=POLL_S)
                except EndOfStream:
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


def _replayed_fast(source) -> bool:
    """A file replayed as fast as it reads (pace 0): its media time runs ahead of the clock."""
    return getattr(source, "pace", 1.0) == 0 and getattr(source, "_reader", None) is not None


def _span(item) -> tuple[float, float]:
    if isinstance(item, AudioBlock):
        return item.t0, item.t0 + item.duration
    return item.t, item.t


class _Audio:
    """The microphone half: contiguous blocks -> VAD + speaker strategy; VAD frames to the store."""

    def __init__(self, speakers, vad_channels: int, *, config: Config, writer: SessionWriter, keep: Path | None):
        self.speakers, self.vad_channels, self.writer = speakers, vad_channels, writer
        self.vad = VoiceActivityDetector(config=config.vad, channels=vad_channels)
        self.tap = VadTap(self.vad)
        self.end: float | None = None
        self.filled_s = 0.0
        self._mfcc_frames = 0
        self._wav = self._file = None
        if keep is not None:  # --keep-media: the audio as 16-bit WAV, created 0600
            self._file = os.fdopen(os.open(keep, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
            self._wav = wave.open(self._file, "wb")  # noqa: SIM115 (closed in finish)

    def __call__(self, block: AudioBlock) -> None:
        if self.end is not None and abs(block.t0 - self.end) > 0.5 / block.rate:
            block = self._mend(block)
            if block is None:
                return
        block = for_vad(block, self.vad_channels)
        self.vad.feed(block)
        self.speakers.feed(block)
        self.end = block.t0 + block.duration
        self.writer.append("vad", self.tap.new_records())
        if isinstance(self.speakers, Diarizer):
            self._store_mfcc()
        if self._wav is not None:
            self._keep(block)

    def _mend(self, block: AudioBlock) -> AudioBlock | None:
        """Blocks must be contiguous: input lost (an overflow, dropped blocks) is filled with silence."""
        missing = int(round((block.t0 - self.end) * block.rate))
        if missing > 0:
            self.filled_s += missing / block.rate
            silence = np.zeros((block.channels, missing), np.float32)
            return AudioBlock(np.concatenate([silence, block.samples], axis=1), self.end, block.rate)
        cut = min(-missing, block.samples.shape[1])
        if cut == block.samples.shape[1]:
            return None
        return AudioBlock(block.samples[:, cut:], self.end, block.rate)

    def _store_mfcc(self) -> None:
        mfcc = self.speakers._mfcc  # noqa: SLF001 (the diarizer keeps its MFCC frames in parts)
        if mfcc.frames > self._mfcc_frames and mfcc._parts:
            new = mfcc._parts[-1][-(mfcc.frames - self._mfcc_frames):]
            rec = np.empty(new.shape[0], [("c", "<f4", (new.shape[1],))])
            rec["c"] = new
            self.writer.append("mfcc", rec)
            self._mfcc_frames = mfcc.frames

    def _keep(self, block: AudioBlock) -> None:
        if self._wav.getnframes() == 0 and not getattr(self, "_wav_set", False):
            self._wav.setnchannels(block.channels)
            self._wav.setsampwidth(2)
            self._wav.setframerate(block.rate)
            self._wav_set = True
        pcm = (np.clip(block.samples.T, -1, 1) * 32767).astype("<i2")
        self._wav.writeframes(pcm.tobytes())

    def finish(self):
        if self._wav is not None:
            if not getattr(self, "_wav_set", False):  # no audio came: an empty but valid WAV
                self._wav.setparams((self.vad_channels, 2, 16000, 0, "NONE", "not compressed"))
            self._wav.close()
            self._file.close()
        return self.vad.finish()


class _Calibration:
    """The first `seconds` of landmarks -> a baseline (session/calibrate.py's logic), or a note why not.

    Fed on the camera thread; the window closes at the first frame `seconds` after the first one
    (or at the session's end), then `baseline` or `note` is set once."""

    def __init__(self, seconds: float, config: Config):
        self.seconds, self.config = seconds, config
        self.marks: list[Landmarks] = []
        self.baseline: Baseline | None = None
        self.note: str | None = None
        self.done = False

    def add(self, marks: Landmarks) -> None:
        if self.done:
            return
        if self.marks and marks.t >= self.marks[0].t + self.seconds:
            self.finish()
            return
        self.marks.append(marks)

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            if not self.marks:
                raise InputError("calibration refused: no video frames")
            faces, times, size = stack_landmarks(self.marks)
            cues = dataclasses.replace(self.config.cues, baseline_s=self.seconds)
            self.baseline = calibrate(faces, times, size, config=cues, start_s=float(times[0]))
        except InputError as e:
            self.note = f"{e}; eye contact and leaning use the session's own baseline instead"
            log.info("calibration at the start of the session: %s", e)
        self.marks = []  # the window's landmarks are not needed any more


class _Video:
    """The camera half: frames -> landmarks -> the compact track; each frame's landmarks and its
    per-frame cues (head pose, gaze, mouth: session/check.py's `frame_cues`) to the store."""

    def __init__(self, marker, *, config: Config, writer: SessionWriter, on_frame,
                 calibration: _Calibration | None = None):
        self.marker, self.config, self.writer, self.on_frame = marker, config, writer, on_frame
        self.calibration = calibration
        self.track = LandmarkTrack(config=config)

    def __call__(self, frame: VideoFrame) -> None:
        marks: Landmarks = self.marker.process(frame)
        self.track.add(marks)
        self.writer.append("marks", marks_record(marks))
        self.writer.append("cues", cues_record(marks.t, frame_cues(marks, self.config.cues)))
        if self.calibration is not None and not self.calibration.done:
            self.calibration.add(marks)
        if self.on_frame is not None:
            self.on_frame(frame, marks)


def warm_up(config: Config, size: tuple[int, int] = (640, 480)) -> None:
    """Load the per-frame cue kernels (numba cache; about 0.5 s the first time in a process) on a
    frame without a face, so the camera's first frame is not held up. Call before opening the camera."""
    nan = np.full((478, 3), np.nan, np.float32)
    frame_cues(Landmarks(0.0, size, nan, np.full((33, 4), np.nan, np.float32),
                         np.full((33, 3), np.nan, np.float32)), config.cues)


def run_session(*, camera=None, mic=None, config: Config, duration_s: float | None = None,
                profile: Baseline | None = None, slug: str = "practice", keep_media: bool = False,
                stop: threading.Event | None = None, on_frame: Callable | None = None,
                channels_are_speakers: bool = False, speaker_names: Sequence[str] | None = None,
                num_speakers: int | None = None, me: str | None = None,
                root: str | os.PathLike | None = None, landmarker=None, calibrate_s: float = 0.0,
                profile_path: str | os.PathLike | None = None) -> LiveResult:
    """Run a live session from already-opened `camera` (Camera) and `mic` (Microphone) sources
    (either may be None; the caller closes them) until `duration_s` s on the sources' clock, `stop`,
    or both sources' end. Speakers: one channel per person when `channels_are_speakers` (the
    microphone delivers one channel per person), else the channels mixed and diarized, as `attune
    review` does (a stereo laptop microphone is one microphone; `num_speakers`; 1 = one track). `me` names the
    user's speaker; without it the mouth on camera picks it. `on_frame(frame, landmarks)` is called
    on the camera thread (a preview window). `root`: the sessions folder (default: the store's).
    `landmarker`: an already loaded FaceBodyLandmarker (load it before opening the camera so no
    frames are lost while mediapipe starts; closed by the caller), else one is made here.
    `calibrate_s` > 0 with a camera and no `profile`: the first `calibrate_s` s of frames (the person
    looks at the lens) make the baseline for the session's eye contact and leaning, saved (0600) to
    `profile_path` (default: session/calibrate.default_profile_path()); a refused one is a note."""
    if camera is None and mic is None:
        raise InputError("a session needs a camera, a microphone or both")
    if duration_s is not None and not duration_s > 0:
        raise InputError(f"--duration must be more than 0 s, got {duration_s}")
    calibrate_s = float(calibrate_s)
    if calibrate_s != 0 and not 0.5 <= calibrate_s <= MAX_SECONDS:
        raise InputError(f"--calibrate {calibrate_s:g}: the calibration window must last 0.5 to {MAX_SECONDS:g} s "
                         "(0 skips it)")
    stop = stop or threading.Event()
    clock = (mic or camera).clock
    speakers, vad_channels, settings = None, 1, {"me": me}
    if mic is not None:
        channels = _mic_channels(mic)
        speakers, vad_channels = speaker_strategy(channels, config=config, source=mic.name,
                                                  channels_are_speakers=channels_are_speakers,
                                                  speaker_names=speaker_names,
                                                  num_speakers=num_speakers)
        settings |= _speaker_settings(speakers, num_speakers)
    sources = {"camera": getattr(camera, "name", None), "microphone": getattr(mic, "name", None)}
    writer = SessionWriter(slug, sources=sources, settings=settings, root=root)
    folder = writer.folder
    if profile is not None:
        save_profile(profile, folder / PROFILE_FILE)
    done = threading.Event()
    own_marker = camera is not None and landmarker is None
    marker = FaceBodyLandmarker(config.perception) if own_marker else landmarker
    if own_marker:
        warm_up(config)
    try:
        audio = (_Audio(speakers, vad_channels, config=config, writer=writer,
                        keep=folder / "audio.wav" if keep_media else None) if mic is not None else None)
        writer.append("vad", np.empty(0, vad_dtype(vad_channels)))  # the stream exists from the start
        calibration = (_Calibration(calibrate_s, config) if calibrate_s > 0 and profile is None
                       and camera is not None else None)
        video = (_Video(marker, config=config, writer=writer, on_frame=on_frame, calibration=calibration)
                 if camera is not None else None)
        readers = [_Reader(n, s, h, done) for n, s, h in (("camera", camera, video), ("microphone", mic, audio))
                   if s is not None]
        fast = all(_replayed_fast(r.source) for r in readers)  # then each reader stops at duration_s of data
        for r in readers:
            r.limit_s = duration_s if fast else None
        start = clock.now()
        for r in readers:
            r.start()
        try:
            while not stop.is_set() and any(r.is_alive() for r in readers):
                if duration_s is not None and clock.now() - start >= duration_s and not fast:
                    break
                stop.wait(POLL_S)
        except KeyboardInterrupt:  # Ctrl-C ends the session as `stop` does: the review of what was heard
            log.info("session stopped by Ctrl-C at %.1f s", clock.now() - start)
        done.set()
        for r in readers:
            r.join()
        for r in readers:
            if r.error is not None:
                raise r.error
        end = max((r.last for r in readers if r.last is not None), default=0.0)
        notes = _notes(readers, end, camera, mic, audio)
        if calibration is not None:
            profile, note = _calibrated(calibration, folder, profile_path)
            notes += (note,) if note else ()
        review = _review(audio, video, speakers, config=config, profile=profile, me=me, folder=folder,
                         end=end, problems=notes)
    except BaseException:
        done.set()
        writer.meta["problems"] = ["the session stopped by an error"]
        writer.close("interrupted")
        raise
    finally:
        if own_marker:
            marker.close()
    writer.meta["problems"] = list(notes)
    save_ended(writer, review, config=config)
    return LiveResult(review=review, folder=folder, notes=notes)


def save_ended(writer: SessionWriter, review: Review, *, config: Config) -> str | None:
    """The end of every session, rehearsal and kept review: review.json, the report (with the
    trend against the person's own last entry in the same folder), the line `attune history`
    shows, and the folder closed as ended. Returns the trend sentence (None: nothing improved)."""
    folder = writer.folder
    write_json(folder / "review.json", review)
    better = trend_since_last(folder, history(folder.parent))
    write_report(folder / "report.html", review, config=config, trend=better)
    writer.meta["duration_s"] = review.duration_s
    writer.meta["summary_line"] = one_line(review, config=config)
    writer.close("ended")
    log.info("saved in %s", folder)
    return better


def _calibrated(calibration: _Calibration, folder: Path, path) -> tuple[Baseline | None, str | None]:
    """The session's calibration result: its baseline saved as the default profile and in the
    session folder, or None and the note saying why it was refused."""
    calibration.finish()  # a session shorter than the window calibrates on what it saw
    if calibration.baseline is None:
        return None, calibration.note
    save_profile(calibration.baseline, folder / PROFILE_FILE)
    try:
        target = Path(path) if path is not None else default_profile_path()
        save_profile(calibration.baseline, target)
    except OSError as e:  # the session's review still uses it; only the next session will not
        return calibration.baseline, f"the calibrated profile could not be saved for later sessions: {e}"
    log.info("calibrated on %d frames; profile saved to %s", calibration.baseline.frames, target)
    return calibration.baseline, None


def _review(audio, video, speakers, *, config, profile, me, folder, end, problems) -> Review:
    vision = None
    if video is not None and video.track.n:
        vision = vision_from_track(video.track, config=config, profile=profile)
    if audio is None:
        speakers = SingleTrack("speaker")
        activity, duration = VoiceActivityDetector(config=config.vad).finish(), end
        problems = ("no microphone was used: no speech to review",) + tuple(problems)
    else:
        activity, duration = audio.finish(), audio.end or 0.0
    return assemble_review(str(folder), config=config, activity=activity, speakers=speakers, duration_s=duration,
                           vision=vision, me=me, problems=tuple(problems))


def _notes(readers, end: float, camera, mic, audio) -> tuple[str, ...]:
    """What the review should say about the sources: one that ended or fell silent early, lost input."""
    notes = []
    for r in readers:
        what = "the camera" if r.label == "camera" else "the microphone"
        if r.last is None:
            notes.append(f"{what} delivered nothing during the session")
            continue
        for a, b in r.gaps:
            notes.append(f"{what} delivered nothing from {a:.1f} s to {b:.1f} s")
        if end - r.last > GAP_S:
            notes.append(f"{what} stopped at {r.last:.1f} s, {end - r.last:.1f} s before the session ended; "
                         "the rest has " + ("audio only" if r.label == "camera" else "video only"))
    for source in (camera, mic):
        if source is not None:
            notes += source.problems
            if source.stats.dropped:
                notes.append(f"{source.name}: {source.stats.dropped} items were dropped (the computer fell behind)")
    if audio is not None and audio.filled_s > 0:
        notes.append(f"{audio.filled_s:.1f} s of audio input was lost and counted as silence")
    return tuple(notes)


def one_line(review: Review, *, config: Config) -> str:
    """One line for `attune history`: length, speakers, and the summary's first strength."""
    summary = summarize(review, config=config.summary)
    first = summary.strengths[0] if summary.strengths else (summary.notes[0] if summary.notes else "")
    return f"{review.duration_s / 60:.1f} min, {len(review.speakers)} speaker(s). {first}".strip()


def _mic_channels(mic) -> int:
    """How many channels `mic` delivers (a replayed file's, or the opened device's)."""
    reader = getattr(mic, "_reader", None)
    if reader is not None:
        return int(reader.info.channels)
    stream = getattr(mic, "_stream", None)
    return int(stream.channels) if stream is not None else 1


def _speaker_settings(speakers, num_speakers) -> dict:
    if isinstance(speakers, ChannelsAreSpeakers):
        return {"speakers": "channels", "names": list(speakers.names)}
    if isinstance(speakers, SingleTrack):
        return {"speakers": "single", "names": [speakers.name]}
    return {"speakers": "diarize", "num_speakers": num_speakers}


__all__ = ["LiveResult", "run_session", "one_line", "save_ended", "warm_up"]
