"""The trained diarizer run window by window as audio arrives (conversation/neural_live.py) gives the
file pipeline's result on real speech, fed through the session's own microphone source; the
windows it hands on restore the same result without audio."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("moonshine_voice", reason="moonshine-voice==0.1.0 not installed")

from attunement.config import default_config
from attunement.conversation import neural_diarize as nd
from attunement.conversation import segmentation as sg
from attunement.conversation.neural_diarize import NeuralDiarizer
from attunement.conversation.neural_live import LiveNeuralDiarizer, live_models
from attunement.conversation.rttm import parse_rttm
from attunement.errors import EndOfStream
from attunement.evaluation.assemble import assemble_conversation
from attunement.records import AudioBlock
from attunement.sources.clock import SessionClock
from attunement.sources.media import read_audio
from attunement.sources.microphone import Microphone
from attunement.sources.wav import write_wav

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

CONFIG = default_config().diarization


@pytest.fixture(scope="module")
def speech(shared_data, tmp_path_factory):
    """sample.wav, and a longer talk (about 80 s) of its two voices laid out three times with
    exact truth (evaluation/assemble.py, seeds 0-2), as mono 16 kHz WAVs."""
    conv = shared_data / "conversations"
    ref = parse_rttm((conv / "sample.rttm").read_text())["sample"]
    talks = [assemble_conversation(conv / "sample.wav", ref, channels=1, seed=s) for s in range(3)]
    x = np.concatenate([t.audio.reshape(-1) for t in talks]).astype(np.float32)
    path = tmp_path_factory.mktemp("speech") / "talk.wav"
    write_wav(path, x[None], 16000)
    return conv / "sample.wav", path


def both(blocks):
    """(file NeuralDiarizer, LiveNeuralDiarizer and the windows it handed on), fed the same blocks."""
    offline = NeuralDiarizer(config=CONFIG)
    handed = []
    live = LiveNeuralDiarizer(config=CONFIG, models=live_models(CONFIG), on_window=handed.append)
    for b in blocks:
        offline.feed(b)
        live.feed(b)
    return offline, live, handed


def from_microphone(path):
    """The blocks the session's microphone source delivers when it replays `path` (20 ms, as fast as read)."""
    with Microphone(path, pace=0, clock=SessionClock(), start=3.0) as mic:
        while True:
            try:
                block = mic.read(timeout=1.0)
            except EndOfStream:
                return
            if block is not None:
                yield block


def assert_same(offline, live, end):
    want, got = offline.finish(None, end), live.finish(None, end)
    np.testing.assert_array_equal(live.result.active, offline.result.active)
    np.testing.assert_array_equal(live.result.count, offline.result.count)
    assert got == want and live.used == offline.used == "neural"
    return got


@pytest.mark.parametrize("which", ["sample", "talk"])
def test_live_windows_give_the_file_result_on_real_speech(speech, which):
    path = speech[0] if which == "sample" else speech[1]
    offline, live, handed = both(from_microphone(path))
    n = read_audio(path, rate=16000)[0].shape[-1]
    segments = assert_same(offline, live, 3.0 + n / 16000)
    assert len({s.speaker for s in segments}) == 2  # two voices, overlap kept
    windows = sg.window_starts(n, step=live.step).size
    assert live.windows == windows and live.busy_s > 0
    # each window handed on once, the last once more when it is embedded at the end
    assert sorted({o.index for o in handed}) == list(range(windows)) and len(handed) in (windows, windows + 1)
    assert all(o.embedded == (o.index % CONFIG.nn_embed_every == 0) for o in handed if o.index < windows - 1)


@pytest.mark.parametrize("seconds", [0.0, 4.0, 10.0, 12.5, 13.7, 20.0])
def test_lengths_at_and_around_the_window_edges(speech, seconds):
    """No window, one short one, exactly one, one step past, a window reaching past the end."""
    x = read_audio(speech[0], rate=16000)[0].reshape(-1).astype(np.float32)[: round(seconds * 16000)]
    blocks = [AudioBlock(x[None, a:a + 1234], a / 16000, 16000) for a in range(0, x.size, 1234)]
    offline, live, _ = both(blocks)
    assert_same(offline, live, seconds)


def test_the_windows_handed_on_restore_the_same_result(speech):
    _, live, handed = both(from_microphone(speech[1]))
    got = live.finish(None, 0)
    last = {}
    for o in handed:  # the store keeps each window once, the embeddings wherever they came
        last[o.index] = o if o.embedded or o.index not in last else last[o.index]
    outs = [last[k] for k in sorted(last)]
    which = np.concatenate([np.stack([np.full(o.speakers.size, o.index), o.speakers], axis=1) for o in outs])
    restored = LiveNeuralDiarizer(config=CONFIG)
    restored.restore(np.array([o.start for o in outs]), np.stack([o.activity for o in outs]).astype(np.float16),
                     which, np.concatenate([o.vectors for o in outs]), np.concatenate([o.train for o in outs]),
                     t0=live.t0)
    assert restored.finish(None, 0) == got
    np.testing.assert_array_equal(restored.result.active, live.result.active)


def test_an_embedding_does_not_depend_on_what_else_is_embedded(speech):
    x = read_audio(speech[1], rate=16000)[0].reshape(-1).astype(np.float32)
    segmenter, embedder = live_models(CONFIG)
    seg = segmenter.segment(x, step_s=CONFIG.nn_step_s)
    together = nd.window_embeddings(x, seg, embedder, min_clean_s=CONFIG.nn_min_clean_s, windows=np.array([0, 4, 8]))
    alone = [nd.window_embeddings(x, seg, embedder, min_clean_s=CONFIG.nn_min_clean_s, windows=np.array([w]))
             for w in (0, 4, 8)]
    for part, want in zip(together, (np.concatenate(p) for p in zip(*alone))):
        np.testing.assert_array_equal(part, want)
    assert together[0].shape[0] >= 3


def test_missing_models_are_refused_before_the_session(tmp_path, monkeypatch):
    from attunement.models import ModelError, cache_dir
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(nd.Models, "cache", {})  # this process's loaded models: load again, from the altered cache
    cache_dir().mkdir(parents=True, exist_ok=True)
    (cache_dir() / "community1-segmentation.ort").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="altered"):
        live_models(CONFIG)
