"""What was said in a review: each speaker's final segments heard by the recognizer, or a person's
transcript (`--words FILE`) in its place; then the language cues of those words.

The recognizer hears only speech (perception/transcribe.py cuts the segments at pauses); the audio
is read again from the file in blocks and dropped as soon as its stretches are transcribed, so an
hour-long recording is never held whole. The recognizer is loaded once per process.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from collections import Counter
from collections.abc import Mapping

from ..config import Config, WordsConfig
from ..conversation.cue_phrases import boost_phrases
from ..conversation.language import (
    Language,
    LabelledUtterance,
    analyze_language,
    partner_turn,
    says_feeling,
    turn_events,
)
from ..conversation.language_rules import classify, fillers, load_lexicon, split_sentences
from ..conversation.transcripts import read_transcript
from ..models import ModelError
from ..perception.asr import Recognizer, Utterance, Word
from ..perception.transcribe import LiveTranscriber, assign_speakers, speakers_of
from ..records import Review, Segment
from ..sources.media import MediaReader
from .progress import WORDS, Progress, tell

log = logging.getLogger(__name__)

#: How much audio the file pass feeds between two transcription polls, s.
POLL_EVERY_S = 30.0


@lru_cache(maxsize=2)
def recognizer(config: WordsConfig) -> Recognizer:
    """The speech recognizer for these settings, loaded (and sha256-checked) once per process."""
    return Recognizer.load(config=config, phrases=boost_phrases() if config.boost > 0 else ())


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


@dataclass(frozen=True)
class Sentence:
    """One sentence of a heard utterance: its words (indices into the utterance's words), cue
    labels, whether it says "I feel…", and its filler words. `text` is "" when words are not kept."""

    first: int
    last: int  # one past the last word
    labels: frozenset[str]
    feeling: bool
    fillers: int
    text: str = ""


@dataclass(frozen=True)
class Heard:
    """One utterance as the live session heard it, labelled: `utterance.speaker` is the live
    speaker (a channel name, or "" on one shared microphone)."""

    utterance: Utterance
    sentences: tuple[Sentence, ...]


def hear(utterance: Utterance, before: Sequence[Utterance], *, one_track: bool, config: WordsConfig) -> Heard:
    """`utterance` labelled as a live session hears it, with
    what was heard `before` it: its sentences' cues (a reflection measured against the partner's
    turn: with one channel per person the other channels' utterances since this one last spoke; on
    one shared microphone, where speakers are known only at the end, the stretch heard just before,
    and `with_heard` keeps it only if that stretch turns out to be the partner's)."""
    lex = load_lexicon()
    if one_track:
        previous = before[-1].text if before else None
    else:
        utts = sorted([*before, utterance], key=lambda u: (u.start, u.speaker))
        previous = partner_turn(utts, utts.index(utterance))
    sentences, first = [], 0
    for text in split_sentences(utterance.text):
        n = sum(1 for w in text.split() if any(ch.isalnum() for ch in w))
        labels = classify(text, previous=previous, lex=lex, min_overlap=config.reflection_min_overlap)
        sentences.append(Sentence(first, min(first + n, len(utterance.words)), labels, says_feeling(text),
                                  fillers(text, lex), text))
        first += n
    return Heard(utterance, tuple(s for s in sentences if s.last > s.first))


def with_heard(review: Review, heard: Sequence[Heard], *, config: Config, keep_words: bool,
               rename: Mapping[str, str] | None) -> Review:
    """`review` with the words a live session heard and logged (`Heard`, read back from the records of
    session/store/words_log.py at its end and in a rebuild alike: the same records, the same cues).
    One channel per person (`rename`: channel name -> the review's speaker name): each utterance is
    that speaker's. One shared microphone (`rename` None): each sentence goes to the speaker whose
    final segments hold most of its words, consecutive sentences of one speaker form an utterance,
    and a reflection stays one only where the utterance before it is the partner's."""
    out: list[tuple[Utterance, list, int, bool]] = []
    for h in heard:
        words = h.utterance.words
        who = (speakers_of([(w.start, w.end) for w in words], review.segments) if rename is None
               else [rename.get(h.utterance.speaker, h.utterance.speaker)] * len(words))
        run: list = []
        for s in h.sentences:
            votes = Counter(who[s.first:s.last])
            speaker = max(votes, key=lambda sp: (votes[sp], -who[s.first:s.last].index(sp)))
            if run and run[0][0] != speaker:
                out.append(_utterance(run, h.utterance if rename is not None else None))
                run = []
            run.append((speaker, s, words))
        if run:
            out.append(_utterance(run, h.utterance if rename is not None else None))
    out.sort(key=lambda x: (x[0].start, x[0].speaker))
    labelled = []
    for k, (u, sentences, n_fillers, feeling) in enumerate(out):
        if rename is None and (k == 0 or out[k - 1][0].speaker == u.speaker):
            sentences = [(text, labels - {"reflection"}) for text, labels in sentences]
        labelled.append(LabelledUtterance(u, tuple(sentences), n_fillers, feeling))
    language = Language(tuple(labelled), turn_events(labelled, review.turn_taking, config=config.words),
                        tuple(review.speakers), keep_words)
    return dataclasses.replace(review, words=tuple(u for u, *_ in out), language=language)


def _utterance(run: list, whole: Utterance | None) -> tuple[Utterance, list, int, bool]:
    """Consecutive sentences of one speaker as an Utterance (the live utterance's own span when
    `whole` is it, else its words' span), with (text, labels) per sentence, fillers and "I feel"."""
    speaker = run[0][0]
    words = [Word(speaker, w.start, w.end, w.text) for _, s, ws in run for w in ws[s.first:s.last]]
    text = " ".join(s.text for _, s, _ in run if s.text)
    start, end = (whole.start, whole.end) if whole is not None else (words[0].start, words[-1].end)
    return (Utterance(speaker, start, end, text, tuple(words)), [(s.text, s.labels) for _, s, _ in run],
            sum(s.fillers for _, s, _ in run), any(s.feeling for _, s, _ in run))
