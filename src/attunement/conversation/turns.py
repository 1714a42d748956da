"""Turn-taking from speech segments: turns, floor transfers, interruptions, backchannels.

The rules, thresholds and sources are in docs/metrics.md; the kernels are in turn_kernels.py.
Times are seconds on the session clock.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import TurnConfig
from ..errors import ConfigError, InputError
from ..records import Segment
from . import turn_kernels as tk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """One speaker holding the floor: from the onset that won it to their last speech before losing it."""

    speaker: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Interruption:
    """`by` started at `t` inside `of`'s speech; `overlap_s` seconds spoken at once.

    Also used for attempted interruptions (`by` stopped first; `overlap_s` is all of `by`'s speech).
    """

    t: float
    by: str
    of: str
    overlap_s: float


@dataclass(frozen=True)
class Backchannel:
    """A short vocalisation by `by`, starting at `t`, wholly inside `during`'s speech."""

    t: float
    by: str
    during: str
    duration_s: float


@dataclass(frozen=True)
class FloorTransfer:
    """The floor passing to `to` at its onset `t`; `offset_s` = t - end of `from_`'s speech (< 0: overlap).

    `kind` is "gap", "smooth_overlap", "interruption" or "overlap_transfer".
    """

    t: float
    from_: str
    to: str
    offset_s: float
    kind: str


@dataclass(frozen=True)
class Pause:
    """Silence of `duration_s` seconds from `t` inside `speaker`'s own turn."""

    t: float
    speaker: str
    duration_s: float


@dataclass(frozen=True)
class SpeakerStats:
    """One speaker's numbers; times in seconds, None where there is nothing to take a median of."""

    talk_time_s: float
    talk_share: float
    turns: int
    mean_turn_s: float
    longest_turn_s: float
    interruptions_made: int
    interruptions_received: int
    backchannels_made: int
    median_response_gap_s: float | None
    attempted_interruptions_made: int
    attempted_interruptions_received: int
    backchannels_received: int
    pauses: int
    median_pause_s: float | None


@dataclass(frozen=True)
class TurnTaking:
    """Everything the engine found in one conversation; `segments` are the bridged ones, in start order."""

    speakers: tuple[str, ...]
    segments: tuple[Segment, ...]
    turns: tuple[Turn, ...]
    per_speaker: dict[str, SpeakerStats]
    interruptions: tuple[Interruption, ...]
    attempted_interruptions: tuple[Interruption, ...]
    backchannels: tuple[Backchannel, ...]
    floor_transfers: tuple[FloorTransfer, ...]
    pauses: tuple[Pause, ...]

    @property
    def floor_transfer_offsets_s(self) -> list[float]:
        """Floor-transfer offsets in time order, seconds: gaps > 0, overlaps < 0."""
        return [f.offset_s for f in self.floor_transfers]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; times rounded to the millisecond."""
        return {
            "speakers": list(self.speakers),
            "per_speaker": {k: {f: _ms(v) for f, v in dataclasses.asdict(s).items()}
                            for k, s in self.per_speaker.items()},
            "interruptions": [_row(e) for e in self.interruptions],
            "attempted_interruptions": [_row(e) for e in self.attempted_interruptions],
            "backchannels": [_row(e) for e in self.backchannels],
            "floor_transfer_offsets_s": [_ms(x) for x in self.floor_transfer_offsets_s],
            "floor_transfers": [{"t": _ms(f.t), "from": f.from_, "to": f.to, "offset_s": _ms(f.offset_s),
                                 "kind": f.kind} for f in self.floor_transfers],
            "turns": [_row(t) for t in self.turns],
            "pauses": [_row(p) for p in self.pauses],
        }


def analyze_turns(segments: Sequence[Segment], *, config: TurnConfig,
                  speakers: Sequence[str] | None = None) -> TurnTaking:
    """Turn-taking of a conversation from its speech segments (any number of speakers, any order).

    `speakers` lists every participant (one with no speech gets a zero row); by default the
    sorted ids found. Zero-length segments are dropped; a segment ending before it starts, a
    non-finite time or a speaker not in `speakers` raises InputError.
    """
    _check_config(config)
    segments = list(segments)
    ids = _speaker_ids(segments, speakers)
    starts, ends, spk = _to_arrays(segments, ids)
    keep = ends > starts
    starts, ends, spk = starts[keep], ends[keep], spk[keep]

    by_speaker = np.lexsort((ends, starts, spk))
    starts, ends, spk = tk.bridge_pauses(starts[by_speaker], ends[by_speaker], spk[by_speaker],
                                         bridge_pause_s=config.bridge_pause_s)
    in_time = np.lexsort((spk, -ends, starts))
    starts, ends, spk = starts[in_time], ends[in_time], spk[in_time]
    floor = tk.run_floor(starts, ends, spk, backchannel_max_s=config.backchannel_max_s,
                         interruption_min_holdover_s=config.interruption_min_holdover_s,
                         interruption_min_continue_s=config.interruption_min_continue_s)
    result = _records(ids, starts, ends, spk, floor)
    log.debug("turn-taking: %d segments -> %d turns, %d transfers, %d interruptions, %d backchannels",
              len(result.segments), len(result.turns), len(result.floor_transfers),
              len(result.interruptions), len(result.backchannels))
    return result


def _check_config(config: TurnConfig) -> None:
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ConfigError(f"[turns] {f.name} = {value!r} must be a finite number of seconds >= 0")


def _speaker_ids(segments: Sequence[Segment], speakers: Sequence[str] | None) -> tuple[str, ...]:
    if speakers is None:
        return tuple(sorted({s.speaker for s in segments}))
    ids = tuple(speakers)
    if len(set(ids)) != len(ids):
        dup = sorted({k for k in ids if ids.count(k) > 1})
        raise InputError(f"speaker list names {dup} more than once")
    return ids


def _to_arrays(segments: Sequence[Segment], ids: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    index = {k: i for i, k in enumerate(ids)}
    unknown = sorted({s.speaker for s in segments} - set(index))
    if unknown:
        raise InputError(f"segments name speaker(s) {unknown} not in the speaker list {list(ids)}")
    starts = np.array([s.start for s in segments], np.float64)
    ends = np.array([s.end for s in segments], np.float64)
    spk = np.array([index[s.speaker] for s in segments], np.int32)
    bad = np.flatnonzero(~(np.isfinite(starts) & np.isfinite(ends)) | (ends < starts))
    if bad.size:
        seg = segments[int(bad[0])]
        why = "has a non-finite time" if not (math.isfinite(seg.start) and math.isfinite(seg.end)) \
            else "ends before it starts"
        raise InputError(f"segment #{int(bad[0])} {seg} {why}")
    return starts, ends, spk


def _records(ids: tuple[str, ...], starts: np.ndarray, ends: np.ndarray, spk: np.ndarray,
             floor: tk.FloorResult) -> TurnTaking:
    kind, holder = floor.kind, floor.holder

    def where(k: int) -> list[int]:
        return np.flatnonzero(kind == k).tolist()

    def interruptions(k: int) -> tuple[Interruption, ...]:
        return tuple(Interruption(float(starts[i]), ids[spk[i]], ids[holder[i]], float(floor.overlap_s[i]))
                     for i in where(k))

    transfers = np.flatnonzero(np.isin(kind, tk.TRANSFER_KINDS)).tolist()
    return TurnTaking(
        speakers=ids,
        segments=tuple(Segment(float(s), float(e), ids[k]) for s, e, k in zip(starts, ends, spk)),
        turns=tuple(Turn(ids[k], float(s), float(e))
                    for k, s, e in zip(floor.turn_speaker, floor.turn_start, floor.turn_end)),
        per_speaker=_stats(ids, starts, ends, spk, floor),
        interruptions=interruptions(tk.INTERRUPTION),
        attempted_interruptions=interruptions(tk.ATTEMPT),
        backchannels=tuple(Backchannel(float(starts[i]), ids[spk[i]], ids[holder[i]], float(ends[i] - starts[i]))
                           for i in where(tk.BACKCHANNEL)),
        floor_transfers=tuple(FloorTransfer(float(starts[i]), ids[holder[i]], ids[spk[i]],
                                            float(floor.offset_s[i]), tk.KIND_NAMES[kind[i]])
                              for i in transfers),
        pauses=tuple(Pause(float(starts[i] - floor.offset_s[i]), ids[spk[i]], float(floor.offset_s[i]))
                     for i in where(tk.CONTINUE)),
    )


def _stats(ids: tuple[str, ...], starts: np.ndarray, ends: np.ndarray, spk: np.ndarray,
           floor: tk.FloorResult) -> dict[str, SpeakerStats]:
    """Per-speaker totals with bincount; medians by speaker mask (a handful of speakers)."""
    n = len(ids)
    kind, holder = floor.kind, floor.holder

    def made(k: int) -> np.ndarray:
        return np.bincount(spk[kind == k], minlength=n)

    def received(k: int) -> np.ndarray:
        return np.bincount(holder[kind == k], minlength=n)

    def median(values: np.ndarray, who: np.ndarray, i: int) -> float | None:
        mine = values[who == i]
        return float(np.median(mine)) if mine.size else None

    talk = np.bincount(spk, weights=ends - starts, minlength=n)
    total = talk.sum()
    share = talk / total if total > 0 else np.zeros(n)
    lengths = floor.turn_end - floor.turn_start
    turns = np.bincount(floor.turn_speaker, minlength=n)
    turn_sum = np.bincount(floor.turn_speaker, weights=lengths, minlength=n)
    longest = np.zeros(n)
    np.maximum.at(longest, floor.turn_speaker, lengths)
    is_transfer = np.isin(kind, tk.TRANSFER_KINDS)
    gap_of, gap_to = floor.offset_s[is_transfer], spk[is_transfer]
    pause_of, pause_by = floor.offset_s[kind == tk.CONTINUE], spk[kind == tk.CONTINUE]
    counts = {name: made(k) for name, k in (("interruptions_made", tk.INTERRUPTION),
                                            ("backchannels_made", tk.BACKCHANNEL),
                                            ("attempted_interruptions_made", tk.ATTEMPT))}
    counts |= {name: received(k) for name, k in (("interruptions_received", tk.INTERRUPTION),
                                                 ("backchannels_received", tk.BACKCHANNEL),
                                                 ("attempted_interruptions_received", tk.ATTEMPT))}
    counts["pauses"] = np.bincount(pause_by, minlength=n)
    return {
        k: SpeakerStats(
            talk_time_s=float(talk[i]),
            talk_share=float(share[i]),
            turns=int(turns[i]),
            mean_turn_s=float(turn_sum[i] / turns[i]) if turns[i] else 0.0,
            longest_turn_s=float(longest[i]),
            median_response_gap_s=median(gap_of, gap_to, i),
            median_pause_s=median(pause_of, pause_by, i),
            **{name: int(c[i]) for name, c in counts.items()},
        )
        for i, k in enumerate(ids)
    }


def _ms(value: Any) -> Any:
    """Floats rounded to the millisecond (no -0.0); other values unchanged."""
    return round(value, 3) + 0.0 if isinstance(value, float) else value


def _row(record: Any) -> dict[str, Any]:
    return {f: _ms(v) for f, v in dataclasses.asdict(record).items()}
