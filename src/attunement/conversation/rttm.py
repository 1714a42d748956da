"""Read and write RTTM, the diarization format of NIST and pyannote.audio.

One speech segment a line: ``SPEAKER <file-id> 1 <onset s> <duration s> <NA> <NA> <speaker> <NA> <NA>``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputError
from ..records import Segment


def parse_rttm(text: str, *, source: str = "<rttm>") -> dict[str, list[Segment]]:
    """Segments by file id, each list sorted by start; malformed lines raise InputError with the line number."""
    files: dict[str, list[Segment]] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        fields = stripped.split()
        if fields[0] != "SPEAKER":
            continue  # other RTTM record types (SPKR-INFO, LEXEME, ...) carry no speech segments
        if len(fields) < 8:
            raise InputError(f"{source}:{lineno}: RTTM line has {len(fields)} fields, needs at least 8: {stripped!r}")
        try:
            onset, duration = float(fields[3]), float(fields[4])
        except ValueError:
            raise InputError(f"{source}:{lineno}: onset/duration are not numbers: {fields[3]!r} {fields[4]!r}") from None
        if not (math.isfinite(onset) and math.isfinite(duration)) or onset < 0 or duration < 0:
            raise InputError(f"{source}:{lineno}: onset {onset} / duration {duration} must be finite and >= 0")
        files.setdefault(fields[1], []).append(Segment(onset, onset + duration, fields[7]))
    for segs in files.values():
        segs.sort()
    return files


def read_rttm(path: str | Path, *, file_id: str | None = None) -> list[Segment]:
    """The segments of one file in an RTTM: `file_id`, or the only one it holds."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"RTTM file not found: {path}") from None
    except (UnicodeDecodeError, IsADirectoryError) as e:
        raise InputError(f"{path} is not a text RTTM file ({e.__class__.__name__})") from None
    files = parse_rttm(text, source=str(path))
    if not files:
        raise InputError(f"{path}: no SPEAKER lines found; is this an RTTM file?")
    if file_id is None:
        if len(files) > 1:
            raise InputError(f"{path} holds several files ({', '.join(sorted(files))}); name one")
        return next(iter(files.values()))
    if file_id not in files:
        raise InputError(f"{path}: no segments for file id {file_id!r}; it has {', '.join(sorted(files))}")
    return files[file_id]


def format_rttm(segments: Iterable[Segment], *, file_id: str) -> str:
    """RTTM text for `segments`, times to the millisecond, sorted by start."""
    file_id = file_id.replace(" ", "_") or "audio"
    lines = [
        f"SPEAKER {file_id} 1 {s.start:.3f} {s.end - s.start:.3f} <NA> <NA> {s.speaker} <NA> <NA>"
        for s in sorted(segments)
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def write_rttm(path: str | Path, segments: Iterable[Segment], *, file_id: str) -> None:
    Path(path).write_text(format_rttm(segments, file_id=file_id), encoding="utf-8")
