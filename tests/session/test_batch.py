"""attune batch: the recordings of a folder or manifest, keys and resume, the table, and Dask for real
(a scheduler and two worker processes, one killed in the middle) against a serial run of the same task."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from attunement.config import default_config
from attunement.errors import InputError
from attunement.session.batch import COLUMNS, Settings, find_jobs, read_table, review_job, write_table
from attunement.session.batch.index import BatchIndex
from attunement.session.batch.jobs import job_key, settings_fingerprint
from attunement.sources.wav import write_wav


def _wav(path: Path, seed: int, channels: int = 1, repeat: int = 1) -> Path:
    """A generated practice conversation (about 32 s, `repeat` times over) as a WAV file."""
    from attunement.demo.conversation import practice_conversation

    convo = practice_conversation(seed=seed, channels=channels)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, np.tile(convo.audio, repeat), convo.rate)
    return path


def _damaged(folder: Path, good: Path) -> dict[str, Path]:
    """A WAV cut inside its header, text named .wav, an empty file."""
    files = {"truncated": folder / "bad" / "truncated.wav", "text": folder / "bad" / "notes.wav",
             "empty": folder / "bad" / "empty.wav"}
    files["truncated"].parent.mkdir(parents=True, exist_ok=True)
    files["truncated"].write_bytes(good.read_bytes()[:30])
    files["text"].write_text("these are my notes, not a recording\n" * 20)
    files["empty"].write_bytes(b"")
    return files


# --- the recordings of a batch -------------------------------------------------------------------

def test_folder_is_searched_recursively_for_media(tmp_path):
    for rel in ("a.wav", "sub/b.FLAC", "sub/deeper/c.mp4", "notes.txt", "sub/d.csv"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    jobs = find_jobs(tmp_path, defaults=Settings(speakers=2))
    assert [j.file for j in jobs] == ["a.wav", "sub/b.FLAC", "sub/deeper/c.mp4"]
    assert [j.name for j in jobs] == ["a.wav", "sub__b.FLAC", "sub__deeper__c.mp4"]
    assert all(Path(j.path).is_absolute() and j.settings.speakers == 2 for j in jobs)


def test_manifest_columns_and_relative_paths(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "list.csv").write_text(
        "path,speakers,channels_are_speakers,names,rttm,me,no_video\n"
        "one.wav,2,,,,,\n"
        "../two.wav,,true,ana;ben,,ana,yes\n"
        "one.wav,,,,ref.rttm,,\n")
    jobs = find_jobs(tmp_path / "m" / "list.csv", defaults=Settings(no_video=False))
    assert [j.path for j in jobs] == [str(tmp_path / "m" / "one.wav"), str(tmp_path / "two.wav"),
                                      str(tmp_path / "m" / "one.wav")]
    assert jobs[0].settings == Settings(speakers=2)
    assert jobs[1].settings == Settings(channels_are_speakers=True, names=("ana", "ben"), me="ana", no_video=True)
    assert jobs[2].settings.rttm == str(tmp_path / "m" / "ref.rttm")
    assert [j.name for j in jobs] == ["one.wav", "two.wav", "one.wav~2"]


@pytest.mark.parametrize("text, match", [
    ("file\na.wav\n", "needs a 'path' column"),
    ("path,colour\na.wav,red\n", "unknown: colour"),
    ("path,speakers\na.wav,many\n", "list.csv:2: speakers"),
    ("path,no_video\na.wav,perhaps\n", "list.csv:2: no_video"),
    ("path\n\n,\n", "list.csv:3: empty path"),
    ("path\n", "no recordings"),
])
def test_bad_manifest_is_one_input_error(tmp_path, text, match):
    (tmp_path / "list.csv").write_text(text)
    with pytest.raises(InputError, match=match):
        find_jobs(tmp_path / "list.csv")


def test_input_that_is_neither_folder_nor_manifest(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        find_jobs(tmp_path / "nowhere")
    (tmp_path / "a.wav").write_bytes(b"x")
    with pytest.raises(InputError, match="a folder of recordings or a .csv manifest"):
        find_jobs(tmp_path / "a.wav")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no recordings found"):
        find_jobs(tmp_path / "empty")


def test_key_changes_with_content_settings_and_config(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    job = find_jobs(tmp_path)[0]
    config = default_config()
    fp = settings_fingerprint(config)
    key = job_key(job, content="c1", fingerprint=fp)
    assert key == job_key(job, content="c1", fingerprint=settings_fingerprint(default_config()))
    assert key != job_key(job, content="c2", fingerprint=fp)
    assert key != job_key(dataclasses.replace(job, settings=Settings(speakers=2)), content="c1", fingerprint=fp)
    assert key != job_key(job, content="c1", fingerprint=fp, rttm="r1")
    changed = config.replace("turns", backchannel_max_s=config.turns.backchannel_max_s + 0.1)
    assert key != job_key(job, content="c1", fingerprint=settings_fingerprint(changed))


def test_index_keeps_entries_and_skips_a_torn_line(tmp_path):
    media = tmp_path / "a.wav"
    media.write_bytes(b"abc")
    index = BatchIndex(tmp_path)
    index.record(key="k1", name="a.wav", rows=[{"file": "a.wav"}], error=None, paths=[str(media)])
    with open(index.path, "a") as f:
        f.write('{"key": "k2", "na')  # killed while writing
    again = BatchIndex(tmp_path)
    assert len(again) == 1 and again.entry("k1")["rows"] == [{"file": "a.wav"}]
    assert again.digest(media) == index.digest(media)
    assert stat.S_IMODE(os.stat(index.path).st_mode) == 0o600


def test_table_has_every_column_with_one_type(tmp_path):
    rows = [{"file": "a.wav", "speaker": "me", "turns": 3, "talk_share": 0.5, "video": True},
            {"file": "b.wav", "error": "b.wav: the file is empty (0 bytes)"}]
    parquet, csv_path = write_table(rows, tmp_path)
    back = read_table(parquet)
    assert [list(r) for r in back] == [list(COLUMNS)] * 2
    assert back[0]["turns"] == 3 and back[1]["turns"] is None and back[1]["error"].endswith("(0 bytes)")
    assert csv_path.read_text().splitlines()[0].replace('"', "").split(",") == list(COLUMNS)
    for p in (parquet, csv_path):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600


# --- one recording, in-process ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_batch(tmp_path_factory):
    """Two generated conversations (one shared mic, one mic each) and three damaged files."""
    d = tmp_path_factory.mktemp("batch-in")
    good = _wav(d / "mono.wav", seed=1)
    (d / "list.csv").write_text("path,channels_are_speakers,names\nmono.wav,,\nstereo.wav,true,ana;ben\n"
                                "bad/truncated.wav,,\nbad/notes.wav,,\nbad/empty.wav,,\n")
    _wav(d / "stereo.wav", seed=2, channels=2)
    _damaged(d, good)
    return d


def test_task_reviews_as_attune_review_does_and_bad_files_are_rows(small_batch, tmp_path):
    import json

    from attunement.session.runners.offline import review_file
    from attunement.summary.json_out import review_to_json

    config = default_config()
    jobs = find_jobs(small_batch / "list.csv")
    outcomes = [review_job(j, job_key=str(i), config=config, out=tmp_path) for i, j in enumerate(jobs)]
    mono, stereo, *bad = outcomes
    assert [r["speaker"] for r in stereo.rows] == ["ana", "ben"] and stereo.error is None
    direct = review_file(jobs[0].path, config=config)
    assert json.loads((tmp_path / "mono.wav" / "review.json").read_text()) == json.loads(
        json.dumps(review_to_json(direct)))
    assert (tmp_path / "stereo.wav" / "who.rttm").read_text().count("SPEAKER stereo") > 4
    assert "Content-Security-Policy" in (tmp_path / "stereo.wav" / "report.html").read_text()
    for folder in (tmp_path, tmp_path / "stereo.wav"):
        assert stat.S_IMODE(os.stat(folder / "stereo.wav" if folder == tmp_path else folder).st_mode) == 0o700
    for f in (tmp_path / "stereo.wav").iterdir():
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600 and not f.name.startswith(".")
    for o, what in zip(bad, ("truncated.wav", "notes.wav", "empty.wav")):
        assert o.final and len(o.rows) == 1 and what in o.error and "\n" not in o.error
        assert o.rows[0]["error"] == o.error and o.rows[0]["speaker"] is None
    assert abs(sum(r["talk_share"] for r in mono.rows) - 1) < 0.01
