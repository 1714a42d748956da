"""The microphone pieces of a live rehearsal: per-frame echo-free speech decisions, the partner's
playback levels on the frame grid, and the pacer that starts each line and stores what the review
needs. Times are session seconds."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...config import Config, RehearsalConfig
from ...perception.echo import decide_frames, line_frame_levels
from ...perception.vad import FrameAnalyzer, VoiceActivityDetector
from ...perception.vad_kernels import frame_energy_db
from ...records import PartnerLine
from ...sources.mend import AudioMender
from ..live_words import LiveWords
from ..rehearsal.schedule import Rehearsal
from ..rehearsal.voice import shown_duration
from ..store.formats import PARTNER_DTYPE, PLAYBACK_DTYPE, vad_records
from ..store.writer import SessionWriter

#: Loud playback frames (30 ms) the live echo gain is measured on: at least, and at most.
ECHO_MIN_FRAMES, ECHO_FRAMES = 10, 200


class FrameDecider:
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

    def feed(self, x: np.ndarray, playback: "Playback") -> tuple[np.ndarray, np.ndarray]:
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


class Playback:
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


class Pacer:
    """The rehearsal's ears: mic blocks -> per-frame decisions -> `Rehearsal.update`; starts each
    line through the player at the latest sample heard. What the review needs goes to the store as
    it happens: the voice activity (`vad`, as a live session), each line started (`partner`) and its
    playback levels (`playback`). The mic signal is kept (memory only) just for keep_media."""

    def __init__(self, plan: Rehearsal, audio, player: Player, *, config: Config, rehearsal: RehearsalConfig,
                 rate: int, writer: SessionWriter, keep_signal: bool = False, words: LiveWords | None = None):
        self.plan, self.audio, self.player, self.rate, self.writer = plan, audio, player, rate, writer
        self.words = words
        self.decider = FrameDecider(config=config, rehearsal=rehearsal, rate=rate)
        self.playback = Playback(rate, self.decider.hop_s)
        self.vad = VoiceActivityDetector(config=config.vad, channels=1, rate=rate)
        self.mender = AudioMender()
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
        block = self.mender.mend(block)
        if block is None:
            return
        if self.t_first is None:
            self.t_first = block.t0
        if self.keep_signal:
            self._chunks.append(block.samples[0])
        frames = self.vad.feed(block)
        self.writer.append("vad", vad_records(frames))
        if self.words is not None:
            self.words.feed(block, frames)
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


#: A player: `player(index, line_text, audio float32 [n] or None, rate)` starts the line now
#: (returns at once); it returns False when it could not play it (the line is then shown).
Player = Callable[[int, str, "np.ndarray | None", int], bool]
