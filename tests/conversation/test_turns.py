"""The turn-taking engine against a plain-Python reference and hand-written expectations.

Rules and bounds are those of docs/metrics.md; defaults: bridge 0.25 s (pause < bound is
bridged), backchannel <= 1.0 s, holdover >= 0.5 s, continuation >= 1.0 s (both inclusive).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from attunement.config import TurnConfig, default_config
from attunement.conversation import turn_kernels as tk
from attunement.conversation.turns import (Backchannel, FloorTransfer, Interruption, Pause, SpeakerStats,
                                           Turn, TurnTaking, analyze_turns)
from attunement.errors import ConfigError, InputError
from attunement.records import Segment
from tests import naive

CFG = TurnConfig(bridge_pause_s=0.25, backchannel_max_s=1.0,
                 interruption_min_holdover_s=0.5, interruption_min_continue_s=1.0)
EPS = 1e-9  # the documented tolerance: bounds within 1 ns count as met


def assert_same(got, want, path="result"):
    """Equal, floats to 1e-9 s."""
    if dataclasses.is_dataclass(got):
        assert type(got) is type(want), path
        for f in dataclasses.fields(got):
            assert_same(getattr(got, f.name), getattr(want, f.name), f"{path}.{f.name}")
    elif isinstance(got, dict):
        assert list(got) == list(want), path
        for k in got:
            assert_same(got[k], want[k], f"{path}[{k!r}]")
    elif isinstance(got, (list, tuple)):
        assert len(got) == len(want), f"{path}: {len(got)} != {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]")
    elif isinstance(got, float) or isinstance(want, float):
        assert isinstance(got, float) and isinstance(want, float), f"{path}: {got!r} vs {want!r}"
        assert abs(got - want) <= 1e-9, f"{path}: {got} != {want}"
    else:
        assert got == want and type(got) is type(want), f"{path}: {got!r} != {want!r}"


def segs(*rows) -> list[Segment]:
    return [Segment(float(a), float(b), k) for k, a, b in rows]


def check(rows, cfg=CFG, speakers=None) -> TurnTaking:
    """analyze_turns on `rows`, after checking it against the reference."""
    got = analyze_turns(segs(*rows), config=cfg, speakers=speakers)
    assert_same(got, naive.analyze_turns(segs(*rows), cfg, speakers))
    return got


def random_conversation(rng, n: int, k: int, grid: float | None) -> list[Segment]:
    """`n` segments of `k` speakers: a timeline of turns with pauses, overlaps and short responses."""
    names = [f"s{i}" for i in range(k)]
    out, t = [], 0.0
    for _ in range(n):
        dur = rng.choice([rng.exponential(0.6), rng.exponential(3.0)])
        t = max(0.0, t + rng.normal(0.1, 0.8))
        start, end = t, t + dur
        if grid:
            start, end = round(start / grid) * grid, round(end / grid) * grid
        out.append(Segment(start, max(start, end), names[rng.integers(k)]))
        t = end if rng.random() < 0.6 else start + dur * rng.random()
    return out


# ---------------------------------------------------------------- kernels against references

@pytest.mark.parametrize("grid", [None, 0.05, 0.25])
def test_bridge_kernel_matches_reference(rng, grid):
    for trial in range(20):
        conv = random_conversation(rng, int(rng.integers(0, 300)), int(rng.integers(1, 5)), grid)
        conv = [s for s in conv if s.end > s.start]
        bridge = float(rng.choice([0.0, 0.25, 0.5, 2.0]))
        ids = sorted({s.speaker for s in conv})
        ordered = sorted(conv, key=lambda s: (s.speaker, s.start, s.end))
        s, e, k = tk.bridge_pauses([x.start for x in ordered], [x.end for x in ordered],
                                   [ids.index(x.speaker) for x in ordered], bridge_pause_s=bridge)
        got = [Segment(float(a), float(b), ids[c]) for a, b, c in zip(s, e, k)]
        assert got == naive.bridge_pauses(conv, bridge), (trial, bridge)


@pytest.mark.parametrize("grid", [None, 0.05, 0.25])
def test_floor_kernel_matches_reference(rng, grid):
    for trial in range(20):
        cfg = TurnConfig(*(float(rng.choice(v)) for v in ([0.0, 0.25], [0.5, 1.0], [0.25, 0.5], [0.5, 1.0])))
        conv = random_conversation(rng, int(rng.integers(0, 300)), int(rng.integers(1, 5)), grid)
        ids = sorted({s.speaker for s in conv})
        bridged = naive.bridge_pauses([s for s in conv if s.end > s.start], cfg.bridge_pause_s)
        bridged.sort(key=lambda s: (s.start, -s.end, ids.index(s.speaker)))
        got = tk.run_floor([s.start for s in bridged], [s.end for s in bridged],
                           [ids.index(s.speaker) for s in bridged], backchannel_max_s=cfg.backchannel_max_s,
                           interruption_min_holdover_s=cfg.interruption_min_holdover_s,
                           interruption_min_continue_s=cfg.interruption_min_continue_s)
        rows, turns = naive.run_floor(bridged, cfg)
        assert [tk.KIND_NAMES[k] for k in got.kind] == [r[0] for r in rows], trial
        assert [ids[h] if h >= 0 else None for h in got.holder] == [r[1] for r in rows]
        np.testing.assert_allclose(got.offset_s, [r[2] for r in rows], atol=1e-12)
        np.testing.assert_allclose(got.overlap_s, [r[3] for r in rows], atol=1e-12)
        assert [Turn(ids[k], float(s), float(e)) for k, s, e in
                zip(got.turn_speaker, got.turn_start, got.turn_end)] == turns


@pytest.mark.parametrize("grid", [None, 0.05, 0.25])
def test_engine_matches_reference_on_random_conversations(rng, grid):
    for trial in range(10):
        k = int(rng.integers(2, 5))
        conv = random_conversation(rng, int(rng.integers(100, 500)), k, grid)
        order = rng.permutation(len(conv))
        shuffled = [conv[i] for i in order]
        speakers = [f"s{i}" for i in range(k + 1)]  # one silent participant
        got = analyze_turns(shuffled, config=CFG, speakers=speakers)
        assert_same(got, naive.analyze_turns(conv, CFG, speakers))
        assert got.per_speaker[speakers[-1]] == SpeakerStats(0.0, 0.0, 0, 0.0, 0.0, 0, 0, 0, None, 0, 0, 0, 0, None)
        assert math.isclose(sum(s.talk_share for s in got.per_speaker.values()), 1.0)
        assert len(got.floor_transfers) == len(got.turns) - 1
        assert all(a.speaker != b.speaker for a, b in zip(got.turns, got.turns[1:]))


def test_kernels_reject_ragged_arrays():
    with pytest.raises(ValueError, match="one length"):
        tk.bridge_pauses([0.0, 1.0], [1.0], [0, 0], bridge_pause_s=0.25)


# ---------------------------------------------------------------- every rule, by hand

def test_bridging_merges_pauses_under_the_bound_only():
    r = check([("a", 0, 1), ("a", 1.125, 2), ("a", 2.25, 3), ("a", 3, 3.5), ("a", 3.25, 3.375)])
    # 0.125 s pause bridged; exactly 0.25 s is not (a pause of the turn); touching and nested merge
    assert r.segments == tuple(segs(("a", 0, 2), ("a", 2.25, 3.5)))
    assert r.pauses == (Pause(2.0, "a", 0.25),)
    assert r.turns == (Turn("a", 0.0, 3.5),)
    assert r.per_speaker["a"].talk_time_s == 3.25  # bridged pauses count as talk
    assert r.per_speaker["a"].median_pause_s == 0.25


def test_bounds_hold_for_decimal_times():
    # each of these is exactly on its bound in decimal but not in binary floating point
    r = check([("a", 0.0, 0.1), ("a", 0.35, 1.0)])
    assert r.pauses == (Pause(0.1, "a", pytest.approx(0.25)),)
    r = check([("a", 0, 5), ("b", 1.14, 2.14)])
    assert [(e.by, e.during) for e in r.backchannels] == [("b", "a")]
    r = check([("a", 0, 0.57), ("b", 0.07, 2.0)])
    assert [f.kind for f in r.floor_transfers] == ["interruption"]
    r = check([("a", 0, 7.03), ("b", 6.5, 8.03)])
    assert [f.kind for f in r.floor_transfers] == ["interruption"]


def test_gap_transfer_and_first_speaker_holds_the_floor():
    r = check([("b", 0, 2), ("a", 2.5, 4), ("b", 4, 5)])
    assert r.floor_transfers == (FloorTransfer(2.5, "b", "a", 0.5, "gap"),
                                 FloorTransfer(4.0, "a", "b", 0.0, "gap"))  # at exactly h_end: a gap of 0
    assert r.turns == (Turn("b", 0.0, 2.0), Turn("a", 2.5, 4.0), Turn("b", 4.0, 5.0))
    assert r.floor_transfer_offsets_s == [0.5, 0.0]
    assert r.per_speaker["a"].median_response_gap_s == 0.5
    assert r.per_speaker["b"].median_response_gap_s == 0.0


def test_pause_inside_a_turn():
    r = check([("a", 0, 1), ("a", 2, 3), ("b", 3.5, 4), ("a", 4.75, 5)])
    assert r.pauses == (Pause(1.0, "a", 1.0),)  # a's later silence before b is a gap, not a pause
    assert r.turns == (Turn("a", 0.0, 3.0), Turn("b", 3.5, 4.0), Turn("a", 4.75, 5.0))
    assert r.per_speaker["a"].turns == 2 and r.per_speaker["a"].mean_turn_s == 1.625
    assert r.per_speaker["a"].longest_turn_s == 3.0 and r.per_speaker["a"].pauses == 1


@pytest.mark.parametrize("b_end, kind", [(2.0, "backchannel"), (2.125, "attempted_interruption")])
def test_backchannel_up_to_one_second_inclusive(b_end, kind):
    r = check([("a", 0, 5), ("b", 1, b_end)])
    assert r.turns == (Turn("a", 0.0, 5.0),) and r.floor_transfers == ()
    if kind == "backchannel":
        assert r.backchannels == (Backchannel(1.0, "b", "a", 1.0),) and r.attempted_interruptions == ()
        assert r.per_speaker["b"].backchannels_made == 1 and r.per_speaker["a"].backchannels_received == 1
    else:
        assert r.attempted_interruptions == (Interruption(1.0, "b", "a", 1.125),) and r.backchannels == ()
        assert r.per_speaker["b"].attempted_interruptions_made == 1
        assert r.per_speaker["a"].attempted_interruptions_received == 1
    assert r.per_speaker["b"].talk_time_s == b_end - 1  # listener speech is talk time too
    assert r.per_speaker["b"].turns == 0 and r.per_speaker["b"].median_response_gap_s is None


def test_backchannel_ending_exactly_with_the_holder():
    r = check([("a", 0, 5), ("b", 4.5, 5)])
    assert r.backchannels == (Backchannel(4.5, "b", "a", 0.5),) and r.floor_transfers == ()


@pytest.mark.parametrize("b_start, b_end, kind", [
    (4.5, 6.0, "interruption"),        # holdover exactly 0.5, continuation exactly 1.0: both inclusive
    (4.625, 7.0, "smooth_overlap"),    # holdover 0.375 < 0.5
    (4.5, 5.875, "overlap_transfer"),  # holdover 0.5 but continuation 0.875 < 1.0
    (1.0, 5.25, "overlap_transfer"),   # long overlap, short continuation
    (1.0, 9.0, "interruption"),
])
def test_overlapping_transfers(b_start, b_end, kind):
    r = check([("a", 0, 5), ("b", b_start, b_end)])
    assert r.floor_transfers == (FloorTransfer(b_start, "a", "b", b_start - 5.0, kind),)
    assert r.turns == (Turn("a", 0.0, 5.0), Turn("b", b_start, b_end))
    if kind == "interruption":
        assert r.interruptions == (Interruption(b_start, "b", "a", 5.0 - b_start),)
        assert r.per_speaker["b"].interruptions_made == 1 and r.per_speaker["a"].interruptions_received == 1
    else:
        assert r.interruptions == () and r.per_speaker["b"].interruptions_made == 0
    assert r.per_speaker["b"].median_response_gap_s == b_start - 5.0


def test_three_speakers_hand_worked():
    r = check([("a", 0, 5), ("b", 1, 1.5), ("c", 4, 8), ("a", 6, 6.5), ("b", 7.5, 8), ("a", 8.5, 9),
               ("a", 9.5, 12), ("c", 11.875, 12.5)])
    # b 1-1.5 backchannel during a; c 4-8 interrupts a (holdover 1, continues 3); a 6-6.5 backchannel during c;
    # b 7.5-8 backchannel during c (ends with c); a 8.5 takes the floor after a 0.5 gap; a pauses 9-9.5;
    # c 11.875-12.5 is a smooth overlap (holdover 0.125).
    assert r.interruptions == (Interruption(4.0, "c", "a", 1.0),)
    assert r.backchannels == (Backchannel(1.0, "b", "a", 0.5), Backchannel(6.0, "a", "c", 0.5),
                              Backchannel(7.5, "b", "c", 0.5))
    assert r.floor_transfers == (FloorTransfer(4.0, "a", "c", -1.0, "interruption"),
                                 FloorTransfer(8.5, "c", "a", 0.5, "gap"),
                                 FloorTransfer(11.875, "a", "c", -0.125, "smooth_overlap"))
    assert r.turns == (Turn("a", 0, 5), Turn("c", 4, 8), Turn("a", 8.5, 12), Turn("c", 11.875, 12.5))
    assert r.pauses == (Pause(9.0, "a", 0.5),)
    a, b, c = (r.per_speaker[k] for k in "abc")
    assert (a.talk_time_s, b.talk_time_s, c.talk_time_s) == (5 + 0.5 + 0.5 + 2.5, 0.5 + 0.5, 4 + 0.625)
    assert a.talk_share == 8.5 / 14.125
    assert (a.turns, b.turns, c.turns) == (2, 0, 2)
    assert a.longest_turn_s == 5.0 and a.mean_turn_s == (5 + 3.5) / 2 and c.mean_turn_s == (4 + 0.625) / 2
    assert (a.backchannels_made, b.backchannels_made, c.backchannels_received) == (1, 2, 2)
    assert c.median_response_gap_s == (-1.0 - 0.125) / 2 and a.median_response_gap_s == 0.5


def test_identical_starts_longer_segment_takes_the_floor():
    r = check([("b", 0, 1), ("a", 0, 3), ("c", 5, 6), ("b", 5, 9)])
    assert r.turns == (Turn("a", 0, 3), Turn("b", 5, 9))
    assert r.backchannels == (Backchannel(0.0, "b", "a", 1.0), Backchannel(5.0, "c", "b", 1.0))
    # identical start and end: speaker order decides; the second is wholly inside the first
    r = check([("b", 0, 2), ("a", 0, 2)])
    assert r.turns == (Turn("a", 0, 2),) and r.attempted_interruptions == (Interruption(0.0, "b", "a", 2.0),)


def test_empty_single_silent_and_zero_length():
    r = check([], speakers=["x", "y"])
    assert r.turns == () and r.floor_transfers == () and r.segments == () and r.floor_transfer_offsets_s == []
    assert r.per_speaker["x"] == SpeakerStats(0.0, 0.0, 0, 0.0, 0.0, 0, 0, 0, None, 0, 0, 0, 0, None)
    assert r.to_json()["per_speaker"]["y"]["median_response_gap_s"] is None
    assert check([]).per_speaker == {}
    r = check([("a", 0, 1), ("a", 2, 3)])
    assert r.turns == (Turn("a", 0, 3),) and r.per_speaker["a"].talk_share == 1.0
    r = check([("a", 0, 1), ("b", 0.5, 0.5), ("b", 2, 2)])  # zero-length: dropped, b still listed
    assert r.speakers == ("a", "b") and r.per_speaker["b"].talk_time_s == 0.0 and r.floor_transfers == ()


def test_short_reply_in_the_holders_silence_is_a_turn():
    # a "mm" in a pause, not inside speech, is a floor transfer by rule (documented in docs/metrics.md)
    r = check([("a", 0, 2), ("b", 2.5, 2.75), ("a", 3, 5)])
    assert [f.kind for f in r.floor_transfers] == ["gap", "gap"] and r.backchannels == ()


@pytest.mark.parametrize("bad, match", [
    (Segment(2.0, 1.0, "a"), r"segment #1 Segment\(start=2.0, end=1.0, speaker='a'\) ends before it starts"),
    (Segment(float("nan"), 1.0, "a"), "non-finite"),
    (Segment(0.0, float("inf"), "a"), "non-finite"),
])
def test_bad_segments_are_named(bad, match):
    with pytest.raises(InputError, match=match):
        analyze_turns([Segment(0.0, 1.0, "a"), bad], config=CFG)


def test_bad_speakers_and_config():
    with pytest.raises(InputError, match=r"\['z'\] not in the speaker list"):
        analyze_turns([Segment(0.0, 1.0, "z")], config=CFG, speakers=["a"])
    with pytest.raises(InputError, match=r"\['a'\] more than once"):
        analyze_turns([], config=CFG, speakers=["a", "b", "a"])
    with pytest.raises(ConfigError, match="backchannel_max_s = -1.0"):
        analyze_turns([], config=dataclasses.replace(CFG, backchannel_max_s=-1.0))
    with pytest.raises(ConfigError, match="bridge_pause_s = nan"):
        analyze_turns([], config=dataclasses.replace(CFG, bridge_pause_s=float("nan")))


def test_thresholds_come_from_the_config():
    rows = [("a", 0, 5), ("b", 4.5, 6)]
    assert check(rows).floor_transfers[0].kind == "interruption"
    assert check(rows, dataclasses.replace(CFG, interruption_min_holdover_s=0.75)).floor_transfers[0].kind \
        == "smooth_overlap"
    assert check(rows, dataclasses.replace(CFG, interruption_min_continue_s=1.5)).floor_transfers[0].kind \
        == "overlap_transfer"
    assert check([("a", 0, 5), ("b", 1, 2.5)], dataclasses.replace(CFG, backchannel_max_s=1.5)).backchannels
    assert check([("a", 0, 1), ("a", 1.5, 2)], dataclasses.replace(CFG, bridge_pause_s=0.75)).pauses == ()
    assert default_config().turns == CFG


def test_to_json_fields_and_rounding():
    r = check([("a", 0, 5), ("b", 1, 1.5), ("b", 4.5, 6.0001), ("a", 6.3, 7)])
    j = r.to_json()
    assert set(j) == {"speakers", "per_speaker", "interruptions", "attempted_interruptions", "backchannels",
                      "floor_transfer_offsets_s", "floor_transfers", "turns", "pauses"}
    assert set(j["per_speaker"]["a"]) == {f.name for f in dataclasses.fields(SpeakerStats)}
    assert j["interruptions"] == [{"t": 4.5, "by": "b", "of": "a", "overlap_s": 0.5}]
    assert j["backchannels"] == [{"t": 1.0, "by": "b", "during": "a", "duration_s": 0.5}]
    assert j["floor_transfers"] == [{"t": 4.5, "from": "a", "to": "b", "offset_s": -0.5, "kind": "interruption"},
                                    {"t": 6.3, "from": "b", "to": "a", "offset_s": 0.3, "kind": "gap"}]
    assert j["floor_transfer_offsets_s"] == [-0.5, 0.3]
    assert j["turns"][1] == {"speaker": "b", "start": 4.5, "end": 6.0}
    assert j["per_speaker"]["b"]["talk_time_s"] == 2.0 and j["per_speaker"]["a"]["turns"] == 2
    zero = analyze_turns([Segment(0, 1, "a"), Segment(1 - 1e-12, 2, "b")], config=CFG).to_json()
    assert math.copysign(1, zero["floor_transfer_offsets_s"][0]) == 1.0  # no "-0.0" in the output
