"""What was said: Moonshine tiny-en speech recognition in plain onnxruntime, on speech only.

The recognizer (`Recognizer`) turns pieces of 16 kHz float32 speech into text: the encoder once
per piece, then the merged decoder greedily, token by token, with its key/value cache
(`use_cache_branch`), pieces of similar length decoded together in one batch. A piece's tokens are
bounded by `tokens_per_s` times its length (Moonshine's own rule is about 6.5 tokens per second),
which stops the runaway repetition the model produces on noise.

`transcribe` decides what the recognizer hears: each speaker's segments (diarized, per channel or
from an annotation) cut at pauses into pieces of at most `max_piece_s`, never a whole silent
stretch, since Moonshine hallucinates on near-silence (">> >> >>"). Word times are not produced
by the model: each piece's words are spread over the piece's speech (its segments, without the
pauses between them) in proportion to their character length, so a word's time is an estimate
good to a fraction of a second, enough for "where in the conversation" but not for word alignment.

The model files come from the pinned `moonshine-voice` wheel through `attunement.models`
(sha256-checked, offline). Licence: Moonshine models MIT (Useful Sensors), see NOTICE.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import WordsConfig
from ..errors import InputError
from ..records import Segment

log = logging.getLogger(__name__)

RATE = 16000
BOS, EOS = 1, 2
SPACE = "\u2581"  # SentencePiece's word-start mark
#: The merged decoder builds its encoder attention mask for at most this many encoder frames
#: (about 9.2 s of audio at 41.6 frames/s); longer pieces are decoded alone with a broadcast
#: all-ones mask of shape (1, 1), which the graph accepts at any length.
MASK_MAX_FRAMES = 384


@dataclass(frozen=True)
class Word:
    """One recognised (or transcribed) word: `start`/`end` seconds on the session clock."""

    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Utterance:
    """What one speaker said in one stretch: the text as written and its words, times in seconds."""

    speaker: str
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    @property
    def duration(self) -> float:
        return self.end - self.start


class Tokenizer:
    """Moonshine's `tokenizer.bin`: token id -> bytes; "▁" marks a space.

    The file is the list of token byte strings in id order, each prefixed by its length: one byte
    below 128, else two bytes, length = (first - 128) + 128 * second. Ids 0-2 are <unk>, <s>, </s>;
    ids 3-258 are the 256 raw bytes; names like <<ST_12>> are unused special tokens.
    """

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.pieces = tuple(pieces)
        self._skip = np.array([i < 3 or (p.startswith(b"<<") and p.endswith(b">>"))
                               for i, p in enumerate(self.pieces)], dtype=bool)

    @classmethod
    def from_bytes(cls, data: bytes) -> Tokenizer:
        pieces, i, n = [], 0, len(data)
        while i < n:
            size = data[i]
            i += 1
            if size >= 128:
                if i >= n:
                    raise InputError(f"tokenizer: truncated length at byte {i - 1}")
                size = size - 128 + 128 * data[i]
                i += 1
            if i + size > n:
                raise InputError(f"tokenizer: token {len(pieces)} of {size} bytes runs past the end ({n} bytes)")
            pieces.append(data[i:i + size])
            i += size
        return cls(pieces)

    @classmethod
    def from_file(cls, path: str | Path) -> Tokenizer:
        return cls.from_bytes(Path(path).read_bytes())

    def __len__(self) -> int:
        return len(self.pieces)

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token `ids` (special tokens dropped, bytes joined, then UTF-8), stripped."""
        raw = b"".join(self.pieces[t] for t in ids if 0 <= t < len(self.pieces) and not self._skip[t])
        return raw.decode("utf-8", errors="replace").replace(SPACE, " ").strip()


class Recognizer:
    """Moonshine tiny-en: `recognize(pieces)` -> text per piece. Build with `Recognizer.load()`."""

    def __init__(self, encoder, decoder, tokenizer: Tokenizer, *, tokens_per_s: float = 6.5,
                 min_tokens: int = 6, max_batch: int = 8, min_mean_logprob: float = -1.0) -> None:
        self.encoder, self.decoder, self.tokenizer = encoder, decoder, tokenizer
        self.min_mean_logprob = min_mean_logprob
        self.tokens_per_s, self.min_tokens, self.max_batch = tokens_per_s, min_tokens, max_batch
        self._past = [i.name for i in decoder.get_inputs() if i.name.startswith("past_key_values.")]
        self._outs = [o.name for o in decoder.get_outputs()]
        self._heads = next(i.shape[1] for i in decoder.get_inputs() if i.name.startswith("past_key_values."))
        self._dim = next(i.shape[3] for i in decoder.get_inputs() if i.name.startswith("past_key_values."))

    @classmethod
    def load(cls, *, threads: int | None = None, config: WordsConfig | None = None) -> Recognizer:
        """The recognizer from the pinned wheel's files (sha256-checked), `threads` intra-op threads
        per session (default: `config.threads`, else 2), bounds and batch size from `config`.

        Raises attunement.models.ModelError (an InputError) when the wheel is missing or altered.
        """
        from ..models import model_path, onnx_session

        threads = threads or (config.threads if config is not None else 2)
        kw = {} if config is None else {"tokens_per_s": config.tokens_per_s, "max_batch": config.max_batch}
        return cls(onnx_session("asr-encoder", threads=threads), onnx_session("asr-decoder", threads=threads),
                   Tokenizer.from_file(model_path("asr-tokenizer")), **kw)

    def max_tokens(self, n_samples: int) -> int:
        """The token bound of a piece of `n_samples` at 16 kHz (`tokens_per_s` per second, at least `min_tokens`)."""
        return max(self.min_tokens, math.ceil(self.tokens_per_s * n_samples / RATE))

    def recognize(self, pieces: Sequence[np.ndarray]) -> list[str]:
        """Text of each piece: float32 [shape=(n,)] at 16 kHz, n >= 900 (56 ms); "" where nothing was heard.

        Pieces are encoded one at a time (exact, no padding) and decoded in batches of similar length
        (the same tokens as one at a time, about 3x less CPU). A piece whose tokens have a mean
        log-probability under `min_mean_logprob` gives "": on noise the model says "You" or "So" at
        -0.7 to -2.0, on clear speech its mean lies above -0.5 (measured on the read sentences of
        ../shared/data/speech and white noise at -60 to -20 dBFS). A phrase repeated three or more
        times in a row (the model's loop; one word five times) is kept once.
        """
        texts = [""] * len(pieces)
        group = 8 * self.max_batch  # encoder states of this many pieces at a time (memory stays bounded)
        for g0 in range(0, len(pieces), group):
            hidden = [self._encode(np.ascontiguousarray(p, dtype=np.float32)) for p in pieces[g0:g0 + group]]
            for batch in self._batches([h.shape[0] for h in hidden]):
                ids, scores = self._decode([hidden[k] for k in batch],
                                           [self.max_tokens(len(pieces[g0 + k])) for k in batch])
                for k, toks, sc in zip(batch, ids, scores, strict=True):
                    if toks and float(np.mean(sc)) >= self.min_mean_logprob:
                        texts[g0 + k] = _unloop(self.tokenizer.decode(toks))
        return texts

    def _encode(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 1 or x.size < 900:
            raise InputError(f"recognizer: a piece must be mono with >= 900 samples, got shape {x.shape}")
        out = self.encoder.run(None, {"input_values": x[None], "attention_mask": np.ones((1, x.size), np.int64)})
        return out[0][0]

    def _batches(self, frames: list[int]) -> list[list[int]]:
        """Indices grouped for decoding: sorted by length, within 25% of each other, at most
        `max_batch`, padded length <= MASK_MAX_FRAMES (longer pieces alone)."""
        order = sorted(range(len(frames)), key=lambda k: frames[k])
        batches: list[list[int]] = []
        for k in order:
            last = batches[-1] if batches else None
            if (last is not None and len(last) < self.max_batch and frames[k] <= MASK_MAX_FRAMES
                    and frames[k] <= 1.25 * frames[last[0]]):
                last.append(k)
            else:
                batches.append([k])
        return batches

    def _decode(self, hidden: list[np.ndarray], limits: list[int]) -> tuple[list[list[int]], list[list[float]]]:
        """Greedy decoding of a batch of encoder states [frames_i, 288] with the key/value cache."""
        b, t = len(hidden), max(h.shape[0] for h in hidden)
        states = np.zeros((b, t, hidden[0].shape[1]), np.float32)
        mask = np.zeros((b, t), np.int64)
        for i, h in enumerate(hidden):
            states[i, :h.shape[0]], mask[i, :h.shape[0]] = h, 1
        if t > MASK_MAX_FRAMES:  # only ever alone (see _batches): all frames valid
            mask = np.ones((1, 1), np.int64)
        feed = {"encoder_hidden_states": states, "encoder_attention_mask": mask,
                "input_ids": np.full((b, 1), BOS, np.int64), "use_cache_branch": np.array([False])}
        feed.update({name: np.zeros((b, self._heads, 0, self._dim), np.float32) for name in self._past})
        tokens: list[list[int]] = [[] for _ in range(b)]
        scores: list[list[float]] = [[] for _ in range(b)]
        done = np.zeros(b, bool)
        for step in range(max(limits)):
            out = self.decoder.run(self._outs, feed)
            logits = out[0][:, -1, :]
            nxt = logits.argmax(axis=-1)
            top = logits[np.arange(b), nxt]
            logp = top - (np.log(np.exp(logits - top[:, None]).sum(axis=-1)) + top)
            for i in range(b):
                if not done[i]:
                    if nxt[i] == EOS or step >= limits[i]:
                        done[i] = True
                    else:
                        tokens[i].append(int(nxt[i]))
                        scores[i].append(float(logp[i]))
            if done.all():
                break
            for name, value in zip(self._outs[1:], out[1:]):
                if step == 0 or ".decoder." in name:  # the encoder's keys/values are computed once
                    feed["past_key_values" + name[len("present"):]] = value
            feed["input_ids"] = np.where(done, EOS, nxt).astype(np.int64)[:, None]
            feed["use_cache_branch"] = np.array([True])
        for i in range(b):
            if not done[i] or len(tokens[i]) >= limits[i]:
                log.debug("piece %d stopped at its bound of %d tokens", i, limits[i])
        return tokens, scores


def _unloop(text: str) -> str:
    """`text` with any run of three or more repeats of a 2-6 word phrase (five of one word) cut to one."""
    words = text.split()
    n = 1
    while n <= 6:
        i, out, changed = 0, [], False
        while i < len(words):
            reps = 1
            while words[i:i + n] == words[i + reps * n:i + (reps + 1) * n] and len(words[i:i + n]) == n:
                reps += 1
            if reps >= (5 if n == 1 else 3):
                out.extend(words[i:i + n])
                i += reps * n
                changed = True
            else:
                out.append(words[i])
                i += 1
        words = out
        n = n if changed else n + 1
    return " ".join(words)


@dataclass(frozen=True)
class Piece:
    """One stretch of one speaker's audio sent to the recognizer: [start, end) seconds on the
    session clock, and the speech segments inside it (the words are spread over these)."""

    speaker: str
    start: float
    end: float
    speech: tuple[tuple[float, float], ...]


def cut_pieces(segments: Sequence[Segment], *, config: WordsConfig, audio: np.ndarray | None = None,
               t0: float = 0.0) -> list[Piece]:
    """Each speaker's segments, joined over pauses shorter than `join_gap_s` in which no one else
    speaks (a partner's words in the pause would be heard as this speaker's), cut into pieces of at
    most `max_piece_s` (a longer segment is cut at its quietest 100 ms within the last half of the
    allowed length when `audio` [shape=(n,)] at 16 kHz from `t0` is given, else evenly).
    Segments shorter than `min_piece_s` on their own are dropped. Pieces in start order."""
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
    keep = [p for p in pieces if sum(b - a for a, b in p.speech) >= config.min_piece_s]
    return sorted(keep, key=lambda p: (p.start, p.speaker))


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
    return Piece(speaker, run[0][0], run[-1][1], tuple(run))


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
        i0 = max(0, round((p.start - config.pad_s - t0) * RATE))
        i1 = min(ch.size, round((p.end + config.pad_s - t0) * RATE))
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
