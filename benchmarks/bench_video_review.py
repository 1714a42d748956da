"""Video review speed and memory: `session.vision.watch_video` on a generated 640x480, 30 fps clip.

The clip is the real portrait (scaled onto a 640x480 canvas) moved by the warp (demo/warp.py:
looks down, turns, leans in, nods; 20 s of motion, looped), encoded as MPEG-4 by
demo_video.write_video. Each measurement runs in a fresh subprocess pinned to `--cores` cores,
after a warm-up run (numba cache, file cache). Stages: decode (VideoReader alone), face (FaceMesh
on every frame), pose (Pose at [perception] pose_rate_hz), cues (analyze_face + posture_of on the
collected landmarks), each as ms per frame, share of the whole and multiple of real time; then
watch_video itself. Peak memory (VmHWM of the child) of watch_video on 1- and 5-minute clips,
against the same child that only imports and opens the landmarker.

    python benchmarks/bench_video_review.py [--seconds 60] [--memory 60 300] [--cores 2]
"""

from __future__ import annotations

import argparse
import os
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
from attunement.cues.face import analyze_face, stack_landmarks
from attunement.cues.posture import posture_of
from attunement.perception.landmarks import FaceBodyLandmarker
from attunement.cues.track import watch_video
from attunement.sources.video import VideoReader

def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

path, stage = sys.argv[1], sys.argv[2]
config = default_config()
out = {"stage": stage}
if stage == "base":  # imports and an open landmarker: the floor of every other run
    with FaceBodyLandmarker(config.perception) as marker:
        pass
    out.update(frames=0, wall_s=0.0)
elif stage == "decode":
    t0, n = time.perf_counter(), 0
    with VideoReader(path) as reader:
        for frame in reader.frames():
            n += 1
    out.update(frames=n, wall_s=time.perf_counter() - t0)
elif stage in ("face", "landmarks"):
    rate = 0.0 if stage == "face" else config.perception.pose_rate_hz
    marks = []
    with VideoReader(path) as reader, FaceBodyLandmarker(dataclasses.replace(config.perception,
                                                                              pose_rate_hz=rate)) as marker:
        t0 = time.perf_counter()
        for frame in reader.frames():
            marks.append(marker.process(frame))
        out.update(frames=len(marks), wall_s=time.perf_counter() - t0)
    if stage == "landmarks":
        t0 = time.perf_counter()
        faces, times, size = stack_landmarks(marks)
        face = analyze_face(faces, times, size, config=config.cues)
        posture_of(marks, config=config.posture)
        out.update(cues_s=time.perf_counter() - t0)
elif stage == "watch":
    t0 = time.perf_counter()
    vision = watch_video(path, config=config)
    out.update(frames=int(vision.times.size), wall_s=time.perf_counter() - t0,
               faces=int(vision.face.has_face.sum()))
out["peak_kb"] = peak_kb()
print(json.dumps(out))
"""


def make_clip(folder: Path, seconds: float) -> Path:
    """The 640x480 30 fps clip of `seconds` (cached in `folder`): LOOP_S s of warped portrait, looped."""
    import cv2
    import numpy as np

    from attunement.perception.landmarks import FaceBodyLandmarker
    from attunement.records import VideoFrame
    from attunement.demo.video import portrait, write_video
    from attunement.demo.warp import Nod, Pose, lean_in
    from attunement.demo.warp import pose_sequence

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
    n = int(round(seconds * FPS))
    partial = path.with_suffix(".part.mkv")
    write_video(partial, (pictures[k % len(pictures)] for k in range(n)), fps=FPS)
    partial.rename(path)  # only a complete clip is reused
    return path


def measure(path: Path, stage: str, cores: str) -> dict:
    return run_child(CHILD, path, stage, cores)


def speed_table(path: Path, seconds: float, cores: str) -> None:
    measure(path, "watch", cores)  # warm-up
    r = {stage: measure(path, stage, cores) for stage in ("decode", "face", "landmarks", "watch")}
    n = r["watch"]["frames"]
    ms = {"decode": r["decode"]["wall_s"], "face": r["face"]["wall_s"] - r["decode"]["wall_s"],
          "pose": r["landmarks"]["wall_s"] - r["face"]["wall_s"], "cues": r["landmarks"]["cues_s"]}
    ms = {k: 1000 * v / n for k, v in ms.items()}
    whole = 1000 * r["watch"]["wall_s"] / n
    print(f"\nspeed: {n} frames ({seconds:g} s, {WIDTH}x{HEIGHT}, {FPS:g} fps), {len(cores.split(','))} cores; "
          f"face found in {r['watch']['faces'] / n:.0%}")
    print(f"{'stage':<24}{'ms/frame':>10}{'share':>8}{'x realtime':>12}")
    for stage, v in ms.items():
        print(f"{stage:<24}{v:10.2f}{v / whole:8.2f}{(1000 / FPS) / v:12.1f}")
    print(f"{'sum of stages':<24}{sum(ms.values()):10.2f}{sum(ms.values()) / whole:8.2f}"
          f"{(1000 / FPS) / sum(ms.values()):12.1f}")
    print(f"{'watch_video (measured)':<24}{whole:10.2f}{1.0:8.2f}{(1000 / FPS) / whole:12.1f}"
          "   target >= 1 (real time)")


def memory_table(folder: Path, lengths: list[float], cores: str) -> None:
    base = None
    print(f"\npeak memory (VmHWM) of watch_video, {len(cores.split(','))} cores")
    print(f"{'clip':>8}{'frames':>8}{'peak MB':>9}{'over base MB':>14}{'kB/frame':>10}")
    for seconds in lengths:
        path = make_clip(folder, seconds)
        if base is None:
            base = measure(path, "base", cores)["peak_kb"]
            print(f"{'base':>8}{0:>8}{base / 1024:9.0f}")
        r = measure(path, "watch", cores)
        over = r["peak_kb"] - base
        print(f"{seconds / 60:6.1f} m{r['frames']:>8}{r['peak_kb'] / 1024:9.0f}{over / 1024:14.0f}"
              f"{over / r['frames']:10.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="clip length for the speed table (s)")
    ap.add_argument("--memory", type=float, nargs="*", default=[60.0, 300.0], help="clip lengths for memory (s)")
    ap.add_argument("--cores", type=int, default=2, help="number of cores to pin to")
    args = ap.parse_args()
    folder = Path(os.environ.get("ATTUNE_BENCH_DIR", tempfile.gettempdir())) / "attune-bench"
    folder.mkdir(exist_ok=True)
    cores = pinned_cores(args.cores)
    speed_table(make_clip(folder, args.seconds), args.seconds, cores)
    if args.memory:
        memory_table(folder, args.memory, cores)
    print(f"load average: {os.getloadavg()[0]:.2f} (other work on these cores slows the wall times)")


if __name__ == "__main__":
    main()
