"""Voice activity against the truth of real recordings (../shared/data): frame F1 at 10 ms, and
speech edges on real speech laid out with exactly known gaps.

Speech = union of all speakers' RTTM segments, scored over each file's .uem region (all of
sample.wav). Values are tuned on sample.wav + AMI trn01..09 by calibration/tune_vad.py;
dev00/dev01 are held out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attunement.config import default_config
from attunement.conversation.rttm import read_rttm
from attunement.perception.vad import VoiceActivityDetector, detect_speech, speech_segments
from attunement.perception.vad_kernels import segments_to_frames
from attunement.records import AudioBlock
from attunement.evaluation.assemble import assemble_conversation

sf = pytest.importorskip("soundfile")
pytestmark = pytest.mark.realdata

CONFIG = default_config().vad
AMI_DEV = ["dev00", "dev01"]
AMI = AMI_DEV + [f"trn0{i}" for i in range(1, 10)]


def recording(data: Path, name: str) -> tuple[np.ndarray, int, np.ndarray]:
    """(mono float32 samples, rate, truth bool at 10 ms over the scored region 0..30 s)."""
    conv = data / "conversations"
    if name == "sample":
        wav, rttm = conv / "sample.wav", conv / "sample.rttm"
    else:
        split = "development" if name in AMI_DEV else "train"
        wav, rttm = conv / "ami" / f"{name}.wav", conv / "ami" / f"debug.{split}.rttm"
        uem = (conv / "ami" / f"debug.{split}.uem").read_text().split()
        assert uem[uem.index(name) + 2:uem.index(name) + 4] == ["0.000", "30.000"]  # scored region
    x, rate = sf.read(wav, dtype="float32", always_2d=True)
    segs = read_rttm(rttm, file_id=name)
    truth = segments_to_frames(np.array([s.start for s in segs]), np.array([s.end for s in segs]),
                               frames=3000, hop_s=0.01)
    return x.mean(axis=1), rate, truth


def frame_f1(speech: np.ndarray, hop_s: float, truth: np.ndarray) -> float:
    """F1 of per-frame `speech` (frames of hop_s, a multiple of 10 ms) against truth at 10 ms."""
    pred = np.repeat(speech, round(hop_s / 0.01))[:truth.size]
    pred = np.pad(pred, (0, truth.size - pred.size))
    tp, fp, fn = np.sum(pred & truth), np.sum(pred & ~truth), np.sum(~pred & truth)
    return 2 * tp / (2 * tp + fp + fn)


def detector_f1(data: Path, name: str) -> float:
    x, rate, truth = recording(data, name)
    va = detect_speech(x, rate, config=CONFIG)
    return frame_f1(va.speech[0], va.hop_s, truth)


def plain_webrtcvad_f1(data: Path, name: str, mode: int) -> float:
    import webrtcvad

    x, rate, truth = recording(data, name)
    vad, n = webrtcvad.Vad(mode), rate * 30 // 1000
    pcm = np.clip(x * 32768.0, -32768, 32767).astype("<i2").tobytes()
    flags = np.array([vad.is_speech(pcm[i:i + 2 * n], rate) for i in range(0, len(pcm) - 2 * n + 1, 2 * n)])
    return frame_f1(flags, 0.03, truth)


@pytest.fixture(scope="module")
def ami_f1(shared_data) -> dict[str, float]:
    return {name: detector_f1(shared_data, name) for name in AMI}


def test_sample_conversation_f1(shared_data):
    assert detector_f1(shared_data, "sample") >= 0.95


def test_ami_mean_f1_and_held_out_files(ami_f1):
    assert np.mean(list(ami_f1.values())) >= 0.90, ami_f1
    # the target is the mean; the held-out pair (never used for tuning) must meet it on its own too
    assert np.mean([ami_f1[name] for name in AMI_DEV]) >= 0.90, ami_f1
    assert np.median(list(ami_f1.values())) >= 0.93, ami_f1


def test_level_gate_beats_plain_webrtcvad_on_quiet_background_sound(shared_data, ami_f1):
    plain = {mode: np.mean([plain_webrtcvad_f1(shared_data, n, mode) for n in AMI]) for mode in range(4)}
    assert max(plain.values()) < 0.80  # webrtcvad alone, any mode, takes breath and clicks for speech
    assert np.mean(list(ami_f1.values())) >= max(plain.values()) + 0.12, plain


def test_noise_and_a_quiet_speaker_keep_f1(shared_data):
    x, rate, truth = recording(shared_data, "sample")
    speech_power = np.mean(x[np.repeat(truth, rate // 100)[:x.size]].astype(np.float64) ** 2)
    noise = np.random.default_rng(0).standard_normal(x.size) * np.sqrt(speech_power / 10)  # 10 dB SNR
    va = detect_speech((x + noise).astype(np.float32), rate, config=CONFIG)
    assert frame_f1(va.speech[0], va.hop_s, truth) >= 0.95
    t = np.arange(x.size) / rate
    quiet = np.zeros(x.size, dtype=bool)
    segs = read_rttm(shared_data / "conversations" / "sample.rttm", file_id="sample")
    for s in segs:
        quiet |= (s.speaker == "speaker91") & (t >= s.start) & (t < s.end)
    for s in segs:
        quiet &= ~((s.speaker != "speaker91") & (t >= s.start) & (t < s.end))
    va = detect_speech(np.where(quiet, x * 10 ** (-15 / 20), x).astype(np.float32), rate, config=CONFIG)
    assert frame_f1(va.speech[0], va.hop_s, truth) >= 0.95


@pytest.mark.parametrize("rate", [8000, 48000])
def test_other_sample_rates_agree(shared_data, rate):
    signal = pytest.importorskip("scipy.signal")
    x, source_rate, truth = recording(shared_data, "sample")
    y = signal.resample_poly(x, rate, source_rate).astype(np.float32)
    va = detect_speech(y, rate, config=CONFIG)
    assert frame_f1(va.speech[0], va.hop_s, truth) >= 0.95


def test_streaming_blocks_equal_one_pass_on_real_speech(shared_data, rng):
    x, rate, _ = recording(shared_data, "trn07")
    whole = detect_speech(x, rate, config=CONFIG)
    detector = VoiceActivityDetector(config=CONFIG, rate=rate)
    start = 0
    for stop in np.r_[np.sort(rng.integers(0, x.size, 60)), x.size]:
        detector.feed(AudioBlock(x[None, start:stop], start / rate, rate))
        start = stop
    streamed = detector.finish()
    assert whole.speech.any() and not whole.speech.all()
    np.testing.assert_array_equal(streamed.speech, whole.speech)
    np.testing.assert_array_equal(streamed.level_db, whole.level_db)
    frame = rate * CONFIG.frame_ms // 1000
    power = np.mean(x[:whole.frames * frame].astype(np.float64).reshape(-1, frame) ** 2, axis=1)
    np.testing.assert_allclose(whole.level_db[0], 10 * np.log10(power + 1e-12), atol=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_edges_of_real_speech_with_exact_gaps(shared_data, seed):
    """Real one-speaker stretches of sample.wav laid out with known gaps on one shared mic: every
    detected edge lies near a true edge, and on average within a frame, neither early nor late.
    (Fixed padding of 0.18 s before and 0.45 s after every stretch put edges 0.2-0.5 s out.)"""
    conv = shared_data / "conversations"
    convo = assemble_conversation(conv / "sample.wav", read_rttm(conv / "sample.rttm"), channels=1, seed=seed)
    va = detect_speech(convo.audio[0], convo.rate, config=CONFIG)
    starts, ends = speech_segments(va.speech[0], hop_s=va.hop_s)
    union: list[list[float]] = []
    for seg in sorted(convo.segments):
        if union and seg.start <= union[-1][1]:
            union[-1][1] = max(union[-1][1], seg.end)
        else:
            union.append([seg.start, seg.end])
    true_starts, true_ends = np.array(union).T
    onset = np.array([t - true_starts[np.argmin(np.abs(true_starts - t))] for t in starts])
    offset = np.array([t - true_ends[np.argmin(np.abs(true_ends - t))] for t in ends])
    assert len(starts) >= len(union) - 2, (list(zip(starts, ends)), union)
    errors = np.abs(np.r_[onset, offset])
    assert errors.max() <= 4 * va.hop_s and errors.mean() <= va.hop_s, (onset, offset)
    assert abs(onset.mean()) <= va.hop_s and abs(offset.mean()) <= va.hop_s, (onset, offset)
