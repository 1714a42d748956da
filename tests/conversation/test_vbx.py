"""VBx clustering (conversation/vbx.py) against plain references and exact synthetic truth."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from attunement.conversation import neural_cluster as nc
from attunement.conversation import neural_records as nr
from attunement.conversation import vbx as V
from attunement.errors import InputError
from tests.naive import conversation as naive


def same_partition(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.all((a[:, None] == a[None]) == (b[:, None] == b[None])))


# ---------------------------------------------------------------- AHC


@pytest.mark.parametrize("n", [2, 3, 7, 25])
def test_centroid_linkage_matches_the_plain_reference(rng, n):
    x = rng.standard_normal((n, 6))
    got = V.ahc_centroid(x)
    want = naive.ahc_centroid(x)
    assert got.shape == (n - 1, 3)
    np.testing.assert_allclose(got[:, 2], [h for _, _, h in want], atol=1e-12)
    np.testing.assert_array_equal(got[:, :2].astype(int), [(a, b) for a, b, _ in want])


def test_centroid_linkage_and_its_cut_match_scipy(rng):
    hierarchy = pytest.importorskip("scipy.cluster.hierarchy")
    x = rng.standard_normal((60, 16))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(V.ahc_centroid(x)[:, 2], hierarchy.linkage(u, method="centroid")[:, 2], atol=1e-12)
    for t in (0.8, 1.1, 1.3):
        assert same_partition(V.flat_clusters(V.ahc_centroid(x), 60, t),
                              hierarchy.fcluster(hierarchy.linkage(u, method="centroid"), t, criterion="distance"))


def test_flat_clusters_follow_the_highest_merge_inside_a_subtree():
    # a non-monotone tree: {0,1} at 0.5, {2,3} at 0.9, then {0,1} with {2,3} at 0.7 (an inversion)
    merges = np.array([[0, 1, 0.5], [2, 3, 0.9], [0, 2, 0.7]])
    for t in (0.4, 0.6, 0.8, 1.0):
        assert same_partition(V.flat_clusters(merges, 4, t), naive.fcluster_distance(merges.tolist(), 4, t))
    assert same_partition(V.flat_clusters(merges, 4, 0.8), [0, 0, 1, 2])  # 0.7 <= 0.8 but 0.9 lies inside
    assert same_partition(V.flat_clusters(merges, 4, 1.0), [0, 0, 0, 0])


@pytest.mark.parametrize("n", [5, 30])
def test_flat_clusters_match_the_plain_reference_on_random_trees(rng, n):
    merges = V.ahc_centroid(rng.standard_normal((n, 4)))
    for t in np.quantile(merges[:, 2], [0.1, 0.5, 0.9]):
        assert same_partition(V.flat_clusters(merges, n, t), naive.fcluster_distance(merges.tolist(), n, t))


@pytest.mark.parametrize("k", [1, 2, 5, 9])
def test_a_cut_gives_exactly_k_clusters(rng, k):
    merges = V.ahc_centroid(rng.standard_normal((9, 4)))
    assert sorted(set(V.cut_clusters(merges, 9, k).tolist())) == list(range(k))
    with pytest.raises(InputError):
        V.cut_clusters(merges, 9, 10)


# ---------------------------------------------------------------- PLDA


def test_generalized_eigh_solves_the_pencil(rng):
    a = rng.standard_normal((5, 5))
    w = a @ a.T + 5 * np.eye(5)
    b = rng.standard_normal((5, 5))
    b = b + b.T
    lam, v = V.generalized_eigh(b, w)
    np.testing.assert_allclose(b @ v, w @ v * lam, atol=1e-10)
    np.testing.assert_allclose(v.T @ w @ v, np.eye(5), atol=1e-10)
    assert np.all(np.diff(lam) >= 0)


def synthetic_plda(rng, d_in=6, d=4, psi=(0.5, 4.0, 2.0, 9.0)):
    """A PLDA whose whitening tr and across-speaker variances psi are known: tr W tr' = I, tr B tr' = diag(psi)."""
    tr = rng.standard_normal((d, d)) + 3 * np.eye(d)
    return {"xvec_mean1": rng.standard_normal(d_in), "xvec_mean2": rng.standard_normal(d),
            "xvec_lda": rng.standard_normal((d_in, d)), "plda_mu": rng.standard_normal(d),
            "plda_psi": np.array(psi), "plda_tr": tr}


def test_plda_recovers_the_known_variances_and_transform(rng):
    a = synthetic_plda(rng)
    p = V.Plda.from_arrays(a)
    order = np.argsort(-a["plda_psi"])
    np.testing.assert_allclose(p.phi, a["plda_psi"][order], rtol=1e-10)
    np.testing.assert_allclose(np.abs(p.tr), np.abs(a["plda_tr"][order]), atol=1e-10)  # rows up to sign
    x = rng.standard_normal((3, 6))
    y = (x - a["xvec_mean1"]) / np.linalg.norm(x - a["xvec_mean1"], axis=1, keepdims=True) * np.sqrt(6)
    y = y @ a["xvec_lda"] - a["xvec_mean2"]
    y = y / np.linalg.norm(y, axis=1, keepdims=True) * 2.0
    np.testing.assert_allclose(np.abs(p.transform(x)), np.abs((y - a["plda_mu"]) @ a["plda_tr"][order].T), atol=1e-10)
    with pytest.raises(InputError):
        p.transform(np.zeros((2, 5)))


# ---------------------------------------------------------------- variational Bayes


def test_vbx_matches_the_plain_reference(rng):
    x = rng.standard_normal((30, 5)) * 2
    phi = np.array([9.0, 4.0, 2.0, 1.0, 0.5])
    init = V.one_hot_init(rng.integers(0, 3, 30))
    got = V.vbx(x, phi, init, fa=0.3, fb=2.0, max_iters=7, epsilon=-np.inf)
    gamma, pi, elbo = naive.vbx(x.tolist(), phi.tolist(), init.tolist(), 0.3, 2.0, 7, -np.inf)
    np.testing.assert_allclose(got.gamma, gamma, atol=1e-10)
    np.testing.assert_allclose(got.pi, pi, atol=1e-12)
    np.testing.assert_allclose(got.elbo, elbo, rtol=1e-10)


def speakers_in_plda_space(rng, sizes, phi):
    """Embeddings drawn from the model VBx assumes: speaker y ~ N(0, diag(phi)), x = y + N(0, I)."""
    centres = rng.standard_normal((len(sizes), phi.size)) * np.sqrt(phi)
    x = np.concatenate([c + rng.standard_normal((s, phi.size)) for c, s in zip(centres, sizes)])
    return x, np.repeat(np.arange(len(sizes)), sizes)


def test_vbx_finds_the_true_speakers_and_drops_a_split_one(rng):
    phi = np.linspace(30, 2, 16)
    x, truth = speakers_in_plda_space(rng, [40, 25, 12], phi)
    split = truth.copy()
    split[truth == 0] = np.where(np.arange((truth == 0).sum()) % 2 == 0, 0, 3)  # speaker 0 cut in two at random
    res = V.vbx(x, phi, V.one_hot_init(split), fa=1.0, fb=1.0, max_iters=200, epsilon=1e-9)
    kept = res.pi > V.MIN_PRIOR
    assert kept.sum() == 3
    assert same_partition(np.argmax(res.gamma[:, kept], axis=1), truth)
    assert np.all(np.diff(res.elbo) >= -1e-6)  # VB never lowers its bound


def test_kmeans_keeps_every_cluster(rng):
    x = np.concatenate([rng.standard_normal((1, 4)) + 50, rng.standard_normal((20, 4))])
    labels = V.kmeans(x, np.r_[np.zeros(19, int), 1, 2])  # a poor start: 3 clusters, two of them tiny
    assert sorted(set(labels.tolist())) == [0, 1, 2]


def unit_groups(rng, sizes, d=32, spread=0.15):
    centres = rng.standard_normal((len(sizes), d))
    x = np.concatenate([c + spread * rng.standard_normal((s, d)) * np.linalg.norm(c) / np.sqrt(d)
                        for c, s in zip(centres, sizes)])
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.repeat(np.arange(len(sizes)), sizes)


def identity_plda(d):
    """A PLDA whose transform only normalises (no mean, LDA = identity) and whose prior is wide."""
    return V.Plda(np.zeros(d), np.eye(d), np.zeros(d), np.zeros(d), np.eye(d), np.full(d, 50.0))


def test_vbx_clusters_estimate_the_count(rng):
    x, truth = unit_groups(rng, [30, 20, 15])
    got = V.vbx_clusters(x, identity_plda(32), fa=1.0, fb=1.0)
    assert got.by == "vbx" and same_partition(got.labels, truth)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 6])
def test_vbx_clusters_honour_a_forced_count_exactly(rng, k):
    x, truth = unit_groups(rng, [30, 20, 15])
    got = V.vbx_clusters(x, identity_plda(32), fa=1.0, fb=1.0, num_speakers=k)
    assert sorted(set(got.labels.tolist())) == list(range(k)) and got.weights.shape == (65, k)
    if k == 3:
        assert same_partition(got.labels, truth)


def test_vbx_clusters_keep_the_count_within_bounds(rng):
    x, _ = unit_groups(rng, [30, 20, 15, 10])
    got = V.vbx_clusters(x, identity_plda(32), fa=1.0, fb=1.0, max_speakers=2)
    assert got.by == "kmeans" and sorted(set(got.labels.tolist())) == [0, 1]


# ---------------------------------------------------------------- in the pipeline


@pytest.fixture
def shipped():
    pytest.importorskip("moonshine_voice", reason="moonshine-voice==0.1.0 not installed")
    return V.shipped_plda()


def test_the_shipped_plda_is_community1s(shipped):
    assert shipped.lda.shape == (256, 128) and shipped.tr.shape == (128, 128)
    assert np.all(np.diff(shipped.phi) <= 0) and shipped.phi[-1] > 0


@pytest.mark.parametrize("alone_s", [5.0, 0.6])  # 0.6: none has the 2 s alone VBx trains on; the train rows are used
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_cluster_embeddings_with_vbx_gives_exactly_the_forced_count(rng, shipped, k, alone_s):
    x, _ = unit_groups(rng, [20, 15, 10], d=256)
    which = np.stack([np.arange(45), np.zeros(45, int)], axis=1)
    st = dataclasses.replace(nr.Settings(), clustering="vbx")
    clusters = nc.cluster_embeddings(x * 3.0, which, np.ones(45, bool), 45, settings=st, num_speakers=k,
                                     clean_s=np.full(45, alone_s))
    assert sorted(set(clusters[:, 0].tolist())) == list(range(k))


def test_an_unknown_clustering_is_an_input_error(rng):
    st = dataclasses.replace(nr.Settings(), clustering="kmeans")
    with pytest.raises(InputError):
        nc.cluster_embeddings(np.ones((2, 256)), np.array([[0, 0], [1, 0]]), np.ones(2, bool), 2, settings=st)


def test_alone_seconds_count_only_frames_without_another_talker():
    from attunement.conversation import segmentation as sg
    act = np.zeros((2, sg.FRAMES, 3), np.float32)
    act[0, :100, 0] = 1          # speaker 0 alone for 100 frames
    act[0, 80:150, 1] = 1        # speaker 1 overlaps 20 of them, then alone for 50
    act[1, :, 2] = 1             # window 1: speaker 2 alone throughout
    seg = sg.Segmentation(act, np.array([0, 40000]))
    got = nc.alone_seconds(seg, np.array([[0, 0], [0, 1], [1, 2]]))
    np.testing.assert_allclose(got, np.array([80, 50, sg.FRAMES]) * sg.FRAME_STEP_S)
