"""Conversations with exact truth from real speech: one-speaker stretches of a recording, laid out by a script.

An annotation (RTTM) says where each person speaks. Wherever exactly one person speaks, with
nobody else within `CLEARANCE_S`, the audio holds that person's voice alone: such stretches
(trimmed `TRIM_S` inside their bounds) are cut out and placed where a script says, so that
every gap, overlap, interruption and backchannel of the result is known to the sample. The
truth of a placed stretch is its annotated extent: real speech keeps its own short pauses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..demo.conversation import (
    MARGIN_S,
    Line,
    SyntheticConversation,
    check_mix_args,
    default_turn_rules,
    expected_from_script,
    layout,
    mix,
    ramps,
)
from ..errors import InputError
from ..intervals import subtract, union
from ..records import Segment
from ..sources.media import read_audio

log = logging.getLogger(__name__)

CLEARANCE_S = 0.1       # no other speaker annotated within this of a stretch
TRIM_S = 0.02           # cut this far inside the annotated bounds
MIN_STRETCH_S = 0.3     # shorter one-speaker stretches are not used
MAX_INNER_SILENCE_S = 0.2   # a longer silence between one speaker's segments splits a stretch
_RAMP_S = 0.005         # fades at the cuts, against clicks
_NOISE_FALLBACK_DB = 50.0   # background below the speech level when the recording has no silence to measure

#: Speakers 0 and 1 are the annotation's speakers in sorted order. Two interruptions (one each
#: way), a backchannel, a smooth overlap, a pause and gaps of 0.2-1.2 s; each line takes a
#: whole stretch, so lengths (and talk shares) follow the recording.
ASSEMBLED_SCRIPT: tuple[Line, ...] = (
    Line(0, "start", 0.5),
    Line(1, "gap", 0.3),
    Line(0, "gap", 0.6),
    Line(1, "backchannel", 1.0),
    Line(1, "gap", 0.2),
    Line(0, "interrupt", 0.8),
    Line(1, "gap", 0.9),
    Line(1, "pause", 0.7),
    Line(0, "gap", 0.4),
    Line(1, "interrupt", 0.7),
    Line(0, "smooth", 0.25),
    Line(1, "gap", 1.2),
    Line(0, "gap", 0.25),
)
_TAIL_S = 0.5


def assemble_conversation(wav_path: str | Path, rttm_segments: list[Segment], *,
                          script: Sequence[Line] | None = None, channels: int = 2,
                          leak_db: float = 15.0, seed: int = 0) -> SyntheticConversation:
    """Lay out real one-speaker stretches of `wav_path` (annotated by `rttm_segments`) by `script`.

    Speakers 0 and 1 of the script are the first two annotated speakers (sorted ids) that have
    usable stretches. `seed` picks the stretches (unused ones first) and the background noise
    (pink, at the level of the recording where nobody is annotated). channels=1 gives
    the mono mix, channels=2 one microphone per speaker hearing the other `leak_db` lower.
    `expected` also lists, per line, the source stretch: {"speaker", "source_start", "source_end", "start"}.
    """
    script = tuple(ASSEMBLED_SCRIPT if script is None else script)
    audio, rate = _read_mono(Path(wav_path))
    check_mix_args(rate, channels, leak_db, n_speakers=2)
    stretches = single_speaker_stretches(rttm_segments, duration_s=audio.size / rate)
    speakers = tuple(sorted({s.speaker for s in stretches}))
    needed = 1 + max(line.speaker for line in script)
    if needed != 2 or len(speakers) < 2:
        raise InputError(f"{wav_path}: the script needs 2 speakers; usable one-speaker stretches found for "
                         f"{list(speakers) or 'nobody'}")
    speakers = speakers[:2]
    rng = np.random.default_rng(seed)
    chosen = _choose(script, stretches, speakers, rate, rng)
    spans = layout(script, [_n(s, rate) for s in chosen], rate=rate)
    n = max(b for _, b in spans) + round(_TAIL_S * rate)
    voices = np.zeros((2, n))
    for line, src, (a, b) in zip(script, chosen, spans):
        first = round(src.start * rate)
        voices[line.speaker, a:b] += audio[first: first + b - a] * ramps(b - a, round(_RAMP_S * rate))
    noise_rms = _background_rms(audio, rttm_segments, rate)
    mixed = mix(voices, channels=channels, leak_db=leak_db, noise_rms=noise_rms, rate=rate, rng=rng)
    segments = tuple(sorted(Segment(a / rate, b / rate, speakers[line.speaker]) for line, (a, b) in zip(script, spans)))
    expected = expected_from_script(script, spans, speakers, rate=rate)
    expected["sources"] = [{"speaker": s.speaker, "source_start": s.start, "source_end": s.end, "start": a / rate}
                           for s, (a, _) in zip(chosen, spans)]
    log.info("assembled %.1f s from %d stretches of %s", n / rate, len(set(chosen)), wav_path)
    return SyntheticConversation(mixed, rate, segments, speakers, expected)


def single_speaker_stretches(segments: Sequence[Segment], *, duration_s: float | None = None,
                             clearance_s: float = CLEARANCE_S, trim_s: float = TRIM_S,
                             min_s: float = MIN_STRETCH_S) -> list[Segment]:
    """Source intervals (s) where exactly one speaker is annotated, nobody else within `clearance_s`.

    One speaker's segments less than `MAX_INNER_SILENCE_S` apart join into one stretch (a
    longer silence splits it); the result is trimmed `trim_s` inside, clipped to
    [0, duration_s], and kept if at least `min_s` long. Sorted by start.
    """
    out = []
    for who in sorted({s.speaker for s in segments}):
        own = union([(s.start, s.end) for s in segments if s.speaker == who], join_s=MAX_INNER_SILENCE_S)
        others = union([(s.start - clearance_s, s.end + clearance_s) for s in segments if s.speaker != who])
        for a, b in subtract(own, others):
            a, b = max(a + trim_s, 0.0), b - trim_s
            if duration_s is not None:
                b = min(b, duration_s)
            if b - a >= min_s:
                out.append(Segment(a, b, who))
    return sorted(out)


def _choose(script: Sequence[Line], stretches: list[Segment], speakers: tuple[str, ...], rate: int,
            rng: np.random.Generator) -> list[Segment]:
    """One stretch per line: long enough for what the line and the lines leaning on it need."""
    rules = default_turn_rules()
    chosen: list[Segment] = []
    used: set[Segment] = set()
    holder_len = 0.0
    for i, line in enumerate(script):
        lo, hi = MIN_STRETCH_S, np.inf
        if line.kind == "interrupt":
            lo = line.offset_s + rules.interruption_min_continue_s + MARGIN_S
        elif line.kind == "smooth":
            lo = line.offset_s + MARGIN_S
        elif line.kind == "backchannel":
            hi = min(rules.backchannel_max_s - MARGIN_S, holder_len - MARGIN_S - line.offset_s)
        else:
            lo = max(lo, _needed_by_followers(script[i + 1:], rules.backchannel_max_s))
        fits = [s for s in stretches if s.speaker == speakers[line.speaker] and lo <= _n(s, rate) / rate <= hi]
        if not fits:
            raise InputError(f"script line {i} ({line.kind}): no stretch of {speakers[line.speaker]} "
                             f"between {lo:.2f} and {hi:.2f} s in the recording")
        fresh = [s for s in fits if s not in used] or fits
        pick = fresh[rng.integers(len(fresh))]
        chosen.append(pick)
        used.add(pick)
        if line.kind != "backchannel":
            holder_len = _n(pick, rate) / rate
    return chosen


def _needed_by_followers(later: Sequence[Line], backchannel_max_s: float) -> float:
    """Shortest length (s) of a holder's speech that the next lines, timed from it, fit in."""
    need = 0.0
    for line in later:
        if line.kind == "backchannel":
            need = max(need, line.offset_s + backchannel_max_s)
            continue
        if line.kind in ("smooth", "interrupt"):
            need = max(need, line.offset_s + 1.0)   # >= 1 s between the holder's onset and the overlapping one
        break
    return need


def _read_mono(path: Path) -> tuple[np.ndarray, int]:
    """The recording as float64 [n] (channels averaged) at 16 kHz, decoded like any review input."""
    audio, _ = read_audio(path, rate=16000)
    if audio.shape[-1] == 0:
        raise InputError(f"{path} holds no audio")
    return audio.mean(axis=0).astype(np.float64), 16000


def _background_rms(audio: np.ndarray, segments: Sequence[Segment], rate: int) -> float:
    """RMS of the recording where nobody is annotated (0.1 s clear); a quiet default without such time."""
    quiet = np.ones(audio.size, dtype=bool)
    for s in segments:
        quiet[max(round((s.start - CLEARANCE_S) * rate), 0): round((s.end + CLEARANCE_S) * rate)] = False
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    if quiet.sum() >= rate:
        return rms(audio[quiet])
    return rms(audio[~quiet]) * 10 ** (-_NOISE_FALLBACK_DB / 20)




def _n(s: Segment, rate: int) -> int:
    """Samples in a source stretch."""
    return round(s.end * rate) - round(s.start * rate)
