"""`make bench`: run the benchmarks, print their tables, and write docs/performance.md with the
machine, the command behind every table and the tables themselves.

Every benchmark compares side by side in one run (ratios, medians), because the wall times of a
shared machine are noisy; docs/performance.md keeps what the last run printed.

    python benchmarks/run_all.py [--only kernels video_review ...] [--all] [--doc docs/performance.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The hand-written part of docs/performance.md starts here; a run rewrites only what comes before.
NOTES = "## Notes"
ROOT = HERE.parent

#: (name, arguments, what the table shows), in the order docs/performance.md lists them.
SUITE = [
    ("kernels", ["--minutes", "60"], "numba kernels against their C twins (native/) and plain numpy/Python"),
    ("video_review", ["--seconds", "30", "--rates", "30/10", "15/10", "15/5", "--repeats", "3", "--memory", "60", "600"],
     "video review against the floor (decode + FaceMesh + Pose alone), threads, analysis rates; time and memory by length"),
    ("analysis_rate", ["--rates", "0/10", "15/10", "15/5", "10/5", "--demo-seconds", "60"],
     "the cues at lower face/pose rates against every frame, on the real clips and the demo"),
    ("startup", ["--repeats", "3"], "first line of `attune review` on a 10 s WAV and MP4"),
    ("review", ["--minutes", "1", "10", "60", "--channels", "2"],
     "audio-only review (one channel per person, no words) speed and memory by length"),
    ("review_onemic", ["--minutes", "1", "10", "60"],
     "one shared microphone of real speech, trained diarizer, without and with words, by length"),
]


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor() or "unknown")
    import av
    import mediapipe
    import numba
    import numpy
    import onnxruntime

    cores = len(os.sched_getaffinity(0))
    mem = next((int(line.split()[1]) // 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    cc = subprocess.run(["cc", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()
    return [f"- CPU: {cpu}, {cores} cores available to the run ({os.cpu_count()} in the machine), {mem} MB RAM",
            f"- load average at the start: {os.getloadavg()[0]:.1f} (other work on the cores slows wall times; ratios hold better)",
            f"- {platform.platform()}; Python {platform.python_version()}",
            f"- numpy {numpy.__version__}, numba {numba.__version__}, mediapipe {mediapipe.__version__}, "
            f"PyAV {av.__version__} (FFmpeg {av.library_versions['libavcodec']}), onnxruntime {onnxruntime.__version__}",
            f"- C compiler: {cc[0] if cc else 'none'} (`-std=c99 -O3 -march=native`)"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help=f"names of {[n for n, *_ in SUITE]}")
    ap.add_argument("--all", action="store_true", help="also every other bench_*.py here (slow)")
    ap.add_argument("--doc", default=str(ROOT / "docs" / "performance.md"), help="where to write the results ('' = nowhere)")
    args = ap.parse_args()
    chosen = [s for s in SUITE if args.only is None or s[0] in args.only]
    if args.all:  # the other benchmarks of this folder (accuracy, live, words, diarization), default arguments
        known = {n for n, *_ in SUITE}
        chosen += [(p.stem[6:], [], "(see the script's docstring)") for p in sorted(HERE.glob("bench_*.py"))
                   if p.stem[6:] not in known]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), str(ROOT),
                                                                       os.environ.get("PYTHONPATH", "")]))}
    lines = ["# Performance", "",
             f"Written by `make bench` (`benchmarks/run_all.py`) on {datetime.date.today()}; every table below is what",
             "the command above it printed. Ratios are measured in the same run, side by side; times are medians or",
             "best-of as each table says. [Notes](#notes) at the end say what the figures mean and which targets are met.", "",
             "## Machine", "", *machine(), ""]
    print("\n".join(lines))
    for name, extra, what in chosen:
        command = ["python", f"benchmarks/bench_{name}.py", *extra]
        print(f"\n## {' '.join(command)}", flush=True)
        done = subprocess.run([sys.executable, str(HERE / f"bench_{name}.py"), *extra], capture_output=True,
                              text=True, env=env, cwd=ROOT, check=False)
        out = done.stdout.rstrip() + (f"\n(exit {done.returncode}: {done.stderr.strip()[-400:]})" if done.returncode else "")
        print(out, flush=True)
        lines += [f"## {name}: {what}", "", f"`{' '.join(command)}`", "", "```", out, "```", ""]
    doc = Path(args.doc) if args.doc else None
    if doc is not None and args.only is None:
        old = doc.read_text() if doc.exists() else ""
        notes = old[old.index(NOTES):] if NOTES in old else NOTES + "\n\n(written by hand: what the figures mean)\n"
        doc.write_text("\n".join(lines) + "\n" + notes)
        print(f"\nwrote {doc}")


if __name__ == "__main__":
    main()
