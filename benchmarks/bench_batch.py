"""attune batch on Dask: throughput on 1 and 2 local workers, speed-up, per-worker peak memory, and the
overhead per recording against plain loops in one process.

N one-minute generated recordings (the demo conversation with voices varied by seed, tiled to 60 s):
audio ones alternate one shared microphone (diarized) and a microphone per person; a share of them
(`--video-share`) are demo videos (the moving portrait, 15 fps) with a microphone per person.
A manifest says which is which. Every measurement runs in a fresh process:

- loop review_file: one process calling `review_file` on each recording (what `attune review` does)
- loop review_job:  one process calling the batch's own task on each (review_file + JSON, RTTM, report)
- batch W workers:  `run_batch` on a LocalCluster of W processes (cluster start timed apart)

CPU time (user + system) is the measure of overhead, because wall time on a machine shared with
other work says more about the neighbours than about us: a loop's CPU from its process start (its
imports included), a batch's as every worker's CPU from its process start (Python, distributed,
attunement's imports) plus the client's (and the local scheduler's) during the batch.

    python benchmarks/bench_batch.py              # 100 recordings, 10% video
    python benchmarks/bench_batch.py --n 20       # the quick run
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from timing import run_child

HWM = r"""
def _cpu():
    import os
    t = os.times()  # this process's own user + system CPU time, s
    return t.user + t.system

def _hwm():
    # VmHWM, not ru_maxrss: ru_maxrss survives exec and would count the parent's memory
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
"""

LOOP = r"""
import time
t_start = time.perf_counter()  # before any import: the loop pays its imports as the workers do
""" + HWM + r"""
import json, sys
from attunement.config import default_config
from attunement.session.batch import find_jobs, review_job
from attunement.session.batch.task import review_recording
manifest, mode, out = sys.argv[1:4]
config = default_config()
jobs = find_jobs(manifest)
for i, job in enumerate(jobs):
    if mode == "review_file":
        review_recording(job, config=config)  # exactly review_file(path, <the job's settings>)
    else:
        review_job(job, job_key=str(i), config=config, out=out)
wall, cpu = time.perf_counter() - t_start, _cpu()  # both from the process's start, imports included
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_mb": [_hwm()]}))
"""

BATCH = HWM + r"""
import json, sys, time
from attunement.config import default_config
from attunement.session.batch import dask_client, find_jobs, run_batch
manifest, workers, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
config = default_config()
jobs = find_jobs(manifest)
t0 = time.perf_counter()
with dask_client(workers=workers) as client:
    t1, c1, w1 = time.perf_counter(), _cpu(), client.run(_cpu)
    result = run_batch(jobs, out, config=config, client=client)
    wall = time.perf_counter() - t1
    w2, c2 = client.run(_cpu), _cpu()
    peaks = sorted(client.run(_hwm).values())
# CPU of the batch: each worker's since its process started (Python, distributed, attunement's imports and
# numba caches included) and this process's during the batch (the client and, locally, the scheduler)
cpu = sum(w2.values()) + c2 - c1
worker_start = sum(w1.values()) / len(w1)
assert result.reviewed == len(jobs) and not result.failed, (result.reviewed, result.failed)
print(json.dumps({"start_s": t1 - t0, "wall_s": wall, "cpu_s": cpu, "worker_start_cpu_s": worker_start,
                  "workers_cpu_s": sum(w2.values()), "client_cpu_s": c2 - c1,
                  "peak_mb": peaks, "client_mb": _hwm()}))
"""


def make_recordings(folder: Path, n: int, video_share: float, minutes: float = 1.0) -> Path:
    """`n` recordings of `minutes` each in `folder` and a manifest; returns the manifest's path."""
    import numpy as np

    from attunement.config import default_config
    from attunement.demo.conversation import practice_conversation
    from attunement.demo.video import render_demo_video
    from attunement.sources.wav import write_wav

    n_video = round(n * video_share)
    lines = ["path,channels_are_speakers"]
    for k in range(n):
        video, channels = k < n_video, 2 if (k < n_video or k % 2) else 1
        name = f"talk{k:03d}.{'mkv' if video else 'wav'}"
        path = folder / name
        if not path.exists():
            convo = practice_conversation(seed=k, channels=channels)
            reps = int(np.ceil(minutes * 60 * convo.rate / convo.audio.shape[1]))
            audio = np.tile(convo.audio, (1, reps))[:, : int(minutes * 60 * convo.rate)]
            if video:
                render_demo_video(path, audio, convo.rate, perception=default_config().perception)
            else:
                write_wav(path, audio, convo.rate)
        lines.append(f"{name},{'true' if channels == 2 else 'false'}")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="recordings (default 100; 20 for a quick run)")
    ap.add_argument("--video-share", type=float, default=0.1, help="share of recordings with video (default 0.1)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="local cluster sizes (default 1 2)")
    ap.add_argument("--keep", metavar="DIR", help="make (or reuse) the recordings in DIR instead of a temp folder")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args()

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="attune-bench-batch-"))
    folder.mkdir(parents=True, exist_ok=True)
    manifest = make_recordings(folder, args.n, args.video_share)
    n_video = round(args.n * args.video_share)
    print(f"{args.n} one-minute recordings ({n_video} with video) in {folder}; {os.cpu_count()} cores here")

    runs = {}
    with tempfile.TemporaryDirectory() as out:
        runs["loop review_file"] = run_child(LOOP, manifest, "review_file", out)
        runs["loop review_job"] = run_child(LOOP, manifest, "review_job", Path(out) / "loop")
        for w in args.workers:
            runs[f"batch {w} worker{'s' if w > 1 else ''}"] = run_child(BATCH, manifest, w, Path(out) / f"b{w}")

    base = runs[f"batch {min(args.workers)} worker{'s' if min(args.workers) > 1 else ''}"]["wall_s"]
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work shares them)")
    print("\n| run | wall s | recordings/min | speed-up | CPU s | CPU ms per recording | peak MB per worker "
          "| cluster start s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for name, r in runs.items():
        rate = args.n / r["wall_s"] * 60
        speed = f"{base / r['wall_s']:.2f}" if name.startswith("batch") else ""
        start = f"{r['start_s']:.1f}" if "start_s" in r else ""
        print(f"| {name} | {r['wall_s']:.1f} | {rate:.1f} | {speed} | {r['cpu_s']:.1f} | "
              f"{r['cpu_s'] / args.n * 1000:.0f} | {', '.join(f'{m:.0f}' for m in r['peak_mb'])} | {start} |")
    loop_file, loop_job = runs["loop review_file"], runs["loop review_job"]
    print(f"\nper recording (CPU): review_file {loop_file['cpu_s'] / args.n * 1000:.0f} ms; its JSON, RTTM and "
          f"report +{(loop_job['cpu_s'] - loop_file['cpu_s']) / args.n * 1000:.0f} ms "
          f"({(loop_job['cpu_s'] / loop_file['cpu_s'] - 1) * 100:+.1f}%)")
    for name, r in runs.items():
        if name.startswith("batch"):
            extra = (r["cpu_s"] - loop_job["cpu_s"]) / args.n * 1000
            print(f"{name}: Dask's overhead against the loop of the same task {extra:+.0f} ms CPU per recording "
                  f"({(r['cpu_s'] / loop_job['cpu_s'] - 1) * 100:+.1f}%, target <= 5%); against the plain loop of "
                  f"review_file {(r['cpu_s'] / loop_file['cpu_s'] - 1) * 100:+.1f}% (outputs included)")
    if args.json:
        Path(args.json).write_text(json.dumps({"n": args.n, "video": n_video, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
