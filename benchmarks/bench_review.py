"""Audio-only review speed (multiple of real time, one core) and peak memory vs input length.

Targets (foundation issue): >= 1000x real time on a 60-minute input on one core; peak memory
flat in input length. Each measurement runs in a fresh subprocess pinned to CPU 0, so peak RSS
and compile caches are its own. Prints a table with ratios side by side.

    python benchmarks/bench_review.py [--minutes 1 10 60] [--channels 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, os, sys, time
os.sched_setaffinity(0, {0})
from attunement.config import default_config
from attunement.session.runners.offline import review_file
from attunement.sources.media import MediaReader
path, channels, stage = sys.argv[1], int(sys.argv[2]), sys.argv[3]
config = default_config()
t0 = time.perf_counter()
if stage == "decode":
    with MediaReader(path) as r:
        n = sum(b.samples.shape[-1] for b in r.blocks())
else:
    review_file(path, config=config, channels_are_speakers=channels > 1, words=False)  # turn-taking (words: bench_words.py)
wall = time.perf_counter() - t0
# VmHWM, not ru_maxrss: ru_maxrss survives exec and would count the parent's memory
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"wall_s": wall, "peak_mb": hwm / 1024}))
"""


def make_input(folder: Path, minutes: float, channels: int) -> Path:
    """A long conversation: the demo conversation tiled to `minutes` (16 kHz, 16-bit WAV)."""
    import numpy as np

    from attunement.sources.wav import write_wav
    from attunement.demo.conversation import practice_conversation

    path = folder / f"talk_{minutes:g}min_{channels}ch.wav"
    if not path.exists():
        convo = practice_conversation(seed=1, channels=channels)
        reps = int(np.ceil(minutes * 60 * convo.rate / convo.audio.shape[1]))
        audio = np.tile(convo.audio, (1, reps))[:, : int(minutes * 60 * convo.rate)]
        write_wav(path, audio, convo.rate)
    return path


def measure(path: Path, channels: int, stage: str) -> dict:
    warm = subprocess.run([sys.executable, "-c", CHILD, str(path), str(channels), stage],
                          capture_output=True, text=True)
    if warm.returncode:
        raise SystemExit(warm.stderr)
    return json.loads(warm.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    ap.add_argument("--channels", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    folder = Path(os.environ.get("ATTUNE_BENCH_DIR", tempfile.gettempdir())) / "attune-bench"
    folder.mkdir(exist_ok=True)
    print(f"{'input':>14} {'stage':>8} {'wall s':>8} {'x realtime':>11} {'peak MB':>8} {'MB vs shortest':>15}")
    for channels in args.channels:
        base_mb = None
        for minutes in args.minutes:
            path = make_input(folder, minutes, channels)
            measure(make_input(folder, 0.1, channels), channels, "review")  # compile caches warm
            for stage in ("decode", "review"):
                r = measure(path, channels, stage)
                if stage == "review":
                    base_mb = base_mb or r["peak_mb"]
                ratio = f"{r['peak_mb'] / base_mb:.2f}" if stage == "review" else ""
                print(f"{minutes:>6g} min {channels}ch {stage:>8} {r['wall_s']:8.2f} "
                      f"{minutes * 60 / r['wall_s']:10.0f}x {r['peak_mb']:8.0f} {ratio:>15}", flush=True)


if __name__ == "__main__":
    main()
