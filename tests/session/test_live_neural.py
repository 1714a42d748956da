"""A live session on one shared microphone with the trained diarizer: each window's segmentation and
embeddings reach the store as the session runs (private, append-only), so a session killed mid-way
is rebuilt by the clustering alone, and its review tells the real voices apart; without the
models the session falls back to the model-free diarizer and says so."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("moonshine_voice", reason="moonshine-voice==0.1.0 not installed")

from attunement.config import default_config
from attunement.conversation import neural_diarize as nd
from attunement.conversation.neural_live import live_models
from attunement.conversation.rttm import parse_rttm
from attunement.evaluation.assemble import assemble_conversation
from attunement.evaluation.der import diarization_error
from attunement.records import Segment
from attunement.session.runners.live import run_session
from attunement.session.runners.rebuild import load_review
from attunement.session.store.formats import windows_from_records
from attunement.session.store.writer import load_session
from attunement.sources.clock import SessionClock
from attunement.sources.media import read_audio
from attunement.sources.microphone import Microphone
from attunement.sources.wav import write_wav
from tests.conftest import kill_when

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

CONFIG = default_config()
#: Windows on disk before the kill: 8 windows (27.5 s of audio), two of them embedded.
KILL_AFTER_WINDOWS = 8


@pytest.fixture(scope="module")
def talk(shared_data, tmp_path_factory):
    """Three talks of sample.wav's two voices with exact truth (evaluation/assemble.py, seeds 0-2)
    one after another, as a mono WAV; (path, truth segments, seconds)."""
    conv = shared_data / "conversations"
    ref = parse_rttm((conv / "sample.rttm").read_text())["sample"]
    parts, truth, at = [], [], 0.0
    for seed in range(3):
        t = assemble_conversation(conv / "sample.wav", ref, channels=1, seed=seed)
        parts.append(t.audio.reshape(-1))
        truth += [Segment(s.start + at, s.end + at, s.speaker) for s in t.segments]
        at += t.audio.shape[-1] / t.rate
    path = tmp_path_factory.mktemp("talk") / "talk.wav"
    write_wav(path, np.concatenate(parts)[None], 16000)
    return path, truth, at


KILLED = textwrap.dedent("""
    import sys
    from attunement.config import default_config
    from attunement.session.runners.live import run_session
    from attunement.sources.clock import SessionClock
    from attunement.sources.microphone import Microphone
    with Microphone(sys.argv[1], pace=2.0, clock=SessionClock(), start=0.0) as mic:
        run_session(mic=mic, config=default_config(), root=sys.argv[2])
""")


def test_a_killed_session_is_rebuilt_from_its_stored_windows(talk, tmp_path):
    path, truth, seconds = talk
    root = tmp_path / "sessions"
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as errors:
        proc = subprocess.Popen([sys.executable, "-c", KILLED, str(path), str(root)],
                                env=dict(os.environ, PYTHONUNBUFFERED="1"), stdout=subprocess.DEVNULL, stderr=errors)

    def windows_on_disk():
        folders = list(root.glob("*/seg.log"))
        if not folders:
            return None
        seg = load_session(folders[0].parent).signals.get("seg")
        return folders[0].parent if seg is not None and seg.size >= KILL_AFTER_WINDOWS else None

    folder = kill_when(proc, windows_on_disk, what=f"{KILL_AFTER_WINDOWS} windows on disk", stderr=err,
                       timeout_s=120.0, poll_s=0.2)
    stored = load_session(folder)
    assert stored.status == "interrupted" and stored.meta["settings"]["engine"] == "neural"
    for name in ("seg", "emb", "mfcc", "vad"):  # private, and no audio kept
        assert stat.S_IMODE((folder / f"{name}.log").stat().st_mode) == 0o600
    assert not list(folder.glob("*.wav"))

    # what was stored is what the file pipeline computes on the same audio
    w = windows_from_records(stored.signals["seg"], stored.signals["emb"])
    x = read_audio(path, rate=16000)[0].reshape(-1).astype(np.float32)
    m = w["starts"].size
    assert m >= KILL_AFTER_WINDOWS and np.array_equal(w["starts"], np.arange(m) * 40000)
    segmenter, embedder = live_models(CONFIG.diarization)
    seg = segmenter.segment(x[: int(w["starts"][-1]) + 160000], step_s=CONFIG.diarization.nn_step_s,
                            both_ways=CONFIG.diarization.nn_both_ways)
    np.testing.assert_array_equal(w["activity"], seg.activity)
    embedded = np.unique(w["which"][:, 0])
    assert set(embedded.tolist()) <= set(range(0, m, CONFIG.diarization.nn_embed_every))
    vectors, which, train = nd.window_embeddings(x, seg, embedder, min_clean_s=CONFIG.diarization.nn_min_clean_s,
                                                 windows=embedded)
    np.testing.assert_array_equal(w["which"], which)
    np.testing.assert_array_equal(w["train"], train)
    np.testing.assert_allclose(w["vectors"], vectors, atol=1e-6)

    # the rebuilt review: the two real voices, told apart as well as a file review tells them
    review = load_review(folder)
    assert any("did not end cleanly" in p for p in review.problems)
    covered = min(review.duration_s, (w["starts"][-1] + 160000) / 16000)
    assert 27.0 < covered < seconds
    hyp = [s for s in review.segments if s.start < covered]
    assert len({s.speaker for s in hyp}) == 2
    der = diarization_error(truth, hyp, uem=(0.0, covered - 1.0)).der
    assert der <= 0.1  # the file pipeline gets 0.04-0.07 on these talks (docs/diarization.md)


def test_a_session_without_the_models_uses_the_model_free_diarizer_and_says_so(talk, tmp_path, monkeypatch):
    from attunement.models import cache_dir
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(nd.Models, "cache", {})  # this process's loaded models: load again, from the altered cache
    cache_dir().mkdir(parents=True)
    (cache_dir() / "wespeaker-resnet34.ort").write_bytes(b"not a model")
    with Microphone(talk[0], pace=0, clock=SessionClock(), start=0.0) as mic:
        result = run_session(mic=mic, config=CONFIG, root=tmp_path / "s", duration_s=20.0)
    assert any("trained speaker models could not be loaded" in n and "model-free" in n for n in result.review.problems)
    assert load_session(result.folder).meta["settings"]["engine"] == "mfcc"
    assert {s.speaker for s in result.review.segments} and load_review(result.folder).segments == result.review.segments
