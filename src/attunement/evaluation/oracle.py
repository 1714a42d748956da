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


def unheard(seg: sg.Segmentation, t0: float = 0.0) -> list[tuple[float, float]]:
    """Spans (s) where no local speaker of any window is active: speech there is missed whatever the
    clustering. Frame j of a window stands for [centre - FRAME_STEP_S / 2, centre + FRAME_STEP_S / 2)."""
    times = frame_times(seg, t0).ravel()
    heard = (np.asarray(seg.activity) > 0.5).any(axis=2).ravel()
    grid = np.round((times - times.min()) / sg.FRAME_STEP_S).astype(np.int64)
    on = np.zeros(grid.max() + 1, dtype=bool)
    np.logical_or.at(on, grid, heard)
    first = times.min() - sg.FRAME_STEP_S / 2
    edges = np.diff(np.concatenate(([0], (~on).astype(np.int8), [0])))
    spans = [(first + a * sg.FRAME_STEP_S, first + b * sg.FRAME_STEP_S)
             for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]
    return ([(t0, first)] if first > t0 else []) + spans


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
