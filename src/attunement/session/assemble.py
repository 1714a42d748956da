"""The last step of every review, offline, live or rebuilt: the speaker strategy for the audio, and
the Review from what a pass collected (speakers' segments, `me`, the turn-taking)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ..config import Config
from ..conversation.diarize import Diarizer
from ..conversation.me import label_me, relabel_with_mouth
from ..conversation.neural_diarize import NeuralDiarizer
from ..conversation.speakers import (
    ChannelsAreSpeakers,
    FromAnnotation,
    SingleTrack,
    channel_names,
)
from ..conversation.turns import analyze_turns
from ..cues.track import Vision
from ..errors import InputError
from ..records import ME, AudioBlock, MediaInfo, Review, Segment, VoiceActivity


def speaker_strategy(channels: int, *, config: Config, source: str, channels_are_speakers: bool = False,
                     reference: Sequence[Segment] | None = None, speaker_names: Sequence[str] | None = None,
                     num_speakers: int | None = None, live: bool = False):
    """(speaker strategy, channels the VAD hears) for audio of `channels` channels from `source`:
    one channel per person, a reference annotation, one track, or diarization of one shared mic
    (files: [diarization] engine, by default the trained pipeline; `live`: the model-free diarizer,
    which a live session swaps for the trained one run as it goes, session/runners/live.py)."""
    if channels_are_speakers and reference is not None:
        raise InputError("use either --channels-are-speakers or --rttm, not both")
    if channels_are_speakers:
        if channels < 2:
            raise InputError(f"--channels-are-speakers needs one channel per person; {source} has {channels}")
        names = channel_names(channels, speaker_names)
        return ChannelsAreSpeakers(names, channels=config.channels, vad=config.vad), channels
    if reference is not None:
        return FromAnnotation(reference), 1
    if num_speakers == 1:
        return SingleTrack(speaker_names[0] if speaker_names else "speaker"), 1
    if config.diarization.engine == "neural" and not live:
        return NeuralDiarizer(config=config.diarization, num_speakers=num_speakers), 1
    return Diarizer(config=config.diarization, num_speakers=num_speakers), 1


def for_vad(block: AudioBlock, vad_channels: int) -> AudioBlock:
    """`block` as the VAD and speaker strategy take it: averaged to one channel when they hear one."""
    if vad_channels == 1 and block.channels > 1:
        return AudioBlock(block.samples.mean(axis=0, keepdims=True), block.t0, block.rate)
    return block


def assemble_review(source: str, *, config: Config, activity: VoiceActivity | None, speakers, duration_s: float,
                    vision: Vision | None = None, me: str | None = None,
                    reference: Sequence[Segment] | None = None, info: MediaInfo | None = None,
                    problems: tuple[str, ...] = (), kind: str = "review", heard: bool = True) -> Review:
    """The Review from what a pass collected (the offline review and the live session share it):
    speakers' segments, `me` by name or by mouth movement, then the turn-taking. `kind`: "review",
    "live" or "rehearsal" (the summary's words fit it); `heard=False`: there was no sound to hear."""
    segments = speakers.finish(activity, duration_s)
    if isinstance(speakers, (Diarizer, NeuralDiarizer)) and len({s.speaker for s in segments}) > 1:
        problems += ("who spoke when was told apart by voice alone from one shared microphone; "
                     "similar voices can be mixed up",)
    if vision is not None:
        problems += vision.problems
    if me is not None:
        segments = label_me(segments, me)
    elif vision is not None and isinstance(speakers, (Diarizer, NeuralDiarizer, SingleTrack)) and segments:
        segments = relabel_with_mouth(segments, vision.times, vision.face.mouth,
                                      min_activity=config.diarization.me_min_mouth_activity)
    labelled = any(s.speaker == ME for s in segments)
    ids = _speaker_ids(segments, None if labelled else reference, speakers)
    turns = analyze_turns(segments, config=config.turns, speakers=ids)
    if not segments and heard:
        problems += ("no speech was heard in this recording: it is silent or too quiet, so there is nothing "
                     "here about talking or listening",)
    return Review(input=source, duration_s=duration_s, speakers=tuple(ids), segments=turns.segments,
                  turn_taking=turns, info=info, activity=activity, problems=problems, vision=vision, kind=kind)


def silent_review(source: str, *, config: Config, vision: Vision, info: MediaInfo | None = None) -> Review:
    """The Review of a video without a sound track: what the camera shows, and a note that there was no sound."""
    duration = float(vision.times[-1] - vision.times[0]) if vision.times.size else 0.0
    return assemble_review(source, config=config, activity=None, speakers=FromAnnotation([]),
                           duration_s=duration, vision=vision, info=info, heard=False,
                           problems=("the video has no sound track, so only what the camera shows is reviewed",))


def _speaker_ids(segments, reference, speakers) -> list[str]:
    if isinstance(speakers, ChannelsAreSpeakers) and not any(s.speaker == ME for s in segments):
        return list(speakers.names)
    if reference is not None:
        return sorted({s.speaker for s in reference})
    return sorted({s.speaker for s in segments}) or [getattr(speakers, "name", "speaker")]


def relabel_me(review: Review, me: str, *, config: Config) -> Review:
    """`review` with speaker `me` labelled "me" (the others "partner"), its turn-taking redone."""
    segments = label_me(review.segments, me)
    ids = sorted({s.speaker for s in segments})
    turns = analyze_turns(segments, config=config.turns, speakers=ids)
    return dataclasses.replace(review, speakers=tuple(ids), segments=turns.segments, turn_taking=turns)
