"""What was said during a live session, transcribed while it runs, so the review is ready seconds
after the end: the microphone thread hands blocks and closed speech stretches to a worker thread
(the recognizer runs there, on the core the camera does not need), and the end hands the words to
the final speakers. Nothing but the words' times and labels reaches the store (the text too only with --keep-words: the words log,
session/store/words_log.py, written as the words are heard, so a killed session is rebuilt with
them); the audio is dropped as soon as its stretches are heard."""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from collections.abc import Callable, Sequence

import numpy as np

from ..config import Config
from ..conversation.neural_live import LIVE_THREADS, background_thread
from ..perception.asr import Utterance
from ..perception.transcribe import LiveTranscriber, assign_speakers
from ..records import AudioBlock, Review, Segment, VadFrames
from .store.words_log import STREAM, WORDS_DTYPE, heard_from_records, heard_records
from .store.writer import SessionWriter
from .words import Heard, attach_words, hear, recognizer

log = logging.getLogger(__name__)

#: A speech stretch closes after this much silence, s (the recognizer then hears it whole).
CLOSE_AFTER_S = 0.6
#: The worker transcribes what has closed at most this often, s of audio.
POLL_S = 2.0


class SpeechRuns:
    """Closed stretches of speech from the detector's per-feed frames (gated or audible), per
    channel, as Segments of `names[channel]`; `open_start` is the earliest start still open."""

    def __init__(self, names: list[str], *, close_after_s: float = CLOSE_AFTER_S):
        self.names, self.close_after_s = names, close_after_s
        self._start: list[float | None] = [None] * len(names)
        self._last: list[float] = [0.0] * len(names)

    def feed(self, frames: VadFrames) -> list[Segment]:
        """The stretches these frames closed (silence for close_after_s after their last speech)."""
        out = []
        speech = frames.gated | frames.audible
        for ch in range(speech.shape[0]):
            for k, speaking in enumerate(speech[ch].tolist()):
                t = frames.t0 + k * frames.hop_s
                if speaking:
                    self._start[ch] = t if self._start[ch] is None else self._start[ch]
                    self._last[ch] = t + frames.hop_s
                elif self._start[ch] is not None and t - self._last[ch] >= self.close_after_s:
                    out.append(Segment(self._start[ch], self._last[ch], self.names[ch]))
                    self._start[ch] = None
        return out

    def close(self) -> list[Segment]:
        out = [Segment(s, self._last[ch], self.names[ch]) for ch, s in enumerate(self._start) if s is not None]
        self._start = [None] * len(self.names)
        return out

    @property
    def open_start(self) -> float | None:
        starts = [s for s in self._start if s is not None]
        return min(starts) if starts else None


class LiveWords:
    """The worker: `feed(block, frames)` on the microphone thread (only queues), `finish(segments)`
    at the end returns the utterances given to the final speakers. `channel_names`: one name per
    channel when each person has one, else None (one shared microphone). With a `writer`, each
    utterance is labelled as it is heard (session/words.py's `hear`) and appended to the session's
    words log (the text only when `keep_words`); `heard()` gives those records back as the rebuild
    reads them."""

    def stop(self) -> None:
        """End the worker without transcribing the rest (the session failed)."""
        self._queue.put(None)
        self._thread.join(timeout=5.0)

    def __init__(self, *, config: Config, channel_names: list[str] | None, writer: SessionWriter | None = None,
                 keep_words: bool = False):
        self.config = config
        self.per_channel = channel_names is not None
        self.names = list(channel_names or [""])
        self.writer, self.keep_words = writer, keep_words
        self._records: list[np.ndarray] = []
        if writer is not None:
            writer.append(STREAM, np.empty(0, WORDS_DTYPE))  # the stream exists from the start
        self.runs = SpeechRuns(channel_names or [""])
        channel_of = {n: i for i, n in enumerate(channel_names)} if channel_names else None
        # One onnxruntime thread, as the live diarizer's: both run on the core the camera does not
        # need, at the workers' lower priority; the recognizer's second thread (a pool thread made
        # where the model loads, at normal priority, spinning between runs) cost the camera's core
        # about 0.06 of a core for nothing the session waits on (benchmarks/bench_live.py --shared-mic).
        live = dataclasses.replace(config.words, threads=LIVE_THREADS)
        self.ears = LiveTranscriber(recognizer(live), config=config.words, channel_of=channel_of)
        self.utterances: list[Utterance] = []
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="attune-words", daemon=True)
        self._thread.start()

    def feed(self, block: AudioBlock, frames: VadFrames) -> None:
        """One contiguous block and the VAD frames it completed (microphone thread: queues only)."""
        self._queue.put(("audio", block, self.runs.feed(frames), self.runs.open_start))

    def _run(self) -> None:
        background_thread()  # the words may come a few seconds late; the camera's frames may not
        heard_since = 0.0
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                if item[0] == "close":
                    self.ears.add_speech(item[1])
                    continue
                _, block, closed, open_start = item
                self.ears.feed(block)
                self.ears.add_speech(closed)
                heard_since += block.duration
                if heard_since >= POLL_S:
                    keep = open_start if open_start is not None else self.ears.audio_end - 0.5
                    self._add(self.ears.poll(keep_from=keep))
                    heard_since = 0.0
        except BaseException as e:  # noqa: BLE001 - the session goes on without words; said in the review
            self.error = e
            log.warning("live transcription stopped: %s", e)

    def finish(self, segments: list[Segment]) -> tuple[Utterance, ...]:
        """The rest transcribed and every utterance given to the speakers of the final `segments`."""
        self._queue.put(("close", self.runs.close()))
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error
        self._add(self.ears.finish())
        utts = sorted(self.utterances, key=lambda u: (u.start, u.speaker))
        return tuple(utts) if self.per_channel else assign_speakers(utts, segments)

    def _add(self, new: tuple[Utterance, ...]) -> None:
        """New utterances kept, and labelled and logged when there is a writer."""
        for u in sorted(new, key=lambda u: (u.start, u.speaker)):
            if self.writer is not None:
                heard = hear(u, self.utterances, one_track=not self.per_channel, config=self.config.words)
                rec = heard_records(len(self._records), heard, channel=self.names.index(u.speaker)
                                    if u.speaker in self.names else 0, keep_words=self.keep_words)
                self.writer.append(STREAM, rec)
                self._records.append(rec)
            self.utterances.append(u)

    def heard(self) -> tuple[Heard, ...]:
        """What was heard and logged, read back from the very records written (so the review at the
        end and a rebuild from the log carry the same words and cues)."""
        rec = np.concatenate(self._records) if self._records else np.empty(0, WORDS_DTYPE)
        return heard_from_records(rec, names=self.names)


def words_into(review: Review, ears: LiveWords, *, config: Config, keep_words: bool | None,
               shape: Callable[[tuple[Utterance, ...]], Sequence[Utterance]] | None = None) -> Review:
    """`review` with the words heard during it (`shape` adjusts them: renamed speakers, a partner's
    script) and their language cues; a failed transcription is a note, the rest of the review stands."""
    try:
        utts = ears.finish(list(review.segments))
    except Exception as e:  # noqa: BLE001 - the session's other results stand
        return dataclasses.replace(review, problems=review.problems + (f"what was said could not be transcribed: {e}",))
    keep = config.words.keep_words if keep_words is None else bool(keep_words)
    return attach_words(review, shape(utts) if shape is not None else utts, config=config, keep_words=keep)
