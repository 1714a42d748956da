"""Face and body landmarks of video frames, with mediapipe 0.10.21's Solutions API (CPU, bundled models).

`FaceBodyLandmarker` runs FaceMesh (478 points with irises) on every frame and Pose (the
bundled full model) at a lower rate, carrying the last pose in between with its own time
(`process`, one frame at a time, as the live path needs); `stream` does the same for a whole
video at given face and pose rates on three threads (reviews of a file; perception/pipeline.py).
Results are `attunement.records.Landmarks` in pixels of the frame, NaN where nothing was
found. The cues depend only on the `Landmarker` protocol, so another backend (mediapipe
Tasks with user-supplied model files) can replace this one.

mediapipe's landmark lists are read from their protobuf wire bytes by one numba kernel
(no Python loop over landmarks). The native libraries' start-up chatter on stderr (TFLite,
absl) is caught and sent to this module's logger at DEBUG; anything else they print is
passed on as a WARNING, so real errors still show.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, Self, runtime_checkable

import numpy as np

from .._numba import kernel
from ..config import PerceptionConfig, default_config
from ..records import FACE_POINTS, POSE_POINTS, Landmarks, VideoFrame
from .pipeline import FramePipeline, PoseBehind, RateSchedule

os.environ.setdefault("GLOG_minloglevel", "2")  # glog (older mediapipe builds): errors only
# mediapipe's drawing helpers import matplotlib.pyplot; without a screen, choosing the file backend up front
# spares pyplot's search for an interactive one (~0.1 s of each review's start; the report draws with Agg too).
os.environ.setdefault("MPLBACKEND", "agg")
import mediapipe as mp

log = logging.getLogger(__name__)

#: Native start-up messages that say nothing to a user (logged at DEBUG, not shown).
_CHATTER = re.compile(
    r"^(INFO: |I\d{4} |WARNING: All log messages before absl::InitializeLog"
    r"|W\d{4} .*(inference_feedback_manager|landmark_projection_calculator)\.cc)")
#: process() calls watched for chatter (mediapipe prints some on the first face it finds).
_WATCHED_CALLS = 30
_stderr_lock = threading.Lock()
#: The warm-up frame: black, so no face or person is found and no tracking state is left.
_BLANK = np.zeros((64, 64, 3), np.uint8)


@runtime_checkable
class Landmarker(Protocol):
    """A perception backend: one frame in, its landmarks out (the cues see only this)."""

    def process(self, frame: VideoFrame) -> Landmarks: ...

    def close(self) -> None: ...


class FaceBodyLandmarker:
    """mediapipe FaceMesh (refined irises) on every frame, Pose (model_complexity=1) at most
    `config.pose_rate_hz` times a second; `static=True` treats every frame as an unrelated
    image (detection each time, pose on every call). Use as a context manager.
    """

    def __init__(self, config: PerceptionConfig | None = None, *, static: bool = False):
        self.config = config if config is not None else default_config().perception
        self.static = bool(static)
        rate = self.config.pose_rate_hz
        self._pose_every_s = 1.0 / rate if rate > 0 else math.inf
        self._face = self._pose = self._behind = None
        self._watched = _WATCHED_CALLS
        self.used = False  # frames were given since construction or reset()
        conf = {"min_detection_confidence": self.config.min_detection_confidence,
                "min_tracking_confidence": self.config.min_tracking_confidence}
        try:
            with _native_stderr_to_log():
                self._face = mp.solutions.face_mesh.FaceMesh(
                    static_image_mode=self.static, max_num_faces=1, refine_landmarks=True, **conf)
                if rate > 0:
                    self._pose = mp.solutions.pose.Pose(
                        static_image_mode=self.static, model_complexity=1, smooth_landmarks=not self.static,
                        enable_segmentation=False, **conf)
                self._blank()
        except BaseException:
            self.close()
            raise
        self._forget()

    def reset(self) -> None:
        """Forget every frame seen so far and keep the models loaded: mediapipe's graphs are restarted
        (its documented `reset`: no face or body tracked, smoothing filters empty) and the carried pose
        and pose schedule cleared, as just after construction. Between two videos (landmarker_pool.py),
        so that one's tracking never reaches into the next."""
        if self._face is None:
            raise RuntimeError("reset() called after close()")
        with _native_stderr_to_log():  # the restarted graphs reopen their models and talk again
            for solution in (self._face, self._pose):
                if solution is not None:
                    solution.reset()
            self._blank()
        self._forget()

    def _blank(self) -> None:
        # The graphs open their models on their own threads: one blank frame waits for that (and
        # its log lines) inside the capture. Nothing is found, nothing tracked.
        for solution in (self._face, self._pose):
            if solution is not None:
                solution.process(_BLANK)

    def _stop_behind(self) -> None:
        behind, self._behind = getattr(self, "_behind", None), None
        if behind is not None:
            behind.close()

    def _forget(self) -> None:
        self._stop_behind()  # a pose still measured belongs to the frames forgotten
        self._carried = (_nan((POSE_POINTS, 4)), _nan((POSE_POINTS, 3)), math.nan)
        self._schedule = RateSchedule(self._pose_every_s, always=self.static)
        self._watched = _WATCHED_CALLS
        self.used = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stops mediapipe's graphs (and process_live's pose thread); safe to call more than once."""
        self._stop_behind()
        for name in ("_face", "_pose"):
            solution = getattr(self, name, None)
            if solution is not None:
                setattr(self, name, None)
                solution.close()

    def process(self, frame: VideoFrame) -> Landmarks:
        """Landmarks of one frame (read-only float32 arrays, pixels; see `Landmarks`).

        Frames of a video must come in time order; the pose is measured on the first frame at or
        after each tick of a `pose_rate_hz` schedule (so the average rate is `pose_rate_hz` whatever
        the frame rate; also when the clock went back), else carried.
        """
        image = _rgb(frame.image)
        if self._face is None:
            raise RuntimeError("process() called after close()")
        self.used = True
        with self._quiet():
            face = self._measure_face(image)
            if self._pose is not None and self._schedule.due(frame.t):
                self._carried = self._measure_pose(image, frame.t)
        return self._marks(frame.t, image, face)

    def process_live(self, frame: VideoFrame) -> Landmarks:
        """As `process`, for a live camera: Pose runs on its own thread (perception/pipeline.py's
        PoseBehind), beside FaceMesh on this one, so a frame waits for FaceMesh only (Pose takes
        about 5 times as long). Each frame carries the newest pose finished by its end (`pose_t`: the
        frame it was measured on); a tick of the pose schedule that comes while Pose is busy (a
        loaded machine) moves to the next frame, so the rate falls rather than the frames pile up."""
        image = _rgb(frame.image)
        if self._face is None:
            raise RuntimeError("process_live() called after close()")
        self.used = True
        if self._pose is not None:
            if self._behind is None:
                self._behind = PoseBehind(self._measure_pose, _native_stderr_to_log)
            if self._behind.idle and self._schedule.due(frame.t):
                self._behind.give(image, frame.t)
        with self._quiet():
            face = self._measure_face(image)
        done = self._behind.take() if self._behind is not None else None
        self._carried = done if done is not None else self._carried
        return self._marks(frame.t, image, face)

    def stream(self, frames: Callable[..., Iterable[VideoFrame]], *, face_rate_hz: float = 0.0,
               pose_rate_hz: float | None = None, depth: int = 4) -> Iterator[Landmarks]:
        """Landmarks of a video's frames at `face_rate_hz` (0: every frame; else the first frame at or
        after each tick, see RateSchedule), Pose on its own schedule over all frames at `pose_rate_hz`
        (None: the config's; 0: none; the config's 0 cannot be overridden), so the body is
        measured at the same frames whatever the face's rate, carried to the next face frame. `frames(keep=...)` gives the frames, converting only those keep(t) wants
        (VideoReader.frames). With face_rate_hz = 0 the landmarks equal `process` of every frame.

        A pipeline of three threads (mediapipe and PyAV release the GIL, so two cores are kept busy):
        one pulls the frames (the decoding) and decides what each is for, one runs Pose, the
        caller's thread runs FaceMesh and hands out the results. `depth`: frames queued between stages.
        """
        if self._face is None:
            raise RuntimeError("stream() called after close()")
        self.used = True
        face = RateSchedule(1.0 / face_rate_hz if face_rate_hz > 0 else 0.0)
        pose = None if self._pose is None or pose_rate_hz == 0 else (
            self._schedule if pose_rate_hz is None else RateSchedule(1.0 / pose_rate_hz))
        pipe = FramePipeline(depth, face, pose, prepare=_rgb, quiet=_native_stderr_to_log)
        feeder = threading.Thread(target=pipe.feed, args=(frames,), name="attune-decode", daemon=True)
        poser = threading.Thread(target=pipe.serve, args=(self._measure_pose,), name="attune-pose", daemon=True)
        feeder.start()
        poser.start()
        try:
            while (item := pipe.next_frame()) is not None:
                frame, image, poses = item
                with self._quiet():
                    marks = self._measure_face(image)
                while pipe.poses_taken < poses:
                    self._carried = pipe.next_pose()
                yield self._marks(frame.t, image, marks)
        finally:
            pipe.stop.set()
            feeder.join()
            poser.join()

    def _quiet(self) -> contextlib.AbstractContextManager:
        """Native stderr caught while the first frames are processed (see _WATCHED_CALLS)."""
        return _native_stderr_to_log() if self._watched > 0 else contextlib.nullcontext()

    def _measure_face(self, image: np.ndarray) -> np.ndarray:
        """FaceMesh's 478 points [478, 3] in pixels, NaN without a face; read-only."""
        h, w = image.shape[:2]
        found = self._face.process(image).multi_face_landmarks
        face = (landmark_array(found[0].SerializeToString(), points=FACE_POINTS, scale=(w, h, w))
                if found else _nan((FACE_POINTS, 3)))
        self._watched = 0 if found else self._watched - 1
        face.flags.writeable = False
        return face

    def _marks(self, t: float, image: np.ndarray, face: np.ndarray) -> Landmarks:
        h, w = image.shape[:2]
        pose, world, pose_t = self._carried
        return Landmarks(t=t, size=(w, h), face=face, pose=pose, pose_world=world, pose_t=pose_t)

    def _measure_pose(self, image: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray, float]:
        """(pose [33, 4] pixels + visibility, pose_world [33, 3] metres, t), read-only."""
        h, w = image.shape[:2]
        result = self._pose.process(image)
        if result.pose_landmarks is None:
            pose, world = _nan((POSE_POINTS, 4)), _nan((POSE_POINTS, 3))
        else:
            pose = landmark_array(result.pose_landmarks.SerializeToString(), points=POSE_POINTS,
                                  scale=(w, h, w, 1.0))
            world = (landmark_array(result.pose_world_landmarks.SerializeToString(), points=POSE_POINTS,
                                    scale=(1.0, 1.0, 1.0))
                     if result.pose_world_landmarks is not None else _nan((POSE_POINTS, 3)))
        pose.flags.writeable = world.flags.writeable = False
        return pose, world, t


def landmark_array(data: bytes, *, points: int, scale: tuple[float, ...]) -> np.ndarray:
    """A serialized mediapipe (Normalized)LandmarkList as float32 [points, len(scale)].

    Column j is the landmark's field j+1 (x, y, z, visibility, presence) times scale[j];
    fields the message leaves unset are NaN. ValueError if `data` is not such a list of
    exactly `points` landmarks.
    """
    if not 1 <= len(scale) <= 5:
        raise ValueError(f"scale needs 1 to 5 factors (x, y, z, visibility, presence), got {len(scale)}")
    buf = np.frombuffer(data, dtype=np.uint8)
    out = np.empty((points, len(scale)), np.float32)
    count = _parse_landmarks(buf, out, np.asarray(scale, np.float64))
    if count < 0:
        raise ValueError(f"not a serialized landmark list ({len(data)} bytes)")
    if count != points:
        raise ValueError(f"the landmark list holds {count} landmarks, expected {points}")
    return out


@kernel
def _varint(buf, pos, end):
    """(value, position after it) of the protobuf varint at `pos`; position -1 if it runs past `end`."""
    value, shift = 0, 0
    while pos < end and shift < 64:
        b = buf[pos]
        pos += 1
        value |= (np.int64(b) & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
    return 0, -1


@kernel
def _skip(buf, pos, wire, end):
    """Position after a field's value of wire type `wire` at `pos`; -1 if malformed."""
    if wire == 0:
        return _varint(buf, pos, end)[1]
    if wire == 1:
        pos += 8
    elif wire == 5:
        pos += 4
    elif wire == 2:
        length, pos = _varint(buf, pos, end)
        if pos < 0 or length < 0:
            return -1
        pos += length
    else:
        return -1  # groups (3, 4) and reserved types never occur in landmark lists
    return pos if pos <= end else -1


@kernel
def _parse_landmarks(buf, out, scale):
    """Fills out[k, j] with field j+1 (float, wire type 5) of landmark k times scale[j] (NaN if unset);
    returns the number of landmarks in the list (may exceed out's rows), or -1 if malformed."""
    out[:] = np.nan
    word = np.empty(1, np.uint32)
    value = word.view(np.float32)
    rows, cols, n = out.shape[0], out.shape[1], buf.shape[0]
    pos, k = 0, 0
    while pos < n:
        tag, pos = _varint(buf, pos, n)
        if pos < 0:
            return -1
        if tag >> 3 != 1 or tag & 7 != 2:  # not a landmark: skip the field
            pos = _skip(buf, pos, tag & 7, n)
            if pos < 0:
                return -1
            continue
        length, pos = _varint(buf, pos, n)
        end = pos + length
        if pos < 0 or length < 0 or end > n:
            return -1
        while pos < end:
            tag, pos = _varint(buf, pos, end)
            if pos < 0:
                return -1
            field, wire = tag >> 3, tag & 7
            if wire == 5 and 1 <= field <= cols and k < rows:
                if pos + 4 > end:
                    return -1
                word[0] = (np.uint32(buf[pos]) | (np.uint32(buf[pos + 1]) << 8)
                           | (np.uint32(buf[pos + 2]) << 16) | (np.uint32(buf[pos + 3]) << 24))
                out[k, field - 1] = value[0] * scale[field - 1]
                pos += 4
            else:
                pos = _skip(buf, pos, wire, end)
                if pos < 0:
                    return -1
        k += 1
    return k


def _rgb(image: np.ndarray) -> np.ndarray:
    """The image as C-contiguous uint8 [h, w, 3] (what mediapipe takes); ValueError otherwise."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"a frame's image must be RGB uint8 [h, w, 3], got "
                         f"{getattr(image, 'dtype', type(image).__name__)} {getattr(image, 'shape', '')}")
    if min(image.shape[:2]) < 1:
        raise ValueError(f"a frame's image is empty: {image.shape}")
    return np.ascontiguousarray(image)


def _nan(shape: tuple[int, int]) -> np.ndarray:
    out = np.full(shape, np.nan, np.float32)
    out.flags.writeable = False
    return out


@contextlib.contextmanager
def _native_stderr_to_log() -> Iterator[None]:
    """Catches what native code writes to file descriptor 2 meanwhile and logs it: known
    start-up chatter at DEBUG, anything else at WARNING (so real errors are never lost)."""
    with _stderr_lock, tempfile.TemporaryFile() as caught:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(caught.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
        finally:
            os.close(saved)
        caught.seek(0)
        for line in caught.read().decode("utf-8", "replace").splitlines():
            if line.strip():
                log.log(logging.DEBUG if _CHATTER.match(line) else logging.WARNING, "mediapipe: %s", line)
