"""Derive the [vad] defaults of defaults.toml from labelled recordings, and print the evidence.

Score: voice-activity frame F1 at 10 ms over each file's scored region (the .uem; all of
sample.wav), speech = the union of all speakers' RTTM segments. Tuned on sample.wav + AMI
trn01..trn09 (mean F1), with dev00/dev01 held out. A candidate must also pass two kinds of check:
- robustness: F1 >= CHECK_MIN on sample.wav under added noise (white 10/20 dB SNR, pink 20 dB)
  and with one speaker 15 dB quieter, so nothing is tuned to the clean close-talk mics of AMI;
- timing: on the synthetic practice conversation (exact truth, one shared mic and one mic per
  person with 15 dB cross-talk) every detected boundary lies within one frame of the truth, so
  nothing buys F1 by moving speech edges into silence (that shortens every gap between people).

Search, from the current defaults: the webrtcvad front end (frame, mode, high-pass), the
audibility test (mode, margins) and the sounding-pause fill, each on its small grid by plain
train mean; then gate, smoothing and extension jointly on a grid, each point scored by the train
mean averaged over its grid neighbours (a plateau beats a knife edge); repeated until stable.
min_snr_db, floor_rise_db_per_s and level_tau_s are set by physics and only swept for show.

usage:  .venv/bin/python calibration/tune_vad.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from attunement.config import VadConfig, default_config
from attunement.errors import ConfigError
from attunement.conversation.rttm import read_rttm
from attunement.conversation.speakers import ChannelsAreSpeakers, SingleTrack
from attunement.conversation.turns import analyze_turns
from attunement.perception.vad import FrameAnalyzer, detect_speech
from attunement.perception.vad_kernels import (audible_frames, level_gate, segments_to_frames, smooth_frames,
                                               smooth_speech, speech_segments)
from attunement.records import Segment, VoiceActivity
from attunement.sources.media import read_audio
from attunement.sources.wav import write_wav
from attunement.demo.conversation import practice_conversation

GRID = {
    "frame_ms": (10, 20, 30),
    "aggressiveness": (0, 1, 2, 3),
    "highpass_hz": (200.0, 300.0, 400.0, 500.0, 700.0, 1000.0),
    "min_snr_db": (0.0, 3.0, 6.0, 9.0),
    "range_db": (6.0, 9.0, 12.0, 15.0, 18.0, 24.0),
    "floor_rise_db_per_s": (0.3, 1.0, 3.0),
    "level_tau_s": (1.0, 3.0, 10.0, 30.0),
    "min_speech_s": (0.0, 0.03, 0.06, 0.09, 0.12, 0.18, 0.24, 0.3),
    "min_pause_s": (0.0, 0.09, 0.15, 0.21, 0.24, 0.27, 0.3),
    "audible_mode": (0, 1, 2, 3),
    "audible_db": (3.0, 4.5, 6.0, 9.0, 12.0, 15.0),
    "voiced_audible_db": (0.0, 1.0, 2.0, 3.0, 4.5, 6.0),
    "extend_before_s": (0.0, 0.06, 0.12, 0.18, 0.24, 0.3),
    "extend_after_s": (0.0, 0.12, 0.24, 0.36, 0.45, 0.6, 0.75),
    "sounding_pause_s": (0.0, 0.6, 0.9, 1.2, 1.5, 2.1),
    "sounding_share": (0.5, 0.6, 0.7, 0.8, 0.9),
}
MIN_GAIN = 0.002   # train-mean F1 a new front end must win by
CHECK_MIN = 0.95   # F1 every robustness check must keep (the bar of tests/test_vad_realdata.py)
GRID_S = 0.01      # scoring resolution
AMI_TRAIN = [f"trn0{i}" for i in range(1, 10)]
AMI_DEV = ["dev00", "dev01"]
FORMER_PADS = (0.18, 0.45)  # the fixed onset pad and hangover (s) this tuner chose before the extension

FRONT = ("frame_ms", "aggressiveness", "highpass_hz")                    # what webrtcvad sees
AUDIBLE = ("audible_mode", "audible_db", "voiced_audible_db")            # what counts as sound
SOUNDING = ("sounding_pause_s", "sounding_share")                        # which pauses are not silent
BACK = ("range_db", "min_speech_s", "min_pause_s", "extend_before_s", "extend_after_s")  # gate and smoothing
FIXED = ("min_snr_db", "floor_rise_db_per_s", "level_tau_s")  # set by physics; swept only for show


# ---------------------------------------------------------------- recordings and their truth

@dataclass(frozen=True)
class Recording:
    """Mono audio with its truth: speech bool [frames at GRID_S] and the scored frames."""

    name: str
    group: str  # "train", "dev" or "check"
    samples: np.ndarray
    rate: int
    truth: np.ndarray
    scored: np.ndarray


def load(data: Path) -> list[Recording]:
    conv = data / "conversations"
    recs = [_recording("sample", "train", conv / "sample.wav", conv / "sample.rttm", None)]
    for names, split, group in ((AMI_TRAIN, "train", "train"), (AMI_DEV, "development", "dev")):
        for name in names:
            recs.append(_recording(name, group, conv / "ami" / f"{name}.wav",
                                   conv / "ami" / f"debug.{split}.rttm", conv / "ami" / f"debug.{split}.uem"))
    return recs + robustness_checks(recs[0], conv / "sample.rttm")


def _recording(name, group, wav, rttm, uem) -> Recording:
    x, rate = sf.read(wav, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    frames = int(len(x) / rate / GRID_S)
    segs = read_rttm(rttm, file_id=name)
    truth = segments_to_frames(np.array([s.start for s in segs]), np.array([s.end for s in segs]),
                               frames=frames, hop_s=GRID_S)
    start, end = 0.0, len(x) / rate
    if uem is not None:
        for line in uem.read_text().splitlines():
            f = line.split()
            if f and f[0] == name:
                start, end = float(f[2]), float(f[3])
    scored = segments_to_frames(np.array([start]), np.array([end]), frames=frames, hop_s=GRID_S)
    return Recording(name, group, x, rate, truth, scored)


def robustness_checks(sample: Recording, rttm: Path) -> list[Recording]:
    """sample.wav with seeded noise at a given SNR (over its speech frames), and with speaker91 15 dB down."""
    rng = np.random.default_rng(0)
    x, rate = sample.samples.astype(np.float64), sample.rate
    speech_power = np.mean(x[np.repeat(sample.truth, int(GRID_S * rate))[:len(x)]] ** 2)
    white = rng.standard_normal(len(x))
    spectrum = np.fft.rfft(rng.standard_normal(len(x)))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))  # 1/f power
    spectrum[0] = 0.0
    pink = np.fft.irfft(spectrum, len(x))
    out = []
    for label, noise, snr_db in (("white20", white, 20), ("pink20", pink, 20), ("white10", white, 10)):
        noisy = x + noise / noise.std() * np.sqrt(speech_power / 10 ** (snr_db / 10))
        out.append(dataclasses.replace(sample, name=f"sample+{label}dB", group="check",
                                       samples=noisy.astype(np.float32)))
    gain = np.ones(len(x))
    t = np.arange(len(x)) / rate
    segs = read_rttm(rttm, file_id="sample")
    for s in segs:
        if s.speaker == "speaker91":
            gain[(t >= s.start) & (t < s.end)] = 10 ** (-15 / 20)
    for s in segs:
        if s.speaker != "speaker91":
            gain[(t >= s.start) & (t < s.end)] = 1.0
    gain = np.convolve(gain, np.ones(rate // 100) / (rate // 100), mode="same")  # 10 ms ramps
    out.append(dataclasses.replace(sample, name="sample,spk91-15dB", group="check",
                                   samples=(x * gain).astype(np.float32)))
    return out


@dataclass(frozen=True)
class TimingCase:
    """The synthetic practice conversation as the review reads it (16-bit WAV), with its exact turns."""

    name: str
    samples: np.ndarray  # float32 [channels, n]
    rate: int
    speakers: tuple[str, ...]
    want: tuple[Segment, ...]  # the true segments after turn bridging, as the review reports them

    @property
    def channels(self) -> int:
        return self.samples.shape[0]


def timing_cases(tmp: Path) -> list[TimingCase]:
    """practice_conversation(seed) on one shared mic (seeds 0-2) and on one mic per person with
    15 dB cross-talk (seed 0, as tests/test_review.py; with other voices the speaker stage's
    cross-talk margin, not the VAD, moves an onset inside the other's speech by a frame)."""
    out = []
    for seed, channels in ((0, 1), (1, 1), (2, 1), (0, 2)):
        convo = practice_conversation(seed=seed, channels=channels, leak_db=15.0)
        write_wav(tmp / "practice.wav", convo.audio, convo.rate)
        audio, _ = read_audio(tmp / "practice.wav", rate=convo.rate)
        ids = convo.speakers if channels > 1 else ("speaker",)
        truth = convo.segments if channels > 1 else [Segment(s.start, s.end, "speaker") for s in convo.segments]
        want = analyze_turns(truth, config=DEFAULTS.turns, speakers=ids).segments
        out.append(TimingCase(f"practice{seed}/{channels}ch", audio, convo.rate, ids, tuple(sorted(want))))
    return out


def channel_features(x: np.ndarray, rate: int, frame_ms: int, highpass_hz: float, aggressiveness: int,
                     audible_mode: int):
    """(level_db, band_db, voiced, raw_voiced) of mono x, fed in 2 s blocks as the detector would see them."""
    analyzer = FrameAnalyzer(rate=rate, frame_ms=frame_ms, highpass_hz=highpass_hz, aggressiveness=aggressiveness,
                             audible_mode=audible_mode)
    parts = [analyzer.feed(x[i:i + 2 * rate]) for i in range(0, len(x), 2 * rate)]
    return tuple(np.concatenate([p[j] for p in parts]) for j in range(4))


def timing_error(case: TimingCase, speech: np.ndarray, level_db: np.ndarray, cfg: VadConfig) -> float:
    """Worst |boundary error| (s) of the review's segments (speakers, then turn bridging, as
    review_file does) against the truth; inf when the segment count differs.
    speech bool, level_db float32 [channels, frames]."""
    act = VoiceActivity(speech=speech, level_db=level_db, hop_s=cfg.frame_ms / 1000)
    who = ChannelsAreSpeakers(case.speakers, channels=DEFAULTS.channels, vad=cfg) \
        if case.channels > 1 else SingleTrack(case.speakers[0])
    found = analyze_turns(who.finish(act, case.samples.shape[1] / case.rate), config=DEFAULTS.turns,
                          speakers=case.speakers).segments
    if len(found) != len(case.want):
        return float("inf")
    return max((max(abs(f.start - w.start), abs(f.end - w.end)) for f, w in zip(sorted(found), case.want)),
               default=0.0)


def f1(rec: Recording, speech: np.ndarray, frame_ms: int) -> float:
    """Frame F1 of per-frame `speech` (frame_ms frames) against the truth, at GRID_S over the scored region."""
    pred = np.repeat(speech, frame_ms // 10)[:len(rec.truth)]
    pred = np.pad(pred, (0, len(rec.truth) - len(pred)))
    p, t = pred[rec.scored], rec.truth[rec.scored]
    tp, fp, fn = np.sum(p & t), np.sum(p & ~t), np.sum(~p & t)
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def boundary_errors(rec: Recording, speech: np.ndarray, frame_ms: int, within_s: float = 0.5):
    """(onset errors, offset errors) in s: each detected stretch's start (end) minus the nearest
    reference start (end) of the union of speakers, where one lies within `within_s`."""
    ref_on, ref_off = speech_segments(rec.truth, hop_s=GRID_S)
    on, off = speech_segments(speech, hop_s=frame_ms / 1000)
    errors = []
    for got, ref in ((on, ref_on), (off, ref_off)):
        d = got[:, None] - ref[None, :] if ref.size else np.full((got.size, 1), np.inf)
        nearest = d[np.arange(got.size), np.argmin(np.abs(d), axis=1)] if got.size else d[:, 0]
        errors.append([float(e) for e in nearest if abs(e) <= within_s])
    return errors[0], errors[1]


# ---------------------------------------------------------------- search

RECORDINGS: list[Recording] = []
TIMING: list[TimingCase] = []
DEFAULTS = default_config()  # the other sections (turn rules, cross-talk margin) the timing check runs with



@functools.lru_cache(maxsize=None)
def features(key: tuple, frame_ms: int, highpass_hz: float, aggressiveness: int, audible_mode: int):
    """(level_db, band_db, voiced, raw_voiced) of one recording (key = ("rec", i) or ("timing", i, ch))."""
    x, rate = (RECORDINGS[key[1]].samples, RECORDINGS[key[1]].rate) if key[0] == "rec" else \
        (TIMING[key[1]].samples[key[2]], TIMING[key[1]].rate)
    return channel_features(x, rate, frame_ms, highpass_hz, aggressiveness, audible_mode)


def activity(key: tuple, cfg: VadConfig, *, fill_pauses: bool = True, gated: np.ndarray | None = None,
             audible: np.ndarray | None = None) -> np.ndarray:
    """The detector's speech bool [frames] for one channel under `cfg` (gate and audibility may be given)."""
    gated = _gated(key, cfg, cfg.range_db) if gated is None else gated
    audible = _audible(key, cfg) if audible is None else audible
    raw_voiced = features(key, cfg.frame_ms, cfg.highpass_hz, cfg.aggressiveness, cfg.audible_mode)[3]
    return smooth_speech(gated, audible, audible | raw_voiced, hop_s=cfg.frame_ms / 1000, config=cfg,
                         fill_pauses=fill_pauses)


def timing(cfg: VadConfig, speech_of=None) -> float:
    """Worst boundary error (s) over the timing cases; inf when a segment is missed or split.
    speech_of(key, fill_pauses) gives one channel's speech (default: activity under cfg)."""
    speech_of = speech_of or (lambda key, fill: activity(key, cfg, fill_pauses=fill))
    worst = 0.0
    for i, case in enumerate(TIMING):
        keys = [("timing", i, ch) for ch in range(case.channels)]
        level = np.stack([features(k, cfg.frame_ms, cfg.highpass_hz, cfg.aggressiveness, cfg.audible_mode)[0]
                          for k in keys])
        speech = np.stack([speech_of(k, case.channels == 1) for k in keys])
        worst = max(worst, timing_error(case, speech, level, cfg))
    return worst


def summary(cfg: VadConfig) -> dict[str, float]:
    scores = {r.name: f1(r, activity(("rec", i), cfg), cfg.frame_ms) for i, r in enumerate(RECORDINGS)}
    return _summarise(scores) | {"timing": timing(cfg)}


def _summarise(scores: dict[str, float]) -> dict[str, float]:
    by = {g: [scores[r.name] for r in RECORDINGS if r.group == g] for g in ("train", "dev", "check")}
    ami = [scores[r.name] for r in RECORDINGS if r.name.startswith(("trn", "dev"))]
    return {"train": float(np.mean(by["train"])), "dev": float(np.mean(by["dev"])),
            "check_min": float(np.min(by["check"])), "ami": float(np.mean(ami)), **scores}


def ok(s: dict[str, float], cfg: VadConfig) -> bool:
    """Passes the robustness checks and keeps every synthetic boundary within one frame."""
    return s["check_min"] >= CHECK_MIN and s["timing"] <= cfg.frame_ms / 1000 + 1e-9


def search(cfg: VadConfig, rounds: int = 3) -> VadConfig:
    """Alternate: the best front end, audibility test and sounding-pause fill (each by plain train
    mean) for the current back end, then the back end jointly over its grid (see back_end).
    Stops when nothing changes."""
    for _ in range(rounds):
        before = cfg
        for keys in (FRONT, AUDIBLE, SOUNDING):
            cands = [c for values in itertools.product(*(GRID[k] for k in keys))
                     if (c := _valid(cfg, **dict(zip(keys, values)))) is not None]
            scored = [(s["train"], c) for s, c in ((summary(c), c) for c in cands) if ok(s, c)]
            if scored:
                best_train, best = max(scored, key=lambda z: z[0])
                current = summary(cfg)
                if best_train > current["train"] + MIN_GAIN or not ok(current, cfg):
                    cfg = best
        cfg = back_end(cfg)
        if cfg == before:
            break
    return cfg


def back_end(cfg: VadConfig) -> VadConfig:
    """Joint grid over BACK. Each point is scored by the train mean averaged over the box of its
    grid neighbours (+-1 step on every axis): a value is only as good as those around it, so a
    lucky knife edge (one frame more or less of a breath noise in a file with 0.7 s of speech)
    loses to a plateau. Points failing a check are not chosen."""
    axes = [GRID[k] for k in BACK]
    shape = tuple(len(a) for a in axes)
    train, passed = np.zeros(shape), np.zeros(shape, dtype=bool)
    groups = np.array([r.group for r in RECORDINGS])
    keys = [("rec", j) for j in range(len(RECORDINGS))]
    tkeys = [("timing", i, ch) for i, case in enumerate(TIMING) for ch in range(case.channels)]
    audible = {k: _audible(k, cfg) for k in keys + tkeys}
    for i, range_db in enumerate(axes[0]):
        gated = {k: _gated(k, cfg, range_db) for k in audible}
        for idx in np.ndindex(shape[1:]):
            c = dataclasses.replace(cfg, range_db=range_db,
                                    **{k: axes[n + 1][m] for n, (k, m) in enumerate(zip(BACK[1:], idx))})
            f = np.array([f1(RECORDINGS[j], activity(k, c, gated=gated[k], audible=audible[k]), c.frame_ms)
                          for j, k in enumerate(keys)])
            t = timing(c, lambda key, fill: activity(key, c, fill_pauses=fill, gated=gated[key], audible=audible[key]))
            train[(i, *idx)] = f[groups == "train"].mean()
            passed[(i, *idx)] = f[groups == "check"].min() >= CHECK_MIN and t <= c.frame_ms / 1000 + 1e-9
    if not passed.any():
        print(f"back end: no grid point passes the checks around {cfg}; kept", file=sys.stderr)
        return cfg
    robust = _box_mean(train)
    robust[~passed] = -np.inf
    best = np.unravel_index(np.argmax(robust), shape)
    return dataclasses.replace(cfg, **{k: axes[n][m] for n, (k, m) in enumerate(zip(BACK, best))})


def _gated(key: tuple, cfg: VadConfig, range_db: float) -> np.ndarray:
    level_db, band_db, voiced, raw_voiced = features(key, cfg.frame_ms, cfg.highpass_hz, cfg.aggressiveness,
                                                     cfg.audible_mode)
    return level_gate(band_db, voiced, np.full(2, np.nan), hop_s=cfg.frame_ms / 1000, min_snr_db=cfg.min_snr_db,
                      range_db=range_db, floor_rise_db_per_s=cfg.floor_rise_db_per_s, level_tau_s=cfg.level_tau_s)


def _audible(key: tuple, cfg: VadConfig) -> np.ndarray:
    level_db, band_db, voiced, raw_voiced = features(key, cfg.frame_ms, cfg.highpass_hz, cfg.aggressiveness,
                                                     cfg.audible_mode)
    return audible_frames(level_db, raw_voiced, np.full(1, np.nan), hop_s=cfg.frame_ms / 1000,
                          floor_rise_db_per_s=cfg.floor_rise_db_per_s, audible_db=cfg.audible_db,
                          voiced_audible_db=cfg.voiced_audible_db)


def _box_mean(a: np.ndarray) -> np.ndarray:
    """Mean of each cell and its neighbours within one step on every axis (at edges, those that exist)."""
    total, count = np.zeros_like(a), np.zeros_like(a)
    for shift in itertools.product((-1, 0, 1), repeat=a.ndim):
        dst = tuple(slice(max(0, -d), n - max(0, d)) for d, n in zip(shift, a.shape))
        src = tuple(slice(max(0, d), n - max(0, -d)) for d, n in zip(shift, a.shape))
        total[dst] += a[src]
        count[dst] += 1
    return total / count


def former_pads(cfg: VadConfig, i: int) -> np.ndarray:
    """The former detector on recording i: gate, fill, drop, then the fixed pads FORMER_PADS."""
    hop_s = cfg.frame_ms / 1000
    frames = [round(s / hop_s) for s in (cfg.min_pause_s, cfg.min_speech_s, *FORMER_PADS)]
    return smooth_frames(_gated(("rec", i), cfg, cfg.range_db), fill_frames=frames[0], min_frames=frames[1],
                         pad_frames=frames[2], hang_frames=frames[3])


def sweeps(cfg: VadConfig) -> dict[str, list[tuple]]:
    """One-at-a-time sweeps around `cfg`, for the printed evidence."""
    return {key: [(v, summary(c)) for v in values if (c := _valid(cfg, **{key: v})) is not None]
            for key, values in GRID.items()}


def _valid(cfg: VadConfig, **values) -> VadConfig | None:
    """cfg with `values`, or None when VadConfig refuses them (voiced_audible_db above audible_db)."""
    try:
        return dataclasses.replace(cfg, **values)
    except ConfigError:
        return None


def plain_webrtcvad(mode: int, frame_ms: int = 30) -> dict[str, float]:
    """F1 of webrtcvad alone (raw audio, no filter, gate or smoothing)."""
    import webrtcvad

    out = {}
    for rec in RECORDINGS:
        vad, n = webrtcvad.Vad(mode), rec.rate * frame_ms // 1000
        pcm = np.clip(rec.samples * 32768.0, -32768, 32767).astype("<i2").tobytes()
        flags = np.array([vad.is_speech(pcm[i:i + 2 * n], rec.rate) for i in range(0, len(pcm) - 2 * n + 1, 2 * n)])
        out[rec.name] = f1(rec, flags, frame_ms)
    return out


def speed(cfg: VadConfig) -> tuple[float, float]:
    """(µs per frame, times real time) of detect_speech on all recordings back to back, one core."""
    x = np.concatenate([r.samples for r in RECORDINGS if r.group != "check"])
    detect_speech(x[:16000], 16000, config=cfg)  # compile / load the kernels first
    t = time.perf_counter()
    va = detect_speech(x, 16000, config=cfg)
    dt = time.perf_counter() - t
    return dt / va.frames * 1e6, len(x) / 16000 / dt


def print_boundaries(cfg: VadConfig) -> None:
    """Mean signed onset/offset error (s) of detected stretches against the nearest reference
    boundary within 0.5 s, for the former fixed pads and the tuned extension."""
    print("\nBoundaries: mean signed error (s) of detected onsets / offsets against the nearest reference")
    print("boundary (union of speakers) within 0.5 s; negative = earlier than the reference")
    print(f"  {'files':14} {'fixed pads ' + '/'.join(map(str, FORMER_PADS)):>26}   {'audible extension':>24}")
    for label, names in (("sample.wav", ["sample"]), ("AMI (11)", None)):
        idx = [i for i, r in enumerate(RECORDINGS) if (r.name in names if names else r.name.startswith(("trn", "dev")))]
        row = []
        for speech_of in (lambda i: former_pads(cfg, i), lambda i: activity(("rec", i), cfg)):
            on, off = [], []
            for i in idx:
                a, b = boundary_errors(RECORDINGS[i], speech_of(i), cfg.frame_ms)
                on += a
                off += b
            row.append(f"{np.mean(on):+.3f} / {np.mean(off):+.3f} (n={len(on)}/{len(off)})")
        print(f"  {label:14} {row[0]:>26}   {row[1]:>24}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("ATTUNE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--data", type=Path, default=Path(default), help="folder holding conversations/")
    args = ap.parse_args(argv)
    if not (args.data / "conversations").is_dir():
        print(f"no recordings under {args.data}; pass --data or set ATTUNE_DATA", file=sys.stderr)
        return 2
    RECORDINGS[:] = load(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        TIMING[:] = timing_cases(Path(tmp))
    start = default_config().vad
    cfg = search(start)

    print("One-at-a-time sweeps around the tuned values; * = chosen, x = fails a check "
          f"(robustness F1 < {CHECK_MIN} or a synthetic boundary off by more than a frame)")
    for key, rows in sweeps(cfg).items():
        print(f"\n  {key}" + ("  (fixed by physics)" if key in FIXED else ""))
        print("    value     train   dev     AMI(11) check_min  timing_s")
        for v, s in rows:
            c = dataclasses.replace(cfg, **{key: v})
            mark = "*" if v == getattr(cfg, key) else ("x" if not ok(s, c) else " ")
            print(f"  {mark} {v!s:8} {s['train']:.3f}   {s['dev']:.3f}   {s['ami']:.3f}   {s['check_min']:.3f}"
                  f"      {s['timing']:.3f}")

    tuned, first = summary(cfg), summary(start)
    pads = _summarise({r.name: f1(r, former_pads(cfg, i), cfg.frame_ms) for i, r in enumerate(RECORDINGS)})
    plain = {m: plain_webrtcvad(m, cfg.frame_ms) for m in range(4)}
    print(f"\nPer file: frame F1 at 10 ms (plain = webrtcvad alone on raw audio, {cfg.frame_ms} ms frames;"
          f" pads = fixed pads {FORMER_PADS} s instead of the extension)")
    print("  file                 group  plain0 plain1 plain2 plain3  pads   start  tuned")
    for r in RECORDINGS:
        print(f"  {r.name:20} {r.group:6} " + " ".join(f"{plain[m][r.name]:.3f} " for m in range(4))
              + f" {pads[r.name]:.3f}  {first[r.name]:.3f}  {tuned[r.name]:.3f}")
    ami = [r.name for r in RECORDINGS if r.name.startswith(("trn", "dev"))]
    print("  mean AMI (11)               " + " ".join(f"{np.mean([plain[m][n] for n in ami]):.3f} " for m in range(4))
          + f" {pads['ami']:.3f}  {first['ami']:.3f}  {tuned['ami']:.3f}")
    print(f"  train mean {tuned['train']:.3f}, dev mean {tuned['dev']:.3f} (held out), "
          f"robustness min {tuned['check_min']:.3f}, worst synthetic boundary {tuned['timing']:.3f} s")
    print_boundaries(cfg)
    us, rt = speed(cfg)
    print(f"\nSpeed: {us:.2f} µs per {cfg.frame_ms} ms frame, {rt:.0f}x real time (one core)")

    print("\n[vad] values (paste into calibration/defaults.toml, keeping units and sources):")
    for f in dataclasses.fields(cfg):
        print(f"  {f.name} = {getattr(cfg, f.name)!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
