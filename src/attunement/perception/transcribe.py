"""Speech recognition's pieces and transcripts: each speaker's segments cut at pauses into pieces
(never whole silent stretches), recognised (perception/asr.py's Recognizer) and spread back onto
the session clock as Utterances; words handed to the final speakers; live transcription as a
session runs."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..config import WordsConfig
from ..errors import InputError
from ..records import Segment
from .asr import RATE, Recognizer, Utterance, Word

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Piece:
    """One stretch of one speaker's audio sent to the recognizer: [start, end) seconds on the
    session clock, the speech segments inside it (the words are spread over these), and `heard`,
    the span actually sent: [start, end) widened by up to `pad_s` on each side where no one else speaks."""

    speaker: str
    start: float
    end: float
    speech: tuple[tuple[float, float], ...]
    heard: tuple[float, float] = (0.0, 0.0)


def cut_pieces(segments: Sequence[Segment], *, config: WordsConfig, audio: np.ndarray | None = None,
               t0: float = 0.0) -> list[Piece]:
    """Each speaker's segments, joined over pauses shorter than `join_gap_s` in which no one else
    speaks (a partner's words in the pause would be heard as this speaker's), cut into pieces of at
    most `max_piece_s` (a longer segment is cut at its quietest 100 ms within the last half of the
    allowed length when `audio` [shape=(n,)] at 16 kHz from `t0` is given, else evenly).
    Segments shorter than `min_piece_s` on their own are dropped. Each piece is heard with up to
    `pad_s` more on each side, never into another speaker's segment (see `Piece.heard`). Pieces in
    start order."""
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for s in segments:
        if not (math.isfinite(s.start) and math.isfinite(s.end)) or s.end < s.start:
            raise InputError(f"transcribe: bad segment {s}")
        if s.end > s.start:
            by_speaker.setdefault(s.speaker, []).append((s.start, s.end))
    pieces: list[Piece] = []
    for speaker, spans in by_speaker.items():
        spans = _split_long(sorted(spans), config.max_piece_s, audio, t0)
        others = _Spans([span for sp, ss in by_speaker.items() if sp != speaker for span in ss])
        run: list[tuple[float, float]] = []
        for a, b in spans:
            if run and (a - run[-1][1] > config.join_gap_s or b - run[0][0] > config.max_piece_s
                        or others.overlap(run[-1][1], a)):
                pieces.append(_piece(speaker, run))
                run = []
            if run and a < run[-1][1]:  # overlapping segments of one speaker: merge
                run[-1] = (run[-1][0], max(run[-1][1], b))
            else:
                run.append((a, b))
        if run:
            pieces.append(_piece(speaker, run))
    everyone = _Spans([span for p in pieces for span in p.speech])
    keep = [_padded(p, everyone, config.pad_s) for p in pieces if sum(b - a for a, b in p.speech) >= config.min_piece_s]
    return sorted(keep, key=lambda p: (p.start, p.speaker))


def _padded(p: Piece, others: _Spans, pad: float) -> Piece:
    """`p` heard from up to `pad` s before its start to `pad` s after its end, stopping where other
    speech (`others`: every piece's speech, `p`'s own inside it) ends before it or starts after it,
    and not at all on an edge someone else speaks across: segments cut at voice-activity frames
    clip soft onsets, and the recognizer, trained on whole utterances with silence around them,
    mishears a word that starts in the first frame (docs/words.md)."""
    lo, hi = p.start - pad, p.end + pad
    k = bisect.bisect_left(others.starts, p.start)
    if k and others.max_end[k - 1] > lo:
        lo = min(others.max_end[k - 1], p.start)
    k = bisect.bisect_left(others.starts, p.end)
    if k and others.max_end[k - 1] > p.end:
        hi = p.end
    elif k < len(others.starts):
        hi = min(hi, others.starts[k])
    return dataclasses.replace(p, heard=(lo, hi))


class _Spans:
    """Intervals asked "does any overlap (a, b)?" in O(log n): starts sorted, running maximum of ends."""

    def __init__(self, spans: list[tuple[float, float]]) -> None:
        spans = sorted(spans)
        self.starts = [x for x, _ in spans]
        self.max_end = list(itertools.accumulate((y for _, y in spans), max))

    def overlap(self, a: float, b: float) -> bool:
        k = bisect.bisect_left(self.starts, b)
        return k > 0 and self.max_end[k - 1] > a


def _piece(speaker: str, run: list[tuple[float, float]]) -> Piece:
    return Piece(speaker, run[0][0], run[-1][1], tuple(run), (run[0][0], run[-1][1]))


def _split_long(spans: list[tuple[float, float]], max_s: float, audio: np.ndarray | None,
                t0: float) -> list[tuple[float, float]]:
    out = []
    for a, b in spans:
        while b - a > max_s:
            cut = _quietest(a + max_s / 2, a + max_s, audio, t0) if audio is not None else a + (b - a) / math.ceil((b - a) / max_s)
            out.append((a, cut))
            a = cut
        out.append((a, b))
    return out


def _quietest(lo: float, hi: float, audio: np.ndarray, t0: float) -> float:
    """Centre of the quietest 100 ms window in [lo, hi] (seconds), by mean square."""
    i0, i1 = max(0, int((lo - t0) * RATE)), min(audio.shape[-1], int((hi - t0) * RATE))
    win = RATE // 10
    if i1 - i0 < 2 * win:
        return hi
    x = audio[i0:i1].astype(np.float64) ** 2
    c = np.concatenate([[0.0], np.cumsum(x)])
    energy = c[win:] - c[:-win]
    k = int(np.argmin(energy[::160])) * 160  # 10 ms steps
    return t0 + (i0 + k + win // 2) / RATE


def transcribe(segments: Sequence[Segment], audio: np.ndarray, *, recognizer: Recognizer, config: WordsConfig,
               t0: float = 0.0, channel_of: Mapping[str, int] | None = None) -> tuple[Utterance, ...]:
    """What each speaker said, heard only where they speak.

    segments: who spoke when (session clock, seconds); audio: float32 [shape=(channels, n) or (n,)]
    at 16 kHz whose first sample is at `t0`; channel_of: speaker -> channel for per-channel
    recordings (default: the channels' mean). Returns one Utterance per piece with words, in start
    order; pieces quieter than `min_level_db` (loudest 30 ms, dBFS) or where nothing was recognised
    give none. Word times are spread over the piece's speech by character length (estimates).
    """
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or not np.isfinite(x).all():
        raise InputError(f"transcribe: audio must be finite float32 (channels, n), got shape {x.shape}")
    mono = x.mean(axis=0) if x.shape[0] > 1 else x[0]
    pieces = cut_pieces(segments, config=config, audio=mono, t0=t0)
    clips, heard = [], []
    for p in pieces:
        ch = x[channel_of[p.speaker]] if channel_of and p.speaker in channel_of else mono
        i0 = max(0, round((p.heard[0] - t0) * RATE))
        i1 = min(ch.size, round((p.heard[1] - t0) * RATE))
        clip = ch[i0:i1]
        if clip.size >= 900 and _loudest_db(clip) >= config.min_level_db:
            clips.append(clip)
            heard.append(p)
    texts = recognizer.recognize(clips)
    out = [utterance_of(p.speaker, p.speech, text) for p, text in zip(heard, texts)]
    log.debug("transcribe: %d segments -> %d pieces, %d heard, %d with words",
              len(segments), len(pieces), len(heard), sum(1 for u in out if u.words))
    return tuple(u for u in out if u.words)


def _loudest_db(x: np.ndarray) -> float:
    n = x.size // 480 * 480
    frames = x[:n].reshape(-1, 480) if n else x[None]
    ms = float((frames.astype(np.float64) ** 2).mean(axis=1).max())
    return 10 * math.log10(ms + 1e-20)


def utterance_of(speaker: str, speech: Sequence[tuple[float, float]], text: str) -> Utterance:
    """An Utterance of `text` with its words spread over the `speech` spans (seconds): each word
    goes to the span holding the middle of its share of the characters, and each span's words
    share that span by character length (+1 per word for the gap), so no word bridges a pause.
    Tokens with no letter or digit ("&", the model's ">>" on noise) are not words; text with no
    word gives an Utterance without words."""
    tokens = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    start, end = speech[0][0], speech[-1][1]
    if not tokens:
        return Utterance(speaker, start, end, "", ())
    weights = np.array([len(w) + 1 for w in tokens], np.float64)
    total = sum(b - a for a, b in speech)
    mids = (np.cumsum(weights) - weights / 2) / weights.sum() * total
    span_of = [_span_at(speech, m) for m in mids]
    words = []
    for k, (a, b) in enumerate(speech):
        idx = [i for i, s in enumerate(span_of) if s == k]
        if not idx:
            continue
        w = weights[idx]
        edges = a + (b - a) * np.concatenate([[0.0], np.cumsum(w)]) / w.sum()
        words += [Word(speaker, float(edges[j]), float(edges[j + 1]), tokens[i]) for j, i in enumerate(idx)]
    return Utterance(speaker, start, end, " ".join(text.split()), tuple(words))


def _span_at(speech: Sequence[tuple[float, float]], offset: float) -> int:
    """Index of the span holding `offset` seconds of speech into `speech` (pauses skipped)."""
    for k, (a, b) in enumerate(speech):
        if offset <= b - a:
            return k
        offset -= b - a
    return len(speech) - 1


def assign_speakers(utterances: Sequence[Utterance], segments: Sequence[Segment]) -> tuple[Utterance, ...]:
    """Words transcribed without knowing who spoke (live, one microphone: heard on the voice-activity
    stretches during the session) given to the speakers of the final `segments`: each word to the
    speaker whose segments overlap its time most (the nearest segment when none does), consecutive
    words of one speaker within one utterance kept together. Utterances with no segments at all keep
    their speaker."""
    if not segments:
        return tuple(utterances)
    spans = sorted((s.start, s.end, s.speaker) for s in segments if s.end > s.start)
    out: list[Utterance] = []
    for u in utterances:
        run: list[Word] = []
        for w in u.words:
            who = _speaker_at(spans, w.start, w.end)
            if run and run[-1].speaker != who:
                out.append(_from_words(run))
                run = []
            run.append(Word(who, w.start, w.end, w.text))
        if run:
            out.append(_from_words(run))
    return tuple(sorted(out, key=lambda u: (u.start, u.speaker)))


def speakers_of(spans: Sequence[tuple[float, float]], segments: Sequence[Segment]) -> list[str]:
    """The speaker of each (start, end) span in seconds, as `assign_speakers` gives words: the one
    whose `segments` overlap it most, the nearest segment's when none does ("" without segments)."""
    found = sorted((s.start, s.end, s.speaker) for s in segments if s.end > s.start)
    return [_speaker_at(found, a, b) if found else "" for a, b in spans]


def _speaker_at(spans: list[tuple[float, float, str]], a: float, b: float) -> str:
    overlap: dict[str, float] = {}
    for x, y, sp in spans:
        if x >= b:
            break
        if y > a:
            overlap[sp] = overlap.get(sp, 0.0) + min(b, y) - max(a, x)
    if overlap:
        return max(overlap, key=lambda sp: (overlap[sp], sp))
    mid = (a + b) / 2
    return min(spans, key=lambda s: min(abs(mid - s[0]), abs(mid - s[1])))[2]


def _from_words(words: list[Word]) -> Utterance:
    return Utterance(words[0].speaker, words[0].start, words[-1].end, " ".join(w.text for w in words), tuple(words))


class LiveTranscriber:
    """Transcription during a live session, so the words are ready seconds after it ends.

    Feed it the microphone's blocks (`feed`) and the speech stretches as they close (`add_speech`:
    final Segments, e.g. the voice-activity runs with speaker "" on one shared microphone, or one
    speaker per channel); `poll()` transcribes every stretch that can no longer grow (its end more
    than `join_gap_s` before the latest audio) and returns the new utterances; `finish()` does the
    rest. Audio is kept from the earliest pending stretch or the caller's `poll(keep_from=…)`, the
    earliest time a stretch still to come may start (without it, the last `history_s` seconds), so
    memory stays bounded. On one shared
    microphone, give the final diarization to `assign_speakers` at the end. Not thread-safe: call
    from one worker thread (the live runner's audio thread only hands it blocks and segments
    through a queue).
    """

    def __init__(self, recognizer: Recognizer, *, config: WordsConfig, channel_of: Mapping[str, int] | None = None,
                 history_s: float = 300.0) -> None:
        self.recognizer, self.config, self.channel_of, self.history_s = recognizer, config, channel_of, history_s
        self._audio: list[np.ndarray] = []
        self._t0: float | None = None   # session time of the first kept sample
        self._n = 0                     # kept samples
        self._pending: list[Segment] = []

    @property
    def audio_end(self) -> float:
        return (self._t0 or 0.0) + self._n / RATE

    def feed(self, block) -> None:
        """One AudioBlock (16 kHz, any channels), contiguous with the previous one."""
        if block.rate != RATE:
            raise InputError(f"live transcription needs 16 kHz audio, got {block.rate} Hz")
        if self._t0 is None:
            self._t0 = block.t0
        self._audio.append(np.asarray(block.samples, np.float32))
        self._n += block.samples.shape[-1]

    def add_speech(self, segments: Sequence[Segment]) -> None:
        self._pending.extend(segments)

    def poll(self, *, keep_from: float | None = None) -> tuple[Utterance, ...]:
        """Utterances of the stretches that can no longer grow; () when none is ready. `keep_from`:
        the earliest session time a stretch not yet added may start (the start of the speech going
        on, or now minus the voice-activity delay when no one speaks); None: keep `history_s`."""
        self._keep_from = keep_from
        limit = self.audio_end - self.config.join_gap_s - self.config.pad_s
        ready = [s for s in self._pending if s.end <= limit]
        if not ready or self._t0 is None:
            return ()
        last = max(s.end for s in ready)
        ready = [s for s in self._pending if s.start <= last]  # keep joinable stretches together
        self._pending = [s for s in self._pending if s.start > last]
        return self._run(ready)

    def finish(self) -> tuple[Utterance, ...]:
        ready, self._pending = self._pending, []
        return self._run(ready) if ready and self._t0 is not None else ()

    def _run(self, segments: list[Segment]) -> tuple[Utterance, ...]:
        audio = np.concatenate(self._audio, axis=-1) if len(self._audio) > 1 else self._audio[0]
        out = transcribe(segments, audio, recognizer=self.recognizer, config=self.config, t0=self._t0,
                         channel_of=self.channel_of)
        given = getattr(self, "_keep_from", None)
        horizon = self.audio_end - self.history_s if given is None else given
        keep_from = min([s.start for s in self._pending] + [horizon]) - self.config.pad_s - 1.0
        drop = max(0, int((keep_from - self._t0) * RATE))
        if drop:
            audio = audio[..., drop:]
            self._t0 += drop / RATE
            self._n -= drop
        self._audio = [audio]
        return out
