"""The trained diarizer's settings and result (shared by conversation/neural_diarize.py,
neural_cluster.py and neural_frames.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import DiarizationConfig
from ..records import Segment
from . import segmentation as sg

#: Output frame grid: the segmentation model's frames.
HOP_S = sg.FRAME_STEP_S


@dataclass(frozen=True)
class Settings:
    """The trained pipeline's settings (from DiarizationConfig's nn_* keys; units in defaults.toml)."""

    step_s: float = 2.5
    cluster_threshold: float = 0.5
    min_cluster_share: float = 0.05
    min_clean_s: float = 0.5
    trim_s: float = 0.0
    embed_every: int = 4
    threads: int = 2
    embed_batch: int = 32  # most inputs per model run; batches are sized by BATCH_FRAMES
    min_speakers: int = 1
    max_speakers: int = 6
    clustering: str = "ahc"  # "ahc" (average linkage) or "vbx" (community-1's VBx, vbx.py); see defaults.toml
    vbx_threshold: float = 0.6
    vbx_fa: float = 0.07
    vbx_fb: float = 0.8
    vbx_min_clean_s: float = 2.0
    both_ways: bool = True  # segmentation.Segmenter.segment(both_ways=...): nn_both_ways
    gate_db: float = 0.0  # spectral gating before segmentation only (perception/denoise.py; 0: off)

    @classmethod
    def from_config(cls, config: DiarizationConfig) -> Settings:
        return cls(step_s=config.nn_step_s, cluster_threshold=config.nn_cluster_threshold,
                   min_cluster_share=config.nn_min_cluster_share, min_clean_s=config.nn_min_clean_s,
                   trim_s=config.nn_trim_s, embed_every=config.nn_embed_every, threads=config.nn_threads, min_speakers=config.min_speakers, max_speakers=config.max_speakers,
                   clustering=config.nn_clustering, vbx_threshold=config.nn_vbx_threshold, vbx_fa=config.nn_vbx_fa,
                   vbx_fb=config.nn_vbx_fb, vbx_min_clean_s=config.nn_vbx_min_clean_s, both_ways=config.nn_both_ways,
                   gate_db=config.nn_gate_db)


@dataclass(frozen=True)
class Diarization:
    """Frame-level result: `active` bool [shape=(frames, speakers)] on the HOP_S grid from `t0`,
    speakers numbered by first appearance; `count` int8 [frames] speakers the model hears."""

    active: np.ndarray
    count: np.ndarray
    t0: float = 0.0
    trim_s: float = 0.0

    def segments(self, *, end_s: float | None = None) -> list[Segment]:
        """Segments speaker1.. (may overlap in time), sorted; each edge moved `trim_s` inward."""
        return active_to_segments(self.active, t0=self.t0, end_s=end_s, trim_s=self.trim_s)


def first_seen_order(active: np.ndarray) -> np.ndarray:
    """Column order of `active` [frames, k] by first active frame; never-active columns dropped."""
    firsts = [(int(np.argmax(active[:, c])), c) for c in range(active.shape[1]) if active[:, c].any()]
    return np.array([c for _, c in sorted(firsts)], dtype=np.int64)


def active_to_segments(active: np.ndarray, *, t0: float = 0.0, end_s: float | None = None,
                       trim_s: float = 0.0) -> list[Segment]:
    """Segments speaker1.. of each column's runs on the HOP_S grid (frame g spans its centre ± HOP_S/2),
    each edge moved `trim_s` inward (the model's 62 ms frames reach past the speech; runs shorter
    than 2 trim_s vanish)."""
    out = []
    offset = t0 + sg.FRAME_DURATION_S / 2 - HOP_S / 2
    for c in range(active.shape[1]):
        col = np.concatenate(([False], active[:, c], [False])).astype(np.int8)
        edges = np.diff(col)
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            start = max(offset + a * HOP_S + trim_s, t0)
            end = offset + b * HOP_S - trim_s
            if end_s is not None:
                end = min(end, end_s)
            if end > start:
                out.append(Segment(float(start), float(end), f"speaker{c + 1}"))
    return sorted(out)
