"""Eye contact without calibration on real people, against labels made by eye (issue 13).

The labels (one letter per 0.4 s: L on the lens, A aside, C closed, ? unclear) live with the
benchmark that prints the same figures: benchmarks/bench_eye_contact.py. Targets: >= 0.8 of the
frames labelled "on the lens" read as eye contact in every clip (with a self-baseline for every person
who mostly looks into the lens), <= 0.2 of the frames labelled "aside" in every clip. The issue's failure, a person whose
geometry alone reads them 10 deg off the lens, is made exactly from the real landmarks by moving
both irises 2 mm: the self-baseline must find it; 3 mm (14-15 deg, beyond a plausible personal
offset) must not be re-centred, and then the summary says it could not judge eye contact and
suggests nothing about it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from benchmarks.bench_eye_contact import LABELS, score, with_iris_offset
from tests.cues.test_face_realdata import clip_landmarks

from attunement.config import default_config
from attunement.cues.track import LandmarkTrack, vision_from_track
from attunement.records import Landmarks, Segment
from attunement.session.runners.offline import review_annotation
from attunement.summary.text import summarize

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

#: Clips whose person looks into the lens most of the time (d3 looks down and aside most of it).
MOSTLY_LENS = [n for n in LABELS if n != "gaze/d3"]


def landmarks(shared_data, name):
    path = shared_data / "video" / f"{name}.mp4"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return clip_landmarks(path)


@pytest.mark.parametrize("name", list(LABELS))
def test_labelled_lens_and_aside_frames(shared_data, name):
    faces, times, size = landmarks(shared_data, name)
    r = score(name, faces, times, size)
    print(f"{name}: {r}")
    assert r["lens"] >= 0.8, r  # d3 too: her few lens stretches, read by geometry alone
    if name in MOSTLY_LENS:
        assert r["baseline"] == "session", r
    if r["n_aside"]:
        assert r["aside"] <= 0.2, r


@pytest.mark.parametrize("name", MOSTLY_LENS)
def test_a_personal_offset_is_found_or_refused_as_implausible(shared_data, name):
    """Irises 2 mm to either side (9-10 deg) or 1 mm down (about 5 deg) on top of the person's own
    offset (2-6 deg): found (contact on the lens frames, none aside) while the total stays within the
    12 deg plausibility bound, else refused as implausible (and eye contact is then not trusted,
    see the last test): a steady look that far from the lens cannot be told from a look at a screen."""
    faces, times, size = landmarks(shared_data, name)
    found = 0
    for offset in ((2.0, 0.0), (-2.0, 0.0), (0.0, 1.0)):
        r = score(name, with_iris_offset(faces, size, offset), times, size)
        print(f"{name} irises moved {offset} mm: {r}")
        if r["baseline"] == "geometry":
            assert "plausibly" in r["note"] and r["support"] >= 0.35, r
            continue
        found += 1
        assert r["baseline"] == "session" and r["lens"] >= 0.8, r
        if r["n_aside"]:
            assert r["aside"] <= 0.2, r
    assert found >= 2, name


def vision_of(faces, times, size, config):
    track = LandmarkTrack(len(times), config=config)
    nan_pose, nan_world = np.full((33, 4), np.nan, np.float32), np.full((33, 3), np.nan, np.float32)
    for f, t in zip(faces, times):
        track.add(Landmarks(t=float(t), size=size, face=f, pose=nan_pose, pose_world=nan_world))
    return vision_from_track(track, config=config)


def test_untrusted_eye_contact_is_said_and_never_suggested(shared_data):
    """The issue's case: one person talking to the lens, geometry far off. No look-away suggestion."""
    config = default_config()
    faces, times, size = landmarks(shared_data, "WDA_AlexandriaOcasioCortez_000")
    vision = vision_of(with_iris_offset(faces, size, (3.0, 0.0)), times, size, config)
    conf = vision.confidence["eye_contact"]
    print(vision.face.baseline_note, conf)
    assert not conf["trusted"] and conf["why"]
    review = review_annotation([Segment(0.2, 7.8, "speaker")], config=config, source="clip", duration_s=8.0)
    s = summarize(dataclasses.replace(review, vision=vision), config=config.summary)
    print(s.text())
    assert not any("looked away" in x or "eye contact" in x for x in s.suggestions + s.strengths), s
    assert any("couldn't judge eye contact" in n for n in s.notes), s.notes
    assert not any("real conversation" in x for x in s.strengths)

    trusted = vision_of(faces, times, size, config)  # as recorded: trusted, and said
    assert trusted.confidence["eye_contact"]["trusted"]
    s = summarize(dataclasses.replace(review, vision=trusted), config=config.summary)
    assert any("kept eye contact" in x for x in s.strengths), s
