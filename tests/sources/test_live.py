"""Live sources on one session clock: file replay through the Camera and Microphone classes,
bounded queues, end of stream, and the real sounddevice path fed by an ALSA file plugin."""

from __future__ import annotations

import ctypes.util
import glob
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from attunement.errors import EndOfStream, InputError
from attunement.sources.camera import Camera, is_device
from attunement.sources.clock import SessionClock
from attunement.demo.video import write_video
from attunement.sources.media import read_audio
from attunement.sources.wav import write_wav
from attunement.sources.microphone import Microphone
from attunement.sources.video import VideoReader

FPS, RATE, SECONDS = 15, 16000, 1.2
TOL_S = 0.020  # real-time replay: stamps within 20 ms of media time


def pattern(k: int) -> np.ndarray:
    """Frame k: a gradient with a bright bar at column 8*k, so frames differ and order shows."""
    img = np.tile(np.linspace(0, 200, 160, dtype=np.uint8)[None, :, None], (120, 1, 3))
    img[:, (8 * k) % 160:(8 * k) % 160 + 4] = 255
    return img


def chirp(seconds: float) -> np.ndarray:
    """A rising sweep, 200 -> 800 Hz: no two blocks alike, so a block shows where it came from."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.1 * np.sin(2 * np.pi * (200 * t + 250 * t * t))).astype(np.float32)[None]


def tone(seconds: float, amplitude: float = 0.1) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * 440 * np.arange(int(seconds * RATE)) / RATE)).astype(np.float32)[None]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("live") / "clip.mkv"
    write_video(path, (pattern(k) for k in range(int(SECONDS * FPS))), fps=FPS, audio=chirp(SECONDS), rate=RATE)
    return path


def read_all(source, timeout: float = 2.0) -> list:
    """Items until EndOfStream (a None within `timeout` fails the test: a source must not stall)."""
    items = []
    while True:
        try:
            item = source.read(timeout)
        except EndOfStream:
            return items
        assert item is not None, "source stalled"
        items.append(item)


def decoded_frames(path) -> list:
    with VideoReader(path) as reader:
        return list(reader.frames())


def test_camera_replay_at_real_time_pace_releases_frames_at_their_media_time(clip):
    """A replayed frame is stamped with its media time (when it was "captured") and released when
    the session clock gets there: never early, and late only by thread wake-up (median < 20 ms)."""
    truth = decoded_frames(clip)
    clock = SessionClock()
    frames, released = [], []
    with Camera(clip, clock=clock, queue_size=len(truth)) as cam:
        while True:
            try:
                frame = cam.read(2.0)
            except EndOfStream:
                break
            released.append(clock.now())
            frames.append(frame)
        assert cam.stats.dropped == 0 and cam.stats.delivered == len(truth)
        assert (cam.stats.width, cam.stats.height, cam.stats.fps) == (160, 120, FPS)
    assert [f.index for f in frames] == [f.index for f in truth]
    assert [f.t for f in frames] == [cam.start + g.t for g in truth]
    late = np.array(released) - [f.t for f in frames]
    assert np.all(late >= 0) and np.median(late) < TOL_S, late
    assert all(np.array_equal(f.image, g.image) for f, g in zip(frames, truth))


def test_camera_replay_at_pace_0_is_exact_and_drops_nothing(clip):
    truth = decoded_frames(clip)
    with Camera(clip, pace=0, start=5.0, queue_size=1) as cam:
        frames = read_all(cam)
        assert cam.stats.dropped == 0
    assert [f.t for f in frames] == [5.0 + g.t for g in truth]
    assert all(np.array_equal(f.image, g.image) for f, g in zip(frames, truth))


def test_microphone_replay_at_real_time_pace_stamps_blocks_by_sample_count(clip):
    audio, _ = read_audio(clip)
    clock = SessionClock()
    blocks, released = [], []
    with Microphone(clip, clock=clock, block_s=0.02) as mic:
        while True:
            try:
                blocks.append(mic.read(2.0))
            except EndOfStream:
                break
            released.append(clock.now())
    samples = np.concatenate([b.samples for b in blocks], axis=1)
    np.testing.assert_array_equal(samples, audio)
    media_t0 = np.cumsum([0] + [b.samples.shape[1] for b in blocks[:-1]]) / RATE
    np.testing.assert_allclose([b.t0 for b in blocks], mic.start + media_t0, atol=1e-9)
    late = np.array(released) - [b.t0 + b.duration for b in blocks]  # a block exists once captured
    assert np.all(late >= 0) and np.median(late) < TOL_S, late


def test_microphone_replay_at_pace_0_is_exact(clip):
    audio, _ = read_audio(clip)
    with Microphone(clip, pace=0, start=2.5, block_s=0.02, queue_size=1) as mic:
        blocks = read_all(mic)
        assert mic.stats.dropped == 0 and mic.stats.delivered == len(blocks)
    assert [b.t0 for b in blocks] == [2.5 + k * 320 / RATE for k in range(len(blocks))]
    np.testing.assert_array_equal(np.concatenate([b.samples for b in blocks], axis=1), audio)


def test_a_slow_reader_loses_the_oldest_frames_and_they_are_counted(clip):
    n = len(decoded_frames(clip))
    with Camera(clip, clock=SessionClock(), queue_size=2) as cam:
        got = []
        while True:
            time.sleep(0.25)  # a consumer far slower than 15 frames/s
            try:
                got.append(cam.read(1.0))
            except EndOfStream:
                break
        stats = cam.stats
    got = [f for f in got if f is not None]
    assert stats.dropped > 0 and stats.delivered == len(got)
    assert stats.delivered + stats.dropped == n
    assert [f.index for f in got] == sorted(f.index for f in got)
    assert got[-1].index == n - 1  # the freshest frame is kept


def test_a_slow_reader_of_the_microphone_loses_blocks_counted_without_shifting_time(clip):
    with Microphone(clip, clock=SessionClock(), block_s=0.02, queue_size=3) as mic:
        time.sleep(0.5)  # 25 blocks arrive, 3 fit
        blocks = read_all(mic)
        assert mic.stats.dropped > 0
        assert mic.stats.delivered + mic.stats.dropped == int(SECONDS / 0.02)
    # times still follow the media: a dropped stretch leaves a hole, never a shift
    audio, _ = read_audio(clip)
    first = [k for k in range(0, audio.shape[1], 320)
             if np.array_equal(audio[:, k:k + 320], blocks[0].samples)]  # where the reader came in
    assert len(first) == 1 and first[0] > 0
    for b in blocks:
        k = first[0] + round((b.t0 - blocks[0].t0) * RATE)
        np.testing.assert_array_equal(b.samples, audio[:, k:k + b.samples.shape[1]])


def test_end_of_stream_is_raised_once_the_items_are_read_and_never_hangs_after(clip):
    with Camera(clip, pace=0) as cam:
        frames = read_all(cam)
        assert len(frames) == int(SECONDS * FPS)
        for _ in range(3):
            with pytest.raises(EndOfStream):
                cam.read(None)  # would block forever if the end were not remembered
    with Microphone(clip, pace=0) as mic:
        read_all(mic)
        with pytest.raises(EndOfStream):
            mic.read(None)


def test_a_file_that_ends_mid_session_ends_its_source_while_the_other_goes_on(tmp_path):
    short = tmp_path / "short.mkv"
    write_video(short, (pattern(k) for k in range(6)), fps=FPS)  # 0.4 s of video, no audio
    talk = tmp_path / "talk.wav"
    write_wav(talk, tone(1.0), RATE)
    clock = SessionClock()
    with Camera(short, clock=clock, start=0.0) as cam, Microphone(talk, clock=clock, start=0.0) as mic:
        frames = read_all(cam)
        after_end = clock.now()
        blocks = read_all(mic)
    assert len(frames) == 6 and after_end < 1.0
    assert sum(b.samples.shape[1] for b in blocks) == RATE
    assert blocks[-1].t0 + blocks[-1].duration > after_end  # the microphone kept going


def test_a_truncated_file_delivers_what_decodes_then_ends_cleanly(clip, tmp_path):
    cut = tmp_path / "cut.mkv"
    data = clip.read_bytes()
    cut.write_bytes(data[:len(data) * 2 // 3])
    with Camera(cut, pace=0) as cam:
        frames = read_all(cam)
    assert 0 < len(frames) < int(SECONDS * FPS)
    assert [f.index for f in frames] == list(range(len(frames)))


def test_bad_sources_raise_one_clear_line(tmp_path):
    with pytest.raises(InputError, match="missing.mp4: no such file"):
        Camera(tmp_path / "missing.mp4")
    with pytest.raises(InputError, match="/dev/video99: no such device"):
        Camera("/dev/video99")
    with pytest.raises(InputError, match="camera 'No Such Cam': no camera by that name"):
        Camera("No Such Cam")
    assert is_device(0) and is_device("3") and is_device("/dev/video2") and is_device("C920")
    assert not is_device("talk.mp4") and not is_device(tmp_path)
    with pytest.raises(ValueError, match="pace"):
        Microphone(tmp_path / "x.wav", pace=-1)


# --- the real sounddevice path, fed by ALSA's file plugin (no sound card needed) ---------------

ASOUNDRC = """\
pcm.!default {{
  type plug
  slave {{ pcm "feed"; format S16_LE; rate {rate}; channels 1 }}
}}
pcm.feed {{
  type file
  slave.pcm "null"
  file "/dev/null"
  infile "{raw}"
  format "raw"
}}
"""

MIC_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from attunement.sources.microphone import Microphone, list_microphones
    from attunement.errors import EndOfStream
    names = [d["name"] for d in list_microphones()]
    blocks = []
    with Microphone(None, rate=16000, block_s=0.02) as mic:
        while len(blocks) < 100:
            b = mic.read(5.0)
            if b is None:
                break
            blocks.append(b)
        stats = mic.stats
    np.save(sys.argv[1], np.concatenate([b.samples for b in blocks], axis=1))
    print(json.dumps({"names": names, "t0": [b.t0 for b in blocks], "n": [b.samples.shape[1] for b in blocks],
                      "rate": stats.rate, "dropped": stats.dropped}))
""")


def portaudio_missing() -> str | None:
    if ctypes.util.find_library("portaudio") is None:
        return "PortAudio is not installed: apt-get install libportaudio2"
    return None


@pytest.mark.skipif(portaudio_missing() is not None, reason=portaudio_missing() or "")
def test_real_microphone_class_reads_portaudio_fed_by_an_alsa_file_plugin(tmp_path):
    """PortAudio's ALSA host opens the default device, here a file plugin reading a recording. With
    a null slave there is no clock, so it runs faster than real time and the plugin skips stretches
    of its input file (ALSA's doing, before PortAudio); what arrives must still be the recording,
    block for block in order, scaled to [-1, 1], stamped by sample count."""
    sweep = np.round(chirp(10.0)[0] * 5 * 32767).astype("<i2")  # 10 s, peak 0.5
    raw = tmp_path / "in.raw"
    sweep.tofile(raw)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text(ASOUNDRC.format(rate=RATE, raw=raw))
    out = tmp_path / "got.npy"
    env = {**os.environ, "HOME": str(home)}
    run = subprocess.run([sys.executable, "-c", MIC_SCRIPT, str(out)], env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert "default" in got["names"]
    assert got["rate"] == RATE and len(got["t0"]) == 100 and set(got["n"]) == {320}
    at = np.round((np.array(got["t0"]) - got["t0"][0]) * RATE).astype(int)
    assert np.all(np.diff(at) % 320 == 0) and np.all(np.diff(at) >= 320)  # counted, not clocked
    blocks = np.load(out)[0].reshape(100, 320)
    windows = sweep[:sweep.size // 320 * 320].reshape(-1, 320) / 32768.0
    where = [np.flatnonzero(np.all(np.abs(windows - blk) < 1e-6, axis=1)) for blk in blocks]
    assert all(w.size == 1 for w in where), "a block that is not a window of the recording"
    where = np.concatenate(where)
    assert where[0] == 0 and np.all(np.diff(where) > 0)


def test_opening_a_microphone_without_portaudio_names_the_package(tmp_path):
    """With PortAudio hidden from ctypes, opening says which Debian package to install."""
    script = textwrap.dedent("""
        import ctypes.util
        ctypes.util.find_library = lambda name: None  # as on a machine without libportaudio2
        from attunement.errors import InputError
        from attunement.sources.microphone import Microphone
        try:
            Microphone(None)
        except InputError as e:
            print(e)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "PortAudio is missing: install libportaudio2 (Debian/Ubuntu)", run.stderr


# --- hardware in the loop ---------------------------------------------------------------------

@pytest.mark.hil
@pytest.mark.skipif(not glob.glob("/dev/video*"), reason="no camera: no /dev/video* device")
def test_real_camera_delivers_fresh_frames_on_the_session_clock():
    clock = SessionClock()
    with Camera(sorted(glob.glob("/dev/video*"))[0], clock=clock) as cam:
        frames = [f for f in (cam.read(2.0) for _ in range(30)) if f is not None]
        stats = cam.stats
    assert len(frames) == 30
    assert all(f.image.shape == (stats.height, stats.width, 3) for f in frames)
    t = np.array([f.t for f in frames])
    assert np.all(np.diff(t) > 0) and t[-1] <= clock.now()


def sound_card_missing() -> str | None:
    if portaudio_missing():
        return portaudio_missing()
    try:
        with open("/proc/asound/cards") as f:
            cards = f.read()
    except OSError:
        return "no sound card: /proc/asound/cards is absent"
    return None if cards.strip() and "no soundcards" not in cards else "no sound card: /proc/asound/cards lists none"


@pytest.mark.hil
@pytest.mark.skipif(sound_card_missing() is not None, reason=sound_card_missing() or "")
def test_real_microphone_delivers_blocks_stamped_by_sample_count():
    with Microphone(None, clock=SessionClock()) as mic:
        blocks = [b for b in (mic.read(2.0) for _ in range(50)) if b is not None]
        stats = mic.stats
    assert len(blocks) == 50 and stats.rate == RATE
    assert all(b.samples.shape == (1, 320) and b.samples.dtype == np.float32 for b in blocks)
    assert np.all(np.diff([b.t0 for b in blocks]) > 0)


def test_the_camera_path_reads_through_opencv_and_ends_cleanly_when_frames_stop(clip):
    """The device loop, run for real on OpenCV reading a file: frames stamped on arrival, in order,
    RGB like the PyAV decode; when frames stop for `give_up_s` it notes the gap and ends."""
    truth = decoded_frames(clip)
    clock = SessionClock()
    with Camera(str(clip), backend="opencv", clock=clock, queue_size=len(truth) + 1, give_up_s=0.3) as cam:
        frames = read_all(cam, timeout=5.0)
        stats = cam.stats
    assert (stats.width, stats.height) == (160, 120) and stats.fps == pytest.approx(FPS, rel=0.01)
    assert [f.index for f in frames] == list(range(len(truth)))
    t = [f.t for f in frames]
    assert t == sorted(t) and 0 <= t[0] and t[-1] <= clock.now()
    for f, g in zip(frames, truth):  # the same pictures (two decoders, two colour converters)
        assert np.mean(np.abs(f.image.astype(int) - g.image.astype(int))) < 3
    assert len(stats.gaps) == 1 and stats.gaps[0][0] == t[-1] and stats.gaps[0][1] - t[-1] >= 0.3
