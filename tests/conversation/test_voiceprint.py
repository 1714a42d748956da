"""Voice profiles: JSON 0600 round trip, damaged files refused, `me` found by voice on real speech."""

from __future__ import annotations

import json
import stat

import numpy as np
import pytest

from attunement.conversation import voiceprint as vp
from attunement.errors import InputError
from attunement.records import Segment


def profile(rng):
    e = rng.standard_normal(256).astype(np.float32)
    return vp.VoiceProfile(e / np.linalg.norm(e), 0.5, 31.2)


def test_profile_round_trip_is_private(tmp_path, rng):
    p = profile(rng)
    path = vp.save_profile(p, tmp_path / "voice" / "profile.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back = vp.load_profile(path)
    np.testing.assert_allclose(back.embedding, p.embedding, atol=1e-6)
    assert (back.threshold, back.speech_s) == (0.5, 31.2)
    assert not list(path.parent.glob("*.tmp"))


@pytest.mark.parametrize("text", ["{", "[]", json.dumps({"version": 1, "embedding": [0.0] * 3, "threshold": 0.5,
                                                            "speech_s": 1}),
                                  json.dumps({"version": 9, "embedding": [], "threshold": 0.5, "speech_s": 1})])
def test_damaged_profiles_are_refused_in_one_line(tmp_path, text):
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(InputError, match="enroll again") as err:
        vp.load_profile(path)
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="enroll first"):
        vp.load_profile(tmp_path / "missing.json")


def test_exclusive_speech_leaves_overlap_out():
    segs = [Segment(0, 5, "a"), Segment(4, 8, "b"), Segment(9, 10, "a")]
    assert vp.exclusive_speech(segs) == {"a": [(0, 4), (9, 10)], "b": [(5, 8)]}


@pytest.mark.realdata
@pytest.mark.slow
def test_the_enrolled_voice_is_me_in_a_talk_it_was_not_enrolled_from(shared_data):
    """Enrolled on spk1's sentences 1-3, then a talk of both readers' sentences 4-6 (never enrolled)."""
    pytest.importorskip("moonshine_voice", reason="moonshine-voice==0.1.0 not installed")
    from attunement.sources.media import read_audio

    def read(name):
        audio, _ = read_audio(shared_data / "speech" / f"{name}.wav", rate=16000)
        return (audio.mean(axis=0) if audio.ndim == 2 else audio).astype(np.float32)

    me = vp.enroll(np.concatenate([read(f"spk1_snt{k}") for k in (1, 2, 3)] * 3))
    parts, truth, t = [], [], 0.0
    for k in (4, 5, 6):
        for who in ("spk1", "spk2"):
            x = read(f"{who}_snt{k}")
            parts += [x, np.zeros(8000, np.float32)]
            truth.append(Segment(t, t + x.size / 16000, who))
            t += x.size / 16000 + 0.5
    x = np.concatenate(parts)
    from attunement.config import default_config
    from attunement.conversation.neural_diarize import NeuralDiarizer
    from attunement.records import AudioBlock
    d = NeuralDiarizer(config=default_config().diarization, num_speakers=2)
    d.feed(AudioBlock(x[None], 0.0, 16000))
    labelled = vp.label_me(d.finish(None, x.size / 16000), x, me)
    assert {s.speaker for s in labelled} == {"me", "partner"}

    def share(who, label):
        total = sum(s.duration for s in truth if s.speaker == who)
        return sum(max(0.0, min(a.end, b.end) - max(a.start, b.start)) for a in truth if a.speaker == who
                   for b in labelled if b.speaker == label) / total

    assert share("spk1", "me") >= 0.95
    assert share("spk2", "me") <= 0.05
