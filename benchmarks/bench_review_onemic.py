"""One shared microphone, real speech: `attune review`'s work (review_file) at 1, 10 and 60 minutes,
with the trained diarizer, without and with transcription, on two cores: wall time, CPU seconds,
real-time multiple and peak memory, so it shows how the cost grows with length (issue 14 item 5;
targets: >= 20x real time diarized, >= 10x with words, peak <= 1 GB).

The input is the assembled two-person talks of ../shared/data (real voices, neural_eval.talks),
laid end to end to each length, written to a temporary WAV (never into the repo). Each run is a
fresh process pinned to the cores asked for; its CPU seconds are its own (user + system).

    python benchmarks/bench_review_onemic.py [--minutes 1 10 60] [--cores 2] [--words both|off|on]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from neural_eval import ROOT, talks  # noqa: E402

CHILD = r"""
import json, os, resource, sys, time
os.sched_setaffinity(0, set(range(int(sys.argv[3]))))
from attunement.config import default_config
from attunement.session.runners.offline import review_file
path, words = sys.argv[1], sys.argv[2] == "on"
t0 = time.perf_counter()
review = review_file(path, config=default_config(), words=words)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_mb": hwm / 1024,
                  "speakers": len(review.speakers), "audio_s": review.duration_s}))
"""


def hour_of_talks(folder: Path, minutes: float) -> Path:
    """The assembled talks end to end, cut to `minutes`, as a 16 kHz mono WAV in `folder`."""
    import soundfile as sf

    path = folder / f"onemic_talks_{minutes:g}min.wav"
    if not path.exists():
        parts, n, pool = [], 0, talks()
        while n < minutes * 60 * 16000:
            for it in pool:
                parts.append(it.audio)
                n += it.audio.size
        sf.write(path, np.concatenate(parts)[: int(minutes * 60 * 16000)], 16000)
    return path


def run(path: Path, words: str, cores: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), words, str(cores)], capture_output=True,
                         text=True, env=env)
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--words", choices=["both", "off", "on"], default="both")
    args = ap.parse_args()
    folder = Path(tempfile.gettempdir()) / "attune-bench"
    folder.mkdir(exist_ok=True)
    run(hour_of_talks(folder, 0.2), "on", args.cores)  # caches warm (numba, extracted models)
    modes = ["off", "on"] if args.words == "both" else [args.words]
    print(f"one microphone, real speech (assembled talks), trained diarizer, {args.cores} cores; "
          f"x realtime = audio / wall; 'if idle' = audio / (CPU s / cores)")
    print(f"{'input':>8} {'words':>6} {'wall s':>8} {'CPU s':>8} {'x realtime':>11} {'if idle':>8} "
          f"{'peak MB':>8} {'speakers':>9} {'load':>5}")
    for minutes in args.minutes:
        path = hour_of_talks(folder, minutes)
        for words in modes:
            r = run(path, words, args.cores)
            print(f"{minutes:>5g} min {words:>6} {r['wall_s']:8.1f} {r['cpu_s']:8.1f} "
                  f"{r['audio_s'] / r['wall_s']:10.1f}x {r['audio_s'] / (r['cpu_s'] / args.cores):7.1f}x "
                  f"{r['peak_mb']:8.0f} {r['speakers']:>9} {os.getloadavg()[0]:5.1f}", flush=True)


if __name__ == "__main__":
    main()
