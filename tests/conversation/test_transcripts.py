"""Human transcripts: WebVTT, SRT, Praat TextGrid and JSON in, WebVTT and a TextGrid words tier out."""

from __future__ import annotations

import itertools
import json

import pytest

from attunement.conversation.transcripts import (
    parse_json,
    parse_srt,
    parse_textgrid,
    parse_webvtt,
    read_transcript,
    textgrid_words_text,
    webvtt_text,
    word_tiers,
)
from attunement.errors import InputError
from attunement.perception.asr import Utterance, Word
from attunement.perception.transcribe import utterance_of

VTT = """WEBVTT
Kind: captions

NOTE made by hand

1
00:00:01.000 --> 00:00:03.500 align:start
<v Ana>How was your day, really?</v>

00:04.000 --> 00:06.000
<v.loud Ben>It was <i>long</i> &amp; tiring.

00:00:06.000 --> 00:00:08.000
<v Ana>Oh no.
<v Ben>Yes.
"""

SRT = """1
00:00:01,000 --> 00:00:03,500
Ana: How was your day, really?

2
00:00:04,000 --> 00:00:06,000
Ben: It was long
and tiring.
"""

TEXTGRID_SHORT = '''File type = "ooTextFile"
Object class = "TextGrid"

0
5
<exists>
2
"IntervalTier"
"ana - words"
0
5
4
0
1
""
1
1.4
"how"
1.4
1.8
"are"
1.8
5
""
"IntervalTier"
"ana - phones"
0
5
1
0
5
""
'''


def _texts(utts):
    return [(u.speaker, u.start, u.end, u.text) for u in utts]


def test_webvtt_voices_tags_and_notes():
    utts = parse_webvtt(VTT)
    assert _texts(utts) == [("Ana", 1.0, 3.5, "How was your day, really?"), ("Ben", 4.0, 6.0, "It was long & tiring."),
                            ("Ana", 6.0, 8.0, "Oh no."), ("Ben", 6.0, 8.0, "Yes.")]
    w = utts[0].words
    assert [x.text for x in w] == ["How", "was", "your", "day,", "really?"]
    assert w[0].start == 1.0 and w[-1].end == pytest.approx(3.5)
    assert all(a.end == pytest.approx(b.start) for a, b in itertools.pairwise(w))


def test_srt_speaker_prefix_and_continuation_lines():
    assert _texts(parse_srt(SRT)) == [("Ana", 1.0, 3.5, "How was your day, really?"),
                                      ("Ben", 4.0, 6.0, "It was long and tiring.")]


def test_textgrid_short_format_words_and_mfa_tiers():
    utts = parse_textgrid(TEXTGRID_SHORT)
    assert _texts(utts) == [("ana", 1.0, 1.8, "how are")]
    assert utts[0].words == (Word("ana", 1.0, 1.4, "how"), Word("ana", 1.4, 1.8, "are"))


def test_json_with_and_without_words(tmp_path):
    rows = [{"speaker": "a", "start": 0.5, "end": 2.0, "text": "I feel hurt."},
            {"speaker": "b", "start": 2.5, "end": 3.0, "text": "Why?", "words": [{"start": 2.5, "end": 3.0, "text": "Why?"}]}]
    utts = parse_json(json.dumps(rows))
    assert _texts(utts) == [("a", 0.5, 2.0, "I feel hurt."), ("b", 2.5, 3.0, "Why?")]
    assert utts[1].words == (Word("b", 2.5, 3.0, "Why?"),)
    (tmp_path / "t.json").write_text(json.dumps({"utterances": rows}))
    assert read_transcript(tmp_path / "t.json") == utts


def _sample() -> tuple[Utterance, ...]:
    return (utterance_of("Ana", ((0.5, 2.0),), "What matters most to you?"),
            utterance_of("Ben", ((2.4, 4.0), (4.5, 6.25)), 'My family, "always" & <friends>.'))


def test_webvtt_round_trip(tmp_path):
    utts = _sample()
    path = tmp_path / "out.vtt"
    path.write_text(webvtt_text(utts))
    back = read_transcript(path)
    assert _texts(back) == _texts(utts)


def test_textgrid_words_round_trip(tmp_path):
    utts = _sample()
    path = tmp_path / "out.TextGrid"
    path.write_text(textgrid_words_text(utts, end=7.0))
    back = read_transcript(path, utterance_gap_s=0.3)
    want = [(w.speaker, round(w.start, 3), round(w.end, 3), w.text) for u in utts for w in u.words]
    got = [(w.speaker, w.start, w.end, w.text) for u in back for w in u.words]
    assert got == want
    assert [u.speaker for u in back] == ["Ana", "Ben", "Ben"]  # Ben's 0.5 s pause splits his utterance
    assert list(word_tiers(utts)) == ["Ana - words", "Ben - words"]


@pytest.mark.parametrize("name, text, message", [
    ("a.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\n<v A>late\n\n00:00:01.000 --> 00:00:02.000\n<v B>early\n",
     "not in time order"),
    ("a.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nno voice\n", "without a speaker"),
    ("a.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\n<v A>hi\n", "bad timestamp"),
    ("a.vtt", "WEBVTT\n\n00:00:03.000 --> 00:00:02.000\n<v A>hi\n", "before it starts"),
    ("a.vtt", "1\n00:00:01.000 --> 00:00:02.000\n<v A>hi\n", "WEBVTT"),
    ("a.srt", "1\n00:00:01,000 --> 00:00:02,000\nno speaker here\n", "without a speaker"),
    ("a.srt", "hello\nworld\n", "not an SRT block"),
    ("a.srt", "1\n00:00:04,000 --> 00:00:05,000\nA: b\n\n2\n00:00:01,000 --> 00:00:02,000\nA: c\n", "not in time order"),
    ("a.json", "[{\"speaker\": \"a\", \"start\": 1}]", "needs"),
    ("a.json", "[{\"speaker\": \"a\", \"start\": \"x\", \"end\": 2, \"text\": \"hi\"}]", "not a finite number"),
    ("a.json", "{not json", "not valid JSON"),
    ("a.TextGrid", TEXTGRID_SHORT[:120], "ends early"),
    ("a.TextGrid", TEXTGRID_SHORT.replace("1.4\n1.8\n\"are\"", "1.2\n1.8\n\"are\""), "overlap or are not in time order"),
    ("a.TextGrid", "hello", "not a Praat TextGrid"),
    ("a.txt", "", "unknown transcript format"),
    ("a.vtt", "WEBVTT\n", "no utterances"),
])
def test_bad_transcripts_are_one_line_input_errors(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_transcript(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_transcript(tmp_path / "none.vtt")
    (tmp_path / "b.srt").write_bytes(b"\x80\x81\x82")
    with pytest.raises(InputError, match="not UTF-8"):
        read_transcript(tmp_path / "b.srt")


def test_textgrid_words_read_by_praatio(tmp_path):
    """An independent reader (praatio) sees the same words, times and tiers; and praatio's own
    short-format TextGrid of them reads back through parse_textgrid."""
    textgrid = pytest.importorskip("praatio.textgrid", reason="praatio (PyPI) reads TextGrids back independently")
    utts = _sample()
    path = tmp_path / "w.TextGrid"
    path.write_text(textgrid_words_text(utts, end=7.0))
    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    assert list(tg.tierNames) == ["Ana - words", "Ben - words"]
    got = [(e.start, e.end, e.label) for name in tg.tierNames for e in tg.getTier(name).entries]
    want = [(round(w.start, 3), round(w.end, 3), w.text) for u in utts for w in u.words]
    assert [g[2] for g in got] == [w[2] for w in want]
    assert [t for g in got for t in g[:2]] == pytest.approx([t for w in want for t in w[:2]])
    short = tmp_path / "short.TextGrid"
    tg.save(str(short), format="short_textgrid", includeBlankSpaces=True)
    back = read_transcript(short)
    assert [(w.speaker, w.text) for u in back for w in u.words] == [(w.speaker, w.text) for u in utts for w in u.words]
