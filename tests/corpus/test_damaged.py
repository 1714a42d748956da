"""Hundreds of damaged and odd inputs (tests/corpus/damaged.py) through `attune`: each gives a
result or one `attune: error:` line with exit 2; none a traceback, exit 1, a hang or a partial
output file. Most run in-process (`attunement.cli.main`), a sample through the real command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from attunement.config import default_config
from attunement.cues.frame import frame_cues
from attunement.cues.track import LandmarkTrack, vision_from_track
from attunement.records import Landmarks

from .damaged import Case, absurd_headers, describe, junk_files, make_corpus
from .run import run_case

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Case]:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def failures(cases: list[Case]) -> tuple[list[str], Counter]:
    bad, tally = [], Counter()
    for case in cases:
        outcome = run_case(case)
        tally[(case.kind, "result" if outcome.status == 0 else "error" if outcome.status == 2 else "failed")] += 1
        if outcome.failure:
            bad.append(f"{case.kind}: {case.name}: {outcome.failure}")
    return bad, tally


@pytest.mark.slow
def test_every_damaged_or_odd_input_gives_a_result_or_one_clear_error(corpus, capsys):
    assert len(corpus) >= 500, describe(corpus)
    started = time.monotonic()
    bad, tally = failures(corpus)
    with capsys.disabled():
        print(f"\n{len(corpus)} inputs in {time.monotonic() - started:.0f} s:")
        for (kind, outcome), n in sorted(tally.items()):
            print(f"  {kind:45s} {outcome:7s} {n}")
    assert not bad, "\n".join(bad)
    assert tally[("good", "result")] == sum(c.kind == "good" for c in corpus)


def test_a_sample_of_junk_and_absurd_headers_gives_one_clear_error(tmp_path):
    cases = junk_files(tmp_path)[::7] + absurd_headers(tmp_path)[::3]
    bad, tally = failures(cases)
    assert not bad, "\n".join(bad)
    assert sum(n for (_, outcome), n in tally.items() if outcome == "error") >= len(cases) // 2


def test_a_text_file_named_flac_is_one_input_error(tmp_path, capsys):
    from attunement.cli import main

    path = tmp_path / "notes.flac"
    path.write_text("hello this is text\n")
    assert main(["review", str(path), "--no-words", "--no-save"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("attune: error:") and "cannot be decoded" in err[0]


@pytest.mark.slow
def test_a_sample_through_the_real_command_is_bounded_and_clean(corpus):
    attune = Path(sys.executable).with_name("attune")
    if not attune.exists():
        pytest.skip(f"no attune script next to {sys.executable}")
    env = dict(os.environ, PYTHONPATH=f"{REPO / 'src'}:{REPO}")
    picked = [c for c in corpus if c.kind != "good"][::60] + [c for c in corpus if c.kind == "good"][:1]
    for case in picked:
        try:
            proc = subprocess.run([str(attune), *case.argv], env=env, capture_output=True, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{case.name}: still running after 120 s")
        err = proc.stderr.decode("utf-8", "replace")
        assert "Traceback" not in err, f"{case.name}: {err}"
        assert proc.returncode in (0, 2), f"{case.name}: exit {proc.returncode}: {err}"
        if proc.returncode == 2:
            assert [line for line in err.splitlines() if line.startswith("attune: error:")], err
            assert not any(os.path.exists(p) for p in case.outputs), case.name


def nan_marks(rng, t: float, kind: str, size=(640, 480)) -> Landmarks:
    face = np.column_stack([rng.uniform(200, 440, 478), rng.uniform(120, 360, 478), rng.normal(0, 20, 478)])
    pose = np.column_stack([rng.uniform(0, 640, 33), rng.uniform(0, 480, 33), rng.normal(0, 50, 33),
                            rng.uniform(0, 1, 33)])
    world = rng.normal(0, 0.3, (33, 3))
    if kind == "all-nan":
        face[:], pose[:], world[:] = np.nan, np.nan, np.nan
    elif kind == "some-nan":
        face[rng.integers(0, 478, 40)] = np.nan
        pose[rng.integers(0, 33, 5)] = np.nan
    elif kind == "inf":
        face[rng.integers(0, 478, 3), 0] = np.inf
        world[0] = -np.inf
    elif kind == "degenerate":
        face[:] = face[0]
        pose[:] = 0.0
    elif kind == "huge":
        face *= 1e30
    return Landmarks(t=t, size=size, face=face.astype(np.float32), pose=pose.astype(np.float32),
                     pose_world=world.astype(np.float32), pose_t=t)


@pytest.mark.parametrize("kind", ["all-nan", "some-nan", "inf", "degenerate", "huge", "random"])
def test_nan_laden_landmarks_give_finite_or_nan_cues_never_an_exception(rng, kind):
    config = default_config()
    cues = frame_cues(nan_marks(rng, 0.0, kind), config.cues)
    assert cues.shape == (5,) and not np.isinf(cues).any()
    track = LandmarkTrack(config=config, chunk=16)
    kinds = [kind, "random", "all-nan"]
    for k in range(60):  # the face leaves (NaN) and returns
        track.add(nan_marks(rng, k / 15, kinds[(k // 10) % 3]))
    vision = vision_from_track(track, config=config)
    assert vision.times.shape == (60,)
    assert vision.problems == () or all(isinstance(p, str) for p in vision.problems)
