"""attune batch on Dask: the overhead per recording against a plain loop of `review_file`, side by side in
one run, for audio and for video; throughput on 1 and 2 local workers; per-worker peak memory; what
Dask's upkeep and its MALLOC_TRIM_THRESHOLD_ would cost.

N one-minute generated recordings (the demo conversation with voices varied by seed, tiled to 60 s):
audio ones alternate one shared microphone (diarized) and a microphone per person; a share of them
(`--video-share`) are demo videos (the moving portrait, 15 fps) with a microphone per person. Audio and
video are measured apart (each from a manifest of its own), every measurement in a fresh process:

- loop review_file: one process calling `review_file` on each recording (what `attune review` does),
                    with the batch's settings (batch_config: the trained models on one thread each)
- loop review_job:  one process calling the batch's own task on each (review_file + JSON, RTTM, report)
- batch W workers:  `run_batch` on a LocalCluster of W processes (cluster start timed apart)
- and, to show why the batch is set up as it is: the video loop with Dask's MALLOC_TRIM_THRESHOLD_ set,
  the audio loop with `attune review`'s two threads per model; an idle cluster with Dask's settings
  and with the batch's (engine.LOCAL_WORKER_CONFIG)

The loop of review_file and the batch on one worker alternate `--repeat` times, so that a change in the
machine's load shows as a difference between repeats, not as overhead. CPU time (user + system) is the
measure of overhead, because wall time on a machine shared with other work says more about the
neighbours than about us: a loop's CPU from its process start (its imports included), a batch's as
every worker's CPU from its process start (Python, distributed, attunement's imports) plus the client's
(and the local scheduler's) during the batch. The batch's rows are checked against the loop's.

    python benchmarks/bench_batch.py              # 100 recordings, 10% video
    python benchmarks/bench_batch.py --n 20       # the quick run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

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
from attunement.session.batch import batch_config, find_jobs, review_job
from attunement.session.batch.task import review_recording
manifest, mode, out, rows_file = sys.argv[1:5]
# the settings the batch reviews with (the models on one thread each), or attune review's own
config = default_config() if mode == "review_file_2_threads" else batch_config(default_config())
jobs = find_jobs(manifest)
rows = []
for i, job in enumerate(jobs):
    if mode.startswith("review_file"):
        review_recording(job, config=config)  # exactly review_file(path, <the job's settings>)
    else:
        rows += review_job(job, job_key=str(i), config=config, out=out).rows
wall, cpu = time.perf_counter() - t_start, _cpu()  # both from the process's start, imports included
json.dump(rows, open(rows_file, "w"))
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_mb": [_hwm()]}))
"""

BATCH = HWM + r"""
import json, sys, time
from attunement.config import default_config
from attunement.session.batch import dask_client, find_jobs, run_batch
if __name__ == "__main__":
    manifest, workers, out, rows_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    config = default_config()
    jobs = find_jobs(manifest)
    t0 = time.perf_counter()
    with dask_client(workers=workers) as client:
        t1, c1, w1 = time.perf_counter(), _cpu(), client.run(_cpu)
        result = run_batch(jobs, out, config=config, client=client)
        wall = time.perf_counter() - t1
        w2, c2 = client.run(_cpu), _cpu()
        peaks = sorted(client.run(_hwm).values())
    # CPU of the batch: each worker's since its process started (Python, distributed, attunement's imports
    # and numba caches included) and this process's during the batch (the client and the local scheduler)
    assert result.reviewed == len(jobs) and not result.failed, (result.reviewed, result.failed)
    json.dump(result.rows, open(rows_file, "w"))
    print(json.dumps({"start_s": t1 - t0, "wall_s": wall, "cpu_s": sum(w2.values()) + c2 - c1,
                      "workers_cpu_s": sum(w2.values()), "worker_start_cpu_s": sum(w1.values()) / len(w1),
                      "client_cpu_s": c2 - c1, "peak_mb": peaks, "client_mb": _hwm()}))
"""

UPKEEP = HWM + r"""
import json, sys, time
from attunement.session.batch import engine
if __name__ == "__main__":
    if sys.argv[1] == "dask":
        engine.LOCAL_WORKER_CONFIG = {}  # Dask's own defaults
    with engine.dask_client(workers=1) as client:
        time.sleep(2)
        w0, c0, t0 = client.run(_cpu), _cpu(), time.perf_counter()
        time.sleep(float(sys.argv[2]))
        w1, c1, t1 = client.run(_cpu), _cpu(), time.perf_counter()
    print(json.dumps({"worker": sum(w1[k] - w0[k] for k in w0) / (t1 - t0), "client": (c1 - c0) / (t1 - t0)}))
"""


def run_child(code: str, *args, env: dict | None = None) -> dict:
    """Runs `code` in a fresh Python process (this one's environment plus `env`) with `args`; the JSON
    object its last line prints, with the load average over the run."""
    load = os.getloadavg()[0]
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          env=os.environ | (env or {}))
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"load": (load, os.getloadavg()[0])}


def make_recordings(folder: Path, n: int, video_share: float, minutes: float = 1.0) -> dict[str, Path]:
    """`n` recordings of `minutes` each in `folder`; {"audio": manifest, "video": manifest} (a kind with
    no recording has none)."""
    import numpy as np

    from attunement.config import default_config
    from attunement.demo.conversation import practice_conversation
    from attunement.demo.video import render_demo_video
    from attunement.sources.wav import write_wav

    n_video = round(n * video_share)
    lines: dict[str, list[str]] = {"audio": [], "video": []}
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
        lines["video" if video else "audio"].append(f"{name},{'true' if channels == 2 else 'false'}")
    manifests = {}
    for kind, rows in lines.items():
        if rows:
            manifests[kind] = folder / f"{kind}.csv"
            manifests[kind].write_text("path,channels_are_speakers\n" + "\n".join(rows) + "\n")
    return manifests


def measure(kind: str, manifest: Path, out: Path, *, workers: list[int], repeat: int) -> dict[str, dict]:
    """The runs of one kind of recording, in the order that keeps the compared ones side by side."""
    runs: dict[str, dict] = {}
    rows: dict[str, Path] = {}

    def run(name, code, *args, env=None):
        rows[name] = out / f"{kind}-{len(rows)}.rows.json"
        print(f"  {kind}: {name} ...", file=sys.stderr, flush=True)
        runs[name] = run_child(code, manifest, *args, out / f"{kind}-{len(rows)}", rows[name], env=env)

    first = min(workers)
    for r in range(repeat):
        tag = f" #{r + 1}" if repeat > 1 else ""
        run(f"loop review_file{tag}", LOOP, "review_file")
        run(f"batch {first} worker{'s' if first > 1 else ''}{tag}", BATCH, first)
    run("loop review_job", LOOP, "review_job")
    for w in workers:
        if w != first:
            run(f"batch {w} workers", BATCH, w)
    if kind == "video":
        run("loop review_file, MALLOC_TRIM_THRESHOLD_=65536 (as Dask sets it)", LOOP, "review_file",
            env={"MALLOC_TRIM_THRESHOLD_": "65536"})
    else:
        run("loop review_file, the models on 2 threads (attune review's settings)", LOOP, "review_file_2_threads")
    same = json.loads(rows["loop review_job"].read_text())
    for name, path in rows.items():
        if name.startswith("batch"):
            runs[name]["rows_as_loop"] = json.loads(path.read_text()) == same
    return runs


def report(kind: str, n: int, runs: dict[str, dict]) -> None:
    base_file = [r for name, r in runs.items() if name.startswith("loop review_file") and "," not in name]
    first = [r for name, r in runs.items() if name.startswith("batch") and "#" in name] or \
        [next(r for name, r in runs.items() if name.startswith("batch"))]
    print(f"\n### {kind}: {n} one-minute recordings\n")
    print("| run | load | wall s | recordings/min | CPU s | CPU s per recording | CPU vs loop review_file "
          "| peak MB per process | cluster start s | rows as the loop's |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |")
    cpu_file = statistics.median(r["cpu_s"] for r in base_file)
    for name, r in runs.items():
        load = f"{r['load'][0]:.1f}-{r['load'][1]:.1f}"
        start = f"{r['start_s']:.1f}" if "start_s" in r else ""
        same = {True: "yes", False: "NO"}.get(r.get("rows_as_loop"), "")
        print(f"| {name} | {load} | {r['wall_s']:.1f} | {n / r['wall_s'] * 60:.1f} | {r['cpu_s']:.1f} | "
              f"{r['cpu_s'] / n:.2f} | {(r['cpu_s'] / cpu_file - 1) * 100:+.1f}% | "
              f"{', '.join(f'{m:.0f}' for m in r['peak_mb'])} | {start} | {same} |")
    pairs = [(f, b) for f, b in zip(base_file, first)]
    ratios = ", ".join(f"{(b['cpu_s'] / f['cpu_s'] - 1) * 100:+.1f}%" for f, b in pairs)
    job = runs["loop review_job"]
    print(f"\n{kind}: batch on one worker against the loop of review_file run next to it (CPU): {ratios} "
          f"(target <= 5%); of which the outputs (JSON, RTTM, report: loop review_job against loop review_file) "
          f"{(job['cpu_s'] / cpu_file - 1) * 100:+.1f}%; the client and local scheduler "
          f"{statistics.median(b['client_cpu_s'] for b in first):.1f} s, a worker's own start "
          f"{statistics.median(b['worker_start_cpu_s'] for b in first):.2f} s")
    two = [r for name, r in runs.items() if name.startswith("batch") and "#" not in name and name != "batch 1 worker"]
    for r in two:
        print(f"{kind}: speed-up of {len(r['peak_mb'])} workers over 1 (wall): "
              f"{statistics.median(b['wall_s'] for b in first) / r['wall_s']:.2f}")


def upkeep(seconds: float) -> dict[str, dict]:
    """CPU that an idle local cluster of one worker takes, with Dask's settings and with the batch's."""
    return {which: run_child(UPKEEP, which, seconds) for which in ("dask", "attune")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="recordings (default 100; 20 for a quick run)")
    ap.add_argument("--video-share", type=float, default=0.1, help="share of recordings with video (default 0.1)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="local cluster sizes (default 1 2)")
    ap.add_argument("--repeat", type=int, default=2, help="alternations of loop and one-worker batch (default 2)")
    ap.add_argument("--kinds", nargs="+", default=["video", "audio"], help="which recordings (default video audio)")
    ap.add_argument("--keep", metavar="DIR", help="make (or reuse) the recordings in DIR instead of a temp folder")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args()

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="attune-bench-batch-"))
    folder.mkdir(parents=True, exist_ok=True)
    manifests = make_recordings(folder, args.n, args.video_share)
    counts = {k: len(m.read_text().splitlines()) - 1 for k, m in manifests.items()}
    print(f"{args.n} one-minute recordings ({counts.get('video', 0)} with video) in {folder}; "
          f"{len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.1f} at the start")

    figures: dict = {"n": args.n, "counts": counts, "kinds": {}}
    with tempfile.TemporaryDirectory() as out:
        for kind in args.kinds:
            if kind in manifests:
                figures["kinds"][kind] = measure(kind, manifests[kind], Path(out), workers=args.workers,
                                                 repeat=args.repeat)
        figures["upkeep"] = upkeep(20.0)
    for kind, runs in figures["kinds"].items():
        report(kind, counts[kind], runs)
    if len(figures["kinds"]) == 2:
        print(f"\n### both together: {args.n} recordings\n")
        print("| run | wall s | recordings/min | CPU s | CPU s per recording |\n| --- | ---: | ---: | ---: | ---: |")
        for name in figures["kinds"]["audio"]:
            if name in figures["kinds"]["video"] and "#2" not in name:
                wall = sum(figures["kinds"][k][name]["wall_s"] for k in ("audio", "video"))
                cpu = sum(figures["kinds"][k][name]["cpu_s"] for k in ("audio", "video"))
                print(f"| {name.replace(' #1', '')} | {wall:.1f} | {args.n / wall * 60:.1f} | {cpu:.1f} | "
                      f"{cpu / args.n:.2f} |")
    u = figures["upkeep"]
    print(f"\nAn idle local cluster of one worker takes {(u['dask']['worker'] + u['dask']['client']) * 100:.1f}% "
          f"of a core with Dask's settings (worker {u['dask']['worker'] * 100:.1f}%, client and scheduler "
          f"{u['dask']['client'] * 100:.1f}%), {(u['attune']['worker'] + u['attune']['client']) * 100:.1f}% with "
          f"the batch's (engine.LOCAL_WORKER_CONFIG)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {len(os.sched_getaffinity(0))} cores "
          f"(other work shares them)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
