"""The live session: camera and microphone on one session clock -> the same review as a recording.

A camera thread turns frames into landmarks (FaceBodyLandmarker) and a microphone thread feeds
audio blocks to the voice activity detector and the speaker strategy (one shared microphone: the
trained diarizer, segmenting and embedding each 10 s window on its own worker thread as the session
runs, conversation/neural_live.py; the model-free one without the models); they append what they find
to the session store as it happens (flushed at least every second, see signals.py), so a session
that is killed can be rebuilt (`load_review`). The session ends at `duration_s`, when `stop` is set
(Ctrl-C, the window closed) or when both sources end; a source that ends or falls silent early is
named in the review's problems while the other goes on. The review at the end goes through the
same functions as the offline review (session/assemble.py's `assemble_review`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...config import Config
from ...conversation.diarize import Diarizer
from ...conversation.neural_live import LiveNeuralDiarizer, live_models
from ...conversation.speakers import ChannelsAreSpeakers, SingleTrack
from ...cues.baseline_window import CalibrationWindow
from ...cues.calibration import Baseline, save_profile
from ...cues.track import vision_from_track
from ...errors import InputError
from ...models import ModelError
from ...perception.landmarks import FaceBodyLandmarker
from ...perception.vad import VoiceActivityDetector
from ...records import Review
from ..assemble import assemble_review, speaker_strategy
from ..live_words import LiveWords
from ..progress import SUMMARY, Progress, tell
from ..store.ending import save_ended
from ..store.formats import PROFILE_FILE, vad_dtype
from ..store.writer import SessionWriter
from .calibrate import MAX_SECONDS, default_profile_path
from ..words import with_heard
from .offline import renamed_channels
from .streams import (
    GAP_S,
    POLL_S,
    AudioPath,
    SourcePump,
    VideoPath,
    replayed_fast,
    warm_up,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveResult:
    """A finished live session: its review and its folder (review.json, report.html, the signals)."""

    review: Review
    folder: Path
    notes: tuple[str, ...] = field(default_factory=tuple)
    trend: str | None = None  # the gentle trend against the person's own last session (None: nothing improved)


def run_session(*, camera=None, mic=None, config: Config, duration_s: float | None = None,
                profile: Baseline | None = None, slug: str = "practice", keep_media: bool = False,
                stop: threading.Event | None = None, on_frame: Callable | None = None,
                channels_are_speakers: bool = False, speaker_names: Sequence[str] | None = None,
                num_speakers: int | None = None, me: str | None = None,
                root: str | os.PathLike | None = None, landmarker=None, calibrate_s: float = 0.0,
                profile_path: str | os.PathLike | None = None, words: bool = False,
                keep_words: bool | None = None, progress: Progress | None = None) -> LiveResult:
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
    `profile_path` (default: session/calibrate.default_profile_path()); a refused one is a note.
    `words`: transcribe what is said as the session runs (a worker thread, session/live_words.py),
    so the review carries the language cues; `keep_words` keeps the text (default: [words] keep_words)."""
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
    speakers, vad_channels, settings, early = None, 1, {"me": me}, ()
    if mic is not None:
        channels = mic.channels
        speakers, vad_channels = speaker_strategy(channels, config=config, source=mic.name,
                                                  channels_are_speakers=channels_are_speakers,
                                                  speaker_names=speaker_names,
                                                  num_speakers=num_speakers, live=True)
        speakers, early = _trained(speakers, config=config, num_speakers=num_speakers)
        settings |= _speaker_settings(speakers, num_speakers)
    keep = config.words.keep_words if keep_words is None else bool(keep_words)
    if words and mic is not None:
        settings["words"] = {"keep_words": keep}  # the words log's rebuild needs it (session/store/words_log.py)
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
    ears = None
    try:
        ears = (LiveWords(config=config, channel_names=list(speakers.names) if channels_are_speakers else None,
                          writer=writer, keep_words=keep) if words and mic is not None else None)
        audio = (AudioPath(speakers, vad_channels, config=config, writer=writer,
                           keep=folder / "audio.wav" if keep_media else None, words=ears) if mic is not None else None)
        writer.append("vad", np.empty(0, vad_dtype(vad_channels)))  # the stream exists from the start
        calibration = (CalibrationWindow(calibrate_s, config.cues) if calibrate_s > 0 and profile is None
                       and camera is not None else None)
        video = (VideoPath(marker, config=config, writer=writer, on_frame=on_frame, calibration=calibration,
                           realtime=not replayed_fast(camera)) if camera is not None else None)
        readers = [SourcePump(n, s, h, done) for n, s, h in (("camera", camera, video), ("microphone", mic, audio))
                   if s is not None]
        fast = all(replayed_fast(r.source) for r in readers)  # then each reader stops at duration_s of data
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
        writer.flush()  # what the disk refused so far is named in the review
        notes = (early + _notes(readers, end, camera, mic, audio) + (tuple(video.resized) if video is not None else ())
                 + tuple(writer.problems))
        if calibration is not None:
            profile, note = _calibrated(calibration, folder, profile_path)
            notes += (note,) if note else ()
        tell(progress, SUMMARY, 0, 3)  # the end of the session: the review, its words, the folder
        review = _review(audio, video, speakers, config=config, profile=profile, me=me, folder=folder,
                         end=end, problems=notes)
        tell(progress, SUMMARY, 1, 3)
        if ears is not None:
            review = _words(review, ears, speakers, me, config=config, keep_words=keep)
    except BaseException:
        done.set()
        if ears is not None:
            ears.stop()
        if isinstance(speakers, LiveNeuralDiarizer):
            speakers.stop(drop=True)
        writer.meta["problems"] = ["the session stopped by an error"]
        writer.close("interrupted")
        raise
    finally:
        if own_marker:
            marker.close()
    writer.meta["problems"] = list(notes)
    tell(progress, SUMMARY, 2, 3)
    trend = save_ended(writer, review, config=config)
    tell(progress, SUMMARY, 3, 3)
    return LiveResult(review=review, folder=folder, notes=notes, trend=trend)


def _calibrated(calibration: CalibrationWindow, folder: Path, path) -> tuple[Baseline | None, str | None]:
    """The session's calibration result: its baseline saved as the default profile and in the
    session folder, or None and the note saying why it was refused."""
    try:  # a session shorter than the window calibrates on what it saw
        baseline = calibration.baseline()
    except InputError as e:
        log.info("calibration at the start of the session: %s", e)
        return None, f"{e}; eye contact and leaning use the session's own baseline instead"
    save_profile(baseline, folder / PROFILE_FILE)
    try:
        target = Path(path) if path is not None else default_profile_path()
        save_profile(baseline, target)
    except OSError as e:  # the session's review still uses it; only the next session will not
        return baseline, f"the calibrated profile could not be saved for later sessions: {e}"
    log.info("calibrated on %d frames; profile saved to %s", baseline.frames, target)
    return baseline, None


def _words(review: Review, ears: LiveWords, speakers, me: str | None, *, config: Config, keep_words: bool) -> Review:
    """The words heard during the session, as they were logged, given to the review's final speakers
    (one channel each: renamed as `me` relabels them) with their language cues: the same function
    as the rebuild of a killed session (runners/rebuild.py), on the same records."""
    try:
        ears.finish(list(review.segments))
    except Exception as e:  # noqa: BLE001 - the session's other results stand
        return dataclasses.replace(review, problems=review.problems + (f"what was said could not be transcribed: {e}",))
    rename = renamed_channels(speakers, me) if ears.per_channel else None
    return with_heard(review, ears.heard(), config=config, keep_words=keep_words, rename=rename)


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
                           vision=vision, me=me, problems=tuple(problems), kind="live")


def _notes(readers, end: float, camera, mic, audio) -> tuple[str, ...]:
    """What the review should say about the sources: one that ended or fell silent early, lost input."""
    notes = []
    for r in readers:
        what = "the camera" if r.label == "camera" else "the microphone"
        if r.failure is not None:
            notes.append(f"{what} failed ({r.failure}); the session went on without it")
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


def _trained(speakers, *, config: Config, num_speakers: int | None):
    """(speaker strategy, notes): one shared microphone diarized by the trained models as the
    session runs ([diarization] live_engine = "neural"), or the model-free Diarizer with a note
    when the models cannot be loaded."""
    if not isinstance(speakers, Diarizer) or config.diarization.live_engine != "neural":
        return speakers, ()
    try:
        models = live_models(config.diarization)
    except ModelError as e:
        log.warning("trained speaker models unavailable (%s); using the model-free diarizer", e)
        note = (f"the trained speaker models could not be loaded ({e}); voices were told apart by "
                "the model-free diarizer")
        return speakers, (note,)
    return LiveNeuralDiarizer(config=config.diarization, num_speakers=num_speakers, models=models), ()


def _speaker_settings(speakers, num_speakers) -> dict:
    if isinstance(speakers, ChannelsAreSpeakers):
        return {"speakers": "channels", "names": list(speakers.names)}
    if isinstance(speakers, SingleTrack):
        return {"speakers": "single", "names": [speakers.name]}
    engine = "neural" if isinstance(speakers, LiveNeuralDiarizer) else "mfcc"
    return {"speakers": "diarize", "num_speakers": num_speakers, "engine": engine}


__all__ = ["LiveResult", "run_session"]
