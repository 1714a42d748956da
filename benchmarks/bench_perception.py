"""Perception speed: per-frame cost of decoding, FaceMesh and Pose at 640x480, and video review
speed as a multiple of real time (target: >= 2x at 30 fps on two cores).

The input is a 640x480, 30 fps H.264 clip made here: the talking-head recording from
../shared/data/video (or $ATTUNE_DATA), scaled and padded, else the matplotlib portrait
drifting across the frame. Each measurement runs in a fresh subprocess pinned to the given
cores (after a warm-up run, so numba's cache and the OS file cache are warm). Prints a table.

    python benchmarks/bench_perception.py [--seconds 20] [--cores 1 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests is a package
sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import run_child  # noqa: E402

WIDTH, HEIGHT, FPS = 640, 480, 30

CHILD = r"""
import dataclasses, json, os, sys, time
cores = [int(c) for c in sys.argv[3].split(",")]
os.sched_setaffinity(0, set(cores))
from attunement.config import default_config
from attunement.perception.landmarks import FaceBodyLandmarker
from attunement.sources.video import VideoReader
path, stage = sys.argv[1], sys.argv[2]
config = default_config().perception
rates = {"face": 0.0, "face+pose": 120.0, "total": config.pose_rate_hz}
found = n = 0
if stage == "decode":
    t0, c0 = time.perf_counter(), time.process_time()
    with VideoReader(path) as reader:
        for frame in reader.frames():
            n += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
else:
    with VideoReader(path) as reader:
        frames = list(reader.frames()) if stage != "total" else None
    with FaceBodyLandmarker(dataclasses.replace(config, pose_rate_hz=rates[stage])) as lm:
        t0, c0 = time.perf_counter(), time.process_time()
        if stage == "total":  # the streaming loop a review runs: decode, then landmarks, frame by frame
            with VideoReader(path) as reader:
                for frame in reader.frames():
                    found += lm.process(frame).has_face
                    n += 1
        else:
            for frame in frames:
                found += lm.process(frame).has_face
                n += 1
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"frames": n, "wall_s": wall, "cpu_s": cpu, "faces": found}))
"""


def make_clip(folder: Path, seconds: float) -> Path:
    """The 640x480 30 fps H.264 benchmark clip (cached in `folder`)."""
    import av
    import cv2
    import numpy as np

    from tests.conftest import data_dir

    path = folder / f"perception_{WIDTH}x{HEIGHT}_{FPS}fps_{seconds:g}s.mp4"
    if path.exists():
        return path
    data = data_dir()
    source = data / "video" / "WDA_KatieHill_000.mp4" if data else None
    pictures = []
    if source is not None and source.exists():
        with av.open(str(source)) as container:
            pictures = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if not pictures:
        from tests.sources.test_video import portrait
        still = portrait()
        pictures = [np.roll(still, int(20 * np.sin(k / 15)), axis=1) for k in range(60)]
    order = pictures + pictures[-2:0:-1]  # played back and forth: no jump cut
    n = int(seconds * FPS)
    partial = path.with_suffix(".part.mp4")
    with av.open(str(partial), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for k in range(n):
            picture = order[k % len(order)]
            h, w = picture.shape[:2]
            scale = min(WIDTH / w, HEIGHT / h)
            small = cv2.resize(picture, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            canvas = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
            y, x = (HEIGHT - small.shape[0]) // 2, (WIDTH - small.shape[1]) // 2
            canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame.pts = k
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    partial.rename(path)  # only a complete clip is reused
    return path


def measure(path: Path, stage: str, cores: str) -> dict:
    return run_child(CHILD, path, stage, cores)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the benchmark clip (s)")
    ap.add_argument("--cores", type=int, nargs="+", default=[1, 2], help="numbers of cores to pin to")
    args = ap.parse_args()
    folder = Path(os.environ.get("ATTUNE_BENCH_DIR", tempfile.gettempdir())) / "attune-bench"
    folder.mkdir(exist_ok=True)
    path = make_clip(folder, args.seconds)
    available = sorted(os.sched_getaffinity(0))
    print(f"clip: {path.name} ({WIDTH}x{HEIGHT}, {FPS} fps, {args.seconds:g} s); pose at "
          f"{_default_pose_rate():g} Hz by default")
    print(f"{'cores':>5} {'stage':>14} {'ms/frame':>9} {'cpu ms':>7} {'vs total':>9} {'x realtime':>11} {'faces':>6}")
    for count in args.cores:
        if count > len(available):
            print(f"{count:>5} (only {len(available)} cores here)")
            continue
        cores = ",".join(str(c) for c in available[:count])
        measure(path, "total", cores)  # warm-up: compile caches, file cache
        results = {stage: measure(path, stage, cores) for stage in ("decode", "face", "face+pose", "total")}
        wall = {stage: 1000 * r["wall_s"] / r["frames"] for stage, r in results.items()}
        cpu = {stage: 1000 * r["cpu_s"] / r["frames"] for stage, r in results.items()}
        wall["pose (one run)"] = wall["face+pose"] - wall["face"]
        cpu["pose (one run)"] = cpu["face+pose"] - cpu["face"]
        for stage in ("decode", "face", "pose (one run)", "face+pose", "total"):
            r = results.get(stage, {})
            faces = f"{r['faces'] / r['frames']:.0%}" if r.get("frames") and stage != "decode" else ""
            print(f"{count:>5} {stage:>14} {wall[stage]:>9.2f} {cpu[stage]:>7.2f} {wall[stage] / wall['total']:>9.2f} "
                  f"{(1000 / FPS) / wall[stage]:>11.2f} {faces:>6}")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} (other work on these cores slows the wall times)")
    print("x realtime: video seconds processed per wall second at 30 fps (target >= 2 on two cores); "
          "'total' = decode + FaceMesh every frame + Pose at the default rate, streamed.")


def _default_pose_rate() -> float:
    from attunement.config import default_config
    return default_config().perception.pose_rate_hz


if __name__ == "__main__":
    main()
