"""Exports read back by independent readers: praatio for TextGrid, our RTTM reader, the csv and json modules."""

from __future__ import annotations

import csv
import json
import stat

import numpy as np
import pytest

from attunement.config import default_config
from attunement.conversation.rttm import read_rttm
from attunement.errors import InputError
from attunement.records import Segment
from attunement.session.runners.offline import review_annotation
from attunement.summary.exports import export
from attunement.summary.json_out import review_to_json

CONFIG = default_config()
CLIP_S = 15.0  # the first 15 s of the demo: turns, a backchannel, a look down, two nods


@pytest.fixture(scope="module")
def video_review(demo_clips):
    return demo_clips.review(CLIP_S)


@pytest.fixture(scope="module")
def audio_review():
    segs = [Segment(0.0, 4.0, "ann"), Segment(1.0, 1.4, "ben"), Segment(3.5, 7.0, "ben"), Segment(7.3, 9.0, "ann")]
    return review_annotation(segs, config=CONFIG, source="talk.rttm")


def spans(segments, speaker):
    return [(round(s.start, 3), round(s.end, 3)) for s in segments if s.speaker == speaker]


@pytest.mark.parametrize("fmt", ["json", "rttm", "textgrid", "csv"])
def test_every_export_is_private(audio_review, tmp_path, fmt):
    path = tmp_path / f"out.{fmt}"
    export(audio_review, fmt, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_size > 0


def test_unknown_format_is_one_clear_error(audio_review, tmp_path):
    with pytest.raises(InputError, match="'eaf'.*json, rttm, textgrid, csv"):
        export(audio_review, "eaf", tmp_path / "x.eaf")


def test_json_is_the_documented_object(video_review, tmp_path):
    export(video_review, "json", tmp_path / "r.json")
    got = json.loads((tmp_path / "r.json").read_text())
    assert got == json.loads(json.dumps(review_to_json(video_review)))
    assert got["schema_version"] == "1.0" and "cues" in got


@pytest.mark.parametrize("which", ["audio_review", "video_review"])
def test_rttm_reads_back(which, request, tmp_path):
    review = request.getfixturevalue(which)
    export(review, "rttm", tmp_path / "r.rttm")
    back = read_rttm(tmp_path / "r.rttm")
    for sp in review.speakers:
        assert spans(back, sp) == spans(review.segments, sp)


def read_textgrid(path):
    textgrid = pytest.importorskip("praatio.textgrid", reason="praatio (PyPI) reads TextGrids back independently")
    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    return {name: [(e.start, e.end, e.label) for e in tg.getTier(name).entries] for name in tg.tierNames}


def test_textgrid_audio_only_has_one_tier_per_speaker(audio_review, tmp_path):
    export(audio_review, "textgrid", tmp_path / "r.TextGrid")
    tiers = read_textgrid(tmp_path / "r.TextGrid")
    assert list(tiers) == ["ann", "ben"]
    for sp in ("ann", "ben"):
        assert [(a, b) for a, b, _ in tiers[sp]] == spans(audio_review.segments, sp)
        assert {label for *_, label in tiers[sp]} == {sp}


def test_textgrid_quotes_in_names_survive(tmp_path):
    review = review_annotation([Segment(0, 1, 'a "b"'), Segment(1.5, 2, "c")], config=CONFIG, source="q")
    export(review, "textgrid", tmp_path / "q.TextGrid")
    assert read_textgrid(tmp_path / "q.TextGrid")['a "b"'] == [(0.0, 1.0, 'a "b"')]


def test_textgrid_with_video_has_cue_tiers_that_match_the_frames(video_review, tmp_path):
    export(video_review, "textgrid", tmp_path / "r.TextGrid")
    tiers = read_textgrid(tmp_path / "r.TextGrid")
    assert list(tiers) == ["me", "partner", "eye_contact", "posture", "lean", "nods"]
    for sp in ("me", "partner"):
        assert [(a, b) for a, b, _ in tiers[sp]] == spans(video_review.segments, sp)
    face, t = video_review.vision.face, video_review.vision.times
    in_contact = np.zeros(t.size, bool)
    for a, b, label in tiers["eye_contact"]:
        if label == "contact":
            in_contact |= (t >= a - 5e-4) & (t < b - 5e-4)
    np.testing.assert_array_equal(in_contact, face.eye_contact & face.has_face)
    assert not in_contact.all()  # the look down at notes (9.6-10.6 s) is a gap in the tier
    nods = [(round(e.start, 3), round(e.end, 3)) for e in face.of_kind("nod")]
    assert len(nods) == 2 and [(a, b) for a, b, label in tiers["nods"] if label == "nod"] == nods


def test_csv_has_one_row_per_segment_and_event(video_review, tmp_path):
    export(video_review, "csv", tmp_path / "r.csv")
    with open(tmp_path / "r.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["kind", "speaker", "start", "end", "details"]
    speech = [(r["speaker"], float(r["start"]), float(r["end"])) for r in rows if r["kind"] == "speech"]
    assert speech == [(s.speaker, round(s.start, 3), round(s.end, 3)) for s in video_review.segments]
    tt = video_review.turn_taking
    bcs = [r for r in rows if r["kind"] == "backchannel"]
    assert [(r["speaker"], float(r["start"])) for r in bcs] == [(b.by, round(b.t, 3)) for b in tt.backchannels]
    assert all(r["details"] == f"during={b.during}" for r, b in zip(bcs, tt.backchannels))
    assert sum(r["kind"] == "floor_transfer" for r in rows) == len(tt.floor_transfers)
    nods = [r for r in rows if r["kind"] == "nod"]
    assert [float(r["start"]) for r in nods] == [round(e.start, 3) for e in video_review.vision.face.of_kind("nod")]
    assert all(r["speaker"] == "me" and "count=" in r["details"] for r in nods)
    starts = [float(r["start"]) for r in rows]
    assert starts == sorted(starts)
