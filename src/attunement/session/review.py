"""Offline review of a recording: media -> voice activity -> speakers -> turn-taking.

The same path serves `attune review`, `attune demo` and the end-to-end tests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..conversation.diarize import Diarizer
from ..conversation.me import ME, label_me, relabel_with_mouth
from ..cues.calibration import Baseline
from ..conversation.speakers import ChannelsAreSpeakers, FromAnnotation, SingleTrack, channel_names
from ..conversation.turns import TurnTaking, analyze_turns
from ..errors import InputError
from ..perception.vad import VoiceActivityDetector
from ..records import AudioBlock, MediaInfo, Segment, VoiceActivity
from ..sources.media import MediaReader
from .vision import Vision, cues_to_json, watch_video

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Review:
    """Everything one review found: the input, who spoke when, and the turn-taking."""

    input: str
    duration_s: float
    speakers: tuple[str, ...]
    segments: tuple[Segment, ...]
    turn_taking: TurnTaking
    info: MediaInfo | None = None
    activity: VoiceActivity | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)
    vision: "Vision | None" = None

    @property
    def on_camera(self) -> str | None:
        """The speaker id of the person on camera: `me` once known, the only speaker, else None."""
        if ME in self.speakers:
            return ME
        return self.speakers[0] if len(self.speakers) == 1 else None

    def cues(self) -> dict | None:
        """The camera cues as in the JSON (`cues`), or None without video."""
        return None if self.vision is None else cues_to_json(self.vision, self.segments, me=self.on_camera)


def review_file(path: str | Path, *, config: Config, channels_are_speakers: bool = False,
                reference: Sequence[Segment] | None = None,
                speaker_names: Sequence[str] | None = None, num_speakers: int | None = None,
                me: str | None = None, video: bool = True, profile: Baseline | None = None) -> Review:
    """Review a media file.

    Speakers come from one channel per person, a reference annotation (`reference`, from an RTTM),
    or, for one shared microphone, diarization (`num_speakers` fixes the count; 1 = one track).
    `me` names the speaker who is the user (relabelled `me`, the others `partner`); without it,
    a video's mouth movement picks the voice of the person on camera. `video=False` skips the camera
    half; `profile` is a calibrated baseline for eye contact and leaning.
    """
    if num_speakers is not None and (channels_are_speakers or reference is not None):
        raise InputError("a speaker count goes with one shared microphone, not with --channels-are-speakers or --rttm")
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
        problems = tuple(reader.problems)
    activity = vad.finish()
    vision = watch_video(path, config=config, profile=profile) if video and info.has_video else None
    return assemble_review(str(path), config=config, activity=activity, speakers=speakers, duration_s=duration,
                           vision=vision, me=me, reference=reference, info=info, problems=problems)


def speaker_strategy(channels: int, *, config: Config, source: str, channels_are_speakers: bool = False,
                     reference: Sequence[Segment] | None = None, speaker_names: Sequence[str] | None = None,
                     num_speakers: int | None = None):
    """(speaker strategy, channels the VAD hears) for audio of `channels` channels from `source`:
    one channel per person, a reference annotation, one track, or diarization of one shared mic."""
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
    return Diarizer(config=config.diarization, num_speakers=num_speakers), 1


def for_vad(block: AudioBlock, vad_channels: int) -> AudioBlock:
    """`block` as the VAD and speaker strategy take it: averaged to one channel when they hear one."""
    if vad_channels == 1 and block.channels > 1:
        return AudioBlock(block.samples.mean(axis=0, keepdims=True), block.t0, block.rate)
    return block


def assemble_review(source: str, *, config: Config, activity: VoiceActivity, speakers, duration_s: float,
                    vision: Vision | None = None, me: str | None = None,
                    reference: Sequence[Segment] | None = None, info: MediaInfo | None = None,
                    problems: tuple[str, ...] = ()) -> Review:
    """The Review from what a pass collected (the offline review and the live session share it):
    speakers' segments, `me` by name or by mouth movement, then the turn-taking."""
    segments = speakers.finish(activity, duration_s)
    if isinstance(speakers, Diarizer) and len({s.speaker for s in segments}) > 1:
        problems += ("who spoke when was told apart by voice alone from one shared microphone; "
                     "similar voices can be mixed up",)
    if vision is not None:
        problems += vision.problems
    if me is not None:
        segments = label_me(segments, me)
    elif vision is not None and isinstance(speakers, (Diarizer, SingleTrack)) and segments:
        segments = relabel_with_mouth(segments, vision.times, vision.face.mouth,
                                      min_activity=config.diarization.me_min_mouth_activity)
    labelled = any(s.speaker == ME for s in segments)
    ids = _speaker_ids(segments, None if labelled else reference, speakers)
    turns = analyze_turns(segments, config=config.turns, speakers=ids)
    if not segments:
        problems += ("no speech was heard in this recording",)
    return Review(input=source, duration_s=duration_s, speakers=tuple(ids), segments=turns.segments,
                  turn_taking=turns, info=info, activity=activity, problems=problems, vision=vision)


def review_annotation(segments: Sequence[Segment], *, config: Config, source: str,
                      duration_s: float | None = None) -> Review:
    """Metrics from an annotation alone (no audio): the output of any diarizer or a transcript."""
    ids = sorted({s.speaker for s in segments})
    turns = analyze_turns(segments, config=config.turns, speakers=ids)
    end = max((s.end for s in segments), default=0.0)
    return Review(input=source, duration_s=float(duration_s if duration_s is not None else end),
                  speakers=tuple(ids), segments=turns.segments, turn_taking=turns)


def _speaker_ids(segments, reference, speakers) -> list[str]:
    if isinstance(speakers, ChannelsAreSpeakers) and not any(s.speaker == ME for s in segments):
        return list(speakers.names)
    if reference is not None:
        return sorted({s.speaker for s in reference})
    return sorted({s.speaker for s in segments}) or [getattr(speakers, "name", "speaker")]

