"""The practice conversation: its truth follows the turn rules, and the audio is where the truth says."""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile
import webrtcvad

from attunement.errors import InputError
from attunement.records import Segment
from attunement.demo.conversation import PRACTICE_F0_HZ, Line, _resonate, expected_from_script, layout, practice_conversation, resonate, synth_voice
from tests import naive

RATE = 16000
#: webrtcvad keeps saying "speech" for 3 frames of 30 ms after a run of more than 6 speech
#: frames (modes 2 and 3: kOverHangMax2AGG/VAG = {9, 5, 3} for 10/20/30 ms frames in WebRTC's
#: common_audio/vad/vad_core.c). Offsets are scored with that hangover taken off.
HANGOVER_FRAMES = 3
FRAME_S = 0.03


# ---- an independent statement of the turn rules (straight loops over segments) ----------

def events_by_rules(segments, *, bridge=0.25, bc_max=1.0, holdover=0.5, cont=1.0):
    """Interruptions, backchannels, smooth overlaps, FTOs and turns of `segments` by the turn rules."""
    bridged = []
    for who in sorted({s.speaker for s in segments}):
        own = sorted(s for s in segments if s.speaker == who)
        merged = [own[0]]
        for s in own[1:]:
            if s.start - merged[-1].end < bridge:
                merged[-1] = Segment(merged[-1].start, max(merged[-1].end, s.end), who)
            else:
                merged.append(s)
        bridged += merged
    bridged.sort(key=lambda s: (s.start, s.end))
    out = {"interruptions": [], "backchannels": [], "attempted_interruptions": [], "smooth_overlaps": [],
           "floor_transfer_offsets_s": [], "turns": []}
    holder, h_end = bridged[0].speaker, bridged[0].end
    turn_start = bridged[0].start
    for s in bridged[1:]:
        if s.speaker == holder:
            h_end = max(h_end, s.end)
            continue
        if s.start < h_end and s.end <= h_end:
            if s.duration <= bc_max:
                out["backchannels"].append({"t": s.start, "by": s.speaker, "during": holder})
            else:
                out["attempted_interruptions"].append({"t": s.start, "by": s.speaker, "of": holder})
            continue
        if s.start < h_end:
            if h_end - s.start >= holdover and s.end - h_end >= cont:
                out["interruptions"].append({"t": s.start, "by": s.speaker, "of": holder, "overlap_s": h_end - s.start})
            elif h_end - s.start < holdover:
                out["smooth_overlaps"].append({"t": s.start, "by": s.speaker, "of": holder})
        out["floor_transfer_offsets_s"].append(s.start - h_end)
        out["turns"].append((holder, turn_start, h_end))
        holder, h_end, turn_start = s.speaker, s.end, s.start
    out["turns"].append((holder, turn_start, h_end))
    return out


def assert_truth_consistent(conv):
    """Segments sorted and sane; the events the rules find are exactly the ones written from the script."""
    segs = conv.segments
    assert list(segs) == sorted(segs)
    assert all(s.end > s.start >= 0 for s in segs) and segs[-1].end <= conv.audio.shape[1] / conv.rate
    for who in conv.speakers:
        own = [s for s in segs if s.speaker == who]
        assert all(b.start - a.end >= 0.35 for a, b in zip(own, own[1:])), who
    for s in segs:   # exact to the sample
        assert round(s.start * conv.rate) / conv.rate == s.start and round(s.end * conv.rate) / conv.rate == s.end
    found = events_by_rules(segs)
    exp = conv.expected
    for key in ("interruptions", "backchannels", "attempted_interruptions"):
        assert len(found[key]) == len(exp[key]), key
        for f, e in zip(found[key], exp[key]):
            assert f.keys() <= e.keys() and all(f[k] == pytest.approx(e[k], abs=1e-9) for k in f), (key, f, e)
    assert found["floor_transfer_offsets_s"] == pytest.approx(exp["floor_transfer_offsets_s"], abs=1e-9)
    assert [t[0] for t in found["turns"]] == [t[0] for t in exp["turns"]]
    assert np.allclose([t[1:] for t in found["turns"]], [t[1:] for t in exp["turns"]], atol=1e-9)
    talk = {who: sum(s.duration for s in segs if s.speaker == who) for who in conv.speakers}
    assert talk == pytest.approx(exp["talk_time_s"]) and sum(exp["talk_share"].values()) == pytest.approx(1.0)
    return found


# ---- helpers measuring the audio ---------------------------------------------------------

def webrtc_speech(x, rate, mode):
    """webrtcvad's decision per 30 ms frame of float audio x [n]."""
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2")
    hop = rate * 30 // 1000
    vad = webrtcvad.Vad(mode)
    return np.array([vad.is_speech(pcm[i * hop:(i + 1) * hop].tobytes(), rate) for i in range(pcm.size // hop)])


def union(segments):
    out = []
    for s in sorted(segments):
        if out and s.start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], s.end)
        else:
            out.append([s.start, s.end])
    return out


def frame_scores(speech, spans):
    """Share of frames inside `spans` marked speech; share of frames outside (hangover excluded) marked speech."""
    mid = (np.arange(speech.size) + 0.5) * FRAME_S
    inside = np.zeros(speech.size, bool)
    hang = np.zeros(speech.size, bool)
    for a, b in spans:
        inside |= (mid >= a) & (mid < b)
        hang |= (mid >= b) & (mid < b + (HANGOVER_FRAMES + 1) * FRAME_S)
    outside = ~inside & ~hang
    return speech[inside].mean(), speech[outside].mean()


def boundary_errors(speech, a, b):
    """(first speech frame's start - a, last speech frame's end - hangover - b) around one utterance [a, b)."""
    k = np.flatnonzero(speech)
    near = k[((k + 1) * FRAME_S > a - 0.1) & (k * FRAME_S < b + 0.1 + HANGOVER_FRAMES * FRAME_S)]
    return near[0] * FRAME_S - a, (near[-1] + 1 - HANGOVER_FRAMES) * FRAME_S - b


def frame_db(x, rate, hop_s=0.01):
    h = round(rate * hop_s)
    fr = x[: x.size // h * h].reshape(-1, h).astype(np.float64)
    return 10 * np.log10(np.mean(fr**2, axis=1) + 1e-12)


def autocorr_f0(x, rate, lo=70.0, hi=400.0, frame_s=0.04):
    """Median f0 (Hz) over 40 ms frames by normalised autocorrelation."""
    n = round(frame_s * rate)
    lags = np.arange(int(rate / hi), int(rate / lo) + 1)
    f0s = []
    for i in range(0, x.size - n - lags[-1], n):
        a = x[i:i + n]
        r = np.array([np.dot(a, x[i + L:i + L + n]) for L in lags]) / (np.dot(a, a) + 1e-12)
        f0s.append(rate / lags[np.argmax(r)])
    return float(np.median(f0s))


# ---- the resonator kernel against a plain-Python reference -------------------------------

def test_resonator_impulse_response_is_the_damped_sine():
    f, bw = 500.0, 100.0
    x = np.zeros(400)
    x[0] = 1.0
    y = resonate(x, freq_hz=f, bandwidth_hz=bw, rate=RATE)
    r, theta = np.exp(-np.pi * bw / RATE), 2 * np.pi * f / RATE
    n = np.arange(400)
    a = 1 - 2 * r * np.cos(theta) + r * r
    assert np.allclose(y, a * r**n * np.sin((n + 1) * theta) / np.sin(theta), atol=1e-12)


def test_resonator_has_unity_gain_at_dc():
    y = resonate(np.ones(4000), freq_hz=700.0, bandwidth_hz=90.0, rate=RATE)
    assert y[-1] == pytest.approx(1.0, abs=1e-9)


def test_resonator_kernel_matches_reference_on_random_inputs(rng):
    for n in (0, 1, 2, 7, 1000):
        x = rng.standard_normal(n)
        r = rng.uniform(0.5, 0.999, n)
        b, c = 2 * r * np.cos(rng.uniform(0.01, np.pi - 0.01, n)), -r * r
        a = rng.uniform(0.1, 2.0, n)
        out = np.empty(n)
        _resonate(x, a, b, c, out)
        assert np.allclose(out, naive.resonator(x, a, b, c), rtol=1e-12, atol=1e-12)


def test_resonator_follows_moving_formants(rng):
    x = rng.standard_normal(3000)
    freq = np.linspace(300.0, 2500.0, 3000)
    bw = rng.uniform(50, 200, 3000)
    r = np.exp(-np.pi * bw / RATE)
    b, c = 2 * r * np.cos(2 * np.pi * freq / RATE), -r * r
    assert np.allclose(resonate(x, freq_hz=freq, bandwidth_hz=bw, rate=RATE),
                       naive.resonator(x, 1 - b - c, b, c), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(freq_hz=8000.0, bandwidth_hz=80.0), dict(freq_hz=500.0, bandwidth_hz=0.0),
                                    dict(freq_hz=-5.0, bandwidth_hz=80.0)])
def test_resonator_rejects_impossible_formants(kwargs):
    with pytest.raises(InputError, match="resonator"):
        resonate(np.ones(10), rate=RATE, **kwargs)


# ---- the voice ---------------------------------------------------------------------------

@pytest.mark.parametrize("f0", [100.0, 120.0, 210.0, 260.0])
def test_voice_has_its_pitch_and_never_falls_silent(f0, rng):
    x = synth_voice(1.5, f0_hz=f0, rate=RATE, rng=rng)
    assert x.shape == (24000,) and np.sqrt(np.mean(x**2)) == pytest.approx(1.0)
    assert autocorr_f0(x, RATE) == pytest.approx(f0, rel=0.1)
    level = frame_db(x, RATE)[1:-1]          # the ramps live in the first and last 10 ms
    assert level.min() > -22.0, level.min()  # syllable dips stay well above silence (unit RMS = 0 dB)


def test_voice_ramps_in_and_out(rng):
    x = synth_voice(0.5, f0_hz=150.0, rate=RATE, rng=rng, murmur=True)
    assert abs(x[0]) < 0.05 and abs(x[-1]) < 0.05 and x.size == 8000


@pytest.mark.parametrize("kwargs, match", [(dict(duration_s=0.0, f0_hz=120.0), "not positive"),
                                           (dict(duration_s=1.0, f0_hz=20.0), "outside the range")])
def test_voice_rejects_bad_arguments(kwargs, match, rng):
    with pytest.raises(InputError, match=match):
        synth_voice(rate=RATE, rng=rng, **kwargs)


# ---- scripts -----------------------------------------------------------------------------

def test_hand_made_script_gives_hand_written_events():
    lines = [Line(0, "start", 1.0, 2.0), Line(1, "backchannel", 0.3, 0.5), Line(1, "interrupt", 0.75, 2.0),
             Line(0, "gap", 0.5, 1.5), Line(0, "pause", 0.6, 1.0), Line(1, "smooth", 0.3, 1.0)]
    spans = layout(lines, [round(line.duration_s * RATE) for line in lines], rate=RATE)
    assert [(a / RATE, b / RATE) for a, b in spans] == [(1.0, 3.0), (1.3, 1.8), (2.25, 4.25), (4.75, 6.25),
                                                         (6.85, 7.85), (7.55, 8.55)]
    exp = expected_from_script(lines, spans, ("ann", "bo"), rate=RATE)
    assert exp["interruptions"] == [{"t": 2.25, "by": "bo", "of": "ann", "overlap_s": 0.75}]
    assert exp["backchannels"] == [{"t": 1.3, "by": "bo", "during": "ann"}]
    assert exp["floor_transfer_offsets_s"] == pytest.approx([-0.75, 0.5, -0.3])
    assert exp["turns"] == [("ann", 1.0, 3.0), ("bo", 2.25, 4.25), ("ann", 4.75, 7.85), ("bo", 7.55, 8.55)]
    assert exp["talk_time_s"] == pytest.approx({"ann": 4.5, "bo": 3.5})


@pytest.mark.parametrize("lines, match", [
    ([Line(0, "gap", 0.2, 1.0)], "begin with a 'start'"),
    ([Line(0, "start", 0.0, 2.0), Line(1, "backchannel", 0.5, 0.95)], "too long for a backchannel"),
    ([Line(0, "start", 0.0, 2.0), Line(1, "backchannel", 1.5, 0.5)], "not well inside"),
    ([Line(0, "start", 0.0, 2.0), Line(1, "interrupt", 0.8, 1.5)], "stops too soon"),
    ([Line(0, "start", 0.0, 2.0), Line(1, "interrupt", 0.55, 2.5)], "goes on too briefly"),
    ([Line(0, "start", 0.0, 2.0), Line(1, "smooth", 0.45, 2.5)], "out of range"),
    ([Line(0, "start", 0.0, 2.0), Line(0, "pause", 0.3, 1.0)], "pause < 0.35"),
    ([Line(0, "start", 0.0, 2.0), Line(0, "gap", 0.3, 1.0)], "other than the holder"),
    ([Line(0, "start", 0.0, 2.0), Line(1, "gap", 0.3, 1.0), Line(1, "gap", 0.3, 1.0)], "other than the holder"),
    ([Line(0, "start", 0.0, 2.0), Line(1, "talk", 0.3, 1.0)], "unknown kind"),
    ([Line(0, "start", 0.0, 3.0), Line(1, "backchannel", 0.5, 0.5), Line(1, "interrupt", 2.0, 3.5)], "pauses only"),
])
def test_scripts_that_would_not_give_their_events_are_refused(lines, match):
    with pytest.raises(InputError, match=match):
        layout(lines, [round(line.duration_s * RATE) for line in lines], rate=RATE)


# ---- the practice conversation -----------------------------------------------------------

def test_practice_truth_follows_the_rules_and_has_every_event():
    conv = practice_conversation()
    found = assert_truth_consistent(conv)
    assert conv.speakers == ("alex", "sam") and 30.0 <= conv.audio.shape[1] / conv.rate <= 40.0
    assert len(found["interruptions"]) == 1 and len(found["backchannels"]) == 1
    assert found["interruptions"][0]["overlap_s"] >= 0.5
    assert len(found["smooth_overlaps"]) == 1 and found["attempted_interruptions"] == []
    bc = found["backchannels"][0]
    bc_seg = next(s for s in conv.segments if s.start == bc["t"])
    assert 0.4 <= bc_seg.duration <= 0.6
    ftos = found["floor_transfer_offsets_s"]
    assert {0.15, 0.4, 0.9, 1.6} <= {round(f, 3) for f in ftos if f > 0}
    assert [round(f, 3) for f in ftos if f < 0] == [-0.25, -0.8]
    pauses = []
    for who in conv.speakers:
        own = [s for s in conv.segments if s.speaker == who]
        pauses += [b.start - a.end for a, b in zip(own, own[1:])]
    assert min(pauses) >= 0.35 and max(pauses) > 0.5


def test_events_are_a_second_apart_and_survive_one_frame_errors(rng):
    conv = practice_conversation()
    base = events_by_rules(conv.segments)
    times = sorted({e["t"] for k in ("interruptions", "backchannels", "smooth_overlaps") for e in base[k]}
                   | {t[1] for t in base["turns"]})
    assert np.min(np.diff(times)) >= 1.0
    for _ in range(200):
        jitter = rng.uniform(-FRAME_S, FRAME_S, (len(conv.segments), 2))
        moved = [Segment(s.start + d0, s.end + d1, s.speaker) for s, (d0, d1) in zip(conv.segments, jitter)]
        got = events_by_rules(moved)
        for key in ("interruptions", "backchannels", "smooth_overlaps", "attempted_interruptions"):
            assert [e["by"] for e in got[key]] == [e["by"] for e in base[key]], key
            assert np.allclose([e["t"] for e in got[key]], [e["t"] for e in base[key]], atol=FRAME_S), key
        assert np.sign(got["floor_transfer_offsets_s"]).tolist() == np.sign(base["floor_transfer_offsets_s"]).tolist()
        assert [t[0] for t in got["turns"]] == [t[0] for t in base["turns"]]


def test_audio_energy_is_where_the_truth_says():
    conv = practice_conversation()
    x = conv.audio[0]
    level = frame_db(x, conv.rate)
    speech_db = 10 * np.log10(np.mean(np.concatenate(
        [x[round(s.start * conv.rate):round(s.end * conv.rate)] for s in conv.segments]).astype(np.float64) ** 2))
    start = np.arange(level.size) * 0.01
    inside = np.zeros(level.size, bool)
    near = np.zeros(level.size, bool)
    for s in conv.segments:
        inside |= (start >= s.start + 0.01) & (start + 0.02 <= s.end)   # 10 ms clear of the ramps
        near |= (start + 0.02 > s.start) & (start - 0.01 < s.end)
    assert level[inside].min() > speech_db - 20.0
    assert level[~near].max() < speech_db - 40.0
    noise_db = 10 * np.log10(np.mean(x[: round(0.45 * conv.rate)].astype(np.float64) ** 2))
    assert 45.0 <= speech_db - noise_db <= 50.0


@pytest.mark.parametrize("mode", [2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_webrtcvad_hears_each_utterance_exactly(mode, seed):
    mono = practice_conversation(seed=seed)
    speech = webrtc_speech(mono.audio[0], mono.rate, mode)
    spans = union(mono.segments)
    inside, outside = frame_scores(speech, spans)
    assert inside >= 0.97 and outside <= 0.03, (inside, outside)
    edges = [0.0] + [t for span in spans for t in span] + [np.inf]
    for i, (a, b) in enumerate(spans):   # stretches of talk with no other talk within 0.3 s
        if a - edges[2 * i] >= 0.3 and edges[2 * i + 3] - b >= 0.3:
            assert all(abs(e) <= FRAME_S + 1e-9 for e in boundary_errors(speech, a, b)), (a, b)
    # each voice on its own microphone (no leak): every utterance, overlapped or not
    sep = practice_conversation(seed=seed, channels=2, leak_db=np.inf)
    for k, who in enumerate(sep.speakers):
        own = [s for s in sep.segments if s.speaker == who]
        speech = webrtc_speech(sep.audio[k], sep.rate, mode)
        inside, outside = frame_scores(speech, [(s.start, s.end) for s in own])
        assert inside >= 0.97 and outside <= 0.03, (who, inside, outside)
        for s in own:
            errors = boundary_errors(speech, s.start, s.end)
            assert all(abs(e) <= FRAME_S + 1e-9 for e in errors), (who, s, errors)
            whole_frames = speech[int(np.ceil(s.start / FRAME_S)): int(s.end / FRAME_S)]
            assert whole_frames.all(), (who, s)   # one continuous stretch of speech


@pytest.mark.parametrize("leak_db", [6.0, 15.0, 24.0])
def test_two_microphones_leak_the_other_voice_exactly_leak_db_lower(leak_db):
    conv = practice_conversation(channels=2, leak_db=leak_db)
    r = conv.rate
    assert conv.audio.shape[0] == 2 and conv.audio.dtype == np.float32
    for who, (own, other) in (("alex", (0, 1)), ("sam", (1, 0))):
        solo = [s for s in conv.segments if s.speaker == who
                and not any(o.speaker != who and o.start < s.end and s.start < o.end for o in conv.segments)]
        assert solo
        a, b = round(solo[0].start * r), round(solo[0].end * r)
        rms = np.sqrt(np.mean(conv.audio[:, a:b].astype(np.float64) ** 2, axis=1))
        assert 20 * np.log10(rms[own] / rms[other]) == pytest.approx(leak_db, abs=0.05)
    assert_truth_consistent(conv)


def test_same_seed_same_audio_other_seed_other_voices_same_timing():
    a, b, c = practice_conversation(seed=3), practice_conversation(seed=3), practice_conversation(seed=4)
    assert np.array_equal(a.audio, b.audio) and a.segments == b.segments and a.expected == b.expected
    assert not np.array_equal(a.audio, c.audio)
    assert a.segments == c.segments and a.expected == c.expected


@pytest.mark.parametrize("rate", [8000, 48000])
def test_other_rates_keep_the_timing(rate):
    conv = practice_conversation(rate=rate)
    assert conv.rate == rate and conv.segments == practice_conversation().segments
    assert_truth_consistent(conv)


@pytest.mark.parametrize("kwargs, match", [(dict(channels=3), "channels=3"), (dict(rate=4000), "too low"),
                                           (dict(leak_db=-3.0), "leak_db"), (dict(leak_db=float("nan")), "leak_db")])
def test_bad_arguments_raise_input_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        practice_conversation(**kwargs)


def test_demo_wav_sounds_like_two_different_voices(tmp_path, record_property):
    t0 = time.perf_counter()
    conv = practice_conversation(seed=7)
    record_property("generation_s", time.perf_counter() - t0)   # measured, not asserted
    path = tmp_path / "demo.wav"
    soundfile.write(path, conv.audio.T, conv.rate, subtype="PCM_16")
    x, rate = soundfile.read(path, dtype="float64")
    assert rate == conv.rate and x.shape == (conv.audio.shape[1],)
    for k, who in enumerate(conv.speakers):
        solo = [s for s in conv.segments if s.speaker == who and s.duration > 1.0
                and not any(o.speaker != who and o.start < s.end and s.start < o.end for o in conv.segments)]
        voice = np.concatenate([x[round(s.start * rate):round(s.end * rate)] for s in solo])
        assert autocorr_f0(voice, rate) == pytest.approx(PRACTICE_F0_HZ[k], rel=0.1), who


def test_resonate_matches_the_pole_pair_reference_with_moving_formants(rng):
    n = 2000
    x = rng.standard_normal(n)
    freq = 500 + 1500 * rng.random(n).cumsum() / n
    bw = rng.uniform(40, 300, n)
    np.testing.assert_allclose(resonate(x, freq_hz=freq, bandwidth_hz=bw, rate=RATE),
                               naive.resonate(x, freq_hz=freq, bandwidth_hz=bw, rate=RATE), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(resonate(x, freq_hz=900.0, bandwidth_hz=80.0, rate=RATE),
                               naive.resonate(x, freq_hz=900.0, bandwidth_hz=80.0, rate=RATE), rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="one channel"):
        resonate(np.zeros((2, 5)), freq_hz=900.0, bandwidth_hz=80.0, rate=RATE)
