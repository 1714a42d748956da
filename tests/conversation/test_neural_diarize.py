"""The trained diarizer's kernels against plain references, the forced count, overlap kept."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from attunement.conversation import embeddings as emb
from attunement.conversation import neural_diarize as nd
from attunement.conversation import neural_cluster as nc
from attunement.conversation import neural_frames as nf
from attunement.conversation import neural_records as nr
from attunement.conversation import segmentation as sg
from attunement.errors import InputError
from attunement.records import VoiceActivity

# ---------------------------------------------------------------- fbank


def fbank_reference(x, window="hamming"):
    """Kaldi's fbank, one frame at a time, as written in kaldi/feat/feature-window.cc + mel-computations.cc."""
    x = x.astype(np.float64) * 32768.0
    n = 1 + (x.size - 400) // 160
    i = np.arange(400)
    if window == "hamming":
        win = 0.54 - 0.46 * np.cos(2 * np.pi * i / 399)
    else:
        win = (0.5 - 0.5 * np.cos(2 * np.pi * i / 399)) ** 0.85

    def mel(f):
        return 1127.0 * np.log(1.0 + f / 700.0)

    lo, hi = mel(20.0), mel(8000.0)
    delta = (hi - lo) / 81
    banks = np.zeros((80, 257))
    for m in range(80):
        left, centre, right = lo + m * delta, lo + (m + 1) * delta, lo + (m + 2) * delta
        for k in range(256):
            f = mel(k * 16000 / 512)
            if left < f < right:
                banks[m, k] = (f - left) / (centre - left) if f <= centre else (right - f) / (right - centre)
    out = np.zeros((n, 80))
    for f in range(n):
        frame = x[f * 160: f * 160 + 400].copy()
        frame -= frame.mean()
        frame[1:] = frame[1:] - 0.97 * frame[:-1]
        frame[0] -= 0.97 * frame[0]
        frame *= win
        power = np.abs(np.fft.rfft(frame, 512)) ** 2
        out[f] = np.log(np.maximum(banks @ power, np.finfo(np.float32).eps))
    return out


@pytest.mark.parametrize("window", ["hamming", "povey"])
def test_fbank_matches_a_plain_kaldi_reference(rng, window):
    x = (rng.standard_normal(16000) * 0.1).astype(np.float32)
    x[4000:6000] = 0.0  # a silent stretch: the floor
    got = emb.fbank(x, window_kind=window)
    want = fbank_reference(x, window)
    assert got.shape == want.shape == (98, 80)
    np.testing.assert_allclose(got, want, atol=2e-3)


def test_fbank_of_a_window_equals_the_slice_of_the_whole(rng):
    x = (rng.standard_normal(48000) * 0.1).astype(np.float32)
    whole = emb.fbank(x)
    part = emb.fbank(x[160 * 37: 160 * 37 + 16000])
    np.testing.assert_allclose(whole[37:37 + part.shape[0]], part, atol=1e-4)
    assert emb.frame_count(399) == 0 and emb.fbank(x[:399]).shape == (0, 80)
    normed = emb.normalise(whole)
    np.testing.assert_allclose(normed.mean(axis=0), 0.0, atol=1e-4)


# ---------------------------------------------------------------- clustering


def ahc_reference(x):
    """Average linkage on the cosine distance, the obvious O(n^3) way: merge distances in order."""
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    d = 1 - u @ u.T
    clusters = [[i] for i in range(len(x))]
    out = []
    while len(clusters) > 1:
        best = min(((np.mean(d[np.ix_(a, b)]), i, j) for (i, a), (j, b) in
                    itertools.combinations(enumerate(clusters), 2)))
        _, i, j = best
        out.append(best[0])
        clusters[i] = clusters[i] + clusters[j]
        del clusters[j]
    return np.array(out)


@pytest.mark.parametrize("n", [2, 5, 23])
def test_ahc_average_matches_the_plain_reference(rng, n):
    x = rng.standard_normal((n, 8))
    got = nc.ahc_average(x)
    assert got.shape == (n - 1, 3)
    np.testing.assert_allclose(got[:, 2], ahc_reference(x), atol=1e-9)
    assert np.all(np.diff(got[:, 2]) >= -1e-12)


def groups(rng, sizes, d=32, spread=0.15):
    centres = rng.standard_normal((len(sizes), d))
    x = np.concatenate([c + spread * rng.standard_normal((s, d)) * np.linalg.norm(c) / np.sqrt(d)
                        for c, s in zip(centres, sizes)])
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return x / np.linalg.norm(x, axis=1, keepdims=True), truth


def same_partition(a, b):
    return all((a[i] == a[j]) == (b[i] == b[j]) for i in range(len(a)) for j in range(len(a)))


def test_the_count_is_estimated_and_outliers_fold_in(rng):
    x, truth = groups(rng, [20, 15, 10])
    labels = nc.cluster_labels(x, threshold=0.5, min_share=0.05)
    assert same_partition(labels, truth)
    outlier = rng.standard_normal((1, 32))
    y = np.concatenate([x, outlier / np.linalg.norm(outlier)])
    assert int(nc.cluster_labels(y, threshold=0.5, min_share=0.05).max()) + 1 == 3


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_a_forced_count_is_exact(rng, k):
    x, _ = groups(rng, [20, 15, 10])
    labels = nc.cluster_labels(x, threshold=0.5, min_share=0.05, num_speakers=k)
    assert sorted(set(labels.tolist())) == list(range(k))


def test_a_forced_count_of_three_splits_the_right_groups(rng):
    x, truth = groups(rng, [20, 15, 10])
    assert same_partition(nc.cluster_labels(x, threshold=0.01, min_share=0.05, num_speakers=3), truth)


def assign_reference(sim):
    w, local, k = sim.shape
    out = np.full((w, local), -1)
    for i in range(w):
        talking = [j for j in range(local) if np.isfinite(sim[i, j, 0])]
        best, best_map = -np.inf, {}
        for perm in itertools.permutations(list(range(k)) + [-1] * len(talking), len(talking)):
            if len({c for c in perm if c >= 0}) != sum(c >= 0 for c in perm):
                continue
            score = sum(sim[i, j, c] if c >= 0 else -1e6 for j, c in zip(talking, perm))
            if score > best + 1e-12:
                best, best_map = score, dict(zip(talking, perm))
        for j, c in best_map.items():
            out[i, j] = c
    return out


@pytest.mark.parametrize("k", [1, 2, 4])
def test_window_assignment_matches_brute_force(rng, k):
    sim = rng.uniform(-1, 1, (40, 3, k))
    sim[rng.random((40, 3)) < 0.4] = -np.inf
    got = nc.assign_window_speakers(sim)
    want = assign_reference(sim)
    np.testing.assert_array_equal(got, want)
    for row in got:  # distinct clusters within a window
        used = row[row >= 0]
        assert used.size == np.unique(used).size


# ---------------------------------------------------------------- reconstruction


def reconstruct_reference(activity, clusters, offsets, max_count):
    frames = offsets[-1] + activity.shape[1]
    k = max(clusters.max() + 1, 1)
    score, total, cover = np.zeros((frames, k)), np.zeros(frames), np.zeros(frames)
    for w in range(activity.shape[0]):
        for j in range(activity.shape[1]):
            g = offsets[w] + j
            cover[g] += 1
            total[g] += activity[w, j].sum()
            for s in range(activity.shape[2]):
                if clusters[w, s] >= 0:
                    score[g, clusters[w, s]] += activity[w, j, s]
    active = np.zeros((frames, k), bool)
    for g in range(frames):
        if cover[g] == 0:
            continue
        c = min(int(np.floor(total[g] / cover[g] + 0.5)), max_count, k)
        order = sorted(range(k), key=lambda s: (-score[g, s], s))
        for s in order[:c]:
            if score[g, s] > 0:
                active[g, s] = True
    return active


def seg_of(activity, step_s):
    starts = (np.arange(activity.shape[0]) * step_s * sg.RATE).astype(np.int64)
    return sg.Segmentation(activity.astype(np.float32), starts)


def test_reconstruct_matches_the_plain_reference(rng):
    activity = (rng.random((7, sg.FRAMES, 3)) < 0.3).astype(np.float32)
    clusters = rng.integers(-1, 3, (7, 3))
    seg = seg_of(activity, 2.5)
    active, count = nf.reconstruct(seg, clusters, max_count=2)
    want = reconstruct_reference(activity, clusters, nf.frame_offsets(seg.starts), 2)
    np.testing.assert_array_equal(active, want)
    np.testing.assert_array_equal(count, active.sum(axis=1))


def test_overlapped_speech_stays_overlap():
    # one window: local speaker 0 talks 0-5 s, speaker 1 from 4 s to the end; 4-5 s both
    activity = np.zeros((1, sg.FRAMES, 3), np.float32)
    t = np.arange(sg.FRAMES) * sg.FRAME_STEP_S
    activity[0, t < 5, 0] = 1
    activity[0, t >= 4, 1] = 1
    active, count = nf.reconstruct(seg_of(activity, 2.5), np.array([[0, 1, -1]]))
    segs = nr.active_to_segments(active)
    assert [s.speaker for s in segs] == ["speaker1", "speaker2"]
    a, b = segs
    assert abs(a.end - 5.0) < 0.05 and abs(b.start - 4.0) < 0.05 and b.end > 9.9
    assert count.max() == 2


def test_link_windows_follows_shared_activity(rng):
    # the speakers of windows 1 and 3 come in another local order; embedded windows 0, 2 and 4 say who is who
    frames = sg.FRAMES
    who = (np.arange(frames * 3) // 197) % 2  # two voices taking turns on the global grid
    offsets = nf.frame_offsets(np.arange(5) * int(2.5 * sg.RATE))
    activity = np.zeros((5, frames, 3), np.float32)
    for w in range(5):
        g = offsets[w] + np.arange(frames)
        g = g[g < who.size]
        local = who[g] if w % 2 == 0 else 1 - who[g]
        activity[w, np.arange(g.size), local] = 1
    seg = seg_of(activity, 2.5)
    clusters = np.full((5, 3), -1)
    clusters[[0, 2, 4], 0], clusters[[0, 2, 4], 1] = 0, 1
    linked = nc.link_windows(seg, clusters, np.array([0, 2, 4]))
    np.testing.assert_array_equal(linked[[1, 3], :2], [[1, 0], [1, 0]])
    assert nc.embedded_windows(10, 4).tolist() == [0, 4, 8, 9]
    with pytest.raises(InputError):
        nc.embedded_windows(10, 0)


def test_window_starts_reach_the_end():
    assert sg.window_starts(100, step=40000).tolist() == [0]
    starts = sg.window_starts(16000 * 27, step=40000)
    assert starts[0] == 0 and starts[-1] + sg.WINDOW >= 16000 * 27 and starts[-2] + sg.WINDOW < 16000 * 27


def test_heard_share_compares_the_model_with_the_detector():
    from attunement.records import VoiceActivity
    count = np.zeros(600, np.int8)
    count[:300] = 1  # the model hears the first ~5 s
    result = nr.Diarization(np.zeros((600, 1), bool), count)
    speech = np.zeros((1, 1000), bool)
    speech[0, :800] = True  # the detector: 0-8 s
    share = nf.heard_share(result, VoiceActivity(speech, np.zeros((1, 1000), np.float32), 0.01))
    assert abs(share - 5.1 / 8) < 0.02
    assert nf.heard_share(result, VoiceActivity(np.zeros((1, 10), bool), np.zeros((1, 10), np.float32), 0.01)) == 1.0


def test_fed_audio_comes_back_whole_in_any_block_sizes(rng, monkeypatch):
    from attunement.config import default_config
    from attunement.records import AudioBlock
    monkeypatch.setattr(nd, "CHUNK", 1000)
    x = rng.standard_normal(5321).astype(np.float32)
    d = nd.NeuralDiarizer(config=default_config().diarization.__class__(
        **{**default_config().diarization.__dict__, "nn_min_heard": 0.0}))
    at = 0
    for n in (1, 999, 1000, 7, 2500, 814):
        d.feed(AudioBlock(np.stack([x[at:at + n], x[at:at + n]]), at / 16000, 16000))
        at += n
    np.testing.assert_array_equal(d.audio(), x)
    np.testing.assert_array_equal(d.audio(), x)  # joined once, kept


def test_edges_are_trimmed_to_audible_frames_and_inner_silence_is_kept():
    """Speaker runs on the model's grid, levels on the VAD's 30 ms grid: sound (-20 dBFS) over
    [0.6, 2.4) s and [3.0, 3.6) s, background (-70 dBFS) elsewhere. Each run's first and last
    frames must be the first and last frames whose centre lies in sound; silence inside a run stays."""
    hop = 0.03
    t = np.arange(200) * hop
    loud = ((t >= 0.6 - 1e-9) & (t < 2.4 - 1e-9)) | ((t >= 3.0 - 1e-9) & (t < 3.6 - 1e-9))
    level = np.where(loud, -20.0, -70.0).astype(np.float32)[None]
    activity = VoiceActivity(loud[None], level, hop, 0.0)
    frames = 300
    centre = sg.FRAME_DURATION_S / 2 + np.arange(frames) * nr.HOP_S
    audible = loud[np.floor(centre / hop).astype(np.int64)]
    active = np.zeros((frames, 3), np.bool_)
    active[10:250, 0] = True      # 0.2-4.2 s: over both sounds and the silence between them
    active[120:160, 1] = True     # 2.0-2.7 s: ends in silence
    active[270:290, 2] = True     # all in silence: dropped
    result = nr.Diarization(active, active.sum(axis=1).astype(np.int8))
    out = nf.trim_to_audible(result, activity, audible_db=6.0, floor_rise_db_per_s=1.0)
    heard = np.flatnonzero(audible)
    first, last = heard[0], heard[-1]
    expect0 = np.zeros(frames, np.bool_)
    expect0[max(first, 10):min(last, 249) + 1] = True
    assert np.array_equal(out.active[:, 0], expect0)
    assert not audible[expect0].all()  # the silence between the two sounds stays inside the run
    own = np.flatnonzero(audible[120:160]) + 120
    expect1 = np.zeros(frames, np.bool_)
    expect1[own[0]:own[-1] + 1] = True
    assert np.array_equal(out.active[:, 1], expect1)
    assert not out.active[:, 2].any()
    assert np.array_equal(out.count, out.active.sum(axis=1))
    # exact times: the run starts on the first frame centred at or after 0.6 s
    assert abs(centre[first] - 0.6) < nr.HOP_S and centre[first] >= 0.6
    # without the margin the result is unchanged
    assert nf.trim_to_audible(result, activity, audible_db=0.0, floor_rise_db_per_s=1.0) is result


def test_long_inner_silence_is_cut_only_when_asked():
    """A run over two sounds 0.6 s apart (background between): kept whole by default, split at
    the silence with min_pause_s = 0.25 s, kept whole again with min_pause_s = 1 s."""
    hop = 0.03
    t = np.arange(200) * hop
    loud = ((t >= 0.6 - 1e-9) & (t < 1.5 - 1e-9)) | ((t >= 2.1 - 1e-9) & (t < 3.0 - 1e-9))
    activity = VoiceActivity(loud[None], np.where(loud, -20.0, -70.0).astype(np.float32)[None], hop, 0.0)
    frames = 250
    centre = sg.FRAME_DURATION_S / 2 + np.arange(frames) * nr.HOP_S
    audible = loud[np.floor(centre / hop).astype(np.int64)]
    active = np.zeros((frames, 1), np.bool_)
    active[20:200, 0] = True
    result = nr.Diarization(active, active.sum(axis=1).astype(np.int8))
    runs = lambda r: nr.active_to_segments(r.active)
    whole = nf.trim_to_audible(result, activity, audible_db=6.0, floor_rise_db_per_s=1.0)
    assert len(runs(whole)) == 1
    split = nf.trim_to_audible(result, activity, audible_db=6.0, floor_rise_db_per_s=1.0, min_pause_s=0.25)
    assert np.array_equal(split.active[:, 0], audible & active[:, 0])
    segs = runs(split)
    assert len(segs) == 2 and abs(segs[0].end - 1.5) < nr.HOP_S and abs(segs[1].start - 2.1) < nr.HOP_S
    assert len(runs(nf.trim_to_audible(result, activity, audible_db=6.0, floor_rise_db_per_s=1.0,
                                       min_pause_s=1.0))) == 1
