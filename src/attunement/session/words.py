"""What was said in a review: each speaker's final segments heard by the recognizer, or a person's
transcript (`--words FILE`) in its place; then the language cues of those words.

The recognizer hears only speech (perception/transcribe.py cuts the segments at pauses); the audio
is read again from the file in blocks and dropped as soon as its stretches are transcribed, so an
hour-long recording is never held whole. The recognizer is loaded once per process.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from ..config import Config, WordsConfig
from ..conversation.language import analyze_language
from ..conversation.transcripts import read_transcript
from ..models import ModelError
from ..perception.asr import Recognizer, Utterance
from ..perception.transcribe import LiveTranscriber, assign_speakers
from ..records import Review, Segment
from ..sources.media import MediaReader
from .progress import WORDS, Progress, tell

log = logging.getLogger(__name__)

#: How much audio the file pass feeds between two transcription polls, s.
POLL_EVERY_S = 30.0


@lru_cache(maxsize=2)
def recognizer(config: WordsConfig) -> Recognizer:
    """The speech recognizer for these settings, loaded (and sha256-checked) once per process."""
    return Recognizer.load(config=config)


def transcribe_file(path: str | Path, segments: Sequence[Segment], *, config: WordsConfig,
                    channel_of: dict[str, int] | None = None, progress: Progress | None = None) -> tuple[Utterance, ...]:
    """What each speaker of `segments` said in the media file `path` (16 kHz blocks, channels kept;
    `channel_of`: speaker -> channel when each person has one, else the channels' mean)."""
    speech = sorted(s for s in segments if s.end > s.start)
    if not speech:
        return ()
    ears = LiveTranscriber(recognizer(config), config=config, channel_of=channel_of)
    ears.add_speech(speech)
    out: list[Utterance] = []
    fed_since = 0.0
    with MediaReader(path) as reader:
        total = reader.info.duration_s
        for block in reader.blocks():
            ears.feed(block)
            fed_since += block.duration
            if fed_since >= POLL_EVERY_S:
                out += ears.poll(keep_from=ears.audio_end)
                fed_since = 0.0
                tell(progress, WORDS, ears.audio_end, total)
    out += ears.finish()
    tell(progress, WORDS, total, total)
    return tuple(sorted(out, key=lambda u: (u.start, u.speaker)))


def with_words(review: Review, *, config: Config, path: str | Path | None = None, words_file: str | Path | None = None,
               channel_of: dict[str, int] | None = None, keep_words: bool | None = None,
               progress: Progress | None = None) -> Review:
    """`review` with what was said: a transcript file's utterances (`words_file`, speakers as in
    the review or its annotation), else the recognizer on `path`'s audio at the review's segments,
    else (no file, or transcription off and no transcript) the review as it was."""
    keep = config.words.keep_words if keep_words is None else bool(keep_words)
    if words_file is not None:
        utts = read_transcript(words_file)
        utts = assign_speakers(utts, review.segments) if not _named_like(utts, review.speakers) else utts
    elif path is not None and config.words.transcribe:
        try:
            utts = transcribe_file(path, review.segments, config=config.words, channel_of=channel_of,
                                   progress=progress)
        except ModelError as e:  # a missing or altered model: the turn-taking and camera cues still stand
            log.warning("words: %s", e)
            note = f"what was said could not be transcribed ({e}); the review has no language cues"
            return dataclasses.replace(review, problems=tuple(review.problems) + (note,))
    else:
        return review
    return attach_words(review, utts, config=config, keep_words=keep)


def attach_words(review: Review, utterances: Sequence[Utterance], *, config: Config, keep_words: bool) -> Review:
    """`review` with `utterances` (speakers as the review's) and their language cues."""
    log.debug("words: %d utterances", len(utterances))
    language = analyze_language(utterances, review.turn_taking, speakers=review.speakers, config=config.words,
                                keep_words=keep_words)
    return dataclasses.replace(review, words=tuple(utterances), language=language)


def _named_like(utts: Sequence[Utterance], speakers: Sequence[str]) -> bool:
    """Whether a transcript's speakers are the review's own (else they are handed to the review's
    speakers by time, as words heard before diarization are)."""
    return bool(utts) and {u.speaker for u in utts} <= set(speakers)
