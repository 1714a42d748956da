"""Rehearsal: scenario files, the partner's schedule, echo suppression and the rehearsal metrics."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.config import default_config
from attunement.errors import InputError
from attunement.perception.vad import detect_speech
from attunement.records import Segment
from attunement.session.rehearsal import voice as partner_mod
from attunement.records import PartnerLine
from attunement.session.rehearsal.voice import PartnerVoice, espeak_available, shown_duration, trim_silence
from attunement.records import ME, PARTNER
from attunement.session.rehearsal.schedule import Rehearsal
from attunement.session.rehearsal.measure import analyze_rehearsal, rehearsal_metrics, user_segments
from attunement.perception.echo import estimate_echo_delay, estimate_echo_gain, levels_from_frames, line_frame_levels, playback_levels
from attunement.session.rehearsal.scenario import format_scenarios, list_scenarios, load_scenario, parse_scenario
from attunement.conversation.rttm import read_rttm
from attunement.evaluation.assemble import single_speaker_stretches
from attunement.sources.media import read_audio
from attunement.demo.conversation import pink_noise, synth_voice

RATE = 16000
HOP = 0.03
needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed (Debian package espeak-ng)")


# ---------------------------------------------------------------- scenarios

def test_builtin_scenarios_load_and_validate():
    names = list_scenarios()
    assert names == ["check-in", "feeling-unheard", "future-dreams", "repair", "sensitive-topic"]
    for name in names:
        sc = load_scenario(name)
        assert sc.name == name and sc.title and sc.intro and 1 <= len(sc.tips) <= 2
        assert len(sc.lines) >= 4 and any(line.expects_answer for line in sc.lines)
        for line in sc.lines:
            assert line.text.strip()
            if line.answer_s:
                assert 0 < line.answer_s[0] <= line.answer_s[1]
    assert "happy today" in load_scenario("check-in").lines[0].text
    listing = format_scenarios().splitlines()
    assert [row.split()[0] for row in listing] == names and "Daily check-in" in listing[0]


def test_unknown_scenario_lists_available():
    with pytest.raises(InputError, match="unknown scenario 'nope'; available: check-in, feeling-unheard"):
        load_scenario("nope")


GOOD = 'title = "T"\nintro = "I"\ntips = ["tip"]\n[[lines]]\ntext = "Hello?"\nanswer_s = [1.0, 5.0]\n'


def test_script_file_same_format(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    sc = load_scenario(path)
    assert sc.name == "mine" and sc.lines[0].answer_s == (1.0, 5.0) and sc.tips == ("tip",)
    assert load_scenario(str(path)) == sc


@pytest.mark.parametrize("text, match", [
    ("title = ", "not valid TOML"),
    (GOOD.replace('intro = "I"\n', ""), "'intro'"),
    (GOOD + "colour = 1\n", r"unknown key\(s\) \['colour'\]"),
    (GOOD.replace("[1.0, 5.0]", "[5.0, 1.0]"), r"lines\[0\]: 'answer_s'"),
    (GOOD.replace('text = "Hello?"', 'txt = "Hello?"'), r"lines\[0\]: unknown key"),
    (GOOD.replace('tips = ["tip"]', "tips = []"), "'tips'"),
    (GOOD.replace("answer_s = [1.0, 5.0]\n", ""), "never answers"),
])
def test_malformed_script_names_file_and_key(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match="bad.toml") as e:
        load_scenario(path)
    assert e.match(match)


def test_missing_script_file(tmp_path):
    with pytest.raises(InputError, match="absent.toml"):
        load_scenario(tmp_path / "absent.toml")


# ---------------------------------------------------------------- partner voice

@needs_espeak
def test_espeak_line_is_trimmed_speech():
    voice = PartnerVoice(rate=RATE)
    x = voice.audio("What's one thing that made you happy today?")
    assert x.dtype == np.float32 and 1.0 < len(x) / RATE < 5.0
    edge = round(0.01 * RATE)
    peak = np.sqrt(np.mean(x.astype(float) ** 2))
    assert np.sqrt(np.mean(x[:edge] ** 2)) > peak * 10 ** (-50 / 20)   # starts on sound, not silence
    assert voice.duration("What's one thing that made you happy today?") == len(x) / RATE


def test_shown_when_not_spoken():
    voice = PartnerVoice(rate=RATE, spoken=False)
    assert voice.audio("one two three four") is None
    assert voice.duration("one two three four five six seven eight") == pytest.approx(8 / (160 / 60))
    assert shown_duration("hi") == 1.5


def test_missing_espeak_names_package(monkeypatch):
    monkeypatch.setattr(partner_mod.shutil, "which", lambda name: None)
    with pytest.raises(InputError, match="Debian package espeak-ng"):
        PartnerVoice(spoken=True)


def test_trim_silence_exact():
    x = np.zeros(RATE, dtype=np.float32)
    x[3200:8000] = 0.5
    y = trim_silence(x, rate=RATE)
    assert len(y) == 4800 and np.all(y == 0.5)


@pytest.mark.parametrize("lag", [0, 1, 4])
def test_echo_delay_found(rng, lag):
    ref = np.where(rng.random(200) < 0.5, -80.0, rng.uniform(-40, -10, 200)).astype(np.float32)
    mic = np.full(200, -80.0, dtype=np.float32)
    mic[lag:] = ref[:200 - lag] - 10 + rng.normal(0, 1, 200 - lag)
    assert estimate_echo_delay(mic, ref, max_frames=6) == lag


def test_echo_gain_is_median_of_loud_frames():
    ref = np.array([-20, -22, -21, -80, -25], dtype=np.float32)
    mic = ref - 10
    mic[1] = 0.0                      # the user cutting in on one frame does not move it
    assert estimate_echo_gain(mic, ref, floor_db=40) == pytest.approx(-10)


# ---------------------------------------------------------------- the schedule

def _scripted(text: str = GOOD):
    return parse_scenario(text, origin="test.toml", name="test")


def test_rehearsal_waits_for_silence_after_answer():
    sc = _scripted(GOOD + '[[lines]]\ntext = "Go on."\n[[lines]]\ntext = "And then?"\nanswer_s = [1.0, 4.0]\n')
    plan = Rehearsal(sc, [2.0, 1.0, 1.5], start_s=0.3)
    started = {}
    for k in range(600):
        t = k * HOP
        user = 3.0 <= t < 5.0 or 8.0 <= t < 8.3       # answers line 0; only 0.3 s after line 2
        line = plan.update(t, user)
        if line is not None:
            started[line] = t
    assert started[0] == pytest.approx(0.3, abs=HOP)
    assert started[1] == pytest.approx(6.0, abs=HOP + 1e-9)          # 1.0 s after the answer ended at 5.0
    assert started[2] == pytest.approx(6.0 + 1.0 + 0.6, abs=HOP + 1e-9)   # no answer expected: line_pause_s
    assert plan.done                                   # line 2's answer too short: its 4 s timeout ended it
    assert [ln.text for ln in plan.track] == ["Hello?", "Go on.", "And then?"]


def test_rehearsal_config_checked_and_used():
    with pytest.raises(InputError, match="end_silence_s = -1"):
        default_config().replace("rehearse", end_silence_s=-1)
    plan = Rehearsal(_scripted(GOOD + '[[lines]]\ntext = "Go on."\n'), [1.0, 1.0], start_s=0.0,
                     config=default_config().replace("rehearse", end_silence_s=2.0).rehearse)
    starts = [k * HOP for k in range(300) if plan.update(k * HOP, 1.5 <= k * HOP < 3.0) is not None]
    assert starts == [0.0, pytest.approx(5.0, abs=HOP)]    # 2.0 s after the answer ended at 3.0


def test_rehearsal_times_out_without_answer():
    plan = Rehearsal(_scripted(), [1.0], start_s=0.0)
    assert plan.update(0.0, False) == 0
    assert not plan.done
    for k in range(1, 300):
        plan.update(k * HOP, False)
    assert plan.done
    plan = Rehearsal(_scripted(), [1.0], start_s=0.0)      # a long answer is not cut off at answer_s[1] = 5 s
    ended = next(k * HOP for k in range(400) if plan.update(k * HOP, 1.5 <= k * HOP < 8.0) is None and plan.done)
    assert ended == pytest.approx(8.5, abs=HOP)                # half of end_silence_s after the long answer


# ---------------------------------------------------------------- end to end: partner, user, echo, one mic

SCRIPT = (
    'title = "T"\nintro = "I"\ntips = ["t"]\n'
    '[[lines]]\ntext = "Hey, I am glad we have a moment. What made you happy today?"\nanswer_s = [1.0, 10.0]\n'
    '[[lines]]\ntext = "That sounds lovely. What made it feel so good to you?"\nanswer_s = [1.0, 10.0]\n'
    '[[lines]]\ntext = "Was there anything today that was hard for you?"\nanswer_s = [1.0, 10.0]\n'
)
#: The user's answers: (start relative to the line's end, duration). Line 1 is interrupted 1.0 s before its end.
ANSWERS = [(0.8, 2.2), (-1.0, 2.6), (1.6, 1.8)]
ECHO_DB, ECHO_DELAY_S, USER_RMS = -10.0, 0.02, 0.1


@pytest.fixture(params=["espeak-ng", "synthetic"])
def partner_kind(request) -> str:
    """The partner's voice: espeak-ng (skips when the Debian package is absent) or sources/synthetic.py."""
    if request.param == "espeak-ng" and not espeak_available():
        pytest.skip("espeak-ng not installed (Debian package espeak-ng)")
    return request.param


def _partner_audio(sc, rng, kind):
    if kind == "espeak-ng":
        voice = PartnerVoice(rate=RATE)
        return [voice.audio(line.text) for line in sc.lines]
    return [synth_voice(shown_duration(line.text), f0_hz=210.0, rate=RATE, rng=rng).astype(np.float32) * 0.1
            for line in sc.lines]


def _rehearse(rng, *, with_user: bool, kind: str, voices=None):
    """Runs the plan frame by frame against a scripted user, then mixes one microphone signal.

    The user's answers are the synthetic voice (durations of ANSWERS), or `voices`: three unit-RMS recordings.
    """
    sc = _scripted(SCRIPT)
    audio = _partner_audio(sc, rng, kind)
    plan = Rehearsal(sc, [len(x) / RATE for x in audio], start_s=0.5)
    user_spans: list[tuple[float, float]] = []
    k = 0
    while not plan.done and k < 3000:
        t = k * HOP
        if len(plan.track) > len(user_spans) and (len(plan.track) == 3 or t >= plan.track[-1].end):
            line = plan.track[len(user_spans)]
            offset, dur = ANSWERS[len(user_spans)]
            dur = dur if voices is None else len(voices[len(user_spans)]) / RATE
            user_spans.append((line.end + offset, line.end + offset + dur))
        speaking = with_user and any(a <= t < b for a, b in user_spans)
        plan.update(t, speaking)
        k += 1
    assert plan.done
    n = round((max([plan.track[-1].end] + [b for _, b in user_spans]) + 3.0) * RATE)
    ref = np.zeros(n, dtype=np.float32)
    for line, x in zip(plan.track, audio):
        at = round(line.start * RATE)
        ref[at:at + len(x)] = x
    ref_rms = np.sqrt(np.mean(np.concatenate(audio).astype(float) ** 2))
    delay = round(ECHO_DELAY_S * RATE)
    mic = np.zeros(n)
    mic[delay:] = ref[:n - delay] / ref_rms * USER_RMS * 10 ** (ECHO_DB / 20)
    if with_user:
        for i, (a, b) in enumerate(user_spans):
            x = synth_voice(b - a, f0_hz=120.0, rate=RATE, rng=rng) if voices is None else voices[i]
            at = round(a * RATE)
            mic[at:at + len(x)] += USER_RMS * x
    mic += 10 ** (-55 / 20) * pink_noise((1, n), rate=RATE, rng=rng)[0]
    return plan, audio, user_spans, mic.astype(np.float32)


def _user_segments(plan, audio, mic):
    activity = detect_speech(mic, RATE, config=default_config().vad)
    ref_db = playback_levels(plan.track, audio, frames=activity.frames, hop_s=activity.hop_s, rate=RATE)
    return user_segments(activity, ref_db, plan.track)


def test_playback_levels_place_lines():
    x = np.full(RATE // 10, 0.1, dtype=np.float32)            # 0.1 s at -20 dBFS
    track = [PartnerLine(0.3, 0.4, "a"), PartnerLine(0.6, 0.7, "b", spoken=False)]
    db = playback_levels(track, [x, None], frames=30, hop_s=0.03, rate=RATE)
    assert np.flatnonzero(db > -21).tolist() == [10, 11, 12]   # 0.30-0.39 s; the shown line is silent
    assert db[10] == pytest.approx(-20, abs=0.01) and db[0] == pytest.approx(-120)


def test_echo_alone_never_counts_as_user(rng, partner_kind):
    plan, audio, _, mic = _rehearse(rng, with_user=False, kind=partner_kind)
    raw = detect_speech(mic, RATE, config=default_config().vad)
    assert raw.speech[0].sum() * HOP > 5.0            # the VAD does hear the echo as speech ...
    assert _user_segments(plan, audio, mic) == []     # ... and none of it is the user


def test_interruptions_and_gaps_match_truth(rng, partner_kind):
    plan, audio, spans, mic = _rehearse(rng, with_user=True, kind=partner_kind)
    m = analyze_rehearsal(mic, RATE, plan.track, audio, config=default_config())
    mine = m["user_segments"]
    tol = 2 * HOP + 0.005
    assert len(mine) == 3
    for seg, (a, b) in zip(mine, spans):
        assert seg.start == pytest.approx(a, abs=tol) and seg.end == pytest.approx(b, abs=tol + 0.1)
    assert [(e["line"], e["t"]) for e in m["interruptions"]] == [(1, pytest.approx(spans[1][0], abs=tol))]
    gaps = [p["response_gap_s"] for p in m["lines"]]
    assert gaps == [pytest.approx(off, abs=tol) for off, _ in ANSWERS]
    assert m["lines"][1]["overlap_s"] == pytest.approx(1.0, abs=tol)
    assert m["attempted_interruptions"] == [] and m["backchannels"] == 0


def test_metrics_exact_on_segments():
    partner = [Segment(0.0, 3.0, PARTNER), Segment(5.0, 8.0, PARTNER)]
    mine = [Segment(3.5, 4.5, ME), Segment(6.0, 6.4, ME), Segment(7.0, 9.5, ME)]
    m = rehearsal_metrics(partner, mine, config=default_config())
    assert [p["response_gap_s"] for p in m["lines"]] == [pytest.approx(0.5), pytest.approx(-1.0)]
    assert [(e["line"], e["t"]) for e in m["interruptions"]] == [(1, 7.0)]
    assert m["backchannels"] == 1 and m["lines"][1]["backchannels"] == 1
    assert m["talk_over_share"] == pytest.approx(1.4 / 6.0)
    assert m["median_response_gap_s"] == pytest.approx(-0.25)


@pytest.mark.realdata
def test_real_speech_user_with_espeak_partner(shared_data, rng):
    """The user's answers are real speech (one-speaker stretches of sample.wav); the echo never counts."""
    if not espeak_available():
        pytest.skip("espeak-ng not installed (Debian package espeak-ng)")
    conv = shared_data / "conversations"
    audio, _ = read_audio(conv / "sample.wav", rate=RATE)
    stretches = [s for s in single_speaker_stretches(read_rttm(conv / "sample.rttm"), duration_s=30.0)
                 if s.duration > 2.5][:3]
    voices = [audio[0, round(s.start * RATE):round(s.end * RATE)].astype(np.float64) for s in stretches]
    voices = [v / np.sqrt(np.mean(v ** 2)) for v in voices]
    plan, partner_audio, spans, mic = _rehearse(rng, with_user=True, kind="espeak-ng", voices=voices)
    m = analyze_rehearsal(mic, RATE, plan.track, partner_audio, config=default_config())
    tol = 2 * HOP + 0.005
    assert [(e["line"], e["t"]) for e in m["interruptions"]] == [(1, pytest.approx(spans[1][0], abs=tol))]
    assert [p["response_gap_s"] for p in m["lines"]] == [pytest.approx(off, abs=tol) for off, _ in ANSWERS]
    for seg in m["user_segments"]:               # nothing of the user's outside their true answers
        assert any(a - tol <= seg.start and seg.end <= b + 0.5 for a, b in spans)


def test_line_frame_levels_give_playback_levels(rng):
    """The per-line levels a live rehearsal stores rebuild playback_levels exactly (lines apart),
    and a frame two lines share holds their summed power."""
    hop, frames = 480, 200
    audio = [rng.normal(0, 0.1, int(rng.integers(500, 20000))).astype(np.float32) for _ in range(3)]
    at = [1000, 30017, 61440]                               # sample offsets: mid-frame, mid-frame, on a frame
    track = [PartnerLine(a / RATE, (a + len(x)) / RATE, "x", True) for a, x in zip(at, audio)]
    want = playback_levels(track, audio, frames=frames, hop_s=hop / RATE, rate=RATE)
    parts = [line_frame_levels(x, a, hop=hop) for a, x in zip(at, audio)]
    got = levels_from_frames([f for f, _ in parts], [db for _, db in parts], frames=frames, hop=hop)
    assert got.dtype == np.float32 and np.array_equal(got, want)
    assert np.array_equal(levels_from_frames([], [], frames=5, hop=hop), np.full(5, -120.0, np.float32))
    # two lines in one frame (samples 0-99 and 200-479 of frame 3): powers add
    a, b = np.full(100, 0.1, np.float32), np.full(280, 0.2, np.float32)
    parts = [line_frame_levels(a, 3 * hop, hop=hop), line_frame_levels(b, 3 * hop + 200, hop=hop)]
    got = levels_from_frames([f for f, _ in parts], [db for _, db in parts], frames=6, hop=hop)
    x = np.zeros(6 * hop, np.float32)
    x[3 * hop:3 * hop + 100], x[3 * hop + 200:4 * hop] = a, b
    assert got[3] == pytest.approx(10 * np.log10(np.mean(x[3 * hop:4 * hop].astype(float) ** 2)), abs=1e-4)
    assert got[2] == got[4] == -120.0
