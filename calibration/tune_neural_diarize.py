"""Choose the trained diarizer's settings ([diarization] nn_*) on a tuning set, report held-out files.

Tuning set: AMI trn01-09 and the assembled talks of seeds 0 and 1; held out: sample.wav,
dev00, dev01 and the talks of seed 2. Segmentation and embeddings are computed once per file
and step; only clustering and reconstruction are re-run per setting.

    python calibration/tune_neural_diarize.py [--steps 2.5,5] [--thresholds 0.3,0.4,0.5] [--shares 0.05,0.1,0.2]
        [--clustering ahc,vbx]

The thresholds and shares are the average-linkage AHC's (nn_clustering = "ahc"); VBx
("vbx") runs with community-1's published settings only (nn_vbx_*: nothing of it is fitted here),
once per step and nn_embed_every, so the two are compared on the same tuning and held-out files.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from neural_eval import recordings, score, talks

from attunement.conversation import neural_diarize as nd

from attunement.conversation import neural_cluster as nc

from attunement.conversation import neural_frames as nf

from attunement.conversation import neural_records as nr

FORMAT = ("{} tune {:.3f} step {:.1f} every {} th {:.2f} share {:.2f} trim {:.2f} | AMI {:.3f} sample {:.3f} "
          "dev00 {:.3f} dev01 {:.3f} | talks DER {:.3f} share max {:.1f} int F1 min {:.2f} | count ok {}/11")


def held_out(name: str) -> bool:
    return name in ("sample", "dev00", "dev01") or name.endswith("-2")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", default="2.5,5")
    ap.add_argument("--thresholds", default="0.3,0.35,0.4,0.45,0.5")
    ap.add_argument("--shares", default="0.05,0.1,0.15,0.2")
    ap.add_argument("--trims", default="0,0.03,0.05,0.07")
    ap.add_argument("--every", default="1,2", help="nn_embed_every values")
    ap.add_argument("--clustering", default="ahc,vbx", help="nn_clustering values")
    args = ap.parse_args()
    items = recordings() + talks()
    segm, embd = nd.Models.get(2, 16)
    rows = []
    for step, most in itertools.product(map(float, args.steps.split(",")), map(int, args.every.split(","))):
        cache = {}
        for it in items:
            seg = segm.segment(it.audio, step_s=step, both_ways=nr.Settings().both_ways)
            chosen = nc.embedded_windows(seg.windows, most)
            cache[it.name] = (seg, chosen, *nd.window_embeddings(it.audio, seg, embd, min_clean_s=0.5, windows=chosen))
        grid = [("ahc", th, share, trim) for th, share, trim in itertools.product(
            map(float, args.thresholds.split(",")), map(float, args.shares.split(",")), map(float, args.trims.split(",")))]
        grid = [g for g in grid if "ahc" in args.clustering.split(",")]
        grid += [("vbx", 0.0, 0.0, t) for t in map(float, args.trims.split(",")) if "vbx" in args.clustering.split(",")]
        for how, th, share, trim in grid:
            st = nr.Settings(step_s=step, cluster_threshold=th or 0.5, min_cluster_share=share, trim_s=trim,
                             clustering=how)
            res = {}
            for it in items:
                seg, chosen, v, which, train = cache[it.name]
                cl = nc.cluster_embeddings(v, which, train, seg.windows, settings=st,
                                           clean_s=nc.alone_seconds(seg, which))
                if chosen.size < seg.windows:
                    cl = nc.link_windows(seg, cl, chosen)
                active, _ = nf.reconstruct(seg, cl)
                hyp = nr.active_to_segments(active[:, nr.first_seen_order(active)], end_s=it.audio.size / 16000,
                                            trim_s=trim)
                res[it.name] = score(it, hyp)
            tune = [r["der"] for k, r in res.items() if not held_out(k)]
            ami = [r["der"] for k, r in res.items() if k.startswith(("trn", "dev"))]
            tk = [r for k, r in res.items() if k.startswith("talk")]
            count_ok = sum(abs(r["hyp_n"] - r["ref_n"]) <= 1 for k, r in res.items() if k.startswith(("trn", "dev")))
            rows.append((how, float(np.mean(tune)), step, most, th, share, trim, float(np.mean(ami)), res["sample"]["der"],
                         res["dev00"]["der"], res["dev01"]["der"], float(np.mean([r["der"] for r in tk])),
                         max(r["share_pts"] for r in tk), min(r["int_f1"] for r in tk), count_ok))
            print(FORMAT.format(*rows[-1]), flush=True)
    for how in sorted({r[0] for r in rows}):
        print(f"best {how} on the tuning set:", min((r for r in rows if r[0] == how), key=lambda r: r[1]))


if __name__ == "__main__":
    main()
