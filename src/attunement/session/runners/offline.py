"""Offline review of a recording: media -> voice activity -> speakers -> turn-taking.

The same path serves `attune review`, `attune demo` and the end-to-end tests.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from ...config import Config
from ...conversation.me import label_me
from ...conversation.neural_diarize import NeuralDiarizer
from ...conversation.speakers import ChannelsAreSpeakers
from ...conversation.turns import analyze_turns
from ...conversation.voiceprint import VoiceProfile, match_me
from ...cues.calibration import Baseline
from ...cues.track import LandmarkTrack, Vision, vision_from_track
from ...errors import InputError
from ...perception.vad import VoiceActivityDetector
from ...records import ME, Review, Segment
from ...sources.media import MediaReader, tracks
from ...sources.video import VideoReader
from ..assemble import (
    assemble_review,
    for_vad,
    relabel_me,
    silent_review,
    speaker_strategy,
)
from ..progress import FACE, SPEAKERS, VOICES, Progress, tell
from ..words import with_words

log = logging.getLogger(__name__)


def review_file(path: str | Path, *, config: Config, channels_are_speakers: bool = False,
                reference: Sequence[Segment] | None = None,
                speaker_names: Sequence[str] | None = None, num_speakers: int | None = None,
                me: str | None = None, video: bool = True, profile: Baseline | None = None,
                words: bool | None = None, words_file: str | Path | None = None,
                keep_words: bool | None = None, progress: Progress | None = None,
                voice: VoiceProfile | None = None) -> Review:
    """Review a media file.

    Speakers come from one channel per person, a reference annotation (`reference`, from an RTTM),
    or, for one shared microphone, diarization (`num_speakers` fixes the count; 1 = one track).
    `me` names the speaker who is the user (relabelled `me`, the others `partner`); without it,
    a video's mouth movement picks the voice of the person on camera. `video=False` skips the camera
    half; `profile` is a calibrated baseline for eye contact and leaning. What was said: a
    transcript file (`words_file`: WebVTT, SRT, TextGrid, JSON) or, when `words` (default: [words]
    transcribe), the recognizer on each speaker's speech; `keep_words` keeps the text (default:
    [words] keep_words), else only counts and labels. `progress(stage, done, total)` hears how far
    each stage is (session/progress.py). `voice`: an enrolled voice profile (`attune enroll`): on one
    shared microphone with no camera to tell, the speaker with that voice is labelled `me`.
    """
    if num_speakers is not None and (channels_are_speakers or reference is not None):
        raise InputError("a speaker count goes with one shared microphone, not with --channels-are-speakers or --rttm")
    if video and tracks(path) == (False, True):  # a muted video: what the camera shows, with a note
        return silent_review(str(path), config=config,
                             vision=watch_video(path, config=config, profile=profile, progress=progress))
    with MediaReader(path) as reader:
        info = reader.info
        speakers, vad_channels = speaker_strategy(info.channels, config=config, source=str(path),
                                                  channels_are_speakers=channels_are_speakers, reference=reference,
                                                  speaker_names=speaker_names, num_speakers=num_speakers)
        vad = VoiceActivityDetector(config=config.vad, channels=vad_channels)
        duration = 0.0
        for block in reader.blocks():
            block = for_vad(block, vad_channels)
            vad.feed(block)
            speakers.feed(block)
            duration = block.t0 + block.duration
            tell(progress, VOICES, duration, info.duration_s)
        problems = tuple(reader.problems)
    tell(progress, VOICES, duration, duration)
    activity = vad.finish()
    vision = watch_video(path, config=config, profile=profile, progress=progress) if video and info.has_video else None
    tell(progress, SPEAKERS, 0, 1)
    review = assemble_review(str(path), config=config, activity=activity, speakers=speakers, duration_s=duration,
                             vision=vision, me=me, reference=reference, info=info, problems=problems)
    tell(progress, SPEAKERS, 1, 1)
    if voice is not None and me is None and review.on_camera != ME:
        review = _by_voice(review, speakers, voice, config=config)
    if words_file is None and not (config.words.transcribe if words is None else words):
        return review
    channel_of = channel_map(speakers, me) if channels_are_speakers else None
    return with_words(review, config=dataclasses.replace(config, words=dataclasses.replace(config.words, transcribe=True)),
                      path=path, words_file=words_file, channel_of=channel_of, keep_words=keep_words,
                      progress=progress)


def _by_voice(review: Review, speakers, voice: VoiceProfile, *, config: Config) -> Review:
    """`me` from the enrolled voice (the trained diarizer keeps the audio to compare it with); a note
    when it cannot tell."""
    audio = speakers.audio() if isinstance(speakers, NeuralDiarizer) else None
    who, scores = (None, {}) if audio is None else match_me(review.segments, audio, voice, threads=config.diarization.nn_threads)
    if who is None:
        why = ("no voice matched the enrolled one closely enough" if scores else
               "the enrolled voice is compared on one shared microphone only (diarized with the trained model)")
        return dataclasses.replace(review, problems=review.problems + (f"I could not tell which voice is yours: {why}",))
    return relabel_me(review, who, config=config)


def channel_map(speakers: ChannelsAreSpeakers, me: str | None) -> dict[str, int]:
    """Final speaker name -> channel of a one-channel-per-person review (names as `me` relabels them)."""
    names = list(speakers.names)
    if me is not None:
        names = [s.speaker for s in label_me([Segment(i, i + 1, n) for i, n in enumerate(names)], me)]
    return {n: i for i, n in enumerate(names)}


def renamed_channels(speakers: ChannelsAreSpeakers, me: str | None) -> dict[str, str]:
    """Each channel's own name -> its speaker's name in the review (as `me` relabels them)."""
    final = {i: n for n, i in channel_map(speakers, me).items()}
    return {name: final[i] for i, name in enumerate(speakers.names)}


def review_annotation(segments: Sequence[Segment], *, config: Config, source: str,
                      duration_s: float | None = None) -> Review:
    """Metrics from an annotation alone (no audio): the output of any diarizer or a transcript."""
    ids = sorted({s.speaker for s in segments})
    turns = analyze_turns(segments, config=config.turns, speakers=ids)
    end = max((s.end for s in segments), default=0.0)
    return Review(input=source, duration_s=float(duration_s if duration_s is not None else end),
                  speakers=tuple(ids), segments=turns.segments, turn_taking=turns)


def watch_video(path: str | Path, *, config: Config, profile: Baseline | None = None,
                progress: Progress | None = None) -> Vision:
    """Landmarks of the frames of `path`, the face at `[perception] face_rate_hz`, the body at
    `review_pose_rate_hz` (at most; every frame decoded, only
    those used converted; decoding, face and pose on their own threads, see FaceBodyLandmarker.stream),
    reduced as they come (see LandmarkTrack), then all face and posture cues. mediapipe's models are
    built once per process and reset between videos (perception/landmarker_pool.py)."""
    from ...perception.landmarker_pool import video_landmarker

    rate = config.perception.face_rate_hz
    with VideoReader(path) as reader, video_landmarker(config.perception) as marker:
        frames, fps = reader.info.frames, reader.info.fps
        used = frames if rate <= 0 else int(frames * min(1.0, rate / fps)) + 1
        track = LandmarkTrack(capacity=used + 16, config=config)
        for marks in marker.stream(reader.frames, face_rate_hz=rate, pose_rate_hz=config.perception.review_pose_rate_hz):
            track.add(marks)
            tell(progress, FACE, min(marks.t * fps, frames), frames)
        problems = tuple(reader.problems)
    if not track.n:
        raise InputError(f"{path}: no video frames could be decoded")
    return vision_from_track(track, config=config, profile=profile, problems=problems)
