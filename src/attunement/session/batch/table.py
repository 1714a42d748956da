"""The batch table: one row per recording and speaker, written as Parquet and CSV (docs/batch.md).

Every column is always there with one type (empty cells are null), so tables of different batches
concatenate; times are seconds rounded to the millisecond, shares 0 to 1.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Column -> (Arrow type name, meaning). The order is the table's.
COLUMNS: dict[str, tuple[str, str]] = {
    "file": ("string", "the recording, relative to the input folder or as written in the manifest"),
    "name": ("string", "its output folder under DIR"),
    "speaker": ("string", "speaker id (names given, `me`/`partner`, speaker1.. or ch1..)"),
    "duration_s": ("float64", "length of the recording, s"),
    "talk_time_s": ("float64", "this speaker's speech, s"),
    "talk_share": ("float64", "share of all speech, 0-1"),
    "turns": ("int64", "turns taken"),
    "mean_turn_s": ("float64", "mean turn length, s"),
    "longest_turn_s": ("float64", "longest turn (monologue), s"),
    "median_gap_s": ("float64", "median gap before this speaker's replies, s (negative: overlapping start)"),
    "interruptions_made": ("int64", "interruptions this speaker made"),
    "interruptions_received": ("int64", "interruptions this speaker received"),
    "backchannels_made": ("int64", "short 'mm-hm's while another held the floor"),
    "overlap_s": ("float64", "time this speaker talked while someone else did too, s"),
    "video": ("bool_", "the recording had a video track that was watched"),
    "eye_contact_speaking": ("float64", "on-camera person only: share of measurable frames with eye contact "
                                        "while speaking"),
    "eye_contact_listening": ("float64", "on-camera person only: the same while another speaker talks"),
    "nods_while_listening": ("int64", "on-camera person only: nods while another speaker talks"),
    "face_visible_share": ("float64", "on-camera person only: share of frames with a face found"),
    "open_questions": ("int64", "sentences that were open questions (language cues, docs/words.md; empty without words)"),
    "closed_questions": ("int64", "sentences that were yes/no or short-fact questions"),
    "i_statements": ("int64", "\"I\" statements about the speaker's own feelings or needs"),
    "you_blame": ("int64", "\"you always/never\"-style blame statements"),
    "validations": ("int64", "validating or appreciating sentences"),
    "reflections": ("int64", "reflections of the partner's previous turn"),
    "fillers": ("int64", "filler words (um, uh, you know...)"),
    "words_per_minute": ("float64", "speaking rate over the speaker's own speech time (empty under 10 s)"),
    "notes": ("string", "what the review could not see or hear well, ' | '-separated"),
    "error": ("string", "why the recording could not be reviewed (then the other columns are empty)"),
}


def schema():
    import pyarrow as pa

    return pa.schema([(name, getattr(pa, kind)()) for name, (kind, _) in COLUMNS.items()])


def to_arrow(rows: Sequence[dict[str, Any]]):
    """The rows as a pyarrow Table with the fixed schema."""
    import pyarrow as pa

    return pa.Table.from_pylist([{c: r.get(c) for c in COLUMNS} for r in rows], schema=schema())


def write_table(rows: Sequence[dict[str, Any]], folder: str | Path, *, stem: str = "table") -> tuple[Path, Path]:
    """Write `rows` to `folder`/<stem>.parquet and .csv (0600, temporary name then rename); their paths."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    folder = Path(folder)
    table = to_arrow(rows)
    paths = folder / f"{stem}.parquet", folder / f"{stem}.csv"
    for path, write in zip(paths, (pq.write_table, pcsv.write_csv)):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.close(fd)
            write(table, str(tmp))
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return paths


def read_table(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a table written by write_table (Parquet)."""
    import pyarrow.parquet as pq

    return pq.read_table(str(path)).to_pylist()
