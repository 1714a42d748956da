"""Video review speed and memory: `session.runners.offline.watch_video` on a generated 640x480, 30 fps clip.

The clip is the real portrait (scaled onto a 640x480 canvas) moved by the warp (demo/warp.py:
looks down, turns, leans in, nods; 20 s of motion, looped), encoded as MPEG-4 by
demo_video.write_video. Each measurement runs in a fresh subprocess pinned to `--cores` cores,
after a warm-up run (numba cache, file cache). At each face/pose analysis rate, interleaved in
every repeat: floor (PyAV decode of every frame, RGB of those analysed, mediapipe FaceMesh and Pose
on them, one thread, nothing of ours), serial (VideoReader + FaceBodyLandmarker.process, one
thread) and watch (watch_video: the three-thread pipeline and all cues); medians, ratios, multiple
of real time (wall) and CPU seconds. Then peak memory (VmHWM of the child) and time of watch_video
by clip length, against the same child that only imports and opens the landmarker.

    python benchmarks/bench_video_review.py [--seconds 60] [--rates 30/10 15/5] [--memory 60 600] [--cores 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from timing import pinned_cores, run_child

WIDTH, HEIGHT, FPS = 640, 480, 30.0
LOOP_S = 20.0

CHILD = r"""
import dataclasses, json, os, sys, time
os.sched_setaffinity(0, {int(c) for c in sys.argv[3].split(",")})
import numpy as np
from attunement.config import default_config

def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

path, stage = sys.argv[1], sys.argv[2]
rate, pose_rate = (float(x) for x in sys.argv[4].split("/"))
config = default_config()
config = dataclasses.replace(config, perception=dataclasses.replace(
    config.perception, face_rate_hz=rate, review_pose_rate_hz=pose_rate, pose_rate_hz=pose_rate))
out = {"stage": stage}
if stage == "base":  # imports and an open landmarker: the floor of every other run's memory
    from attunement.perception.landmarks import FaceBodyLandmarker
    from attunement.session.runners.offline import watch_video
    with FaceBodyLandmarker(config.perception) as marker:
        pass
    out.update(frames=0, wall_s=0.0)
elif stage == "floor":  # PyAV decode of every frame, RGB of those used, FaceMesh and Pose on them: nothing of ours
    import av, mediapipe as mp
    face = mp.solutions.face_mesh.FaceMesh(max_num_faces=1, refine_landmarks=True)
    pose = mp.solutions.pose.Pose(model_complexity=1)
    every_f = 1.0 / rate if rate > 0 else 0.0
    every_p = 1.0 / pose_rate
    t0, n, next_f, next_p = time.perf_counter(), 0, -1.0, -1.0
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for frame in c.decode(s):
            t = frame.time
            do_face, do_pose = t >= next_f - 1e-6, t >= next_p - 1e-6
            if not (do_face or do_pose):
                continue
            image = frame.to_ndarray(format="rgb24")
            if do_face:
                next_f = next_f + every_f if t < next_f + every_f else t + every_f
                face.process(image)
                n += 1
            if do_pose:
                next_p = next_p + every_p if t < next_p + every_p else t + every_p
                pose.process(image)
    out.update(frames=n, wall_s=time.perf_counter() - t0)
elif stage == "serial":  # the product's landmarks one frame at a time on one thread (FaceBodyLandmarker.process;
    # the pose on the face's frames only)
    from attunement.perception.landmarks import FaceBodyLandmarker, RateSchedule
    from attunement.sources.video import VideoReader
    t0, n = time.perf_counter(), 0
    with VideoReader(path) as reader, FaceBodyLandmarker(config.perception) as marker:
        keep = RateSchedule(1.0 / rate).due if rate > 0 else None
        for frame in reader.frames(keep=keep):
            marker.process(frame)
            n += 1
    out.update(frames=n, wall_s=time.perf_counter() - t0)
elif stage == "watch":  # the product: watch_video (threads, cues)
    from attunement.session.runners.offline import watch_video
    t0 = time.perf_counter()
    vision = watch_video(path, config=config)
    out.update(frames=int(vision.times.size), wall_s=time.perf_counter() - t0,
               faces=int(vision.face.has_face.sum()))
import resource
ru = resource.getrusage(resource.RUSAGE_SELF)
out["cpu_s"] = ru.ru_utime + ru.ru_stime  # the whole child, imports and model loading included
out["peak_kb"] = peak_kb()
print(json.dumps(out))
"""


def make_clip(folder: Path, seconds: float) -> Path:
    """The 640x480 30 fps clip of `seconds` (cached in `folder`): LOOP_S s of warped portrait, looped."""
    import cv2
    import numpy as np

    from attunement.demo.video import portrait, write_video
    from attunement.demo.warp import Nod, Pose, lean_in, pose_sequence
    from attunement.perception.landmarks import FaceBodyLandmarker
    from attunement.records import VideoFrame

    path = folder / f"review_{WIDTH}x{HEIGHT}_{FPS:g}fps_{seconds:g}s.mkv"
    if path.exists():
        return path
    still = portrait()
    scale = HEIGHT / still.shape[0]
    small = cv2.resize(still, (round(still.shape[1] * scale), HEIGHT), interpolation=cv2.INTER_AREA)
    canvas = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
    x = (WIDTH - small.shape[1]) // 2
    canvas[:, x:x + small.shape[1]] = small
    with FaceBodyLandmarker(static=True) as marker:
        src = marker.process(VideoFrame(canvas, 0.0, 0)).face
    down, turned = Pose(pitch_deg=-15.0, gaze_pitch_deg=-15.0), Pose(yaw_deg=15.0, gaze_yaw_deg=-15.0)
    keys = [(0.0, Pose()), (2.0, Pose()), (2.3, down), (3.5, down), (3.8, Pose()), (6.0, Pose()), (6.4, turned),
            (8.0, turned), (8.4, Pose())]
    keys += lean_in(10.0, gain=0.10, ramp_s=0.5, hold_s=2.0) + [(13.0, Pose()), (LOOP_S - 1.0 / FPS, Pose())]
    video = pose_sequence(canvas, src, keys, fps=FPS, nods=[Nod(15.0, 16.5, amplitude_deg=8.0, rate_hz=2.0)])
    pictures = [f.image for f in video.frames]
    n = round(seconds * FPS)
    partial = path.with_suffix(".part.mkv")
    write_video(partial, (pictures[k % len(pictures)] for k in range(n)), fps=FPS)
    partial.rename(path)  # only a complete clip is reused
    return path


def measure(path: Path, stage: str, cores: str, rate: str) -> dict:
    return run_child(CHILD, path, stage, cores, rate)


def speed_table(path: Path, seconds: float, cores: str, rates: list[str], repeats: int) -> dict:
    """Median wall time of each stage at each rate, the stages interleaved in every repeat (one run)."""
    measure(path, "watch", cores, rates[0])  # warm-up (numba cache, file cache)
    stages = ("floor", "serial", "watch")
    walls = {(r, s): [] for r in rates for s in stages}
    cpus = {r: [] for r in rates}
    for _ in range(repeats):
        for rate in rates:
            for stage in stages:
                got = measure(path, stage, cores, rate)
                walls[rate, stage].append(got["wall_s"])
                if stage == "watch":
                    cpus[rate].append(got["cpu_s"])
    med = {k: statistics.median(v) for k, v in walls.items()}
    print(f"\nspeed: {seconds:g} s of {WIDTH}x{HEIGHT} at {FPS:g} fps, {len(cores.split(','))} cores, median of "
          f"{repeats} (stages interleaved); floor = PyAV decode + FaceMesh + Pose at the same rates alone, one thread; "
          "serial = the product's landmarks on one thread; watch = watch_video (threads, cues)")
    print(f"{'face/pose Hz':>13}{'floor s':>9}{'serial s':>10}{'watch s':>9}{'watch/floor':>13}{'serial/watch':>14}"
          f"{'x realtime':>12}{'watch CPU s':>13}")
    for rate in rates:
        f, s1, w = med[rate, "floor"], med[rate, "serial"], med[rate, "watch"]
        print(f"{rate:>13}{f:9.2f}{s1:10.2f}{w:9.2f}{w / f:13.2f}{s1 / w:14.2f}{seconds / w:12.1f}{statistics.median(cpus[rate]):13.1f}")
    print("targets: watch/floor <= 1.1 (equal rate); x realtime >= 10 at the default rate")
    return med


def memory_table(folder: Path, lengths: list[float], cores: str, rate: str) -> None:
    base = None
    print(f"\npeak memory (VmHWM) and time of watch_video at face/pose {rate} Hz, {len(cores.split(','))} cores")
    print(f"{'clip':>8}{'frames':>8}{'s':>8}{'x realtime':>12}{'peak MB':>9}{'over base MB':>14}")
    for seconds in lengths:
        path = make_clip(folder, seconds)
        if base is None:
            base = measure(path, "base", cores, rate)["peak_kb"]
            print(f"{'base':>8}{0:>8}{'':>8}{'':>12}{base / 1024:9.0f}")
        r = measure(path, "watch", cores, rate)
        over = r["peak_kb"] - base
        print(f"{seconds / 60:6.1f} m{r['frames']:>8}{r['wall_s']:8.1f}{seconds / r['wall_s']:12.1f}"
              f"{r['peak_kb'] / 1024:9.0f}{over / 1024:14.0f}", flush=True)


def main() -> None:
    from attunement.config import default_config

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="clip length for the speed table (s)")
    ap.add_argument("--rates", nargs="*", default=None, help="face_hz/pose_hz pairs (default: 30/10 and the defaults)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per stage (median)")
    ap.add_argument("--memory", type=float, nargs="*", default=[60.0, 600.0], help="clip lengths for memory (s)")
    ap.add_argument("--cores", type=int, default=2, help="number of cores to pin to")
    args = ap.parse_args()
    p = default_config().perception
    default = f"{p.face_rate_hz:g}/{p.review_pose_rate_hz:g}"
    rates = args.rates if args.rates is not None else [f"30/{p.pose_rate_hz:g}", default]
    folder = Path(os.environ.get("ATTUNE_BENCH_DIR", tempfile.gettempdir())) / "attune-bench"
    folder.mkdir(exist_ok=True)
    cores = pinned_cores(args.cores)
    speed_table(make_clip(folder, args.seconds), args.seconds, cores, rates, args.repeats)
    if args.memory:
        memory_table(folder, args.memory, cores, default)
    print(f"load average: {os.getloadavg()[0]:.2f} (other work on these cores slows the wall times)")


if __name__ == "__main__":
    main()
