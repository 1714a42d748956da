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

import logging
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import WordsConfig
from ..errors import InputError
from .beam import EOS, BeamSearch, logsumexp
from .boost import PhraseBoost

log = logging.getLogger(__name__)

RATE = 16000
BOS = 1
SPACE = "\u2581"  # SentencePiece's word-start mark
#: Audio samples per encoder frame (the encoder's strides 64 x 3 x 2). The merged decoder takes its
#: encoder attention mask at this raw-audio length and downsamples it itself (the transformers
#: 4.49 contract of the export; a mask at frame length is read as a few frames and broadcast, and
#: fails above 384 frames: k2-fsa/sherpa-onnx#3975).
SAMPLES_PER_FRAME = 384
#: Hypotheses kept per piece in the beam search. 4 is what Whisper-style decoders commonly use
#: (Whisper's own default is 5); measured here (docs/words.md): on 180 sentences of the labelled
#: set spoken by espeak-ng, WER 13.9 % greedy, 11.0 % with 2, 9.9 % with 4, for about 2.4x the
#: decoder's CPU when pieces are batched. 1 decodes greedily.
BEAM = 4


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
                 min_tokens: int = 6, max_batch: int = 8, min_mean_logprob: float = -1.0, beam: int = BEAM,
                 workers: int = 1, boost: PhraseBoost | None = None) -> None:
        if not 1 <= beam <= 16:
            raise InputError(f"recognizer: beam width must lie in [1, 16], got {beam}")
        self.encoder, self.decoder, self.tokenizer, self.beam = encoder, decoder, tokenizer, beam
        self.boost = boost  # phrases the beam search favours (boost.py); None: none
        self.min_mean_logprob = min_mean_logprob
        self.tokens_per_s, self.min_tokens, self.max_batch = tokens_per_s, min_tokens, max_batch
        self.workers = max(1, int(workers))
        self.past_names = [i.name for i in decoder.get_inputs() if i.name.startswith("past_key_values.")]
        self.output_names = [o.name for o in decoder.get_outputs()]
        self._heads = next(i.shape[1] for i in decoder.get_inputs() if i.name.startswith("past_key_values."))
        self._dim = next(i.shape[3] for i in decoder.get_inputs() if i.name.startswith("past_key_values."))

    @classmethod
    def load(cls, *, threads: int | None = None, config: WordsConfig | None = None,
             phrases: Sequence[str] = ()) -> Recognizer:
        """The recognizer from the pinned wheel's files (sha256-checked), using `threads` threads
        (default: `config.threads`, else 2): that many pieces encoded and batches decoded at once,
        each model run on one onnxruntime thread (the decoder's small steps gain little from a
        second intra-op thread; two batches at once use both cores); bounds and batch size from `config`.
        With `phrases` (normalised lexicon text) and `config.boost` > 0, the beam search favours
        them by that many log-probability units per token (boost.py).

        Raises attunement.models.ModelError (an InputError) when the wheel is missing or altered.
        """
        from ..models import model_path, onnx_session

        threads = threads or (config.threads if config is not None else 2)
        kw: dict = {} if config is None else {"tokens_per_s": config.tokens_per_s, "max_batch": config.max_batch}
        tok = Tokenizer.from_file(model_path("asr-tokenizer"))
        if config is not None and config.boost > 0 and phrases:
            kw["boost"] = PhraseBoost(phrases, tok.pieces, config.boost)
        return cls(onnx_session("asr-encoder", threads=1), onnx_session("asr-decoder", threads=1), tok,
                   workers=threads, **kw)

    def max_tokens(self, n_samples: int) -> int:
        """The token bound of a piece of `n_samples` at 16 kHz (`tokens_per_s` per second, at least `min_tokens`)."""
        return max(self.min_tokens, math.ceil(self.tokens_per_s * n_samples / RATE))

    def recognize(self, pieces: Sequence[np.ndarray]) -> list[str]:
        """Text of each piece: float32 [shape=(n,)] at 16 kHz, n >= 900 (56 ms); "" where nothing was heard.

        Pieces are encoded one at a time (exact, no padding) and decoded in batches of similar length
        (the same tokens as one at a time, about 3x less CPU). Whether a piece holds speech is decided
        greedily: a piece whose greedy tokens have a mean log-probability under `min_mean_logprob`
        gives "" (on noise the model says "You" or "So" at -0.7 to -2.0, on clear speech its mean lies
        above -0.5: the read sentences of ../shared/data/speech and white noise at -60 to -20 dBFS).
        The words of the pieces that pass come from the beam search (`beam` > 1; beam.py, favouring
        the phrases of `boost` if set: boost.py), whose own scores
        separate noise from speech worse (its hallucinations are fluent: docs/words.md); it may
        write a quarter (at least 4) more tokens than the greedy decoder did, no more: it is there
        to choose other words, and on what is not speech it would otherwise loop to the token bound. A phrase
        repeated three or more times in a row (the model's loop; one word five times) is kept once.
        """
        texts = [""] * len(pieces)
        group = 8 * self.max_batch  # encoder states of this many pieces at a time (memory stays bounded)
        if self.workers > 1 and len(pieces) > 1:  # the threads live for this call only, joined at its end
            with ThreadPoolExecutor(self.workers, thread_name_prefix="attune-asr") as pool:
                self._recognize(pieces, texts, group, pool)
        else:
            self._recognize(pieces, texts, group, None)
        return texts

    def _recognize(self, pieces: Sequence[np.ndarray], texts: list[str], group: int,
                   pool: ThreadPoolExecutor | None) -> None:
        for g0 in range(0, len(pieces), group):
            chunk = pieces[g0:g0 + group]
            hidden = _map(pool, lambda p: self._encode(np.ascontiguousarray(p, dtype=np.float32)), chunk)
            batches = self._batches([h.shape[0] for h in hidden])
            done = _map(pool, lambda batch: self._batch_texts([hidden[k] for k in batch], [len(chunk[k]) for k in batch]),
                        batches)
            for batch, said in zip(batches, done, strict=True):
                for k, text in zip(batch, said, strict=True):
                    texts[g0 + k] = text

    def _batch_texts(self, states: list[np.ndarray], sizes: list[int]) -> list[str]:
        """Text of each piece of one decoding batch (encoder states, lengths in samples): greedy,
        then the beam search for the pieces that hold speech (see recognize)."""
        limits = [self.max_tokens(n) for n in sizes]
        ids, scores = self._decode(states, limits, sizes, beam=1)
        heard = [j for j, (toks, sc) in enumerate(zip(ids, scores)) if toks and float(np.mean(sc)) >= self.min_mean_logprob]
        if self.beam > 1 and heard:
            bounds = [min(limits[j], len(ids[j]) + max(4, len(ids[j]) // 4)) for j in heard]
            better, _ = self._decode([states[j] for j in heard], bounds, [sizes[j] for j in heard], beam=self.beam)
            for j, toks in zip(heard, better, strict=True):
                ids[j] = toks
        said = [""] * len(states)
        for j in heard:
            said[j] = _unloop(self.tokenizer.decode(ids[j]))
        return said

    def _encode(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 1 or x.size < 900:
            raise InputError(f"recognizer: a piece must be mono with >= 900 samples, got shape {x.shape}")
        out = self.encoder.run(None, {"input_values": x[None], "attention_mask": np.ones((1, x.size), np.int64)})
        return out[0][0]

    def _batches(self, frames: list[int]) -> list[list[int]]:
        """Indices grouped for decoding: sorted by length, within 25% of each other, at most
        `max_batch`."""
        order = sorted(range(len(frames)), key=lambda k: frames[k])
        batches: list[list[int]] = []
        for k in order:
            last = batches[-1] if batches else None
            if last is not None and len(last) < self.max_batch and frames[k] <= 1.25 * frames[last[0]]:
                last.append(k)
            else:
                batches.append([k])
        return batches

    def _decode(self, hidden: list[np.ndarray], limits: list[int], samples: list[int], *,
                beam: int) -> tuple[list[list[int]], list[list[float]]]:
        """Tokens and their log-probabilities for a batch of encoder states [frames_i, 288] of pieces
        of `samples[i]` samples, at most `limits[i]` tokens each: greedy when `beam` is 1, else beam
        search of that width (beam.py, with the phrase boost if any), both with the decoder's key/value cache.

        Rows of a batch are not quite independent: the int8 model quantizes its activations with
        one scale per tensor (DynamicQuantizeLinear), so a piece's batch-mates and padding nudge its
        logits, and a close call between two words can go either way (docs/words.md)."""
        b, t = len(hidden), max(h.shape[0] for h in hidden)
        states = np.zeros((b, t, hidden[0].shape[1]), np.float32)
        mask = np.zeros((b, max(samples)), np.int64)
        for i, (h, n) in enumerate(zip(hidden, samples, strict=True)):
            states[i, :h.shape[0]], mask[i, :n] = h, 1
        feed = {"encoder_hidden_states": states, "encoder_attention_mask": mask,
                "input_ids": np.full((b, 1), BOS, np.int64), "use_cache_branch": np.array([False])}
        feed.update({name: np.zeros((b, self._heads, 0, self._dim), np.float32) for name in self.past_names})
        if beam > 1:
            return BeamSearch(self, feed, limits, beam, self.boost).run()
        tokens: list[list[int]] = [[] for _ in range(b)]
        scores: list[list[float]] = [[] for _ in range(b)]
        done = np.zeros(b, bool)
        for step in range(max(limits)):
            out = self.decoder.run(self.output_names, feed)
            logits = out[0][:, -1, :]
            nxt = logits.argmax(axis=-1)
            logp = logits[np.arange(b), nxt] - logsumexp(logits)[:, 0]
            for i in range(b):
                if not done[i]:
                    if nxt[i] == EOS or step >= limits[i]:
                        done[i] = True
                    else:
                        tokens[i].append(int(nxt[i]))
                        scores[i].append(float(logp[i]))
            if done.all():
                break
            self.keep_cache(feed, out, first=step == 0)
            feed["input_ids"] = np.where(done, EOS, nxt).astype(np.int64)[:, None]
            feed["use_cache_branch"] = np.array([True])
        return tokens, scores

    def keep_cache(self, feed: dict, out: list[np.ndarray], *, first: bool) -> None:
        """The decoder's new key/value cache into `feed`: the encoder's (cross-attention) keys and
        values come from the first step only, the decoder's own grow by one token a step."""
        for name, value in zip(self.output_names[1:], out[1:]):
            if first or ".decoder." in name:
                feed["past_key_values" + name[len("present"):]] = value


def _map(pool: ThreadPoolExecutor | None, fn, items: list) -> list:
    """fn over items, on the pool's threads when there is one (onnxruntime releases the GIL while a
    model runs), results in order; each item's work is the same as alone, so the texts are too."""
    if pool is None or len(items) < 2:
        return [fn(x) for x in items]
    return list(pool.map(fn, items))


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


