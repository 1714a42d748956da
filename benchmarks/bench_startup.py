"""Start-up: seconds from the command to the first line `attune review` prints, on a 10 s WAV and MP4.

The first line is the review's title ("Reviewing talk.mp4: 10 s, video ... , sound in 2 channels"),
printed from the file's headers before any work: what a person sees first. "done" is the whole review.

The inputs are the first 10 s of the demo conversation (two voices, one channel each, and its
video), made once in the temporary folder. Each run is a fresh `attune` process (the console
script's `attunement.cli:main`), timed from Popen to the first line on standard
output; median of `--repeats`, the WAV and MP4 runs interleaved. Also the import of the CLI alone.
numba's on-disk cache (cache=True) must be warm: the first run after an install compiles (this
script runs one review of each input first, untimed, as `make demo`/`make test` do after install).

    python benchmarks/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SECONDS = 10.0
#: What the `attune` console script runs.
ATTUNE = "import sys; from attunement.cli import main; sys.argv[0] = 'attune'; sys.exit(main())"


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


def first_line(args: list[str]) -> tuple[float, float, float]:
    """(seconds to the first line of standard output, seconds to exit, CPU seconds of the process)."""
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", ATTUNE, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    proc.stdout.readline()
    first = time.perf_counter() - t0
    proc.stdout.read()
    if proc.wait():
        raise SystemExit(f"attune {' '.join(args)} failed (exit {proc.returncode})")
    return first, time.perf_counter() - t0, _children_cpu() - cpu0


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    repeats = ap.parse_args().repeats
    wav, mp4 = inputs()
    runs = {"import attunement.cli": [sys.executable, "-c", "import attunement.cli"]}
    cases = {"review 10 s WAV (2 ch)": ["review", str(wav), "--no-save", "--channels-are-speakers"],
             "  WAV, --no-words": ["review", str(wav), "--no-save", "--channels-are-speakers", "--no-words"],
             "review 10 s MP4 (video)": ["review", str(mp4), "--no-save", "--channels-are-speakers"],
             "  MP4, --no-words": ["review", str(mp4), "--no-save", "--channels-are-speakers", "--no-words"]}
    for args in cases.values():
        first_line(args)  # warm: numba cache, file cache
    got = {k: [] for k in [*runs, *cases]}
    for _ in range(repeats):
        t0, cpu0 = time.perf_counter(), _children_cpu()
        subprocess.run(runs["import attunement.cli"], check=True)
        wall = time.perf_counter() - t0
        got["import attunement.cli"].append((wall, wall, _children_cpu() - cpu0))
        for name, args in cases.items():
            got[name].append(first_line(args))
    print(f"start-up, median of {repeats} (interleaved), fresh process each; target: first line <= 1.5 s. CPU s: the "
          f"process's user + system time, which a loaded machine (load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs) stretches less than the wall time")
    print(f"{'command':<28}{'first line s':>14}{'done s':>9}{'CPU s':>8}")
    for name, v in got.items():
        print(f"{name:<28}" + "".join(f"{statistics.median(r[i] for r in v):{w}.2f}" for i, w in ((0, 14), (1, 9), (2, 8))))


if __name__ == "__main__":
    main()
