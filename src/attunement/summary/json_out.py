"""The review as JSON (schema in docs/json-schema.md), written readable by the user alone."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import InputError
from ..records import Review
from .confidence import turn_taking_confidence
from .cues_json import review_cues

SCHEMA_VERSION = "1.0"


def review_to_json(review: Review) -> dict[str, Any]:
    """The documented JSON object of one review; times in seconds, rounded to the millisecond."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"attunement {__version__}",
        "input": review.input,
        "duration_s": round(review.duration_s, 3),
        "speakers": list(review.speakers),
        "segments": [{"speaker": s.speaker, "start": round(s.start, 3), "end": round(s.end, 3)}
                     for s in review.segments],
        "turn_taking": review.turn_taking.to_json(),
        "problems": list(review.problems),
        "confidence": {"turn_taking": turn_taking_confidence(review)},
    } | ({"cues": review_cues(review)} if review.vision is not None else {}) | (
        {"language": review.language.to_json()} if review.language is not None else {})


def write_private(path: str | Path, text: str) -> None:
    """Write `text` to `path` with mode 0600 (session results are the user's alone), whole or not at
    all: into a temporary name beside it, then renamed, so an interruption or a full disk leaves no
    partial file. InputError (one line) when `path` cannot be written."""
    path = Path(path)
    tmp = path.with_name(f".{path.name[:200]}.{os.getpid()}.part")
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(21, "is a folder", str(path))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            # a file name that is not UTF-8 (its bytes kept as surrogates) is written as \udcXX: the file stays UTF-8
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
                f.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}") from None


def write_json(path: str | Path, review: Review) -> None:
    write_private(path, json.dumps(review_to_json(review), indent=2) + "\n")
