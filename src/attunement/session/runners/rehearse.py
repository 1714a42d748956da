"""Live rehearsal: the partner speaks each scenario line, the user answers into the microphone.

The microphone's blocks are cut into voice-activity frames as they arrive (perception/vad.py's
FrameAnalyzer); each frame's raw speech decision (webrtcvad, a level gate over the tracked floor,
the partner's echo removed with the known playback as in rehearse.py) drives `Rehearsal.update`,
which says when to start the next line. As it runs, the voice activity, each line started and its
playback levels go to the session store (no audio), and at the end they go through
`measure_rehearsal` (rehearse.py); a rehearsal that was killed is rebuilt from the same records
(`load_rehearsal`, reached through signals.load_review). The session folder gets rehearsal.json,
review.json and report.html like a live session. Times are session seconds.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ...config import Config, RehearsalConfig
from ...cues.track import vision_from_track
from ...errors import EndOfStream, InputError
from ...records import ME, Review
from ...sources.wav import write_wav
from ..assemble import for_vad
from ..live_words import LiveWords, words_into
from ..progress import SUMMARY, Progress, tell
from ..rehearsal.measure import (
    RehearsalResult,
    measure_rehearsal,
    practice_goals,
    rehearsal_review,
    rehearsal_words,
)
from ..rehearsal.scenario import Scenario
from ..rehearsal.schedule import Rehearsal
from ..rehearsal.voice import PartnerVoice, shown_duration
from ..store.ending import save_ended
from ..store.formats import PARTNER_DTYPE, ref_db_from_records, vad_dtype
from ..store.writer import SessionWriter
from .pacing import Pacer, Player
from .streams import POLL_S, SourcePump, VideoPath, replayed_fast

log = logging.getLogger(__name__)


class SoundPlayer:
    """Plays a line on the default output with sounddevice (loaded on first use); shows it as text
    (logged at INFO and handed to `show`) when there is no audio or no output device."""

    def __init__(self, show: Callable[[str], None] | None = None):
        self.show = show
        self._sd = None
        self.failed = False

    def __call__(self, index: int, text: str, audio: np.ndarray | None, rate: int) -> bool:
        if audio is not None and not self.failed:
            try:
                if self._sd is None:
                    import sounddevice as sd  # loads PortAudio only when a line is played
                    self._sd = sd
                self._sd.play(audio, rate, blocking=False)
                return True
            except Exception as e:  # noqa: BLE001 - no PortAudio / no output device: show instead
                log.warning("cannot play the partner's voice (%s): lines are shown instead", e)
                self.failed = True
        log.info("partner: %s", text)
        if self.show is not None:
            self.show(text)
        return False


def run_rehearsal(*, scenario: Scenario, mic, camera=None, config: Config, player: Player | None = None,
                  stop: threading.Event | None = None, root: str | os.PathLike | None = None,
                  landmarker=None, voice: PartnerVoice | None = None, rehearsal: RehearsalConfig | None = None,
                  keep_media: bool = False, start_s: float = 0.5, on_frame: Callable | None = None,
                  duration_s: float | None = None, words: bool = False,
                  keep_words: bool | None = None, progress: Progress | None = None) -> RehearsalResult:
    """Rehearse `scenario` live: lines played through `player` (default SoundPlayer with espeak-ng
    audio, shown when espeak-ng or the output is missing), scheduled by the user's speech heard on
    `mic` (a Microphone, opened by the caller; mono or its first channel), until the last line is
    answered, `stop` is set, `duration_s` s of microphone input were heard, or the microphone ends. `camera` (optional) adds the on-camera cues to
    the review (`on_frame(frame, landmarks)` on the camera thread: a preview). Writes rehearsal.json,
    review.json, report.html (and audio.wav with keep_media) into a new folder under `root`.
    `words`: transcribe the user's answers as they come (session/live_words.py) for the language
    cues and the scenario's practice goals; `keep_words` keeps the text (default: [words] keep_words)."""
    if mic is None:
        raise InputError("a rehearsal needs a microphone: the partner waits for your answers")
    stop = stop or threading.Event()
    rcfg = rehearsal or config.rehearse
    rate = int(getattr(mic, "rate", 16000))
    voice = voice or PartnerVoice(rate=rate)
    if voice.rate != rate:
        raise InputError(f"partner voice rate {voice.rate} Hz differs from the microphone's {rate} Hz")
    player = player or SoundPlayer()
    audio = [voice.audio(line.text) for line in scenario.lines]
    plan = Rehearsal(scenario, [shown_duration(ln.text) if x is None else len(x) / rate
                                for ln, x in zip(scenario.lines, audio)], config=rcfg, start_s=start_s)
    writer = SessionWriter(f"rehearse-{scenario.name}", root=root,
                           sources={"camera": getattr(camera, "name", None), "microphone": getattr(mic, "name", None)},
                           settings={"scenario": scenario.name, "speakers": "rehearsal", "me": ME,
                                     "title": scenario.title, "lines": [ln.text for ln in scenario.lines],
                                     "rate": rate, "rehearse": dataclasses.asdict(rcfg)})
    folder = writer.folder
    done = threading.Event()
    own_marker = camera is not None and landmarker is None
    if own_marker:
        from ...perception.landmarks import FaceBodyLandmarker
        landmarker = FaceBodyLandmarker(config.perception)
    video = (VideoPath(landmarker, config=config, writer=writer, on_frame=on_frame, realtime=not replayed_fast(camera))
             if camera is not None else None)
    reader = SourcePump("camera", camera, video, done) if camera is not None else None
    ears = None
    try:
        if reader is not None:
            reader.start()
        writer.append("vad", np.empty(0, vad_dtype(1)))  # the streams exist from the start
        writer.append("partner", np.empty(0, PARTNER_DTYPE))
        ears = LiveWords(config=config, channel_names=None) if words else None
        pacer = Pacer(plan, audio, player, config=config, rehearsal=rcfg, rate=rate, writer=writer,
                      keep_signal=keep_media, words=ears)
        problems: list[str] = []
        try:
            while not stop.is_set() and not plan.done and not (
                    duration_s is not None and pacer.t_first is not None and pacer.end - pacer.t_first >= duration_s):
                try:
                    block = mic.read(timeout=POLL_S)
                except EndOfStream:
                    log.info("the microphone ended before the rehearsal did")
                    break
                except Exception as e:  # noqa: BLE001 - a device error (PortAudio): the review of what was heard
                    log.warning("the microphone failed: %s", e)
                    problems.append(f"the microphone failed ({type(e).__name__} at {pacer.end:.1f} s: "
                                    f"{str(e).splitlines()[0][:200] if str(e) else ''}); the rehearsal ended there")
                    break
                if block is not None:
                    pacer.feed(for_vad(block, 1))
        except KeyboardInterrupt:  # Ctrl-C ends the rehearsal as `stop` does: the review of what was heard
            log.info("rehearsal stopped by Ctrl-C after %d lines", len(plan.track))
        done.set()
        if reader is not None:
            reader.join()
            if reader.error is not None:
                raise reader.error
            if reader.failure is not None:
                problems.append(f"the camera failed ({reader.failure}); the rehearsal went on without it")
        tell(progress, SUMMARY, 0, 3)  # the end of the rehearsal: the review, its words, the folder
        track = list(plan.track)
        activity = pacer.vad.finish()
        ref_db = ref_db_from_records(pacer.levels, frames=activity.frames, hop=pacer.playback.hop)
        metrics = measure_rehearsal(activity, ref_db, track, config=config, rehearsal=rcfg)
        vision = vision_from_track(video.track, config=config) if video is not None and video.track.n else None
        review = rehearsal_review(activity, track, metrics, vision, duration_s=pacer.end, config=config, folder=folder,
                                  problems=tuple(problems))
        tell(progress, SUMMARY, 1, 3)
        if ears is not None:
            review = _with_words(review, ears, track, scenario, config=config, keep_words=keep_words)
    except BaseException:
        done.set()
        if ears is not None:
            ears.stop()
        writer.meta["problems"] = ["the rehearsal stopped by an error"]
        writer.close("interrupted")
        raise
    finally:
        if own_marker:
            landmarker.close()
    if keep_media:
        write_wav(folder / "audio.wav", pacer.signal()[None], rate, private=True)
    tell(progress, SUMMARY, 2, 3)
    trend = _save(writer, scenario, track, metrics, review, config=config)
    tell(progress, SUMMARY, 3, 3)
    return RehearsalResult(track=tuple(track), metrics=metrics, review=review, folder=folder, trend=trend)


def rehearse(*, config: Config, scenario: Scenario, camera: str | None, mic: str | None, window: bool,
             keep_media: bool = False, duration_s: float | None = None,
             show: Callable[[str], None] | None = None, words: bool = False,
             keep_words: bool | None = None, progress: Progress | None = None) -> RehearsalResult:
    """`attune rehearse`: open the devices (camera 'none' skips it; default the first camera and the
    default microphone; either may be a file to replay), rehearse with the calm preview of `attune
    session`, end on Ctrl-C/Esc/q, after the last answer, or after `duration_s` s.
    `show(text)` displays a line that cannot be spoken (no espeak-ng or no output device)."""
    import contextlib

    from ...perception.landmarks import FaceBodyLandmarker
    from ...sources.camera import Camera, list_cameras
    from ...sources.clock import SessionClock
    from ...sources.devices import device_spec
    from ...sources.microphone import Microphone
    from ..devices.preview import run_with_preview
    from .streams import warm_up

    if str(mic).lower() == "none":
        raise InputError("--mic none: a rehearsal needs a microphone, the partner waits for your answers")
    if duration_s is not None and not duration_s > 0:
        raise InputError(f"--duration must be > 0, got {duration_s}")
    cam_spec = camera if camera is not None else (list_cameras() or ["none"])[0]
    use_cam = str(cam_spec).lower() != "none"
    stop, clock, latest = threading.Event(), SessionClock(), {}
    with contextlib.ExitStack() as stack:
        marker = stack.enter_context(FaceBodyLandmarker(config.perception)) if use_cam else None
        if use_cam:
            warm_up(config)
        cam = stack.enter_context(Camera(device_spec(cam_spec), clock=clock)) if use_cam else None
        mic_src = stack.enter_context(Microphone(device_spec(mic), clock=clock))
        show_window = window and use_cam
        return run_with_preview(
            lambda: run_rehearsal(
                scenario=scenario, mic=mic_src, camera=cam, config=config, player=SoundPlayer(show=show),
                stop=stop, landmarker=marker, keep_media=keep_media, start_s=clock.now() + 0.5,
                duration_s=duration_s, words=words, keep_words=keep_words, progress=progress,
                on_frame=(lambda frame, marks: latest.update(frame=frame)) if show_window else None),
            stop=stop, latest=latest, show=show_window, name="attune-rehearsal")


def _with_words(review: Review, ears: LiveWords, track, scenario: Scenario, *, config: Config,
                keep_words: bool | None) -> Review:
    """The rehearsal's words (the user's heard, the partner's as written), their language cues and
    the scenario's practice goals."""
    review = words_into(review, ears, config=config, keep_words=keep_words,
                        shape=lambda heard: rehearsal_words(heard, track))
    if review.language is None:  # nothing could be transcribed (the review says why)
        return review
    return dataclasses.replace(review, goals=practice_goals(scenario.goals, review.language, config=config))


def _save(writer: SessionWriter, scenario: Scenario, track, metrics: dict, review: Review, *,
          config: Config) -> str | None:
    """rehearsal.json, review.json and report.html into the session folder; the session closed as
    ended. Returns the trend sentence (save_ended)."""
    _write_rehearsal_json(writer.folder / "rehearsal.json", scenario, track, metrics)
    writer.meta["problems"] = list(review.problems)  # `attune summary` names them again
    return save_ended(writer, review, config=config)


def _write_rehearsal_json(path: Path, scenario: Scenario, track, metrics: dict) -> None:
    data = {"scenario": scenario.name, "title": scenario.title,
            "partner": [{"start": ln.start, "end": ln.end, "text": ln.text, "spoken": ln.spoken} for ln in track],
            "user_segments": [{"start": s.start, "end": s.end} for s in metrics["user_segments"]]}
    data |= {k: v for k, v in metrics.items() if k not in ("turn_taking", "user_segments")}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)


__all__ = ["SoundPlayer", "rehearse", "run_rehearsal"]
