"""Choose [diarization] nn_fill_threshold (Silero VAD's speech the trained diarizer missed, filled
with the nearest heard speaker: conversation/neural_fill.py) and nn_gate_db (spectral gating of the
audio the segmentation model hears: perception/denoise.py) on the tuning set; report held-out files.

Tuning set: AMI trn01-09 and the assembled talks of seeds 0 and 1; held out: sample.wav, dev00,
dev01 and the talks of seed 2 (as calibration/tune_neural_diarize.py). The pipeline runs once per
file and gate setting with the defaults; `NeuralDiarizer.finish`'s steps (the deaf fallback, the
fill, the edges on audible frames) are then replayed per threshold on the cached result.

    python calibration/tune_neural_fill.py [--thresholds 0,0.05,0.1,0.2,0.3,0.5] [--gates 0,6,12,20]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from neural_eval import recordings, run, score, talks

from attunement.config import default_config
from attunement.conversation.neural_diarize import NeuralDiarizer
from attunement.conversation.neural_fill import SileroModel, fill_missed, on_grid
from attunement.conversation.neural_frames import heard_share, trim_to_audible
from attunement.perception.silero import speech_chunks
from attunement.perception.vad import detect_speech
from attunement.records import AudioBlock, VoiceActivity


def held_out(name: str) -> bool:
    return name in ("sample", "dev00", "dev01") or name.endswith("-2")


def finish(result, activity, speech, cfg, *, fill_first: bool = True):
    """NeuralDiarizer.finish's steps after the fallback check, on a cached frame-level result."""
    if speech is not None and fill_first:
        result = fill_missed(result, on_grid(result, speech))
    result = trim_to_audible(result, activity, audible_db=cfg.nn_audible_db,
                             floor_rise_db_per_s=cfg.nn_floor_rise_db_per_s, min_pause_s=cfg.nn_cut_pause_s or np.inf)
    if speech is not None and not fill_first:
        result = fill_missed(result, on_grid(result, speech))
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--thresholds", default="0,0.05,0.1,0.15,0.2,0.3,0.5")
    ap.add_argument("--gates", default="0", help="nn_gate_db values")
    ap.add_argument("--order", default="fill-trim", help="fill-trim (the fill, then edges on audible frames) or trim-fill")
    args = ap.parse_args()
    config = default_config()
    silero = SileroModel.get(1)
    rows = {}
    for gate in map(float, args.gates.split(",")):
        cfg = dataclasses.replace(config.diarization, nn_gate_db=gate)
        cache = {}
        for it in recordings() + talks():
            activity = detect_speech(it.audio, 16000, config=config.vad)
            d = NeuralDiarizer(config=cfg)
            d.feed(AudioBlock(it.audio[None], 0.0, 16000))
            result = d.diarization()
            deaf = heard_share(result, activity) < cfg.nn_min_heard
            fallback = run("mfcc", it.audio) if deaf else None
            cache[it.name] = (it, result, activity, silero.probabilities(it.audio), fallback)
        for th in map(float, args.thresholds.split(",")):
            res = {}
            for name, (it, result, activity, prob, fallback) in cache.items():
                if fallback is not None:
                    res[name] = score(it, fallback)
                    continue
                speech = None
                if th > 0:
                    sp = speech_chunks(prob, threshold=th)
                    speech = VoiceActivity(sp[None], np.zeros((1, sp.size), np.float32), 512 / 16000, 0.0)
                out = finish(result, activity, speech, cfg, fill_first=args.order == "fill-trim")
                res[name] = score(it, out.segments(end_s=it.audio.size / 16000))
            rows[(gate, th)] = res
            tune = np.mean([r["der"] for k, r in res.items() if not held_out(k)])
            ami = np.mean([r["der"] for k, r in res.items() if k.startswith(("trn", "dev"))])
            tk = [r for k, r in res.items() if k.startswith("talk")]
            print(f"gate {gate:g} dB fill {th:.2f} ({args.order}) | tune {tune:.3f} | AMI {ami:.3f} | "
                  + " ".join(f"{k} {r['der']:.3f}" for k, r in res.items())
                  + f" | talks DER {np.mean([r['der'] for r in tk]):.3f} bc F1 {np.mean([r['bc_f1'] for r in tk]):.2f}"
                  f" int F1 {np.mean([r['int_f1'] for r in tk]):.2f}", flush=True)
    best = min(rows, key=lambda key: np.mean([r["der"] for k, r in rows[key].items() if not held_out(k)]))
    print(f"best on the tuning set (gate dB, fill threshold): {best}")


if __name__ == "__main__":
    main()
