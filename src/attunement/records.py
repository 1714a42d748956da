"""Small, frozen, timed records passed between stages (times are seconds on the session clock)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class AudioBlock:
    """A block of audio: `samples` float32 [shape=(channels, n)] in [-1, 1] at `rate` Hz.

    `t0` is the session-clock time of the first sample, in seconds.
    """

    samples: np.ndarray
    t0: float
    rate: int

    @property
    def duration(self) -> float:
        return self.samples.shape[-1] / self.rate

    @property
    def channels(self) -> int:
        return self.samples.shape[0]


@dataclass(frozen=True, order=True)
class Segment:
    """One speaker's stretch of speech, [start, end) in seconds (pyannote.core's Segment, with a label)."""

    start: float
    end: float
    speaker: str = field(compare=True, default="")

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds, as found by the decoder."""

    path: str
    duration_s: float
    channels: int
    source_rate: int
    codec: str
    has_video: bool = False


@dataclass(frozen=True)
class VoiceActivity:
    """Per-channel voice activity on a fixed frame grid.

    `speech` bool [shape=(channels, frames)]; `level_db` float32 [shape=(channels, frames)]
    frame energy in dBFS; frame k covers [t0 + k*hop_s, t0 + (k+1)*hop_s).
    """

    speech: np.ndarray
    level_db: np.ndarray
    hop_s: float
    t0: float = 0.0

    @property
    def frames(self) -> int:
        return self.speech.shape[-1]


@dataclass(frozen=True)
class VadFrames:
    """The voice activity detector's per-frame calls before smoothing, each [shape=(channels, k)]:
    `gated` speech (webrtcvad on the speech band through the level gate), `audible` (sound above the
    background), `voiced` (webrtcvad on the unfiltered frame), `level_db` float32 frame level dBFS.
    Frame j covers [t0 + j*hop_s, t0 + (j+1)*hop_s). What a live session stores, and what
    perception/vad.py's `smooth_activity` turns into VoiceActivity."""

    gated: np.ndarray
    audible: np.ndarray
    voiced: np.ndarray
    level_db: np.ndarray
    hop_s: float
    t0: float = 0.0

    @property
    def frames(self) -> int:
        return self.gated.shape[-1]


@dataclass(frozen=True)
class VideoFrame:
    """One decoded video or camera frame: `image` uint8 RGB [shape=(h, w, 3)]; `t` seconds on the session clock."""

    image: np.ndarray
    t: float
    index: int


#: Landmark counts of mediapipe's FaceMesh with refined irises and of its Pose model.
FACE_POINTS = 478
POSE_POINTS = 33


@dataclass(frozen=True)
class Landmarks:
    """Face and body landmarks of one frame, in pixels of the frame (NaN where nothing was found).

    face: float32 [478, 3]: x right, y down, z depth in the same pixel scale (smaller = nearer the camera);
    points 468..477 are the irises. pose: float32 [33, 4]: x, y, z in pixels and visibility 0..1;
    pose_world: float32 [33, 3], metres, origin between the hips. `pose_t` is the time the pose was
    measured (pose runs at a lower rate than the face), NaN if never. `size` is (width, height).
    """

    t: float
    size: tuple[int, int]
    face: np.ndarray
    pose: np.ndarray
    pose_world: np.ndarray
    pose_t: float = float("nan")

    @property
    def has_face(self) -> bool:
        return bool(np.isfinite(self.face[0, 0]))

    @property
    def has_pose(self) -> bool:
        return bool(np.isfinite(self.pose[0, 0]))


#: The user's speaker id once known, and the other person's when there is one other.
ME, PARTNER = "me", "partner"


@dataclass(frozen=True)
class Review:
    """Everything one review found: the input, who spoke when, and the turn-taking.

    `turn_taking` is conversation/turns.py's TurnTaking; `vision` cues/track.py's Vision (the
    camera half) or None; `words` what each speaker said (perception/asr.py's Utterances) and
    `language` its cues (conversation/language.py's Language), or None when not transcribed.
    Shaped as JSON by summary/json_out.py.
    """

    input: str
    duration_s: float
    speakers: tuple[str, ...]
    segments: tuple[Segment, ...]
    turn_taking: object
    info: MediaInfo | None = None
    activity: VoiceActivity | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)
    vision: object | None = None
    words: tuple | None = None     # perception/asr.py's Utterances, in start order; None: not transcribed
    language: object | None = None  # conversation/language.py's Language (its keep_words: the text may be kept)
    goals: dict | None = None       # a rehearsal's practice goals: goal -> ((start s, quote or None), ...)

    @property
    def on_camera(self) -> str | None:
        """The speaker id of the person on camera: `me` once known, the only speaker, else None."""
        if ME in self.speakers:
            return ME
        return self.speakers[0] if len(self.speakers) == 1 else None


@dataclass(frozen=True)
class PartnerLine:
    """One partner line on the session clock: [start, end) seconds of its sound (or display), its text."""

    start: float
    end: float
    text: str
    spoken: bool = True


#: Every partner line actually spoken or shown, in order.
PartnerTrack = list[PartnerLine]
