"""Rehearsing alone: when the partner speaks next, which mic speech is the user's, and what it shows.

The partner's lines are known sample for sample (partner.py), so their echo in the microphone is
predicted from the known playback level plus a per-session echo gain, and mic speech during a
partner line counts as the user only where it is clearly louder than that prediction. Times are
seconds on the session clock; levels are dBFS of frames on the voice-activity grid.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from .._numba import kernel
from ..config import Config, RehearsalConfig, default_config
from ..conversation.speakers import refill_masked
from ..conversation.turns import analyze_turns
from ..errors import InputError
from ..perception.vad import detect_speech
from ..perception.vad_kernels import frame_energy_db, speech_segments
from ..records import Segment, VoiceActivity
from .partner import PartnerLine
from .scenario import Scenario

log = logging.getLogger(__name__)

PARTNER, ME = "partner", "me"


class Rehearsal:
    """The schedule of the partner's lines, driven by the user's (echo-free) speech as it happens.

    Call `update(t, user_speaking)` once per voice-activity frame; it returns the index of the line
    to start now (play or show it), else None. A line expecting an answer is followed by the next
    once the user has spoken `min_answer_s` and then been silent `end_silence_s`, or, once the
    answer's longest expected length (answer_s[1]) has passed since the line ended, after half
    that silence (at once if the user never spoke).
    """

    def __init__(self, scenario: Scenario, durations: Sequence[float], *, config: RehearsalConfig | None = None,
                 start_s: float = 0.5, spoken: bool = True):
        if len(durations) != len(scenario.lines):
            raise InputError(f"{len(durations)} line durations for {len(scenario.lines)} lines of {scenario.name}")
        self.scenario = scenario
        self.durations = [float(d) for d in durations]
        self.config = config or default_config().rehearse
        self.spoken = spoken
        self.track: list[PartnerLine] = []
        self._due = float(start_s)
        self._heard = 0.0
        self._last_speech = -np.inf
        self._last_t: float | None = None
        self._finished = False

    @property
    def done(self) -> bool:
        """True once every line has been started and the last has ended (and its answer, if any)."""
        return self._finished

    def update(self, t: float, user_speaking: bool) -> int | None:
        """Advance to time `t`; the index of the line to start at `t`, or None."""
        if self._finished:
            return None
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t
        k = len(self.track)
        if k and t < self.track[-1].end:
            return None                                   # the partner is speaking
        if user_speaking:
            self._heard += dt
            self._last_speech = t
        if k and self.scenario.lines[k - 1].expects_answer and self._due == np.inf:
            self._answer_due(t)
        if t < self._due:
            return None
        if k == len(self.scenario.lines):
            self._finished = True
            return None
        line = self.scenario.lines[k]
        self.track.append(PartnerLine(t, t + self.durations[k], line.text, self.spoken))
        self._heard, self._last_speech = 0.0, -np.inf
        self._due = np.inf if line.expects_answer else t + self.durations[k] + self.config.line_pause_s
        return k

    def _answer_due(self, t: float) -> None:
        cfg = self.config
        ended = self.track[-1].end
        answered = self._heard >= cfg.min_answer_s and t - self._last_speech >= cfg.end_silence_s
        # past the longest expected answer: a shorter silence will do, but never cut the user off mid-word
        timed_out = (t - ended >= self.scenario.lines[len(self.track) - 1].answer_s[1]
                     and t - self._last_speech >= cfg.end_silence_s / 2)
        if answered or timed_out:
            self._due = t


def playback_levels(track: Sequence[PartnerLine], audio: Sequence[np.ndarray | None], *, frames: int,
                    hop_s: float, rate: int, t0: float = 0.0) -> np.ndarray:
    """Frame levels (dBFS, float32 [frames]) of the partner's playback on the voice-activity grid.

    Each line's audio (float32 [n] at `rate`, None if shown) is placed at its start; silence is -120 dB.
    """
    hop = round(hop_s * rate)
    signal = np.zeros(frames * hop, dtype=np.float32)
    for line, x in zip(track, audio):
        if x is None:
            continue
        at = round((line.start - t0) * rate)
        lo, hi = max(at, 0), min(at + len(x), len(signal))
        if hi > lo:
            signal[lo:hi] += x[lo - at:hi - at]
    return frame_energy_db(signal, hop)


def estimate_echo_gain(mic_db: np.ndarray, ref_db: np.ndarray, *, floor_db: float) -> float:
    """Echo path gain in dB (mic level minus playback level), the median over the loud playback frames.

    Taken per session from the first spoken line; frames within `floor_db` of the loudest playback
    frame count. The median keeps a short interruption by the user from raising it. NaN if none.
    """
    if mic_db.shape != ref_db.shape:
        raise ValueError(f"mic_db {mic_db.shape} and ref_db {ref_db.shape} must be equal shapes")
    if ref_db.size == 0:
        return float("nan")
    loud = ref_db > ref_db.max() - min(floor_db, 20.0)
    return float(np.median(mic_db[loud] - ref_db[loud])) if loud.any() else float("nan")


def estimate_echo_delay(mic_db: np.ndarray, ref_db: np.ndarray, *, max_frames: int) -> int:
    """Playback-to-mic delay in frames (0..max_frames): the lag that best matches the level envelopes.

    mic_db, ref_db: dBFS [frames] over the first spoken line (and a little after it); the lag
    maximizing the Pearson correlation of mic_db[t] with ref_db[t - lag] wins.
    """
    if mic_db.shape != ref_db.shape or mic_db.ndim != 1:
        raise ValueError(f"mic_db {mic_db.shape} and ref_db {ref_db.shape} must be equal 1-D shapes")
    best, best_r = 0, -np.inf
    for lag in range(0, min(max_frames, len(mic_db) - 3) + 1):
        m, r = mic_db[lag:].astype(np.float64), ref_db[:len(ref_db) - lag].astype(np.float64)
        ok = np.isfinite(m) & np.isfinite(r)
        if ok.sum() < 3 or m[ok].std() == 0 or r[ok].std() == 0:
            continue
        c = float(np.corrcoef(m[ok], r[ok])[0, 1])
        if c > best_r:
            best, best_r = lag, c
    return best


def suppress_echo(speech: np.ndarray, mic_db: np.ndarray, ref_db: np.ndarray, *, gain_db: float,
                  margin_db: float, background_db: float, lag: int, ref_floor_db: float,
                  onset_margin_db: float = 1.5, onset_frames: int = 0) -> np.ndarray:
    """The user's own speech, bool [frames]: mic `speech` minus what the partner's echo explains.

    The echo at frame t is predicted from the playback (ref_db, dBFS [frames]) `lag` frames earlier,
    the loudest of frames t-lag-1..t-lag+1, plus gain_db; where that is silent (not above ref_floor_db)
    the prediction is the mic background level. A speech frame is kept only when mic_db exceeds
    the larger of the two by margin_db; where the playback is silent, speech is kept as it is.
    Each kept run then reaches back up to `onset_frames` speech frames that exceed the prediction
    by onset_margin_db (a soft onset under the echo, hysteresis). NaN levels count as silence.
    """
    if not speech.shape == mic_db.shape == ref_db.shape or speech.ndim != 1:
        raise ValueError(f"speech {speech.shape}, mic_db {mic_db.shape}, ref_db {ref_db.shape} must be equal 1-D")
    if lag < 0:
        raise ValueError(f"lag must be >= 0, got {lag}")
    out = np.zeros(speech.shape, dtype=np.bool_)
    _suppress_echo(np.ascontiguousarray(speech, dtype=np.bool_), np.ascontiguousarray(mic_db, dtype=np.float32),
                   np.ascontiguousarray(ref_db, dtype=np.float32), np.float32(gain_db), np.float32(margin_db),
                   np.float32(background_db), int(lag), np.float32(ref_floor_db), np.float32(onset_margin_db),
                   int(onset_frames), np.empty(speech.shape, dtype=np.float32), np.zeros(speech.shape, np.bool_), out)
    return out


@kernel
def _suppress_echo(speech, mic_db, ref_db, gain_db, margin_db, background_db, lag, ref_floor_db,
                   onset_margin_db, onset_frames, expected, kept, out):
    n = speech.shape[0]
    for t in range(n):
        expected[t] = -np.inf
        if not speech[t]:
            continue
        ref = np.float32(-np.inf)
        for u in range(max(0, t - lag - 1), min(n, max(0, t - lag + 2))):
            if ref_db[u] > ref:                     # NaN compares False: silence
                ref = ref_db[u]
        if not ref > ref_floor_db:
            kept[t] = True                          # the partner is silent around t
        else:
            expected[t] = max(ref + gain_db, background_db)
            kept[t] = mic_db[t] > expected[t] + margin_db
        out[t] = kept[t]
    for t in range(1, n):                           # soft onsets: reach back from each kept run
        if kept[t] and not kept[t - 1]:
            u = t - 1
            while u >= 0 and u >= t - onset_frames and speech[u] and mic_db[u] > expected[u] + onset_margin_db:
                out[u] = True
                u -= 1


def user_segments(activity: VoiceActivity, ref_db: np.ndarray, track: Sequence[PartnerLine], *,
                  config: RehearsalConfig | None = None, channel: int = 0) -> list[Segment]:
    """The user's speech ("me" segments) from the mic's voice activity, the partner's echo removed.

    ref_db: playback levels on the same frame grid (playback_levels). The echo gain comes from the
    first spoken line's frames; the background is the mic's 5th-percentile frame level.
    """
    cfg = config or default_config().rehearse
    speech, mic_db = activity.speech[channel], activity.level_db[channel]
    if ref_db.shape != speech.shape:
        raise ValueError(f"ref_db {ref_db.shape} must match the activity's {speech.shape} frames")
    hop = activity.hop_s
    floor_db = float(np.max(ref_db)) - cfg.ref_floor_db if ref_db.size else 0.0
    first = next((ln for ln in track if ln.spoken), None)
    if first is None or not np.isfinite(floor_db):
        own = speech.copy()
    else:
        a = max(0, int((first.start - activity.t0) / hop))
        max_lag = round(cfg.echo_delay_s / hop)
        b = min(len(speech), int(np.ceil((first.end - activity.t0) / hop)) + max_lag)
        lag = estimate_echo_delay(mic_db[a:b], ref_db[a:b], max_frames=max_lag)
        gain = estimate_echo_gain(mic_db[a + lag:b], ref_db[a:b - lag], floor_db=cfg.ref_floor_db)
        background = float(np.percentile(mic_db, 5)) if mic_db.size else -120.0
        log.debug("rehearsal echo: delay %d frames, gain %.1f dB; mic background %.1f dBFS", lag, gain, background)
        own = suppress_echo(speech, mic_db, ref_db, gain_db=gain if np.isfinite(gain) else 0.0,
                            margin_db=cfg.echo_margin_db, background_db=background,
                            lag=lag, ref_floor_db=floor_db, onset_margin_db=cfg.onset_margin_db,
                            onset_frames=round(cfg.onset_s / hop))
        own = refill_masked(speech[None], own[None], max_frames=round(cfg.refill_s / hop))[0]
    starts, ends = speech_segments(own, hop_s=hop, t0=activity.t0)
    return [Segment(float(s), float(e), ME) for s, e in zip(starts, ends) if e - s >= cfg.min_user_s - 1e-9]


def rehearsal_metrics(partner_segments: Sequence[Segment], user_segments: Sequence[Segment], *,
                      config: Config) -> dict:
    """Interruptions of the partner's lines, response gaps after each line, listening during them.

    partner_segments: one Segment per partner line, in order (speaker "partner"); user_segments:
    the user's echo-free speech (speaker "me"). Turn rules are conversation/turns.py's.
    Response gap of a line: the start of the user's first speech that runs past the line's end,
    before the next line, minus the line's end (negative: the user was already talking); None if none.
    """
    lines = sorted((Segment(s.start, s.end, PARTNER) for s in partner_segments), key=lambda s: s.start)
    mine = [Segment(s.start, s.end, ME) for s in user_segments]
    tt = analyze_turns(lines + mine, config=config.turns, speakers=(PARTNER, ME))

    def line_at(t: float) -> int | None:
        return next((i for i, ln in enumerate(lines) if ln.start <= t < ln.end), None)

    per_line = []
    for i, ln in enumerate(lines):
        nxt = lines[i + 1].start if i + 1 < len(lines) else np.inf
        answer = next((s for s in sorted(mine) if s.end > ln.end and s.start < nxt), None)
        over = sum(max(0.0, min(s.end, ln.end) - max(s.start, ln.start)) for s in mine)
        per_line.append({"start": ln.start, "end": ln.end,
                         "response_gap_s": None if answer is None else answer.start - ln.end,
                         "overlap_s": over,
                         "backchannels": sum(1 for b in tt.backchannels if b.by == ME and ln.start <= b.t < ln.end)})

    def events(items) -> list[dict]:
        return [{"t": e.t, "line": line_at(e.t), "overlap_s": e.overlap_s} for e in items
                if e.by == ME and e.of == PARTNER]

    gaps = [p["response_gap_s"] for p in per_line if p["response_gap_s"] is not None]
    partner_time = sum(ln.duration for ln in lines)
    return {
        "interruptions": events(tt.interruptions),
        "attempted_interruptions": events(tt.attempted_interruptions),
        "lines": per_line,
        "median_response_gap_s": float(np.median(gaps)) if gaps else None,
        "backchannels": sum(p["backchannels"] for p in per_line),
        "talk_over_share": sum(p["overlap_s"] for p in per_line) / partner_time if partner_time else 0.0,
        "turn_taking": tt,
    }


def analyze_rehearsal(mic: np.ndarray, rate: int, track: Sequence[PartnerLine], audio: Sequence[np.ndarray | None],
                      *, config: Config, rehearsal: RehearsalConfig | None = None) -> dict:
    """A whole rehearsal from its microphone recording: rehearsal_metrics plus "user_segments".

    mic: float32 [n] or [1, n] at `rate` Hz, sample 0 at session time 0; track: the partner lines
    played (Rehearsal.track); audio: each line's float32 [n] at `rate` (None if shown on screen).
    """
    activity = detect_speech(mic, rate, config=config.vad)
    ref_db = playback_levels(track, audio, frames=activity.frames, hop_s=activity.hop_s, rate=rate, t0=activity.t0)
    return measure_rehearsal(activity, ref_db, track, config=config, rehearsal=rehearsal)


def measure_rehearsal(activity: VoiceActivity, ref_db: np.ndarray, track: Sequence[PartnerLine], *,
                      config: Config, rehearsal: RehearsalConfig | None = None) -> dict:
    """rehearsal_metrics plus "user_segments" from the mic's voice activity and the playback levels
    ref_db (dBFS [frames] on the activity's grid); the one path of a live rehearsal's end and of one
    rebuilt from its session folder (rehearse_live.load_rehearsal)."""
    mine = user_segments(activity, ref_db, track, config=rehearsal or config.rehearse)
    result = rehearsal_metrics([Segment(ln.start, ln.end, PARTNER) for ln in track], mine, config=config)
    result["user_segments"] = mine
    return result


def line_frame_levels(audio: np.ndarray, at: int, *, hop: int) -> tuple[int, np.ndarray]:
    """One line's playback levels on the frame grid: (first frame, dBFS float32 [k]) for the frames
    its samples touch when it starts at sample `at` (>= 0) of a grid of `hop`-sample frames. Equal to
    playback_levels' values there while no other line shares a frame (lines never overlap)."""
    if at < 0 or hop < 1:
        raise ValueError(f"at must be >= 0 and hop >= 1, got at={at}, hop={hop}")
    first = at // hop
    k = -(-(at + len(audio)) // hop) - first
    buf = np.zeros(k * hop, np.float32)
    buf[at - first * hop:at - first * hop + len(audio)] = audio
    return first, frame_energy_db(buf, hop)


def levels_from_frames(first: np.ndarray, levels: Sequence[np.ndarray], *, frames: int, hop: int) -> np.ndarray:
    """Playback levels dBFS float32 [frames] from lines' (first frame, levels) (line_frame_levels):
    silence is the level of an all-zero frame; a frame two lines share gets their summed power."""
    silent = frame_energy_db(np.zeros(hop, np.float32), hop)[0]
    out = np.full(frames, silent, np.float32)
    seen = np.zeros(frames, np.bool_)
    for f, db in zip(np.asarray(first).tolist(), levels):
        db = np.asarray(db, np.float32)[:max(0, frames - f)]
        here, both = out[f:f + len(db)], seen[f:f + len(db)]
        summed = 10 * np.log10(10 ** (here / 10.0) + 10 ** (db / 10.0) - 10 ** (silent / 10.0))
        here[:] = np.where(both, summed, db)
        both[:] = True
    return out
