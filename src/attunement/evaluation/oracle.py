"""Oracles for the trained diarizer's ceiling (benchmarks/bench_diarize_ceiling.py): each window's
local speakers given the reference speaker they share most speech with (the best any clustering of
this segmentation could do), and the reference speech no window hears at all (what no clustering
can reach)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..conversation import segmentation as sg
from ..conversation.neural_frames import frame_offsets
from ..intervals import inside
from ..records import Segment


def frame_times(seg: sg.Segmentation, t0: float = 0.0) -> np.ndarray:
    """Centre of each window's frames, s: float64 [windows, 589] (segmentation.Segmentation's grid)."""
    j = np.arange(sg.FRAMES) * sg.FRAME_STEP_S + sg.FRAME_DURATION_S / 2
    return t0 + np.asarray(seg.starts)[:, None] / sg.RATE + j[None, :]


def oracle_clusters(seg: sg.Segmentation, reference: Sequence[Segment], *, t0: float = 0.0,
                    one_to_one: bool = True) -> tuple[np.ndarray, list[str]]:
    """Each window's local speakers mapped one-to-one to reference speakers (Hungarian per window on
    the number of frames both are active), as clusters int64 [windows, 3] for neural_frames.reconstruct,
    and the reference ids in cluster order (sorted). A local speaker sharing no frame with the reference
    speaker it is paired with, or left over (more local speakers than reference ones), gets -1: it
    still counts in the frame's speaker count but is never chosen (an oracle drop, kinder than any
    clustering, which must put it somewhere). `one_to_one=False`: each local speaker goes to the
    reference speaker it shares most frames with, two of a window to the same one if so (a voice the
    segmentation split inside a window joined again; the product keeps a window's speakers apart)."""
    ids = sorted({s.speaker for s in reference})
    act = np.asarray(seg.activity) > 0.5                                 # [windows, 589, 3]
    out = np.full(act.shape[::2], -1, dtype=np.int64)
    if not ids:
        return out, ids
    times = frame_times(seg, t0)
    ref = np.stack([inside(times, [s for s in reference if s.speaker == r]) for r in ids], axis=-1)  # [windows, 589, refs]
    for w in range(act.shape[0]):
        overlap = act[w].T.astype(np.int64) @ ref[w].astype(np.int64)   # [3, refs] frames in common
        if one_to_one:
            rows, cols = linear_sum_assignment(overlap, maximize=True)
        else:
            rows, cols = np.arange(overlap.shape[0]), np.argmax(overlap, axis=1)
        for k, r in zip(rows, cols):
            if overlap[k, r] > 0:
                out[w, k] = r
    return out, ids


def heard_count(seg: sg.Segmentation) -> np.ndarray:
    """Most local speakers any window hears at each output frame, int64 [frames] (the HOP_S grid of
    neural_frames.reconstruct: frame g centred at FRAME_DURATION_S / 2 + g * FRAME_STEP_S s)."""
    offsets = frame_offsets(seg.starts)
    out = np.zeros(int(offsets[-1]) + sg.FRAMES, dtype=np.int64)
    for w, o in enumerate(offsets):
        out[o:o + sg.FRAMES] = np.maximum(out[o:o + sg.FRAMES], (np.asarray(seg.activity[w]) > 0.5).sum(axis=1))
    return out


def unheard_share(seg: sg.Segmentation, reference: Sequence[Segment], uem: tuple[float, float]) -> float:
    """Share of the reference speech (per speaker, as DER counts it; on the output frame grid, within
    `uem`, s) where no local speaker of any window is active: missed whatever the clustering and the
    count. (Overlapped voices heard as one are not in it: another window may hear the other voice.)"""
    heard = heard_count(seg)
    centres = sg.FRAME_DURATION_S / 2 + np.arange(heard.size) * sg.FRAME_STEP_S
    talking = sum(inside(centres, [s for s in reference if s.speaker == r]).astype(np.int64)
                  for r in {s.speaker for s in reference}) * ((centres >= uem[0]) & (centres < uem[1]))
    total = np.sum(talking)
    return float(talking[heard == 0].sum() / total) if total else 0.0


def oracle_count_active(seg: sg.Segmentation, clusters: np.ndarray, reference: Sequence[Segment], *,
                        t0: float = 0.0) -> np.ndarray:
    """neural_frames.reconstruct with the reference's count: at each output frame (HOP_S grid, the
    windows' frames placed by neural_frames.frame_offsets) the clusters with the largest summed
    activity speak, as many as reference speakers talk there (fewer where fewer clusters have any
    activity). Returns active bool [frames, k] in cluster order (k = clusters.max() + 1)."""
    offsets = frame_offsets(seg.starts)
    frames = int(offsets[-1]) + sg.FRAMES
    k = max(int(clusters.max(initial=-1)) + 1, 1)
    score = np.zeros((frames, k))
    for w, o in enumerate(offsets):
        for s in range(clusters.shape[1]):
            if clusters[w, s] >= 0:
                score[o:o + sg.FRAMES, clusters[w, s]] += seg.activity[w, :, s]
    centres = t0 + sg.FRAME_DURATION_S / 2 + np.arange(frames) * sg.FRAME_STEP_S
    wanted = sum(inside(centres, [s for s in reference if s.speaker == r]).astype(np.int64)
                 for r in {s.speaker for s in reference}) if reference else np.zeros(frames, np.int64)
    order = np.argsort(-score, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(k)[None, :].repeat(frames, axis=0), axis=1)
    return (rank < np.asarray(wanted)[:, None]) & (score > 0)
