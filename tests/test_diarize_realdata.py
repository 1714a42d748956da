"""Mono diarization on real recordings: DER on sample.wav and the 11 AMI excerpts, and assembled two-person talks.

Targets of the diarization issue: sample.wav DER <= 15 %, AMI mean <= 30 %. Not met (see
docs/diarization.md); the assertions state what is reached, so that a regression fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from attunement.config import default_config
from attunement.conversation.der import diarization_error
from attunement.conversation.diarize import Diarizer
from attunement.conversation.rttm import parse_rttm
from attunement.perception.vad import detect_speech
from attunement.records import AudioBlock
from attunement.sources.assemble import assemble_conversation
from attunement.sources.media import read_audio

pytestmark = pytest.mark.realdata


def diarize(audio, num_speakers=None):
    x = audio.mean(axis=0).astype(np.float32) if audio.ndim == 2 else audio.astype(np.float32)
    activity = detect_speech(x, 16000, config=default_config().vad)
    d = Diarizer(config=default_config().diarization, num_speakers=num_speakers)
    for a in range(0, x.size, 32000):
        d.feed(AudioBlock(x[None, a:a + 32000], a / 16000, 16000))
    return d.finish(activity, x.size / 16000)


def corpus(shared_data):
    conv = shared_data / "conversations"
    files = {"sample": (conv / "sample.wav", parse_rttm((conv / "sample.rttm").read_text())["sample"])}
    for name in ("debug.development.rttm", "debug.train.rttm"):
        for k, v in parse_rttm((conv / "ami" / name).read_text()).items():
            if (conv / "ami" / f"{k}.wav").exists():
                files[k] = (conv / "ami" / f"{k}.wav", v)
    return files


@pytest.fixture(scope="module")
def ders(shared_data):
    out = {}
    for k, (wav, ref) in corpus(shared_data).items():
        audio, _ = read_audio(wav, rate=16000)
        out[k] = diarization_error(ref, diarize(audio), uem=(0.0, 30.0))
    return out


def test_sample_wav(ders):
    # target 0.15: not met; reached 0.159 (0.25 s collar: well under 0.10)
    assert ders["sample"].der <= 0.17


def test_ami_mean(ders):
    ami = [e.der for k, e in ders.items() if k != "sample"]
    assert len(ami) == 11
    # target 0.30: not met; reached 0.45 (the VAD alone misses or adds 0.31 of reference speech on average)
    assert np.mean(ami) <= 0.47


def assembled(shared_data, seed):
    conv = shared_data / "conversations"
    ref = parse_rttm((conv / "sample.rttm").read_text())["sample"]
    talk = assemble_conversation(conv / "sample.wav", ref, channels=1, seed=seed)
    return talk, diarize(talk.audio)


@pytest.mark.parametrize("seed", [0, 1])
def test_assembled_two_person_talk_der(shared_data, seed):
    talk, hyp = assembled(shared_data, seed)
    # reached: 0.50-0.51 (the two voices mostly end up in one cluster; docs/diarization.md)
    assert diarization_error(list(talk.segments), hyp).der <= 0.55


@pytest.mark.xfail(strict=True, reason="talk-share target (within 5 points) not met on assembled talks: "
                                       "46-49 points off (docs/diarization.md)")
def test_assembled_talk_shares_within_5_points(shared_data):
    talk, hyp = assembled(shared_data, 0)
    e = diarization_error(list(talk.segments), hyp)
    first = talk.speakers[0]
    total = sum(s.duration for s in hyp)
    ours = sum(s.duration for s in hyp if e.mapping.get(s.speaker) == first) / total
    assert abs(ours - talk.expected["talk_share"][first]) <= 0.05
