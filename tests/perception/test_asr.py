"""The speech recognizer: tokenizer file format, decoding of real read speech (WER), silence, pieces."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.config import default_config
from attunement.errors import InputError
from attunement.perception.transcribe import LiveTranscriber, assign_speakers, cut_pieces, transcribe, utterance_of
from attunement.perception.asr import Recognizer, Tokenizer, Utterance, _unloop
from attunement.perception.wer import normalize, word_error_rate, word_errors
from attunement.records import Segment

CFG = default_config().words


def _encode(pieces: list[bytes]) -> bytes:
    out = bytearray()
    for p in pieces:
        n = len(p)
        out += bytes([n]) if n < 128 else bytes([n % 128 + 128, n // 128])
        out += p
    return bytes(out)


def test_tokenizer_reads_one_and_two_byte_lengths():
    pieces = [b"<unk>", b"<s>", b"</s>", b"", b"\xe2\x96\x81hello", b"x" * 200, b"\xe2\x96\x81you", b"<<ST_1>>"]
    tok = Tokenizer.from_bytes(_encode(pieces))
    assert tok.pieces == tuple(pieces)
    assert tok.decode([1, 4, 6, 7, 2]) == "hello you"
    assert tok.decode([4, 5])[-3:] == "xxx"


def test_tokenizer_rejects_truncated_file():
    with pytest.raises(InputError, match="runs past the end"):
        Tokenizer.from_bytes(bytes([5]) + b"ab")


def test_word_errors_against_plain_cases():
    assert word_errors([], []) == 0
    assert word_errors(["a", "b", "c"], ["a", "b", "c"]) == 0
    assert word_errors(["a", "b", "c"], ["a", "x", "c"]) == 1
    assert word_errors(["a", "b", "c"], ["a", "c"]) == 1
    assert word_errors(["a", "b"], ["a", "b", "c", "d"]) == 2
    assert word_errors(["a", "b", "c"], []) == 3
    assert normalize("Hello, World! Don't stop-now.") == ["hello", "world", "don't", "stop", "now"]
    assert word_error_rate([("a b c d", "a b c"), ("e f", "e f")]) == pytest.approx(1 / 6)


def test_top_entries_match_a_full_partition(rng):
    from attunement.perception.beam import top_entries as _top

    for _ in range(200):
        x = (rng.standard_normal((int(rng.integers(1, 40)), 32768)) * rng.uniform(0.1, 30)).astype(np.float32)
        x[:, rng.integers(0, 32768, 20)] = x.max()  # ties at the top
        n = int(rng.integers(1, 9))
        got = np.sort(np.take_along_axis(x, _top(x, n), axis=-1), axis=-1)
        want = np.sort(np.take_along_axis(x, np.argpartition(x, -n, axis=-1)[:, -n:], axis=-1), axis=-1)
        assert (got == want).all() and all(len(set(r)) == n for r in _top(x, n).tolist())


def test_unloop_cuts_the_models_repetition_only():
    assert _unloop("the first is the first is the first is the end") == "the first is the end"
    assert _unloop("no no no") == "no no no"
    assert _unloop("I really really mean it") == "I really really mean it"


def test_pieces_join_short_pauses_and_cut_long_speech():
    segs = [Segment(0.0, 2.0, "a"), Segment(2.5, 4.0, "a"), Segment(6.0, 7.0, "a"), Segment(1.0, 1.1, "b"),
            Segment(10.0, 55.0, "b")]
    pieces = cut_pieces(segs, config=CFG)
    a = [p for p in pieces if p.speaker == "a"]
    assert [(p.start, p.end) for p in a] == [(0.0, 4.0), (6.0, 7.0)]
    assert a[0].speech == ((0.0, 2.0), (2.5, 4.0))
    b = [p for p in pieces if p.speaker == "b"]  # 0.1 s "b" is dropped (min_piece_s)
    assert len(b) == 3 and all(p.end - p.start <= CFG.max_piece_s for p in b)
    assert b[0].start == 10.0 and b[-1].end == 55.0


def test_words_spread_over_speech_only():
    u = utterance_of("a", ((0.0, 1.0), (3.0, 4.0)), "aaa bbb")
    assert [w.text for w in u.words] == ["aaa", "bbb"]
    assert u.words[0].start == 0.0 and u.words[0].end == pytest.approx(1.0)
    assert (u.words[1].start, u.words[1].end) == (3.0, 4.0)  # no word bridges the pause
    u = utterance_of("a", ((0.0, 3.0),), "I & you")
    assert [(w.text, w.start, w.end) for w in u.words] == [("I", 0.0, 1.0), ("you", 1.0, 3.0)] and u.text == "I & you"
    assert utterance_of("a", ((0.0, 1.0),), ">> >> >>").words == ()


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer.load(threads=2)


def test_silence_and_noise_give_no_words(recognizer, rng):
    n = 16000 * 4
    audio = np.stack([np.zeros(n, np.float32),
                      (rng.standard_normal(n) * 10 ** (-60 / 20)).astype(np.float32),
                      (rng.standard_normal(n) * 10 ** (-40 / 20)).astype(np.float32)])
    segs = [Segment(0.0, 4.0, "a"), Segment(0.0, 4.0, "b"), Segment(0.0, 4.0, "c")]
    assert transcribe(segs, audio, recognizer=recognizer, config=CFG,
                      channel_of={"a": 0, "b": 1, "c": 2}) == ()


@pytest.mark.realdata
def test_read_speech_word_error_rate(recognizer, shared_data):
    from attunement.sources.media import read_audio

    rows = [line.split("\t") for line in (shared_data / "speech" / "transcripts.tsv").read_text().splitlines()]
    audio = [read_audio(shared_data / "speech" / name)[0][0] for name, _ in rows]
    texts = recognizer.recognize(audio)
    wer = word_error_rate((ref, hyp) for (_, ref), hyp in zip(rows, texts))
    assert len(rows) == 13 and wer <= 0.10, (wer, texts)  # measured 8.2 % with the beam, 9.3 % greedy


@pytest.mark.realdata
def test_two_batches_at_once_say_what_one_at_a_time_says(recognizer, shared_data):
    """The recognizer's threads (pieces encoded and batches decoded concurrently) change nothing in
    the words: the 13 read sentences, in batches of 2 so several run at once, as one thread says them."""
    from attunement.sources.media import read_audio

    names = [line.split("\t")[0] for line in (shared_data / "speech" / "transcripts.tsv").read_text().splitlines()]
    audio = [read_audio(shared_data / "speech" / name)[0][0] for name in names]
    one, two = Recognizer.load(threads=1), Recognizer.load(threads=2)
    one.max_batch = two.max_batch = 2
    assert two.workers == 2 and one.workers == 1
    said = two.recognize(audio)
    assert said == one.recognize(audio) and sum(bool(t) for t in said) == len(names)


@pytest.mark.realdata
def test_beam_search_keeps_each_piece_apart_and_beats_greedy(recognizer, shared_data):
    """Pieces decoded together by the beam search each get their own sentence (a piece's
    hypotheses stay on its rows as the cache is reordered), and the beam's words are more often
    right than the greedy ones on the read sentences."""
    from attunement.sources.media import read_audio

    rows = dict(line.split("\t") for line in (shared_data / "speech" / "transcripts.tsv").read_text().splitlines())
    names = ["spk1_snt1.wav", "spk1_snt5.wav", "spk2_snt5.wav", "spk2_snt1.wav"]
    audio = [read_audio(shared_data / "speech" / name)[0][0] for name in names]
    hidden = [recognizer._encode(x) for x in audio]
    sizes = [x.size for x in audio]
    ids, _ = recognizer._decode(hidden, [recognizer.max_tokens(n) for n in sizes], sizes, beam=4)
    assert [normalize(recognizer.tokenizer.decode(t)) for t in ids] == [normalize(rows[n]) for n in names]
    refs = list(rows.values())
    audio = [read_audio(shared_data / "speech" / name)[0][0] for name in rows]
    greedy = [recognizer.tokenizer.decode(recognizer._decode([recognizer._encode(x)], [recognizer.max_tokens(x.size)],
                                                             [x.size], beam=1)[0][0]) for x in audio]
    assert word_error_rate(zip(refs, recognizer.recognize(audio))) < word_error_rate(zip(refs, greedy))


@pytest.mark.realdata
def test_transcribe_puts_words_on_the_session_clock(recognizer, shared_data):
    """Two read sentences at 5 s and 12 s of a silent 20 s track starting at 100 s on the session clock."""
    from attunement.sources.media import read_audio

    a = read_audio(shared_data / "speech" / "spk1_snt1.wav")[0][0]
    b = read_audio(shared_data / "speech" / "spk2_snt5.wav")[0][0]
    track = np.zeros(16000 * 20, np.float32)
    track[5 * 16000:5 * 16000 + a.size] += a
    track[12 * 16000:12 * 16000 + b.size] += b
    segs = [Segment(105.0, 105.0 + a.size / 16000, "ana"), Segment(112.0, 112.0 + b.size / 16000, "ben")]
    out = transcribe(segs, track, recognizer=recognizer, config=CFG, t0=100.0)
    assert [u.speaker for u in out] == ["ana", "ben"]
    assert isinstance(out[0], Utterance)
    assert normalize(out[0].text) == ["the", "child", "almost", "hurt", "the", "small", "dog"]
    assert normalize(out[1].text) == ["jump", "the", "fence", "and", "hurry", "up", "the", "bank"]
    assert all(105.0 <= w.start < w.end <= 105.0 + a.size / 16000 + 1e-9 for w in out[0].words)
    assert all(112.0 <= w.start < w.end <= 112.0 + b.size / 16000 + 1e-9 for w in out[1].words)


def test_pieces_are_heard_with_padding_that_stops_at_other_speech():
    segs = [Segment(1.0, 2.0, "a"), Segment(2.1, 3.0, "b"), Segment(3.5, 4.0, "a"), Segment(10.0, 11.0, "a"),
            Segment(10.5, 12.0, "b")]
    heard = {(p.speaker, p.start): p.heard for p in cut_pieces(segs, config=CFG)}
    pad = CFG.pad_s
    assert heard[("a", 1.0)] == (1.0 - pad, 2.1)          # stops where b starts
    assert heard[("b", 2.1)] == (2.0, min(3.0 + pad, 3.5))  # b starts where a ends
    assert heard[("a", 3.5)] == (max(3.5 - pad, 3.0), 4.0 + pad)
    assert heard[("a", 10.0)] == (10.0 - pad, 11.0)       # b speaks across its end: no padding there
    assert heard[("b", 10.5)] == (10.5, 12.0 + pad)       # a speaks across its start


def test_pieces_split_where_the_partner_speaks_in_the_pause():
    segs = [Segment(0.0, 2.0, "a"), Segment(2.2, 2.7, "b"), Segment(2.8, 4.0, "a"), Segment(4.5, 5.0, "a")]
    a = [(p.start, p.end) for p in cut_pieces(segs, config=CFG) if p.speaker == "a"]
    assert a == [(0.0, 2.0), (2.8, 5.0)]


def test_assign_speakers_splits_words_by_the_final_segments():
    u = utterance_of("", ((0.0, 4.0),), "aaa bbb ccc ddd")
    out = assign_speakers([u], [Segment(0.0, 2.0, "ana"), Segment(2.0, 4.0, "ben")])
    assert [(x.speaker, x.text) for x in out] == [("ana", "aaa bbb"), ("ben", "ccc ddd")]


@pytest.mark.realdata
def test_live_transcriber_matches_offline(recognizer, shared_data):
    """Blocks of 1 s fed as in a live session, stretches added as they close: the same words as
    offline, each stretch heard once, and old audio dropped."""
    from attunement.records import AudioBlock
    from attunement.sources.media import read_audio

    a = read_audio(shared_data / "speech" / "spk1_snt5.wav")[0][0]
    track = np.zeros(16000 * 12, np.float32)
    track[2 * 16000:2 * 16000 + a.size] += a
    track[8 * 16000:8 * 16000 + a.size] += a
    segs = [Segment(2.0, 2.0 + a.size / 16000, ""), Segment(8.0, 8.0 + a.size / 16000, "")]
    live, got = LiveTranscriber(recognizer, config=CFG), []
    for k in range(12):
        live.feed(AudioBlock(track[None, k * 16000:(k + 1) * 16000], float(k), 16000))
        live.add_speech([s for s in segs if k <= s.end < k + 1])
        speaking = [s.start for s in segs if s.start < k + 1 < s.end]
        got += live.poll(keep_from=speaking[0] if speaking else k + 1 - 0.5)
    assert len(got) == 2 and live._n < 16000 * 6
    got += live.finish()
    offline = transcribe(segs, track, recognizer=recognizer, config=CFG)
    assert [u.text for u in got] == [u.text for u in offline] == ["Sunday is the best part of the week."] * 2


def test_span_overlap_against_a_plain_scan(rng):
    from attunement.perception.transcribe import _Spans

    for _ in range(500):
        starts = rng.uniform(0, 50, rng.integers(0, 9))
        spans = [(float(x), float(x + rng.uniform(0, 10))) for x in starts]
        a = float(rng.uniform(0, 60))
        b = a + float(rng.uniform(0, 5))
        assert _Spans(spans).overlap(a, b) == any(x < b and y > a for x, y in spans)
