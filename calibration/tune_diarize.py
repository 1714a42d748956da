"""Tune [diarization] on AMI train (trn01-09) + sample.wav; dev00/dev01 are scored but never chosen on.

Decodes each file once, runs the project's VAD, keeps the MFCCs, then diarizes under every
combination of the grid given and prints DER (no collar) per file, the train mean and the
held-out dev mean. Defaults for the grid are those in calibration/defaults.toml.

    python calibration/tune_diarize.py '{"chunk_s": [1.5, 2.0], "switch_penalty": [5, 50]}'
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np

from attunement.config import default_config
from attunement.conversation import features as ft
from attunement.conversation.der import diarization_error
from attunement.conversation.diarize import diarize_frames, frames_to_segments, speech_on_frames
from attunement.conversation.rttm import parse_rttm
from attunement.perception.vad import detect_speech
from attunement.sources.media import read_audio

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "conversations"
TRAIN = ["sample"] + [f"trn0{i}" for i in range(1, 10)]
DEV = ["dev00", "dev01"]


def corpus(data: Path = DATA) -> dict[str, tuple[Path, list]]:
    """file id -> (wav, reference segments) for sample.wav and the 11 AMI excerpts."""
    out = {"sample": (data / "sample.wav", parse_rttm((data / "sample.rttm").read_text())["sample"])}
    for name in ("debug.development.rttm", "debug.train.rttm"):
        for k, v in parse_rttm((data / "ami" / name).read_text()).items():
            if (data / "ami" / f"{k}.wav").exists():
                out[k] = (data / "ami" / f"{k}.wav", v)
    return out


def prepare(path: Path):
    """(MFCC float32 [frames, 19], speech bool [frames], duration s) of one file, with the default VAD."""
    audio, _ = read_audio(path, rate=16000)
    x = audio.mean(axis=0).astype(np.float32)
    activity = detect_speech(x, 16000, config=default_config().vad)
    feats = ft.mfcc(x)
    return feats, speech_on_frames(activity, feats.shape[0], t0=0.0), x.size / 16000


def score(prepared, ref, config, uem=(0.0, 30.0)):
    feats, speech, duration = prepared
    labels, overlap = diarize_frames(feats, speech, config=config)
    hyp = frames_to_segments(labels, t0=0.0, end_s=duration) + frames_to_segments(overlap, t0=0.0, end_s=duration)
    return diarization_error(ref, hyp, uem=uem), hyp


def main() -> None:
    grid = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    base = default_config()
    files = corpus()
    prepared = {k: prepare(p) for k, (p, _) in files.items()}
    for values in itertools.product(*grid.values()):
        cfg = base.replace("diarization", **dict(zip(grid, values))).diarization
        der = {k: score(prepared[k], files[k][1], cfg)[0].der for k in files}
        train = np.mean([der[k] for k in TRAIN if k in der])
        dev = np.mean([der[k] for k in DEV if k in der])
        ami = np.mean([v for k, v in der.items() if k != "sample"])
        cells = " ".join(f"{k}:{der[k]:.2f}" for k in files)
        print(f"{dict(zip(grid, values))} train {train:.3f} sample {der['sample']:.3f} dev {dev:.3f} AMI {ami:.3f} | {cells}",
              flush=True)


if __name__ == "__main__":
    main()
