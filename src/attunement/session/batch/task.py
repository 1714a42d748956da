"""One recording of a batch, as a worker runs it: the review `attune review` makes (same function, same
settings), its files under DIR/<name>/, and its rows of the batch table.

A recording the user can fix (InputError: empty, not media, damaged, a bad RTTM) becomes one row with
the error; anything else is raised, so that Dask retries it (on another worker if this one died).
The content hashes that key a review (resume) are taken here, on the worker, not by the client: the
client only lists and stats the files (index.py).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...config import Config
from ...conversation.rttm import format_rttm, read_rttm
from ...errors import InputError
from ...intervals import subtract, union
from ...records import Review
from ...summary.cues_json import review_cues
from ...summary.json_out import review_to_json, write_private
from ...summary.report import write_report
from ..runners.offline import review_file
from . import jobs
from .index import file_stat
from .jobs import Job, settings_fingerprint
from .table import COLUMNS

#: The files each reviewed recording gets in its folder DIR/<name>/.
OUTPUT_FILES = ("review.json", "who.rttm", "report.html")


@dataclass(frozen=True)
class Outcome:
    """What a recording's task returns: its key, rows, the error (None when reviewed), whether the result
    is final (kept in the index: a review, or an error of the file itself), the review's wall time (s),
    the [file_stat, sha256] of the files hashed here, and `skipped` (already done: no rows sent)."""

    key: str
    name: str
    rows: list[dict[str, Any]]
    error: str | None = None
    final: bool = True
    seconds: float = 0.0
    worker: str = field(default="", compare=False)
    digests: list[list] = field(default_factory=list)
    skipped: bool = False


def review_job(job: Job, *, config: Config, out: str | Path, job_key: str | None = None,
               fingerprint: str | None = None, done: frozenset[str] = frozenset()) -> Outcome:
    """Review `job`'s recording as `attune review` does and write its JSON, RTTM and report under
    `out`/<name>/ (files 0600 under a temporary name, then renamed; the folder 0700).

    `job_key` (jobs.job_key) is the review's key when the client knows it (its files unchanged since a
    worker hashed them); without it the files are hashed here (`fingerprint`: the batch's
    settings_fingerprint, default from `config`), and a key in `done` (reviews kept in the index
    under this name: a file touched but not changed) is not reviewed again: the Outcome is `skipped`.
    """
    t0 = time.perf_counter()
    digests: list[list] = []
    if job_key is None:
        try:
            job_key, digests = hash_job(job, fingerprint=fingerprint or settings_fingerprint(config))
        except OSError as e:  # not kept in the index: a rerun tries again
            message = unreadable(job, e)
            return Outcome("", job.name, [error_row(job, message)], error=message, final=False, worker=_me())
        if job_key in done:
            return Outcome(job_key, job.name, [], digests=digests, skipped=True, worker=_me())
    key = job_key
    folder = Path(out) / job.name
    try:
        review = review_recording(job, config=config)
    except InputError as e:
        _clear(folder)
        return Outcome(key, job.name, [error_row(job, str(e))], error=str(e), seconds=time.perf_counter() - t0,
                       worker=_me(), digests=digests)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    _replace(folder / "review.json",
             lambda p: write_private(p, json.dumps(review_to_json(review), indent=2) + "\n"))
    _replace(folder / "who.rttm",
             lambda p: write_private(p, format_rttm(review.segments, file_id=Path(job.path).stem)))
    _replace(folder / "report.html", lambda p: write_report(p, review, config=config))
    return Outcome(key, job.name, review_rows(job, review), seconds=time.perf_counter() - t0, worker=_me(),
                   digests=digests)


def hash_job(job: Job, *, fingerprint: str) -> tuple[str, list[list]]:
    """(key, [[file_stat, sha256], ...]) of `job`: its recording's and RTTM's content read and hashed here;
    a file that changed while it was read has no stat kept (the next run hashes it again). OSError if a
    file cannot be read."""
    hashes, digests = [], []
    for path in [job.path] + ([job.settings.rttm] if job.settings.rttm else []):
        before = file_stat(path)
        hashes.append(jobs.file_digest(path))
        if file_stat(path) == before:
            digests.append([before, hashes[-1]])
    key = jobs.job_key(job, content=hashes[0], fingerprint=fingerprint, rttm=hashes[1] if len(hashes) > 1 else None)
    return key, digests


def unreadable(job: Job, e: OSError) -> str:
    """The one line for a recording (or its RTTM) that cannot be read."""
    path = e.filename or job.path
    if isinstance(e, FileNotFoundError):
        return f"no such file: {path}"
    return f"{path}: cannot be read ({e.strerror or e.__class__.__name__})"


def review_recording(job: Job, *, config: Config) -> Review:
    """The review of one recording with its settings: exactly `attune review`'s call of review_file."""
    s = job.settings
    reference = read_rttm(s.rttm) if s.rttm else None
    return review_file(job.path, config=config, channels_are_speakers=s.channels_are_speakers,
                       reference=reference, speaker_names=list(s.names) if s.names else None,
                       num_speakers=s.speakers, me=s.me, video=not s.no_video)


def review_rows(job: Job, review: Review) -> list[dict[str, Any]]:
    """One row per speaker (one row with no speaker when nobody spoke); columns as table.COLUMNS."""
    per = review.turn_taking.to_json()["per_speaker"]
    cues = review_cues(review)
    on_camera = review.on_camera
    words = review.language.to_json()["per_speaker"] if review.language is not None else {}
    rows = []
    for speaker in review.speakers or (None,):
        p = per.get(speaker, {})
        mine = cues is not None and speaker == on_camera
        rows.append(_row(job) | {
            "speaker": speaker,
            "duration_s": round(review.duration_s, 3),
            "talk_time_s": p.get("talk_time_s"),
            "talk_share": p.get("talk_share"),
            "turns": p.get("turns"),
            "mean_turn_s": p.get("mean_turn_s"),
            "longest_turn_s": p.get("longest_turn_s"),
            "median_gap_s": p.get("median_response_gap_s"),
            "interruptions_made": p.get("interruptions_made"),
            "interruptions_received": p.get("interruptions_received"),
            "backchannels_made": p.get("backchannels_made"),
            "overlap_s": overlap_s(review, speaker) if speaker is not None else None,
            "video": cues is not None,
            "eye_contact_speaking": cues["eye_contact_share_speaking"] if mine else None,
            "eye_contact_listening": cues["eye_contact_share_listening"] if mine else None,
            "nods_while_listening": cues["nods_while_listening"] if mine else None,
            "face_visible_share": cues["face_visible_share"] if mine else None,
            **_language(words.get(speaker)),
            "notes": " | ".join(review.problems) or None,
        })
    return rows


def _language(w: dict | None) -> dict[str, Any]:
    """A speaker's language-cue columns (empty when nothing was transcribed)."""
    w = w or {}
    return {"open_questions": w.get("open_question"), "closed_questions": w.get("closed_question"),
            "i_statements": w.get("i_statement"), "you_blame": w.get("you_blame"), "validations": w.get("validation"),
            "reflections": w.get("reflection"), "fillers": w.get("fillers"), "words_per_minute": w.get("words_per_minute")}


def error_row(job: Job, message: str) -> dict[str, Any]:
    """The one row of a recording that could not be reviewed."""
    return _row(job) | {"error": message}


def overlap_s(review: Review, speaker: str) -> float:
    """Seconds in which `speaker` talks while someone else does too."""
    mine = union([(s.start, s.end) for s in review.segments if s.speaker == speaker])
    others = union([(s.start, s.end) for s in review.segments if s.speaker != speaker])
    alone = subtract(mine, others)
    return round(sum(b - a for a, b in mine) - sum(b - a for a, b in alone), 3)


def _row(job: Job) -> dict[str, Any]:
    return dict.fromkeys(COLUMNS) | {"file": job.file, "name": job.name}


def _replace(target: Path, write) -> None:
    """`write(tmp)` to a temporary name next to `target`, then rename it into place (atomic)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _clear(folder: Path) -> None:
    """A recording that is now unreadable keeps no outputs of an earlier version of it."""
    for name in OUTPUT_FILES:
        (folder / name).unlink(missing_ok=True)


def _me() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"
