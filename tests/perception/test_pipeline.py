"""The schedules and threads of FaceBodyLandmarker.stream (perception/pipeline.py)."""

import numpy as np
import pytest

from attunement.perception.landmarks import FaceBodyLandmarker
from attunement.perception.pipeline import RateSchedule
from attunement.records import VideoFrame


@pytest.mark.parametrize("fps,rate", [(30.0, 10.0), (30.0, 15.0), (25.0, 10.0), (25.0, 15.0), (60.0, 30.0)])
def test_rate_schedule_keeps_the_rate_whatever_the_frame_rate(fps, rate):
    times = np.arange(int(fps * 20)) / fps
    schedule = RateSchedule(1.0 / rate)
    kept = [t for t in times if schedule.due(t)]
    assert len(kept) == pytest.approx(20 * rate, abs=1)
    assert np.diff(kept).max() < 1.0 / rate + 1.0 / fps + 1e-9


def test_rate_schedule_answers_the_same_when_asked_again():
    schedule = RateSchedule(0.1)
    answers = [(schedule.due(t), schedule.due(t)) for t in np.arange(30) / 30]
    assert all(a == b for a, b in answers) and sum(a for a, _ in answers) == 10


def test_rate_schedule_zero_keeps_every_frame():
    schedule = RateSchedule(0.0)
    assert all(schedule.due(t) for t in np.arange(50) / 30)


def frames(n: int, *, fail_at: int | None = None):
    def gen(keep=None):
        for k in range(n):
            if k == fail_at:
                raise OSError("disk went away")
            t = k / 30
            if keep is None or keep(t):
                yield VideoFrame(np.zeros((48, 64, 3), np.uint8), t, k)
    return gen


def test_stream_thins_to_the_face_rate_and_ends():
    with FaceBodyLandmarker() as marker:
        got = list(marker.stream(frames(60), face_rate_hz=10.0))
    assert [round(m.t * 30) for m in got] == list(range(0, 60, 3))
    assert all(np.isnan(m.face).all() for m in got)  # black frames: no face, no person


def test_stream_raises_what_the_decoding_raised():
    with FaceBodyLandmarker() as marker, pytest.raises(OSError, match="disk went away"):
        list(marker.stream(frames(40, fail_at=20)))


def test_stream_stops_its_threads_when_left_early():
    import threading

    before = threading.active_count()
    with FaceBodyLandmarker() as marker:
        for k, _ in enumerate(marker.stream(frames(300))):
            if k == 5:
                break
    assert threading.active_count() <= before + 2  # mediapipe's own threads may linger; ours are joined
    assert not [t for t in threading.enumerate() if t.name.startswith("attune-")]


# ---- PoseBehind: the live camera's pose thread ----

def test_pose_behind_hands_back_the_newest_measurement_without_waiting():
    import contextlib
    import threading

    from attunement.perception.pipeline import PoseBehind

    release = threading.Event()

    def measure(image, t):
        release.wait(5.0)
        return image.sum(), t

    behind = PoseBehind(measure, contextlib.nullcontext)
    try:
        assert behind.idle and behind.take() is None
        behind.give(np.ones((2, 3)), 0.5)
        assert not behind.idle and behind.take() is None  # not finished: nothing, and no wait
        with pytest.raises(RuntimeError, match="being measured"):
            behind.give(np.ones((2, 3)), 0.6)
        release.set()
        for _ in range(500):
            if behind.idle:
                break
            threading.Event().wait(0.01)
        assert behind.idle and behind.take() == (6.0, 0.5)
        assert behind.take() is None  # taken once
    finally:
        behind.close()
    assert not any(t.name == "attune-pose" for t in threading.enumerate())


def test_pose_behind_raises_the_thread_error_on_take():
    import contextlib
    import threading

    from attunement.perception.pipeline import PoseBehind

    def measure(image, t):
        raise ValueError(f"bad frame at {t}")

    behind = PoseBehind(measure, contextlib.nullcontext)
    try:
        behind.give(np.zeros(1), 1.25)
        for _ in range(500):
            if behind.idle:
                break
            threading.Event().wait(0.01)
        with pytest.raises(ValueError, match="bad frame at 1.25"):
            behind.take()
        assert behind.idle  # and it takes the next frame
    finally:
        behind.close()
