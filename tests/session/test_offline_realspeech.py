"""Two channels built from real speech (sample.wav's one-speaker stretches), each mic hearing the
other voice 15 dB lower: talk shares within 3 points of truth, every interruption found with its direction."""

from __future__ import annotations

import pytest

from attunement.config import default_config
from attunement.conversation.rttm import read_rttm
from attunement.session.runners.offline import review_file
from attunement.evaluation.assemble import assemble_conversation
from attunement.sources.wav import write_wav

pytestmark = pytest.mark.realdata
CONFIG = default_config()


@pytest.fixture(scope="module", params=[0, 1, 2])
def reviewed(request, shared_data, tmp_path_factory):
    conv = shared_data / "conversations"
    convo = assemble_conversation(conv / "sample.wav", read_rttm(conv / "sample.rttm"),
                                  channels=2, leak_db=15.0, seed=request.param)
    path = tmp_path_factory.mktemp("realspeech") / f"two_mics_{request.param}.wav"
    write_wav(path, convo.audio, convo.rate)
    return convo, review_file(path, config=CONFIG, channels_are_speakers=True, speaker_names=convo.speakers)


def test_talk_shares_within_three_points(reviewed):
    convo, review = reviewed
    for spk in convo.speakers:
        assert review.turn_taking.per_speaker[spk].talk_share == pytest.approx(
            convo.expected["talk_share"][spk], abs=0.03), spk


def test_every_interruption_found_with_its_direction(reviewed):
    convo, review = reviewed
    found = [(i.by, i.of, i.t) for i in review.turn_taking.interruptions]
    for want in convo.expected["interruptions"]:
        assert any(by == want["by"] and of == want["of"] and abs(t - want["t"]) <= 0.1 for by, of, t in found), \
            (want, found)
    assert len(found) == len(convo.expected["interruptions"]), found


def test_the_backchannel_is_not_a_turn(reviewed):
    convo, review = reviewed
    for want in convo.expected["backchannels"]:
        assert any(b.by == want["by"] and abs(b.t - want["t"]) <= 0.1 for b in review.turn_taking.backchannels)
