"""Mono diarization: DER per file, talk shares on assembled two-person talks, speed and peak memory.

Targets (diarization issue): sample.wav DER <= 15 %; AMI excerpts mean DER <= 30 %; talk
shares within 5 points of the truth; >= 100x real time on a 60-minute recording on two cores.
Tuned on sample + AMI train (trn01-09); dev00/dev01 are held out.

    python benchmarks/bench_diarize.py [--minutes 60] [--seeds 4] [--embeddings mfcc|dvector] [--parts der,shares,...]

`--embeddings dvector` runs the opt-in d-vector clustering ([diarization] embeddings; needs the
encoder's weights, see attunement.conversation.dvector.model_path) in every table.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "calibration"))

CHILD = r"""
import json, sys, time
from attunement.config import default_config
from attunement.conversation.diarize import Diarizer
from attunement.perception.vad import VoiceActivityDetector
from attunement.sources.media import MediaReader
config = default_config().replace("diarization", embeddings=sys.argv[2])
t0 = time.perf_counter()
with MediaReader(sys.argv[1]) as reader:
    vad = VoiceActivityDetector(config=config.vad, channels=1)
    diarizer = Diarizer(config=config.diarization)
    duration = 0.0
    for block in reader.blocks():
        vad.feed(block); diarizer.feed(block); duration = block.t0 + block.duration
t1 = time.perf_counter()
segments = diarizer.finish(vad.finish(), duration)
t2 = time.perf_counter()
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"stream_s": t1 - t0, "finish_s": t2 - t1, "audio_s": duration, "peak_mb": hwm / 1024,
                  "speakers": len({s.speaker for s in segments})}))
"""


def error_split(ref, hyp, *, end_s: float = 30.0) -> dict[str, float]:
    """Missed + false-alarm speech split by cause, as shares of the reference speech (10 ms grid, 0-end_s).

    overlap: reference overlap where fewer speakers are output than talk (at least one is);
    vad_solo / vad_overlap: reference speech where nothing is output, one voice / several;
    false_alarm: speakers output beyond the reference's count.
    """
    n = round(end_s * 100)
    t = (np.arange(n) + 0.5) / 100

    def count(segments):
        out = np.zeros(n, dtype=np.int64)
        for who in {s.speaker for s in segments}:
            on = np.zeros(n, dtype=bool)
            for s in segments:
                if s.speaker == who:
                    on |= (t >= s.start) & (t < s.end)
            out += on
        return out

    r, h = count(ref), count(hyp)
    total = max(int(r.sum()), 1)
    return {"overlap": float((np.maximum(r - h, 0) * ((r >= 2) & (h >= 1))).sum() / total),
            "vad_solo": float((r * ((h == 0) & (r == 1))).sum() / total),
            "vad_overlap": float((r * ((h == 0) & (r >= 2))).sum() / total),
            "false_alarm": float(np.maximum(h - r, 0).sum() / total),
            "ref_overlap": float(((r >= 2).sum()) / max(int((r >= 1).sum()), 1))}


def _config(embeddings: str):
    from attunement.config import default_config

    return default_config().replace("diarization", embeddings=embeddings)


def _prepare(path, embeddings: str):
    """tune_diarize.prepare, plus the mel frames (dvector.mel_frames) when d-vectors are used."""
    from tune_diarize import prepare

    from attunement.conversation import dvector as dv
    from attunement.sources.media import read_audio

    x = read_audio(path, rate=16000)[0].mean(axis=0).astype(np.float32)
    return prepare(x), (dv.mel_frames(x) if embeddings == "dvector" else None)


def _score(prepared, ref, cfg, uem=(0.0, 30.0)):
    """tune_diarize.score, passing the mel frames on."""
    from attunement.evaluation.der import diarization_error
    from attunement.conversation.diarize import diarize_frames, frames_to_segments

    (feats, speech, duration), mel = prepared
    labels, overlap = diarize_frames(feats, speech, config=cfg, mel=mel)
    hyp = frames_to_segments(labels, t0=0.0, end_s=duration) + frames_to_segments(overlap, t0=0.0, end_s=duration)
    return diarization_error(ref, hyp, uem=uem), hyp


def _diarize(audio, cfg, num_speakers=None):
    """tests/test_diarize_realdata.diarize with a given config: the streaming Diarizer on 2 s blocks."""
    from attunement.conversation.diarize import Diarizer
    from attunement.perception.vad import detect_speech
    from attunement.records import AudioBlock

    x = audio.mean(axis=0).astype(np.float32) if audio.ndim == 2 else audio.astype(np.float32)
    activity = detect_speech(x, 16000, config=cfg.vad)
    d = Diarizer(config=cfg.diarization, num_speakers=num_speakers)
    for a in range(0, x.size, 32000):
        d.feed(AudioBlock(x[None, a:a + 32000], a / 16000, 16000))
    return d.finish(activity, x.size / 16000)


def der_table(files, embeddings: str = "mfcc") -> None:
    from tune_diarize import DEV

    cfg = _config(embeddings).diarization
    print(f"embeddings = {embeddings}")
    print(f"{'file':>8} {'set':>6} {'DER':>6} {'DER c.25':>9} {'miss':>6} {'FA':>6} {'conf':>6} {'spk ref/hyp':>12} "
          f"{'miss: overlap as one':>21} {'VAD miss 1 / 2+':>16} {'ref overlap':>12}")
    ami, ami_c, splits = [], [], []
    for k, (wav, ref) in files.items():
        prepared = _prepare(wav, embeddings)
        e, hyp = _score(prepared, ref, cfg)
        from attunement.evaluation.der import diarization_error
        c = diarization_error(ref, hyp, uem=(0.0, 30.0), collar_s=0.25)
        split = error_split(ref, hyp)
        if k != "sample":
            ami.append(e.der)
            ami_c.append(c.der)
            splits.append(split)
        part = "held" if k in DEV else "tune"
        n_ref, n_hyp = len({s.speaker for s in ref}), len({s.speaker for s in hyp})
        print(f"{k:>8} {part:>6} {e.der:6.3f} {c.der:9.3f} {e.missed_s / e.total_s:6.3f} "
              f"{e.false_alarm_s / e.total_s:6.3f} {e.confusion_s / e.total_s:6.3f} {n_ref:>6}/{n_hyp} "
              f"{split['overlap']:21.3f} {split['vad_solo']:9.3f} / {split['vad_overlap']:.3f} {split['ref_overlap']:12.3f}")
    mean = {key: np.mean([s[key] for s in splits]) for key in splits[0]}
    print(f"{'AMI mean':>8} {'':>6} {np.mean(ami):6.3f} {np.mean(ami_c):9.3f}   (target <= 0.30; sample target <= 0.15)"
          f"   miss+FA split: overlap as one {mean['overlap']:.3f}, VAD miss {mean['vad_solo']:.3f} + "
          f"{mean['vad_overlap']:.3f}, false alarm {mean['false_alarm']:.3f}")


def shares_table(files, embeddings: str = "mfcc") -> None:
    """Talk shares (turn-taking of review_file) from our diarization minus from the reference RTTM, per
    reference speaker, ours mapped one to one by the largest total overlap; the largest miss per file."""
    import itertools

    from attunement.session.runners.offline import review_file

    cfg = _config(embeddings)
    print(f"\n{'file':>8} {'spk ref/hyp':>12} {'max pts off':>12}  per reference speaker (points)")
    worst = []
    for k, (wav, ref) in files.items():
        ours = review_file(wav, config=cfg, video=False)
        truth = review_file(wav, config=cfg, video=False, reference=ref)
        mine, theirs = list(ours.turn_taking.per_speaker), list(truth.turn_taking.per_speaker)

        def together(a, b):
            return sum(max(0.0, min(x.end, y.end) - max(x.start, y.start)) for x in ours.segments
                       if x.speaker == a for y in truth.segments if y.speaker == b)

        best = max((dict(zip(mine, p)) for p in itertools.permutations(theirs, min(len(mine), len(theirs)))),
                   key=lambda m: sum(together(a, b) for a, b in m.items()), default={})
        back = {b: a for a, b in best.items()}
        off = {b: 100 * ((ours.turn_taking.per_speaker[back[b]].talk_share if b in back else 0.0)
                         - truth.turn_taking.per_speaker[b].talk_share) for b in theirs}
        worst.append(max(abs(v) for v in off.values()))
        print(f"{k:>8} {len(theirs):>6}/{len(mine)} {worst[-1]:12.1f}  "
              + " ".join(f"{b}:{v:+.1f}" for b, v in off.items()))
    print(f"{'mean':>8} {'':>12} {np.mean(worst):12.1f}   AMI mean {np.mean(worst[1:]):.1f}")


def assembled_table(files, seeds: int, embeddings: str = "mfcc") -> None:
    from attunement.evaluation.der import diarization_error
    from attunement.evaluation.assemble import assemble_conversation

    cfg = _config(embeddings)

    def diarize(audio, num_speakers=None):
        return _diarize(audio, cfg, num_speakers)

    print(f"\n{'assembled from':>14} {'seed':>4} {'DER':>6} {'DER c.25':>9} {'share ours':>11} {'share truth':>12} {'diff pts':>9}")
    for k in ("sample", "dev00", "dev01", "trn09"):
        wav, ref = files[k]
        for seed in range(seeds):
            try:
                talk = assemble_conversation(wav, ref, channels=1, seed=seed)
            except Exception as e:  # noqa: BLE001 - a recording without enough stretches for the script
                print(f"{k:>14} {seed:>4} skipped: {e}")
                break
            hyp = diarize(talk.audio)
            e = diarization_error(list(talk.segments), hyp)
            c = diarization_error(list(talk.segments), hyp, collar_s=0.25)
            first = talk.speakers[0]
            mapped = {h: r for h, r in e.mapping.items()}
            ours_t = sum(s.duration for s in hyp if mapped.get(s.speaker) == first)
            ours = ours_t / max(sum(s.duration for s in hyp), 1e-9)
            truth = talk.expected["talk_share"][first]
            print(f"{k:>14} {seed:>4} {e.der:6.3f} {c.der:9.3f} {ours:11.3f} {truth:12.3f} {100 * (ours - truth):9.1f}")


def long_table(files, counts=(3, 5, 10), embeddings: str = "mfcc") -> None:
    """Assembled sample.wav talks laid end to end: speakers found and DER (the talks reuse the same source stretches)."""
    from attunement.evaluation.der import diarization_error
    from attunement.records import Segment
    from attunement.evaluation.assemble import assemble_conversation

    cfg = _config(embeddings)

    def diarize(audio, num_speakers=None):
        return _diarize(audio, cfg, num_speakers)

    wav, ref = files["sample"]
    talks = [assemble_conversation(wav, ref, channels=1, seed=seed) for seed in range(max(counts))]
    print(f"\n{'talks':>6} {'minutes':>8} {'speakers':>9} {'DER':>6} {'DER with --speakers 2':>22}")
    for n in counts:
        truth, offset = [], 0.0
        for talk in talks[:n]:
            truth += [Segment(s.start + offset, s.end + offset, s.speaker) for s in talk.segments]
            offset += talk.audio.shape[1] / 16000
        x = np.concatenate([t.audio[0] for t in talks[:n]])
        hyp, fixed = diarize(x), diarize(x, num_speakers=2)
        print(f"{n:>6} {offset / 60:8.1f} {len({s.speaker for s in hyp}):>9} {diarization_error(truth, hyp).der:6.3f} "
              f"{diarization_error(truth, fixed).der:22.3f}")


def speed(minutes: float, embeddings: str = "mfcc") -> None:
    from attunement.evaluation.assemble import assemble_conversation
    from attunement.sources.wav import write_wav
    from tune_diarize import corpus

    folder = Path(os.environ.get("ATTUNE_BENCH_DIR", tempfile.gettempdir())) / "attune-bench"
    folder.mkdir(exist_ok=True)
    path = folder / f"assembled_{minutes:g}min.wav"
    if not path.exists():
        wav, ref = corpus()["sample"]
        parts, n = [], 0
        seed = 0
        while n < minutes * 60 * 16000:
            talk = assemble_conversation(wav, ref, channels=1, seed=seed)
            parts.append(talk.audio[0])
            n += talk.audio.shape[1]
            seed += 1
        write_wav(path, np.concatenate(parts)[None, : int(minutes * 60 * 16000)], 16000)
    subprocess.run([sys.executable, "-c", CHILD, str(path), embeddings], capture_output=True)   # compile caches warm
    r = json.loads(subprocess.run([sys.executable, "-c", CHILD, str(path), embeddings], capture_output=True,
                                  text=True, check=True).stdout.strip().splitlines()[-1])
    total = r["stream_s"] + r["finish_s"]
    print(f"\n{'input':>10} {'decode+VAD+features s':>22} {'diarize s':>10} {'x realtime':>11} {'peak MB':>8} {'speakers':>9}")
    print(f"{minutes:>7g} min {r['stream_s']:22.1f} {r['finish_s']:10.1f} {r['audio_s'] / total:11.0f} "
          f"{r['peak_mb']:8.0f} {r['speakers']:>9}   (target >= 100x on two cores)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--embeddings", choices=("mfcc", "dvector"), default="mfcc")
    ap.add_argument("--parts", default="der,shares,assembled,long,speed",
                    help="comma-separated: der, shares, assembled, long, speed")
    args = ap.parse_args()
    from tune_diarize import corpus

    if args.embeddings == "dvector":
        from attunement.conversation import dvector as dv

        if dv.model_path() is None:
            sys.exit(f"--embeddings dvector: {dv.HOW_TO_GET}")
    files = corpus()
    parts = set(args.parts.split(","))
    if "der" in parts:
        der_table(files, args.embeddings)
    if "shares" in parts:
        shares_table(files, args.embeddings)
    if "assembled" in parts:
        assembled_table(files, args.seeds, args.embeddings)
    if "long" in parts:
        long_table(files, embeddings=args.embeddings)
    if "speed" in parts:
        speed(args.minutes, args.embeddings)


if __name__ == "__main__":
    main()
