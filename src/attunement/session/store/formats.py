"""The records a live session appends to its store, as numpy structured arrays, and their way back
into the stages' own records (VadFrames, Landmarks). No audio or image is ever stored."""

from __future__ import annotations

import numpy as np

from ...config import Config
from ...cues.track import LandmarkTrack
from ...perception.echo import levels_from_frames
from ...perception.vad import smooth_activity
from ...records import FACE_POINTS, POSE_POINTS, Landmarks, VadFrames, VoiceActivity

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
    """One frame's live cues (cues/frame.py's frame_cues: head yaw, pitch, eye gaze yaw, pitch in
    degrees, mouth opening; NaN without a face) as a `cues` record."""
    rec = np.empty(1, CUES_DTYPE)
    rec["t"] = t
    for name, v in zip(CUES_DTYPE.names[1:], cues):
        rec[name] = v
    return rec


def marks_record(marks: Landmarks) -> np.ndarray:
    """One frame's landmarks as a `marks` record."""
    rec = np.empty(1, MARKS_DTYPE)
    rec["t"], rec["w"], rec["h"] = marks.t, marks.size[0], marks.size[1]
    rec["face"], rec["pose"], rec["pose_world"] = marks.face, marks.pose, marks.pose_world
    return rec


def vad_records(frames: VadFrames) -> np.ndarray:
    """The detector's frames of one feed (VoiceActivityDetector.feed) as `vad` records."""
    rec = np.empty(frames.frames, vad_dtype(frames.gated.shape[0]))
    rec["t"] = frames.t0 + np.arange(frames.frames) * frames.hop_s
    rec["gated"], rec["audible"], rec["voiced"] = frames.gated.T, frames.audible.T, frames.voiced.T
    rec["level_db"] = frames.level_db.T
    return rec


def vad_frames(rec: np.ndarray, *, hop_s: float) -> VadFrames:
    """Stored `vad` records back as the detector's VadFrames."""
    return VadFrames(gated=np.ascontiguousarray(rec["gated"].T), audible=np.ascontiguousarray(rec["audible"].T),
                     voiced=np.ascontiguousarray(rec["voiced"].T), level_db=np.ascontiguousarray(rec["level_db"].T),
                     hop_s=hop_s, t0=float(rec["t"][0]) if rec.size else 0.0)


def activity_from_records(rec: np.ndarray, *, config: Config, fill_pauses: bool) -> VoiceActivity:
    """VoiceActivity from stored `vad` frames, through the detector's own smoothing (smooth_activity)."""
    frames = vad_frames(rec, hop_s=config.vad.frame_ms / 1000.0)
    return smooth_activity(frames, config=config.vad, fill_pauses=fill_pauses)


def mfcc_records(features: np.ndarray) -> np.ndarray:
    """A diarizer's new MFCC frames (float32 [k, coefficients]) as `mfcc` records."""
    rec = np.empty(features.shape[0], [("c", "<f4", (features.shape[1],))])
    rec["c"] = features
    return rec


def track_from_records(rec: np.ndarray, *, config: Config) -> LandmarkTrack:
    """A LandmarkTrack of stored `marks` frames."""
    track = LandmarkTrack(capacity=rec.size + 16, config=config)
    for r in rec:
        track.add(Landmarks(face=r["face"], pose=r["pose"], pose_world=r["pose_world"], t=float(r["t"]),
                            size=(int(r["w"]), int(r["h"]))))
    return track


#: One partner line as started: its index in the scenario, session times (s), spoken or shown, and
#: its first sample counted from the microphone's first (the playback grid's origin).
PARTNER_DTYPE = np.dtype([("index", "<i4"), ("start", "<f8"), ("end", "<f8"), ("spoken", "?"), ("at", "<i8")])


#: One frame of a spoken line's playback level on the voice-activity grid (frame 0 = the mic's first).
PLAYBACK_DTYPE = np.dtype([("line", "<i4"), ("frame", "<i8"), ("db", "<f4")])


def ref_db_from_records(levels, *, frames: int, hop: int) -> np.ndarray:
    """Playback levels dBFS float32 [frames] from PLAYBACK_DTYPE records (a list of arrays or one array)."""
    rec = np.concatenate(levels) if isinstance(levels, list) and levels else levels
    if isinstance(rec, list) or not rec.size:
        return levels_from_frames([], [], frames=frames, hop=hop)
    lines = np.unique(rec["line"])
    parts = [rec[rec["line"] == k] for k in lines.tolist()]
    return levels_from_frames([int(p["frame"][0]) for p in parts], [p["db"] for p in parts], frames=frames, hop=hop)


#: One window of the trained diarizer (conversation/neural_live.py): its index, first sample (from
#: the session's first) and local speaker activity [589 frames, 3 speakers] (0 or 1: float16 is exact).
SEG_DTYPE = np.dtype([("window", "<i4"), ("start", "<i8"), ("activity", "<f2", (589, 3))])
#: One embedded local speaker of a window: its 256-d embedding (float32: a rebuild clusters the
#: same numbers) and whether it spoke alone long enough to take part in the clustering.
EMB_DTYPE = np.dtype([("window", "<i4"), ("speaker", "<i1"), ("train", "?"), ("v", "<f4", (256,))])


def window_records(out) -> tuple[np.ndarray, np.ndarray]:
    """A WindowOutput (conversation/neural_live.py) as one `seg` record and its `emb` records."""
    seg = np.empty(1, SEG_DTYPE)
    seg["window"], seg["start"], seg["activity"] = out.index, out.start, out.activity
    emb = np.empty(out.speakers.size, EMB_DTYPE)
    emb["window"], emb["speaker"], emb["train"], emb["v"] = out.index, out.speakers, out.train, out.vectors
    return seg, emb


def windows_from_records(seg: np.ndarray, emb: np.ndarray) -> dict[str, np.ndarray]:
    """Stored `seg` and `emb` records as LiveNeuralDiarizer.restore's arguments (starts, activity,
    which, vectors, train): windows in order, each once; embeddings of stored windows only (a
    kill can leave one stream a flush ahead of the other)."""
    windows, first = np.unique(seg["window"], return_index=True)
    seg = seg[first]
    emb = emb[np.isin(emb["window"], windows)]
    _, once = np.unique(np.stack([emb["window"], emb["speaker"].astype(np.int32)], axis=1), axis=0, return_index=True)
    emb = emb[once]  # in (window, local speaker) order, as the file pipeline lists them
    pos = np.searchsorted(windows, emb["window"])
    return {"starts": seg["start"].astype(np.int64), "activity": seg["activity"].astype(np.float32),
            "which": np.stack([pos.astype(np.int64), emb["speaker"].astype(np.int64)], axis=1),
            "vectors": emb["v"].astype(np.float32), "train": emb["train"].astype(np.bool_)}
