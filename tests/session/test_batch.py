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
from attunement.session.batch.index import BatchIndex, file_stat
from attunement.session.batch.jobs import job_key, settings_fingerprint
from attunement.session.batch.task import error_row
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
    index.record(key="k1", name="a.wav", rows=[{"file": "a.wav"}], error=None, digests=[[file_stat(media), "d1"]])
    with open(index.path, "a") as f:
        f.write('{"key": "k2", "na')  # killed while writing
    again = BatchIndex(tmp_path)
    assert len(again) == 1 and again.entry("k1")["rows"] == [{"file": "a.wav"}] and again.keys_of("a.wav") == {"k1"}
    assert again.known_digest(media) == "d1"  # from the stat alone
    os.utime(media, ns=(media.stat().st_atime_ns, media.stat().st_mtime_ns + 10**9))
    assert again.known_digest(media) is None  # touched: a worker hashes it again
    with pytest.raises(FileNotFoundError):
        again.known_digest(tmp_path / "gone.wav")
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


def test_the_client_reads_no_recording_and_a_touched_file_is_not_reviewed_again(tmp_path):
    """plan() only stats: a FIFO (reading it would block for ever) is planned at once, for a worker to hash.
    A worker's hashes make the next plan's keys; a file touched but not changed is hashed again on the
    worker, found among the done keys and not reviewed again."""
    from attunement.session.batch.engine import plan
    from attunement.session.batch.jobs import Job, file_digest

    config = default_config()
    fp, out = settings_fingerprint(config), tmp_path / "out"
    out.mkdir()
    path = _wav(tmp_path / "in" / "talk.wav", seed=3, channels=2)
    os.mkfifo(tmp_path / "in" / "pipe.wav")
    job, pipe = (Job(str(tmp_path / "in" / f), f, f, Settings(channels_are_speakers=True))
                 for f in ("talk.wav", "pipe.wav"))
    gone = Job(str(tmp_path / "in" / "gone.wav"), "gone.wav", "gone.wav", Settings())
    index = BatchIndex(out)
    known, todo = plan([job, pipe, gone], index, fingerprint=fp, out=out)
    assert todo == [(0, job, None, frozenset()), (1, pipe, None, frozenset())]
    assert known == {2: [error_row(gone, f"no such file: {gone.path}")]}

    first = review_job(job, config=config, out=out, fingerprint=fp)
    assert first.key == job_key(job, content=file_digest(path), fingerprint=fp) and not first.skipped
    assert first.digests == [[file_stat(path), file_digest(path)]]
    index.record(key=first.key, name=job.name, rows=first.rows, error=first.error, digests=first.digests)
    known, todo = plan([job], index, fingerprint=fp, out=out)
    assert known == {0: first.rows} and todo == []

    stamp = (out / "talk.wav" / "review.json").stat().st_mtime_ns
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    known, todo = plan([job], index, fingerprint=fp, out=out)
    assert known == {} and todo == [(0, job, None, frozenset({first.key}))]
    again = review_job(job, config=config, out=out, fingerprint=fp, done=todo[0][3])
    assert again.skipped and again.key == first.key and again.rows == []
    assert again.digests == [[file_stat(path), file_digest(path)]]
    assert (out / "talk.wav" / "review.json").stat().st_mtime_ns == stamp


def test_one_thread_per_model_gives_the_same_review(small_batch):
    """A batch runs the trained models on one thread each (batch_config): the same review, to the bit,
    as attune review's two threads, on one shared microphone (diarized, transcribed)."""
    from attunement.session.batch import batch_config
    from attunement.session.runners.offline import review_file
    from attunement.summary.json_out import review_to_json

    config = default_config()
    one = batch_config(config)
    assert (one.diarization.nn_threads, one.words.threads) == (1, 1)
    assert (config.diarization.nn_threads, config.words.threads) != (1, 1)
    assert one.replace("diarization", nn_threads=config.diarization.nn_threads).replace(
        "words", threads=config.words.threads) == config  # nothing else changed
    path = small_batch / "mono.wav"
    assert review_to_json(review_file(path, config=one)) == review_to_json(review_file(path, config=config))


# --- Dask for real: a scheduler and two worker processes on this machine ----------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalDask:
    """A real `dask scheduler` and `dask worker` processes on 127.0.0.1 (random free ports, one thread
    each, no nanny so that a SIGKILL ends the worker itself); `close()` ends every process started."""

    def __init__(self, folder: Path):
        self.folder, self.procs, self.workers, self.client = folder, [], [], None

    def start(self, workers: int = 2, timeout_s: float = 60.0) -> "LocalDask":
        import sys

        from distributed import Client

        dask = Path(sys.executable).with_name("dask")
        cmd = [str(dask)] if dask.exists() else [sys.executable, "-m", "dask"]
        src = str(Path(__import__("attunement").__file__).resolve().parents[1])
        env = os.environ | {"PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self._start(cmd + ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], env, "scheduler")
        for k in range(workers):
            self.workers.append(self._start(cmd + ["worker", self.address, "--nthreads", "1", "--no-nanny",
                                                    "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{k}",
                                                    "--death-timeout", str(timeout_s)], env, f"w{k}"))
        self.client = Client(self.address, timeout=timeout_s)
        self.client.wait_for_workers(workers, timeout=timeout_s)
        return self

    def address_of(self, name: str) -> str:
        return next(a for a, w in self.client.scheduler_info()["workers"].items() if w["name"] == name)

    def _start(self, cmd, env, what):
        import subprocess

        with open(self.folder / f"{what}.log", "wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        proc.log_path = self.folder / f"{what}.log"
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        import signal
        import subprocess

        if self.client is not None:
            self.client.close(timeout=10)
        for p in reversed(self.procs):  # workers first, one by one: all at once they wait for each other
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


@pytest.fixture
def local_dask(tmp_path, request):
    """A scheduler and two workers, all ended by the finalizer even when starting them fails."""
    cluster = LocalDask(tmp_path)
    request.addfinalizer(cluster.close)
    return cluster.start(workers=2)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Ten generated conversations of about a minute (every third one with a mic per person) and three
    damaged files, in a folder."""
    d = tmp_path_factory.mktemp("recordings")
    good = [_wav(d / f"{'pairs' if k % 3 == 2 else 'shared'}/talk{k:02d}.wav", seed=k,
                 channels=2 if k % 3 == 2 else 1, repeat=2) for k in range(10)]
    _damaged(d, good[0])
    return d


@pytest.mark.slow
def test_real_dask_cluster_survives_a_killed_worker_and_matches_a_serial_run(recordings, local_dask, tmp_path):
    import threading

    from attunement.session.batch import run_batch

    from ..conftest import kill_when

    config = default_config()
    jobs = find_jobs(recordings)
    serial = [row for i, j in enumerate(jobs)
              for row in review_job(j, job_key=str(i), config=config, out=tmp_path / "serial").rows]

    out = tmp_path / "out"
    box: dict = {}
    runner = threading.Thread(target=lambda: box.update(result=run_batch(jobs, out, config=config,
                                                                          client=local_dask.client)))
    runner.start()
    index, victim = out / "index.jsonl", local_dask.workers[1]
    victim_address = local_dask.address_of("w1")

    def in_flight_on_victim():  # once the first rows are kept and the victim is reviewing something
        if not (index.exists() and index.read_text().count("\n") >= 1):
            return None
        return local_dask.client.processing(workers=[victim_address]).get(victim_address) or None

    lost = kill_when(victim, in_flight_on_victim, what="the first rows with work on w1", stderr=victim.log_path,
                     timeout_s=60, poll_s=0.02)
    runner.join(timeout=120)
    assert not runner.is_alive(), "the batch did not finish within 120 s after a worker was killed"
    first = box["result"]
    assert victim.returncode == -9
    assert len(local_dask.client.scheduler_info()["workers"]) == 1
    assert lost and all(k.startswith("attune-review-") for k in lost)  # these were retried on w0
    assert first.reviewed == 10 and first.failed == 3 and first.submitted == 13 and not first.interrupted
    assert first.rows == serial
    assert read_table(out / "table.parquet") == serial
    errors = {r["file"]: r["error"] for r in first.rows if r["error"]}
    assert sorted(errors) == ["bad/empty.wav", "bad/notes.wav", "bad/truncated.wav"]
    assert all(r["speaker"] and r["talk_share"] is not None for r in first.rows if not r["error"])

    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("review.json")}
    again = run_batch(jobs, out, config=config, client=local_dask.client)
    assert (again.submitted, again.reviewed, again.skipped, again.failed) == (0, 0, 10, 3)
    assert again.rows == serial and {p: p.stat().st_mtime_ns for p in out.rglob("review.json")} == stamps

    touched = recordings / "pairs" / "talk02.wav"  # a new modification time, the same content: hashed, not redone
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    touch = run_batch(jobs, out, config=config, client=local_dask.client)
    assert (touch.submitted, touch.reviewed, touch.skipped, touch.failed) == (1, 0, 10, 3)
    assert touch.rows == serial and {p: p.stat().st_mtime_ns for p in out.rglob("review.json")} == stamps

    _wav(recordings / "shared" / "talk00.wav", seed=99, repeat=2)  # one recording changed
    third = run_batch(jobs, out, config=config, client=local_dask.client)
    assert (third.submitted, third.reviewed, third.skipped) == (1, 1, 9)
    assert [r for r in third.rows if r["file"] != "shared/talk00.wav"] == [
        r for r in serial if r["file"] != "shared/talk00.wav"]
    assert [r for r in third.rows if r["file"] == "shared/talk00.wav"] != [
        r for r in serial if r["file"] == "shared/talk00.wav"]


# --- the overview page and the command ------------------------------------------------------------

def _rows(file, shares, gap, interruptions=0, contact=None, duration=60.0):
    return [{"file": file, "speaker": f"s{k}", "duration_s": duration, "talk_share": share, "median_gap_s": gap,
             "interruptions_made": interruptions if k == 0 else 0, "eye_contact_listening": contact if k == 0 else None,
             "error": None} for k, share in enumerate(shares)]


def test_overview_names_outliers_and_fetches_nothing():
    import re

    from attunement.session.batch.overview import outliers, recording_measures, render_overview

    rows = [r for k in range(8) for r in _rows(f"r{k}.wav", (0.5 + 0.01 * k, 0.5 - 0.01 * k), 0.2 + 0.01 * k,
                                                 contact=0.6)]
    rows += _rows("talker.wav", (0.95, 0.05), 0.25, interruptions=6, contact=0.62)
    rows += [{"file": "bad.wav", "error": "bad.wav: the file is empty (0 bytes)"}]
    measures = recording_measures(rows)
    assert measures["talker.wav"]["balance"] == 0.95 and measures["talker.wav"]["interruptions_per_min"] == 6
    odd = outliers(measures)
    assert ("talker.wav", "balance", 0.95, "high") in odd
    assert ("talker.wav", "interruptions_per_min", 6.0, "high") in odd
    page = render_overview(rows, config=default_config(), title="t")
    assert "default-src 'none'" in page and page.count("<svg") == 4
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "talker.wav" in page and "the file is empty" in page


def _attune(*args, cwd=None, timeout=180):
    import subprocess
    import sys

    src = str(Path(__import__("attunement").__file__).resolve().parents[1])
    env = os.environ | {"PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "attunement", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def test_command_input_errors_are_one_line(tmp_path):
    for args, match in [((tmp_path / "nowhere", "--out", tmp_path / "o"), "no such folder or manifest"),
                        ((tmp_path, "--out", tmp_path / "o", "--workers", "2", "--scheduler", "tcp://x:1"),
                         "not allowed with"),
                        ((tmp_path,), "--out")]:
        proc = _attune("batch", *args)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("attune: error:"), proc.stderr
        assert match in lines[0]


@pytest.mark.slow
def test_command_on_a_local_cluster_then_resumed(small_batch, tmp_path):
    import json

    out = tmp_path / "out"
    proc = _attune("batch", small_batch / "list.csv", "--out", out, "--workers", "1", "--report", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    done = json.loads(proc.stdout)
    assert (done["recordings"], done["reviewed"], done["failed"], done["workers"]) == (5, 2, 3, 1)
    assert sorted(e["file"] for e in done["errors"]) == ["bad/empty.wav", "bad/notes.wav", "bad/truncated.wav"]
    assert "Table:" in proc.stderr and "Traceback" not in proc.stderr and "distributed" not in proc.stderr
    rows = read_table(out / "table.parquet")
    assert [r["speaker"] for r in rows if r["file"] == "stereo.wav"] == ["ana", "ben"]
    assert "default-src 'none'" in (out / "overview.html").read_text()
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o700

    again = _attune("batch", small_batch / "list.csv", "--out", out, "--workers", "1", "--quiet",
                    "--json", tmp_path / "again.json")
    assert again.returncode == 0 and again.stdout == "" and again.stderr == "", again.stderr
    assert json.loads((tmp_path / "again.json").read_text())["reviewed"] == 0


def test_docs_list_every_table_and_manifest_column():
    from attunement.session.batch import MANIFEST_COLUMNS

    text = (Path(__file__).resolve().parents[2] / "docs" / "batch.md").read_text()
    for column in (*COLUMNS, *MANIFEST_COLUMNS):
        assert f"| `{column}` |" in text, column


@pytest.mark.slow
def test_ctrl_c_keeps_what_was_done_and_a_rerun_goes_on(recordings, tmp_path):
    import json
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    src = str(Path(__import__("attunement").__file__).resolve().parents[1])
    env = os.environ | {"PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "attunement", "batch", recordings, "--out", out, "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # its own process group, as a terminal's Ctrl-C reaches it
    try:
        index, deadline = out / "index.jsonl", time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not (
                index.exists() and index.read_text().count("\n") >= 4):
            time.sleep(0.02)
        assert proc.poll() is None, "the batch ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode == 130, stderr
    assert "attune: interrupted: kept" in stderr and "Traceback" not in stderr, stderr
    entries = [json.loads(line) for line in index.read_text().splitlines()]
    kept, reviewed = len(entries), sum(e["error"] is None for e in entries)
    assert 4 <= kept < 13 and len(read_table(out / "table.parquet")) >= kept
    with pytest.raises(ProcessLookupError):  # the local workers are gone with it
        for _ in range(100):
            os.killpg(proc.pid, 0)
            time.sleep(0.1)

    again = _attune("batch", recordings, "--out", out, "--workers", "1", "--quiet", "--json", "-")
    done = json.loads(again.stdout)
    assert (done["reviewed"] + done["skipped"] + done["failed"], done["interrupted"]) == (13, False)
    assert done["reviewed"] == 10 - reviewed


def test_local_workers_allocate_as_attune_review_does():
    """The local cluster's workers run without Dask's MALLOC_TRIM_THRESHOLD_ (it makes a video review cost
    20 to 25% more CPU: benchmarks/bench_batch.py), without the profiler and with slower upkeep ticks, with one
    BLAS/OpenMP thread each; settings of this cluster only."""
    import dask

    from attunement.session.batch import dask_client

    with dask_client(workers=1) as client:
        def seen(dask_worker):
            return (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS"),
                    dask.config.get("distributed.worker.profile.enabled"), dask.config.get("distributed.admin.tick.interval"),
                    dask_worker.state.nthreads)

        assert list(client.run(seen).values()) == [(None, "1", False, "500ms", 1)]
    assert dask.config.get("distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_") == 65536  # ours only


@pytest.mark.realdata
def test_one_thread_per_model_gives_the_same_review_of_a_real_conversation(shared_data):
    """The same on real speech (pyannote's two-person sample): real words recognized, real overlaps."""
    from attunement.session.batch import batch_config
    from attunement.session.runners.offline import review_file
    from attunement.summary.json_out import review_to_json

    config = default_config()
    path = shared_data / "conversations" / "sample.wav"
    two = review_to_json(review_file(path, config=config))
    assert sum(s["words"] for s in two["language"]["per_speaker"].values()) > 20
    assert review_to_json(review_file(path, config=batch_config(config))) == two
