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

With `--shared-mic` the microphone is one microphone shared by two people: real speech (the
assembled two-person talks of sample.wav's voices, benchmarks/neural_eval.py, looped; mono), diarized
live by each engine of `--engines` in turn ([diarization] live_engine: "neural" runs segmentation and
embeddings on a worker thread during the session, conversation/neural_live.py; "mfcc" the
model-free one), so the two runs side by side show what the worker costs: its CPU seconds per
second of session (logged by the diarizer), the camera's latency with and without it, the wait
from the end of the session to its review (and how much of it is the diarizer's end step), the
size of its stored windows. As `attune session` does, the live transcription worker runs too
(session/live_words.py; `--no-words` leaves it out). Each run also gives the CPU of every thread
(which thread costs what: the camera's, mediapipe's own, the workers', onnxruntime's pools), the
latency of the frames a new pose came with apart from the others, and the load average (other
processes on the cores slow everything); `--json` keeps the raw figures.
`--no-camera --pace P` replays the audio alone P times faster than
real time (the worker then has P times less time per window: a harder test of keeping up) to
measure the end of a long session without spending its hour.

    python benchmarks/bench_live.py [--minutes 1] [--cores 2] [--sample-s 5]
    python benchmarks/bench_live.py --minutes 10      # the real targets: 10 and 60 minutes
    python benchmarks/bench_live.py --shared-mic --minutes 10 [--engines neural mfcc] [--repeats 3]
    python benchmarks/bench_live.py --shared-mic --no-camera --pace 4 --minutes 60 --engines neural
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
import json, logging, os, sys, tempfile, threading, time
from contextlib import nullcontext
opt = json.loads(sys.argv[1])
os.sched_setaffinity(0, {int(c) for c in opt["cores"].split(",")})
import numpy as np
from attunement.config import default_config
from attunement.session.runners.live import run_session, warm_up
from attunement.sources.camera import Camera
from attunement.sources.clock import SessionClock
from attunement.sources.microphone import Microphone

def status_kb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

class Worker(logging.Handler):  # the live diarizer's own account of its worker (conversation/neural_live.py)
    records = []
    def emit(self, record):
        if record.getMessage().startswith("live diarization:"):
            self.records.append(record.args)

logging.getLogger("attunement.conversation.neural_live").addHandler(Worker())
logging.getLogger("attunement.conversation.neural_live").setLevel(logging.INFO)
video, audio, seconds, sample_s, pace = opt["video"], opt["audio"], opt["seconds"], opt["sample_s"], opt["pace"]
config = default_config()
if opt["engine"]:
    config = config.replace("diarization", live_engine=opt["engine"])
lat = np.full(int(seconds * 40) + 100, np.nan)
posed, last_pose = np.zeros(lat.size, bool), [float("nan")]
count, dropped, summary = [0], [0], []
memory, done = [], threading.Event()

threads = {}  # native thread id -> [name, CPU s]: which thread costs what (Python names; others are native)
tick = os.sysconf("SC_CLK_TCK")

def thread_cpu():
    names = {t.native_id: t.name for t in threading.enumerate()}
    for tid in os.listdir("/proc/self/task"):
        try:
            f = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()
            comm = open(f"/proc/self/task/{tid}/comm").read().strip()
        except OSError:
            continue
        name = names.get(int(tid)) or threads.get(int(tid), [None])[0] or f"native:{comm}"
        threads[int(tid)] = [name, (int(f[11]) + int(f[12])) / tick]

def sampler(clock):
    while not done.wait(sample_s):
        memory.append((clock.now(), status_kb("VmHWM:"), status_kb("VmRSS:")))
        thread_cpu()

def _by_name(threads):  # CPU s per thread kind (the native ones summed by their comm)
    out = {}
    for name, cpu in threads.values():
        key = name if not name.startswith("native:") else "native:" + name[7:].rstrip("0123456789-_")
        out[key] = out.get(key, 0.0) + cpu
    return out

def progress(stage, k, total):  # the end of the session: review, words, folder (session/progress.py)
    summary.append((stage, k, clock.now()))

from attunement.perception.landmarks import FaceBodyLandmarker
with (FaceBodyLandmarker(config.perception) if video else nullcontext()) as marker, \
        tempfile.TemporaryDirectory() as root:
    if video:
        warm_up(config, (640, 480))  # as attune session does before opening the camera
    clock = SessionClock()
    start = clock.now() + 0.5  # both sources start together, once opened
    def on_frame(frame, marks):  # right after the frame's landmarks and cues are stored
        if count[0] < lat.size:
            lat[count[0]] = clock.now() - frame.t
            posed[count[0]] = marks.pose_t != last_pose[0]  # a new pose arrived with this frame
            last_pose[0] = marks.pose_t
        count[0] += 1
        dropped[0] = cam.stats.dropped  # as of the last frame: later drops happen after the session
    with (Camera(video, pace=pace, clock=clock, start=start) if video else nullcontext()) as cam, \
            Microphone(audio, pace=pace, clock=clock, start=start) as mic:
        memory.append((clock.now(), status_kb("VmHWM:"), status_kb("VmRSS:")))
        threading.Thread(target=sampler, args=(clock,), daemon=True).start()
        cpu0, t0 = time.process_time(), time.perf_counter()
        who = (dict() if opt["shared"] else
               dict(channels_are_speakers=True, speaker_names=["me", "partner"], me="me"))
        load0 = os.getloadavg()[0]
        result = run_session(camera=cam, mic=mic, config=config, duration_s=seconds if pace == 1 else None,
                             root=root, landmarker=marker, on_frame=on_frame if video else None,
                             progress=progress, words=opt["words"], **who)
        thread_cpu()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        ended = clock.now()
        done.set()
        memory.append((clock.now(), status_kb("VmHWM:"), status_kb("VmRSS:")))
        review_s = float(result.review.duration_s)
        session_end = start + (review_s - start) / pace  # when the last sample heard was due (stamps run at pace)
        stored = {p.stem: p.stat().st_size for p in result.folder.glob("*.log")}
        out = dict(frames=count[0], wall_s=wall, cpu_s=cpu, session_s=review_s,
                   cam_dropped=dropped[0], cam_delivered=cam.stats.delivered if video else 0,
                   mic_dropped=mic.stats.dropped, mic_overflows=mic.stats.overflows,
                   mic_delivered=mic.stats.delivered,
                   filled=[n for n in result.notes if "lost" in n], notes=list(result.notes),
                   latency=[float(x) for x in lat[:min(count[0], lat.size)]], memory=memory,
                   posed=[bool(x) for x in posed[:min(count[0], lat.size)]],
                   end_wait_s=ended - session_end, summary=[(k, t - session_end) for _, k, t in summary],
                   worker=[list(a) for a in Worker.records], stored=stored,
                   speakers=list(result.review.speakers), engine=opt["engine"],
                   load=(load0, os.getloadavg()[0]), threads=_by_name(threads),
                   utterances=None if result.review.words is None else len(result.review.words))
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


def make_talk_audio(folder: Path, seconds: float) -> Path:
    """A mono 16 kHz WAV of `seconds`: the assembled two-person talks of real speech
    (benchmarks/neural_eval.py `talks`, sample.wav's voices and the read sentences), looped (cached)."""
    import numpy as np
    import soundfile as sf

    from neural_eval import talks

    path = folder / f"live_talk_{seconds:g}s.wav"
    if path.exists():
        return path
    pool = np.concatenate([t.audio for t in talks()])
    n = int(seconds * 16000)
    x = np.tile(pool, -(-n // pool.size))[:n]
    partial = path.with_suffix(".part.wav")
    sf.write(partial, x, 16000, subtype="PCM_16")
    partial.rename(path)
    return path


def run(video: Path | None, audio: Path, seconds: float, cores: str, sample_s: float, *, shared: bool = False,
        engine: str | None = None, pace: float = 1.0, words: bool = False) -> dict:
    opt = {"video": str(video) if video else None, "audio": str(audio), "seconds": seconds, "cores": cores,
           "sample_s": sample_s, "shared": shared, "engine": engine, "pace": pace, "words": words}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(opt)], capture_output=True, text=True)
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


def report_shared(results: dict, seconds: float, cores: str, pace: float, camera: bool, *, words: bool) -> None:
    """One column per live_engine, measured in the same run (each figure the median of the repeats,
    which ran interleaved): what the trained diarizer's worker costs."""
    import numpy as np

    engines = list(results)
    repeats = len(results[engines[0]])
    what = f"camera {WIDTH}x{HEIGHT} at {FPS:g} fps + " if camera else ""
    print(f"\nlive session, one shared microphone: {seconds / 60:g} min, {what}mono 16 kHz real speech "
          f"(assembled talks, looped), replayed at pace {pace:g}, {len(cores.split(','))} cores, live transcription "
          f"{'on' if words else 'off'}; median of {repeats} interleaved run(s) per engine")

    def lat(r, q, posed=None):
        x = 1000 * np.asarray(r["latency"])
        if posed is not None:
            x = x[np.asarray(r["posed"], bool) == posed]
        return float(np.percentile(x, q)) if x.size else float("nan")

    def worker(r, i):  # (windows, busy CPU s, audio s, CPU s per s, s at the end) from neural_live's log
        return r["worker"][0][i] if r["worker"] else float("nan")

    def at(r, k):  # s from the session's end to the k-th step of the summary progress (0 starts, 1 review, 3 saved)
        return next((t for kk, t in r["summary"] if kk == k), float("nan"))

    rows = []
    if camera:
        rows += [("camera frames processed per s", lambda r: r["frames"] / seconds, f">= {FPS:g}"),
                 ("camera frames dropped (fell behind)", lambda r: r["cam_dropped"], "0"),
                 ("latency capture->cues p50, ms", lambda r: lat(r, 50), ""),
                 ("latency capture->cues p95, ms", lambda r: lat(r, 95), f"<= {1000 / FPS:.0f}"),
                 ("latency capture->cues max, ms", lambda r: max(r["latency"]) * 1000, ""),
                 ("  p95 of frames a new pose came with, ms", lambda r: lat(r, 95, posed=True), ""),
                 ("  p95 of the other frames, ms", lambda r: lat(r, 95, posed=False), "")]
    rows += [("audio blocks dropped", lambda r: r["mic_dropped"], "0"),
             ("audio overflows", lambda r: r["mic_overflows"], "0"),
             ("audio filled with silence (notes)", lambda r: len(r["filled"]), "0"),
             ("CPU use of the process, cores", lambda r: r["cpu_s"] / r["wall_s"], f"<= {len(cores.split(','))}"),
             ("diarizer worker: windows", lambda r: worker(r, 0), ""),
             ("diarizer worker: CPU s per s of audio", lambda r: worker(r, 3), ""),
             ("diarizer: end step (last window, clustering), s", lambda r: worker(r, 4), ""),
             ("session end -> review assembled, s", lambda r: at(r, 1), ""),
             ("session end -> review returned and saved, s", lambda r: r["end_wait_s"], "<= 10"),
             ("stored seg + emb logs, kB per min", lambda r: (r["stored"].get("seg", 0) + r["stored"].get("emb", 0))
              / 1024 / (seconds / 60), ""),
             ("speakers found (the looped talks hold 4 voices)", lambda r: len(r["speakers"]), "4"),
             ("memory (VmRSS) at mid-session, MB", lambda r: r["memory"][len(r["memory"]) // 2][2] / 1024, ""),
             ("memory (VmRSS) at the last sample in the session, MB", lambda r: r["memory"][-2][2] / 1024, ""),
             ("peak memory (VmHWM) in the session, MB", lambda r: r["memory"][-2][1] / 1024, ""),
             ("peak memory (VmHWM) with the review, MB", lambda r: r["memory"][-1][1] / 1024, ""),
             ("utterances transcribed", lambda r: float("nan") if r["utterances"] is None else r["utterances"], ""),
             ("load average (1 min) at the start", lambda r: r["load"][0], ""),
             ("load average (1 min) at the end", lambda r: r["load"][1], "")]
    head = "".join(f"{e:>12}" for e in engines)
    ratio = f"{engines[0] + '/' + engines[1]:>14}" if len(engines) == 2 else ""
    print(f"{'measure':<50}{head}{'target':>10}{ratio}")
    for name, f, target in rows:
        vals = [float(np.median([f(r) for r in results[e]])) for e in engines]
        cells = "".join(f"{v:12.3f}" if isinstance(v, float) and abs(v) < 10 else f"{v:12.1f}" for v in vals)
        r = ""
        if len(vals) == 2 and np.isfinite(vals[0]) and np.isfinite(vals[1]) and vals[1]:
            r = f"{vals[0] / vals[1]:14.2f}"
        print(f"{name:<50}{cells}{target:>10}{r}")
    print("\ncores used by each thread: its CPU s / wall s of run_session, review included (median; native: "
          "threads Python did not start: onnxruntime's pools, mediapipe's, the decoder's)")
    names = sorted({n for e in engines for r in results[e] for n in r["threads"]})
    for n in names:
        vals = [float(np.median([r["threads"].get(n, 0.0) / r["wall_s"] for r in results[e]]))
                for e in engines]
        if max(vals) >= 0.001:
            print(f"{n:<50}" + "".join(f"{v:12.3f}" for v in vals))
    for e in engines:
        for r in results[e]:
            if r["notes"]:
                print(f"notes ({e}):", "; ".join(r["notes"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=1.0, help="session length (min); 10 and 60 for the targets")
    ap.add_argument("--cores", type=int, default=2, help="number of cores to pin to")
    ap.add_argument("--sample-s", type=float, default=5.0, help="memory sampling period (s)")
    ap.add_argument("--shared-mic", action="store_true", help="one microphone shared by two people, diarized live")
    ap.add_argument("--engines", nargs="+", default=["neural", "mfcc"], choices=["neural", "mfcc"],
                    help="with --shared-mic: [diarization] live_engine of each run, side by side")
    ap.add_argument("--no-camera", action="store_true", help="with --shared-mic: the microphone alone")
    ap.add_argument("--pace", type=float, default=1.0, help="with --shared-mic --no-camera: replay this many times "
                    "faster than real time")
    ap.add_argument("--repeats", type=int, default=1, help="with --shared-mic: runs per engine (medians)")
    ap.add_argument("--json", type=Path, help="with --shared-mic: also write every run's raw figures here")
    ap.add_argument("--no-words", action="store_true", help="with --shared-mic: without the live transcription "
                    "worker (`attune session` runs it unless --no-words or [words] transcribe = false)")
    args = ap.parse_args()
    folder = Path(os.environ.get("ATTUNE_BENCH_DIR", tempfile.gettempdir())) / "attune-bench"
    folder.mkdir(exist_ok=True)
    cores = pinned_cores(args.cores)
    seconds = 60.0 * args.minutes
    if args.shared_mic:
        camera = not args.no_camera
        if camera and args.pace != 1:
            raise SystemExit("--pace other than 1 needs --no-camera (the camera's latency is measured in real time)")
        extra = 5.0 if args.pace == 1 else 0.0  # at pace 1 the session ends at its duration, else with the file
        video, audio = (make_clip(folder, seconds + extra) if camera else None), make_talk_audio(folder, seconds + extra)
        run(make_clip(folder, 10.0) if camera else None, make_talk_audio(folder, 10.0), 10.0, cores, args.sample_s,
            shared=True, engine="neural", words=not args.no_words)  # warm-up
        results = {e: [] for e in args.engines}
        for _ in range(args.repeats):  # interleaved: the machine's load drifts over a run
            for e in args.engines:
                results[e].append(run(video, audio, seconds, cores, args.sample_s, shared=True, engine=e,
                                      pace=args.pace, words=not args.no_words))
        if args.json:
            args.json.write_text(json.dumps(results))
        report_shared(results, seconds, cores, args.pace, camera, words=not args.no_words)
    else:
        video, audio = make_clip(folder, seconds + 5.0), make_audio(folder, seconds + 5.0)
        run(make_clip(folder, 10.0), make_audio(folder, 10.0), 5.0, cores, args.sample_s)  # warm-up
        report(run(video, audio, seconds, cores, args.sample_s), seconds, cores)
    print(f"load average: {os.getloadavg()[0]:.2f} (other work on these cores slows the wall times)")


if __name__ == "__main__":
    main()
