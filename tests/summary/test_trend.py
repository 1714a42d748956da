"""The trend sentence compares a person only with their own earlier session, and only kindly."""

import json

from attunement.summary.trend import trend, trend_since_last


def doc(*, interruptions=0, share=0.5, minutes=10.0, contact=None):
    d = {"duration_s": 60.0 * minutes,
         "turn_taking": {"per_speaker": {"me": {"interruptions_made": interruptions, "talk_share": share},
                                         "partner": {"interruptions_made": 0, "talk_share": 1 - share}}}}
    if contact is not None:
        d["cues"] = {"eye_contact_share_listening": contact}
    return d


def test_fewer_interruptions_is_named_first():
    assert trend(doc(interruptions=1, share=0.5), doc(interruptions=4, share=0.8)) == \
        "You gave your partner more room to finish their thoughts than last time."


def test_more_even_talk_and_more_eye_contact():
    assert trend(doc(share=0.55), doc(share=0.75)) == "The talking was more evenly shared than last time."
    assert "eye contact" in trend(doc(contact=0.8), doc(contact=0.5))


def test_nothing_when_nothing_clearly_improved_or_no_me():
    assert trend(doc(interruptions=3), doc(interruptions=3)) is None
    assert trend(doc(share=0.5), doc(share=0.45)) is None  # already even: no news
    assert trend(doc(interruptions=0, share=0.9), doc(interruptions=0, share=0.5)) is None  # worse: never said
    no_me = {"duration_s": 600, "turn_taking": {"per_speaker": {"speaker1": {}}}}
    assert trend(no_me, doc()) is None


def test_since_last_uses_the_latest_earlier_session(tmp_path):
    folders = []
    for name, d in [("20260101T000000Z-a", doc(interruptions=5)), ("20260102T000000Z-b", doc(interruptions=2)),
                    ("20260103T000000Z-c", doc(interruptions=1))]:
        f = tmp_path / name
        f.mkdir()
        (f / "review.json").write_text(json.dumps(d))
        folders.append({"folder": str(f)})
    # c vs b: 1 vs 2 interruptions in 10 min, a gain of only 1 per 10 min: just enough
    assert "more room" in trend_since_last(tmp_path / "20260103T000000Z-c", folders)
    assert "more room" in trend_since_last(tmp_path / "20260102T000000Z-b", folders)
    assert trend_since_last(tmp_path / "20260101T000000Z-a", folders) is None  # nothing earlier
