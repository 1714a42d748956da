"""A rehearsal's review rebuilt from its session folder (`attune summary` / `attune export`): the same
review as at its end, and after a SIGKILL mid-way the review of what was recorded, status interrupted."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import kill_when

from attunement.config import default_config
from attunement.session.runners.rebuild import load_rehearsal
from attunement.session.runners.rehearse import run_rehearsal
from attunement.session.rehearsal.scenario import load_scenario
from attunement.session.store.history import history
from attunement.session.runners.rebuild import load_review
from attunement.session.store.writer import load_session
from attunement.summary.exports import export
from attunement.summary.json_out import review_to_json

from tests.session.test_rehearse import ANSWERS, BLOCK, HOP, RATE, T0, ScriptedRoom, SyntheticVoice

SEED = 20261124
REPO_ROOT = Path(__file__).resolve().parents[2]  # on the child's path, so it imports tests.session.*


def scripted_run(root: Path, room_cls=ScriptedRoom):
    rng = np.random.default_rng(SEED)  # the room's noise and answers and the partner's voice: one stream
    room = room_cls(rng)
    voice = SyntheticVoice(rng)
    result = run_rehearsal(scenario=load_scenario("check-in"), mic=room, config=default_config(),
                           player=room.play, voice=voice, root=root, start_s=T0 + 0.5)
    return room, result


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    return scripted_run(tmp_path_factory.mktemp("full"))


def test_an_ended_rehearsal_is_rebuilt_to_the_same_review(full):
    room, result = full
    rebuilt = load_review(result.folder)
    assert review_to_json(rebuilt) == review_to_json(result.review)
    assert rebuilt.segments == result.review.segments and set(rebuilt.speakers) == {"partner", "me"}
    again = load_rehearsal(load_session(result.folder), config=default_config())
    assert again.track == result.track
    assert again.metrics["user_segments"] == result.metrics["user_segments"]
    for key in ("lines", "interruptions", "attempted_interruptions", "median_response_gap_s", "talk_over_share"):
        assert again.metrics[key] == result.metrics[key], key
    # and it is the truth: one user segment per scripted answer, the partner's lines as played
    assert [(s.start, s.end) for s in again.track] == [pytest.approx(p, abs=1e-9) for p in room.played]
    assert len(again.metrics["user_segments"]) == len(ANSWERS)


def test_export_reads_a_rehearsal_folder(full, tmp_path):
    _, result = full
    out = tmp_path / "who.rttm"
    export(load_review(result.folder), "rttm", out)
    lines = out.read_text().split("\n")
    assert sum(" partner " in ln for ln in lines) == 5 and sum(" me " in ln for ln in lines) == len(ANSWERS)


def test_a_rehearsal_run_with_other_settings_is_rebuilt_with_them(tmp_path):
    """The settings a rehearsal ran with are stored; a rebuild with today's defaults uses them."""
    rng = np.random.default_rng(SEED)
    room = ScriptedRoom(rng)
    # user speech shorter than 3 s is dropped: every scripted answer (1.8-2.6 s; the defaults find them all)
    cfg = default_config().replace("rehearse", end_silence_s=1.5, min_user_s=3.0)
    result = run_rehearsal(scenario=load_scenario("check-in"), mic=room, config=cfg, player=room.play,
                           voice=SyntheticVoice(rng), root=tmp_path, start_s=T0 + 0.5)
    assert json.loads((result.folder / "meta.json").read_text())["settings"]["rehearse"]["min_user_s"] == 3.0
    assert result.metrics["user_segments"] == [] and len(room.answers) == len(ANSWERS)
    rebuilt = load_rehearsal(load_session(result.folder), config=default_config())
    assert rebuilt.metrics["user_segments"] == []
    assert review_to_json(load_review(result.folder)) == review_to_json(result.review)


KILLED = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[2])
    from tests.session.test_rehearse_rebuild import scripted_run
    from tests.session.test_rehearse import ScriptedRoom, RATE

    class PacedRoom(ScriptedRoom):
        '''The scripted room at 8x real time, so the rehearsal can be killed part-way.'''
        def read(self, timeout=None):
            if not hasattr(self, "wall0"):
                self.wall0 = time.monotonic()
            wait = self.wall0 + self.pos / RATE / 8.0 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            return super().read(timeout)

    scripted_run(sys.argv[1], PacedRoom)
""")


def test_a_killed_rehearsal_is_rebuilt_from_what_was_recorded(full, tmp_path):
    room, result = full
    root = tmp_path / "sessions"
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as errors:
        proc = subprocess.Popen([sys.executable, "-c", KILLED, str(root), str(REPO_ROOT)],
                                stdout=subprocess.DEVNULL, stderr=errors)
    def two_lines_on_disk():
        found = list(root.glob("*/partner.log"))
        lines = load_session(found[0].parent).signals.get("partner") if found else None
        return found[0].parent if lines is not None and lines.size >= 2 else None

    folder = kill_when(proc, two_lines_on_disk, what="a second partner line on disk", stderr=err)
    stored = load_session(folder)
    assert stored.status == "interrupted" and history(root)[0]["status"] == "interrupted"
    assert history(root)[0]["kind"] == "rehearsal"
    assert not (folder / "review.json").exists()  # it never reached its end
    rebuilt = load_rehearsal(stored, config=default_config())
    review = load_review(folder)
    assert review_to_json(review) == review_to_json(rebuilt.review)
    assert any("did not end cleanly" in p for p in review.problems)
    n = len(rebuilt.track)
    assert 2 <= n < len(result.track)
    # the lines recorded are those of the whole run, to the sample (the same script, the same schedule)
    assert [(ln.start, ln.end, ln.text) for ln in rebuilt.track] == \
        [(pytest.approx(a.start, abs=1e-9), pytest.approx(a.end, abs=1e-9), a.text) for a in result.track[:n]]
    end = review.duration_s
    assert result.track[1].start < end < result.review.duration_s
    # the user's answers heard before the kill: as in the whole run, within two voice-activity frames
    want = [s for s in result.metrics["user_segments"] if s.end < end - 1.0]
    got = [s for s in rebuilt.metrics["user_segments"] if s.end < end - 1.0]
    assert len(want) >= 1 and len(got) == len(want)
    np.testing.assert_allclose([(s.start, s.end) for s in got], [(s.start, s.end) for s in want], atol=2 * HOP)
    assert rebuilt.metrics["lines"][0]["response_gap_s"] == pytest.approx(ANSWERS[0][0], abs=2 * HOP + BLOCK / RATE)
