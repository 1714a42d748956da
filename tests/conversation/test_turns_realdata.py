"""The turn-taking engine on the real annotations in ../shared/data/conversations."""

from __future__ import annotations

import math

import pytest

from attunement.config import default_config
from attunement.conversation.rttm import parse_rttm, read_rttm
from attunement.conversation.turns import FloorTransfer, Interruption, analyze_turns

pytestmark = pytest.mark.realdata
CFG = default_config().turns


def test_sample_conversation_by_hand(shared_data):
    # sample.rttm, as onset-end (s):
    #   90: 6.69-7.12   91: 7.55-8.35   90: 8.32-10.02   91: 9.92-11.03   90: 10.57-14.70
    #   91: 14.49-17.92   90: 18.05-21.49   91: 18.15-18.59   91: 21.78-28.50   90: 27.85-30.00
    # Bridging: only 91's 17.92 -> 18.15 pause (0.23 s < 0.25) is bridged: 91 speaks 14.49-18.59.
    # Floor: 90 starts. 91 at 7.55 after 90's end 7.12: gap +0.43. 90 at 8.32 before 91's end 8.35,
    # holdover 0.03 < 0.5: smooth overlap -0.03. 91 at 9.92 (90 ends 10.02): smooth -0.10.
    # 90 at 10.57 (91 ends 11.03): holdover 0.46 < 0.5, smooth -0.46. 91 at 14.49 (90 ends 14.70):
    # smooth -0.21. 90 at 18.05 while 91 speaks to 18.59: holdover 0.54 >= 0.5 and 90 goes on
    # 21.49 - 18.59 = 2.90 >= 1.0: interruption of 91, overlap 0.54. 91 at 21.78 after 21.49: gap +0.29.
    # 90 at 27.85 while 91 speaks to 28.50: holdover 0.65, 90 goes on 1.50: interruption, overlap 0.65.
    r = analyze_turns(read_rttm(shared_data / "conversations" / "sample.rttm"), config=CFG)
    assert r.floor_transfer_offsets_s == pytest.approx([0.43, -0.03, -0.10, -0.46, -0.21, -0.54, 0.29, -0.65])
    assert [f.kind for f in r.floor_transfers] == ["gap"] + ["smooth_overlap"] * 4 + ["interruption", "gap",
                                                                                      "interruption"]
    assert r.interruptions == (Interruption(18.05, "speaker90", "speaker91", pytest.approx(0.54)),
                               Interruption(27.85, "speaker90", "speaker91", pytest.approx(0.65)))
    assert r.backchannels == () and r.attempted_interruptions == () and r.pauses == ()
    assert r.floor_transfers[0] == FloorTransfer(7.55, "speaker90", "speaker91", pytest.approx(0.43), "gap")
    assert [(t.speaker[-2:], t.start, t.end) for t in r.turns] == [
        ("90", 6.69, pytest.approx(7.12)), ("91", 7.55, pytest.approx(8.35)), ("90", 8.32, pytest.approx(10.02)),
        ("91", 9.92, pytest.approx(11.03)), ("90", 10.57, pytest.approx(14.70)),
        ("91", 14.49, pytest.approx(18.59)), ("90", 18.05, pytest.approx(21.49)),
        ("91", 21.78, pytest.approx(28.50)), ("90", 27.85, pytest.approx(30.0))]
    a, b = r.per_speaker["speaker90"], r.per_speaker["speaker91"]
    # talk: 90 = 0.43 + 1.70 + 4.13 + 3.44 + 2.15 = 11.85; 91 = 0.80 + 1.11 + (3.43 + 0.23 + 0.44) + 6.72 = 12.73
    assert a.talk_time_s == pytest.approx(11.85) and b.talk_time_s == pytest.approx(12.73)
    assert a.talk_share == pytest.approx(11.85 / 24.58) and b.talk_share == pytest.approx(12.73 / 24.58)
    assert (a.turns, b.turns) == (5, 4)
    assert a.mean_turn_s == pytest.approx(11.85 / 5) and b.mean_turn_s == pytest.approx(12.73 / 4)
    assert a.longest_turn_s == pytest.approx(4.13) and b.longest_turn_s == pytest.approx(6.72)
    assert (a.interruptions_made, a.interruptions_received, b.interruptions_made, b.interruptions_received) \
        == (2, 0, 0, 2)
    # responses to 90: -0.03 -0.46 -0.54 -0.65 -> median -0.50; to 91: 0.43 -0.10 -0.21 0.29 -> median 0.095
    assert a.median_response_gap_s == pytest.approx(-0.50) and b.median_response_gap_s == pytest.approx(0.095)


def ami_files(shared_data):
    ami = shared_data / "conversations" / "ami"
    for name in ("debug.development.rttm", "debug.train.rttm"):
        yield from parse_rttm((ami / name).read_text(encoding="utf-8"), source=name).items()


def test_every_ami_excerpt_gives_sane_numbers(shared_data):
    seen = 0
    for file_id, segments in ami_files(shared_data):
        seen += 1
        ids = sorted({s.speaker for s in segments}) + ["absent"]
        r = analyze_turns(segments, config=CFG, speakers=ids)
        stats = r.per_speaker
        assert list(stats) == ids and stats["absent"].talk_time_s == 0.0 and stats["absent"].turns == 0
        assert math.isclose(sum(s.talk_share for s in stats.values()), 1.0), file_id
        assert math.isclose(sum(s.talk_time_s for s in stats.values()),
                            sum(s.end - s.start for s in r.segments)), file_id
        # bridging never loses speech: bridged talk >= raw union of each speaker's speech
        assert sum(s.talk_time_s for s in stats.values()) >= _union_talk(segments) - 1e-9, file_id
        assert len(r.turns) == len(r.floor_transfers) + 1 and len(r.turns) == sum(s.turns for s in stats.values())
        assert all(a.speaker != b.speaker and a.start <= b.start for a, b in zip(r.turns, r.turns[1:]))
        assert all(t.end > t.start for t in r.turns)
        for f, nxt in zip(r.floor_transfers, r.turns[1:]):
            assert (f.to, f.t) == (nxt.speaker, nxt.start)
            assert (f.offset_s >= 0) == (f.kind == "gap"), (file_id, f)
        assert all(e.overlap_s >= CFG.interruption_min_holdover_s for e in r.interruptions)
        assert all(e.duration_s <= CFG.backchannel_max_s for e in r.backchannels)
        assert all(e.overlap_s > CFG.backchannel_max_s for e in r.attempted_interruptions)
        assert sum(s.interruptions_made for s in stats.values()) == len(r.interruptions) \
            == sum(s.interruptions_received for s in stats.values())
        assert all(-30 < x < 30 for x in r.floor_transfer_offsets_s)
        assert r.to_json()["turns"][0]["speaker"] == r.turns[0].speaker
    assert seen == 12  # dev00, dev01, trn00 ... trn09


def test_ami_meetings_have_overlap_and_backchannels(shared_data):
    # four-person design meetings are known for overlapping talk; over all excerpts some of each appear
    totals = {"interruptions": 0, "backchannels": 0, "negative_offsets": 0}
    for _, segments in ami_files(shared_data):
        r = analyze_turns(segments, config=CFG)
        totals["interruptions"] += len(r.interruptions)
        totals["backchannels"] += len(r.backchannels)
        totals["negative_offsets"] += sum(x < 0 for x in r.floor_transfer_offsets_s)
    assert all(v > 0 for v in totals.values()), totals


def _union_talk(segments) -> float:
    total = 0.0
    for k in {s.speaker for s in segments}:
        end = -math.inf
        for s in sorted(x for x in segments if x.speaker == k):
            total += max(0.0, s.end - max(s.start, end))
            end = max(end, s.end)
    return total
