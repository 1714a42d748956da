"""The ceiling of the trained diarizer with its segmentation model (issue 11, fourth round).

Per file (sample.wav and the 11 AMI excerpts, scored 0-30 s, no collar) DER and its parts
(missed / false alarm / confusion) of:

  default   the product as configured (benchmarks/neural_eval.py run("neural"));
  oracle    the same segmentation (forward + time-reversed pass, as the default), each window's
            local speakers given the reference speaker they share most frames with (Hungarian per
            window, evaluation/oracle.py), then the product's reconstruction and edge trimming: the
            best any embedding or clustering could do with this segmentation;
  any       the same, many-to-one: two local speakers of a window may go to one reference speaker
            (the product keeps a window's speakers apart);
  +speech   oracle cut to the reference speech (no false alarm left);
  +count    oracle with the reference's number of speakers at each frame instead of the windows'
            rounded mean count (evaluation/oracle.py oracle_count_active);
  +both     +count cut to the reference speech;
  unheard   the reference speech no local speaker of any window hears (share of the reference
            speech, overlap counted per speaker as DER does): missed whatever the clustering.

All at the product's step (nn_step_s = 2.5 s) and at 1 s (community-1's own). "AMI mean" is the
issue's (each file alike); "pooled" weighs each file by its reference speech (trn02 has 0.7 s).

    nice -n 5 python benchmarks/bench_diarize_ceiling.py [--steps 2.5,1]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from neural_eval import recordings, run, score

from attunement.config import default_config
from attunement.conversation.neural_diarize import Models
from attunement.conversation.neural_frames import heard_share, reconstruct, trim_to_audible
from attunement.conversation.neural_records import Diarization, Settings, first_seen_order
from attunement.evaluation.der import diarization_error
from attunement.evaluation.oracle import oracle_clusters, oracle_count_active, unheard_share
from attunement.intervals import subtract, union
from attunement.perception.vad import detect_speech
from attunement.records import Segment


def with_step(step_s: float):
    config = default_config()
    return dataclasses.replace(config, diarization=dataclasses.replace(config.diarization, nn_step_s=step_s))


def oracle(item, config) -> tuple[dict[str, list[Segment]], float, bool]:
    """The oracles' segments (by KINDS name), the unheard share (evaluation/oracle.py), and whether the model heard
    too little: under nn_min_heard of the VAD's speech the product answers with the model-free
    Diarizer, and so do the oracles here (marked * in the table)."""
    dc = config.diarization
    settings = Settings.from_config(dc)
    segmenter, _ = Models.get(settings.threads, settings.embed_batch)
    seg = segmenter.segment(item.audio, step_s=settings.step_s, both_ways=settings.both_ways)
    activity = detect_speech(item.audio, 16000, config=config.vad)
    out, fell_back = {}, False
    for name, one_to_one in (("oracle", True), ("any", False), ("+count", True)):
        clusters, _ = oracle_clusters(seg, item.reference, one_to_one=one_to_one)
        active, count = reconstruct(seg, clusters, max_count=settings.max_speakers)
        if name == "+count":
            active = oracle_count_active(seg, clusters, item.reference)
        result = Diarization(active[:, first_seen_order(active)], count, 0.0, settings.trim_s)
        if heard_share(Diarization(result.active, count), activity) < dc.nn_min_heard:
            out[name], fell_back = run("mfcc", item.audio, config=config), True
            continue
        result = trim_to_audible(result, activity, audible_db=dc.nn_audible_db,
                                 floor_rise_db_per_s=dc.nn_floor_rise_db_per_s, min_pause_s=dc.nn_cut_pause_s or np.inf)
        out[name] = result.segments(end_s=item.audio.size / 16000)
    out["+speech"] = on_speech(out["oracle"], item.reference)
    out["+both"] = on_speech(out["+count"], item.reference)
    return out, unheard_share(seg, item.reference, item.uem), fell_back


def on_speech(hyp: list[Segment], reference: list[Segment]) -> list[Segment]:
    """hyp cut to the reference speech (anyone talking)."""
    silence = subtract([(-1.0, 1e9)], union([(s.start, s.end) for s in reference]))
    return [Segment(a, b, s.speaker) for s in hyp for a, b in subtract([(s.start, s.end)], silence)]


KINDS = ("default", "oracle", "any", "+speech", "+count", "+both")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", default="2.5,1", help="segmentation steps, s (comma-separated)")
    args = ap.parse_args()
    steps = [float(s) for s in args.steps.split(",")]
    rows: dict[float, dict[str, dict]] = {step: {} for step in steps}
    for item in recordings():
        for step in steps:
            config = with_step(step)
            hyps, unheard, fell_back = oracle(item, config)
            row = {k: score(item, hyps[k]) for k in KINDS[1:]}
            row |= {"default": score(item, run("neural", item.audio, config=config)),
                    "unheard": unheard, "mfcc": fell_back,
                    "speech_s": diarization_error(item.reference, [], uem=item.uem).total_s}
            rows[step][item.name] = row
            print(f"step {step:g} {item.name}", "  ".join(f"{k} {row[k]['der']:.3f}" for k in KINDS),
                  f"unheard {row['unheard']:.3f}", file=sys.stderr, flush=True)

    def cell(v):
        return f" {v['der']:.3f} ({v['miss']:.2f}+{v['fa']:.2f}+{v['conf']:.2f})"

    for step in steps:
        print(f"\nstep {step:g} s: DER (missed+false alarm+confusion), no collar, 0-30 s; unheard: share of the "
              "reference speech no window hears; * the model hears under nn_min_heard: the model-free Diarizer")
        print(f"{'file':9s}" + "".join(f" {k:>22s}" for k in KINDS) + f" {'unheard':>8s}")
        table = rows[step]
        for name, row in table.items():
            mark = "*" if row["mfcc"] else " "
            print(f"{name:8s}{mark}" + "".join(cell(row[k]) for k in KINDS) + f" {row['unheard']:8.3f}")
        ami = [n for n in table if n != "sample"]
        mean = {k: {p: float(np.mean([table[n][k][p] for n in ami])) for p in ("der", "miss", "fa", "conf")} for k in KINDS}
        print(f"{'AMI mean':9s}" + "".join(cell(mean[k]) for k in KINDS)
              + f" {float(np.mean([table[n]['unheard'] for n in ami])):8.3f}")
        w = np.array([table[n]["speech_s"] for n in ami])   # pooled: each file by its reference speech
        pooled = {k: {p: float(np.dot(w, [table[n][k][p] for n in ami]) / w.sum()) for p in ("der", "miss", "fa", "conf")}
                  for k in KINDS}
        print(f"{'pooled':9s}" + "".join(cell(pooled[k]) for k in KINDS)
              + f" {float(np.dot(w, [table[n]['unheard'] for n in ami]) / w.sum()):8.3f}")


if __name__ == "__main__":
    main()
