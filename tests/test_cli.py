"""The `attune` command as a user meets it: real subprocesses, real files, one-line errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attunement.sources.wav import write_wav

ATTUNE = Path(sys.executable).with_name("attune")


def run(*args, cwd=None):
    cmd = [str(ATTUNE)] if ATTUNE.exists() else [sys.executable, "-m", "attunement"]
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=300)


def assert_one_line_error(proc, status=2, match=""):
    assert proc.returncode == status, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("attune: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert match in lines[0], lines[0]


def test_console_script_is_installed():
    assert ATTUNE.exists(), "pip install -e . should put the `attune` script next to python"


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.wav").write_bytes(b"")
    (d / "notes.mp3").write_text("these are my notes, not an mp3\n" * 20)
    (d / "noise.m4a").write_bytes(np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    wav = d / "good.wav"
    t = np.arange(16000 * 3) / 16000
    write_wav(wav, (0.3 * np.sin(2 * np.pi * 220 * t))[None].astype(np.float32), 16000)
    (d / "truncated.wav").write_bytes(wav.read_bytes()[:30])
    (d / "bad.rttm").write_text("SPEAKER x 1 0.5 oops <NA> <NA> ann <NA> <NA>\n")
    return d


@pytest.mark.parametrize("name", ["missing.wav", "empty.wav", "notes.mp3", "noise.m4a", "truncated.wav", "."])
def test_bad_media_is_one_line_and_exit_2(bad_files, name):
    proc = run("review", bad_files / name)
    assert_one_line_error(proc, match=str(name).rstrip("."))


def test_bad_rttm_names_the_line(bad_files):
    assert_one_line_error(run("metrics", bad_files / "bad.rttm"), match="bad.rttm:1")
    assert_one_line_error(run("review", bad_files / "good.wav", "--rttm", bad_files / "bad.rttm"), match="bad.rttm:1")


def test_usage_errors_are_one_line(bad_files):
    assert_one_line_error(run("review"), match="input")
    assert_one_line_error(run("review", bad_files / "good.wav", "--channels-are-speakers"), match="has 1")
    assert_one_line_error(run("review", bad_files / "good.wav", "--speakers", "9"), match="from 1 to 6")
    assert_one_line_error(run("review", bad_files / "good.wav", "--speakers", "1", "--me", "nobody"),
                          match="--me nobody: no such speaker")
    cfg = bad_files / "typo.toml"
    cfg.write_text("[turns]\nbridge_pause = 1\n")
    assert_one_line_error(run("--config", cfg, "review", bad_files / "good.wav"), match="bridge_pause")


def test_metrics_from_annotation_alone(tmp_path):
    ref = tmp_path / "ref.rttm"
    # ann talks, ben answers after 0.3 s, ann backchannels inside ben's turn, ann takes the floor back after 0.5 s
    ref.write_text("\n".join([
        "SPEAKER t 1 0.00 4.00 <NA> <NA> ann <NA> <NA>",
        "SPEAKER t 1 4.30 5.70 <NA> <NA> ben <NA> <NA>",
        "SPEAKER t 1 6.00 0.50 <NA> <NA> ann <NA> <NA>",
        "SPEAKER t 1 10.50 2.00 <NA> <NA> ann <NA> <NA>",
    ]) + "\n")
    out, rttm_out = tmp_path / "m.json", tmp_path / "m.rttm"
    proc = run("metrics", ref, "--json", out, "--rttm-out", rttm_out)
    assert proc.returncode == 0, proc.stderr
    assert "What went well" in proc.stdout
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == "1.0" and doc["speakers"] == ["ann", "ben"]
    tt = doc["turn_taking"]
    assert tt["floor_transfer_offsets_s"] == pytest.approx([0.3, 0.5])
    assert [(b["by"], b["during"], b["t"]) for b in tt["backchannels"]] == [("ann", "ben", 6.0)]
    assert tt["per_speaker"]["ann"]["talk_time_s"] == pytest.approx(6.5)
    assert tt["per_speaker"]["ben"]["talk_share"] == pytest.approx(5.7 / 12.2, abs=1e-3)
    assert tt["interruptions"] == []
    assert rttm_out.read_text().count("SPEAKER") == 4


def test_calibrate_then_review_with_the_profile(tmp_path, demo_clips):
    video = demo_clips.clip(6.0, channels=1)  # the first 6 s: looking into the lens
    profile = tmp_path / "profile.json"
    proc = run("calibrate", video, "--seconds", "3", "--profile", profile)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(profile).st_mode) == 0o600
    out = tmp_path / "r.json"
    proc = run("review", video, "--speakers", "1", "--profile", profile, "--json", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    cues = json.loads(out.read_text())["cues"]
    assert cues["baseline"] == "profile" and cues["eye_contact_share"] >= 0.95
    assert_one_line_error(run("calibrate", tmp_path / "none.mkv"), match="none.mkv")


def test_live_session_from_replayed_files_then_history_summary_export(tmp_path, demo_clips):
    video = demo_clips.clip(5.0, channels=1)
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    cmd = [str(ATTUNE)] if ATTUNE.exists() else [sys.executable, "-m", "attunement"]

    def attune(*args):
        return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, env=env, timeout=300)

    proc = attune("session", "--camera", video, "--mic", video, "--no-window", "--duration", "4")
    assert proc.returncode == 0, proc.stderr
    assert "What went well" in proc.stdout and "Saved in" in proc.stdout
    sessions = list((tmp_path / "data" / "attunement" / "sessions").iterdir())
    assert len(sessions) == 1 and stat.S_IMODE(os.stat(sessions[0]).st_mode) == 0o700
    assert {"review.json", "report.html", "meta.json"} <= {p.name for p in sessions[0].iterdir()}
    assert not any(p.suffix in (".wav", ".mkv", ".mp4") for p in sessions[0].iterdir())  # no raw media kept
    hist = attune("history")
    assert hist.returncode == 0 and "ended" in hist.stdout
    again = attune("summary", "last")
    assert again.returncode == 0 and "What went well" in again.stdout
    out = tmp_path / "s.csv"
    assert attune("export", "last", "--format", "csv", "-o", out).returncode == 0 and out.read_text().count("\n") > 1
    assert_one_line_error(attune("summary", "no-such-session"), match="no-such-session")


# ---- one convention: --json FILE everywhere ('-' = standard output), --duration on live commands ----

def test_json_dash_prints_only_json_on_stdout(tmp_path):
    rttm = tmp_path / "talk.rttm"
    rttm.write_text("SPEAKER talk 1 0.0 2.0 <NA> <NA> ana <NA> <NA>\n"
                    "SPEAKER talk 1 2.3 1.5 <NA> <NA> ben <NA> <NA>\n")
    proc = run("metrics", rttm, "--json", "-")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # nothing else on standard output
    assert data["turn_taking"]["speakers"] == ["ana", "ben"]
    assert "What went well" in proc.stderr  # the summary moved to standard error
    to_file = tmp_path / "m.json"
    assert run("metrics", rttm, "--json", to_file, "--quiet").returncode == 0
    assert json.loads(to_file.read_text()) == data | {"input": json.loads(to_file.read_text())["input"]}


def test_devices_check_and_history_take_json_file_or_dash(tmp_path, bad_files):
    out = tmp_path / "devices.json"
    proc = run("devices", "--json", out)
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(out.read_text())) >= {"cameras", "microphones"}
    proc = run("check", "--camera", "none", "--mic", bad_files / "good.wav", "--duration", "1", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["microphone"]["rate"] == 16000
    assert json.loads(run("history", "--json", "-").stdout) == []


@pytest.mark.slow  # the partner's lines are synthesised before the first is played
def test_rehearse_ends_after_its_duration(tmp_path, bad_files):
    """A rehearsal with a replayed microphone ends after --duration seconds and is saved."""
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    cmd = [str(ATTUNE)] if ATTUNE.exists() else [sys.executable, "-m", "attunement"]
    proc = subprocess.run(cmd + ["rehearse", "--scenario", "check-in", "--camera", "none", "--mic",
                                 str(bad_files / "good.wav"), "--no-window", "--duration", "1.5"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Saved in" in proc.stdout
    meta = json.loads(next((tmp_path / "data").rglob("meta.json")).read_text())
    assert meta["status"] == "ended" and meta["duration_s"] <= 1.6


def test_review_says_first_what_it_reviews_and_stops_quietly_when_the_reader_goes(bad_files):
    """The first line comes before the work (which file, what it holds); `attune review ... | head -1`
    ends without an error when the reader closes the pipe."""
    proc = run("review", bad_files / "good.wav", "--no-save", "--no-words")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "Reviewing good.wav: 3 s, sound in one channel"
    cmd = [str(ATTUNE)] if ATTUNE.exists() else [sys.executable, "-m", "attunement"]
    with subprocess.Popen(cmd + ["review", str(bad_files / "good.wav"), "--no-save", "--no-words"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        assert p.stdout.readline().startswith("Reviewing good.wav")
        p.stdout.close()  # the reader goes away before the summary is written
        err = p.stderr.read()
        assert p.wait(timeout=300) == 141 and "error" not in err and "Traceback" not in err, err
