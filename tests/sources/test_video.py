"""Video input: clips made here from the public-domain portrait with PyAV's own encoders,
decoded back and checked against what was put in (frame times, pixels, the audio clock),
plus bad and damaged input. Files are tiny (a 2-4 s portrait clip) so the module runs in seconds.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from matplotlib import cbook
from matplotlib import image as mpimage

from attunement.errors import InputError
from attunement.records import VideoFrame
from attunement.sources.media import MediaReader
from attunement.sources.wav import write_wav
from attunement.sources.video import VideoReader

FPS = 25
RATE = 16000


def portrait() -> np.ndarray:
    """matplotlib's public-domain Grace Hopper portrait, RGB uint8 [600, 512, 3]."""
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(mpimage.imread(f, format="jpg"))


def make_clip(path: Path, *, seconds: float = 2.0, codec: str = "libx264", image: np.ndarray | None = None,
              audio_start_s: float | None = 0.0, rotation: int | None = None,
              flash_s: float | None = None, beep_s: float | None = None) -> Path:
    """An MP4/MKV of the portrait at FPS (shifted k % 5 px on frame k so frames differ), with a
    16 kHz AAC tone track whose first sample is at `audio_start_s` (None: no audio).

    `rotation`: the pictures are stored turned by -rotation and the display matrix turns them
    back. `flash_s`: frames from that time on are white. `beep_s`: a 5 ms click at that file time.
    """
    image = portrait() if image is None else image
    stored = np.ascontiguousarray(np.rot90(image, -round(rotation / 90))) if rotation else image
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec, rate=FPS)
        video.height, video.width = stored.shape[:2]
        video.pix_fmt = "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        audio = out.add_stream("aac", rate=RATE, layout="mono") if audio_start_s is not None else None
        for k in range(int(round(seconds * FPS))):
            pixels = np.roll(stored, k % 5, axis=1)
            if flash_s is not None and k / FPS >= flash_s - 1e-9:
                pixels = np.full_like(stored, 255)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            frame.pts = k
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            n = int(seconds * RATE)
            x = 0.05 * np.sin(2 * np.pi * 440 * np.arange(n) / RATE)
            if beep_s is not None:
                at = int(round((beep_s - audio_start_s) * RATE))
                x[at:at + RATE // 200] = 0.9
            x = x.astype(np.float32)[None]
            start = int(round(audio_start_s * RATE))
            for i in range(0, n, 1024):
                piece = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[:, i:i + 1024]), format="fltp",
                                                   layout="mono")
                piece.sample_rate, piece.pts, piece.time_base = RATE, start + i, Fraction(1, RATE)
                out.mux(audio.encode(piece))
            out.mux(audio.encode(None))
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("video") / "portrait.mp4")


def read_all(path, **kw) -> tuple[list[VideoFrame], VideoReader]:
    every_s = kw.pop("every_s", 0.0)
    with VideoReader(path, **kw) as reader:
        return list(reader.frames(every_s)), reader


@pytest.mark.parametrize("codec", ["libx264", "mpeg4"])
def test_frame_times_are_exact_and_frames_match_what_was_encoded(tmp_path, codec):
    path = make_clip(tmp_path / f"{codec}.mp4", codec=codec)
    frames, reader = read_all(path, max_width=None)
    assert reader.problems == []
    info = reader.info
    assert (info.fps, info.width, info.height, info.frames, info.has_audio) == (25.0, 512, 600, 50, True)
    assert info.duration_s == pytest.approx(2.0, abs=1e-6)
    assert [f.index for f in frames] == list(range(50))
    np.testing.assert_allclose([f.t for f in frames], np.arange(50) / FPS, atol=1e-9)
    image = portrait()
    for f in frames[:6]:
        assert f.image.dtype == np.uint8 and f.image.shape == (600, 512, 3) and f.image.flags.c_contiguous
        shifted = np.roll(image, f.index % 5, axis=1).astype(np.int16)
        assert np.abs(f.image - shifted).mean() < 4  # the codec's loss only, in 0..255 levels


def test_wide_frames_are_downscaled_keeping_aspect(clip):
    full, _ = read_all(clip, max_width=None)
    small, reader = read_all(clip, max_width=200)
    assert (reader.info.width, reader.info.height) == (200, 234)  # 600 * 200 / 512 = 234.4
    assert small[0].image.shape == (234, 200, 3)
    expected = cv2.resize(full[7].image, (200, 234), interpolation=cv2.INTER_AREA).astype(np.int16)
    assert np.abs(small[7].image - expected).mean() < 2
    same, reader = read_all(clip, max_width=640)  # narrower than max_width: untouched
    assert (reader.info.width, reader.info.height) == (512, 600)
    np.testing.assert_array_equal(same[3].image, full[3].image)


@pytest.mark.parametrize("every_s", [0.0, 0.04, 0.1, 0.5, 0.75, 5.0])
def test_every_s_keeps_the_first_frame_at_least_every_s_after_the_last(clip, every_s):
    frames, _ = read_all(clip, every_s=every_s)
    kept, last = [], -np.inf
    for k in range(50):  # the reference: a plain walk over the exact frame times
        if k / FPS >= last + every_s - 1e-9:
            kept.append(k)
            last = k / FPS
    assert [f.index for f in frames] == kept
    times = np.array([f.t for f in frames])
    assert np.all(np.diff(times) >= every_s - 1e-9)
    if every_s == 0.1:
        assert kept[:4] == [0, 3, 6, 9]  # 0.12 s apart: at most 10 a second


def test_session_clock_starts_at_the_first_audio_sample(tmp_path):
    """Audio starting 0.5 s into the file: a white flash at file time 1.0 s and a click at
    file time 1.0 s land at the same session time in VideoReader and MediaReader."""
    path = make_clip(tmp_path / "late_audio.mp4", audio_start_s=0.5, flash_s=1.0, beep_s=1.0)
    frames, reader = read_all(path)
    flash = next(f for f in frames if f.image.mean() > 250)
    with MediaReader(path) as audio:
        y = np.concatenate([b.samples[0] for b in audio.blocks()])
    click_t = np.flatnonzero(np.abs(y) > 0.5)[0] / RATE
    assert flash.index == 25
    assert flash.t == pytest.approx(click_t, abs=0.001)
    np.testing.assert_allclose(np.diff([f.t for f in frames]), 1 / FPS, atol=1e-9)
    assert frames[0].t < 0  # video before the first audio sample has negative session times
    assert reader.info.has_audio


def test_without_audio_the_clock_starts_at_the_first_frame(tmp_path):
    frames, reader = read_all(make_clip(tmp_path / "mute.mp4", audio_start_s=None))
    assert not reader.info.has_audio
    np.testing.assert_allclose([f.t for f in frames], np.arange(50) / FPS, atol=1e-9)


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_display_rotation_is_applied(tmp_path, rotation):
    """A phone's portrait video: pictures stored sideways plus a display matrix; frames come out upright."""
    frames, reader = read_all(make_clip(tmp_path / "phone.mp4", seconds=0.2, rotation=rotation), max_width=None)
    assert (reader.info.width, reader.info.height) == (512, 600)
    assert frames[0].image.shape == (600, 512, 3)
    assert np.abs(frames[0].image - portrait().astype(np.int16)).mean() < 4


def test_non_square_pixels_are_stretched_to_square(tmp_path):
    """An anamorphic file: pictures stored at half width with a 2:1 sample aspect ratio."""
    squeezed = cv2.resize(portrait(), (256, 600), interpolation=cv2.INTER_AREA)
    path = tmp_path / "anamorphic.mp4"
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = 256, 600, "yuv420p"
        video.codec_context.sample_aspect_ratio = Fraction(2, 1)
        for k in range(3):
            frame = av.VideoFrame.from_ndarray(squeezed, format="rgb24")
            frame.pts = k
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    frames, reader = read_all(path, max_width=None)
    assert (reader.info.width, reader.info.height) == (512, 600)
    stretched = cv2.resize(squeezed, (512, 600), interpolation=cv2.INTER_LINEAR).astype(np.int16)
    assert np.abs(frames[0].image - stretched).mean() < 4


def _bad_inputs(tmp_path: Path, rng) -> dict[str, tuple[Path, str]]:
    wav = tmp_path / "speech.wav"
    write_wav(wav, 0.1 * rng.standard_normal((1, RATE)).astype(np.float32), RATE)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    noise = tmp_path / "noise.mkv"
    noise.write_bytes(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    return {"missing": (tmp_path / "nope.mp4", "no such file"),
            "directory": (tmp_path, "is a directory"),
            "empty": (empty, "the file is empty"),
            "text": (text, "FFmpeg cannot read it"),
            "random bytes": (noise, "FFmpeg cannot read it"),
            "audio only": (wav, "has no video track (it holds audio pcm_s16le)")}


@pytest.mark.parametrize("name", ["missing", "directory", "empty", "text", "random bytes", "audio only"])
def test_bad_input_raises_one_clear_line_naming_the_file(tmp_path, rng, name):
    path, phrase = _bad_inputs(tmp_path, rng)[name]
    with pytest.raises(InputError) as caught:
        VideoReader(path)
    message = str(caught.value)
    assert str(path) in message and phrase in message
    assert "\n" not in message


def test_cover_art_is_not_video(tmp_path):
    path = tmp_path / "song.mp3"
    with av.open(str(path), "w") as out:
        audio = out.add_stream("libmp3lame", rate=RATE, layout="mono")
        art = out.add_stream("mjpeg", rate=1)
        art.width, art.height, art.pix_fmt = 64, 64, "yuvj420p"
        art.disposition = av.stream.Disposition.attached_pic
        frame = av.AudioFrame.from_ndarray(np.zeros((1, RATE), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, 0, Fraction(1, RATE)
        out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
        picture = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
        picture.pts = 0
        out.mux(art.encode(picture))
        out.mux(art.encode(None))
    with pytest.raises(InputError, match=r"song\.mp3: has no video track .*cover art"):
        VideoReader(path)


def test_damaged_packet_is_skipped_noted_and_later_times_kept(tmp_path, rng):
    path = make_clip(tmp_path / "full.mp4", seconds=4.0)
    with av.open(str(path)) as container:
        packets = [(p.pos, p.size, p.pts * p.time_base) for p in container.demux(container.streams.video[0])
                   if p.size]
    pos, size, at = sorted(packets, key=lambda p: p[2])[50]  # the frame at 2.0 s
    data = bytearray(path.read_bytes())
    data[pos:pos + size] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    frames, reader = read_all(damaged)
    assert at == 2
    assert reader.problems == ["skipped 1 damaged video packet(s), the first at 2.0 s"]
    times = np.array([f.t for f in frames])
    assert 95 <= len(frames) < 100 and 2.0 not in np.round(times, 6)
    np.testing.assert_allclose(times, np.round(times * FPS) / FPS, atol=1e-9)  # still on the frame grid
    assert times[-1] == pytest.approx(3.96)


def test_truncated_file_keeps_what_was_decoded_and_says_so(tmp_path):
    data = make_clip(tmp_path / "full.mkv", seconds=4.0, codec="mpeg4").read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[:len(data) // 2])
    frames, reader = read_all(cut)
    assert 1.0 < frames[-1].t < 3.0
    np.testing.assert_allclose([f.t for f in frames], np.arange(len(frames)) / FPS, atol=1e-6)
    assert len(reader.problems) == 1
    assert "decoding stopped at" in reader.problems[0] and "truncated" in reader.problems[0]


def test_hole_in_the_video_is_noted(tmp_path, rng):
    """Random bytes over a stretch of a Matroska file: the demuxer skips to the next cluster."""
    data = bytearray(make_clip(tmp_path / "full.mkv", seconds=4.0, codec="mpeg4").read_bytes())
    at = len(data) // 2
    data[at:at + 3000] = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    holed = tmp_path / "holed.mkv"
    holed.write_bytes(bytes(data))
    frames, reader = read_all(holed)
    assert any("of video missing at" in p for p in reader.problems)
    assert frames[-1].t == pytest.approx(3.96, abs=1e-6)


def test_reader_misuse_is_a_clear_error(clip):
    with pytest.raises(ValueError, match="max_width"):
        VideoReader(clip, max_width=0)
    with VideoReader(clip) as reader:
        with pytest.raises(ValueError, match="every_s"):
            next(reader.frames(-1.0))
        list(reader.frames())
        with pytest.raises(RuntimeError, match="only once"):
            next(reader.frames())


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["WDA_AlexandriaOcasioCortez_000", "WDA_KatieHill_000"])
def test_real_talking_head_clip(shared_data, name):
    frames, reader = read_all(shared_data / "video" / f"{name}.mp4")
    assert reader.problems == []
    assert (reader.info.fps, reader.info.width, reader.info.height, reader.info.has_audio) == (25.0, 512, 512, True)
    assert len(frames) == 200
    np.testing.assert_allclose([f.t for f in frames], np.arange(200) / FPS, atol=1e-9)
