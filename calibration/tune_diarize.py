"""Tune [diarization] on AMI train (trn01-09) + sample.wav; dev00/dev01 are scored but never chosen on.

Decodes each file once, runs the project's VAD, keeps the MFCCs, then diarizes under every
combination of the grid given and prints DER (no collar) per file, the train mean and the
held-out dev mean; then the talk-share error (points) of three assembled two-person talks
from sample.wav, and how many single voices stay one speaker (the two talking-head clips'
audio and the one-speaker stretches of sample, trn03 and trn09 laid end to end), and how many
speakers are found in 3, 5 and 10 assembled talks laid end to end (1.5, 2.8, 5.9 min; truth 2).
Defaults for the grid are those in calibration/defaults.toml.

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
from attunement.evaluation.der import diarization_error
from attunement.conversation.diarize import diarize_frames, frames_to_segments, speech_on_frames
from attunement.conversation.rttm import parse_rttm
from attunement.perception.vad import detect_speech
from attunement.evaluation.assemble import assemble_conversation, single_speaker_stretches
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


def prepare(path: Path | np.ndarray):
    """(MFCC float32 [frames, 19], speech bool [frames], duration s) of one file or mono 16 kHz samples, default VAD."""
    x = path if isinstance(path, np.ndarray) else read_audio(path, rate=16000)[0].mean(axis=0).astype(np.float32)
    activity = detect_speech(x, 16000, config=default_config().vad)
    feats = ft.mfcc(x)
    return feats, speech_on_frames(activity, feats.shape[0], t0=0.0), x.size / 16000


def score(prepared, ref, config, uem=(0.0, 30.0)):
    feats, speech, duration = prepared
    labels, overlap = diarize_frames(feats, speech, config=config)
    hyp = frames_to_segments(labels, t0=0.0, end_s=duration) + frames_to_segments(overlap, t0=0.0, end_s=duration)
    return diarization_error(ref, hyp, uem=uem), hyp


def single_voices(files) -> list:
    """Prepared single voices: the talking-head clips' audio and one-speaker stretches (0.25 s apart) of train files."""
    out = [prepare(clip) for clip in sorted((DATA.parent / "video").glob("*.mp4"))]
    for k in ("sample", "trn03", "trn09"):
        wav, ref = files[k]
        x = read_audio(wav, rate=16000)[0].mean(axis=0).astype(np.float32)
        stretches = single_speaker_stretches(ref, duration_s=x.size / 16000)
        for who in sorted({s.speaker for s in stretches}):
            parts = [np.concatenate((x[round(s.start * 16000):round(s.end * 16000)], np.zeros(4000, np.float32)))
                     for s in stretches if s.speaker == who]
            if sum(p.size for p in parts) >= 9 * 16000:
                out.append(prepare(np.concatenate(parts)))
    return out


def share_errors(talks, config) -> list[float]:
    """Talk share of the first speaker, ours minus truth (points), per assembled talk."""
    out = []
    for talk, prepared in talks:
        e, hyp = score(prepared, list(talk.segments), config, uem=None)
        first = talk.speakers[0]
        total = max(sum(s.duration for s in hyp), 1e-9)
        ours = sum(s.duration for s in hyp if e.mapping.get(s.speaker) == first) / total
        out.append(100 * (ours - talk.expected["talk_share"][first]))
    return out


def main() -> None:
    grid = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    base = default_config()
    files = corpus()
    prepared = {k: prepare(p) for k, (p, _) in files.items()}
    talks = []
    for seed in range(10):
        talk = assemble_conversation(files["sample"][0], files["sample"][1], channels=1, seed=seed)
        talks.append((talk, prepare(talk.audio[0].astype(np.float32)) if seed < 3 else None))
    voices = single_voices(files)
    long_talks = [prepare(np.concatenate([t.audio[0] for t, _ in talks[:n]]).astype(np.float32)) for n in (3, 5, 10)]
    for values in itertools.product(*grid.values()):
        cfg = base.replace("diarization", **dict(zip(grid, values))).diarization
        der = {k: score(prepared[k], files[k][1], cfg)[0].der for k in files}
        train = np.mean([der[k] for k in TRAIN if k in der])
        dev = np.mean([der[k] for k in DEV if k in der])
        ami = np.mean([v for k, v in der.items() if k != "sample"])
        cells = " ".join(f"{k}:{der[k]:.2f}" for k in files)
        shares = " ".join(f"{v:+.1f}" for v in share_errors(talks[:3], cfg))
        whole = sum(int(diarize_frames(f, sp, config=cfg)[0].max()) == 0 for f, sp, _ in voices)
        long = "/".join(str(int(diarize_frames(f, sp, config=cfg)[0].max()) + 1) for f, sp, _ in long_talks)
        print(f"{dict(zip(grid, values))} train {train:.3f} sample {der['sample']:.3f} dev {dev:.3f} AMI {ami:.3f} | "
              f"{cells} | assembled share pts {shares} | single voices whole {whole}/{len(voices)} | "
              f"long talks speakers {long}", flush=True)


if __name__ == "__main__":
    main()
