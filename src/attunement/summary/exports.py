"""Exports of one review for other tools: JSON (our schema), RTTM, Praat TextGrid, CSV, and the
words as WebVTT (and a TextGrid words tier) when they were kept (--keep-words).

Every file is written readable by its owner alone (mode 0600). Times are seconds on the session clock.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import numpy as np

from ..conversation.rttm import format_rttm
from ..conversation.transcripts import textgrid_long, webvtt_text, word_tiers
from ..errors import InputError
from ..records import Review
from .json_out import write_json, write_private

log = logging.getLogger(__name__)

FORMATS = ("json", "rttm", "textgrid", "csv", "vtt")
CSV_COLUMNS = ("kind", "speaker", "start", "end", "details")


def export(review: Review, fmt: str, path: str | Path) -> None:
    """Write `review` to `path` as `fmt`: one of json, rttm, textgrid, csv, vtt (kept words only)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "json":
        write_json(path, review)
    elif fmt == "rttm":
        write_private(path, format_rttm(review.segments, file_id=Path(review.input).stem or "audio"))
    elif fmt == "textgrid":
        write_private(path, textgrid_text(review))
    elif fmt == "vtt":
        write_private(path, vtt_text(review))
    else:
        write_private(path, csv_text(review))
    log.info("exported %s to %s", fmt, path)


def kept_words(review: Review) -> tuple:
    """The review's utterances when the words may be kept (--keep-words), else ()."""
    lang = review.language
    return tuple(review.words or ()) if lang is not None and lang.keep_words else ()


def vtt_text(review: Review) -> str:
    """What was said as WebVTT (a voice tag per speaker); InputError when the words were not kept."""
    utts = kept_words(review)
    if not utts:
        raise InputError("the words of this review were not kept: review it again with --keep-words to export them")
    return webvtt_text(utts)


def runs(t: np.ndarray, flags: np.ndarray, end: float) -> list[tuple[float, float]]:
    """(start, width) in seconds of each run of True in `flags` [n] sampled at times `t` [n]; a sample lasts until the next."""
    t = np.asarray(t, float)
    if t.size == 0:
        return []
    edges = np.diff(np.concatenate([[0], np.asarray(flags, bool).astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    t_end = np.append(t[1:], max(end, t[-1]))
    return [(float(t[a]), float(t_end[b - 1] - t[a])) for a, b in zip(starts, stops)]


def tiers(review: Review) -> dict[str, list[tuple[float, float, str]]]:
    """Labelled intervals (start, end, label) per tier: one per speaker, then eye_contact, posture, lean, nods (video)."""
    out = {sp: [(s.start, s.end, sp) for s in review.segments if s.speaker == sp] for sp in review.speakers}
    out |= word_tiers(kept_words(review))
    vision = review.vision
    if vision is None:
        return out
    t, face, post, end = vision.times, vision.face, vision.posture, review_end(review)

    def labelled(*pairs):
        rows = [(a, a + w, label) for flags, label in pairs for a, w in runs(t, flags, end)]
        return sorted(rows)

    seen_post = np.isfinite(post.open)
    out["eye_contact"] = labelled((face.eye_contact & face.has_face, "contact"), (~face.has_face, "no face"))
    out["posture"] = labelled((seen_post & (post.open == 1), "open"), (np.isfinite(post.crossed) & (post.crossed == 1), "arms crossed"))
    out["lean"] = sorted((e.start, e.end, e.kind) for e in face.events if e.kind in ("lean_in", "lean_back"))
    out["nods"] = sorted((e.start, e.end, e.kind) for e in face.events if e.kind in ("nod", "shake"))
    return out


def review_end(review: Review) -> float:
    """The end of the session clock: the audio's length, or the last thing found if later."""
    ends = [review.duration_s] + [s.end for s in review.segments]
    if review.vision is not None and review.vision.times.size:
        ends.append(float(review.vision.times[-1]))
        ends += [e.end for e in review.vision.face.events]
    return max(ends)


def textgrid_text(review: Review) -> str:
    """A Praat long-format TextGrid: one interval tier per speaker, and cue tiers when there was video."""
    return textgrid_long(tiers(review), review_end(review))


def csv_text(review: Review) -> str:
    """Segments and events, one row each: kind, speaker, start, end (s), details ("key=value; ...")."""
    tt = review.turn_taking
    rows = [("speech", s.speaker, s.start, s.end, "") for s in review.segments]
    rows += [("turn", t.speaker, t.start, t.end, "") for t in tt.turns]
    rows += [("interruption", e.by, e.t, e.t + e.overlap_s, f"of={e.of}; overlap_s={e.overlap_s:.3f}")
             for e in tt.interruptions]
    rows += [("attempted_interruption", e.by, e.t, e.t + e.overlap_s, f"of={e.of}; overlap_s={e.overlap_s:.3f}")
             for e in tt.attempted_interruptions]
    rows += [("backchannel", b.by, b.t, b.t + b.duration_s, f"during={b.during}") for b in tt.backchannels]
    rows += [("floor_transfer", f.to, f.t - max(f.offset_s, 0.0), f.t,
              f"from={f.from_}; offset_s={f.offset_s:.3f}; kind={f.kind}") for f in tt.floor_transfers]
    rows += [("pause", p.speaker, p.t, p.t + p.duration_s, "") for p in tt.pauses]
    if review.vision is not None:
        who = review.on_camera or ""
        for e in review.vision.face.events:
            details = "; ".join(x for x in (f"amplitude={e.amplitude:.3f}" if np.isfinite(e.amplitude) else "",
                                            f"count={e.count}" if e.count else "") if x)
            rows.append((e.kind, who, e.start, e.end, details))
    rows.sort(key=lambda r: (r[2], r[3], r[0]))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows((k, sp, f"{a:.3f}", f"{b:.3f}", d) for k, sp, a, b, d in rows)
    return buf.getvalue()
