"""Reviews of recorded talks are kept like sessions: history, report, summary and exports later,
a gentle trend in the report, nothing kept with --no-save, never the recording itself."""

from __future__ import annotations

import csv
import io
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from attunement.config import default_config
from attunement.conversation.rttm import read_rttm
from attunement.records import Segment
from attunement.session.runners.offline import review_annotation
from attunement.session.store.kept import export_kept, is_kept_review, keep_review, kept_summary
from attunement.session.store.history import history
from attunement.sources.wav import write_wav
from attunement.demo.conversation import practice_conversation
from attunement.summary.text import summarize

CONFIG = default_config()
ATTUNE = Path(sys.executable).with_name("attune")


def run(*args):
    cmd = [str(ATTUNE)] if ATTUNE.exists() else [sys.executable, "-m", "attunement"]
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    convo = practice_conversation(seed=1, channels=2)
    path = tmp_path_factory.mktemp("talk") / "talk.wav"
    write_wav(path, convo.audio, convo.rate)
    return path


def test_attune_review_keeps_the_review_in_history_with_its_report(talk, private_data_home):
    proc = run("review", talk, "--channels-are-speakers", "--names", "me,partner", "--me", "me")
    assert proc.returncode == 0, proc.stderr
    past = history()
    assert len(past) == 1 and past[0]["status"] == "ended" and past[0]["kind"] == "review"
    folder = Path(past[0]["folder"])
    assert folder.is_relative_to(private_data_home) and is_kept_review(folder)
    assert f"Saved in your history: {folder}" in proc.stdout and f"Report: {folder / 'report.html'}" in proc.stdout
    assert past[0]["summary"].startswith("0.5 min, 2 speaker(s).") and past[0]["length_s"] > 25
    names = {p.name for p in folder.iterdir()}
    assert {"review.json", "report.html", "summary.txt", "review.rttm", "review.TextGrid", "review.csv"} <= names
    assert not any(n.endswith((".wav", ".mkv", ".mp4")) for n in names)  # never the recording
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    doc = json.loads((folder / "review.json").read_text())
    assert doc["duration_s"] == pytest.approx(past[0]["length_s"])
    assert "<svg" in (folder / "report.html").read_text()

    summary = run("summary", "last")
    assert summary.returncode == 0 and summary.stdout.strip() == kept_summary(folder)
    assert summary.stdout.strip() in proc.stdout  # the same text the review printed
    out = folder.parent / "x.rttm"
    assert run("export", "last", "--format", "rttm", "-o", out).returncode == 0
    segs = read_rttm(out)
    assert len(segs) == len(doc["segments"]) and {s.speaker for s in segs} == {"me", "partner"}
    out_csv = folder.parent / "x.csv"
    assert run("export", folder.name, "--format", "csv", "-o", out_csv).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert sum(r["kind"] == "speech" for r in rows) == len(doc["segments"])
    assert stat.S_IMODE(out_csv.stat().st_mode) == 0o600


def test_no_save_keeps_nothing(talk, private_data_home):
    proc = run("review", talk, "--channels-are-speakers", "--no-save")
    assert proc.returncode == 0, proc.stderr
    assert history() == [] and "Saved in your history" not in proc.stdout and "Report:" not in proc.stdout


def _talk(me_share: float, minutes: float = 4.0) -> list[Segment]:
    """Alternating 10 s exchanges: `me` talks `me_share` of each, the partner the rest, no overlap."""
    out, t = [], 0.0
    while t + 10.0 <= minutes * 60:
        out += [Segment(t, t + 10.0 * me_share - 0.3, "me"), Segment(t + 10.0 * me_share, t + 9.7, "partner")]
        t += 10.0
    return out


def test_the_report_mentions_what_went_better_than_last_time(private_data_home):
    first = review_annotation(_talk(0.85), config=CONFIG, source="monday.rttm")
    second = review_annotation(_talk(0.55), config=CONFIG, source="friday.rttm")
    one, better_first = keep_review(first, config=CONFIG)
    two, better = keep_review(second, config=CONFIG)
    assert better_first is None
    assert better == "The talking was more evenly shared than last time."
    assert "Since last time" not in (one / "report.html").read_text()
    page = (two / "report.html").read_text()
    assert "Since last time" in page and better in page
    three, worse = keep_review(first, config=CONFIG)  # back to talking most: no trend, never a scolding
    assert worse is None and "Since last time" not in (three / "report.html").read_text()
    assert [Path(h["folder"]) for h in history()] == [one, two, three]
    assert kept_summary(two) == summarize(second, config=CONFIG.summary).text()


def test_export_of_a_kept_review_refuses_an_unknown_format(private_data_home, tmp_path):
    folder, _ = keep_review(review_annotation(_talk(0.5), config=CONFIG, source="a.rttm"), config=CONFIG)
    from attunement.errors import InputError

    with pytest.raises(InputError, match="unknown export format"):
        export_kept(folder, "mp3", tmp_path / "x.mp3")
