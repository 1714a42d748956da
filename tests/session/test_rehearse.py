"""Live rehearsal end to end without hardware: a scripted user answers into a replayed microphone
that also hears the partner's lines as they are played (echo at -10 dB), on one session clock."""

from __future__ import annotations

import json

import numpy as np
import pytest

from attunement.summary.cues_json import review_cues
from attunement.config import default_config
from attunement.errors import EndOfStream, InputError
from attunement.records import AudioBlock
from attunement.session.rehearsal.voice import PartnerVoice, espeak_available, shown_duration
from attunement.session.runners.rehearse import SoundPlayer, run_rehearsal
from attunement.session.runners.pacing import FrameDecider as FrameDecider, Playback as Playback
from attunement.session.rehearsal.scenario import load_scenario
from attunement.demo.conversation import pink_noise, synth_voice

RATE = 16000
HOP = 0.03
BLOCK = 320                      # 20 ms blocks, as the Microphone delivers them
#: The user's answer to each line that expects one: (start relative to the line's end, duration), s.
#: check-in's line 2 expects no answer; line 1 is interrupted 1.0 s before its end.
ANSWERS = {0: (0.8, 2.2), 1: (-1.0, 2.6), 3: (1.6, 1.8), 4: (0.6, 2.0)}
ECHO_DB, ECHO_DELAY_S, USER_RMS = -10.0, 0.02, 0.1
T0 = 3.25                        # the microphone's first sample on the session clock


class SyntheticVoice:
    """A PartnerVoice stand-in: sources/synthetic.py's voice, as long as the line's reading time."""

    def __init__(self, rng):
        self.rate, self.rng, self._cache = RATE, rng, {}

    def audio(self, text):
        if text not in self._cache:
            self._cache[text] = (0.1 * synth_voice(shown_duration(text), f0_hz=210.0, rate=RATE,
                                                   rng=self.rng)).astype(np.float32)
        return self._cache[text]


class ScriptedRoom:
    """A Microphone-like replay: background noise, the partner's echo once a line is played (the
    player), and the user answering each line at ANSWERS' delay after its end. Blocks are made on
    demand, so the user's answer depends on when the partner actually spoke."""

    def __init__(self, rng, *, user: bool = True, limit_s: float = 130.0):
        self.rate, self.name, self.rng, self.user = RATE, "scripted room", rng, user
        n = round(limit_s * RATE)
        self.signal = (10 ** (-55 / 20) * pink_noise((1, n), rate=RATE, rng=rng)[0]).astype(np.float64)
        self.pos = 0
        self.played: list[tuple[float, float]] = []      # (start, end) of each line, session s
        self.answers: dict[int, tuple[float, float]] = {}

    def read(self, timeout=None):
        if self.pos + BLOCK > len(self.signal):
            raise EndOfStream("scripted room: end")
        x = self.signal[self.pos:self.pos + BLOCK].astype(np.float32)
        block = AudioBlock(x[None], T0 + self.pos / RATE, RATE)
        self.pos += BLOCK
        return block

    def play(self, index, text, audio, rate):
        """The player: the line's echo from the next sample on (after ECHO_DELAY_S), the user's answer."""
        at = self.pos
        self.played.append((T0 + at / RATE, T0 + (at + len(audio)) / RATE))
        ref_rms = np.sqrt(np.mean(audio.astype(float) ** 2))
        lo = at + round(ECHO_DELAY_S * RATE)
        echo = audio / ref_rms * USER_RMS * 10 ** (ECHO_DB / 20)
        self.signal[lo:lo + len(echo)] += echo[:len(self.signal) - lo]
        if self.user and index in ANSWERS:
            offset, dur = ANSWERS[index]
            a = at + len(audio) + round(offset * RATE)
            x = USER_RMS * synth_voice(dur, f0_hz=120.0, rate=RATE, rng=self.rng)
            self.signal[a:a + len(x)] += x
            self.answers[index] = (T0 + a / RATE, T0 + (a + len(x)) / RATE)
        return True


@pytest.fixture(params=["synthetic", "espeak-ng"])
def voice(request, rng):
    if request.param == "espeak-ng":
        if not espeak_available():
            pytest.skip("espeak-ng not installed (Debian package espeak-ng)")
        return PartnerVoice(rate=RATE)
    return SyntheticVoice(rng)


def _run(rng, voice, tmp_path, *, user=True):
    room = ScriptedRoom(rng, user=user)
    result = run_rehearsal(scenario=load_scenario("check-in"), mic=room, config=default_config(),
                           player=room.play, voice=voice, root=tmp_path, start_s=T0 + 0.5)
    return room, result


def test_scripted_rehearsal_matches_truth(rng, voice, tmp_path):
    room, result = _run(rng, voice, tmp_path)
    tol = 2 * HOP + 0.005
    track = result.track
    assert len(track) == 5 and all(ln.spoken for ln in track)
    assert [(ln.start, ln.end) for ln in track] == [pytest.approx(p, abs=1e-9) for p in room.played]
    assert track[0].start == pytest.approx(T0 + 0.5, abs=HOP + BLOCK / RATE)
    # each line after an answer starts end_silence_s (1.0 s) after the answer ends; line 3 follows line 2
    for k in (1, 2, 4):
        answer_end = room.answers[k - 1][1]
        assert track[k].start == pytest.approx(answer_end + 1.0, abs=tol + BLOCK / RATE + HOP)
    assert track[3].start == pytest.approx(track[2].end + 0.6, abs=HOP + BLOCK / RATE)
    m = result.metrics
    mine = m["user_segments"]
    assert len(mine) == len(ANSWERS)
    for seg, k in zip(mine, sorted(ANSWERS)):
        a, b = room.answers[k]
        assert seg.start == pytest.approx(a, abs=tol) and seg.end == pytest.approx(b, abs=tol + 0.1)
    assert [(e["line"], e["t"]) for e in m["interruptions"]] == [(1, pytest.approx(room.answers[1][0], abs=tol))]
    gaps = [p["response_gap_s"] for p in m["lines"]]
    assert [gaps[k] for k in sorted(ANSWERS)] == [pytest.approx(ANSWERS[k][0], abs=tol) for k in sorted(ANSWERS)]
    # the stored session: rehearsal.json, review.json, report.html; no audio kept
    saved = json.loads((result.folder / "rehearsal.json").read_text())
    assert saved["scenario"] == "check-in" and len(saved["partner"]) == 5
    assert len(saved["interruptions"]) == 1
    assert (result.folder / "review.json").is_file() and (result.folder / "report.html").is_file()
    assert not (result.folder / "audio.wav").exists()
    assert set(result.review.speakers) == {"partner", "me"}


def test_echo_never_counts_as_user(rng, tmp_path):
    room, result = _run(rng, SyntheticVoice(rng), tmp_path, user=False)
    assert len(result.track) == 5 and room.pos < len(room.signal)   # answers timed out; the rehearsal ended
    assert result.metrics["user_segments"] == []
    assert result.metrics["interruptions"] == []
    # with no answer, each line follows the previous after its answer's longest time (answer_s[1])
    sc = load_scenario("check-in")
    assert result.track[1].start - result.track[0].end == pytest.approx(sc.lines[0].answer_s[1], abs=HOP + 0.03)


def test_microphone_needed(tmp_path):
    with pytest.raises(InputError, match="microphone"):
        run_rehearsal(scenario=load_scenario("check-in"), mic=None, config=default_config(), root=tmp_path)


def test_sound_player_shows_line_without_audio():
    shown = []
    assert SoundPlayer(show=shown.append)(0, "Hello there", None, RATE) is False
    assert shown == ["Hello there"]


def test_playback_levels_window_on_grid():
    pb = Playback(RATE, HOP)
    hop = round(HOP * RATE)
    pb.add(0.09, np.full(2 * hop, 0.1, np.float32))          # frames 3, 4 at -20 dBFS
    pb.add(0.30, np.full(hop, 0.01, np.float32))             # frame 10 at -40 dBFS
    got = pb.levels(0, 14, lag=2)                            # frame t: loudest of frames t-2 .. t+1
    want = [max([pb.db[u] for u in range(max(0, t - 2), t + 2) if u < len(pb.db)], default=-np.inf)
            for t in range(14)]
    assert got.tolist() == pytest.approx(want)
    assert np.isfinite(got).tolist() == [False, False, True, True, True, True, True, False, False, True, True,
                                         True, True, False]
    assert pb.levels(20, 0, lag=2).shape == (0,)


def test_live_decision_ignores_echo_hears_user(rng):
    """The per-frame decision that paces the partner: the echo of a line is never the user; their answer is."""
    voice = SyntheticVoice(rng)
    line = voice.audio("What is one thing that made you happy today, do you think?")
    for user in (False, True):
        room = ScriptedRoom(rng, user=user, limit_s=12.0)
        decider = FrameDecider(config=default_config(), rehearsal=default_config().rehearse, rate=RATE)
        pb = Playback(RATE, decider.hop_s)
        decisions = []
        while True:
            try:
                block = room.read()
            except EndOfStream:
                break
            if room.pos == round(0.5 * RATE):                  # the line starts after 0.5 s of mic
                room.play(0, "line", line, RATE)
                pb.add(room.pos / RATE, line)
            t, speaking = decider.feed(block.samples[0], pb)
            decisions += [(ti + T0, s) for ti, s in zip(t.tolist(), speaking.tolist())]
        heard = [t for t, s in decisions if s]
        if not user:
            assert heard == []
        else:
            a, b = room.answers[0]
            assert heard and min(heard) == pytest.approx(a, abs=2 * HOP) and max(heard) <= b + 2 * HOP
            assert len(heard) * HOP > 0.6 * (b - a)             # most of the answer is heard live


def test_camera_adds_cues_to_the_rehearsal_review(rng, tmp_path, demo_clips):
    """With a camera (a replayed demo video, real mediapipe), the review carries the on-camera cues."""
    from attunement.sources.camera import Camera
    from attunement.sources.clock import SessionClock

    path = demo_clips.clip(3 * RATE / 16000, silent=True)
    room = ScriptedRoom(rng)
    with Camera(path, pace=0, clock=SessionClock(), start=T0) as cam:
        result = run_rehearsal(scenario=load_scenario("check-in"), mic=room, camera=cam, config=default_config(),
                               player=room.play, voice=SyntheticVoice(rng), root=tmp_path / "s", start_s=T0 + 0.5)
    assert result.review.vision is not None and review_cues(result.review)["frames"] >= 1
    assert len(result.metrics["user_segments"]) == len(ANSWERS)
    # `attune summary` of the folder: the same review, the cues rebuilt from the stored landmarks
    from attunement.session.runners.rebuild import load_review
    from attunement.summary.json_out import review_to_json

    assert review_to_json(load_review(result.folder)) == review_to_json(result.review)


def test_lines_shown_when_not_spoken(rng, tmp_path):
    """No partner voice (espeak-ng absent): each line is shown for its reading time, on the same schedule."""
    shown = []
    room = ScriptedRoom(rng)
    result = run_rehearsal(scenario=load_scenario("check-in"), mic=room, config=default_config(),
                           player=SoundPlayer(show=shown.append), voice=PartnerVoice(rate=RATE, spoken=False),
                           root=tmp_path, start_s=T0 + 0.5)
    sc = load_scenario("check-in")
    assert shown == [line.text for line in sc.lines]
    assert [ln.end - ln.start for ln in result.track] == [pytest.approx(shown_duration(t)) for t in shown]
    assert not any(ln.spoken for ln in result.track) and result.metrics["user_segments"] == []


def test_stop_ends_the_rehearsal_with_a_saved_review(rng, tmp_path):
    import threading

    stop = threading.Event()
    room = ScriptedRoom(rng)

    def play_then_stop(index, text, audio, rate):
        if index == 2:
            stop.set()
        return room.play(index, text, audio, rate)

    result = run_rehearsal(scenario=load_scenario("check-in"), mic=room, config=default_config(),
                           player=play_then_stop, voice=SyntheticVoice(rng), root=tmp_path, stop=stop,
                           start_s=T0 + 0.5)
    assert len(result.track) == 3 and (result.folder / "rehearsal.json").is_file()
    assert json.loads((result.folder / "meta.json").read_text())["status"] == "ended"


def test_rehearse_needs_a_microphone():
    from attunement.session.runners.rehearse import rehearse

    with pytest.raises(InputError, match="--mic none"):
        rehearse(config=default_config(), scenario=load_scenario("check-in"), camera="none", mic="none",
                 window=False)


def test_a_user_settings_file_changes_the_pause_before_the_next_line(rng, tmp_path):
    """[rehearse] end_silence_s in the user's TOML: the partner waits that long after an answer."""
    from attunement.config import load_config
    from attunement.errors import ConfigError

    path = tmp_path / "mine.toml"
    path.write_text("[rehearse]\nend_silence_s = 2.0\n")
    config = load_config(path)
    assert config.rehearse.end_silence_s == 2.0 and config.rehearse.line_pause_s == 0.6
    room = ScriptedRoom(rng)
    result = run_rehearsal(scenario=load_scenario("check-in"), mic=room, config=config, player=room.play,
                           voice=SyntheticVoice(rng), root=tmp_path / "s", start_s=T0 + 0.5)
    tol = 2 * HOP + 0.005 + BLOCK / RATE + HOP
    for k in (1, 2, 4):   # 2.0 s after each answer ends (1.0 s with the defaults: test_scripted_rehearsal_matches_truth)
        assert result.track[k].start == pytest.approx(room.answers[k - 1][1] + 2.0, abs=tol)
    typo = tmp_path / "typo.toml"
    typo.write_text("[rehearse]\nend_silence = 2.0\n")
    with pytest.raises(ConfigError, match=r"unknown key 'end_silence' in \[rehearse\]"):
        load_config(typo)
    bad = tmp_path / "bad.toml"
    bad.write_text("[rehearse]\nline_pause_s = -0.5\n")
    with pytest.raises(ConfigError, match=r"\[rehearse\] line_pause_s = -0.5"):
        load_config(bad)


def test_lost_microphone_input_is_silence_and_the_schedule_holds(rng, tmp_path):
    """A microphone that loses 0.2 s (an overflow) mid-answer: the hole is silence on the session
    clock, the voice activity stays contiguous, and the stored rehearsal rebuilds to the same review."""
    from attunement.session.runners.rebuild import load_review
    from attunement.summary.json_out import review_to_json

    class LossyRoom(ScriptedRoom):
        def read(self, timeout=None):
            if self.pos == 250 * BLOCK:          # at 5.0 s of audio, 10 blocks never arrive
                self.pos += 10 * BLOCK
            return super().read(timeout)

    room = LossyRoom(rng)
    result = run_rehearsal(scenario=load_scenario("check-in"), mic=room, config=default_config(), player=room.play,
                           voice=SyntheticVoice(rng), root=tmp_path, start_s=T0 + 0.5)
    activity = result.review.activity
    assert len(result.track) == 5 and activity.t0 == T0
    assert activity.frames == int((result.review.duration_s - T0) / HOP + 1e-9)
    assert result.review.duration_s == pytest.approx(T0 + room.pos / RATE)   # the lost 0.2 s counted
    hop = round(HOP * RATE)                                      # the frames wholly inside the hole are silence
    hole = activity.level_db[0, -(-250 * BLOCK // hop):260 * BLOCK // hop]
    assert hole.size == 6 and np.all(hole == np.float32(-120.0))
    assert review_to_json(load_review(result.folder)) == review_to_json(result.review)
