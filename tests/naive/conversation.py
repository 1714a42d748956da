"""References of attunement.conversation: turn_kernels, speakers, me, dvector, features, reseg, cluster."""

from __future__ import annotations

import math
import statistics

import numpy as np
from scipy.fft import dct

from attunement.config import TurnConfig
from attunement.conversation import features as ft
from attunement.conversation.turns import (Backchannel, FloorTransfer, Interruption, Pause, SpeakerStats, Turn,
                                           TurnTaking)
from attunement.records import Segment

EPS = 1e-9  # the documented tolerance of docs/metrics.md: bounds within 1 ns count as met


# ---------------------------------------------------------------- turn taking (docs/metrics.md)

def bridge_pauses(segments: list[Segment], bridge_pause_s: float) -> list[Segment]:
    """Each speaker's segments in start order, merged across pauses < bridge (and touching/overlapping)."""
    merged: list[list] = []
    for s in sorted(segments, key=lambda s: (s.speaker, s.start, s.end)):
        last = merged[-1] if merged else None
        if last is not None and last[2] == s.speaker:
            pause = s.start - last[1]
            if pause <= EPS or pause < bridge_pause_s - EPS:
                last[1] = max(last[1], s.end)
                continue
        merged.append([s.start, s.end, s.speaker])
    return [Segment(a, b, k) for a, b, k in merged]


def run_floor(segs: list[Segment], cfg: TurnConfig) -> tuple[list[tuple], list[Turn]]:
    """Per segment (kind, holder, offset, overlap), and the turns; `segs` bridged and in processing order."""
    rows, turns = [], []
    holder, h_end, turn_start = None, None, None
    for s in segs:
        if holder is None:
            rows.append(("first", None, 0.0, 0.0))
            holder, h_end, turn_start = s.speaker, s.end, s.start
            continue
        if s.speaker == holder:
            rows.append(("continue", holder, s.start - h_end, 0.0))
            h_end = max(h_end, s.end)
            continue
        if s.start >= h_end - EPS:
            kind, overlap = "gap", 0.0
        elif s.end <= h_end + EPS:
            short = s.end - s.start <= cfg.backchannel_max_s + EPS
            rows.append(("backchannel" if short else "attempted_interruption", holder, 0.0, s.end - s.start))
            continue
        else:
            overlap = h_end - s.start
            held_on = overlap >= cfg.interruption_min_holdover_s - EPS
            went_on = s.end - h_end >= cfg.interruption_min_continue_s - EPS
            kind = "smooth_overlap" if not held_on else "interruption" if went_on else "overlap_transfer"
        rows.append((kind, holder, s.start - h_end, overlap))
        turns.append(Turn(holder, turn_start, h_end))
        holder, h_end, turn_start = s.speaker, s.end, s.start
    if holder is not None:
        turns.append(Turn(holder, turn_start, h_end))
    return rows, turns


def analyze_turns(segments: list[Segment], cfg: TurnConfig, speakers: list[str] | None = None) -> TurnTaking:
    """turns.analyze_turns from docs/metrics.md: bridged segments in start order through the floor
    rules, then each speaker's statistics."""
    ids = list(speakers) if speakers is not None else sorted({s.speaker for s in segments})
    segs = bridge_pauses([s for s in segments if s.end != s.start], cfg.bridge_pause_s)
    segs.sort(key=lambda s: (s.start, -s.end, ids.index(s.speaker)))
    rows, turns = run_floor(segs, cfg)
    events = list(zip(segs, rows))
    inter = [Interruption(s.start, s.speaker, h, ov) for s, (k, h, _, ov) in events if k == "interruption"]
    attempts = [Interruption(s.start, s.speaker, h, ov) for s, (k, h, _, ov) in events
                if k == "attempted_interruption"]
    bcs = [Backchannel(s.start, s.speaker, h, s.end - s.start) for s, (k, h, _, _) in events if k == "backchannel"]
    transfers = [FloorTransfer(s.start, h, s.speaker, off, k) for s, (k, h, off, _) in events
                 if k in ("gap", "smooth_overlap", "interruption", "overlap_transfer")]
    pauses = [Pause(s.start - off, s.speaker, off) for s, (k, _, off, _) in events if k == "continue"]
    total = math.fsum(s.end - s.start for s in segs)
    stats = {}
    for k in ids:
        talk = math.fsum(s.end - s.start for s in segs if s.speaker == k)
        mine = [t.end - t.start for t in turns if t.speaker == k]
        gaps = [f.offset_s for f in transfers if f.to == k]
        own_pauses = [p.duration_s for p in pauses if p.speaker == k]
        stats[k] = SpeakerStats(
            talk_time_s=talk, talk_share=talk / total if total > 0 else 0.0, turns=len(mine),
            mean_turn_s=sum(mine) / len(mine) if mine else 0.0, longest_turn_s=max(mine, default=0.0),
            interruptions_made=sum(e.by == k for e in inter), interruptions_received=sum(e.of == k for e in inter),
            backchannels_made=sum(e.by == k for e in bcs),
            median_response_gap_s=statistics.median(gaps) if gaps else None,
            attempted_interruptions_made=sum(e.by == k for e in attempts),
            attempted_interruptions_received=sum(e.of == k for e in attempts),
            backchannels_received=sum(e.during == k for e in bcs),
            pauses=len(own_pauses), median_pause_s=statistics.median(own_pauses) if own_pauses else None)
    return TurnTaking(tuple(ids), tuple(segs), tuple(turns), stats, tuple(inter), tuple(attempts), tuple(bcs),
                      tuple(transfers), tuple(pauses))


# ---------------------------------------------------------------- one channel per speaker

def suppress_leak(speech, level_db, margin_db):
    """A channel [c, t] keeps a speech frame when its level is within margin_db of the loudest
    channel speaking in that frame."""
    loudest = np.where(speech, level_db, -np.inf).max(axis=0)
    return np.asarray(speech, bool) & (level_db >= loudest - margin_db)


def refill_masked(speech, own, max_frames):
    """Plain Python: fill runs of suppressed frames, inside one speech run, flanked by own frames."""
    out = own.copy()
    for c in range(speech.shape[0]):
        t = 0
        while t < speech.shape[1]:
            if not speech[c, t]:
                t += 1
                continue
            end = t
            while end < speech.shape[1] and speech[c, end]:
                end += 1
            own_idx = [u for u in range(t, end) if own[c, u]]
            for a, b in zip(own_idx, own_idx[1:]):
                if 0 < b - a - 1 <= max_frames:
                    out[c, a + 1:b] = True
            t = end
    return out


# ---------------------------------------------------------------- me by mouth movement

def mouth_activity(t, x, window_s):
    """Standard deviation of the finite openings within +-window_s/2 of each frame; NaN with fewer than
    3 or no face."""
    out = np.full(t.size, np.nan, dtype=np.float32)
    for i in range(t.size):
        near = x[(np.abs(t - t[i]) <= window_s / 2 + 1e-12)]
        near = near[np.isfinite(near)]
        if near.size >= 3 and np.isfinite(x[i]):
            out[i] = near.std()
    return out


# ---------------------------------------------------------------- d-vectors

def lstm_embedding(x: np.ndarray, enc) -> np.ndarray:
    """torch.nn.LSTM (i, f, g, o) + Linear + ReLU + L2 norm, one window x [t, 40], float64, step by step."""
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    seq = x.astype(np.float64)
    for layer in range(3):
        h, c, out = np.zeros(256), np.zeros(256), []
        for v in seq:
            g = enc.w_ih[layer] @ v + enc.w_hh[layer] @ h + enc.bias[layer]
            i, f, cand, o = sig(g[:256]), sig(g[256:512]), np.tanh(g[512:768]), sig(g[768:])
            c = f * c + i * cand
            h = o * np.tanh(c)
            out.append(h)
        seq = np.array(out)
    e = np.maximum(enc.linear_w @ h + enc.linear_b, 0.0)
    return e / np.linalg.norm(e)


def lstm_cell(gates, gates_x, c, h):
    """(c, h) after one torch.nn.LSTM step (gates i, f, g, o) of pre-activations gates + gates_x, in
    float64."""
    g = gates.astype(np.float64) + gates_x
    n = h.shape[1]
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    c_new = sig(g[:, n:2 * n]) * c + sig(g[:, :n]) * np.tanh(g[:, 2 * n:3 * n])
    return c_new, sig(g[:, 3 * n:]) * np.tanh(c_new)


def window_votes(n, starts, length, scores):
    """Mean score [n, k] of the windows [start, start + length) covering each frame; NaN where none
    does."""
    out = np.full((n, scores.shape[1]), np.nan)
    for t in range(n):
        cover = [w for w, s in enumerate(starts) if s <= t < s + length]
        if cover:
            out[t] = scores[cover].mean(axis=0)
    return out


# ---------------------------------------------------------------- diarization (docs/diarization.md)

def mfcc(x):
    """MFCC c1..c19 frame by frame: pre-emphasis, Hamming window, power spectrum, mel filters, log, DCT-II."""
    x = np.asarray(x, np.float64)
    e = np.concatenate(([x[0] * (1 - ft.PRE_EMPHASIS)], x[1:] - ft.PRE_EMPHASIS * x[:-1]))
    n = 1 + (e.size - ft.WIN) // ft.HOP if e.size >= ft.WIN else 0
    out = np.zeros((n, ft.N_CEPS))
    fb = ft.mel_filterbank()
    for k in range(n):
        frame = e[k * ft.HOP: k * ft.HOP + ft.WIN] * np.hamming(ft.WIN)
        power = np.abs(np.fft.rfft(frame, ft.NFFT)) ** 2
        out[k] = dct(np.log(fb @ power + 1e-8), type=2, norm="ortho")[1:ft.N_CEPS + 1]  # c1..c19
    return out


def speech_chunks(speech, L):
    """Each run of speech cut into max(1, round(len / L)) near-equal [start, end) pieces."""
    out, i = [], 0
    while i < len(speech):
        if not speech[i]:
            i += 1
            continue
        j = i
        while j < len(speech) and speech[j]:
            j += 1
        m = max(1, round((j - i) / L))
        out += [(i + (j - i) * p // m, i + (j - i) * (p + 1) // m) for p in range(m)]
        i = j
    return out


def glr_distances(feats, chunks, prior, tau):
    """The chunks' GLR [c, c] from the frames themselves (features [n, d], chunks [(a, b)]), each
    covariance shrunk toward `prior` by `tau` frames (the kernel takes sufficient statistics)."""
    def logdet(x):
        c = ((x - x.mean(0)).T @ (x - x.mean(0)) + tau * prior) / (len(x) + tau)
        return np.linalg.slogdet(c)[1]
    n = len(chunks)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            a, b = feats[slice(*chunks[i])], feats[slice(*chunks[j])]
            both = np.vstack([a, b])
            ratio = len(both) * logdet(both) - len(a) * logdet(a) - len(b) * logdet(b)
            out[i, j] = out[j, i] = 0.5 * ratio / len(both)
    return out


def viterbi(ll, pen):
    """The best path by dynamic programming over [to, from] score tables (ties: stay)."""
    n, k = ll.shape
    score, back = ll[0].copy(), np.zeros((n, k), int)
    for t in range(1, n):
        cand = score[None, :] - pen * (1 - np.eye(k))     # [to, from]
        back[t] = np.argmax(cand + 1e-12 * np.eye(k), axis=1)  # ties: stay
        score = cand[np.arange(k), back[t]] + ll[t]
    path = [int(np.argmax(score))]
    for t in range(n - 1, 0, -1):
        path.append(back[t, path[-1]])
    return np.array(path[::-1])


def prune_affinity(a, m):
    """Each row keeps its m largest entries (the rest 0), then (A + A^T) / 2."""
    out = np.zeros_like(a)
    for i in range(a.shape[0]):
        cut = sorted(a[i], reverse=True)[m - 1]
        out[i] = [v if v >= cut else 0.0 for v in a[i]]
    return 0.5 * (out + out.T)


def chunk_stats(features, chunks):
    """(count, sum, scatter sum) of each chunk's frames, by slicing."""
    f = np.asarray(features, np.float64)
    n = np.array([b - a for a, b in chunks], np.float64)
    s1 = np.array([f[a:b].sum(axis=0) for a, b in chunks]).reshape(len(chunks), f.shape[1])
    s2 = np.array([f[a:b].T @ f[a:b] for a, b in chunks]).reshape(len(chunks), f.shape[1], f.shape[1])
    return n, s1, s2


def box_smooth(x, width, runs=None):
    """Mean of the rows within width // 2 of each row, cut at the ends and at changes of `runs`."""
    x = np.asarray(x, np.float64)
    n, h = x.shape[0], max(int(width), 1) // 2
    runs = np.zeros(n) if runs is None else np.asarray(runs)
    out = np.empty_like(x)
    for t in range(n):
        near = [u for u in range(max(t - h, 0), min(t + h + 1, n)) if runs[u] == runs[t]]
        out[t] = x[near].mean(axis=0)
    return out


def second_speaker(ll, best, margin, min_frames):
    """The runner-up column where within `margin` of `best`'s loglik, else -1; shorter runs of one
    runner-up than `min_frames` dropped."""
    ll = np.asarray(ll, np.float64)
    n, k = ll.shape
    want = np.full(n, -1)
    if k < 2:
        return want
    for t in range(n):
        order = [j for j in np.argsort(-ll[t], kind="stable") if j != best[t]]
        if ll[t, best[t]] - ll[t, order[0]] < margin:
            want[t] = order[0]
    t = 0
    while t < n:
        u = t
        while u < n and want[u] == want[t]:
            u += 1
        if u - t < min_frames:
            want[t:u] = -1
        t = u
    return want


def kmeans_cosine(x, k, iterations=50):
    """Spherical k-means of unit rows x [n, d]: seeds row 0, then each next seed the row least similar
    (cosine) to its most similar seed so far; then assign every row to its most similar centre and
    move each centre to its rows' normalised sum, until no row changes (at most `iterations` rounds)."""
    x = np.asarray(x, np.float64)
    seeds = [0]
    while len(seeds) < k:
        nearest = (x @ x[seeds].T).max(axis=1)
        seeds.append(int(np.argmin(nearest)))
    centres = x[seeds].copy()
    labels = np.zeros(len(x), int)
    for round_ in range(iterations):
        new = np.argmax(x @ centres.T, axis=1)
        if round_ > 0 and (new == labels).all():
            break
        labels = new
        for c in range(k):
            total = x[labels == c].sum(axis=0)
            if np.linalg.norm(total) > 0:
                centres[c] = total / np.linalg.norm(total)
    return labels


def spectral_clusters(distances, *, num_speakers=None, min_speakers=2, max_speakers=6, keep=1.0,
                      first_gap_weight=1.0):
    """Ng-Jordan-Weiss spectral clustering as docs/diarization.md states it: affinity exp(-d / median
    off-diagonal distance), each row pruned to its nearest `keep` share and symmetrised, normalised
    Laplacian I - D^-1/2 A D^-1/2, the count from the largest eigengap (the first weighted) unless
    given, rows of the first k eigenvectors normalised and clustered by spherical k-means; labels by
    first appearance."""
    d = np.asarray(distances, np.float64)
    n = len(d)
    if n < 2:
        return np.zeros(n, int)
    off = [d[i, j] for i in range(n) for j in range(i + 1, n)]
    scale = statistics.median(off) or max(off) or 1.0
    a = np.exp(-d / scale) - np.eye(n)
    if keep < 1.0:
        a = prune_affinity(a, max(1, round(keep * (n - 1))))
    inv = 1 / np.sqrt(np.maximum(a.sum(axis=1), 1e-300))
    values, vectors = np.linalg.eigh(np.eye(n) - a * np.outer(inv, inv))
    top = min(max_speakers, n - 1)
    if num_speakers is not None:
        k = min(num_speakers, n)
    else:
        lo = min(min_speakers, top)
        gaps = {m: values[m] - values[m - 1] for m in range(lo, top + 1)}
        if lo in gaps:
            gaps[lo] *= first_gap_weight
        k = max(gaps, key=lambda m: (gaps[m], -m)) if gaps else max(lo, 1)
    if k <= 1:
        return np.zeros(n, int)
    rows = vectors[:, :k] / np.maximum(np.linalg.norm(vectors[:, :k], axis=1, keepdims=True), 1e-12)
    labels = kmeans_cosine(rows, k)
    order = list(dict.fromkeys(labels.tolist()))
    return np.array([order.index(v) for v in labels])


# ---------------------------------------------------------------- VBx (conversation/vbx.py)


def ahc_centroid(x):
    """Centroid linkage, the obvious way: every step merge the two clusters whose means (of the
    unit rows) are nearest; returns [(slot a, slot b, distance)] with a < b the lower member index."""
    u = [row / np.linalg.norm(row) for row in np.asarray(x, np.float64)]
    clusters = {i: [i] for i in range(len(u))}
    out = []
    while len(clusters) > 1:
        best = None
        keys = sorted(clusters)
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                ca = np.mean([u[m] for m in clusters[a]], axis=0)
                cb = np.mean([u[m] for m in clusters[b]], axis=0)
                dist = math.sqrt(sum((p - q) ** 2 for p, q in zip(ca, cb)))
                if best is None or dist < best[2]:
                    best = (a, b, dist)
        a, b, dist = best
        out.append(best)
        clusters[a] = clusters[a] + clusters.pop(b)
    return out


def fcluster_distance(merges, n, threshold):
    """scipy's fcluster(criterion="distance") from first principles: a node forms a flat cluster
    when the highest merge anywhere inside its subtree is <= threshold and its parent's is not."""
    slot_node = list(range(n))
    children, height = {}, {}
    for s, (a, b, h) in enumerate(merges):
        node = n + s
        children[node] = (slot_node[int(a)], slot_node[int(b)])
        height[node] = h
        slot_node[int(a)] = node

    def highest(node):
        if node < n:
            return -math.inf
        return max(height[node], *(highest(c) for c in children[node]))

    def leaves(node):
        return [node] if node < n else [m for c in children[node] for m in leaves(c)]

    labels = [None] * n
    todo = [n + len(merges) - 1] if merges else list(range(n))
    k = 0
    while todo:
        node = todo.pop()
        if highest(node) <= threshold:
            for m in leaves(node):
                labels[m] = k
            k += 1
        else:
            todo.extend(children[node])
    return labels


def vbx(x, phi, gamma, fa, fb, max_iters, epsilon):
    """VBx's GMM updates (Landini et al. 2022, eqs. 16-18, 23, 25) one embedding and speaker at a
    time: returns (gamma, pi, elbo list)."""
    n, d = len(x), len(phi)
    k = len(gamma[0])
    gamma = [list(map(float, row)) for row in gamma]
    pi = [1.0 / k] * k
    elbo = []
    for it in range(max_iters):
        counts = [sum(gamma[t][s] for t in range(n)) for s in range(k)]
        inv_l = [[1.0 / (1.0 + fa / fb * counts[s] * phi[j]) for j in range(d)] for s in range(k)]
        alpha = [[fa / fb * inv_l[s][j] * sum(gamma[t][s] * x[t][j] * math.sqrt(phi[j]) for t in range(n))
                  for j in range(d)] for s in range(k)]
        total = 0.0
        for t in range(n):
            g = -0.5 * (sum(v * v for v in x[t]) + d * math.log(2 * math.pi))
            lp = []
            for s in range(k):
                ll = sum(x[t][j] * math.sqrt(phi[j]) * alpha[s][j] for j in range(d))
                ll -= 0.5 * sum((inv_l[s][j] + alpha[s][j] ** 2) * phi[j] for j in range(d))
                lp.append(fa * (ll + g) + math.log(pi[s] + 1e-8))
            top = max(lp)
            norm = top + math.log(sum(math.exp(v - top) for v in lp))
            gamma[t] = [math.exp(v - norm) for v in lp]
            total += norm
        pi = [sum(gamma[t][s] for t in range(n)) for s in range(k)]
        pi = [p / sum(pi) for p in pi]
        kl = sum(math.log(inv_l[s][j]) - inv_l[s][j] - alpha[s][j] ** 2 + 1 for s in range(k) for j in range(d))
        elbo.append(total + fb * 0.5 * kl)
        if it > 0 and elbo[-1] - elbo[-2] < epsilon:
            break
    return np.array(gamma), np.array(pi), elbo
