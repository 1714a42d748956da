"""A corpus of damaged and odd inputs, generated at test time (nothing binary is committed).

`make_corpus(folder)` writes a few good recordings (PyAV, `write_wav`, `write_video`) and from
them hundreds of bad ones: truncated and bit-flipped WAV/FLAC/OGG/M4A/MP4/MKV files, random bytes
and text under media extensions, empty files, headers claiming absurd sizes, every sample format,
rate and channel count people record in, video without audio and audio without video, 1x1 and
4K frames, variable frame rate, a face that leaves and returns, broken RTTM, WebVTT, TextGrid,
config, scenario and profile files, non-UTF-8 and very long paths. Each `Case` is the `attune`
command line that uses it and its class (for the counts in the closing note); every one must give
a result or one `attune: error:` line with exit 2.
"""

from __future__ import annotations

import itertools
import json
import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from attunement.demo.video import portrait, write_video
from attunement.sources.wav import write_wav

#: The options every review takes in the corpus: no recognizer (its model is not the subject), nothing kept.
QUIET = ["--no-words", "--no-save", "--quiet"]
MEDIA_EXTS = (".wav", ".flac", ".ogg", ".opus", ".m4a", ".mp3", ".mp4", ".mkv", ".webm", ".mov")


@dataclass(frozen=True)
class Case:
    """One bad input: its class (for the tally), a name, and the `attune` arguments that use it.
    `outputs` are files the command is asked to write: after an error none of them may exist."""

    kind: str
    name: str
    argv: tuple[str, ...]
    outputs: tuple[str, ...] = ()


def voice(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Speech-like test audio: bursts of a harmonic tone with silences, float32 [channels, n]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    env = (np.sin(2 * np.pi * 0.7 * t) > 0).astype(np.float32)
    tone = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140.0, 280.0, 420.0), 1))
    out = np.empty((channels, t.size), np.float32)
    for c in range(channels):
        out[c] = 0.3 * np.roll(env, c * rate // 3) * tone + 0.003 * rng.standard_normal(t.size)
    return out


def encode_audio(path: Path, audio: np.ndarray, rate: int, *, codec: str, fmt: str | None = None,
                 sample_fmt: str | None = None) -> None:
    """`audio` [channels, n] float32 encoded with PyAV (`codec` in container `fmt`)."""
    ch = audio.shape[0]
    layout = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}[ch]
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        if sample_fmt:
            stream.format = sample_fmt
        frame_n = stream.codec_context.frame_size or 1024
        fmt_name = stream.format.name
        for i in range(0, audio.shape[1], frame_n):
            chunk = audio[:, i:i + frame_n]
            if frame_n and chunk.shape[1] < frame_n and stream.codec_context.frame_size:
                chunk = np.pad(chunk, ((0, 0), (0, frame_n - chunk.shape[1])))
            frame = _frame(chunk, fmt_name, layout)
            frame.sample_rate = rate
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _frame(chunk: np.ndarray, fmt_name: str, layout: str) -> av.AudioFrame:
    planar = fmt_name.endswith("p")
    base = fmt_name.rstrip("p")
    kinds = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "flt": np.float32, "dbl": np.float64,
             "s64": np.int64}
    dtype = kinds[base]
    if base == "u8":
        data = np.clip(chunk * 127 + 128, 0, 255).astype(dtype)
    elif base in ("flt", "dbl"):
        data = chunk.astype(dtype)
    else:
        data = (np.clip(chunk, -1, 1) * (np.iinfo(dtype).max * 0.9)).astype(dtype)
    data = np.ascontiguousarray(data if planar else data.T.reshape(1, -1))
    return av.AudioFrame.from_ndarray(data, format=fmt_name, layout=layout)


def encode_video(path: Path, frames, *, fps: float = 10.0, audio: np.ndarray | None = None, rate: int = 16000,
                 fmt: str = "matroska", vcodec: str = "mpeg4", acodec: str = "aac", pts: list[int] | None = None):
    """Frames (RGB uint8) and optional audio into `path`; `pts` in 1/1000 s for a variable frame rate."""
    with av.open(str(path), "w", format=fmt) as out:
        v = out.add_stream(vcodec, rate=Fraction(fps).limit_denominator(1000))
        v.pix_fmt = "yuv420p"
        if pts is not None:
            v.codec_context.time_base = Fraction(1, 1000)
        a = None
        if audio is not None:
            a = out.add_stream(acodec, rate=rate, layout="mono" if audio.shape[0] == 1 else "stereo")
        for k, pixels in enumerate(frames):
            if k == 0:
                v.width, v.height = pixels.shape[1] // 2 * 2 or 2, pixels.shape[0] // 2 * 2 or 2
            img = pixels[:v.height, :v.width] if pixels.shape[0] >= v.height else np.resize(pixels, (v.height, v.width, 3))
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[k], Fraction(1, 1000)
            for packet in v.encode(frame):
                out.mux(packet)
        for packet in v.encode(None):
            out.mux(packet)
        if a is not None:
            n = a.codec_context.frame_size or 1024
            for i in range(0, audio.shape[1] - n + 1, n):
                frame = _frame(audio[:, i:i + n], a.format.name, "mono" if audio.shape[0] == 1 else "stereo")
                frame.sample_rate, frame.pts = rate, i
                for packet in a.encode(frame):
                    out.mux(packet)
            for packet in a.encode(None):
                out.mux(packet)


def small_face(size: int = 160) -> np.ndarray:
    """The demo portrait scaled to `size` px wide (nearest neighbour): a face mediapipe finds."""
    img = portrait()
    h = int(img.shape[0] * size / img.shape[1])
    ys = (np.arange(h) * img.shape[0] / h).astype(int)
    xs = (np.arange(size) * img.shape[1] / size).astype(int)
    return np.ascontiguousarray(img[ys][:, xs])


def good_files(folder: Path) -> dict[str, Path]:
    """Good recordings the damaged ones are made from (each a few seconds)."""
    folder.mkdir(parents=True, exist_ok=True)
    rate, secs = 16000, 3.0
    mono, stereo = voice(secs, rate), voice(secs, rate, 2)
    files = {}

    def put(name, make):
        p = folder / name
        make(p)
        files[name] = p

    put("good.wav", lambda p: write_wav(p, stereo, rate))
    put("good.flac", lambda p: encode_audio(p, mono, rate, codec="flac"))
    put("good.ogg", lambda p: encode_audio(p, voice(secs, 48000), 48000, codec="libopus", fmt="ogg"))
    put("good.m4a", lambda p: encode_audio(p, stereo, rate, codec="aac", fmt="ipod"))
    put("good.mp3", lambda p: encode_audio(p, voice(secs, 44100), 44100, codec="libmp3lame", fmt="mp3"))
    face = small_face()
    frames = [face] * 15
    put("good.mkv", lambda p: write_video(p, frames, fps=10.0, audio=voice(1.5, rate, 2), rate=rate))
    put("good.mp4", lambda p: encode_video(p, frames, fps=10.0, audio=voice(1.5, rate), fmt="mp4"))
    return files


def truncations(size: int) -> list[int]:
    cuts = {0, 1, 4, 12, 44, 100, 512, size // 10, size // 4, size // 2, (3 * size) // 4, (9 * size) // 10, size - 1}
    return sorted(c for c in cuts if 0 <= c < size)


def damaged_media(folder: Path, good: dict[str, Path]) -> list[Case]:
    """Truncated and bit-flipped copies of every good recording."""
    cases = []
    out = folder / "damaged"
    out.mkdir(exist_ok=True)
    for name, path in good.items():
        data = path.read_bytes()
        stem, ext = name.split(".")
        for cut in truncations(len(data)):
            p = out / f"{stem}-cut{cut}.{ext}"
            p.write_bytes(data[:cut])
            cases.append(_review("truncated " + ext, p))
        rng = np.random.default_rng(len(data))
        flips = [("head", 1, 64), ("head", 8, 256), ("any", 1, None), ("any", 16, None), ("any", 256, None)]
        for k in range(4):
            for where, count, span in flips:
                buf = bytearray(data)
                hi = min(span or len(buf), len(buf))
                for pos in rng.integers(0, hi, count):
                    buf[pos] ^= 1 << int(rng.integers(0, 8))
                p = out / f"{stem}-flip-{where}{count}-{k}.{ext}"
                p.write_bytes(bytes(buf))
                cases.append(_review("bit-flipped " + ext, p))
    return cases


def junk_files(folder: Path) -> list[Case]:
    """Random bytes, text, empty files and media headers with nothing behind them, under media names."""
    out = folder / "junk"
    out.mkdir(exist_ok=True)
    rng = np.random.default_rng(7)
    cases = []
    for ext in MEDIA_EXTS:
        for n in (1, 100, 5000, 200_000):
            p = out / f"random{n}{ext}"
            p.write_bytes(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
            cases.append(_review("random bytes", p))
        for i, text in enumerate(("hello this is text\n", "RIFF....WAVE fmt \n" * 20, "fLaC" + "x" * 100,
                                  "OggS" + "\0" * 50, "\0\0\0\x18ftypmp42" + "\0" * 80, "\x1aE\xdf\xa3" + "a" * 64)):
            p = out / f"text{i}{ext}"
            p.write_bytes(text.encode("latin-1"))
            cases.append(_review("text or bare header", p))
        p = out / f"empty{ext}"
        p.write_bytes(b"")
        cases.append(_review("zero-length", p))
    d = out / "a-folder.wav"
    d.mkdir(exist_ok=True)
    cases.append(_review("zero-length", d))
    return cases


def wav_header(*, fmt_tag=1, channels=1, rate=16000, bits=16, riff_size=None, data_size=None,
               block_align=None, frames=1600) -> bytes:
    """A RIFF/WAVE file whose header says what it is told to, with `frames` frames of 16-bit noise-ish data."""
    width = max(bits // 8, 1)
    data = (np.arange(frames * max(channels, 1) * width) % 251).astype(np.uint8).tobytes()
    align = block_align if block_align is not None else channels * width
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * align & 0xFFFFFFFF, align & 0xFFFF, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data) if data_size is None else data_size) + data
    return b"RIFF" + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


def absurd_headers(folder: Path) -> list[Case]:
    """WAV headers claiming absurd sizes, rates, channels and widths; a Matroska claiming 100 hours."""
    out = folder / "headers"
    out.mkdir(exist_ok=True)
    variants = {
        "riff-huge": dict(riff_size=0xFFFFFFFF), "data-huge": dict(data_size=0xFFFFFFF0),
        "data-zero": dict(data_size=0), "riff-zero": dict(riff_size=0), "rate-0": dict(rate=0),
        "rate-1": dict(rate=1), "rate-4g": dict(rate=0xFFFFFFFF), "rate-3m": dict(rate=3_000_000),
        "ch-0": dict(channels=0), "ch-65535": dict(channels=65535, frames=2), "ch-64": dict(channels=64, frames=50),
        "bits-0": dict(bits=0), "bits-7": dict(bits=7), "bits-12": dict(bits=12), "bits-64": dict(bits=64),
        "align-0": dict(block_align=0), "align-huge": dict(block_align=65535), "tag-0": dict(fmt_tag=0),
        "tag-float16": dict(fmt_tag=3, bits=16), "tag-ulaw": dict(fmt_tag=7, bits=8), "tag-alaw": dict(fmt_tag=6, bits=8),
        "tag-unknown": dict(fmt_tag=0x1234), "tag-extensible-bare": dict(fmt_tag=0xFFFE), "frames-0": dict(frames=0),
        "frames-1": dict(frames=1),
    }
    cases = []
    for name, kw in variants.items():
        p = out / f"{name}.wav"
        p.write_bytes(wav_header(**kw))
        cases.append(_review("absurd header", p))
    # A Matroska that says it lasts 100 hours but holds 3 s, and an MP4 whose duration field is absurd.
    good = voice(3.0, 16000)
    p = out / "long-claim.mkv"
    write_video(p, [small_face()] * 5, fps=10.0, audio=good, rate=16000)
    data = bytearray(p.read_bytes())
    i = data.find(b"\x44\x89")  # the Segment's Duration element (a float)
    if i > 0:
        size = data[i + 2] & 0x0F
        data[i + 3:i + 3 + size] = struct.pack(">d" if size == 8 else ">f", 360000000.0)
    p.write_bytes(bytes(data))
    cases.append(_review("absurd header", p))
    p = out / "mvhd-claim.m4a"
    encode_audio(p, good, 16000, codec="aac", fmt="ipod")
    data = bytearray(p.read_bytes())
    i = data.find(b"mvhd")
    if i > 0:
        data[i + 20:i + 24] = struct.pack(">I", 1)  # time scale 1: the stated duration becomes enormous
        data[i + 24:i + 28] = struct.pack(">I", 0xFFFFFFFF)
    p.write_bytes(bytes(data))
    cases.append(_review("absurd header", p))
    return cases


def odd_formats(folder: Path) -> list[Case]:
    """Valid audio at 8 to 96 kHz, 8/16/24/32-bit integer and float samples, 1 to 8 channels; odd video."""
    out = folder / "formats"
    out.mkdir(exist_ok=True)
    cases = []
    codecs = {"u8": ("pcm_u8", None), "s16": ("pcm_s16le", None), "s24": ("pcm_s24le", None),
              "s32": ("pcm_s32le", None), "f32": ("pcm_f32le", None), "f64": ("pcm_f64le", None)}
    rates = (8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000)
    for i, rate in enumerate(rates):
        for j, (label, (codec, _)) in enumerate(codecs.items()):
            ch = 1 + (i + j) % 8
            p = out / f"{rate}-{label}-{ch}ch.wav"
            encode_audio(p, voice(1.5, rate, ch), rate, codec=codec, fmt="wav")
            cases.append(_review("rate/width/channels", p))
    for ch in range(1, 9):
        p = out / f"flac-{ch}ch.flac"
        encode_audio(p, voice(1.5, 48000, ch), 48000, codec="flac")
        cases.append(_review("rate/width/channels", p))
        cases.append(_review("rate/width/channels", p, "--channels-are-speakers"))
    silent = np.zeros((1, 16000 * 2), np.float32)
    p = out / "silence.wav"
    write_wav(p, silent, 16000)
    cases.append(_review("rate/width/channels", p))
    p = out / "clipped.wav"
    write_wav(p, np.sign(voice(2.0, 16000)), 16000)
    cases.append(_review("rate/width/channels", p))
    p = out / "one-sample.wav"
    write_wav(p, silent[:, :1], 16000)
    cases.append(_review("rate/width/channels", p))
    cases += odd_video(out)
    return cases


def odd_video(out: Path) -> list[Case]:
    """Video with no audio, audio with no video, 1x1 and 4K frames, variable frame rate, a face
    that leaves and returns."""
    cases = []
    face = small_face()
    blank = np.full_like(face, 90)
    p = out / "video-no-audio.mkv"
    encode_video(p, [face] * 10)
    cases.append(_review("video without audio / audio without video", p))
    p = out / "audio-no-video.mkv"
    encode_audio(p, voice(2.0, 16000), 16000, codec="flac", fmt="matroska")
    cases.append(_review("video without audio / audio without video", p))
    p = out / "audio-no-video.mp4"
    encode_audio(p, voice(2.0, 16000), 16000, codec="aac", fmt="mp4")
    cases.append(_review("video without audio / audio without video", p))
    p = out / "tiny-1x1.mkv"
    encode_video(p, [np.zeros((2, 2, 3), np.uint8)] * 10, audio=voice(1.0, 16000))
    cases.append(_review("frame sizes", p))
    p = out / "uhd-4k.mkv"
    encode_video(p, [np.full((2160, 3840, 3), 120, np.uint8)] * 3, fps=5.0, audio=voice(0.6, 16000))
    cases.append(_review("frame sizes", p))
    p = out / "vfr.mkv"
    stamps = np.cumsum(np.random.default_rng(3).integers(20, 400, 12)).tolist()
    encode_video(p, [face] * 12, pts=stamps, audio=voice(stamps[-1] / 1000 + 0.2, 16000))
    cases.append(_review("variable frame rate", p))
    p = out / "face-leaves.mkv"
    encode_video(p, [face] * 6 + [blank] * 6 + [face] * 6, audio=voice(1.8, 16000))
    cases.append(_review("face leaves and returns", p))
    return cases


def annotations(folder: Path, audio: Path) -> list[Case]:
    """Corrupt and unsorted RTTM (review --rttm, metrics), WebVTT, SRT and TextGrid transcripts (--words)."""
    out = folder / "annotations"
    out.mkdir(exist_ok=True)
    line = "SPEAKER f 1 {} {} <NA> <NA> {} <NA> <NA>"
    rttms = {
        "unsorted": "\n".join(line.format(s, 0.5, k) for s, k in ((2.0, "b"), (0.1, "a"), (1.0, "b"), (0.5, "a"))),
        "overlapping-self": "\n".join(line.format(s, 1.5, "a") for s in (0.0, 0.5, 1.0)),
        "negative": line.format(-1, 1, "a"), "nan": line.format("nan", 1, "a"), "inf": line.format(0, "inf", "a"),
        "words": line.format("zero", "one", "a"), "short": "SPEAKER f 1 0.5", "empty": "",
        "binary": "\x00\x01\x02SPEAKER", "zero-dur": line.format(0.5, 0, "a"), "huge": line.format(1e12, 5, "a"),
        "past-end": line.format(100.0, 5, "a"), "two-files": line.format(0, 1, "a") + "\nSPEAKER g 1 0 1 <NA> <NA> b <NA> <NA>",
        "comments": "# nothing\n;; still nothing", "other-types": "SPKR-INFO f 1 <NA> <NA> <NA> unknown a <NA> <NA>",
        "many-speakers": "\n".join(line.format(i * 0.1, 0.1, f"s{i}") for i in range(25)),
        "tabs-crlf": "\r\n".join(line.format(s, 0.4, "a").replace(" ", "\t") for s in (0.0, 1.0)),
    }
    cases = []
    for name, text in rttms.items():
        p = out / f"{name}.rttm"
        p.write_text(text)
        cases.append(_review("corrupt or unsorted RTTM", audio, "--rttm", str(p)))
        cases.append(Case("corrupt or unsorted RTTM", f"metrics {name}", ("metrics", str(p), "--quiet")))
    p = out / "latin1.rttm"
    p.write_bytes(line.format(0, 1, "Jos\xe9").encode("latin-1"))
    cases.append(_review("corrupt or unsorted RTTM", audio, "--rttm", str(p)))
    vtts = {
        "ok": "WEBVTT\n\n00:00.000 --> 00:01.000\n<v a>hello there how are you\n\n00:01.200 --> 00:02.000\n<v b>fine\n",
        "no-header": "00:00.000 --> 00:01.000\nhello\n", "reversed": "WEBVTT\n\n00:02.000 --> 00:01.000\nhello\n",
        "bad-time": "WEBVTT\n\n00:xx.000 --> 00:01.000\nhello\n", "unsorted": "WEBVTT\n\n00:02.000 --> 00:03.000\nb\n\n"
        "00:00.000 --> 00:01.000\na\n", "empty": "WEBVTT\n", "only-arrows": "WEBVTT\n\n-->\n", "huge-time":
        "WEBVTT\n\n99999:00:00.000 --> 99999:00:01.000\nhello\n", "nan": "WEBVTT\n\nnan --> inf\nhello\n",
    }
    for name, text in vtts.items():
        p = out / f"{name}.vtt"
        p.write_text(text)
        cases.append(_review("WebVTT / SRT / TextGrid", audio, "--words", str(p)))
    srt = out / "bad.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:xx,000\nhello\n")
    cases.append(_review("WebVTT / SRT / TextGrid", audio, "--words", str(srt)))
    tg_head = 'File type = "ooTextFile"\nObject class = "TextGrid"\n'
    tgs = {
        "ok": tg_head + 'xmin = 0\nxmax = 2\ntiers? <exists>\nsize = 1\nitem []:\n item [1]:\n  class = "IntervalTier"\n'
              '  name = "a"\n  xmin = 0\n  xmax = 2\n  intervals: size = 1\n  intervals [1]:\n   xmin = 0\n'
              '   xmax = 1\n   text = "hello"\n',
        "truncated": tg_head + 'xmin = 0\nxmax = 2\ntiers? <exists>\nsize = 3\nitem []:\n item [1]:\n  class = "Inter',
        "wrong-class": 'File type = "ooTextFile"\nObject class = "Sound"\n', "empty": "",
        "bad-number": tg_head + "xmin = zero\nxmax = 2\n", "nan": tg_head + 'xmin = nan\nxmax = inf\ntiers? <exists>\nsize = 0\n',
        "unterminated": tg_head + 'xmin = 0\nxmax = 2\ntiers? <exists>\nsize = 1\nitem []:\n item [1]:\n class = "IntervalTier\n',
        "size-huge": tg_head + 'xmin = 0\nxmax = 2\ntiers? <exists>\nsize = 999999999\nitem []:\n',
    }
    for name, text in tgs.items():
        p = out / f"{name}.TextGrid"
        p.write_text(text)
        cases.append(_review("WebVTT / SRT / TextGrid", audio, "--words", str(p)))
    for name, raw in (("utf16", "WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n".encode("utf-16")), ("latin1", b"WEBVTT\n\n\xe9\xff")):
        p = out / f"{name}.vtt"
        p.write_bytes(raw)
        cases.append(_review("WebVTT / SRT / TextGrid", audio, "--words", str(p)))
    for name, text in (("list", "[1, 2]"), ("broken", "{"), ("wrong", '{"utterances": [{"start": "a"}]}'),
                       ("types", '[{"start": 0, "end": 1, "speaker": 5, "text": null}]')):
        p = out / f"{name}.json"
        p.write_text(text)
        cases.append(_review("WebVTT / SRT / TextGrid", audio, "--words", str(p)))
    return cases


def settings(folder: Path, audio: Path) -> list[Case]:
    """Config, scenario and profile files with wrong types or damaged."""
    out = folder / "settings"
    out.mkdir(exist_ok=True)
    configs = {
        "wrong-type": "[vad]\nframe_ms = \"thirty\"\n", "unknown-key": "[vad]\nframe_msec = 30\n",
        "unknown-section": "[nothing]\na = 1\n", "not-a-table": "vad = 3\n", "broken": "[vad\n",
        "negative": "[turns]\nbridge_pause_s = -1\n", "nan": "[turns]\nbridge_pause_s = nan\n",
        "list": "[vad]\nframe_ms = [30]\n", "bool": "[vad]\nframe_ms = true\n", "huge": "[vad]\nframe_ms = 1e300\n",
        "empty": "", "binary": "\x00\x01\x02", "zero": "[vad]\nframe_ms = 0\n", "string-table": "[summary]\nx = {a = 1}\n",
    }
    cases = []
    for name, text in configs.items():
        p = out / f"{name}.toml"
        p.write_text(text)
        cases.append(_review("config / scenario / profile", audio, before=("--config", str(p))))
    p = out / "latin1.toml"
    p.write_bytes(b"[vad]\n# \xe9\xff\n")
    cases.append(_review("config / scenario / profile", audio, before=("--config", str(p))))
    scenarios = {
        "empty": "", "no-lines": 'title = "t"\nintro = "i"\n', "lines-string": 'title = "t"\nintro = "i"\nlines = "x"\n',
        "text-number": 'title = "t"\nintro = "i"\n[[lines]]\ntext = 5\n', "answer-bad": 'title = "t"\nintro = "i"\n'
        '[[lines]]\ntext = "hi"\nanswer_s = "long"\n', "answer-reversed": 'title = "t"\nintro = "i"\n[[lines]]\ntext = "hi"\n'
        'answer_s = [9.0, 1.0]\n', "broken": "[[lines]\n", "binary": "\xff\xfe", "title-list": 'title = [1]\nintro = "i"\n',
        "tips-number": 'title = "t"\nintro = "i"\ntips = 3\n[[lines]]\ntext = "hi"\n',
    }
    for name, text in scenarios.items():
        p = out / f"{name}.toml"
        p.write_text(text, encoding="latin-1")
        cases.append(Case("config / scenario / profile", f"scenario {name}",
                          ("rehearse", "--script", str(p), "--mic", str(out / "missing.wav"), "--camera", "none",
                           "--no-window", "--duration", "0.5")))
    profiles = {"empty": "", "list": "[]", "broken": "{", "wrong": '{"eye": "x"}', "nan": '{"frames": NaN}', "null": "null"}
    for name, text in profiles.items():
        p = out / f"profile-{name}.json"
        p.write_text(text)
        cases.append(_review("config / scenario / profile", audio, "--profile", str(p)))
    return cases


def odd_paths(folder: Path, good: Path) -> list[Case]:
    """Non-UTF-8 names, very long names and paths, names with spaces, newlines and dashes."""
    out = folder / "paths"
    out.mkdir(exist_ok=True)
    data = good.read_bytes()
    cases = []
    names = [b"caf\xe9.wav", b"\xff\xfe.wav", "名前 with spaces.wav".encode(), b"new\nline.wav", b"-starts-with-dash.wav",
             b"a" * 250 + b".wav"]
    for raw in names:
        p = os.path.join(os.fsencode(out), raw)
        with open(p, "wb") as f:
            f.write(data)
        cases.append(_review("odd paths", Path(os.fsdecode(p))))
    long_name = out / ("b" * 300 + ".wav")  # longer than a file name may be
    cases.append(_review("odd paths", long_name))
    deep = out / "/".join(["d" * 200] * 25) / "x.wav"  # longer than a path may be
    cases.append(_review("odd paths", deep))
    unreadable = out / "unreadable.wav"
    unreadable.write_bytes(data)
    unreadable.chmod(0)
    cases.append(_review("odd paths", unreadable))
    target = out / "out.json"
    cases.append(Case("odd paths", "json into a missing folder",
                      ("review", str(good), *QUIET, "--json", str(out / "no" / "such" / "dir.json")),
                      outputs=(str(out / "no" / "such" / "dir.json"),)))
    cases.append(Case("odd paths", "json to a folder", ("review", str(good), *QUIET, "--json", str(out)), ()))
    cases.append(Case("odd paths", "json with a non-UTF-8 name",
                      ("review", str(good), *QUIET, "--json", os.fsdecode(os.fsencode(str(target))[:-5] + b"\xe9.json"))))
    return cases


_SERIAL = itertools.count()


def _review(kind: str, path: Path, *extra: str, before: tuple[str, ...] = ()) -> Case:
    out = f"{os.fspath(path)}.{next(_SERIAL)}"
    json_out, rttm_out = out + ".json", out + ".rttm"
    if len(os.fsencode(json_out).split(b"/")[-1]) > 250:
        json_out = rttm_out = None
    outputs = () if json_out is None else ("--json", json_out, "--rttm-out", rttm_out)
    argv = (*before, "review", os.fspath(path), *QUIET, *extra, *outputs)
    return Case(kind, f"{Path(path).name[:60]} {' '.join(extra)}".strip(), argv,
                outputs=() if json_out is None else (json_out, rttm_out))


def make_corpus(folder: Path) -> list[Case]:
    """Every case, its files written under `folder`."""
    good = good_files(folder / "good")
    cases = damaged_media(folder, good)
    cases += junk_files(folder)
    cases += absurd_headers(folder)
    cases += odd_formats(folder)
    mono = folder / "good" / "mono.wav"
    write_wav(mono, voice(3.0, 16000), 16000)
    cases += annotations(folder, mono)
    cases += settings(folder, mono)
    cases += odd_paths(folder, mono)
    cases += [_review("good", p) for p in good.values()]
    return cases


def describe(cases: list[Case]) -> str:
    """The tally by class, one line each (for the test's output and the closing note)."""
    counts: dict[str, int] = {}
    for c in cases:
        counts[c.kind] = counts.get(c.kind, 0) + 1
    return json.dumps(counts, indent=1)
