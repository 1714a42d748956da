"""Live session speed, latency and memory: `session.live.run_session` on sources replayed at real time.

The camera replays bench_video_review's 640x480 30 fps clip (the warped portrait, looped) and the
microphone a two-channel practice conversation (looped) as a WAV, both at pace 1 on one session
clock, in a fresh subprocess pinned to `--cores` cores, after a short warm-up session (numba cache,
file cache). Measured: frames processed per second (target 30, the camera's replay rate) and frames
the camera queue dropped because the session fell behind; capture-to-cue latency, from a frame's
capture stamp to the moment its landmarks and per-frame cues are stored (run_session's `on_frame`
hook runs right after), p50/p95/max (target p95 <= 50 ms) and its p50 in the first and last third
(a growing backlog shows as a rising latency); audio blocks dropped, device overflows and audio
filled with silence (target 0); peak memory (VmHWM) sampled every few seconds in the child (flat
after the first minute?). The review at the end (assemble_review, report) is timed separately.

    python benchmarks/bench_live.py [--minutes 1] [--cores 2] [--sample-s 5]
    python benchmarks/bench_live.py --minutes 10      # the real targets: 10 and 60 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_video_review import FPS, HEIGHT, WIDTH, make_clip  # noqa: E402
from timing import pinned_cores  # noqa: E402

CHILD = r"""
import json, os, sys, tempfile, threading, time
os.sched_setaffinity(0, {int(c) for c in sys.argv[4].split(",")})
import numpy as np
from attunement.config import default_config
from attunement.perception.landmarks import FaceBodyLandmarker
from attunement.session.runners.live import run_session, warm_up
from attunement.sources.camera import Camera
from attunement.sources.clock import SessionClock
from attunement.sources.microphone import Microphone

def status_kb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

video, audio, seconds, sample_s = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[5])
config = default_config()
lat = np.full(int(seconds * 40) + 100, np.nan)
count, dropped = [0], [0]
memory, done = [], threading.Event()

def sampler(clock):
    while not done.wait(sample_s):
        memory.append((clock.now(), status_kb("VmHWM:"), status_kb("VmRSS:")))

with FaceBodyLandmarker(config.perception) as marker, tempfile.TemporaryDirectory() as root:
    warm_up(config, (640, 480))  # as attune session does before opening the camera
    clock = SessionClock()
    start = clock.now() + 0.5  # both sources start together, once opened
    def on_frame(frame, marks):  # right after the frame's landmarks and cues are stored
        if count[0] < lat.size:
            lat[count[0]] = clock.now() - frame.t
        count[0] += 1
        dropped[0] = cam.stats.dropped  # as of the last frame: later drops happen after the session
    with Camera(video, pace=1.0, clock=clock, start=start) as cam, \
            Microphone(audio, pace=1.0, clock=clock, start=start) as mic:
        memory.append((clock.now(), status_kb("VmHWM:"), status_kb("VmRSS:")))
        threading.Thread(target=sampler, args=(clock,), daemon=True).start()
        cpu0, t0 = time.process_time(), time.perf_counter()
        result = run_session(camera=cam, mic=mic, config=config, duration_s=seconds, root=root,
                             landmarker=marker, on_frame=on_frame, channels_are_speakers=True,
                             speaker_names=["me", "partner"], me="me")
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        done.set()
        memory.append((clock.now(), status_kb("VmHWM:"), status_kb("VmRSS:")))
        review_s = float(result.review.duration_s)
        out = dict(frames=count[0], wall_s=wall, cpu_s=cpu, session_s=review_s,
                   cam_dropped=dropped[0], cam_delivered=cam.stats.delivered,
                   mic_dropped=mic.stats.dropped, mic_overflows=mic.stats.overflows,
                   mic_delivered=mic.stats.delivered,
                   filled=[n for n in result.notes if "lost" in n], notes=list(result.notes),
                   latency=[float(x) for x in lat[:min(count[0], lat.size)]], memory=memory)
print(json.dumps(out))
"""


def make_audio(folder: Path, seconds: float) -> Path:
    """A two-channel 16 kHz WAV of `seconds`: the practice conversation (seed 0), looped (cached)."""
    import wave

    import numpy as np

    from attunement.demo.conversation import practice_conversation

    path = folder / f"live_audio_{seconds:g}s.wav"
    if path.exists():
        return path
    convo = practice_conversation(seed=0, channels=2)
    n = int(seconds * convo.rate)
    reps = -(-n // convo.audio.shape[1])
    pcm = (np.clip(np.tile(convo.audio, (1, reps))[:, :n].T, -1, 1) * 32767).astype("<i2")
    partial = path.with_suffix(".part.wav")
    with wave.open(str(partial), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(convo.rate)
        w.writeframes(pcm.tobytes())
    partial.rename(path)
    return path


def run(video: Path, audio: Path, seconds: float, cores: str, sample_s: float) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(video), str(audio), str(seconds), cores, str(sample_s)],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(r: dict, seconds: float, cores: str) -> None:
    import numpy as np

    lat = 1000 * np.asarray(r["latency"])
    third = max(len(lat) // 3, 1)
    fps = r["frames"] / seconds
    print(f"\nlive session: {seconds / 60:g} min, camera {WIDTH}x{HEIGHT} at {FPS:g} fps + 2-channel 16 kHz audio, "
          f"replayed at pace 1, {len(cores.split(','))} cores")
    print(f"{'measure':<40}{'value':>12}{'target':>14}{'ratio':>8}")
    rows = [("frames processed per s", fps, f">= {FPS:g}", fps / FPS),
            ("camera frames dropped (fell behind)", r["cam_dropped"], "0", None),
            ("latency capture->cues p50, ms", np.percentile(lat, 50), "", None),
            ("latency capture->cues p95, ms", np.percentile(lat, 95), "<= 50", np.percentile(lat, 95) / 50),
            ("latency capture->cues max, ms", lat.max(), "", None),
            ("latency p50 first third, ms", np.percentile(lat[:third], 50), "", None),
            ("latency p50 last third, ms", np.percentile(lat[-third:], 50), "~ first", None),
            ("audio blocks dropped", r["mic_dropped"], "0", None),
            ("audio overflows", r["mic_overflows"], "0", None),
            ("audio filled with silence (notes)", len(r["filled"]), "0", None),
            ("CPU use, cores", r["cpu_s"] / r["wall_s"], f"<= {len(cores.split(','))}", None),
            ("wall time of run_session incl. review, s", r["wall_s"], "", None)]
    for name, value, target, ratio in rows:
        ratio_s = f"{ratio:8.2f}" if ratio is not None else ""
        print(f"{name:<40}{value:12.1f}{target:>14}{ratio_s}")
    print("\nmemory over the session (sampled in the child)")
    print(f"{'t, s':>8}{'VmHWM MB':>10}{'VmRSS MB':>10}")
    step = max(1, len(r["memory"]) // 20)  # about 20 rows whatever the length
    rows = r["memory"][::step]
    for t, hwm, rss in rows + ([] if rows[-1] is r["memory"][-1] else r["memory"][-1:]):
        print(f"{t:8.1f}{hwm / 1024:10.0f}{rss / 1024:10.0f}")
    mem = r["memory"]
    if len(mem) >= 3:
        mid = mem[len(mem) // 2]
        rate = (mem[-2][2] - mid[2]) / 1024 / max((mem[-2][0] - mid[0]) / 60, 1e-9)
        print(f"peak growth in the second half: {(mem[-2][1] - mid[1]) / 1024:.1f} MB (flat: ~0); RSS slope "
              f"{rate:.1f} MB/min (the landmark track keeps ~0.3 kB a frame: {0.3 * FPS * 60 / 1024:.1f} MB/min; "
              f"before it was reduced per chunk, 6.6 kB: {6.6 * FPS * 60 / 1024:.1f} MB/min)")
    if r["notes"]:
        print("notes:", "; ".join(r["notes"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=1.0, help="session length (min); 10 and 60 for the targets")
    ap.add_argument("--cores", type=int, default=2, help="number of cores to pin to")
    ap.add_argument("--sample-s", type=float, default=5.0, help="memory sampling period (s)")
    args = ap.parse_args()
    folder = Path(os.environ.get("ATTUNE_BENCH_DIR", tempfile.gettempdir())) / "attune-bench"
    folder.mkdir(exist_ok=True)
    cores = pinned_cores(args.cores)
    seconds = 60.0 * args.minutes
    video, audio = make_clip(folder, seconds + 5.0), make_audio(folder, seconds + 5.0)
    run(make_clip(folder, 10.0), make_audio(folder, 10.0), 5.0, cores, args.sample_s)  # warm-up
    report(run(video, audio, seconds, cores, args.sample_s), seconds, cores)
    print(f"load average: {os.getloadavg()[0]:.2f} (other work on these cores slows the wall times)")


if __name__ == "__main__":
    main()
