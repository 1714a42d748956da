"""Shared fixtures: a seeded rng and the location of the real recordings in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def data_dir() -> Path | None:
    """../shared/data, or $ATTUNE_DATA; None when neither exists."""
    env = os.environ.get("ATTUNE_DATA")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if cand.is_dir():
            return cand
    return None


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real recordings; tests using it skip (with the reason) when the folder is absent."""
    d = data_dir()
    if d is None:
        pytest.skip("real recordings not found: set ATTUNE_DATA or place them in ../shared/data")
    return d


@pytest.fixture(autouse=True)
def private_data_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test's sessions, kept reviews and profiles go to a fresh folder, never the user's
    own data folder (subprocesses inherit it through the environment)."""
    home = tmp_path_factory.mktemp("xdg-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def kill_when(proc, ready, *, what: str, stderr: Path, timeout_s: float = 60.0, poll_s: float = 0.1):
    """SIGKILL `proc` once `ready()` returns something (polled every `poll_s`), and return that;
    fails naming `what` (and the child's last stderr) if it does not come within `timeout_s` or
    the child ends first."""
    import signal
    import time

    try:
        deadline, found = time.monotonic() + timeout_s, None
        while time.monotonic() < deadline and found is None and proc.poll() is None:
            found = ready()
            if found is None:
                time.sleep(poll_s)
        found = ready() if found is None else found  # the child may have ended just after writing it
        assert found is not None, f"{what} not within {timeout_s:g} s: {stderr.read_text()[-2000:]}"
        return found
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
