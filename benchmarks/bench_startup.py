"""Start-up: seconds from the command to the first line `attune review` prints, on a 10 s WAV and MP4.

The inputs are the first 10 s of the demo conversation (two voices, one channel each, and its
video), made once in the temporary folder. Each run is a fresh `attune` process (the console
script's module, `python -m attunement.cli`), timed from Popen to the first line on standard
output; median of `--repeats`, the WAV and MP4 runs interleaved. Also the import of the CLI alone.
numba's on-disk cache (cache=True) must be warm: the first run after an install compiles (this
script runs one review of each input first, untimed, as `make demo`/`make test` do after install).

    python benchmarks/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SECONDS = 10.0


def inputs() -> tuple[Path, Path]:
    from attunement.demo.conversation import practice_conversation
    from attunement.demo.video import render_demo_video
    from attunement.sources.wav import write_wav

    folder = Path(tempfile.gettempdir())
    wav, mp4 = folder / "attune-startup-10s.wav", folder / "attune-startup-10s.mp4"
    if not (wav.exists() and mp4.exists()):
        convo = practice_conversation(seed=0, channels=2)
        audio = convo.audio[:, :int(SECONDS * convo.rate)]
        write_wav(wav, audio, convo.rate)
        render_demo_video(mp4, audio, convo.rate)
    return wav, mp4


def first_line(args: list[str]) -> tuple[float, float]:
    """(seconds to the first line of standard output, seconds to exit)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "attunement.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    proc.stdout.readline()
    first = time.perf_counter() - t0
    proc.stdout.read()
    proc.wait()
    return first, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    repeats = ap.parse_args().repeats
    wav, mp4 = inputs()
    runs = {"import attunement.cli": [sys.executable, "-c", "import attunement.cli"]}
    cases = {"review 10 s WAV (2 ch)": ["review", str(wav), "--no-save", "--channels-are-speakers"],
             "review 10 s MP4 (video)": ["review", str(mp4), "--no-save", "--channels-are-speakers"]}
    for args in cases.values():
        first_line(args)  # warm: numba cache, file cache
    got = {k: [] for k in [*runs, *cases]}
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(runs["import attunement.cli"], check=True)
        got["import attunement.cli"].append((time.perf_counter() - t0, time.perf_counter() - t0))
        for name, args in cases.items():
            got[name].append(first_line(args))
    print(f"start-up, median of {repeats} (interleaved), fresh process each; target: first line <= 1.5 s")
    print(f"{'command':<28}{'first line s':>14}{'done s':>9}")
    for name, v in got.items():
        print(f"{name:<28}{statistics.median(a for a, _ in v):14.2f}{statistics.median(b for _, b in v):9.2f}")


if __name__ == "__main__":
    main()
