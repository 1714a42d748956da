"""The end of every session, rehearsal and kept review: review.json, the report with the trend, the
line `attune history` shows, and the folder closed as ended."""

from __future__ import annotations

import logging

from ...config import Config
from ...records import Review
from ...summary.json_out import write_json, write_private
from ...summary.report import write_report
from ...summary.text import summarize
from ...summary.trend import trend_since_last
from .history import history
from .writer import SessionWriter

log = logging.getLogger(__name__)

#: The summary as printed at the end, kept so `attune summary` says the same later (words included).
SUMMARY_FILE = "summary.txt"


def save_ended(writer: SessionWriter, review: Review, *, config: Config) -> str | None:
    """The end of every session, rehearsal and kept review: review.json, the summary text, the
    report (with the trend against the person's own last entry in the same folder), the line
    `attune history` shows, and the folder closed as ended. Returns the trend sentence (None: nothing improved)."""
    folder = writer.folder
    write_json(folder / "review.json", review)
    write_private(folder / SUMMARY_FILE, summarize(review, config=config.summary).text() + "\n")
    better = trend_since_last(folder, history(folder.parent))
    write_report(folder / "report.html", review, config=config, trend=better)
    writer.meta["duration_s"] = review.duration_s
    writer.meta["summary_line"] = one_line(review, config=config)
    writer.close("ended")
    log.info("saved in %s", folder)
    return better


def one_line(review: Review, *, config: Config) -> str:
    """One line for `attune history`: length, speakers, and the summary's first strength."""
    summary = summarize(review, config=config.summary)
    first = summary.strengths[0] if summary.strengths else (summary.notes[0] if summary.notes else "")
    return f"{review.duration_s / 60:.1f} min, {len(review.speakers)} speaker(s). {first}".strip()


def ended_summary(folder) -> str | None:
    """The summary an ended session, rehearsal or kept review was saved with; None if it has none."""
    from pathlib import Path

    path = Path(folder) / SUMMARY_FILE
    try:
        return path.read_text().rstrip("\n")
    except OSError:
        return None
