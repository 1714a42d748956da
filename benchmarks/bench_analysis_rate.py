"""Analysis rate: the camera cues of `watch_video` with FaceMesh at 10, 15, 30 Hz and Pose at 10 or 5 Hz
against FaceMesh on every frame and Pose at [perception] pose_rate_hz (the full-rate result).

On the real clips (`$ATTUNE_DATA`/video/*.mp4 and video/gaze/*.mp4, default ../shared/data; never
copied) and the demo video (`attune demo`'s, seed 0, its first `--demo-seconds`), in one process
one after another so the times are comparable (ratios, not absolute times, are the figure; the
machine is shared). For each clip and rate: wall time, eye-contact share, nods, shakes, lean-in
share, open-posture share, and the differences from the every-frame result; then the largest
difference over all clips and whether every clip kept within its tolerance (`tolerance` of
tests/session/test_analysis_rate.py: TOLERANCE, and for shares at least HELD_S of the clip).

    python benchmarks/bench_analysis_rate.py [--rates 0/10 30/10 15/10 15/5 10/5] [--demo-seconds 60]

A rate is face_hz/pose_hz; face 0 = every frame.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.session.test_analysis_rate import HELD_S, TOLERANCE, tolerance  # noqa: E402  (one tolerance for the test and this table)


def cues(vision) -> dict[str, float]:
    """The cues the review reports, from a Vision."""
    from attunement.summary.cues_json import cues_to_json

    js = cues_to_json(vision, [], me=None)
    nan = float("nan")
    return {"eye_contact": js["eye_contact_share"] if js["eye_contact_share"] is not None else nan,
            "lean_in": js["lean_in_share"] if js["lean_in_share"] is not None else nan,
            "open_posture": js["open_posture_share"] if js["open_posture_share"] is not None else nan,
            "nods": len(vision.face.of_kind("nod")), "shakes": len(vision.face.of_kind("shake"))}


def clips(data: Path, demo_seconds: float) -> list[Path]:
    found = sorted(data.glob("video/*.mp4")) + sorted(data.glob("video/gaze/*.mp4"))
    if demo_seconds > 0:
        from attunement.demo.conversation import practice_conversation
        from attunement.demo.video import render_demo_video

        path = Path(tempfile.gettempdir()) / f"attune-bench-demo-{demo_seconds:g}.mkv"
        if not path.exists():
            convo = practice_conversation(seed=0, channels=2)
            render_demo_video(path, convo.audio[:, :int(demo_seconds * convo.rate)], convo.rate)
        found.append(path)
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", nargs="*", default=["0/10", "30/10", "15/10", "15/5", "10/5"],
                    help="face_hz/pose_hz (face 0: every frame); the first is the reference")
    ap.add_argument("--demo-seconds", type=float, default=60.0)
    args = ap.parse_args()
    from attunement.config import default_config
    from attunement.session.runners.offline import watch_video

    config = default_config()
    data = Path(os.environ.get("ATTUNE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    worst = {r: dict.fromkeys(TOLERANCE, 0.0) for r in args.rates}
    kept = dict.fromkeys(args.rates, True)
    times = {r: 0.0 for r in args.rates}
    keys = list(TOLERANCE)
    print(f"{'clip':<28}{'face/pose Hz':>13}{'s':>7}{'x full':>7}" + "".join(f"{k:>14}" for k in keys))
    for path in clips(data, args.demo_seconds):
        full = None
        for rate in args.rates:
            face, pose = (float(x) for x in rate.split("/"))
            cfg = dataclasses.replace(config, perception=dataclasses.replace(
                config.perception, face_rate_hz=face, review_pose_rate_hz=pose))
            t0 = time.perf_counter()
            vision = watch_video(path, config=cfg)
            got = cues(vision)
            wall = time.perf_counter() - t0
            times[rate] += wall
            full = full or (got, wall)
            diff = {k: abs(got[k] - full[0][k]) for k in keys}
            seconds = float(vision.times[-1] - vision.times[0]) if vision.times.size > 1 else 1.0
            for k in keys:
                if np.isfinite(diff[k]):
                    worst[rate][k] = max(worst[rate][k], diff[k])
                    kept[rate] &= bool(diff[k] <= tolerance(k, seconds) + 1e-9)
            cells = "".join(f"{got[k]:>8.3g} ({got[k] - full[0][k]:+.2g})" if np.isfinite(got[k]) else f"{'-':>14}"
                            for k in keys)
            print(f"{path.name[:27]:<28}{rate:>13}{wall:7.1f}{wall / full[1]:7.2f}{cells}", flush=True)
    print("\nlargest difference from every frame over all clips (tolerance in brackets; shares may also move by"
          f" {HELD_S:g} s of the clip), time of all clips against every frame")
    print(f"{'face/pose Hz':>13}{'x full':>8}" + "".join(f"{k + ' (' + str(TOLERANCE[k]) + ')':>20}" for k in keys) + "  within")
    base = times[args.rates[0]]
    for rate in args.rates:
        ok = kept[rate]
        print(f"{rate:>13}{times[rate] / base:8.2f}" + "".join(f"{worst[rate][k]:>20.3g}" for k in keys)
              + f"  {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
