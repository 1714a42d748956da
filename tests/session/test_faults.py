"""Faults in live sessions, injected on purpose: the camera fails or changes its frame size, the
microphone raises a PortAudio error, the disk fills, the models are missing or altered, the
program is killed. The session goes on where it can, the review names the gap, nothing already
written is lost, and `attune summary` works on what is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from attunement.cli import main
from attunement.config import default_config
from attunement.records import AudioBlock, VideoFrame
from attunement.session.runners.live import run_session
from attunement.session.runners.rebuild import load_review
from attunement.session.store.writer import load_session
from attunement.sources.camera import Camera
from attunement.sources.clock import SessionClock
from attunement.sources.microphone import Microphone

CONFIG = default_config()
SECONDS = 15.0
FAULT_S = 6.0
REPO = Path(__file__).resolve().parents[2]


class PortAudioError(Exception):
    """What sounddevice raises when the device goes away (same name, no PortAudio needed)."""


class Faulty:
    """An opened source whose items misbehave from `after_s` on: `fault(item)` returns what to hand
    on instead (or raises). Everything else is the wrapped source's."""

    def __init__(self, source, *, after_s: float, fault):
        self.source, self.after_s, self.fault = source, after_s, fault

    def __getattr__(self, name):
        return getattr(self.source, name)

    def read(self, timeout=None):
        item = self.source.read(timeout)
        if item is None:
            return None
        t = item.t0 if isinstance(item, AudioBlock) else item.t
        return self.fault(item) if t >= self.after_s else item


def pa_error(_):
    raise PortAudioError("Error querying device -1 [PaErrorCode -9996]: Invalid device")


def camera_gone(_):
    raise RuntimeError("VIDIOC_DQBUF: No such device")


def bigger(frame: VideoFrame) -> VideoFrame:
    return VideoFrame(np.ascontiguousarray(np.repeat(np.repeat(frame.image, 2, 0), 2, 1)), frame.t, frame.index)


@pytest.fixture(scope="module")
def clip(demo_clips):
    return demo_clips, demo_clips.clip(SECONDS)


@pytest.fixture(scope="module")
def offline(clip):
    from attunement.session.runners.offline import review_file

    clips, path = clip
    names = clips.conversation.speakers
    return review_file(path, config=CONFIG, channels_are_speakers=True, speaker_names=names, me=names[0], words=False)


def session(clip, root, *, camera_fault=None, mic_fault=None):
    clips, path = clip
    names = clips.conversation.speakers
    clock = SessionClock()
    with Camera(path, pace=0, clock=clock, start=0.0) as cam, Microphone(path, pace=0, clock=clock, start=0.0) as mic:
        c = Faulty(cam, after_s=FAULT_S, fault=camera_fault) if camera_fault else cam
        m = Faulty(mic, after_s=FAULT_S, fault=mic_fault) if mic_fault else mic
        return run_session(camera=c, mic=m, config=CONFIG, speaker_names=names, me=names[0], root=root,
                           channels_are_speakers=True)


def summary_of(folder: Path, capsys) -> str:
    capsys.readouterr()
    assert main(["summary", str(folder)]) == 0
    return capsys.readouterr().out


def test_a_microphone_error_ends_the_audio_while_the_camera_goes_on(clip, offline, tmp_path, capsys):
    result = session(clip, tmp_path, mic_fault=pa_error)
    review = result.review
    failed = [p for p in review.problems if p.startswith("the microphone failed (PortAudioError at")]
    assert failed and "Invalid device" in failed[0], review.problems
    assert review.duration_s == pytest.approx(FAULT_S, abs=1.1)
    assert review.vision is not None and review.vision.times[-1] > SECONDS - 1.0  # the camera went on
    assert all(s.end <= FAULT_S + 0.1 for s in review.segments)
    want = [s for s in offline.segments if s.end < FAULT_S - 1.0]
    assert [s.speaker for s in review.segments[:len(want)]] == [s.speaker for s in want]
    assert "microphone failed" in summary_of(result.folder, capsys)


def test_a_camera_that_fails_is_named_and_the_audio_review_is_whole(clip, offline, tmp_path, capsys):
    result = session(clip, tmp_path, camera_fault=camera_gone)
    review = result.review
    assert any(p.startswith("the camera failed (RuntimeError at") and "No such device" in p for p in review.problems)
    assert review.vision is not None and review.vision.times[-1] < FAULT_S + 0.2
    assert [(s.speaker, round(s.start, 2), round(s.end, 2)) for s in review.segments] == \
        [(s.speaker, round(s.start, 2), round(s.end, 2)) for s in offline.segments]
    text = summary_of(result.folder, capsys)
    assert "camera failed" in text


def test_camera_frames_of_a_new_size_are_scaled_and_the_cues_go_on(clip, offline, tmp_path):
    result = session(clip, tmp_path, camera_fault=bigger)
    review = result.review
    assert any("changed its frame size" in p for p in review.problems), review.problems
    assert review.vision is not None and review.vision.times[-1] > SECONDS - 1.0
    got, want = review.vision.face.has_face.mean(), offline.vision.face.has_face.mean()
    assert got == pytest.approx(want, abs=0.05)
    assert len(review.segments) == len(offline.segments)
    rebuilt = load_review(result.folder, config=CONFIG)
    assert rebuilt.vision is not None and len(rebuilt.vision.times) == len(review.vision.times)


FULL_DISK = textwrap.dedent("""
    import json, resource, signal, sys
    from attunement.config import default_config
    from attunement.session.runners.live import run_session
    from attunement.sources.camera import Camera
    from attunement.sources.clock import SessionClock
    from attunement.sources.microphone import Microphone

    path, root, names, limit = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4])
    config = default_config()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, like a full disk
    clock = SessionClock()
    with Camera(path, pace=0, clock=clock, start=0.0) as cam, Microphone(path, pace=0, clock=clock, start=0.0) as mic:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        result = run_session(camera=cam, mic=mic, config=config, speaker_names=names, me=names[0], root=root,
                             channels_are_speakers=True)
    print(json.dumps({"folder": str(result.folder), "problems": list(result.review.problems),
                      "segments": len(result.review.segments)}))
""")


def test_a_full_disk_keeps_what_was_written_and_names_what_was_not(clip, offline, tmp_path, capsys):
    clips, path = clip
    root = tmp_path / "sessions"
    limit = 300_000  # bytes a file may hold: the landmarks (6.7 kB a frame) fill it after about 3 s
    env = dict(os.environ, PYTHONPATH=f"{REPO / 'src'}:{REPO}")
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, str(path), str(root), ",".join(clips.conversation.speakers),
                           str(limit)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert any("marks record could not be saved" in p for p in out["problems"]), out["problems"]
    assert out["segments"] == len(offline.segments)  # the review itself is whole
    folder = Path(out["folder"])
    stored = load_session(folder)
    assert stored.notes == () or all("cut short" not in n for n in stored.notes)  # no torn chunk left behind
    marks = stored.signals["marks"]
    # what fitted is there and readable: some frames, and fewer than the limit can hold (a busy machine
    # drops camera frames, so how far into the clip they reach depends on its load, not on the limit)
    assert 0 < len(marks) <= limit // marks.dtype.itemsize and marks["t"][-1] < SECONDS
    assert all(os.path.getsize(f) <= limit for f in folder.iterdir())
    assert summary_of(folder, capsys)


KILLED = textwrap.dedent("""
    import sys
    from attunement.config import default_config
    from attunement.session.runners.live import run_session
    from attunement.sources.clock import SessionClock
    from attunement.sources.microphone import Microphone

    path, root = sys.argv[1], sys.argv[2]

    class Told:  # says how far the audio has been taken in, so the test knows what a kill may lose
        def __init__(self, mic):
            self.mic = mic
        def __getattr__(self, name):
            return getattr(self.mic, name)
        def read(self, timeout=None):
            block = self.mic.read(timeout)
            if block is not None:
                print(f"{block.t0 + block.duration:.3f}", flush=True)
            return block

    with Microphone(path, clock=SessionClock(), start=0.0, block_s=0.1) as mic:
        run_session(mic=Told(mic), config=default_config(), root=root, num_speakers=2)
""")


def test_a_killed_session_loses_at_most_about_a_second_and_summary_works(clip, tmp_path, capsys):
    clips, path = clip
    root = tmp_path / "sessions"
    env = dict(os.environ, PYTHONPATH=f"{REPO / 'src'}:{REPO}", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(path), str(root)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    heard, deadline = 0.0, time.monotonic() + 120
    try:
        for line in proc.stdout:
            heard = float(line)
            if heard >= 7.0 or time.monotonic() > deadline:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert heard >= 7.0, "the session did not get going"
    folder = next(root.iterdir())
    review = load_review(folder, config=CONFIG)
    assert any("did not end cleanly" in p for p in review.problems)
    assert heard - review.duration_s <= 1.5, (heard, review.duration_s)  # FLUSH_S = 1 s, plus a block
    text = summary_of(folder, capsys)
    assert "did not end cleanly" in text


def test_missing_or_altered_speech_models_leave_a_review_without_words(tmp_path, monkeypatch):
    from attunement.models import MODELS, cache_dir
    from attunement.session.runners.offline import review_file
    from attunement.session.words import recognizer
    from attunement.sources.wav import write_wav
    from tests.corpus.damaged import voice

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    spec = MODELS["asr-encoder"]
    altered = cache_dir() / spec.filename
    altered.parent.mkdir(parents=True)
    altered.write_bytes(b"not the model")
    recognizer.cache_clear()
    try:
        audio = tmp_path / "talk.wav"
        write_wav(audio, voice(4.0, 16000), 16000)
        review = review_file(audio, config=CONFIG, words=True)
    finally:
        recognizer.cache_clear()
    assert review.segments and review.language is None
    assert any("could not be transcribed" in p and "altered" in p for p in review.problems), review.problems


def test_a_microphone_error_in_a_rehearsal_ends_it_with_the_review_of_what_was_heard(tmp_path, capsys):
    from attunement.session.rehearsal.scenario import load_scenario
    from attunement.session.runners.rehearse import run_rehearsal
    from tests.session.test_rehearse import T0, ScriptedRoom, SyntheticVoice

    rng = np.random.default_rng(5)
    room = ScriptedRoom(rng)
    broken = Faulty(room, after_s=T0 + 12.0, fault=pa_error)
    broken.play = room.play
    result = run_rehearsal(scenario=load_scenario("check-in"), mic=broken, config=CONFIG, player=room.play,
                           voice=SyntheticVoice(rng), root=tmp_path, start_s=T0 + 0.5)
    assert any(p.startswith("the microphone failed (PortAudioError") for p in result.review.problems)
    assert 0 < len(result.track) < 5 and result.review.duration_s == pytest.approx(T0 + 12.0, abs=0.1)
    assert "microphone failed" in summary_of(result.folder, capsys)
