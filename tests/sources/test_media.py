"""Media input: files made here with PyAV's own encoders, decoded back and checked against
what was put in (tone per channel, burst timing, length), plus bad and damaged input.

Encoder delay and padding, as FFmpeg reports and handles them (measured with PyAV 18 / FFmpeg 8):
- MP3 (LAME): 1105 samples of encoder delay, recorded in the LAME/Xing header and skipped by
  the decoder (the stream's start_time is 1105/rate); the end padding is trimmed too, so
  the length is exact.
- Opus: 312 samples of pre-skip at 48 kHz, skipped by the decoder (Ogg and WebM both);
  length exact. The Ogg container's duration includes the pre-skip (+6.5 ms).
- AAC: 1024 priming samples, cut by the MP4/MOV edit list and by FFmpeg for Matroska; the
  padding of the last frame is NOT trimmed, so the decoded audio is up to one AAC frame
  (1024 source samples) longer than what was encoded. The start, and so all timing, is exact.
  Raw ADTS (.aac) cannot record the priming: see its own test.
Tolerances below say so per codec; timing is held to 1 ms everywhere.
"""

from __future__ import annotations

import math
import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from attunement.errors import InputError
from attunement.records import AudioBlock
from attunement.sources.media import MediaReader, read_audio
from attunement.sources.wav import write_wav

RATE = 16000
BURST_S = 1.234  # centre of the burst in the test signal
LAYOUTS = {1: "mono", 2: "stereo", 4: "quad"}


def tone_hz(k: int) -> float:
    """The tone of channel k: distinct and well apart, below 4 kHz (the Nyquist of 8 kHz files)."""
    return 300.0 + 350.0 * k


def make_signal(rate: int, channels: int, seconds: float = 2.0, bursts=(BURST_S,), *,
                tone_s: float = 1.0, tone_amp: float = 0.3) -> np.ndarray:
    """float32 [channels, n]: tone_hz(k) on channel k during [0, tone_s) s, silence after, plus a
    4 ms Hann-windowed 2 kHz burst (1 kHz for 8 kHz files) centred at each time in `bursts`."""
    n = int(round(seconds * rate))
    x = np.zeros((channels, n), np.float32)
    t = np.arange(int(round(tone_s * rate))) / rate
    for k in range(channels):
        x[k, :len(t)] = tone_amp * np.sin(2 * np.pi * tone_hz(k) * t)
    m = int(0.004 * rate) | 1
    carrier = np.sin(2 * np.pi * min(2000, rate / 8) * (np.arange(m) - m // 2) / rate)
    burst = 0.8 * np.hanning(m + 2)[1:-1] * carrier
    for b in bursts:
        start = round(b * rate) - m // 2
        x[:, start:start + m] += burst
    return x


def encode(path: Path, x: np.ndarray, rate: int, codec: str, *, layout: str | None = None,
           video: str | None = None, video_s: float | None = None) -> Path:
    """Writes float32 [channels, n] at `rate` Hz with PyAV's `codec`, plus a 64x64 `video`
    stream as long as the audio or `video_s` s."""
    channels, n = x.shape
    layout = layout or LAYOUTS[channels]
    with av.open(str(path), "w") as out:
        vstream = None
        if video:
            vstream = out.add_stream(video, rate=25)
            vstream.width, vstream.height, vstream.pix_fmt = 64, 64, "yuv420p"
        astream = out.add_stream(codec, rate=rate, layout=layout)
        for i in range(0, n, 1000):
            piece = np.ascontiguousarray(x[:, i:i + 1000])
            frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, i, Fraction(1, rate)
            out.mux(astream.encode(frame))
        out.mux(astream.encode(None))
        if vstream is not None:
            for k in range(int((video_s or n / rate) * 25)):
                gray = np.full((64, 64, 3), 8 * k % 256, np.uint8)
                image = av.VideoFrame.from_ndarray(gray, format="rgb24")
                image.pts = k
                out.mux(vstream.encode(image))
            out.mux(vstream.encode(None))
    return path


def tone_spectrum(y: np.ndarray) -> np.ndarray:
    """|FFT| of one channel's tone part, [0.1, 0.9) s at RATE; bin k is k * 1.25 Hz."""
    seg = y[int(0.1 * RATE):int(0.9 * RATE)]
    return np.abs(np.fft.rfft(seg * np.hanning(len(seg))))


def burst_time(y: np.ndarray, lo: float, hi: float) -> float:
    """Energy centroid (s) of the loudest 20 ms of one channel within [lo, hi) s."""
    e = y[int(lo * RATE):int(hi * RATE)].astype(np.float64) ** 2
    k = int(np.argmax(e))
    a, b = max(0, k - RATE // 100), k + RATE // 100
    w = e[a:b]
    return lo + (a + np.sum(np.arange(len(w)) * w) / np.sum(w)) / RATE


# (suffix, codec, source rate, channels, layout, video codec)
LOSSLESS = [
    *((".wav", "pcm_s16le", r, c, None, None) for r in (8000, 22050, 44100, 48000) for c in (1, 2, 4)),
    (".flac", "flac", 8000, 1, None, None),
    (".flac", "flac", 22050, 4, None, None),
    (".flac", "flac", 44100, 2, None, None),
    (".flac", "flac", 48000, 1, None, None),
]
LOSSY = [
    (".mp3", "libmp3lame", 8000, 1, None, None),
    (".mp3", "libmp3lame", 22050, 2, None, None),
    (".mp3", "libmp3lame", 44100, 2, None, None),
    (".mp3", "libmp3lame", 48000, 1, None, None),
    (".m4a", "aac", 8000, 1, None, None),
    (".m4a", "aac", 22050, 4, "4.0", None),
    (".m4a", "aac", 44100, 1, None, None),
    (".m4a", "aac", 48000, 2, None, None),
    (".ogg", "libopus", 8000, 2, None, None),
    (".ogg", "libopus", 16000, 1, None, None),
    (".ogg", "libopus", 48000, 4, None, None),
    (".webm", "libopus", 48000, 2, None, None),
    (".mp4", "aac", 44100, 2, None, "libx264"),
    (".mp4", "aac", 22050, 1, None, "mpeg4"),
    (".mkv", "aac", 8000, 1, None, "mpeg4"),
    (".mkv", "libopus", 48000, 2, None, "libx264"),
    (".mov", "aac", 22050, 2, None, "libx264"),
    (".mov", "aac", 48000, 4, "4.0", "mpeg4"),
    (".webm", "libopus", 24000, 2, None, "libvpx"),
]


def _case_id(case) -> str:
    suffix, codec, rate, channels, _, video = case
    return f"{suffix[1:]}-{codec}-{rate}-{channels}ch" + (f"-{video}" if video else "")


@pytest.mark.parametrize("case", LOSSLESS + LOSSY, ids=_case_id)
def test_decoded_audio_matches_what_was_encoded(tmp_path, case):
    suffix, codec, rate, channels, layout, video = case
    x = make_signal(rate, channels)
    path = encode(tmp_path / f"in{suffix}", x, rate, codec, layout=layout, video=video)
    y, info = read_audio(path)
    decoder = info.codec

    assert y.dtype == np.float32 and y.flags.c_contiguous
    assert y.shape[0] == channels == info.channels
    assert info.source_rate == (48000 if decoder == "opus" else rate)  # Opus always decodes at 48 kHz
    assert info.has_video == bool(video)
    assert info.path == str(path)

    # Length: exact but for AAC, whose last frame's padding stays (up to 1024 source samples).
    extra = y.shape[1] - 2 * RATE
    if decoder == "aac":
        assert 0 <= extra <= math.ceil(1024 * RATE / rate) + 2
        assert 2.0 <= info.duration_s <= 2.0 + 1024 / rate + 0.001
    else:
        assert abs(extra) <= 2
        assert info.duration_s == pytest.approx(2.0, abs=0.01)  # Ogg/WebM state up to 8 ms more

    # Each channel keeps its own tone; the others' tones are far below it (never mixed).
    floor_db = -90.0 if (codec.startswith("pcm") or codec == "flac") else -45.0
    for k in range(channels):
        spectrum = tone_spectrum(y[k])
        assert abs(np.argmax(spectrum) * 1.25 - tone_hz(k)) <= 1.25
        for j in range(channels):
            if j != k:
                leak = spectrum[round(tone_hz(j) / 1.25)] / spectrum.max()
                assert 20 * np.log10(leak + 1e-12) < floor_db, (k, j)
        # The burst is where it was put, to the millisecond.
        assert burst_time(y[k], 1.05, 2.0) == pytest.approx(BURST_S, abs=0.001)


@pytest.mark.parametrize("rate", [8000, 44100])
def test_raw_adts_aac_starts_late_by_the_encoder_priming(tmp_path, rate):
    """A raw .aac (ADTS) file has no room to record the encoder's 1024 priming samples, so
    FFmpeg cannot cut them: the honest result is audio 1024 source samples late."""
    path = encode(tmp_path / "raw.aac", make_signal(rate, 1), rate, "aac")
    y, _ = read_audio(path)
    assert burst_time(y[0], 1.05, 2.0) == pytest.approx(BURST_S + 1024 / rate, abs=0.001)
    assert 2 * RATE <= y.shape[1] <= 2 * RATE + 2048 * RATE // rate + 2


def test_blocks_are_contiguous_sample_exact_and_own_their_memory(tmp_path):
    rate, seconds = 44100, 2.3457
    x = make_signal(rate, 2, seconds=seconds)
    path = encode(tmp_path / "odd.wav", x, rate, "pcm_s16le")
    with MediaReader(path, block_s=0.25) as reader:
        blocks = list(reader.blocks())
        assert reader.problems == []
    n = 4000
    assert all(isinstance(b, AudioBlock) and b.rate == RATE for b in blocks)
    assert [b.t0 for b in blocks] == [k * 0.25 for k in range(len(blocks))]
    assert all(b.samples.shape == (2, n) for b in blocks[:-1])
    assert 0 < blocks[-1].samples.shape[1] <= n
    assert all(b.samples.dtype == np.float32 and b.samples.flags.c_contiguous for b in blocks)
    total = sum(b.samples.shape[1] for b in blocks)
    assert abs(total - round(x.shape[1] * RATE / rate)) <= 2
    assert not any(np.shares_memory(a.samples, b.samples) for a, b in zip(blocks, blocks[1:]))

    whole, _ = read_audio(path)
    np.testing.assert_array_equal(np.concatenate([b.samples for b in blocks], axis=1), whole)


def test_cover_art_is_not_video(tmp_path):
    """An MP3's cover picture is a one-frame 'video' stream marked attached_pic: no video."""
    path = tmp_path / "song.mp3"
    with av.open(str(path), "w") as out:
        audio = out.add_stream("libmp3lame", rate=44100, layout="mono")
        cover = out.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 16, 16, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        image = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        image.pts = 0
        out.mux(cover.encode(image) + cover.encode(None))
        frame = av.AudioFrame.from_ndarray(make_signal(44100, 1), format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 44100, 0, Fraction(1, 44100)
        out.mux(audio.encode(frame) + audio.encode(None))
    with MediaReader(path) as reader:
        assert not reader.info.has_video
        assert sum(b.samples.shape[1] for b in reader.blocks()) == 2 * RATE


def test_write_wav_round_trip_is_exact_to_16_bits(tmp_path, rng):
    x = rng.uniform(-1, 1, size=(3, 12345)).astype(np.float32)
    x[0, :3] = [1.5, -1.5, 0.0]  # clipped on writing
    path = tmp_path / "out.wav"
    write_wav(path, x, RATE)
    y, info = read_audio(path)
    assert (info.channels, info.source_rate, info.codec) == (3, RATE, "pcm_s16le")
    assert y.shape == x.shape
    expected = np.round(np.clip(x, -1, 1) * 32767) / 32768  # FFmpeg scales 16-bit PCM by 1/32768
    np.testing.assert_allclose(y, expected, atol=1e-7)


@pytest.mark.parametrize("channels", [3, 6, 8, 16])
def test_many_channels_stay_apart(tmp_path, channels):
    """WAVs of 3 to 16 microphones (no channel mask: FFmpeg's default or unordered layout);
    PyAV 18 crashes on planar frames of 8 or more channels, so this guards the packed path."""
    rate = 44100
    t = np.arange(rate) / rate
    x = np.stack([0.05 * np.sin(2 * np.pi * (200 + 100 * k) * t) for k in range(channels)])
    write_wav(tmp_path / "many.wav", x, rate)
    y, info = read_audio(tmp_path / "many.wav")
    assert info.channels == channels and y.shape == (channels, RATE)
    for k in range(channels):
        spectrum = np.abs(np.fft.rfft(y[k]))  # 1 Hz bins
        assert np.argmax(spectrum) == 200 + 100 * k
        assert spectrum[[200 + 100 * j for j in range(channels) if j != k]].max() < 1e-3 * spectrum.max()


def test_write_wav_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="channels, n"):
        write_wav(tmp_path / "a.wav", np.zeros(10, np.float32), RATE)
    with pytest.raises(ValueError, match="NaN"):
        write_wav(tmp_path / "a.wav", np.full((1, 10), np.nan, np.float32), RATE)
    with pytest.raises(ValueError, match="rate"):
        write_wav(tmp_path / "a.wav", np.zeros((1, 10), np.float32), 0)
    missing = tmp_path / "no" / "such" / "dir" / "a.wav"
    with pytest.raises(InputError, match="a.wav"):
        write_wav(missing, np.zeros((1, 10), np.float32), RATE)


def _bad_inputs(tmp_path: Path, rng: np.random.Generator) -> dict[str, tuple[Path, str]]:
    """name -> (path, a phrase the message must hold)."""
    good = encode(tmp_path / "good.wav", make_signal(44100, 1), 44100, "pcm_s16le").read_bytes()
    files = {
        "missing": (tmp_path / "missing.wav", None),
        "directory": (tmp_path / "folder.mp4", None),
        "empty": (tmp_path / "empty.mp3", b""),
        "text": (tmp_path / "notes.wav", b"these are my notes\nnot audio\n" * 20),
        "random bytes": (tmp_path / "noise.mp3", rng.integers(0, 256, 20000, dtype=np.uint8).tobytes()),
        "cut header": (tmp_path / "cut.wav", good[:30]),
    }
    phrases = {"missing": "no such file", "directory": "directory", "empty": "empty",
               "text": "cannot read", "random bytes": "cannot read", "cut header": "cannot read"}
    (tmp_path / "folder.mp4").mkdir()
    out = {}
    for name, (path, data) in files.items():
        if data is not None:
            path.write_bytes(data)
        out[name] = (path, phrases[name])
    return out


@pytest.mark.parametrize("name", ["missing", "directory", "empty", "text", "random bytes", "cut header"])
def test_bad_input_raises_one_clear_line_naming_the_file(tmp_path, rng, name):
    path, phrase = _bad_inputs(tmp_path, rng)[name]
    with pytest.raises(InputError) as caught:
        MediaReader(path)
    message = str(caught.value)
    assert str(path) in message and phrase in message
    assert "\n" not in message


def test_video_without_audio_is_an_input_error(tmp_path):
    path = tmp_path / "silent_film.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for k in range(10):
            image = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            image.pts = k
            out.mux(stream.encode(image))
        out.mux(stream.encode(None))
    with pytest.raises(InputError, match=r"silent_film\.mp4: has no audio track \(it holds video mpeg4\)"):
        MediaReader(path)


def test_file_with_no_decodable_audio_is_an_input_error(tmp_path):
    data = bytearray(encode(tmp_path / "a.flac", make_signal(44100, 2), 44100, "flac").read_bytes())
    data[200:] = bytes(len(data) - 200)  # headers kept, every audio frame zeroed
    (tmp_path / "zeroed.flac").write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"zeroed\.flac: no audio could be decoded"):
        MediaReader(tmp_path / "zeroed.flac")


def _four_seconds(tmp_path: Path, suffix: str, codec: str, rate: int,
                  video: str | None = None) -> tuple[Path, bytes]:
    """A 4 s stereo file (quiet tones throughout, so bytes are spread evenly over time, and
    bursts at 0.5 s and 3.234 s) and its bytes."""
    x = make_signal(rate, 2, seconds=4.0, bursts=(0.5, 3.234), tone_s=4.0, tone_amp=0.05)
    path = encode(tmp_path / f"full{suffix}", x, rate, codec, video=video)
    return path, path.read_bytes()


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_video_longer_than_its_audio_is_not_called_truncated(tmp_path, suffix):
    path = encode(tmp_path / f"a{suffix}", make_signal(48000, 1), 48000, "aac", video="mpeg4", video_s=4.0)
    with MediaReader(path) as reader:
        total = sum(b.samples.shape[1] for b in reader.blocks())
        assert reader.problems == []
        assert reader.info.duration_s == pytest.approx(2.0, abs=0.03)  # the audio track's own
    assert 2 * RATE <= total <= 2 * RATE + 1024 * RATE // 48000 + 2


def test_wav_cut_in_half_is_simply_a_shorter_file(tmp_path):
    """FFmpeg takes a WAV's length from the file size, so a cut WAV reads as a complete,
    shorter one: no problem can be noted, and what is there is exact."""
    full, data = _four_seconds(tmp_path, ".wav", "pcm_s16le", 44100)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[:len(data) // 2])
    whole, _ = read_audio(full)
    with MediaReader(cut) as reader:
        half = np.concatenate([b.samples for b in reader.blocks()], axis=1)
        assert reader.problems == []
        assert reader.info.duration_s == pytest.approx(2.0, abs=0.001)
    assert abs(half.shape[1] - 2 * RATE) <= 0.01 * RATE  # half the bytes, less half the header
    np.testing.assert_allclose(half[:, :RATE + RATE // 2], whole[:, :RATE + RATE // 2], atol=1e-6)


@pytest.mark.parametrize("suffix,codec,video", [(".mp3", "libmp3lame", None), (".mkv", "aac", "mpeg4"),
                                                (".flac", "flac", None)])
def test_truncated_file_keeps_what_was_decoded_and_says_so(tmp_path, suffix, codec, video):
    _, data = _four_seconds(tmp_path, suffix, codec, 44100, video)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[:len(data) // 2])
    with MediaReader(cut) as reader:
        y = np.concatenate([b.samples for b in reader.blocks()], axis=1)
        problems = reader.problems
    assert 1.5 < y.shape[1] / RATE < 2.5
    assert len(problems) == 1 and "decoding stopped at" in problems[0] and "of 4.0 s" in problems[0]
    assert "truncated" in problems[0]
    assert abs(np.argmax(tone_spectrum(y[1])) * 1.25 - tone_hz(1)) <= 1.25
    assert burst_time(y[0], 0.3, 0.7) == pytest.approx(0.5, abs=0.001)


def test_truncated_mp4_with_its_index_at_the_end_is_an_input_error(tmp_path):
    """FFmpeg's MP4 muxer writes the index (moov) last: half a file has no index, nothing to read."""
    _, data = _four_seconds(tmp_path, ".m4a", "aac", 48000)
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.m4a: FFmpeg cannot read"):
        MediaReader(cut)


@pytest.mark.parametrize("suffix,codec,video,where", [
    (".ogg", "libopus", None, 0.5), (".mp4", "aac", "libx264", 0.5), (".mkv", "aac", "mpeg4", 0.5),
    (".mp4", "aac", "libx264", 0.08), (".mp4", "aac", "libx264", 0.0)])
def test_damage_is_noted_and_later_timing_kept(tmp_path, rng, suffix, codec, video, where):
    """3000 random bytes at `where` (share of the file): the lost stretch is filled with
    silence from the packets' timestamps, so the burst at 3.234 s stays there. (A damaged
    start of an Ogg or MP3 file cannot be placed: FFmpeg then takes the first packet it can
    read as the start.)"""
    rate = 48000
    _, data = _four_seconds(tmp_path, suffix, codec, rate, video)
    damaged = bytearray(data)
    at = max(int(len(data) * where), 100)  # past the first 100 bytes, MP4's file-type header
    damaged[at:at + 3000] = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    path = tmp_path / f"damaged{suffix}"
    path.write_bytes(bytes(damaged))
    with MediaReader(path) as reader:
        y = np.concatenate([b.samples for b in reader.blocks()], axis=1)
        problems = reader.problems
    assert any("missing" in p and "filled with silence" in p for p in problems)
    assert y.shape[1] >= 4 * RATE  # holes filled: nothing after the damage moved earlier
    assert burst_time(y[1], 3.0, 3.5) == pytest.approx(3.234, abs=0.001)


def _joined_adts(tmp_path: Path, parts: list[tuple[int, int]]) -> Path:
    """Raw AAC (ADTS) files of 1 s each (rate, channels), channel k at tone_hz(k), joined byte
    by byte: a stream whose rate or channel count changes where they meet. Raw ADTS has no
    room for the encoder's 1024 priming samples, so each part starts with them."""
    data = b""
    for i, (rate, channels) in enumerate(parts):
        x = np.stack([0.3 * np.sin(2 * np.pi * tone_hz(k) * np.arange(rate) / rate) for k in range(channels)])
        data += encode(tmp_path / f"part{i}.aac", x.astype(np.float32), rate, "aac").read_bytes()
    path = tmp_path / "joined.aac"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("rates", [(44100, 22050), (22050, 44100)])
def test_sample_rate_change_mid_stream_is_resampled_seamlessly(tmp_path, rates):
    """Raw ADTS timestamps are counted at the first rate, wrongly after the change: they
    must not be taken for holes."""
    path = _joined_adts(tmp_path, [(rates[0], 2), (rates[1], 2)])
    with MediaReader(path) as reader:
        y = np.concatenate([b.samples for b in reader.blocks()], axis=1)
        assert reader.info.source_rate == rates[0] and reader.problems == []
    # Each part carries up to 2048 samples of priming and padding.
    assert 2 * RATE <= y.shape[1] <= 2 * RATE + 2048 * RATE // 44100 + 2048 * RATE // 22050
    for part in (y[:, :RATE], y[:, -RATE:]):
        for k in range(2):
            assert abs(np.argmax(tone_spectrum(part[k])) * 1.25 - tone_hz(k)) <= 1.25


def test_channel_count_change_stops_with_a_note(tmp_path):
    path = _joined_adts(tmp_path, [(44100, 2), (44100, 1)])
    with MediaReader(path) as reader:
        y = np.concatenate([b.samples for b in reader.blocks()], axis=1)
        problems = reader.problems
    assert y.shape[0] == 2 and RATE <= y.shape[1] <= RATE + 2048 * RATE // 44100 + 2
    assert len(problems) == 1 and "channels changed from 2 to 1" in problems[0]


def test_long_file_is_streamed_not_accumulated(tmp_path):
    """60 s of 48 kHz stereo is 7.7 MB as float32 at 16 kHz; reading it block by block must
    hold no more than a few blocks (128 kB each) at a time."""
    rate, seconds = 48000, 60
    t = np.arange(seconds * rate) / rate
    write_wav(tmp_path / "long.wav", np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2), rate)
    del t
    total = 0
    tracemalloc.start()
    try:
        with MediaReader(tmp_path / "long.wav") as reader:
            for block in reader.blocks():
                total += block.samples.shape[1]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == seconds * RATE
    assert peak < 1_500_000


def test_reader_misuse_is_a_clear_error(tmp_path):
    path = encode(tmp_path / "a.wav", make_signal(8000, 1), 8000, "pcm_s16le")
    with pytest.raises(ValueError, match="rate"):
        MediaReader(path, rate=0)
    with pytest.raises(ValueError, match="block_s"):
        MediaReader(path, block_s=0.0)
    with MediaReader(path, rate=8000) as reader:
        assert sum(b.samples.shape[1] for b in reader.blocks()) == 16000  # any output rate
        with pytest.raises(RuntimeError, match="once"):
            next(reader.blocks())


@pytest.mark.realdata
def test_real_conversation_wav_reads_exactly(shared_data):
    sf = pytest.importorskip("soundfile")
    path = shared_data / "conversations" / "sample.wav"
    y, info = read_audio(path)
    assert (info.channels, info.source_rate, info.codec, info.has_video) == (1, 16000, "pcm_s16le", False)
    assert info.duration_s == pytest.approx(30.0, abs=0.001)
    reference, rate = sf.read(str(path), dtype="float32")
    assert rate == RATE
    np.testing.assert_array_equal(y[0], reference)  # 16 kHz in, 16 kHz out: untouched


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["WDA_AlexandriaOcasioCortez_000.mp4", "WDA_KatieHill_000.mp4"])
def test_real_talking_head_video_audio_track(shared_data, name):
    with MediaReader(shared_data / "video" / name) as reader:
        blocks = list(reader.blocks())
        info, problems = reader.info, reader.problems
    assert problems == []
    assert (info.channels, info.source_rate, info.codec, info.has_video) == (2, 16000, "aac", True)
    assert info.duration_s == pytest.approx(8.0, abs=0.01)
    assert sum(b.samples.shape[1] for b in blocks) == pytest.approx(8 * RATE, abs=1024)
    level_db = 10 * np.log10(np.mean(np.concatenate([b.samples for b in blocks], axis=1) ** 2))
    assert level_db > -40  # someone talks for almost the whole clip


def test_describe_states_length_picture_and_sound_from_the_headers(tmp_path):
    """The title line of a review: a WAV's length and channels; an MP3's cover picture is no video."""
    from attunement.sources.media import describe

    wav = tmp_path / "talk.wav"
    write_wav(wav, make_signal(RATE, 2, seconds=3.0), RATE)
    assert describe(wav) == "3 s, sound in 2 channels"
    mp3 = tmp_path / "song.mp3"
    with av.open(str(mp3), "w") as out:
        audio = out.add_stream("libmp3lame", rate=44100, layout="mono")
        frame = av.AudioFrame.from_ndarray(make_signal(44100, 1), format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 44100, 0, Fraction(1, 44100)
        out.mux(audio.encode(frame) + audio.encode(None))
    assert describe(mp3).endswith("sound in one channel") and "video" not in describe(mp3)
    with pytest.raises(InputError, match="empty"):
        (tmp_path / "empty.mkv").write_bytes(b"")
        describe(tmp_path / "empty.mkv")
