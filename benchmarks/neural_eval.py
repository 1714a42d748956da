"""Shared by bench_neural_diarize.py and calibration/tune_neural_diarize.py: the evaluation set
(sample.wav, the 11 AMI excerpts, two-person one-microphone talks assembled at run time from
real speech of ../shared/data) and the scores (DER with no collar, speaker count, talk-share
error, interruption and backchannel F1 through conversation/turns.py)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attunement.config import default_config
from attunement.evaluation.der import diarization_error
from attunement.conversation.diarize import Diarizer
from attunement.conversation.neural_diarize import NeuralDiarizer
from attunement.conversation.rttm import parse_rttm
from attunement.conversation.turns import analyze_turns
from attunement.perception.vad import detect_speech
from attunement.records import AudioBlock, Segment
from attunement.evaluation.assemble import ASSEMBLED_SCRIPT, assemble_conversation
from attunement.sources.media import read_audio
from attunement.demo.conversation import Line

ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    d = Path(os.environ.get("ATTUNE_DATA") or ROOT.parent / "shared" / "data")
    if not (d / "conversations" / "sample.wav").exists():
        d = Path("/work/shared/data")
    return d


#: Two-person script with overlaps of 0.3 s (smooth) to 2 s (interruptions both ways, 0.7-2 s), backchannels, gaps and a pause.
TALK_SCRIPT: tuple[Line, ...] = (
    Line(0, "start", 0.5),
    Line(1, "gap", 0.4),
    Line(0, "gap", 0.7),
    Line(1, "backchannel", 1.0),
    Line(1, "gap", 0.3),
    Line(0, "interrupt", 0.7),
    Line(1, "gap", 0.8),
    Line(0, "backchannel", 0.8),
    Line(1, "pause", 0.6),
    Line(0, "interrupt", 1.2),
    Line(1, "gap", 0.5),
    Line(0, "interrupt", 2.0),
    Line(1, "gap", 1.0),
    Line(0, "smooth", 0.3),
    Line(1, "gap", 0.5),
    Line(0, "interrupt", 0.9),
    Line(1, "gap", 0.4),
)


@dataclass(frozen=True)
class Item:
    name: str
    audio: np.ndarray          # mono float32 16 kHz
    reference: list[Segment]
    uem: tuple[float, float] | None
    expected: dict | None = None   # assembled talks: the script's truth
    speakers: tuple[str, ...] = ()


def recordings() -> list[Item]:
    """sample.wav and the AMI excerpts with their references, scored 0-30 s."""
    conv = data_dir() / "conversations"
    out = []
    ref = parse_rttm((conv / "sample.rttm").read_text())["sample"]
    out.append(Item("sample", _mono(conv / "sample.wav"), ref, (0.0, 30.0)))
    refs = {}
    for name in ("debug.development.rttm", "debug.train.rttm"):
        refs |= parse_rttm((conv / "ami" / name).read_text())
    for k in sorted(refs):
        if (conv / "ami" / f"{k}.wav").exists():
            out.append(Item(k, _mono(conv / "ami" / f"{k}.wav"), refs[k], (0.0, 30.0)))
    return out


def _mono(path: Path) -> np.ndarray:
    audio, _ = read_audio(path, rate=16000)
    return (audio.mean(axis=0) if audio.ndim == 2 else audio).astype(np.float32)


def speech_source(tmp: Path, sentences=range(1, 7)) -> tuple[Path, list[Segment]]:
    """The read sentences of speech/ laid end to end in tmp/speech.wav, and their truth (see _read_speech)."""
    return _read_speech(data_dir() / "speech", tmp, sentences)


def talks(seeds=(0, 1, 2)) -> list[Item]:
    """Assembled two-person one-microphone talks: from sample.wav's two speakers and from the
    two read-speech speakers of speech/ (their sentences laid end to end in a temporary file)."""
    d = data_dir()
    conv = d / "conversations"
    ref = parse_rttm((conv / "sample.rttm").read_text())["sample"]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        spk_wav, spk_ref = _read_speech(d / "speech", Path(tmp))
        # the read sentences are 2-3 s: too short for TALK_SCRIPT's 2 s interruption, so the
        # project's own assembled script (interruptions of 0.7 and 0.8 s, a 0.25 s smooth overlap)
        for source, wav, segs, script in (("sample", conv / "sample.wav", ref, TALK_SCRIPT),
                                          ("spk", spk_wav, spk_ref, ASSEMBLED_SCRIPT)):
            for seed in seeds:
                talk = assemble_conversation(wav, segs, script=script, channels=1, seed=seed)
                out.append(Item(f"talk-{source}-{seed}", talk.audio[0].astype(np.float32), list(talk.segments),
                                None, talk.expected, tuple(talk.speakers)))
    return out


def _read_speech(folder: Path, tmp: Path, sentences=range(1, 7)) -> tuple[Path, list[Segment]]:
    """The read sentences of speech/ laid end to end (0.5 s apart) with each one's voiced extent
    (frames within 35 dB of its loudest) as truth; plus, per sentence, a copy of its first 0.6 s
    of speech as a short clip for backchannels."""
    import soundfile as sf
    parts, segs, t = [], [], 0.0
    gap = np.zeros(8000, dtype=np.float32)
    for who in ("spk1", "spk2"):
        for k in sentences:
            x = _mono(folder / f"{who}_snt{k}.wav")
            level = 10 * np.log10(np.maximum(np.convolve(x ** 2, np.ones(400) / 400, "same"), 1e-12))
            voiced = np.flatnonzero(level > level.max() - 35)
            a, b = int(voiced[0]), int(voiced[-1])
            for piece in (x[a:b], x[a:a + 9600]):
                parts += [piece, gap]
                segs.append(Segment(t, t + piece.size / 16000, who))
                t += piece.size / 16000 + 0.5
    path = tmp / "speech.wav"
    sf.write(path, np.concatenate(parts), 16000)
    return path, segs


#: the diarizers compared: the model-free one, and the trained pipeline with each clustering
KINDS = {"mfcc": None, "ahc": "ahc", "vbx": "vbx"}


def configured(kind: str, config=None):
    """The config for `kind`: "mfcc", "neural" (the defaults), "ahc" or "vbx" (the trained pipeline with that
    clustering), "fill" (AHC with Silero VAD's missed speech filled at FILL_THRESHOLD: conversation/neural_fill.py),
    "gate+fill" (that, and the segmentation model hearing the audio spectrally gated by GATE_DB: perception/denoise.py)."""
    import dataclasses
    config = config or default_config()
    if kind in ("ahc", "vbx"):
        config = dataclasses.replace(config, diarization=dataclasses.replace(config.diarization, nn_clustering=kind))
    if kind in ("fill", "gate+fill"):
        config = dataclasses.replace(config, diarization=dataclasses.replace(
            config.diarization, nn_clustering="ahc", nn_fill_threshold=FILL_THRESHOLD,
            nn_gate_db=GATE_DB if kind == "gate+fill" else 0.0))
    return config


#: nn_fill_threshold and nn_gate_db of the "fill" / "gate+fill" kinds (chosen on the tuning set by
#: calibration/tune_neural_fill.py; both off by default: docs/diarization.md, Silero VAD)
FILL_THRESHOLD = 0.1
GATE_DB = 6.0


def run(kind: str, audio: np.ndarray, *, num_speakers: int | None = None, config=None) -> list[Segment]:
    """Diarize mono audio with "mfcc" (the model-free Diarizer on the project's VAD), "neural" (the
    trained pipeline as configured), or "ahc" / "vbx" (the trained pipeline with that clustering)."""
    config = configured(kind, config)
    cls = Diarizer if kind == "mfcc" else NeuralDiarizer
    d = cls(config=config.diarization, num_speakers=num_speakers)
    for a in range(0, audio.size, 32000):
        d.feed(AudioBlock(audio[None, a:a + 32000], a / 16000, 16000))
    # the neural diarizer only compares the VAD's speech with its own (nn_min_heard), as the runners will
    return d.finish(detect_speech(audio, 16000, config=config.vad), audio.size / 16000)


def score(item: Item, hyp: list[Segment]) -> dict:
    e = diarization_error(item.reference, hyp, uem=item.uem)
    out = {"der": e.der, "miss": e.missed_s / e.total_s, "fa": e.false_alarm_s / e.total_s,
           "conf": e.confusion_s / e.total_s, "ref_n": len({s.speaker for s in item.reference}),
           "hyp_n": len({s.speaker for s in hyp})}
    if item.expected is not None:
        out |= turn_scores(item, hyp, e.mapping)
    return out


def turn_scores(item: Item, hyp: list[Segment], mapping: dict[str, str]) -> dict:
    """Talk-share error (points, largest of the two), interruption and backchannel F1 (who and
    whom right, onset within 1 s) of our segments mapped to the truth's speakers."""
    cfg = default_config().turns
    mapped = [Segment(s.start, s.end, mapping.get(s.speaker, "other:" + s.speaker)) for s in hyp]
    ours = analyze_turns(mapped, config=cfg)
    truth = analyze_turns(item.reference, config=cfg)
    total = sum(p.talk_time_s for p in ours.per_speaker.values()) if ours.per_speaker else 0.0
    shares = {k: (ours.per_speaker[k].talk_time_s / total if k in ours.per_speaker and total else 0.0)
              for k in item.speakers}
    share_err = max(abs(shares[k] - truth.per_speaker[k].talk_share) for k in item.speakers)

    def f1(found, wanted, key):
        found, wanted = list(found), list(wanted)
        used, hit = set(), 0
        for w in wanted:
            for i, f in enumerate(found):
                if i not in used and key(f) == key(w) and abs(f.t - w.t) <= 1.0:
                    used.add(i); hit += 1; break
        if not found and not wanted:
            return 1.0
        p = hit / len(found) if found else 0.0
        r = hit / len(wanted) if wanted else 0.0
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    return {"share_pts": 100 * share_err,
            "int_f1": f1(ours.interruptions, truth.interruptions, lambda e: (e.by, e.of)),
            "bc_f1": f1(ours.backchannels, truth.backchannels, lambda e: (e.by, e.during))}
