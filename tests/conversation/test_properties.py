"""Property-based tests (hypothesis) of the annotation readers and the turn-taking engine: any
text gives segments or one InputError, never another exception; any activity gives consistent
metrics (talk shares sum to 1, every event inside the session, nobody interrupts themselves)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attunement.config import default_config
from attunement.conversation.rttm import format_rttm, parse_rttm
from attunement.conversation.transcripts import parse_json, parse_srt, parse_textgrid, parse_webvtt, webvtt_text
from attunement.conversation.turns import analyze_turns
from attunement.errors import InputError
from attunement.perception.transcribe import utterance_of
from attunement.records import Segment

TURNS = default_config().turns
SETTINGS = settings(max_examples=150, deadline=None, database=None,  # no example database in the repo
                    suppress_health_check=[HealthCheck.too_slow])

speaker = st.sampled_from(["ana", "ben", "cy", "d"])
times = st.floats(min_value=0.0, max_value=600.0, allow_nan=False, allow_infinity=False)
lengths = st.floats(min_value=0.0, max_value=30.0, allow_nan=False, allow_infinity=False)
segments = st.lists(st.builds(lambda s, d, k: Segment(round(s, 3), round(s + d, 3), k), times, lengths, speaker),
                    max_size=60)
rttm_junk = st.lists(st.one_of(
    st.text(max_size=60),
    st.builds(lambda *f: " ".join(map(str, f)), st.just("SPEAKER"), st.text("abc", min_size=1, max_size=3),
              st.just(1), st.one_of(times, st.text(max_size=5), st.just("nan"), st.just("-1")),
              st.one_of(lengths, st.text(max_size=5), st.just("inf")), st.just("<NA>"), st.just("<NA>"),
              st.text("xyz", min_size=1, max_size=3))), max_size=20).map("\n".join)


@SETTINGS
@given(segments)
def test_rttm_written_is_read_back_as_the_same_segments(segs):
    text = format_rttm(segs, file_id="f")
    back = parse_rttm(text).get("f", [])
    want = sorted(s for s in segs)
    assert [s.speaker for s in back] == [s.speaker for s in want]
    for a, b in zip(back, want):
        assert a.start == pytest.approx(b.start, abs=1e-3) and a.end == pytest.approx(b.end, abs=2e-3)


@SETTINGS
@given(rttm_junk)
def test_any_rttm_text_gives_sorted_finite_segments_or_one_input_error(text):
    try:
        files = parse_rttm(text)
    except InputError as e:
        assert "\n" not in str(e)
        return
    for segs in files.values():
        assert segs == sorted(segs)
        assert all(math.isfinite(s.start) and math.isfinite(s.end) and 0 <= s.start <= s.end for s in segs)


@SETTINGS
@given(st.text(max_size=400), st.sampled_from([parse_webvtt, parse_srt, parse_textgrid, parse_json]))
def test_any_transcript_text_gives_utterances_in_order_or_one_input_error(text, parse):
    for candidate in (text, "WEBVTT\n\n" + text, 'File type = "ooTextFile"\nObject class = "TextGrid"\n' + text):
        try:
            utts = parse(candidate)
        except InputError:
            continue
        starts = [u.start for u in utts]
        assert starts == sorted(starts)
        assert all(0 <= u.start <= u.end and math.isfinite(u.end) for u in utts)


words = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), max_codepoint=0x2FF),
                min_size=1, max_size=8)


@SETTINGS
@given(st.lists(st.tuples(times, st.floats(0.05, 10.0), speaker, st.lists(words, min_size=1, max_size=6)),
                max_size=15))
def test_webvtt_written_is_read_back(rows):
    utts = [utterance_of(k, ((round(s, 3), round(s + d, 3)),), " ".join(w)) for s, d, k, w in rows]
    utts = [u for u in utts if u.words]
    back = parse_webvtt(webvtt_text(utts))
    want = sorted(utts, key=lambda u: (u.start, u.speaker))
    assert [(u.speaker, u.text) for u in back] == [(u.speaker, u.text) for u in want]


@SETTINGS
@given(segments)
def test_any_activity_gives_consistent_turn_taking(segs):
    result = analyze_turns(segs, config=TURNS)
    spoken = [s for s in segs if s.end > s.start]
    end = max((s.end for s in spoken), default=0.0)
    stats = result.per_speaker
    talk = sum(s.talk_time_s for s in stats.values())
    if spoken:
        assert sum(s.talk_share for s in stats.values()) == pytest.approx(1.0, abs=1e-6)
    else:
        assert talk == 0
    eps = 1e-6
    for e in (*result.interruptions, *result.attempted_interruptions):
        assert e.by != e.of and 0 <= e.t <= end + eps and e.overlap_s >= -eps
    for b in result.backchannels:
        assert b.by != b.during and 0 <= b.t <= end + eps and b.duration_s >= 0
    for f in result.floor_transfers:
        assert f.from_ != f.to and 0 <= f.t <= end + eps
    for t in result.turns:
        assert 0 <= t.start <= t.end <= end + eps
    for p in result.pauses:
        assert p.duration_s > 0 and 0 <= p.t and p.t + p.duration_s <= end + eps
    for k, s in stats.items():
        assert s.interruptions_made == sum(e.by == k for e in result.interruptions)
        assert s.interruptions_received == sum(e.of == k for e in result.interruptions)
        assert 0 <= s.talk_time_s <= end + eps and s.longest_turn_s <= end + eps
    turns = sorted(result.turns, key=lambda t: t.start)
    assert all(a.speaker != b.speaker or a.end <= b.start + eps for a, b in zip(turns, turns[1:]))


@SETTINGS
@given(segments, st.floats(0.0, 100.0))
def test_turn_taking_does_not_depend_on_the_order_of_segments_or_a_shift_in_time(segs, shift):
    a = analyze_turns(segs, config=TURNS)
    b = analyze_turns(list(reversed(segs)), config=TURNS)
    assert a.to_json() == b.to_json()
    shifted = analyze_turns([Segment(s.start + shift, s.end + shift, s.speaker) for s in segs], config=TURNS)
    for k, s in a.per_speaker.items():
        assert shifted.per_speaker[k].talk_time_s == pytest.approx(s.talk_time_s, abs=1e-6)
        assert shifted.per_speaker[k].turns == s.turns
