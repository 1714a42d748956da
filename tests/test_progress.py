"""Long work shows its progress: `attune review` under a real pseudo-terminal draws a bar with the
stage, share and time left, which advances and finishes; piped, there is none; Ctrl-C stops it
cleanly and leaves no partial file."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attunement.cli.progress import Bar, wanted

ATTUNE = Path(sys.executable).with_name("attune")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _cmd() -> list[str]:
    return [str(ATTUNE)] if ATTUNE.exists() else [sys.executable, "-m", "attunement"]


def _on_a_terminal(args, env, *, until=None, timeout_s=300.0):
    """Run attune with standard error on a pseudo-terminal; (returncode, what the terminal showed,
    standard output). `until(proc, shown_so_far)` may act on the process while it runs."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(_cmd() + [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave, env=env)
    os.close(slave)
    shown, deadline = b"", time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            elif proc.poll() is not None:
                break
            if until is not None:
                until(proc, shown.decode(errors="replace"))
        out = proc.stdout.read().decode()
        return proc.wait(timeout=30), shown.decode(errors="replace"), out
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()


@pytest.fixture
def env(tmp_path):
    return dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"), TERM="xterm", COLUMNS="100")


def test_the_bar_advances_through_the_stages_and_finishes(demo_clips, env):
    # the demo four times over (~130 s): its review outlasts the bar's 2 s delay even on a fast machine
    code, shown, out = _on_a_terminal(["review", demo_clips.clip(repeat=4), "--channels-are-speakers", "--no-save", "--no-words"], env)
    assert code == 0, shown[-2000:]
    plain = ANSI.sub("", shown)
    assert "face and posture" in plain and "voices" in plain and "left" in plain, plain[-2000:]
    shares = [int(m) for m in re.findall(r"face and posture\s+\S*\s+(\d+)%", plain)]
    assert len(set(shares)) >= 2 and shares[-1] == 100, shares  # it moved, and it ended full
    assert "What went well" in out  # the summary still goes to standard output


def test_no_bar_when_piped_or_quiet(demo_clips, env):
    proc = subprocess.run(_cmd() + ["review", str(demo_clips.clip(6.0, silent=True)), "--no-save"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "%" not in proc.stderr and "left" not in proc.stderr and "\x1b[" not in proc.stderr
    assert not wanted(quiet=True) and not wanted(stream=open(os.devnull, "w"))


def test_ctrl_c_stops_the_review_and_leaves_no_partial_file(demo_clips, env, tmp_path):
    out = tmp_path / "out" / "review.json"
    sent = {}

    def interrupt(proc, shown):  # Ctrl-C once the bar shows the face stage under way
        if "t" not in sent and "face and posture" in ANSI.sub("", shown):
            proc.send_signal(signal.SIGINT)
            sent["t"] = time.monotonic()

    code, shown, _ = _on_a_terminal(["review", demo_clips.clip(repeat=4), "--channels-are-speakers", "--no-words", "--json", out],
                                    env, until=interrupt)
    assert "t" in sent, ANSI.sub("", shown)[-2000:]
    assert code == 130, shown[-2000:]
    plain = ANSI.sub("", shown)
    assert "interrupted" in plain and "nothing was written" in plain and "Traceback" not in plain
    assert not out.exists() and not any(out.parent.glob("*")) if out.parent.exists() else True
    sessions = Path(env["XDG_DATA_HOME"]) / "attunement" / "sessions"
    assert not sessions.exists() or not any(sessions.iterdir())  # no half-kept review


def test_the_bar_waits_before_it_draws_and_counts_meanwhile():
    bar = Bar(enabled=True, delay_s=3600.0)
    bar("voices", 5, 10)
    assert not bar.drawing  # short work: nothing drawn
    bar.close()


def test_calibration_and_the_end_of_a_live_session_report_their_progress(demo_clips, tmp_path):
    from attunement.config import default_config
    from attunement.session.runners.calibrate import calibrate_from_video
    from attunement.session.runners.live import run_session
    from attunement.sources.clock import SessionClock
    from attunement.sources.microphone import Microphone

    seen = []
    calibrate_from_video(demo_clips.clip(6.0, channels=1), config=default_config(), seconds=3.0,
                         progress=lambda stage, done, total: seen.append((stage, done, total)))
    face = [(d, t) for s, d, t in seen if s == "face and posture"]
    assert len(face) > 10 and face[-1][0] == face[-1][1] == 3.0 and all(a[0] <= b[0] for a, b in zip(face, face[1:]))
    seen.clear()
    with Microphone(demo_clips.clip(5.0, channels=1), pace=0, clock=SessionClock(), start=0.0) as mic:
        run_session(mic=mic, config=default_config(), root=tmp_path,
                    progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert [(d, t) for s, d, t in seen if s == "summary"] == [(0, 3), (1, 3), (2, 3), (3, 3)]
