"""Who spoke when from one shared microphone, with trained models (pyannote community-1 style).

`NeuralDiarizer` is a speaker strategy with the interface of `diarize.Diarizer`:

1. segmentation (segmentation.py): 10 s windows every `nn_step_s`, local speakers per frame,
   two or three at once where they overlap;
2. embeddings (embeddings.py): one WeSpeaker ResNet34 embedding per (window, local speaker)
   from the frames where that speaker talks alone (overlap excluded);
3. clustering: average-linkage agglomerative clustering of the embeddings on the cosine
   distance (`ahc_average`), cut at `nn_cluster_threshold`, or, with `num_speakers`, cut where
   exactly that many clusters are large; clusters of less than `nn_min_cluster_share` of the
   embeddings are outliers, folded into the nearest large one; each window's local speakers
   then go to distinct clusters (best total cosine, `assign_window_speakers`);
4. reconstruction (`reconstruct`): per output frame (16.875 ms) the number of speakers is
   the windows' mean count of local speakers, rounded; that many clusters with the largest
   summed activity speak, so overlapped speech stays overlap;
5. edges (`trim_to_audible`): each speaker's runs start and end on frames the voice-activity
   detector finds audible (`nn_audible_db` above the background), never in silence.

Two options, off by default (file reviews only: a live session keeps no audio): `nn_gate_db`, the
segmentation model hears spectrally gated audio (perception/denoise.py); `nn_fill_threshold`, speech
Silero VAD hears and the model missed goes to the nearest heard speaker (neural_fill.py).

Speech (`speech_activity`) is where at least one speaker talks: the model's own voice activity.
Details and measurements: docs/diarization.md; settings: [diarization] nn_* in defaults.toml.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np

from ..config import DiarizationConfig
from ..errors import InputError
from ..records import AudioBlock, Segment, VoiceActivity
from ..perception.denoise import spectral_gate
from . import embeddings as emb
from . import segmentation as sg
from .neural_cluster import alone_seconds, cluster_embeddings, embedded_windows, link_windows
from .neural_fill import fill_missed, on_grid, silero_speech
from .neural_frames import heard_share, reconstruct, speech_activity, trim_to_audible
from .neural_records import Diarization, Settings, first_seen_order

log = logging.getLogger(__name__)

#: Audio is kept in chunks of this many samples (60 s) while it streams in.
CHUNK = 960000
#: fbank frames per 10 s window (Kaldi snip_edges: 1 + (160000 - 400) // 160)
WINDOW_FBANK = emb.frame_count(sg.WINDOW)
#: shortest input given to the embedding model (frames): its pooling needs a few frames after 8x downsampling
MIN_EMBED_FRAMES = 50
#: nearest segmentation frame of each fbank frame of a window (pyannote interpolates the mask the same way)
_TO_SEG = np.minimum((np.arange(WINDOW_FBANK) * sg.FRAMES) // WINDOW_FBANK, sg.FRAMES - 1)


class Models:
    """Both models, opened once per process and settings (sessions are reusable and thread-safe)."""

    cache: ClassVar[dict[tuple[int, int], tuple[sg.Segmenter, emb.Embedder]]] = {}

    @classmethod
    def get(cls, threads: int, batch: int) -> tuple[sg.Segmenter, emb.Embedder]:
        key = (threads, batch)
        if key not in cls.cache:
            cls.cache[key] = (sg.Segmenter(threads=threads), emb.Embedder(threads=threads, batch=batch))
        return cls.cache[key]


# ---------------------------------------------------------------- the strategy


class NeuralDiarizer:
    """Mono speaker diarization with the trained models; the interface of `diarize.Diarizer`.

    `feed` keeps the audio itself (mono float32 at 16 kHz: 64 kB a second, 230 MB an hour) and
    the model-free Diarizer's MFCC frames (27 MB an hour); `finish` runs the pipeline.
    `num_speakers` forces the count (1-20; clusters beyond max_speakers only when forced).
    The segmentation model decides where speech is (`speech_activity` gives it as a
    VoiceActivity); the VoiceActivity given to `finish` (may be None) is only compared with it:
    where the model hears under `nn_min_heard` of the detector's speech (speech at the noise
    floor, which it was not trained to hear) the model-free Diarizer's result is returned
    instead, and `used` says "mfcc" (else "neural"). Its frame levels also keep each speaker's
    edges out of silence (`trim_to_audible`, `nn_audible_db`).
    """

    def __init__(self, *, config: DiarizationConfig, num_speakers: int | None = None):
        if num_speakers is not None and not 1 <= num_speakers <= 20:
            raise InputError(f"number of speakers {num_speakers}: must be between 1 and 20")
        self.config = config
        self.num_speakers = num_speakers
        self.settings = Settings.from_config(config)
        self._blocks: list[np.ndarray] = []
        self._fill = 0
        self._t0: float | None = None
        self.result: Diarization | None = None
        self.used = ""
        self.fallback = None  # the model-free Diarizer fed alongside (see above), or None
        if config.nn_min_heard > 0:
            from .diarize import Diarizer
            self.fallback = Diarizer(config=config, num_speakers=num_speakers)

    def feed(self, block: AudioBlock) -> np.ndarray | None:
        """Take the next block (float32 [channels, n] at 16 kHz; channels averaged: one microphone).
        Returns the model-free Diarizer's new MFCC frames (float32 [k, 19]; None without it)."""
        samples = self.mono(block)
        self._append(samples)
        return self.fallback.feed(AudioBlock(samples[None], block.t0, block.rate)) if self.fallback is not None else None

    @property
    def t0(self) -> float | None:
        """Session time of the first sample fed, s (None before any)."""
        return self._t0

    def mono(self, block: AudioBlock) -> np.ndarray:
        """The block's samples as mono float32 [n] (checks the rate; notes the first block's start)."""
        if block.rate != sg.RATE:
            raise InputError(f"diarization needs 16000 Hz audio; block at t0={block.t0:.3f} s is {block.rate} Hz")
        if self._t0 is None:
            self._t0 = float(block.t0)
        return np.asarray(block.samples[0] if block.channels == 1 else block.samples.mean(axis=0), dtype=np.float32)

    def _append(self, samples: np.ndarray) -> None:
        # into chunks of CHUNK samples (4 MB: allocated and freed outside the small-object heap,
        # so joining them in audio() frees each as it is copied and the peak stays one copy)
        at = 0
        while at < samples.shape[0]:
            if not self._blocks or self._fill == self._blocks[-1].shape[0]:
                self._blocks.append(np.empty(CHUNK, dtype=np.float32))
                self._fill = 0
            n = min(samples.shape[0] - at, CHUNK - self._fill)
            self._blocks[-1][self._fill:self._fill + n] = samples[at:at + n]
            self._fill += n
            at += n

    def audio(self) -> np.ndarray:
        """All audio fed so far, mono float32 [n] (joined once: peak memory one copy plus one chunk)."""
        if not self._blocks:
            return np.zeros(0, dtype=np.float32)
        n = (len(self._blocks) - 1) * CHUNK + self._fill
        if len(self._blocks) > 1 or n != self._blocks[0].shape[0]:
            out = np.empty(n, dtype=np.float32)
            at = 0
            self._blocks.reverse()
            while self._blocks:
                b = self._blocks.pop()
                take = min(b.shape[0], n - at)
                out[at:at + take] = b[:take]
                at += take
            self._blocks, self._fill = [out], n
        return self._blocks[0]

    def finish(self, activity: VoiceActivity | None, duration_s: float) -> list[Segment]:
        """Speaker segments, sorted; ids speaker1.. by first appearance; overlapping where voices overlap."""
        self.result = self.diarization()
        end = duration_s if duration_s > 0 else None
        if activity is not None and self.fallback is not None:
            heard = heard_share(self.result, activity)
            if heard < self.config.nn_min_heard:
                log.warning("the speech model hears %.0f %% of the detected speech (quiet or far voices); "
                            "telling voices apart without it", 100 * heard)
                self.used = "mfcc"
                return self.fallback.finish(activity, duration_s)
        self.used = "neural"
        if self.config.nn_fill_threshold > 0 and self.audio().size:  # Silero's speech the model missed (not live: no audio kept)
            heard = silero_speech(self.audio(), threshold=self.config.nn_fill_threshold, t0=self.t0 or 0.0)
            self.result = fill_missed(self.result, on_grid(self.result, heard))
        if activity is not None:
            self.result = trim_to_audible(self.result, activity, audible_db=self.config.nn_audible_db,
                                          floor_rise_db_per_s=self.config.nn_floor_rise_db_per_s,
                                          min_pause_s=self.config.nn_cut_pause_s or np.inf)
        return self.result.segments(end_s=end)

    def diarization(self) -> Diarization:
        """The pipeline's frame-level result on all the audio fed (runs it; `finish` calls it)."""
        return diarize_audio(self.audio(), settings=self.settings, num_speakers=self.num_speakers, t0=self.t0 or 0.0)

    def speech_activity(self) -> VoiceActivity:
        """After `finish`: the segmentation model's speech as a VoiceActivity (see `speech_activity`)."""
        if self.result is None:
            raise InputError("speech_activity() is available after finish()")
        return speech_activity(self.result, self.audio())


# ---------------------------------------------------------------- pipeline


def diarize_audio(x: np.ndarray, *, settings: Settings = Settings(), num_speakers: int | None = None,
                  t0: float = 0.0) -> Diarization:
    """The whole pipeline on mono 16 kHz float32 audio x [n]."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise InputError(f"diarization needs mono samples [n]; got shape {x.shape}")
    if x.shape[0] == 0:
        return Diarization(np.zeros((0, 0), dtype=np.bool_), np.zeros(0, dtype=np.int8), t0)
    segmenter, embedder = Models.get(settings.threads, settings.embed_batch)
    heard = spectral_gate(x, reduce_db=settings.gate_db) if settings.gate_db > 0 else x  # embeddings: the original
    seg = segmenter.segment(heard, step_s=settings.step_s, both_ways=settings.both_ways)
    chosen = embedded_windows(seg.windows, settings.embed_every)
    vectors, which, train = window_embeddings(x, seg, embedder, min_clean_s=settings.min_clean_s, windows=chosen)
    return diarize_windows(seg, vectors, which, train, chosen, settings=settings, num_speakers=num_speakers, t0=t0)


def diarize_windows(seg: sg.Segmentation, vectors: np.ndarray, which: np.ndarray, train: np.ndarray,
                    embedded: np.ndarray, *, settings: Settings, num_speakers: int | None = None,
                    t0: float = 0.0) -> Diarization:
    """Clustering and reconstruction from the windows' segmentation and embeddings (the end of the
    pipeline: a file review, a live session and its rebuild run this same step). `embedded`: the
    windows whose speakers were embedded (int64 ascending); shapes as `window_embeddings` returns."""
    if seg.windows == 0:
        return Diarization(np.zeros((0, 0), dtype=np.bool_), np.zeros(0, dtype=np.int8), t0)
    clusters = cluster_embeddings(vectors, which, train, seg.windows, settings=settings, num_speakers=num_speakers,
                                  clean_s=alone_seconds(seg, which))
    if embedded.size < seg.windows:
        clusters = link_windows(seg, clusters, embedded)
    active, count = reconstruct(seg, clusters, max_count=num_speakers or settings.max_speakers)
    active = active[:, first_seen_order(active)]
    return Diarization(active, count, t0, settings.trim_s)


def window_embeddings(x: np.ndarray, seg: sg.Segmentation, embedder: emb.Embedder, *, min_clean_s: float,
                      windows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Embeddings of each (window, local speaker) that talks: float32 [m, 256], which int64 [m, 2]
    (window, local speaker), train bool [m] (see `speaker_embeddings`). Only the windows listed in
    `windows` (int64, default all) are embedded."""
    parts = []
    for w in (range(seg.windows) if windows is None else windows):
        s = int(seg.starts[w])
        vectors, speakers, train = speaker_embeddings(x[s:s + sg.WINDOW], seg.activity[w], embedder,
                                                      min_clean_s=min_clean_s)
        parts.append((vectors, np.stack([np.full(speakers.size, w, np.int64), speakers], axis=1), train))
    if not parts:
        return np.zeros((0, 256), np.float32), np.zeros((0, 2), np.int64), np.zeros(0, np.bool_)
    return tuple(np.concatenate(p) for p in zip(*parts))


def speaker_embeddings(piece: np.ndarray, activity: np.ndarray, embedder: emb.Embedder, *,
                       min_clean_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Embeddings of the local speakers who talk in one 10 s window.

    piece : float32 [<= 160000], the window's audio (shorter at the end of a recording: the rest
    is silence); activity : float32 [589, 3], its segmentation. Returns vectors float32 [m, 256],
    speakers int64 [m] (local speaker), train bool [m]: at least `min_clean_s` of speech alone,
    embedded from those frames and used for clustering; the others are embedded from all their
    frames, overlap included, and only assigned. Each speaker is embedded alone from its own
    frames (the model's output depends on padding it shares with others in a batch), so an
    embedding is the same whatever else is embedded: in a file review, a live session, a rebuild.
    """
    feats = emb.fbank(piece)
    if feats.shape[0] < WINDOW_FBANK:  # the window runs past the end: Kaldi frames of zeros there
        feats = np.concatenate([feats, np.full((WINDOW_FBANK - feats.shape[0], emb.N_MELS), np.log(emb.EPS),
                                               np.float32)])
    window = emb.normalise(feats[:WINDOW_FBANK])
    act = activity > 0.5
    alone = act & (act.sum(axis=1, keepdims=True) == 1)
    min_clean = int(np.ceil(min_clean_s / sg.FRAME_STEP_S))
    vectors, speakers, train = [], [], []
    for k in range(sg.LOCAL_SPEAKERS):
        clean = int(alone[:, k].sum()) >= min_clean
        if not clean and not act[:, k].any():
            continue
        pick = np.flatnonzero((alone[:, k] if clean else act[:, k])[_TO_SEG])  # the speaker's own fbank frames
        f = np.zeros((1, max(pick.size, MIN_EMBED_FRAMES), emb.N_MELS), dtype=np.float32)
        wts = np.zeros(f.shape[:2], dtype=np.float32)
        f[0, : pick.size] = window[pick]
        wts[0, : pick.size] = 1.0
        vectors.append(embedder.embed(f, wts)[0])
        speakers.append(k)
        train.append(clean)
    return (np.array(vectors, dtype=np.float32).reshape(-1, 256), np.array(speakers, dtype=np.int64),
            np.array(train, dtype=np.bool_))
