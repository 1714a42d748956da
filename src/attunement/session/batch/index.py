"""The batch's memory in DIR/index.jsonl: which reviews are done, by key, with their rows.

One JSON line per finished recording, appended and flushed to disk as each one finishes, so a batch
that is killed loses at most the recordings in flight; a torn last line is ignored. (Lines are not
fsync'ed: a power cut may lose the last few, which are then simply reviewed again.) Each line also
keeps the size, modification time and content hash of the files the review read, as the worker that
hashed them saw them, so that a rerun finds the key of an unchanged file from a `stat` alone (like
git's index) and the client never reads a recording. The latest line for a key wins.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

INDEX_NAME = "index.jsonl"


def file_stat(path: str | Path) -> list:
    """[path, size in bytes, modification time in ns]: what says a file is unchanged; OSError if absent."""
    st = os.stat(path)
    return [str(path), st.st_size, st.st_mtime_ns]


class BatchIndex:
    """The done reviews of one output folder: `entry(key)`, `keys_of(name)`, `known_digest(path)`, `record(...)`."""

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / INDEX_NAME
        self._done: dict[str, dict[str, Any]] = {}
        self._names: dict[str, set[str]] = {}
        self._stat: dict[tuple[str, int, int], str] = {}
        if self.path.exists():
            for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
                try:
                    entry = json.loads(line)
                    self._add(entry)
                except (ValueError, KeyError, TypeError):
                    log.warning("%s:%d: unreadable line ignored (a batch killed while writing it)", self.path, n)

    def _add(self, entry: dict[str, Any]) -> None:
        self._done[entry["key"]] = entry
        self._names.setdefault(entry["name"], set()).add(entry["key"])
        for stat, digest in entry.get("digests", []):
            self._stat[tuple(stat)] = digest

    def __len__(self) -> int:
        return len(self._done)

    def entry(self, key: str) -> dict[str, Any] | None:
        """The finished review of `key` ({key, name, rows, error, digests}), or None."""
        return self._done.get(key)

    def keys_of(self, name: str) -> set[str]:
        """The keys of the finished reviews kept under the output folder `name`."""
        return set(self._names.get(name, ()))

    def known_digest(self, path: str | Path) -> str | None:
        """The sha256 a worker found for the file at `path` when it had its present size and modification
        time; None when the file is new or changed since. Only a `stat` (OSError if the file is absent)."""
        return self._stat.get(tuple(file_stat(path)))

    def record(self, *, key: str, name: str, rows: list[dict[str, Any]], error: str | None,
               digests: list[list] = ()) -> None:
        """Keep one finished review (its key, folder name, rows, error) and the [file_stat, sha256] pairs
        of the files it read."""
        entry = {"key": key, "name": name, "rows": rows, "error": error, "digests": [list(d) for d in digests]}
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())  # one write of a whole line: a kill leaves it whole or absent
        finally:
            os.close(fd)
        self._add(entry)
