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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._numba import kernel
from ..config import Config, RehearsalConfig
from ..conversation.speakers import FromAnnotation
from ..errors import EndOfStream, InputError
from ..perception.vad import FrameAnalyzer, VoiceActivityDetector
from ..perception.vad_kernels import frame_energy_db
from ..records import AudioBlock, Segment
from .live import POLL_S, _Reader, _Video, save_ended
from .partner import PartnerLine, PartnerVoice, shown_duration
from .rehearse import ME, PARTNER, Rehearsal, levels_from_frames, line_frame_levels, measure_rehearsal
from .review import Review, assemble_review, for_vad
from .scenario import Scenario
from .signals import VadTap, activity_from_records, track_from_records, vad_dtype
from .store import SessionWriter, StoredSession
from .vision import vision_from_track

log = logging.getLogger(__name__)

#: Loud playback frames (30 ms) the live echo gain is measured on: at least, and at most.
ECHO_MIN_FRAMES, ECHO_FRAMES = 10, 200

#: A player: `player(index, line_text, audio float32 [n] or None, rate)` starts the line now
#: (returns at once); it returns False when it could not play it (the line is then shown).
Player = Callable[[int, str, "np.ndarray | None", int], bool]


@dataclass(frozen=True)
class RehearsalResult:
    """A finished rehearsal: the partner's track, the metrics (rehearse.measure_rehearsal), review, folder."""

    track: tuple[PartnerLine, ...]
    metrics: dict
    review: Review
    folder: Path


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


def decide_frames(level_db: np.ndarray, band_db: np.ndarray, voiced: np.ndarray, ref_db: np.ndarray, *,
                  state: np.ndarray, rise_db: float, min_snr_db: float, gain_db: float, margin_db: float
                  ) -> np.ndarray:
    """The user speaks, bool [frames]: webrtcvad's `voiced` where the speech-band level `band_db`
    (dBFS [frames]) exceeds the tracked floor by min_snr_db and, where the partner's playback
    `ref_db` (dBFS [frames], the loudest over the echo delay; -inf or NaN when silent) sounds, the
    frame level `level_db` exceeds ref_db + gain_db by margin_db. The floor (state[0], dBFS, NaN at
    first) follows band_db down at once and rises at most rise_db per frame; updated in place."""
    n = level_db.shape[0]
    if not band_db.shape == voiced.shape == ref_db.shape == (n,) or state.shape != (1,):
        raise ValueError(f"level_db {level_db.shape}, band_db {band_db.shape}, voiced {voiced.shape}, "
                         f"ref_db {ref_db.shape} must be equal 1-D shapes; state {state.shape} must be (1,)")
    out = np.zeros(n, dtype=np.bool_)
    _decide_frames(np.ascontiguousarray(level_db, np.float32), np.ascontiguousarray(band_db, np.float32),
                   np.ascontiguousarray(voiced, np.bool_), np.ascontiguousarray(ref_db, np.float32), state,
                   float(rise_db), float(min_snr_db), float(gain_db), float(margin_db), out)
    return out


@kernel
def _decide_frames(level_db, band_db, voiced, ref_db, state, rise_db, min_snr_db, gain_db, margin_db, out):
    for t in range(level_db.shape[0]):
        band = band_db[t]
        if np.isnan(state[0]):
            state[0] = band
        else:
            state[0] = min(band, state[0] + rise_db)
        speaking = voiced[t] and band > state[0] + min_snr_db
        if ref_db[t] > -np.inf:                       # NaN compares False: silence
            speaking = speaking and level_db[t] > ref_db[t] + gain_db + margin_db
        out[t] = speaking


class _FrameDecider:
    """Mic samples -> per-frame raw "the user speaks" (decide_frames), the echo gain measured on the
    first loud frames of playback: the 90th percentile of mic minus playback level. The playback
    level is the loudest over the echo-delay window, so mic minus it reaches the true gain only at
    the envelope's peaks (the median sits ~7 dB low and lets the echo through); until
    ECHO_MIN_FRAMES frames are seen the echo is taken as loud as the playback (0 dB)."""

    def __init__(self, *, config: Config, rehearsal: RehearsalConfig, rate: int):
        vad = config.vad
        self.analyzer = FrameAnalyzer(rate=rate, frame_ms=vad.frame_ms, highpass_hz=vad.highpass_hz,
                                      aggressiveness=vad.aggressiveness, audible_mode=vad.audible_mode)
        self.hop_s = vad.frame_ms / 1000
        self.min_snr_db, self.rise = vad.min_snr_db, vad.floor_rise_db_per_s * self.hop_s
        self.cfg = rehearsal
        self.state = np.full(1, np.nan)
        self.frames = 0
        self.gain_db = 0.0  # until measured on the first spoken line: the echo as loud as the playback
        self._echo: list[float] = []  # mic minus windowed playback level, dB, over the first loud frames

    def feed(self, x: np.ndarray, playback: "_Playback") -> tuple[np.ndarray, np.ndarray]:
        """(frame start times s [k], speaking bool [k]) for the k frames completed by samples x [n]."""
        level_db, band_db, voiced, _ = self.analyzer.feed(x)
        k = level_db.shape[0]
        first, self.frames = self.frames, self.frames + k
        ref = playback.levels(first, k, lag=round(self.cfg.echo_delay_s / self.hop_s))
        speaking = decide_frames(level_db, band_db, voiced, ref, state=self.state, rise_db=self.rise,
                                 min_snr_db=self.min_snr_db, gain_db=self.gain_db, margin_db=self.cfg.echo_margin_db)
        loud = np.isfinite(ref) & np.isfinite(level_db) & (ref > playback.peak_db - 20)
        if len(self._echo) < ECHO_FRAMES and loud.any():
            self._echo += (level_db - ref)[loud].tolist()
            if len(self._echo) >= ECHO_MIN_FRAMES:
                self.gain_db = float(np.percentile(self._echo, 90))
        return (first + np.arange(k)) * self.hop_s, speaking


class _Playback:
    """The partner's playback level on the frame grid (dBFS, -inf silent), lines added as played."""

    def __init__(self, rate: int, hop_s: float):
        self.rate, self.hop_s, self.hop = rate, hop_s, round(hop_s * rate)
        self.db = np.full(0, -np.inf, dtype=np.float32)
        self.peak_db = -np.inf

    def add(self, start: float, audio: np.ndarray | None) -> None:
        """A line's audio (float32 [n] at rate) starting at `start` s (0 = the mic's first sample)."""
        if audio is None or not audio.size:
            return
        at = max(0, round(start / self.hop_s))
        db = frame_energy_db(audio.astype(np.float32), self.hop)
        db = np.where(db > -100, db, -np.inf).astype(np.float32)
        if at + len(db) > len(self.db):
            self.db = np.concatenate([self.db, np.full(at + len(db) - len(self.db), -np.inf, np.float32)])
        self.db[at:at + len(db)] = np.maximum(self.db[at:at + len(db)], db)
        self.peak_db = max(self.peak_db, float(db.max()))

    def levels(self, first: int, k: int, *, lag: int) -> np.ndarray:
        """float32 [k]: for frames first..first+k-1, the loudest playback frame from `lag` before to one after."""
        if k == 0:
            return np.zeros(0, np.float32)
        pad = np.full(lag + k + 1, -np.inf, np.float32)
        lo = first - lag
        src = self.db[max(lo, 0):max(0, min(first + k + 1, len(self.db)))]
        pad[max(lo, 0) - lo:max(lo, 0) - lo + len(src)] = src
        windows = np.lib.stride_tricks.sliding_window_view(pad, lag + 2)
        return windows.max(axis=1)[:k]


#: One partner line as started: its index in the scenario, session times (s), spoken or shown, and
#: its first sample counted from the microphone's first (the playback grid's origin).
PARTNER_DTYPE = np.dtype([("index", "<i4"), ("start", "<f8"), ("end", "<f8"), ("spoken", "?"), ("at", "<i8")])
#: One frame of a spoken line's playback level on the voice-activity grid (frame 0 = the mic's first).
PLAYBACK_DTYPE = np.dtype([("line", "<i4"), ("frame", "<i8"), ("db", "<f4")])


class _Pacer:
    """The rehearsal's ears: mic blocks -> per-frame decisions -> `Rehearsal.update`; starts each
    line through the player at the latest sample heard. What the review needs goes to the store as
    it happens: the voice activity (`vad`, as a live session), each line started (`partner`) and its
    playback levels (`playback`). The mic signal is kept (memory only) just for keep_media."""

    def __init__(self, plan: Rehearsal, audio, player: Player, *, config: Config, rehearsal: RehearsalConfig,
                 rate: int, writer: SessionWriter, keep_signal: bool = False):
        self.plan, self.audio, self.player, self.rate, self.writer = plan, audio, player, rate, writer
        self.decider = _FrameDecider(config=config, rehearsal=rehearsal, rate=rate)
        self.playback = _Playback(rate, self.decider.hop_s)
        self.vad = VoiceActivityDetector(config=config.vad, channels=1, rate=rate)
        self.tap = VadTap(self.vad)
        self.partner: list[np.ndarray] = []    # PARTNER_DTYPE records, as stored
        self.levels: list[np.ndarray] = []     # PLAYBACK_DTYPE records, as stored
        self.t_first: float | None = None
        self.keep_signal = keep_signal
        self._chunks: list[np.ndarray] = []
        self._heard = 0

    @property
    def end(self) -> float:
        """Session time just after the latest sample heard (0 before any)."""
        return (self.t_first or 0.0) + self._heard / self.rate

    def feed(self, block) -> None:
        """One mono AudioBlock; input lost before it (an overflow) is filled with silence, as in a live session."""
        if self.t_first is None:
            self.t_first = block.t0
        else:
            block = _contiguous(block, self.end)
            if block is None:
                return
        if self.keep_signal:
            self._chunks.append(block.samples[0])
        self.vad.feed(block)
        self.writer.append("vad", self.tap.new_records())
        self._heard += block.samples.shape[1]
        times, speaking = self.decider.feed(block.samples[0], self.playback)
        for t, user in zip(times.tolist(), speaking.tolist()):
            k = self.plan.update(self.t_first + t, user)
            if k is not None:
                self._start(k)

    def _start(self, k: int) -> None:
        text, x = self.plan.scenario.lines[k].text, self.audio[k]
        spoken = self.player(k, text, x, self.rate) and x is not None
        now = self.t_first + self._heard / self.rate  # after the latest sample heard, not the deciding frame
        dur = len(x) / self.rate if spoken else shown_duration(text)
        self.plan.track[-1] = PartnerLine(now, now + dur, text, spoken)
        self.plan.durations[k] = dur
        self.playback.add(now - self.t_first, x if spoken else None)
        rec = np.array([(k, now, now + dur, spoken, self._heard)], PARTNER_DTYPE)
        self.partner.append(rec)
        self.writer.append("partner", rec)
        if spoken:
            first, db = line_frame_levels(x, self._heard, hop=self.playback.hop)
            lv = np.empty(len(db), PLAYBACK_DTYPE)
            lv["line"], lv["frame"], lv["db"] = k, first + np.arange(len(db)), db
            self.levels.append(lv)
            self.writer.append("playback", lv)

    def signal(self) -> np.ndarray:
        """The mic signal (keep_signal only), float32 [n], sample 0 at t_first."""
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)


def _contiguous(block: AudioBlock, end: float) -> AudioBlock | None:
    """`block` made to start at `end` (session s): a gap before it filled with zeros, samples already
    heard cut; None if nothing new is left."""
    missing = int(round((block.t0 - end) * block.rate))
    if missing > 0:
        log.info("%.2f s of microphone input lost at %.2f s: counted as silence", missing / block.rate, end)
        pad = np.zeros((block.samples.shape[0], missing), np.float32)
        return AudioBlock(np.concatenate([pad, block.samples], axis=1), end, block.rate)
    if missing < 0:
        cut = -missing
        return None if cut >= block.samples.shape[1] else AudioBlock(block.samples[:, cut:], end, block.rate)
    return block


def run_rehearsal(*, scenario: Scenario, mic, camera=None, config: Config, player: Player | None = None,
                  stop: threading.Event | None = None, root: str | os.PathLike | None = None,
                  landmarker=None, voice: PartnerVoice | None = None, rehearsal: RehearsalConfig | None = None,
                  keep_media: bool = False, start_s: float = 0.5, on_frame: Callable | None = None
                  ) -> RehearsalResult:
    """Rehearse `scenario` live: lines played through `player` (default SoundPlayer with espeak-ng
    audio, shown when espeak-ng or the output is missing), scheduled by the user's speech heard on
    `mic` (a Microphone, opened by the caller; mono or its first channel), until the last line is
    answered, `stop` is set or the microphone ends. `camera` (optional) adds the on-camera cues to
    the review (`on_frame(frame, landmarks)` on the camera thread: a preview). Writes rehearsal.json,
    review.json, report.html (and audio.wav with keep_media) into a new folder under `root`."""
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
        from ..perception.landmarks import FaceBodyLandmarker
        landmarker = FaceBodyLandmarker(config.perception)
    video = _Video(landmarker, config=config, writer=writer, on_frame=on_frame) if camera is not None else None
    reader = _Reader("camera", camera, video, done) if camera is not None else None
    try:
        if reader is not None:
            reader.start()
        writer.append("vad", np.empty(0, vad_dtype(1)))  # the streams exist from the start
        writer.append("partner", np.empty(0, PARTNER_DTYPE))
        pacer = _Pacer(plan, audio, player, config=config, rehearsal=rcfg, rate=rate, writer=writer,
                       keep_signal=keep_media)
        try:
            while not stop.is_set() and not plan.done:
                try:
                    block = mic.read(timeout=POLL_S)
                except EndOfStream:
                    log.info("the microphone ended before the rehearsal did")
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
        track = list(plan.track)
        activity = pacer.vad.finish()
        ref_db = _ref_db(pacer.levels, frames=activity.frames, hop=pacer.playback.hop)
        metrics = measure_rehearsal(activity, ref_db, track, config=config, rehearsal=rcfg)
        vision = vision_from_track(video.track, config=config) if video is not None and video.track.n else None
        review = _review(activity, track, metrics, vision, duration_s=pacer.end, config=config, folder=folder)
    except BaseException:
        done.set()
        writer.meta["problems"] = ["the rehearsal stopped by an error"]
        writer.close("interrupted")
        raise
    finally:
        if own_marker:
            landmarker.close()
    if keep_media:
        _write_wav(folder / "audio.wav", pacer.signal(), rate)
    _save(writer, scenario, track, metrics, review, config=config)
    return RehearsalResult(track=tuple(track), metrics=metrics, review=review, folder=folder)


def rehearse(*, config: Config, scenario: Scenario, camera: str | None, mic: str | None, window: bool,
             keep_media: bool = False, show: Callable[[str], None] | None = None) -> RehearsalResult:
    """`attune rehearse`: open the devices (camera 'none' skips it; default the first camera and the
    default microphone), rehearse with the calm preview of `attune session`, end on Ctrl-C/Esc/q.
    `show(text)` displays a line that cannot be spoken (no espeak-ng or no output device)."""
    import contextlib

    from ..perception.landmarks import FaceBodyLandmarker
    from ..sources.camera import Camera, list_cameras
    from ..sources.clock import SessionClock
    from ..sources.microphone import Microphone
    from .check import device_spec
    from .live import warm_up
    from .practice import run_with_preview

    if str(mic).lower() == "none":
        raise InputError("--mic none: a rehearsal needs a microphone, the partner waits for your answers")
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
                on_frame=(lambda frame, marks: latest.update(frame=frame)) if show_window else None),
            stop=stop, latest=latest, show=show_window, name="attune-rehearsal")


def _save(writer: SessionWriter, scenario: Scenario, track, metrics: dict, review: Review, *, config: Config) -> None:
    """rehearsal.json, review.json and report.html into the session folder; the session closed as ended."""
    _write_rehearsal_json(writer.folder / "rehearsal.json", scenario, track, metrics)
    save_ended(writer, review, config=config)


def _ref_db(levels, *, frames: int, hop: int) -> np.ndarray:
    """Playback levels dBFS float32 [frames] from PLAYBACK_DTYPE records (a list of arrays or one array)."""
    rec = np.concatenate(levels) if isinstance(levels, list) and levels else levels
    if isinstance(rec, list) or not rec.size:
        return levels_from_frames([], [], frames=frames, hop=hop)
    lines = np.unique(rec["line"])
    parts = [rec[rec["line"] == k] for k in lines.tolist()]
    return levels_from_frames([int(p["frame"][0]) for p in parts], [p["db"] for p in parts], frames=frames, hop=hop)


def _review(activity, track, metrics, vision, *, duration_s: float, config: Config, folder: Path,
            problems: tuple[str, ...] = ()) -> Review:
    """The session's Review: the partner's lines and the user's echo-free speech as the two speakers."""
    segments = [Segment(ln.start, ln.end, PARTNER) for ln in track] + list(metrics["user_segments"])
    return assemble_review(str(folder), config=config, activity=activity, speakers=FromAnnotation(segments),
                           duration_s=duration_s, vision=vision,
                           me=ME if metrics["user_segments"] else None, problems=problems)


def load_rehearsal(stored: StoredSession, *, config: Config) -> RehearsalResult:
    """A rehearsal rebuilt from its session folder (session/store.py's `load_session`), also one that
    was killed: its partner lines with their times, the voice activity and the playback levels
    stored as it ran go through the same measurement as at its end (`measure_rehearsal`), with the
    rehearsal settings it ran with. The review names what was repaired and a missing end."""
    settings, signals = stored.meta.get("settings", {}), stored.signals
    rcfg = dataclasses.replace(config.rehearse, **settings.get("rehearse", {}))
    problems = tuple(stored.meta.get("problems", ())) + stored.notes
    vad = signals.get("vad")
    if vad is None or not vad.size:
        vad = np.empty(0, vad_dtype(1))
        problems += ("no audio was recorded in this session",)
    activity = activity_from_records(vad, config=config, fill_pauses=True)
    texts = settings.get("lines", [])
    partner = signals.get("partner", np.empty(0, PARTNER_DTYPE))
    track = [PartnerLine(float(r["start"]), float(r["end"]), texts[r["index"]] if r["index"] < len(texts) else "",
                         bool(r["spoken"])) for r in partner]
    ref_db = _ref_db(signals.get("playback", np.empty(0, PLAYBACK_DTYPE)), frames=activity.frames,
                     hop=round(activity.hop_s * settings.get("rate", 16000)))
    metrics = measure_rehearsal(activity, ref_db, track, config=config, rehearsal=rcfg)
    marks = signals.get("marks")
    vision = (vision_from_track(track_from_records(marks, config=config), config=config)
              if marks is not None and marks.size else None)
    duration = stored.meta.get("duration_s") or activity.t0 + activity.frames * activity.hop_s
    review = _review(activity, track, metrics, vision, duration_s=float(duration), config=config,
                     folder=stored.folder, problems=problems)
    return RehearsalResult(track=tuple(track), metrics=metrics, review=review, folder=stored.folder)


def _write_rehearsal_json(path: Path, scenario: Scenario, track, metrics: dict) -> None:
    data = {"scenario": scenario.name, "title": scenario.title,
            "partner": [{"start": ln.start, "end": ln.end, "text": ln.text, "spoken": ln.spoken} for ln in track],
            "user_segments": [{"start": s.start, "end": s.end} for s in metrics["user_segments"]]}
    data |= {k: v for k, v in metrics.items() if k not in ("turn_taking", "user_segments")}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)


def _write_wav(path: Path, signal: np.ndarray, rate: int) -> None:
    import wave
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f, wave.open(f, "wb") as w:
        w.setparams((1, 2, rate, 0, "NONE", "not compressed"))
        w.writeframes((np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes())


__all__ = ["Player", "RehearsalResult", "SoundPlayer", "decide_frames", "rehearse", "run_rehearsal"]
