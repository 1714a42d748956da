"""The batch's memory in DIR/index.jsonl: which reviews are done, by key, with their rows.

One JSON line per finished recording, appended and flushed to disk as each one finishes, so a batch
that is killed loses at most the recordings in flight; a torn last line is ignored. (Lines are not
fsync'ed: a power cut may lose the last few, which are then simply reviewed again.) Each line also
keeps the file's size, modification time and content hash, so that a rerun hashes only files that
changed (like git's index). The latest line for a key wins.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from .jobs import file_digest

log = logging.getLogger(__name__)

INDEX_NAME = "index.jsonl"


class BatchIndex:
    """The done reviews of one output folder: `entry(key)`, `record(...)`, `digest(path)`."""

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / INDEX_NAME
        self._done: dict[str, dict[str, Any]] = {}
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
        for stat, digest in entry.get("digests", []):
            self._stat[tuple(stat)] = digest

    def __len__(self) -> int:
        return len(self._done)

    def entry(self, key: str) -> dict[str, Any] | None:
        """The finished review of `key` ({key, name, rows, error, digests}), or None."""
        return self._done.get(key)

    def digest(self, path: str | Path) -> str:
        """sha256 of the file at `path`: from the index when its size and modification time are unchanged."""
        st = os.stat(path)
        stat = (str(path), st.st_size, st.st_mtime_ns)
        if stat not in self._stat:
            self._stat[stat] = file_digest(path)
        return self._stat[stat]

    def stat_of(self, path: str | Path) -> list:
        st = os.stat(path)
        return [str(path), st.st_size, st.st_mtime_ns]

    def record(self, *, key: str, name: str, rows: list[dict[str, Any]], error: str | None,
               paths: list[str]) -> None:
        """Keep one finished review (its key, folder name, rows, error) and the hashes of the files it read."""
        digests = []
        for p in paths:
            try:
                digests.append([self.stat_of(p), self.digest(p)])
            except OSError:
                pass
        entry = {"key": key, "name": name, "rows": rows, "error": error, "digests": digests}
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())  # one write of a whole line: a kill leaves it whole or absent
        finally:
            os.close(fd)
        self._add(entry)
