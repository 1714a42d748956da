"""DER on hand-made cases with known answers, the collar, the mapping, and pyannote.metrics as an oracle."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from attunement.evaluation.der import DiarizationError, diarization_error, optimal_mapping
from attunement.intervals import union
from attunement.errors import InputError
from attunement.records import Segment as S
from tests import naive


def test_perfect_hypothesis_with_other_names_scores_zero():
    ref = [S(0, 4, "A"), S(5, 9, "B"), S(8, 10, "A")]
    hyp = [S(0, 4, "x"), S(5, 9, "y"), S(8, 10, "x")]
    e = diarization_error(ref, hyp)
    assert e.der == 0 and e.total_s == pytest.approx(10.0)   # 8-9 counts twice (overlap)
    assert e.mapping == {"x": "A", "y": "B"}


def test_hand_made_case_every_error_kind():
    # ref: A 0-10, B 10-20 (20 s). hyp: x 0-8 (A ok), y 8-12 (2 s conf on A, 2 s ok on B after mapping y->B),
    # y 12-18 ok, nothing 18-20 (2 s missed), x 20-23 (3 s false alarm)
    ref = [S(0, 10, "A"), S(10, 20, "B")]
    hyp = [S(0, 8, "x"), S(8, 18, "y"), S(20, 23, "x")]
    e = diarization_error(ref, hyp, uem=(0, 25))
    assert (e.total_s, e.missed_s, e.false_alarm_s, e.confusion_s) == pytest.approx((20, 2, 3, 2))
    assert e.der == pytest.approx(7 / 20)


def test_overlap_counts_each_reference_speaker():
    ref = [S(0, 10, "A"), S(5, 10, "B")]            # 15 s of reference speech
    e = diarization_error(ref, [S(0, 10, "x")])     # one speaker hypothesised: 5 s missed
    assert (e.total_s, e.missed_s, e.confusion_s, e.false_alarm_s) == pytest.approx((15, 5, 0, 0))
    e2 = diarization_error(ref, [S(0, 10, "x"), S(5, 10, "y"), S(5, 10, "z")])  # a third voice: 5 s false alarm
    assert e2.false_alarm_s == pytest.approx(5) and e2.der == pytest.approx(5 / 15)


def test_optimal_mapping_beats_greedy():
    # greedy would map x->A (6 s) and leave y with nothing; optimal maps x->B (5) and y->A (5) = 10 s
    gain = np.array([[6.0, 5.0], [5.0, 0.0]])       # rows: ref A, B; cols: hyp x, y
    assert sorted(optimal_mapping(gain)) == [(0, 1), (1, 0)]


def test_hungarian_matches_brute_force(rng):
    for rows, cols in [(3, 3), (2, 5), (5, 2), (4, 4)]:
        gain = rng.random((rows, cols))
        pairs = optimal_mapping(gain)
        g = gain if rows <= cols else gain.T
        best = max(sum(g[i, j] for i, j in enumerate(perm)) for perm in itertools.permutations(range(g.shape[1]), g.shape[0]))
        assert sum(gain[i, j] for i, j in pairs) == pytest.approx(best)
        assert len({i for i, _ in pairs}) == len(pairs) == len({j for _, j in pairs}) == min(rows, cols)


def test_collar_removes_both_sides_of_every_reference_boundary():
    ref = [S(0, 10, "A"), S(10, 20, "B")]
    hyp = [S(0, 10.2, "x"), S(10.2, 20, "y")]      # boundary 0.2 s late: 0.2 s confusion
    assert diarization_error(ref, hyp).confusion_s == pytest.approx(0.2)
    e = diarization_error(ref, hyp, collar_s=0.25)
    assert e.der == 0
    # scored: 0.25-9.75 and 10.25-19.75 (0 and 20 are boundaries too)
    assert e.total_s == pytest.approx(19.0)


def test_uem_limits_scoring_and_false_alarm_outside_is_ignored():
    ref = [S(2, 6, "A")]
    hyp = [S(0, 6, "x"), S(8, 9, "x")]
    assert diarization_error(ref, hyp, uem=(0, 10)).false_alarm_s == pytest.approx(3)
    assert diarization_error(ref, hyp, uem=(2, 7)).der == 0
    assert diarization_error(ref, hyp, uem=[(2, 4), (5, 6)]).total_s == pytest.approx(3)


def test_empty_cases():
    assert diarization_error([], []).der == 0
    e = diarization_error([S(0, 1, "A")], [])
    assert e.der == 1 and e.missed_s == pytest.approx(1)
    assert diarization_error([], [S(0, 1, "x")]).der == float("inf")


def test_sum_over_files_is_corpus_der():
    a = diarization_error([S(0, 10, "A")], [S(0, 5, "x")])
    b = diarization_error([S(0, 30, "A")], [S(0, 30, "x")])
    assert (a + b).der == pytest.approx(5 / 40)


def test_bad_input_raises_one_clear_error():
    with pytest.raises(InputError, match="collar_s"):
        diarization_error([], [], collar_s=-1)
    with pytest.raises(InputError, match="end >= start"):
        diarization_error([S(3, 2, "A")], [])
    with pytest.raises(InputError, match="UEM"):
        diarization_error([], [], uem=(5, 1))


# ------------------------------------------------------------------- oracle: pyannote.metrics

def _random_annotation(rng, labels, n):
    raw = [(a, a + rng.uniform(0.05, 4.0), labels[rng.integers(len(labels))]) for a in rng.uniform(0, 30, n)]
    # one speaker's overlapping segments are one stretch (pyannote would count them twice)
    return [S(a, b, k) for k in labels for a, b in union([(a, b) for a, b, who in raw if who == k])]


@pytest.mark.parametrize("collar", [0.0, 0.25])
def test_matches_pyannote_metrics(rng, collar):
    core = pytest.importorskip("pyannote.core", reason="pyannote.metrics (tests-only oracle) is not installed")
    from pyannote.metrics.diarization import DiarizationErrorRate

    def annotation(segments):
        out = core.Annotation()
        for i, s in enumerate(segments):
            out[core.Segment(s.start, s.end), i] = s.speaker
        return out

    metric = DiarizationErrorRate(collar=2 * collar)   # pyannote's collar is the full width
    for _ in range(60):
        ref = _random_annotation(rng, ["A", "B", "C"], int(rng.integers(1, 15)))
        hyp = _random_annotation(rng, ["w", "x", "y", "z"], int(rng.integers(0, 15)))
        theirs = metric(annotation(ref), annotation(hyp), uem=core.Timeline([core.Segment(2, 28)]), detailed=True)
        ours = diarization_error(ref, hyp, uem=(2, 28), collar_s=collar)
        assert ours.total_s == pytest.approx(theirs["total"], abs=1e-9)
        assert ours.missed_s == pytest.approx(theirs["missed detection"], abs=1e-9)
        assert ours.false_alarm_s == pytest.approx(theirs["false alarm"], abs=1e-9)
        assert ours.confusion_s == pytest.approx(theirs["confusion"], abs=1e-9)


def test_kernels_against_a_frame_grid_reference(rng):
    """The exact interval computation against a plain 1 ms grid count (no collar; tests/naive)."""
    for _ in range(20):
        ref = _random_annotation(rng, ["A", "B"], 6)
        hyp = _random_annotation(rng, ["x", "y", "z"], 6)
        ref = [S(round(s.start, 3), round(s.end, 3), s.speaker) for s in ref]
        hyp = [S(round(s.start, 3), round(s.end, 3), s.speaker) for s in hyp]
        total, missed, false_alarm, confusion = naive.diarization_error(ref, hyp, uem=(0, 34))
        e = diarization_error(ref, hyp, uem=(0, 34))
        assert isinstance(e, DiarizationError)
        assert e.missed_s + e.false_alarm_s + e.confusion_s == pytest.approx(missed + false_alarm + confusion, abs=1e-6)
        assert (e.total_s, e.missed_s, e.false_alarm_s, e.confusion_s) == pytest.approx(
            (total, missed, false_alarm, confusion), abs=1e-6)
