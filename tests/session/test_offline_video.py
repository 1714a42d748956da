"""Video review end to end: the demo video (a real portrait moved by a script with known truth)
and the real talking-head clips, through the same path as any recording."""

from __future__ import annotations

from attunement.summary.cues_json import review_cues

import numpy as np
import pytest

from attunement.config import default_config
from attunement.session.runners.offline import review_file
from attunement.demo.video import LEAN_IN_AT, LOOK_DOWN, NODS, TURN_KEEPING_EYES
from attunement.summary.json_out import review_to_json
from attunement.summary.text import clock, summarize

pytestmark = pytest.mark.slow  # the whole demo video reviewed with mediapipe

CONFIG = default_config()
RAMP = 0.3  # the script eases into and out of each pose over 0.2-0.3 s


@pytest.fixture(scope="module")
def demo(demo_clips):
    return demo_clips.conversation, demo_clips.review()


def frames_in(review, a, b):
    t = review.vision.times
    return (t >= a) & (t < b)


def test_audio_truth_holds_with_video(demo):
    convo, review = demo
    assert review.speakers == ("me", "partner")
    assert [(i.by, i.of) for i in review.turn_taking.interruptions] == [("partner", "me")]
    np.testing.assert_allclose(review.turn_taking.floor_transfer_offsets_s,
                               convo.expected["floor_transfer_offsets_s"], atol=0.06)


def test_eye_contact_follows_the_script(demo):
    _, review = demo
    contact = review.vision.face.eye_contact
    down = frames_in(review, LOOK_DOWN[0] + RAMP, LOOK_DOWN[1] - 0.1)
    assert down.sum() >= 8 and not contact[down].any()  # glancing down at notes
    turned = frames_in(review, *TURN_KEEPING_EYES)
    assert turned.sum() >= 10 and contact[turned].all()  # head turned, eyes still on the lens
    elsewhere = ~frames_in(review, LOOK_DOWN[0] - RAMP, LOOK_DOWN[1] + RAMP + 0.4)
    assert contact[elsewhere].mean() >= 0.95


def test_lean_in_and_nods_are_found_when_they_happen(demo):
    _, review = demo
    leans = review.vision.face.of_kind("lean_in")
    assert len(leans) == 1 and abs(leans[0].start - LEAN_IN_AT) <= 0.6
    assert not review.vision.face.of_kind("lean_back")
    nods = review.vision.face.of_kind("nod")
    assert len(nods) == len(NODS)
    for got, want in zip(nods, NODS):
        assert got.start < want.end_s and got.end > want.start_s, (got, want)


def test_cues_json_and_summary(demo):
    _, review = demo
    cues = review_to_json(review)["cues"]
    assert cues["face_visible_share"] == 1.0 and cues["frames_without_face"] == 0
    assert 0.9 <= cues["eye_contact_share"] < 1.0
    assert cues["nods"] == 3 and cues["nods_while_listening"] == 3
    assert cues["lean_in_share"] > 0
    assert cues["arms_crossed_share"] in (None, 0.0)
    assert len(cues["series"]["t"]) <= 10 * review.duration_s + 1
    text = summarize(review, config=CONFIG.summary).text()
    lean = review.vision.face.of_kind("lean_in")[0]
    assert "You kept eye contact" in text and "nodded along" in text and f"leaned in around {clock(lean.start)}" in text


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["WDA_AlexandriaOcasioCortez_000.mp4", "WDA_KatieHill_000.mp4"])
def test_real_talking_head(shared_data, name):
    review = review_file(shared_data / "video" / name, config=CONFIG)
    cues = review_cues(review)
    assert cues["face_visible_share"] == 1.0
    assert cues["eye_contact_share"] >= 0.8
    assert cues["arms_crossed_share"] in (None, 0.0)
    assert np.nanstd(review.vision.face.mouth) > 0.04  # the mouth moves while they talk
    assert "me" in review.speakers  # their voice is matched to the moving mouth
    talk = {s: review.turn_taking.per_speaker[s].talk_time_s for s in review.speakers}
    assert talk["me"] >= 0.9 * sum(talk.values())
