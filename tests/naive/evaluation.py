"""References of attunement.evaluation.der: the DER parts counted on a fine time grid."""

from __future__ import annotations

import itertools

import numpy as np


def diarization_error(reference, hypothesis, *, uem: tuple[float, float], step_s: float = 1e-3):
    """(total, missed, false alarm, confusion) seconds, no collar, by counting grid points (centres of
    `step_s` cells) in `uem`: per point, n_ref and n_hyp speakers active; missed max(n_ref - n_hyp, 0),
    false alarm max(n_hyp - n_ref, 0), confusion min(n_ref, n_hyp) minus the points the best one-to-one
    speaker mapping (every permutation tried) matches. Exact for times on the grid's cell edges."""
    a, b = uem
    grid = np.arange(round((b - a) / step_s)) * step_s + a + step_s / 2

    def active(segments):
        ids = sorted({s.speaker for s in segments})
        return ids, {k: np.any([(grid >= s.start) & (grid < s.end) for s in segments if s.speaker == k], axis=0)
                     for k in ids}

    ref_ids, r = active(reference)
    hyp_ids, h = active(hypothesis)
    nr = sum(r.values(), np.zeros(grid.size, int)).astype(int)
    nh = sum(h.values(), np.zeros(grid.size, int)).astype(int)
    best = 0
    if ref_ids and hyp_ids:
        k = min(len(ref_ids), len(hyp_ids))
        best = max(sum(np.sum(r[x] & h[y]) for x, y in zip(rs, hs))
                   for rs in itertools.permutations(ref_ids, k) for hs in itertools.permutations(hyp_ids, k))
    return (nr.sum() * step_s, np.maximum(nr - nh, 0).sum() * step_s, np.maximum(nh - nr, 0).sum() * step_s,
            (np.minimum(nr, nh).sum() - best) * step_s)
