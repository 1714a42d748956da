"""Human transcripts in (`--words FILE`) and out (`attune export` WebVTT / TextGrid words tier).

Every reader returns the same records as the recognizer (`perception.asr.Utterance` with its
`Word`s, seconds on the session clock) in start order, so a transcript replaces the recognizer
as an RTTM replaces diarization. Formats:

- WebVTT: one cue per utterance, the speaker in a voice tag `<v Ana>…</v>` (one cue may hold
  several voices, one per line); other tags (`<c>`, `<i>`, inline timestamps) are dropped.
- SRT: one block per utterance, the speaker as a "NAME:" prefix of the text.
- Praat TextGrid (long or short text format, as Praat writes them): one interval tier per speaker;
  intervals hold single words or whole utterances. Consecutive word intervals make one utterance
  until an empty interval of `utterance_gap_s` or more. Tiers named "X - words" (Montreal Forced
  Aligner) are speaker X; tiers named "... phones" / "... phone" are skipped.
- JSON: `[{"speaker", "start", "end", "text"}]` (or `{"utterances": [...]}`), optional `"words":
  [{"start", "end", "text"}]` per utterance.

Words without their own times are spread over the utterance by character length (estimates).
Anything unreadable, unsorted or inconsistent raises InputError with one line naming the place.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..perception.asr import Utterance, Word
from ..perception.transcribe import utterance_of

FORMATS = ("vtt", "srt", "textgrid", "json")
_VTT_TIME = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})$")
_SRT_TIME = re.compile(r"^(\d+):(\d{2}):(\d{2})[,.](\d{1,3})$")
_ARROW = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")
_TAG = re.compile(r"<[^>]*>")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_SRT_SPEAKER = re.compile(r"^\s*([^\s:][^:]{0,40}?)\s*:\s+(.*)$")


def read_transcript(path: str | Path, *, fmt: str | None = None, utterance_gap_s: float = 0.3) -> tuple[Utterance, ...]:
    """The utterances of a transcript file, format from `fmt` or the file's suffix (.vtt, .srt,
    .TextGrid, .json). Raises InputError (one line) for a missing, unknown, corrupt or unsorted file."""
    path = Path(path)
    fmt = (fmt or {".vtt": "vtt", ".webvtt": "vtt", ".srt": "srt", ".textgrid": "textgrid",
                   ".json": "json"}.get(path.suffix.lower(), "")).lower()
    if fmt not in FORMATS:
        raise InputError(f"{path}: unknown transcript format {path.suffix or fmt!r}; use one of .vtt, .srt, "
                         ".TextGrid, .json")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read transcript {path}: {e.strerror or e}") from None
    text = _decode(raw, path)
    try:
        if fmt == "vtt":
            out = parse_webvtt(text)
        elif fmt == "srt":
            out = parse_srt(text)
        elif fmt == "textgrid":
            out = parse_textgrid(text, utterance_gap_s=utterance_gap_s)
        else:
            out = parse_json(text)
    except InputError as e:
        raise InputError(f"{path}: {e}") from None
    if not out:
        raise InputError(f"{path}: no utterances with text found")
    return out


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith((b"\xfe\xff", b"\xff\xfe")):
        return raw.decode("utf-16")  # Praat writes UTF-16 when a label needs it
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 or UTF-16 text (byte {e.start})") from None


#: What a bad field may look like to be repeated in an error message (a number or a time).
_SHOWN = re.compile(r"^[\d:.,>+\- eE-]{0,32}$")


def _quoted(token) -> str:
    """A bad field for an error message: quoted when it looks like a number or a time, else only its
    length, so that an error never repeats what was said (a misplaced line of the transcript)."""
    text = str(token)
    return repr(text) if _SHOWN.match(text) else f"(text of {len(text)} characters)"


def _check_order(utts: list[Utterance], what: str) -> tuple[Utterance, ...]:
    for k, u in enumerate(utts):
        if not (math.isfinite(u.start) and math.isfinite(u.end)) or u.end < u.start or u.start < 0:
            raise InputError(f"{what} {k + 1}: bad times {u.start:g} to {u.end:g} s")
        if k and u.start < utts[k - 1].start:
            raise InputError(f"{what} {k + 1} starts at {u.start:g} s, before the previous one "
                             f"({utts[k - 1].start:g} s): not in time order")
    return tuple(utts)


def _vtt_seconds(token: str, where: str) -> float:
    m = _VTT_TIME.match(token)
    if not m:
        raise InputError(f"{where}: bad timestamp {_quoted(token)} (want [hh:]mm:ss.ttt)")
    h, mnt, s, ms = m.groups()
    if int(mnt) > 59 or int(s) > 59:
        raise InputError(f"{where}: bad timestamp {_quoted(token)}")
    return int(h or 0) * 3600 + int(mnt) * 60 + int(s) + int(ms) / 1000


def parse_webvtt(text: str) -> tuple[Utterance, ...]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not lines[0].startswith("WEBVTT"):
        raise InputError("not WebVTT: the first line must start with WEBVTT")
    header_end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))  # header lines
    out: list[Utterance] = []
    for first_line, block in _blocks(lines[header_end:], offset=header_end + 1):
        k = next((i for i, line in enumerate(block) if "-->" in line), None)
        if k is None:
            if block[0].startswith(("NOTE", "STYLE", "REGION")):
                continue
            raise InputError(f"line {first_line}: a cue without a 'start --> end' timing line")
        m = _ARROW.match(block[k])
        if not m:
            raise InputError(f"line {first_line + k}: bad timing line {_quoted(block[k])}")
        where = f"line {first_line + k}"
        start, end = _vtt_seconds(m.group(1), where), _vtt_seconds(m.group(2), where)
        if end < start:
            raise InputError(f"{where}: cue ends ({end:g} s) before it starts ({start:g} s)")
        speaker = ""
        for line in block[k + 1:]:
            v = _VOICE.search(line)
            if v:
                speaker = v.group(1).strip()
            words = _TAG.sub("", line).strip()
            if words:
                if not speaker:
                    raise InputError(f"{where}: cue without a speaker (add a voice tag <v Name>)")
                out.append(utterance_of(speaker, ((start, end),), _unescape(words)))
    return _check_order([u for u in out if u.words], "cue")


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " ").replace("&lrm;", "")
            .replace("&rlm;", "").replace("&amp;", "&"))


def _blocks(lines: list[str], offset: int = 2) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines with the (1-based) number of their first line."""
    out, cur, start = [], [], 0
    for i, line in enumerate(lines):
        if line.strip():
            if not cur:
                start = i + offset
            cur.append(line)
        elif cur:
            out.append((start, cur))
            cur = []
    if cur:
        out.append((start, cur))
    return out


def parse_srt(text: str) -> tuple[Utterance, ...]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[Utterance] = []
    for first_line, block in _blocks(lines, offset=1):
        k = 1 if block[0].strip().isdigit() else 0
        m = _ARROW.match(block[k]) if k < len(block) else None
        if not m:
            raise InputError(f"line {first_line}: not an SRT block (want a number, then 'hh:mm:ss,ttt --> hh:mm:ss,ttt')")
        start, end = (_srt_seconds(t, f"line {first_line + k}") for t in m.groups())
        if end < start:
            raise InputError(f"line {first_line + k}: block ends ({end:g} s) before it starts ({start:g} s)")
        speaker, parts = "", []
        for line in block[k + 1:]:
            line = _TAG.sub("", line).strip()
            s = _SRT_SPEAKER.match(line)
            if s and not s.group(1)[0].isdigit():
                if parts:
                    out.append(utterance_of(speaker, ((start, end),), " ".join(parts)))
                speaker, parts = s.group(1).strip(), [s.group(2)]
            elif line:
                parts.append(line)
        if parts:
            if not speaker:
                raise InputError(f"line {first_line}: block without a speaker (start its text with 'NAME: ')")
            out.append(utterance_of(speaker, ((start, end),), " ".join(parts)))
    return _check_order([u for u in out if u.words], "block")


def _srt_seconds(token: str, where: str) -> float:
    m = _SRT_TIME.match(token)
    if not m:
        raise InputError(f"{where}: bad timestamp {_quoted(token)} (want hh:mm:ss,ttt)")
    h, mnt, s, ms = m.groups()
    if int(mnt) > 59 or int(s) > 59:
        raise InputError(f"{where}: bad timestamp {_quoted(token)}")
    return int(h) * 3600 + int(mnt) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


_TG_TOKEN = re.compile(r'"((?:[^"]|"")*)"|(\S+)')


def _tg_tokens(text: str) -> list[str | float]:
    """Praat's own reading of a text file: only quoted strings, numbers and <flags> count; the
    long format's "xmin =", "item [1]:" and the like are skipped."""
    out: list[str | float] = []
    for m in _TG_TOKEN.finditer(text):
        if m.group(1) is not None:
            out.append(m.group(1).replace('""', '"'))
        else:
            tok = m.group(2)
            if tok.startswith("<") and tok.endswith(">"):
                out.append(tok)
            else:
                try:
                    out.append(float(tok))
                except ValueError:
                    continue
    return out


def parse_textgrid(text: str, *, utterance_gap_s: float = 0.3) -> tuple[Utterance, ...]:
    toks = _tg_tokens(text)
    pos = 0

    def take(kind: type, what: str):
        nonlocal pos
        if pos >= len(toks):
            raise InputError(f"TextGrid ends early, expected {what}")
        tok = toks[pos]
        pos += 1
        if kind is float and not isinstance(tok, float) or kind is str and not isinstance(tok, str):
            raise InputError(f"TextGrid: expected {what}, found {_quoted(tok)}")
        return tok

    if toks[:2] != ["ooTextFile", "TextGrid"]:
        raise InputError('not a Praat TextGrid (want File type = "ooTextFile", Object class = "TextGrid")')
    pos = 2
    take(float, "xmin"), take(float, "xmax")
    if pos < len(toks) and toks[pos] == "<absent>":
        return ()
    if pos < len(toks) and toks[pos] == "<exists>":
        pos += 1
    n_tiers = int(take(float, "the number of tiers"))
    out: list[Utterance] = []
    for t in range(n_tiers):
        cls, name = take(str, f"tier {t + 1}'s class"), take(str, f"tier {t + 1}'s name")
        take(float, "tier xmin"), take(float, "tier xmax")
        n = int(take(float, f"tier {name!r}'s size"))
        if cls == "TextTier":
            for _ in range(n):
                take(float, "point time"), take(str, "point mark")
            continue
        if cls != "IntervalTier":
            raise InputError(f"TextGrid tier {name!r}: unknown class {cls!r}")
        rows = [(take(float, "interval xmin"), take(float, "interval xmax"), take(str, "interval text"))
                for _ in range(n)]
        for k, (a, b, _) in enumerate(rows):
            if b < a or (k and a < rows[k - 1][1] - 1e-6):
                raise InputError(f"TextGrid tier {name!r} interval {k + 1} ({a:g} to {b:g} s): "
                                 "intervals overlap or are not in time order")
        low = name.lower().strip()
        if low.endswith(("phones", "phone")):
            continue
        speaker = re.sub(r"\s*-\s*words?$", "", name.strip(), flags=re.IGNORECASE) or name
        out += _tier_utterances(speaker, rows, utterance_gap_s)
    if pos != len(toks):
        raise InputError(f"TextGrid: {len(toks) - pos} unexpected value(s) after the last tier")
    return tuple(sorted(out, key=lambda u: (u.start, u.speaker)))


def _tier_utterances(speaker: str, rows: list[tuple[float, float, str]], gap_s: float) -> list[Utterance]:
    """Word intervals joined into utterances until an empty interval >= gap_s; multi-word intervals stand alone."""
    out, run = [], []

    def flush():
        if run:
            words = tuple(Word(speaker, a, b, w) for a, b, w in run)
            out.append(Utterance(speaker, run[0][0], run[-1][1], " ".join(w for _, _, w in run), words))
            run.clear()

    for a, b, label in rows:
        label = label.strip()
        if not label:
            if b - a >= gap_s:
                flush()
            continue
        if len(label.split()) > 1:
            flush()
            u = utterance_of(speaker, ((a, b),), label)
            if u.words:
                out.append(u)
        elif any(ch.isalnum() for ch in label):
            run.append((a, b, label))
    flush()
    return out


def parse_json(text: str) -> tuple[Utterance, ...]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg} at line {e.lineno}") from None
    if isinstance(data, dict):
        data = data.get("utterances")
    if not isinstance(data, list):
        raise InputError('JSON transcript must be a list of {"speaker", "start", "end", "text"}')
    out = []
    for k, row in enumerate(data):
        where = f"utterance {k + 1}"
        if not isinstance(row, dict) or not {"speaker", "start", "end", "text"} <= set(row):
            raise InputError(f'{where}: needs "speaker", "start", "end" and "text"')
        start, end = _num(row["start"], where), _num(row["end"], where)
        if end < start:
            raise InputError(f"{where}: ends ({end:g} s) before it starts ({start:g} s)")
        speaker, text_ = str(row["speaker"]), str(row["text"])
        if row.get("words"):
            words = tuple(Word(speaker, _num(w.get("start"), where), _num(w.get("end"), where), str(w.get("text", "")))
                          for w in row["words"] if isinstance(w, dict))
            out.append(Utterance(speaker, start, end, text_.strip(), words))
        else:
            u = utterance_of(speaker, ((start, end),), text_)
            out.append(Utterance(speaker, start, end, text_.strip(), u.words))
    return _check_order([u for u in out if u.words], "utterance")


def _num(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{where}: time {_quoted(value)} is not a finite number of seconds")
    return float(value)


# ---- writers ---------------------------------------------------------------------------------

def _stamp(t: float) -> str:
    ms = round(t * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def webvtt_text(utterances: Sequence[Utterance]) -> str:
    """WebVTT: one cue per utterance, the speaker in a voice tag; read back by parse_webvtt."""
    lines = ["WEBVTT", ""]
    for u in sorted(utterances, key=lambda u: (u.start, u.speaker)):
        text = u.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
        lines += [f"{_stamp(u.start)} --> {_stamp(u.end)}", f"<v {u.speaker}>{text}", ""]
    return "\n".join(lines)


def word_tiers(utterances: Sequence[Utterance]) -> dict[str, list[tuple[float, float, str]]]:
    """(start, end, word) rows per tier "<speaker> words", for the TextGrid export's tiers."""
    out: dict[str, list[tuple[float, float, str]]] = {}
    for u in utterances:
        out.setdefault(f"{u.speaker} - words", []).extend((w.start, w.end, w.text) for w in u.words)
    return {k: sorted(v) for k, v in sorted(out.items())}


def textgrid_words_text(utterances: Sequence[Utterance], *, end: float | None = None) -> str:
    """A Praat long-format TextGrid with one words tier per speaker ("<speaker> - words"),
    empty intervals between words; read back by parse_textgrid (speaker names restored)."""
    tiers = word_tiers(utterances)
    return textgrid_long(tiers, max([end or 0.0] + [b for rows in tiers.values() for _, b, _ in rows]))


def textgrid_long(tiers: dict[str, list[tuple[float, float, str]]], end: float) -> str:
    """A Praat long-format TextGrid of interval tiers {name: [(start s, end s, label), ...]} over
    [0, end]: the one writer of every TextGrid export (words here, speakers and cues in summary/exports.py)."""
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0", f"xmax = {end:.3f}",
             "tiers? <exists>", f"size = {len(tiers)}", "item []:"]
    for k, (name, rows) in enumerate(tiers.items(), start=1):
        intervals = _fill(rows, end)
        lines += [f"    item [{k}]:", '        class = "IntervalTier"', f'        name = "{_q(name)}"',
                  "        xmin = 0", f"        xmax = {end:.3f}", f"        intervals: size = {len(intervals)}"]
        for i, (a, b, label) in enumerate(intervals, start=1):
            lines += [f"        intervals [{i}]:", f"            xmin = {a:.3f}", f"            xmax = {b:.3f}",
                      f'            text = "{_q(label)}"']
    return "\n".join(lines) + "\n"


def _fill(rows: list[tuple[float, float, str]], end: float) -> list[tuple[float, float, str]]:
    """Intervals covering [0, end] without gaps or overlaps: the labelled rows (in time order,
    overlaps clipped, times to the ms) and empty ones between."""
    out, t = [], 0.0
    for a, b, label in sorted(rows):
        a, b = round(max(a, t), 3), round(min(b, end), 3)
        if b <= a:
            continue
        if a > t:
            out.append((t, a, ""))
        out.append((a, b, label))
        t = b
    if end > t or not out:
        out.append((t, round(max(end, t + 0.001), 3), ""))
    return out


def _q(text: str) -> str:
    return text.replace('"', '""')
