"""What a live session stores, and how a Review is rebuilt from it (`attune summary`, `attune export`,
`attune history`).

The streams in the session folder (session/store/writer.py), enough to rebuild the review exactly:
`vad`: the voice activity detector's per-frame calls before smoothing (gated speech, audible,
voiced, level dB per channel); `marks`: each camera frame's landmarks (face [478, 3], pose
[33, 4], pose_world [33, 3], image size); `cues`: each frame's live cues (head pose, gaze, mouth),
for a look at the session without recomputing. `mfcc` (one shared microphone only): the model-free
diarizer's MFCC frames; with the trained diarizer (settings `engine = "neural"`) also `seg` and `emb`:
each 10 s window's local speaker activity and its speakers' embeddings, so a rebuild runs only the
clustering (session/store/formats.py). A rehearsal (settings `speakers = "rehearsal"`) adds `partner` (each line started) and
`playback` (its levels), rebuilt by `load_rehearsal` below. `words` (when the session transcribed):
each word's times and its sentence's cue labels as heard, the text only with --keep-words
(session/store/words_log.py). No audio or image is stored. meta.json's `settings` name the speaker strategy.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import numpy as np

from ...config import Config, default_config
from ...conversation.diarize import Diarizer
from ...conversation.neural_live import LiveNeuralDiarizer
from ...conversation.speakers import ChannelsAreSpeakers, SingleTrack
from ...cues.calibration import Baseline, load_profile
from ...cues.track import vision_from_track
from ...errors import InputError
from ...records import PartnerLine, Review
from ..assemble import assemble_review
from ..rehearsal.measure import RehearsalResult, measure_rehearsal, rehearsal_review
from ..store.formats import (
    EMB_DTYPE,
    PARTNER_DTYPE,
    PLAYBACK_DTYPE,
    PROFILE_FILE,
    SEG_DTYPE,
    activity_from_records,
    ref_db_from_records,
    track_from_records,
    vad_dtype,
    windows_from_records,
)
from ..store.words_log import STREAM, heard_from_records
from ..store.writer import StoredSession, load_session
from ..words import with_heard
from .offline import renamed_channels

log = logging.getLogger(__name__)


def speakers_from_settings(settings: dict, signals: dict, *, config: Config, t0: float = 0.0):
    """The speaker strategy a session used, filled with what it stored."""
    kind = settings.get("speakers")
    if kind == "channels":
        return ChannelsAreSpeakers(settings["names"], channels=config.channels, vad=config.vad)
    if kind == "single" or kind is None:  # None: a session without a microphone
        return SingleTrack(settings["names"][0] if kind else "speaker")
    if kind == "diarize":
        mfcc = signals.get("mfcc")
        if settings.get("engine") == "neural":  # the windows it computed as it ran: only the clustering is left
            d = LiveNeuralDiarizer(config=config.diarization, num_speakers=settings.get("num_speakers"))
            windows = windows_from_records(signals.get("seg", np.empty(0, SEG_DTYPE)),
                                           signals.get("emb", np.empty(0, EMB_DTYPE)))
            d.restore(**windows, t0=t0, mfcc=mfcc["c"] if mfcc is not None and mfcc.size else None)
            return d
        d = Diarizer(config=config.diarization, num_speakers=settings.get("num_speakers"))
        if mfcc is not None and mfcc.size:
            d.restore(mfcc["c"], t0=t0)  # the first block's start, as the VAD's
        else:
            d.restore(np.zeros((0, 19), np.float32), t0=t0)
        return d
    raise InputError(f"session settings name an unknown speaker strategy {kind!r}")


def load_review(folder: str | os.PathLike, *, config: Config | None = None) -> Review:
    """The Review of a saved session, also an interrupted one (rebuilt from what was recorded)."""
    config = config or default_config()
    stored = load_session(folder)
    settings = stored.meta.get("settings", {})
    if settings.get("speakers") == "rehearsal":  # the partner's lines and the user's echo-free speech
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
    review = assemble_review(str(stored.folder), config=config, activity=activity, speakers=speakers,
                             duration_s=duration, vision=vision, me=settings.get("me"), problems=problems, kind="live")
    return _with_logged_words(review, stored, speakers, config=config)


def _with_logged_words(review: Review, stored: StoredSession, speakers, *, config: Config) -> Review:
    """`review` with the words its session logged as it heard them (session/store/words_log.py),
    through the same function as the session's own end: a killed session keeps its words and cues."""
    settings = stored.meta.get("settings", {})
    if "words" not in settings or STREAM not in stored.signals:
        return review
    per_channel = isinstance(speakers, ChannelsAreSpeakers)
    heard = heard_from_records(stored.signals[STREAM], names=list(speakers.names) if per_channel else [""])
    rename = renamed_channels(speakers, settings.get("me")) if per_channel else None
    return with_heard(review, heard, config=config, keep_words=bool(settings["words"].get("keep_words")),
                      rename=rename)


def load_rehearsal(stored: StoredSession, *, config: Config) -> RehearsalResult:
    """A rehearsal rebuilt from its session folder (session/store/writer.py's `load_session`), also one that
    was killed: its partner lines with their times, the voice activity and the playback levels
    stored as it ran go through the same measurement as at its end (`measure_rehearsal`), with the
    rehearsal settings it ran with. The review names what was repaired and a missing end."""
    settings, signals = stored.meta.get("settings", {}), stored.signals
    rcfg = dataclasses.replace(config.rehearse, **settings.get("rehearse", {}))
    problems = tuple(stored.meta.get("problems", ())) + stored.notes
    vad = signals.get("vad")
    if vad is None or not vad.size:
        vad = np.empty(0, vad_dtype(1))
        problems += ("no audio was recorded in this session",)
    activity = activity_from_records(vad, config=config, fill_pauses=True)
    texts = settings.get("lines", [])
    partner = signals.get("partner", np.empty(0, PARTNER_DTYPE))
    track = [PartnerLine(float(r["start"]), float(r["end"]), texts[r["index"]] if r["index"] < len(texts) else "",
                         bool(r["spoken"])) for r in partner]
    ref_db = ref_db_from_records(signals.get("playback", np.empty(0, PLAYBACK_DTYPE)), frames=activity.frames,
                     hop=round(activity.hop_s * settings.get("rate", 16000)))
    metrics = measure_rehearsal(activity, ref_db, track, config=config, rehearsal=rcfg)
    marks = signals.get("marks")
    vision = (vision_from_track(track_from_records(marks, config=config), config=config)
              if marks is not None and marks.size else None)
    duration = stored.meta.get("duration_s") or activity.t0 + activity.frames * activity.hop_s
    review = rehearsal_review(activity, track, metrics, vision, duration_s=float(duration), config=config,
                     folder=stored.folder, problems=problems)
    return RehearsalResult(track=tuple(track), metrics=metrics, review=review, folder=stored.folder)
