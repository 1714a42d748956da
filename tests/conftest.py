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


class DemoClips:
    """The demo video (`attune demo`'s generated two-person conversation, seed 0, one mic each),
    rendered once per test session for each length asked for and shared by every test that uses it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._made: dict[tuple, Path] = {}
        self._convo = None

    @property
    def conversation(self):
        """The demo's PracticeConversation (audio, truth segments, speakers)."""
        if self._convo is None:
            from attunement.demo.conversation import practice_conversation

            self._convo = practice_conversation(seed=0, channels=2)
        return self._convo

    def clip(self, seconds: float | None = None, *, channels: int = 2, silent: bool = False,
             repeat: int = 1) -> Path:
        """The first `seconds` of the demo (None: all of it) as an MKV with `channels` of its audio
        (1: the first channel) or, `silent`, a silent track of that length; `repeat` plays that audio
        so many times in a row (for work long enough to watch); rendered once."""
        key = (seconds, channels, silent, repeat)
        if key not in self._made:
            from attunement.demo.video import render_demo_video

            if silent:
                audio, rate = np.zeros((1, int(16000 * seconds)), np.float32), 16000
            else:
                convo = self.conversation if channels == 2 else self._mono()
                n = convo.audio.shape[-1] if seconds is None else int(seconds * convo.rate)
                audio, rate = convo.audio[:, :n], convo.rate
            audio = np.tile(audio, (1, repeat))
            path = self.folder / f"demo-{seconds or 'all'}-{channels}{'-silent' if silent else ''}-x{repeat}.mkv"
            render_demo_video(path, audio, rate)
            self._made[key] = path
        return self._made[key]

    def review(self, seconds: float | None = None):
        """`attune review`'s result for clip(seconds): one channel per person, the first speaker is
        "me" (as `attune demo` reviews it), no transcription (the synthetic voices say no words);
        computed once per session."""
        key = ("review", seconds)
        if key not in self._made:
            from attunement.config import default_config
            from attunement.session.runners.offline import review_file

            convo = self.conversation
            self._made[key] = review_file(self.clip(seconds), config=default_config(), channels_are_speakers=True,
                                          speaker_names=convo.speakers, me=convo.speakers[0], words=False)
        return self._made[key]

    def _mono(self):
        from attunement.demo.conversation import practice_conversation

        return practice_conversation(seed=0, channels=1)


@pytest.fixture(scope="session")
def demo_clips(tmp_path_factory) -> DemoClips:
    """Demo videos rendered once per test session (see DemoClips); tests must not write into them."""
    return DemoClips(tmp_path_factory.mktemp("demo-video"))


def pytest_collection_modifyitems(config, items):
    """Tests that render or review the demo video (through `demo_clips`, also indirectly) take more
    than a few seconds: they carry the `slow` marker, so `make test-fast` leaves them out."""
    for item in items:
        if "demo_clips" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
