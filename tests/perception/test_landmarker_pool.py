"""mediapipe's landmarkers built once per process and reused video after video: real graphs on real clips
(the portrait and its mirror image); a video's landmarks and review must not depend on what came before."""

from __future__ import annotations

import json

import numpy as np
import pytest

from attunement.config import default_config
from attunement.perception.landmarker_pool import close_idle, idle_landmarkers, video_landmarker
from attunement.perception.landmarks import FaceBodyLandmarker
from attunement.sources.video import VideoReader
from tests.sources.test_video import make_clip, portrait


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Two clips of a face: the portrait (A) and its mirror image (B), the face a little apart."""
    d = tmp_path_factory.mktemp("pool")
    image = portrait()
    return (make_clip(d / "a.mkv", seconds=1.2, image=image),
            make_clip(d / "b.mkv", seconds=1.2, image=np.ascontiguousarray(image[:, ::-1])))


@pytest.fixture(autouse=True)
def empty_pool():
    close_idle()
    yield
    close_idle()


def streamed(marker: FaceBodyLandmarker, path) -> list:
    """The landmarks of a clip as a review takes them (FaceBodyLandmarker.stream, the face at 15 Hz)."""
    config = default_config().perception
    with VideoReader(path) as reader:
        return list(marker.stream(reader.frames, face_rate_hz=config.face_rate_hz,
                                  pose_rate_hz=config.review_pose_rate_hz))


def processed(marker: FaceBodyLandmarker, path) -> list:
    with VideoReader(path) as reader:
        return [marker.process(f) for f in reader.frames()]


def same(x: list, y: list) -> bool:
    """Landmarks equal to the bit (NaN where NaN)."""
    return len(x) == len(y) and all(
        a.t == b.t and a.pose_t == b.pose_t and np.array_equal(a.face, b.face, equal_nan=True)
        and np.array_equal(a.pose, b.pose, equal_nan=True)
        and np.array_equal(a.pose_world, b.pose_world, equal_nan=True) for a, b in zip(x, y))


@pytest.mark.parametrize("read", [streamed, processed])
def test_b_after_a_is_b_alone_and_the_models_are_built_once(clips, read):
    a, b = clips
    config = default_config().perception
    with FaceBodyLandmarker(config) as fresh:
        alone = read(fresh, b)
    with video_landmarker(config) as first:
        before = read(first, a)
    assert idle_landmarkers() == 1
    with video_landmarker(config) as second:
        assert second is first  # the same graphs, reset
        after = read(second, b)
    assert all(m.has_face and m.has_pose for m in before + after)
    assert same(after, alone)
    assert not same(before, alone)  # the two clips do differ


def test_without_the_reset_the_tracking_would_leak(clips):
    """What the reset is for: the same graphs going on from A into B (tracking the face where A left it,
    the pose smoothed across) do not give B's landmarks alone; the test above would catch a missing reset."""
    a, b = clips
    config = default_config().perception
    with FaceBodyLandmarker(config) as fresh:
        alone = processed(fresh, b)
    with FaceBodyLandmarker(config) as going_on:
        processed(going_on, a)
        leaked = processed(going_on, b)
    assert not same(leaked, alone)


def test_a_landmarker_that_failed_is_closed_not_reused(clips):
    config = default_config().perception
    with pytest.raises(ZeroDivisionError), video_landmarker(config) as broken:
        processed(broken, clips[0])
        raise ZeroDivisionError("a review that failed half-way")
    assert idle_landmarkers() == 0
    with pytest.raises(RuntimeError, match="after close"):
        processed(broken, clips[0])
    with video_landmarker(config) as again:
        assert again is not broken and processed(again, clips[1])[0].has_face


def test_two_at_once_are_two_landmarkers(clips):
    config = default_config().perception
    with video_landmarker(config) as one, video_landmarker(config) as two:
        assert one is not two
    assert idle_landmarkers() == 2


def test_review_of_b_after_a_is_the_review_of_b_alone(clips):
    """The whole review of a video (`attune review`'s review_file) is the same after another video."""
    from attunement.session.runners.offline import review_file
    from attunement.summary.json_out import review_to_json

    a, b = clips
    config = default_config()

    def review(path):
        return json.dumps(review_to_json(review_file(path, config=config, words=False)), sort_keys=True)

    alone = review(b)
    close_idle()
    review(a)
    assert idle_landmarkers() == 1
    assert review(b) == alone


def test_a_process_reviewing_two_videos_keeps_mediapipe_quiet_and_exits_cleanly(clips):
    """The restarted graphs talk as new ones do: that stays off stderr too; the idle landmarker is closed at exit."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    code = ("import sys\n"
            "from attunement.config import default_config\n"
            "from attunement.perception.landmarker_pool import video_landmarker\n"
            "from tests.perception.test_landmarker_pool import streamed\n"
            "for path in sys.argv[1:]:\n"
            "    with video_landmarker(default_config().perception) as m:\n"
            "        assert streamed(m, path)[0].has_face\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)]))
    done = subprocess.run([sys.executable, "-c", code, *map(str, clips), str(clips[0])], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
