"""Reviews of recorded talks kept like live sessions: one private folder each in the sessions
folder, so `attune history` lists them, the next session's trend can compare against them, and
`attune summary` / `attune export` work on them later.

A kept review holds what was derived, never the media: review.json (docs/json-schema.md), the
report, the summary text, and its exports (RTTM, TextGrid, CSV), every file 0600 in a 0700 folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ...config import Config
from ...conversation.rttm import format_rttm
from ...errors import InputError
from ...records import Review
from ...summary.exports import csv_text, kept_words, textgrid_text, vtt_text
from ...summary.json_out import write_private
from .ending import SUMMARY_FILE, save_ended
from .writer import SessionWriter

#: The `kind` a kept review's meta.json settings carry.
KIND = "review"
#: The export files a kept review holds, by format.
FILES = {"json": "review.json", "rttm": "review.rttm", "textgrid": "review.TextGrid", "csv": "review.csv",
         "vtt": "review.vtt"}


def keep_review(review: Review, *, config: Config, root: str | os.PathLike | None = None) -> tuple[Path, str | None]:
    """Saves `review` as a session folder (see the module) and returns (folder, the trend sentence
    against the person's own last session, or None). The report in it mentions the trend too."""
    name = Path(review.input).stem or "review"
    writer = SessionWriter(f"review-{name}", sources={"file": str(Path(review.input).resolve())},
                           settings={"kind": KIND}, root=root)
    folder = writer.folder
    try:
        write_private(folder / FILES["rttm"], format_rttm(review.segments, file_id=name))
        write_private(folder / FILES["textgrid"], textgrid_text(review))
        write_private(folder / FILES["csv"], csv_text(review))
        if kept_words(review):  # the transcript only when the person asked to keep it
            write_private(folder / FILES["vtt"], vtt_text(review))
        writer.meta["problems"] = list(review.problems)
        better = save_ended(writer, review, config=config)  # review.json is FILES["json"]
    except BaseException:  # an unfinished kept review is removed whole: nothing half-written stays
        writer.close("interrupted")
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, better


def is_kept_review(folder: str | os.PathLike) -> bool:
    """Whether `folder` is a kept review (not a live session with signals to rebuild)."""
    try:
        meta = json.loads((Path(folder) / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return meta.get("settings", {}).get("kind") == KIND


def kept_summary(folder: str | os.PathLike) -> str:
    """The summary text a kept review was saved with."""
    path = Path(folder) / SUMMARY_FILE
    try:
        return path.read_text().rstrip("\n")
    except OSError as e:
        raise InputError(f"{path}: cannot read the saved summary ({e.strerror or e})") from None


def export_kept(folder: str | os.PathLike, fmt: str, out: str | os.PathLike) -> None:
    """Copies a kept review's export of format `fmt` to `out` (mode 0600)."""
    if fmt not in FILES:
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FILES)}")
    src = Path(folder) / FILES[fmt]
    if not src.exists():
        raise InputError(f"{folder}: the words of this review were not kept (review it again with --keep-words)"
                         if fmt == "vtt" else f"{folder}: this saved review has no {fmt} export")
    write_private(out, "")  # created 0600 before the content goes in
    shutil.copyfile(src, out)


__all__ = ["keep_review", "is_kept_review", "kept_summary", "export_kept", "KIND", "FILES"]
