"""What a live session stores, and how a Review is rebuilt from it (`attune summary`, `attune export`,
`attune history`).

The streams in the session folder (session/store.py), enough to rebuild the review exactly:
`vad`: the voice activity detector's per-frame calls before smoothing (gated speech, audible,
voiced, level dB per channel); `marks`: each camera frame's landmarks (face [478, 3], pose
[33, 4], pose_world [33, 3], image size); `cues`: each frame's live cues (head pose, gaze, mouth),
for a look at the session without recomputing. `mfcc` (one shared microphone only): the diarizer's
MFCC frames. A rehearsal (settings `speakers = "rehearsal"`) adds `partner` (each line started) and
`playback` (its levels), rebuilt by session/rehearse_live.py's `load_rehearsal`. No audio or image
is stored. meta.json's `settings` name the speaker strategy.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from ..config import Config, default_config
from ..conversation.diarize import Diarizer
from ..conversation.speakers import ChannelsAreSpeakers, SingleTrack
from ..cues.calibration import Baseline, load_profile
from ..errors import InputError
from ..perception.vad import VoiceActivityDetector
from ..perception.vad_kernels import smooth_speech
from ..records import FACE_POINTS, POSE_POINTS, Landmarks, VoiceActivity
from .review import Review, assemble_review
from .store import list_sessions, load_session
from .vision import LandmarkTrack, vision_from_track

log = logging.getLogger(__name__)

PROFILE_FILE = "profile.json"


def vad_dtype(channels: int) -> np.dtype:
    """One VAD frame: t (s, frame start), gated / audible / voiced bool [ch], level_db float32 [ch]."""
    return np.dtype([("t", "<f8"), ("gated", "?", (channels,)), ("audible", "?", (channels,)),
                     ("voiced", "?", (channels,)), ("level_db", "<f4", (channels,))])


MARKS_DTYPE = np.dtype([("t", "<f8"), ("w", "<i4"), ("h", "<i4"), ("face", "<f4", (FACE_POINTS, 3)),
                        ("pose", "<f4", (POSE_POINTS, 4)), ("pose_world", "<f4", (POSE_POINTS, 3))])


CUES_DTYPE = np.dtype([("t", "<f8"), ("yaw_deg", "<f4"), ("pitch_deg", "<f4"), ("eye_yaw_deg", "<f4"),
                       ("eye_pitch_deg", "<f4"), ("mouth", "<f4")])


def cues_record(t: float, cues: np.ndarray) -> np.ndarray:
    """One frame's live cues (session/check.py's frame_cues: head yaw, pitch, eye gaze yaw, pitch in
    degrees, mouth opening; NaN without a face) as a `cues` record."""
    rec = np.empty(1, CUES_DTYPE)
    rec["t"] = t
    for name, v in zip(CUES_DTYPE.names[1:], cues):
        rec[name] = v
    return rec


class VadTap:
    """Reads the frames a VoiceActivityDetector decided in its last `feed` as `vad` records.

    (The detector keeps its per-frame calls in lists, one part per feed; this reads the newest parts.
    A public per-feed result on VoiceActivityDetector would make this tap unnecessary.)"""

    def __init__(self, vad: VoiceActivityDetector):
        self.vad, self.frames, self.dtype = vad, 0, vad_dtype(vad.channels)

    def new_records(self) -> np.ndarray:
        vad = self.vad
        parts = [vad._speech, vad._audible, vad._raw_voiced, vad._level]  # noqa: SLF001 (see class doc)
        if not parts[0][0]:
            return np.empty(0, self.dtype)
        n = parts[0][0][-1].shape[0]
        rec = np.empty(n, self.dtype)
        rec["t"] = (vad._t0 or 0.0) + (self.frames + np.arange(n)) * vad.hop_s
        for name, lists in zip(("gated", "audible", "voiced", "level_db"), parts):
            rec[name] = np.stack([lst[-1] for lst in lists], axis=1) if n else rec[name]
        self.frames += n
        return rec


def marks_record(marks: Landmarks) -> np.ndarray:
    """One frame's landmarks as a `marks` record."""
    rec = np.empty(1, MARKS_DTYPE)
    rec["t"], rec["w"], rec["h"] = marks.t, marks.size[0], marks.size[1]
    rec["face"], rec["pose"], rec["pose_world"] = marks.face, marks.pose, marks.pose_world
    return rec


def activity_from_records(rec: np.ndarray, *, config: Config, fill_pauses: bool) -> VoiceActivity:
    """VoiceActivity from stored `vad` frames, smoothed exactly as VoiceActivityDetector.finish does."""
    hop = config.vad.frame_ms / 1000.0
    channels = rec.dtype["gated"].shape[0]
    speech = np.stack([smooth_speech(rec["gated"][:, ch].copy(), rec["audible"][:, ch].copy(),
                                     rec["audible"][:, ch] | rec["voiced"][:, ch], hop_s=hop,
                                     config=config.vad, fill_pauses=fill_pauses) for ch in range(channels)])
    t0 = float(rec["t"][0]) if rec.size else 0.0
    return VoiceActivity(speech=speech.astype(bool), level_db=np.ascontiguousarray(rec["level_db"].T),
                         hop_s=hop, t0=t0)


def track_from_records(rec: np.ndarray, *, config: Config) -> LandmarkTrack:
    """A LandmarkTrack of stored `marks` frames."""
    track = LandmarkTrack(capacity=rec.size + 16, config=config)
    for r in rec:
        track.add(Landmarks(face=r["face"], pose=r["pose"], pose_world=r["pose_world"], t=float(r["t"]),
                            size=(int(r["w"]), int(r["h"]))))
    return track


class _StoredMfcc:
    """Stands in for a Diarizer's MFCC stream with the frames a session stored."""

    def __init__(self, feats: np.ndarray):
        self._feats = np.ascontiguousarray(feats, np.float32)

    def features(self) -> np.ndarray:
        return self._feats


def speakers_from_settings(settings: dict, signals: dict, *, config: Config, t0: float = 0.0):
    """The speaker strategy a session used, filled with what it stored."""
    kind = settings.get("speakers")
    if kind == "channels":
        return ChannelsAreSpeakers(settings["names"], channels=config.channels, vad=config.vad)
    if kind == "single" or kind is None:  # None: a session without a microphone
        return SingleTrack(settings["names"][0] if kind else "speaker")
    if kind == "diarize":
        d = Diarizer(config=config.diarization, num_speakers=settings.get("num_speakers"))
        mfcc = signals.get("mfcc")
        d._mfcc = _StoredMfcc(mfcc["c"] if mfcc is not None and mfcc.size else np.zeros((0, 19), np.float32))
        d._t0 = t0  # the first block's start, as the VAD's
        return d
    raise InputError(f"session settings name an unknown speaker strategy {kind!r}")


def load_review(folder: str | os.PathLike, *, config: Config | None = None) -> Review:
    """The Review of a saved session, also an interrupted one (rebuilt from what was recorded)."""
    config = config or default_config()
    stored = load_session(folder)
    settings = stored.meta.get("settings", {})
    if settings.get("speakers") == "rehearsal":  # the partner's lines and the user's echo-free speech
        from .rehearse_live import load_rehearsal

        return load_rehearsal(stored, config=config).review
    problems = tuple(stored.meta.get("problems", ())) + stored.notes
    vad = stored.signals.get("vad")
    if vad is None or not vad.size:
        channels = len(settings.get("names", ())) if settings.get("speakers") == "channels" else 1
        vad = np.empty(0, vad_dtype(max(channels, 1)))
        problems += ("no audio was recorded in this session",)
    activity = activity_from_records(vad, config=config, fill_pauses=vad.dtype["gated"].shape[0] == 1)
    duration = float(stored.meta.get("duration_s") or (activity.t0 + activity.frames * activity.hop_s))
    marks = stored.signals.get("marks")
    vision = None
    if marks is not None and marks.size:
        profile_path = Path(folder) / PROFILE_FILE
        profile: Baseline | None = load_profile(profile_path) if profile_path.exists() else None
        vision = vision_from_track(track_from_records(marks, config=config), config=config, profile=profile)
    speakers = speakers_from_settings(settings, stored.signals, config=config, t0=activity.t0)
    return assemble_review(str(stored.folder), config=config, activity=activity, speakers=speakers,
                           duration_s=duration, vision=vision, me=settings.get("me"), problems=problems)


def history(root: str | os.PathLike | None = None) -> list[dict]:
    """Past sessions, rehearsals and kept reviews, oldest first: {folder, date (UTC ISO), length_s,
    status, kind (session, rehearsal or review), summary (one line)}."""
    out = []
    for folder in list_sessions(root):
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except (OSError, ValueError):
            continue
        status = meta.get("status", "running")
        if status == "running" and not _alive(meta.get("pid")):
            status = "interrupted"
        line = meta.get("summary_line") or ("stopped before the end; `attune summary` rebuilds what was "
                                            "recorded" if status == "interrupted" else "still running")
        settings = meta.get("settings", {})
        kind = ("review" if settings.get("kind") == "review" else
                "rehearsal" if settings.get("speakers") == "rehearsal" else "session")
        out.append({"folder": str(folder), "date": meta.get("started_utc"), "length_s": meta.get("duration_s"),
                    "status": status, "kind": kind, "summary": line})
    return out


def find_session(spec: str, root: str | os.PathLike | None = None) -> Path:
    """The session folder `spec` names: a path to one, `last` (the newest), or the end of a folder
    name under the sessions folder (e.g. `20261124T010203Z-practice`, `practice`); InputError if none."""
    if (Path(spec) / "meta.json").exists():
        return Path(spec)
    found = list_sessions(root)
    if spec == "last" and found:
        return found[-1]
    match = [p for p in found if p.name == spec] or [p for p in found if p.name.endswith(spec) or p.name.startswith(spec)]
    if not match:
        raise InputError(f"no session {spec!r} (see `attune history`)")
    if len(match) > 1:
        log.info("%d sessions match %r; taking the newest", len(match), spec)
    return match[-1]


def _alive(pid) -> bool:
    from .store import _alive as alive

    return alive(pid)
