"""The user's own voice: a profile from half a minute of their speech, and `me` without a camera.

`enroll(x)` embeds the clip's speech (where the segmentation model hears a voice) in pieces
of `PIECE_S` with the WeSpeaker ResNet34 and keeps the normalised mean embedding, plus the
cosine threshold a diarized speaker must reach to be taken for that voice. `save_profile` /
`load_profile` keep it as JSON (0600, written atomically, like the face profile).
`label_me(segments, x, profile)` embeds each diarized speaker's speech (overlap left out) the
same way; the speaker most like the profile, if at or above the threshold, becomes `me` and
every other speaker `partner`. If no speaker reaches it, the segments come back unchanged and
`match_me` says why (the caller can say it could not tell).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..records import Segment
from . import embeddings as emb

log = logging.getLogger(__name__)

RATE = 16000
#: pieces of speech embedded separately and averaged (s); the embedding model was trained on 2-3 s crops
PIECE_S = 3.0
#: the most speech embedded per speaker (s), spread over the whole recording
MAX_SPEECH_S = 60.0
#: the shortest enrollment that gives a usable profile (s of speech)
MIN_ENROLL_S = 5.0
#: cosine a speaker's mean embedding must reach to be the enrolled voice. Measured (docs/diarization.md,
#: bench_neural_diarize.py --parts enroll): the enrolled voice 0.78-0.94, the other voice -0.08-0.41,
#: so any value in 0.42-0.77 decides the same on those talks; 0.5 lies inside that gap
DEFAULT_THRESHOLD = 0.5
VERSION = 1


@dataclass(frozen=True)
class VoiceProfile:
    """`embedding` float32 [256], unit length; `threshold` cosine; `speech_s` seconds of speech enrolled."""

    embedding: np.ndarray
    threshold: float
    speech_s: float

    def to_json(self) -> dict:
        return {"version": VERSION, "model": "wespeaker-resnet34 (pyannote community-1)",
                "embedding": [round(float(v), 7) for v in self.embedding], "threshold": self.threshold,
                "speech_s": round(self.speech_s, 3)}

    @classmethod
    def from_json(cls, data: dict, *, source: str = "<profile>") -> VoiceProfile:
        try:
            if data["version"] != VERSION:
                raise InputError(f"{source}: voice profile version {data['version']}, expected {VERSION}; enroll again")
            e = np.asarray(data["embedding"], dtype=np.float32)
            threshold, speech = float(data["threshold"]), float(data["speech_s"])
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(f"{source}: not a voice profile ({err.__class__.__name__}: {err}); enroll again") from None
        if e.shape != (256,) or not np.isfinite(e).all() or not -1 <= threshold <= 1:
            raise InputError(f"{source}: voice profile is damaged (embedding {e.shape}, threshold {threshold}); "
                             "enroll again")
        return cls(e / max(float(np.linalg.norm(e)), 1e-12), threshold, speech)


def _embedder(threads: int):
    from .neural_diarize import Models
    return Models.get(threads, 32)


def voice_embedding(x: np.ndarray, spans: Sequence[tuple[float, float]], *, threads: int = 2) -> tuple[np.ndarray, float]:
    """Mean normalised embedding of the speech in `spans` (s) of mono 16 kHz x [n], and its seconds.

    The spans' audio is laid end to end (at most MAX_SPEECH_S, taken evenly from all of it),
    cut into PIECE_S pieces (the last one kept if >= 1 s), each embedded; returns (float32 [256], s).
    """
    pieces = [x[max(0, int(a * RATE)):max(0, int(b * RATE))] for a, b in spans if b > a]
    audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    total = audio.size / RATE
    if audio.size > MAX_SPEECH_S * RATE:
        keep = int(MAX_SPEECH_S * RATE)
        idx = np.linspace(0, audio.size - int(PIECE_S * RATE), int(MAX_SPEECH_S / PIECE_S)).astype(np.int64)
        audio = np.concatenate([audio[i:i + int(PIECE_S * RATE)] for i in idx])[:keep]
    feats = emb.fbank(audio)
    per = int(PIECE_S * 100)
    starts = list(range(0, max(feats.shape[0] - 100, 0) + 1, per)) if feats.shape[0] >= 100 else []
    if not starts:
        return np.zeros(256, dtype=np.float32), total
    _, embedder = _embedder(threads)
    longest = min(per, feats.shape[0])
    f = np.zeros((len(starts), longest, emb.N_MELS), dtype=np.float32)
    w = np.zeros((len(starts), longest), dtype=np.float32)
    for i, a in enumerate(starts):
        piece = emb.normalise(feats[a:a + per])
        f[i, : piece.shape[0]] = piece
        w[i, : piece.shape[0]] = 1.0
    vectors = embedder.embed(f, w, unit=True)
    mean = vectors.mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32), total


def enroll(x: np.ndarray, *, threshold: float = DEFAULT_THRESHOLD, threads: int = 2) -> VoiceProfile:
    """A voice profile from about 30 s of one person talking: mono 16 kHz float32 x [n].

    Speech is where the segmentation model hears a voice. Raises InputError with
    under MIN_ENROLL_S of such speech.
    """
    from .neural_frames import reconstruct
    from .neural_records import Diarization
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise InputError(f"enrollment needs mono samples [n]; got shape {x.shape}")
    segmenter, _ = _embedder(threads)
    seg = segmenter.segment(x, step_s=5.0)
    one = np.where(seg.activity.max(axis=1) > 0.5, 0, -1).astype(np.int64)  # every local speaker is the one voice
    active, count = reconstruct(seg, one, max_count=1)
    spans = [(s.start, s.end) for s in Diarization(active, count).segments(end_s=x.size / RATE)]
    e, speech = voice_embedding(x, spans, threads=threads)
    if speech < MIN_ENROLL_S:
        raise InputError(f"only {speech:.1f} s of speech in the enrollment recording; need at least "
                         f"{MIN_ENROLL_S:.0f} s (about 30 s is best): speak for longer, nearer the microphone")
    return VoiceProfile(e, float(threshold), speech)


def save_profile(profile: VoiceProfile, path: str | Path) -> Path:
    """Write the profile as JSON, mode 0600, atomically (temporary name, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(profile.to_json(), f)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def load_profile(path: str | Path) -> VoiceProfile:
    """Read a profile written by save_profile; InputError (one line, with the fix) if missing or damaged."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"no voice profile at {path}: enroll first") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read the voice profile ({e.__class__.__name__}); enroll again") from None
    return VoiceProfile.from_json(data, source=str(path))


def exclusive_speech(segments: Sequence[Segment]) -> dict[str, list[tuple[float, float]]]:
    """Per speaker, the stretches where nobody else is speaking (s)."""
    from ..intervals import subtract, union
    out = {}
    for who in sorted({s.speaker for s in segments}):
        own = union([(s.start, s.end) for s in segments if s.speaker == who])
        others = union([(s.start, s.end) for s in segments if s.speaker != who])
        out[who] = subtract(own, others)
    return out


def match_me(segments: Sequence[Segment], x: np.ndarray, profile: VoiceProfile, *,
             threads: int = 2) -> tuple[str | None, dict[str, float]]:
    """(the speaker taken for the enrolled voice or None, cosine of every speaker's voice to the profile)."""
    scores = {}
    for who, spans in exclusive_speech(segments).items():
        e, speech = voice_embedding(np.asarray(x, dtype=np.float32), spans, threads=threads)
        if speech >= 1.0:
            scores[who] = float(e @ profile.embedding)
    if not scores:
        return None, scores
    best = max(scores, key=scores.get)
    return (best if scores[best] >= profile.threshold else None), scores


def label_me(segments: Sequence[Segment], x: np.ndarray, profile: VoiceProfile, *,
             threads: int = 2) -> list[Segment]:
    """Segments with the enrolled voice's speaker named `me` and every other speaker `partner`
    (unchanged if no speaker's voice reaches the profile's threshold; logged)."""
    me, scores = match_me(segments, x, profile, threads=threads)
    if me is None:
        log.info("voice profile: no speaker reaches %.2f (cosines %s); speakers left unnamed", profile.threshold,
                 {k: round(v, 2) for k, v in scores.items()})
        return list(segments)
    return sorted(Segment(s.start, s.end, "me" if s.speaker == me else "partner") for s in segments)
