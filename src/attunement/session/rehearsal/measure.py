"""Rehearsing alone: when the partner speaks next, which mic speech is the user's, and what it shows.

The partner's lines are known sample for sample (partner.py), so their echo in the microphone is
predicted from the known playback level plus a per-session echo gain, and mic speech during a
partner line counts as the user only where it is clearly louder than that prediction. Times are
seconds on the session clock; levels are dBFS of frames on the voice-activity grid.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...config import Config, RehearsalConfig, default_config
from ...conversation.language import goal_moments
from ...conversation.speakers import FromAnnotation, refill_masked
from ...conversation.turns import analyze_turns
from ...perception.asr import Utterance
from ...perception.echo import (
    estimate_echo_delay,
    estimate_echo_gain,
    playback_levels,
    suppress_echo,
)
from ...perception.transcribe import utterance_of
from ...perception.vad import detect_speech
from ...perception.vad_kernels import speech_segments
from ...records import PartnerLine, Review, Segment, VoiceActivity
from ..assemble import assemble_review

log = logging.getLogger(__name__)

PARTNER, ME = "partner", "me"


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


def rehearsal_review(activity, track, metrics, vision, *, duration_s: float, config: Config, folder: Path,
            problems: tuple[str, ...] = ()) -> Review:
    """The session's Review: the partner's lines and the user's echo-free speech as the two speakers."""
    segments = [Segment(ln.start, ln.end, PARTNER) for ln in track] + list(metrics["user_segments"])
    return assemble_review(str(folder), config=config, activity=activity, speakers=FromAnnotation(segments),
                           duration_s=duration_s, vision=vision,
                           me=ME if metrics["user_segments"] else None, problems=problems)


@dataclass(frozen=True)
class RehearsalResult:
    """A finished rehearsal: the partner's track, the metrics (rehearse.measure_rehearsal), review, folder."""

    track: tuple[PartnerLine, ...]
    metrics: dict
    review: Review
    folder: Path
    trend: str | None = None  # the gentle trend against the person's own last session (None: nothing improved)


def rehearsal_words(heard: Sequence[Utterance], track: Sequence[PartnerLine]) -> tuple[Utterance, ...]:
    """The words of a rehearsal: the user's as heard (words given to "me"; the partner's echo in the
    microphone dropped) and the partner's lines as written, on their playback times."""
    mine = [u for u in heard if u.speaker == ME]
    theirs = [utterance_of(PARTNER, [(ln.start, ln.end)], ln.text) for ln in track]
    return tuple(sorted(mine + theirs, key=lambda u: (u.start, u.speaker)))


def practice_goals(goals: Sequence[str], language, *, config: Config) -> dict[str, tuple]:
    """For each practice goal of the scenario, the user's utterances where it happened ("avoid_blame":
    where it did not) as (start s, first sentence or None when the words are not kept)."""
    out = {}
    for goal in goals:
        moments = goal_moments(goal, language.labelled, speaker=ME, config=config.words)
        out[goal] = tuple((language.labelled[k].utterance.start,
                           language.labelled[k].sentences[0][0] if language.keep_words else None) for k in moments)
    return out
