"""Spectral gating: steady background noise lowered, speech left as it is (optional front end).

Short-time spectrum (512-point periodic Hann, hop 128: 32 ms frames every 8 ms at 16 kHz); per
frequency bin the background is the `PERCENTILE`-th percentile of the magnitude over a block of
`block_s` (a steady noise fills most frames; speech a minority of them). A bin is open where its
magnitude stands `open_db` above that background; the open/closed mask is averaged over
`SMOOTH_FRAMES` frames x `SMOOTH_BINS` bins (so single bins do not flicker: musical noise), and
the closed part is lowered by `reduce_db`. The signal is rebuilt by weighted overlap-add (exact
when nothing is lowered). Blocks are independent: memory stays one block's spectrum (about 8 MB
for 30 s) for a recording of any length.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

NFFT = 512
HOP = 128
#: the background's percentile of each bin's magnitude over a block
PERCENTILE = 10.0
SMOOTH_FRAMES = 5
SMOOTH_BINS = 3


def spectral_gate(x: np.ndarray, *, reduce_db: float, open_db: float = 6.0, block_s: float = 30.0,
                  rate: int = 16000) -> np.ndarray:
    """Mono float32 audio x [n] with its steady background lowered by `reduce_db` (see the module
    docstring); float32 [n]. `reduce_db` 0 returns x unchanged (up to float32 rounding)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise InputError(f"spectral gating needs mono samples [n]; got shape {x.shape}")
    if reduce_db < 0 or open_db < 0 or block_s <= 0:
        raise InputError(f"reduce_db {reduce_db}, open_db {open_db}, block_s {block_s}: must be >= 0, >= 0, > 0")
    n = x.shape[0]
    if n == 0:
        return x.copy()
    win = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(NFFT) / NFFT)).astype(np.float32)
    padded = np.zeros(NFFT + n + NFFT + HOP, dtype=np.float32)
    padded[NFFT:NFFT + n] = x
    frames = (padded.shape[0] - NFFT) // HOP + 1
    out = np.zeros(padded.shape[0], dtype=np.float64)
    weight = np.zeros(padded.shape[0], dtype=np.float64)
    floor = np.float32(10 ** (-reduce_db / 20))
    above = np.float32(10 ** (open_db / 20))
    per_block = max(int(block_s * rate / HOP), SMOOTH_FRAMES)
    for a in range(0, frames, per_block):
        b = min(frames, a + per_block)
        idx = (np.arange(a, b) * HOP)[:, None] + np.arange(NFFT)[None]
        spec = np.fft.rfft(padded[idx] * win, axis=1)
        mag = np.abs(spec).astype(np.float32)
        background = np.percentile(mag, PERCENTILE, axis=0)
        mask = box_mean((mag > background * above).astype(np.float32), SMOOTH_FRAMES, SMOOTH_BINS)
        gain = mask + (1 - mask) * floor
        frames_out = np.fft.irfft(spec * gain, n=NFFT, axis=1) * win
        overlap_add(out, frames_out, a)
        overlap_add(weight, np.broadcast_to(win.astype(np.float64) ** 2, frames_out.shape), a)
    return (out[NFFT:NFFT + n] / np.maximum(weight[NFFT:NFFT + n], 1e-8)).astype(np.float32)


def overlap_add(out: np.ndarray, frames: np.ndarray, first: int) -> None:
    """Add frames [k, NFFT] (frame j starting at sample (first + j) HOP) into out, vectorised: frames
    NFFT / HOP apart do not overlap, so each phase is one strided add."""
    step = NFFT // HOP
    for r in range(step):
        part = frames[r::step]
        if part.shape[0] == 0:
            continue
        start = (first + r) * HOP
        out[start:start + part.size] += part.reshape(-1)


def box_mean(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Mean of a [m, k] over a centred rows x cols box, edges repeated (float32 [m, k])."""
    pr, pc = rows // 2, cols // 2
    p = np.pad(a, ((pr, rows - 1 - pr), (pc, cols - 1 - pc)), mode="edge").astype(np.float64)
    c = np.cumsum(np.cumsum(np.pad(p, ((1, 0), (1, 0))), axis=0), axis=1)
    m, k = a.shape
    s = c[rows:rows + m, cols:cols + k] - c[:m, cols:cols + k] - c[rows:rows + m, :k] + c[:m, :k]
    return (s / (rows * cols)).astype(np.float32)
