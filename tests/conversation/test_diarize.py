"""Mono diarization: every kernel against a plain numpy reference, and a synthetic two-voice conversation."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.config import default_config
from attunement.conversation import features as ft
from attunement.conversation.cluster import first_appearance, prune_affinity, spectral_clusters
from attunement.evaluation.der import diarization_error
from attunement.conversation.diarize import (
    Diarizer, diarize_frames, frames_to_segments, merge_close_speakers, speaker_glr, speech_on_frames,
)
from attunement.conversation.reseg import box_smooth, second_speaker, speaker_loglik, viterbi
from attunement.errors import ConfigError, InputError
from attunement.perception.vad import detect_speech
from attunement.records import AudioBlock, VoiceActivity
from attunement.demo.conversation import practice_conversation
from tests import naive

CFG = default_config().diarization


# ------------------------------------------------------------------ references

def path_score(ll, path, pen):
    return ll[np.arange(len(path)), path].sum() - pen * np.count_nonzero(np.diff(path))


# ------------------------------------------------------------------ kernels

def test_mfcc_matches_reference_and_streams_in_any_blocks(rng):
    x = (0.1 * rng.standard_normal(16000 + 123)).astype(np.float32)
    whole = ft.mfcc(x)
    np.testing.assert_allclose(whole, naive.mfcc(x), rtol=1e-3, atol=2e-3)
    stream = ft.MfccStream()
    for part in np.split(x, [1, 7, 400, 401, 5000, 9999]):
        stream.feed(part)
    np.testing.assert_allclose(stream.features(), whole, rtol=1e-4, atol=1e-4)
    assert ft.mfcc(x[:399]).shape == (0, ft.N_CEPS)


def test_speech_chunks_match_reference(rng):
    for _ in range(20):
        speech = rng.random(500) < 0.8
        speech = np.repeat(speech[::10], 10)
        for L in (1, 7, 40, 200):
            got = ft.speech_chunks(speech, chunk_frames=L)
            assert [tuple(r) for r in got] == naive.speech_chunks(speech, L)
    assert ft.speech_chunks(np.zeros(10, bool), chunk_frames=5).shape == (0, 2)


def test_chunk_stats_and_glr_match_reference(rng):
    feats = rng.standard_normal((600, 5))
    feats[300:] *= 2.0                        # a second "voice": other covariance
    chunks = np.array([[0, 100], [100, 250], [250, 350], [350, 600], [10, 40]])
    n, s1, s2 = ft.chunk_stats(feats, chunks)
    for got, want in zip((n, s1, s2), naive.chunk_stats(feats, chunks)):
        np.testing.assert_allclose(got, want)
    prior = np.cov(feats.T)
    got = ft.glr_distances(n, s1, s2, prior, shrink_frames=10.0)
    np.testing.assert_allclose(got, naive.glr_distances(feats, [tuple(c) for c in chunks], prior, 10.0), rtol=1e-9, atol=1e-9)
    assert got[0, 1] < got[0, 3]              # same voice closer than the other voice


def test_box_smooth_matches_reference(rng):
    x = rng.standard_normal((37, 3))
    for width in (1, 2, 5, 100):
        np.testing.assert_allclose(box_smooth(x, width), naive.box_smooth(x, width))
    runs = np.repeat([0, 1, 2], [10, 20, 7])
    for width in (3, 9):
        np.testing.assert_allclose(box_smooth(x, width, runs=runs), naive.box_smooth(x, width, runs))


def test_viterbi_matches_reference_and_is_optimal(rng):
    for pen in (0.0, 0.7, 3.0):
        ll = rng.standard_normal((60, 3))
        got = viterbi(ll, switch_penalty=pen)
        assert path_score(ll, got, pen) == pytest.approx(path_score(ll, naive.viterbi(ll, pen), pen))
    ll = rng.standard_normal((8, 2))
    best = max(path_score(ll, np.array(p), 1.0) for p in np.ndindex(*(2,) * 8))
    assert path_score(ll, viterbi(ll, switch_penalty=1.0), 1.0) == pytest.approx(best)
    # a free change into row 4 (the first frame after a pause) costs nothing
    free = np.zeros(8, bool)
    free[4] = True

    def score_free(p):
        return ll[np.arange(8), p].sum() - 1.0 * sum(p[t] != p[t - 1] and not free[t] for t in range(1, 8))
    best = max(score_free(np.array(p)) for p in np.ndindex(*(2,) * 8))
    assert score_free(viterbi(ll, switch_penalty=1.0, free=free)) == pytest.approx(best)


def test_second_speaker_matches_reference(rng):
    ll = rng.standard_normal((200, 3))
    ll = np.repeat(ll[::10], 10, axis=0)
    best = np.argmax(ll, axis=1)
    got = second_speaker(ll, best, margin=0.5, min_frames=15)
    np.testing.assert_array_equal(got, naive.second_speaker(ll, best, 0.5, 15))
    assert second_speaker(ll[:, :1], best * 0, margin=9.0, min_frames=1).max() == -1


def test_speaker_loglik_is_the_gaussian_density(rng):
    x = rng.standard_normal((300, 4))
    labels = (np.arange(300) >= 150).astype(int)
    prior = np.eye(4)
    got = speaker_loglik(x, labels, 3, prior, shrink_frames=5.0)
    for j in (0, 1):
        mine = x[labels == j]
        mu = mine.mean(0)
        cov = ((mine - mu).T @ (mine - mu) + 5.0 * prior) / (len(mine) + 5.0)
        d = x - mu
        want = -0.5 * np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d) - 0.5 * np.linalg.slogdet(2 * np.pi * cov)[1]
        np.testing.assert_allclose(got[:, j], want)
    assert np.all(got[:, 2] == -np.inf)


def test_spectral_clusters_find_blocks_and_count():
    # three groups of points with small within- and large between-distances
    rng = np.random.default_rng(3)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    pts = np.vstack([c + rng.standard_normal((8, 2)) for c in centres])
    order = rng.permutation(24)
    pts = pts[order]
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1) ** 2
    labels, _ = spectral_clusters(d)
    truth = first_appearance(np.repeat([0, 1, 2], 8)[order])
    np.testing.assert_array_equal(labels, truth)
    fixed, _ = spectral_clusters(d, num_speakers=2)
    assert fixed.max() == 1 and fixed[0] == 0
    assert spectral_clusters(np.zeros((1, 1)))[0].tolist() == [0]


def test_first_gap_weight_is_a_prior_for_the_smallest_count():
    # three groups, the last two nearer each other: weighting the eigengap at 2 switches the count
    # exactly where it passes the gap at 3, and then the two near groups are one
    rng = np.random.default_rng(3)
    pts = np.vstack([c + rng.standard_normal((8, 2)) for c in ([0, 0], [12, 0], [12, 12])])
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1) ** 2
    labels, values = spectral_clusters(d, max_speakers=6)
    gaps = np.diff(values)
    ratio = np.max(gaps[2:6]) / gaps[1]            # best gap beyond 2 speakers over the gap at 2
    assert labels.max() == 2 and ratio > 1
    assert spectral_clusters(d, first_gap_weight=0.99 * ratio)[0].max() == 2
    two, _ = spectral_clusters(d, first_gap_weight=1.01 * ratio)
    assert two.max() == 1
    assert two.tolist() == [0] * 8 + [1] * 16
    # a fixed count ignores the prior
    assert spectral_clusters(d, num_speakers=3, first_gap_weight=1e6)[0].max() == 2


def test_first_appearance_and_segments():
    assert first_appearance(np.array([-1, 2, 2, 0, -1, 1, 0])).tolist() == [-1, 0, 0, 1, -1, 2, 1]
    segs = frames_to_segments(np.array([-1, 0, 0, 1, 1, 1, -1]), t0=1.0)
    assert [(s.speaker, round(s.start, 4), round(s.end, 4)) for s in segs] == [
        ("speaker1", 1.0175, 1.0375), ("speaker2", 1.0375, 1.0675)]


def test_speech_on_frames_samples_the_vad_grid():
    act = VoiceActivity(speech=np.array([[False, True, True, False]]), level_db=np.zeros((1, 4), np.float32), hop_s=0.03)
    got = speech_on_frames(act, 12, t0=0.0)      # centres at 12.5 ms + 10 ms k
    want = [(0.0125 + 0.01 * k) // 0.03 in (1, 2) for k in range(12)]
    assert got.tolist() == want


def test_no_speech_and_bad_input():
    labels, overlap = diarize_frames(np.zeros((100, ft.N_CEPS), np.float32), np.zeros(100, bool), config=CFG)
    assert labels.max() == -1 and overlap.max() == -1
    with pytest.raises(InputError, match="speech mask"):
        diarize_frames(np.zeros((10, ft.N_CEPS), np.float32), np.zeros(9, bool), config=CFG)
    with pytest.raises(InputError, match="16000 Hz"):
        Diarizer(config=CFG).feed(AudioBlock(np.zeros((1, 80), np.float32), 0.0, 8000))
    with pytest.raises(InputError, match="number of speakers"):
        Diarizer(config=CFG, num_speakers=0)
    with pytest.raises(ConfigError, match="min_speakers"):
        default_config().replace("diarization", min_speakers=7)


# ------------------------------------------------------------------ a synthetic conversation

@pytest.mark.parametrize("num_speakers", [None, 2])
def test_two_synthetic_voices_are_told_apart(num_speakers):
    convo = practice_conversation(seed=0, channels=1)
    activity = detect_speech(convo.audio, convo.rate, config=default_config().vad)
    diarizer = Diarizer(config=CFG, num_speakers=num_speakers)
    step = 16000 // 3
    for a in range(0, convo.audio.shape[1], step):
        diarizer.feed(AudioBlock(convo.audio[:, a:a + step], a / convo.rate, convo.rate))
    hyp = diarizer.finish(activity, convo.audio.shape[1] / convo.rate)
    assert {s.speaker for s in hyp} == {"speaker1", "speaker2"}
    assert min(hyp).speaker == "speaker1"                      # numbered by first appearance
    e = diarization_error(list(convo.segments), hyp)
    assert e.mapping == {"speaker1": "alex", "speaker2": "sam"}
    assert e.confusion_s / e.total_s < 0.03
    assert e.der < 0.10
    # the interruption (sam 16.6 s over alex until 17.4 s) is heard as overlap
    both = [s for s in hyp if s.start < 17.3 and s.end > 16.7]
    assert {s.speaker for s in both} == {"speaker1", "speaker2"}


# ------------------------------------------------------------------ pruned affinity, short chunks, merging

def test_prune_affinity_matches_reference(rng):
    a = rng.random((9, 9))
    a = a + a.T
    np.fill_diagonal(a, 0.0)
    for m in (1, 3, 8):
        np.testing.assert_allclose(prune_affinity(a, m), naive.prune_affinity(a, m))


def test_pruned_affinity_still_finds_the_groups():
    # GLR-like distances: a narrow range (within 1.2, between 1.6, jitter 0.1) and one odd item far from all
    rng = np.random.default_rng(5)
    group = np.repeat([0, 1], 6)
    d = np.pad(np.where(group[:, None] == group[None, :], 1.2, 1.6), ((0, 1), (0, 1)), constant_values=2.4)
    jitter = rng.uniform(-0.1, 0.1, d.shape)
    d = d + (jitter + jitter.T) / 2
    np.fill_diagonal(d, 0.0)
    for keep in (1.0, 0.5):
        labels, _ = spectral_clusters(d, num_speakers=2, keep=keep)
        assert labels[:12].tolist() == group.tolist()


def test_merge_close_speakers_joins_one_voice_split_in_two(rng):
    x = rng.standard_normal((600, 4))
    x[300:] = x[300:] @ np.diag([3.0, 0.3, 1.0, 1.0]) + 2.0       # a second, different Gaussian
    labels = np.repeat([0, 1, 2], [150, 150, 300])                # the first voice split over labels 0 and 1
    merged = merge_close_speakers(x, labels, np.eye(4), bic_lambda=1.0, shrink_frames=10)
    assert merged.tolist() == [0] * 300 + [1] * 300
    assert merge_close_speakers(x, labels, np.eye(4), bic_lambda=1.0, shrink_frames=10, min_speakers=3).max() == 2
    assert merge_close_speakers(x, labels, np.eye(4), bic_lambda=0.0, shrink_frames=10).max() == 2
    # speaker_glr is glr_distances of the pooled statistics: the BIC's n GLR against its penalty
    g = speaker_glr(x, labels, np.eye(4), shrink_frames=0)
    both = x[:300]
    pooled = 0.5 * np.linalg.slogdet(np.cov(both.T, bias=True))[1]
    own = [0.5 * np.linalg.slogdet(np.cov(x[a:a + 150].T, bias=True))[1] for a in (0, 150)]
    np.testing.assert_allclose(g[0, 1], pooled - 0.5 * (own[0] + own[1]), rtol=1e-9)
    assert 300 * g[0, 1] < 14 / 2 * np.log(300) < 450 * g[0, 2]

