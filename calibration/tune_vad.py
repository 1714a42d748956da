"""Derive the [vad] defaults of defaults.toml from labelled recordings, and print the evidence.

Score: voice-activity frame F1 at 10 ms over each file's scored region (the .uem; all of
sample.wav), speech = the union of all speakers' RTTM segments. Tuned on sample.wav + AMI
trn01..trn09 (mean F1), with dev00/dev01 held out. A candidate must also keep F1 >= CHECK_MIN
on sample.wav under added noise (white 10/20 dB SNR, pink 20 dB) and with one speaker 15 dB
quieter, so nothing is tuned to the clean close-talk microphones of AMI alone.

Search, from the current defaults: the webrtcvad front end (frame, mode, high-pass) by plain
train mean, then gate and smoothing jointly on a grid, each point scored by the train mean
averaged over its grid neighbours (a plateau beats a knife edge); repeated until stable.
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
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from attunement.config import VadConfig, default_config
from attunement.conversation.rttm import read_rttm
from attunement.perception.vad import FrameAnalyzer, detect_speech
from attunement.perception.vad_kernels import level_gate, segments_to_frames, smooth_speech

GRID = {
    "frame_ms": (10, 20, 30),
    "aggressiveness": (0, 1, 2, 3),
    "highpass_hz": (200.0, 300.0, 400.0, 500.0, 700.0, 1000.0),
    "min_snr_db": (0.0, 3.0, 6.0, 9.0),
    "range_db": (6.0, 9.0, 12.0, 15.0, 18.0, 24.0),
    "floor_rise_db_per_s": (0.3, 1.0, 3.0),
    "level_tau_s": (1.0, 3.0, 10.0, 30.0),
    "min_speech_s": (0.0, 0.03, 0.06, 0.09, 0.12, 0.18, 0.24, 0.3),
    "min_pause_s": (0.0, 0.06, 0.09, 0.15, 0.24, 0.36),
    "onset_pad_s": (0.0, 0.06, 0.12, 0.18, 0.24, 0.3),
    "hangover_s": (0.0, 0.12, 0.24, 0.36, 0.45, 0.6, 0.75),
}
MIN_GAIN = 0.002   # train-mean F1 a new front end must win by
CHECK_MIN = 0.90   # F1 every robustness check must keep
GRID_S = 0.01      # scoring resolution
AMI_TRAIN = [f"trn0{i}" for i in range(1, 10)]
AMI_DEV = ["dev00", "dev01"]


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


@functools.lru_cache(maxsize=None)
def features(rec_index: int, frame_ms: int, highpass_hz: float, aggressiveness: int):
    """(band_db, voiced) of one recording, fed in 2 s blocks as the detector would see them."""
    rec = RECORDINGS[rec_index]
    analyzer = FrameAnalyzer(rate=rec.rate, frame_ms=frame_ms, highpass_hz=highpass_hz, aggressiveness=aggressiveness)
    parts = [analyzer.feed(rec.samples[i:i + 2 * rec.rate]) for i in range(0, len(rec.samples), 2 * rec.rate)]
    return np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])


def f1(rec: Recording, speech: np.ndarray, frame_ms: int) -> float:
    """Frame F1 of per-frame `speech` (frame_ms frames) against the truth, at GRID_S over the scored region."""
    pred = np.repeat(speech, frame_ms // 10)[:len(rec.truth)]
    pred = np.pad(pred, (0, len(rec.truth) - len(pred)))
    p, t = pred[rec.scored], rec.truth[rec.scored]
    tp, fp, fn = np.sum(p & t), np.sum(p & ~t), np.sum(~p & t)
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def score(cfg: VadConfig, i: int) -> float:
    band_db, voiced = features(i, cfg.frame_ms, cfg.highpass_hz, cfg.aggressiveness)
    hop_s = cfg.frame_ms / 1000
    gated = level_gate(band_db, voiced, np.full(2, np.nan), hop_s=hop_s, min_snr_db=cfg.min_snr_db,
                       range_db=cfg.range_db, floor_rise_db_per_s=cfg.floor_rise_db_per_s, level_tau_s=cfg.level_tau_s)
    return f1(RECORDINGS[i], smooth_speech(gated, hop_s=hop_s, config=cfg), cfg.frame_ms)


def summary(cfg: VadConfig) -> dict[str, float]:
    scores = {r.name: score(cfg, i) for i, r in enumerate(RECORDINGS)}
    by = {g: [scores[r.name] for r in RECORDINGS if r.group == g] for g in ("train", "dev", "check")}
    ami = [scores[r.name] for r in RECORDINGS if r.name.startswith(("trn", "dev"))]
    return {"train": float(np.mean(by["train"])), "dev": float(np.mean(by["dev"])),
            "check_min": float(np.min(by["check"])), "ami": float(np.mean(ami)), **scores}


FRONT = ("frame_ms", "aggressiveness", "highpass_hz")                          # what webrtcvad sees
BACK = ("range_db", "min_speech_s", "min_pause_s", "onset_pad_s", "hangover_s")  # gate and smoothing
FIXED = ("min_snr_db", "floor_rise_db_per_s", "level_tau_s")  # set by physics; swept only for show


def search(cfg: VadConfig, rounds: int = 3) -> VadConfig:
    """Alternate: the best front end (plain train mean) for the current back end, then the back
    end jointly over its grid (see back_end). Stops when nothing changes."""
    for _ in range(rounds):
        before = cfg
        fronts = [dataclasses.replace(cfg, **dict(zip(FRONT, values)))
                  for values in itertools.product(*(GRID[k] for k in FRONT))]
        ok = [(s["train"], c) for s, c in ((summary(c), c) for c in fronts) if s["check_min"] >= CHECK_MIN]
        best_train, best = max(ok, key=lambda z: z[0])
        if best_train > summary(cfg)["train"] + MIN_GAIN:
            cfg = best
        cfg = back_end(cfg)
        if cfg == before:
            break
    return cfg


def back_end(cfg: VadConfig) -> VadConfig:
    """Joint grid over BACK. Each point is scored by the train mean averaged over the box of its
    grid neighbours (+-1 step on every axis): a value is only as good as those around it, so a
    lucky knife edge (one frame more or less of a breath noise in a file with 0.7 s of speech)
    loses to a plateau. Points failing a robustness check are not chosen."""
    axes = [GRID[k] for k in BACK]
    shape = tuple(len(a) for a in axes)
    train, check = np.zeros(shape), np.zeros(shape)
    groups = np.array([r.group for r in RECORDINGS])
    hop_s = cfg.frame_ms / 1000
    for i, range_db in enumerate(axes[0]):
        gated = [level_gate(*features(j, cfg.frame_ms, cfg.highpass_hz, cfg.aggressiveness), np.full(2, np.nan),
                            hop_s=hop_s, min_snr_db=cfg.min_snr_db, range_db=range_db,
                            floor_rise_db_per_s=cfg.floor_rise_db_per_s, level_tau_s=cfg.level_tau_s)
                 for j in range(len(RECORDINGS))]
        for idx in np.ndindex(shape[1:]):
            c = dataclasses.replace(cfg, **{k: axes[n + 1][m] for n, (k, m) in enumerate(zip(BACK[1:], idx))})
            f = np.array([f1(RECORDINGS[j], smooth_speech(g, hop_s=hop_s, config=c), c.frame_ms)
                          for j, g in enumerate(gated)])
            train[(i, *idx)] = f[groups == "train"].mean()
            check[(i, *idx)] = f[groups == "check"].min()
    robust = _box_mean(train)
    robust[check < CHECK_MIN] = -np.inf
    best = np.unravel_index(np.argmax(robust), shape)
    return dataclasses.replace(cfg, **{k: axes[n][m] for n, (k, m) in enumerate(zip(BACK, best))})


def _box_mean(a: np.ndarray) -> np.ndarray:
    """Mean of each cell and its neighbours within one step on every axis (at edges, those that exist)."""
    total, count = np.zeros_like(a), np.zeros_like(a)
    for shift in itertools.product((-1, 0, 1), repeat=a.ndim):
        dst = tuple(slice(max(0, -d), n - max(0, d)) for d, n in zip(shift, a.shape))
        src = tuple(slice(max(0, d), n - max(0, -d)) for d, n in zip(shift, a.shape))
        total[dst] += a[src]
        count[dst] += 1
    return total / count


def sweeps(cfg: VadConfig) -> dict[str, list[tuple]]:
    """One-at-a-time sweeps around `cfg`, for the printed evidence."""
    return {key: [(v, summary(dataclasses.replace(cfg, **{key: v}))) for v in values] for key, values in GRID.items()}


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("ATTUNE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--data", type=Path, default=Path(default), help="folder holding conversations/")
    args = ap.parse_args(argv)
    if not (args.data / "conversations").is_dir():
        print(f"no recordings under {args.data}; pass --data or set ATTUNE_DATA", file=sys.stderr)
        return 2
    global RECORDINGS
    RECORDINGS = load(args.data)
    start = default_config().vad
    cfg = search(start)

    print("One-at-a-time sweeps around the tuned values; * = chosen, x = fails a robustness check")
    for key, rows in sweeps(cfg).items():
        print(f"\n  {key}" + ("  (fixed by physics)" if key in FIXED else ""))
        print("    value     train   dev     AMI(11) check_min")
        for v, s in rows:
            mark = "*" if v == getattr(cfg, key) else ("x" if s["check_min"] < CHECK_MIN else " ")
            print(f"  {mark} {v!s:8} {s['train']:.3f}   {s['dev']:.3f}   {s['ami']:.3f}   {s['check_min']:.3f}")

    tuned, first = summary(cfg), summary(start)
    plain = {m: plain_webrtcvad(m, cfg.frame_ms) for m in range(4)}
    print(f"\nPer file: frame F1 at 10 ms (plain = webrtcvad alone on raw audio, {cfg.frame_ms} ms frames)")
    print("  file                 group  plain0 plain1 plain2 plain3  defaults  tuned")
    for r in RECORDINGS:
        print(f"  {r.name:20} {r.group:6} " + " ".join(f"{plain[m][r.name]:.3f} " for m in range(4))
              + f" {first[r.name]:.3f}     {tuned[r.name]:.3f}")
    ami = [r.name for r in RECORDINGS if r.name.startswith(("trn", "dev"))]
    print("  mean AMI (11)               " + " ".join(f"{np.mean([plain[m][n] for n in ami]):.3f} " for m in range(4))
          + f" {first['ami']:.3f}     {tuned['ami']:.3f}")
    print(f"  train mean {tuned['train']:.3f}, dev mean {tuned['dev']:.3f} (held out), "
          f"robustness min {tuned['check_min']:.3f}")
    us, rt = speed(cfg)
    print(f"\nSpeed: {us:.2f} µs per {cfg.frame_ms} ms frame, {rt:.0f}x real time (one core)")

    print("\n[vad] values (paste into calibration/defaults.toml, keeping units and sources):")
    for f in dataclasses.fields(cfg):
        print(f"  {f.name} = {getattr(cfg, f.name)!r}")
    return 0


RECORDINGS: list[Recording] = []

if __name__ == "__main__":
    sys.exit(main())
