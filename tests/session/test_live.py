"""The live session end to end with replayed sources: the demo video with exact truth gives the same
review live as offline; a killed session is rebuilt from what it stored; a camera that ends early
is a noted gap; the session folder is private and holds no raw media unless asked."""

from __future__ import annotations

import dataclasses

from attunement.summary.cues_json import review_cues

import dataclasses
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import kill_when

from attunement.config import default_config
from attunement.errors import InputError
from attunement.session.runners.live import run_session
from attunement.session.runners.offline import review_file
from attunement.session.store.history import find_session, history
from attunement.session.runners.rebuild import load_review
from attunement.session.store.formats import vad_dtype
from attunement.session.store.writer import load_session
from attunement.sources.camera import Camera
from attunement.sources.clock import SessionClock
from attunement.demo.video import render_demo_video
from attunement.sources.microphone import Microphone
from attunement.demo.conversation import practice_conversation
from attunement.summary.json_out import review_to_json

pytestmark = pytest.mark.slow  # live sessions replayed at real-time pace and the whole demo reviewed

CONFIG = default_config()
#: The model-free diarizer, for files and (live_engine) for live sessions.
MODEL_FREE = dataclasses.replace(CONFIG, diarization=dataclasses.replace(CONFIG.diarization, engine="mfcc"))
LIVE_MODEL_FREE = dataclasses.replace(CONFIG, diarization=dataclasses.replace(CONFIG.diarization, live_engine="mfcc"))
FPS = 15.0  # render_demo_video's frame rate
MEDIA = (".wav", ".mkv", ".mp4", ".webm", ".flac", ".ogg", ".m4a", ".avi", ".png", ".jpg")


@pytest.fixture(scope="module")
def demo(demo_clips):
    convo, path = demo_clips.conversation, demo_clips.clip()
    offline = demo_clips.review()
    return convo, path, offline


def live_run(camera_file, mic_file, convo, root, *, pace=0.0, **kw):
    clock = SessionClock()
    with Camera(camera_file, pace=pace, clock=clock, start=0.0) as cam, \
            Microphone(mic_file, pace=pace, clock=clock, start=0.0) as mic:
        return run_session(camera=cam, mic=mic, config=CONFIG, speaker_names=convo.speakers,
                           me=convo.speakers[0], root=root, channels_are_speakers=True, **kw)


@pytest.fixture(scope="module")
def live(demo, tmp_path_factory):
    convo, path, _ = demo
    return live_run(path, path, convo, tmp_path_factory.mktemp("sessions"))


def assert_same_review(got, want, *, until: float | None = None, cues: bool = True):
    """Segments, turn-taking events and cue shares agree within one video frame (and one VAD frame)."""
    frame = 1.0 / FPS
    segs = [s for s in want.segments if until is None or s.end < until - 1.0]
    have = [s for s in got.segments if until is None or s.end < until - 1.0]
    assert [s.speaker for s in have] == [s.speaker for s in segs]
    np.testing.assert_allclose([(s.start, s.end) for s in have], [(s.start, s.end) for s in segs], atol=frame)
    if until is None:
        a, b = got.turn_taking, want.turn_taking
        assert [(i.by, i.of) for i in a.interruptions] == [(i.by, i.of) for i in b.interruptions]
        np.testing.assert_allclose(a.floor_transfer_offsets_s, b.floor_transfer_offsets_s, atol=frame)
    if until is None and cues:
        gc, wc = review_cues(got), review_cues(want)
        assert abs(gc["frames"] - wc["frames"]) <= 1
        body = ("open_posture_share", "arms_crossed_share", "shoulders_raised_share")
        judged = wc["confidence"]["posture"]["trusted"]
        assert gc["confidence"]["posture"]["trusted"] == judged
        for key in [k for k in wc if k.endswith("_share") or k.endswith("_speaking") or k.endswith("_listening")]:
            if key in body and not judged:
                continue  # the body unjudged at both pose rates (live 10 Hz, reviews 5 Hz): nothing said of it
            if wc[key] is None:
                assert gc[key] is None, key
            else:
                assert abs(gc[key] - wc[key]) <= 1.0 / wc["frames"] + 1e-3, key
        assert gc["nods"] == wc["nods"] and gc["nods_while_listening"] == wc["nods_while_listening"]


def test_live_replay_gives_the_offline_review(demo, live):
    convo, _, offline = demo
    review = live.review
    assert review.speakers == ("me", "partner") and review.duration_s == pytest.approx(offline.duration_s, abs=0.02)
    assert_same_review(review, offline)
    assert [(i.by, i.of) for i in review.turn_taking.interruptions] == [("partner", "me")]
    np.testing.assert_allclose(review.turn_taking.floor_transfer_offsets_s,
                               convo.expected["floor_transfer_offsets_s"], atol=0.06)
    assert review.problems == ()
    saved = json.loads((live.folder / "review.json").read_text())
    assert saved["segments"] == review_to_json(review)["segments"]
    assert (live.folder / "report.html").stat().st_size > 10_000


@pytest.mark.realdata
def test_a_stereo_recording_of_one_person_is_one_voice_live_as_offline(shared_data, tmp_path):
    """A file whose two channels carry one talking person (as a stereo laptop microphone does):
    by default a live session mixes them and finds one voice, the on-camera person's, `me`,
    exactly as `attune review` does; channels are people only when asked."""
    clip = shared_data / "video" / "WDA_KatieHill_000.mp4"
    every = dataclasses.replace(CONFIG.perception, face_rate_hz=0.0, review_pose_rate_hz=CONFIG.perception.pose_rate_hz)
    offline = review_file(clip, config=dataclasses.replace(CONFIG, perception=every),  # live: every frame
                          words=False)
    with Camera(clip, pace=0.0, clock=SessionClock(), start=0.0) as cam, \
            Microphone(clip, pace=0.0, clock=cam.clock, start=0.0) as mic:
        assert mic._reader.info.channels == 2
        result = run_session(camera=cam, mic=mic, config=CONFIG, root=tmp_path)
    assert offline.speakers == result.review.speakers == ("me",)
    assert_same_review(result.review, offline)


def test_a_saved_session_is_rebuilt_exactly(live):
    rebuilt = load_review(live.folder)
    assert rebuilt.segments == live.review.segments
    assert rebuilt.turn_taking.to_json() == live.review.turn_taking.to_json()
    assert review_cues(rebuilt) == review_cues(live.review)
    cues = load_session(live.folder).signals["cues"]  # the live per-frame cues agree with the batch ones
    np.testing.assert_array_equal(cues["t"], live.review.vision.times)
    np.testing.assert_allclose(cues["mouth"], live.review.vision.face.mouth, atol=1e-6)
    meta = json.loads((live.folder / "meta.json").read_text())
    assert meta["status"] == "ended" and meta["duration_s"] == pytest.approx(live.review.duration_s)
    assert find_session("last", live.folder.parent) == live.folder == find_session(live.folder.name, live.folder.parent)
    with pytest.raises(InputError, match="no session 'nope'"):
        find_session("nope", live.folder.parent)
    past = history(live.folder.parent)
    assert [p["folder"] for p in past] == [str(live.folder)]
    assert past[0]["status"] == "ended" and past[0]["kind"] == "session"
    assert past[0]["summary"].startswith("0.5 min, 2 speaker(s).")


def test_the_session_folder_is_private_and_holds_no_media(live):
    folder = live.folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    names = sorted(p.name for p in folder.iterdir())
    assert {"meta.json", "review.json", "report.html", "vad.log", "marks.log"} <= set(names)
    for p in folder.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert not p.name.endswith(MEDIA), p


def test_keep_media_keeps_the_audio_privately(demo, tmp_path):
    convo, path, _ = demo
    short = tmp_path / "short.mkv"
    render_demo_video(short, convo.audio[:, :2 * convo.rate], convo.rate)
    result = live_run(short, short, convo, tmp_path / "s", keep_media=True)
    wav = result.folder / "audio.wav"
    assert wav.exists() and stat.S_IMODE(wav.stat().st_mode) == 0o600
    import wave

    with wave.open(str(wav)) as w:
        assert w.getnchannels() == 2 and w.getnframes() == 2 * convo.rate


def test_a_camera_that_ends_early_is_a_noted_gap_while_audio_goes_on(demo, tmp_path):
    convo, path, offline = demo
    short = tmp_path / "first8s.mkv"
    render_demo_video(short, convo.audio[:, :8 * convo.rate], convo.rate)
    result = live_run(short, path, convo, tmp_path / "s")
    review = result.review
    assert review.duration_s == pytest.approx(offline.duration_s, abs=0.02)
    assert_same_review(review, offline, cues=False)
    assert review.vision.times[-1] < 8.0 and review.vision.times.size == pytest.approx(8 * FPS, abs=1)
    gap = [p for p in review.problems if p.startswith("the camera stopped at")]
    assert len(gap) == 1 and "audio only" in gap[0]
    assert load_review(result.folder).problems[:1] == tuple(gap)


def test_stop_ends_the_session_cleanly(demo, tmp_path):
    convo, path, _ = demo
    stop = threading.Event()
    stop.set()
    clock = SessionClock()
    with Microphone(path, pace=1.0, clock=clock, start=0.0) as mic:
        result = run_session(mic=mic, config=CONFIG, stop=stop, root=tmp_path)
    assert result.review.duration_s < 2.0 and result.review.vision is None
    assert json.loads((result.folder / "meta.json").read_text())["status"] == "ended"


def test_bad_session_arguments_are_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="camera, a microphone or both"):
        run_session(config=CONFIG, root=tmp_path)


KILLED = textwrap.dedent("""
    import sys
    from attunement.config import default_config
    from attunement.session.runners.live import run_session
    from attunement.sources.camera import Camera
    from attunement.sources.clock import SessionClock
    from attunement.sources.microphone import Microphone
    path, root, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    clock = SessionClock()
    with Camera(path, clock=clock, start=0.0) as cam, Microphone(path, clock=clock, start=0.0) as mic:
        run_session(camera=cam, mic=mic, config=default_config(), speaker_names=names, me=names[0],
                    root=root, channels_are_speakers=True)
""")


def test_a_killed_real_time_session_is_rebuilt_from_what_was_recorded(demo, tmp_path):
    convo, path, offline = demo
    root = tmp_path / "sessions"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as errors:
        proc = subprocess.Popen([sys.executable, "-c", KILLED, str(path), str(root), ",".join(convo.speakers)],
                                env=env, stdout=subprocess.DEVNULL, stderr=errors)
    hop = CONFIG.vad.frame_ms / 1000

    def nine_seconds_on_disk():  # about 9 s of audio (a whole turn exchange)
        logs = list(root.glob("*/vad.log"))
        return logs[0] if logs and logs[0].stat().st_size > 9.0 / hop * vad_dtype(2).itemsize else None

    vad = kill_when(proc, nine_seconds_on_disk, what="9 s of voice activity on disk", stderr=err, poll_s=0.2)
    review = load_review(vad.parent)
    assert any("did not end cleanly" in p for p in review.problems)
    assert 8.0 < review.duration_s < offline.duration_s
    assert review.vision is not None and review.vision.times[-1] <= review.duration_s + 1.0
    assert_same_review(review, offline, until=review.duration_s)
    assert history(root)[0]["status"] == "interrupted"


def test_lost_audio_input_is_filled_with_silence_so_the_clock_holds(tmp_path):
    from attunement.conversation.speakers import SingleTrack
    from attunement.records import AudioBlock
    from attunement.session.runners.streams import AudioPath as AudioPath
    from attunement.session.store.writer import SessionWriter

    rate = 16000
    with SessionWriter(root=tmp_path) as writer:
        audio = AudioPath(SingleTrack("me"), 1, config=CONFIG, writer=writer, keep=None)
        tone = (0.1 * np.sin(np.arange(rate // 10) * 0.2)).astype(np.float32)[None]
        audio(AudioBlock(tone, 0.0, rate))
        audio(AudioBlock(tone, 0.2, rate))  # 0.1 s lost (an overflow, dropped blocks)
        assert audio.filled_s == pytest.approx(0.1) and audio.end == pytest.approx(0.3)
        audio(AudioBlock(tone, 0.25, rate))  # overlaps what was heard: only the new 0.05 s is taken
        audio(AudioBlock(tone[:, :800], 0.30, rate))  # wholly heard already: skipped
        assert audio.end == pytest.approx(0.35)
        activity = audio.finish()
    hop = CONFIG.vad.frame_ms / 1000
    assert activity.frames == int(0.35 / hop + 1e-9) and activity.t0 == 0.0


def test_a_camera_alone_gives_the_cues_and_says_there_was_no_microphone(demo, tmp_path):
    convo, path, offline = demo
    with Camera(path, pace=0, clock=SessionClock(), start=0.0) as cam:
        result = run_session(camera=cam, config=CONFIG, root=tmp_path)
    review = result.review
    assert review.segments == () and "no microphone was used: no speech to review" in review.problems
    assert review_cues(review)["eye_contact_share"] == review_cues(offline)["eye_contact_share"]
    assert review.duration_s == pytest.approx(offline.vision.times[-1], abs=0.1)
    rebuilt = load_review(result.folder)
    assert review_cues(rebuilt) == review_cues(review) and rebuilt.segments == ()


def test_one_shared_microphone_is_diarized_live_as_offline_and_rebuilt(tmp_path):
    convo = practice_conversation(seed=0, channels=1)
    path = tmp_path / "mono.wav"
    from attunement.sources.wav import write_wav

    write_wav(path, convo.audio, convo.rate)
    for config in (CONFIG, LIVE_MODEL_FREE):  # the trained diarizer run as the session goes; the model-free one
        offline = review_file(path, config=config if config is CONFIG else MODEL_FREE, num_speakers=2, words=False)
        with Microphone(path, pace=0, clock=SessionClock(), start=0.0) as mic:
            result = run_session(mic=mic, config=config, num_speakers=2, root=tmp_path / "s")
        assert len(offline.speakers) == 2
        assert result.review.segments == offline.segments
        assert load_review(result.folder).segments == offline.segments


def test_a_session_ends_after_its_duration(demo, tmp_path):
    convo, path, offline = demo
    result = live_run(path, path, convo, tmp_path, duration_s=10.0)
    review = result.review
    assert 10.0 <= review.duration_s < 11.0 and review.vision.times[-1] < 11.0
    assert_same_review(review, offline, until=10.0)
    assert json.loads((result.folder / "meta.json").read_text())["status"] == "ended"


CTRL_C = textwrap.dedent("""
    import sys
    from attunement.config import default_config
    from attunement.session.runners.live import run_session
    from attunement.sources.microphone import Microphone
    with Microphone(sys.argv[1]) as mic:
        result = run_session(mic=mic, config=default_config(), root=sys.argv[2], channels_are_speakers=True)
    print(result.folder)
""")


def test_ctrl_c_ends_the_session_with_its_review(demo, tmp_path):
    convo, path, offline = demo
    root = tmp_path / "sessions"
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C, str(path), str(root)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline, hop = time.monotonic() + 60, CONFIG.vad.frame_ms / 1000
    while time.monotonic() < deadline and proc.poll() is None:
        logs = list(root.glob("*/vad.log"))
        if logs and logs[0].stat().st_size > 3.0 / hop * vad_dtype(2).itemsize:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    folder = Path(out.strip())
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["status"] == "ended" and 3.0 <= meta["duration_s"] < offline.duration_s
    saved = json.loads((folder / "review.json").read_text())
    assert saved["speakers"] == ["speaker1", "speaker2"] and saved["segments"][0]["speaker"] == "speaker1"
    first = offline.segments[0]
    assert saved["segments"][0]["start"] == pytest.approx(first.start, abs=1 / FPS)
    assert saved["segments"][0]["end"] == pytest.approx(first.end, abs=1 / FPS)
