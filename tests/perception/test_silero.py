"""Silero VAD from the pinned wheel: its hysteresis kernel against a plain reference, the batched
pieces against one pass, speech found in real speech and not in silence or noise."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("moonshine_voice", reason="moonshine-voice==0.1.0 not installed")
pytest.importorskip("onnxruntime", reason="onnxruntime not installed")

from attunement import models
from attunement.errors import InputError
from attunement.perception import silero as sv


def speech_reference(prob, threshold, min_silence_s, min_speech_s, pad_s):
    """The hysteresis written out over runs: a run starts at p >= threshold, ends at the first
    stretch of min_silence chunks under OFF_RATIO * threshold; short runs dropped, the rest padded."""
    off, need = sv.OFF_RATIO * threshold, max(1, int(np.ceil(min_silence_s / sv.HOP_S - 1e-9)))
    runs, i, n = [], 0, prob.size
    while i < n:
        if prob[i] < threshold:
            i += 1
            continue
        start, j = i, i + 1
        while j < n:
            if all(prob[j:j + need] < off) and j + need <= n:
                break
            j += 1
        runs.append((start, j))
        i = j + need
    out = np.zeros(n, dtype=bool)
    pad = int(round(pad_s / sv.HOP_S))
    for a, b in runs:
        if (b - a) * sv.HOP_S >= min_speech_s - 1e-9:
            out[max(a - pad, 0):b + pad] = True
    return out


@pytest.mark.parametrize("threshold", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("min_silence_s", [0.0, 0.1, 0.3])
def test_speech_chunks_match_the_reference(rng, threshold, min_silence_s):
    for _ in range(20):
        # runs of high and low probability, with dips and spikes
        prob = np.repeat(rng.uniform(0, 1, 40), rng.integers(1, 12, 40)).astype(np.float32)
        got = sv.speech_chunks(prob, threshold=threshold, min_silence_s=min_silence_s, min_speech_s=0.25, pad_s=0.03)
        np.testing.assert_array_equal(got, speech_reference(prob, threshold, min_silence_s, 0.25, 0.03))


def test_hand_made_hysteresis():
    # starts at 0.5, a dip of two chunks under 0.35 (64 ms < 100 ms) stays speech, four end it
    p = np.array([0.1, 0.6, 0.4, 0.3, 0.3, 0.45, 0.2, 0.2, 0.2, 0.2, 0.9], np.float32)
    got = sv.speech_chunks(p, threshold=0.5, min_silence_s=0.1, min_speech_s=0.0, pad_s=0.0)
    np.testing.assert_array_equal(got, [0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1])
    # runs under 150 ms dropped: the last (32 ms) goes, the first (160 ms) stays, padded by 32 ms
    got = sv.speech_chunks(p, threshold=0.5, min_silence_s=0.1, min_speech_s=0.15, pad_s=0.032)
    np.testing.assert_array_equal(got, [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
    with pytest.raises(InputError):
        sv.speech_chunks(p, threshold=1.5)


def test_the_model_comes_from_the_wheel_with_its_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = models.model_path("silero-vad")
    import hashlib
    assert hashlib.sha256(path.read_bytes()).hexdigest() == models.MODELS["silero-vad"].sha256
    names = {i.name for i in models.onnx_session("silero-vad").get_inputs()}
    assert names == {"input", "state", "sr"}


@pytest.fixture(scope="module")
def vad():
    return sv.SileroVad()


def test_pieces_side_by_side_equal_one_pass_when_the_warmup_reaches_the_start(vad, rng):
    x = (0.1 * rng.standard_normal(16000 * 7)).astype(np.float32)
    x[16000:40000] *= np.sin(np.arange(24000) / 16000 * 2 * np.pi * 3) > 0  # some structure
    one = vad.probabilities(x)
    pieces = sv.SileroVad(piece_s=2.0, warmup_s=10.0, batch=3)  # each piece replays from the start
    np.testing.assert_allclose(pieces.probabilities(x), one, atol=1e-5)
    assert one.shape == (-(-x.size // 512),)


def test_silence_and_noise_are_not_speech(vad, rng):
    for x in (np.zeros(16000 * 5, np.float32), (0.05 * rng.standard_normal(16000 * 5)).astype(np.float32)):
        act = vad.activity(x)
        assert act.speech.shape == (1, -(-x.size // 512)) and not act.speech.any()


def test_real_speech_is_found(vad, shared_data):
    from attunement.conversation.rttm import parse_rttm
    from attunement.sources.media import read_audio
    conv = shared_data / "conversations"
    x, _ = read_audio(conv / "sample.wav", rate=16000)
    x = (x.mean(axis=0) if x.ndim == 2 else x).astype(np.float32)
    ref = parse_rttm((conv / "sample.rttm").read_text())["sample"]
    act = vad.activity(x)
    t = (np.arange(act.frames) + 0.5) * act.hop_s
    truth = np.zeros(act.frames, bool)
    for s in ref:
        truth |= (t >= s.start) & (t < s.end)
    speech = act.speech[0]
    assert (speech & truth).sum() / truth.sum() > 0.9  # measured 0.99 (benchmarks/bench_neural_diarize.py --parts vad)
    assert (speech & ~truth).sum() / max(speech.sum(), 1) < 0.1
