"""`attune forget`: delete what attunement kept, completely.

A session, rehearsal or kept review is one folder (see writer.py); forgetting it removes every
file in it (the signals, the review, the report, the exports, a calibration copy, the raw audio
kept with --keep-media, and any temporary file a killed write left) and the folder itself, so
`attune history` no longer lists it and no later trend compares with it. The saved calibration
profile is one file; forgetting it also removes the copy each session folder holds.
Symbolic links are removed, never followed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ...errors import InputError
from .formats import PROFILE_FILE
from .writer import list_sessions, process_alive, sessions_root

log = logging.getLogger(__name__)


def forget_session(folder: str | os.PathLike) -> int:
    """Deletes the session folder `folder` and everything in it; returns the number of files removed.
    InputError when it is not a session folder or its session is still running."""
    folder = Path(folder)
    if folder.is_symlink() or not (folder / "meta.json").is_file():
        raise InputError(f"{folder}: not a session folder (no meta.json); nothing deleted")
    _check_not_running(folder)
    removed = _remove_tree(folder)
    log.info("forgot %s (%d files)", folder, removed)
    return removed


def forget_all(root: str | os.PathLike | None = None) -> tuple[int, int]:
    """Deletes every session folder under `root` (default: the sessions folder); returns (folders, files)."""
    root = Path(root) if root is not None else sessions_root()
    folders = list_sessions(root)
    for folder in folders:
        _check_not_running(folder)
    files = sum(_remove_tree(folder) for folder in folders)
    return len(folders), files


def forget_profile(path: str | os.PathLike, root: str | os.PathLike | None = None) -> int:
    """Deletes the saved calibration profile at `path` and each session's copy; returns how many files."""
    removed = 0
    candidates = [Path(path)] + [folder / PROFILE_FILE for folder in list_sessions(root)]
    for file in candidates:
        if file.is_file() or file.is_symlink():
            file.unlink()
            removed += 1
    return removed


def _check_not_running(folder: Path) -> None:
    import json

    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return
    if meta.get("status") == "running" and meta.get("pid") != os.getpid() and process_alive(meta.get("pid")):
        raise InputError(f"{folder}: this session is still running (process {meta.get('pid')}); "
                         "end it first, nothing deleted")


def _remove_tree(folder: Path) -> int:
    """Removes `folder` bottom-up without following links; returns the number of files removed."""
    removed = 0
    try:
        for parent, dirs, files in os.walk(folder, topdown=False, followlinks=False):
            for name in files:
                os.unlink(os.path.join(parent, name))
                removed += 1
            for name in dirs:
                path = os.path.join(parent, name)
                if os.path.islink(path):
                    os.unlink(path)
                    removed += 1
                else:
                    os.rmdir(path)
        os.rmdir(folder)
    except OSError as e:
        raise InputError(f"{folder}: could not delete everything ({e.strerror or e}); "
                         f"{removed} files were deleted") from None
    return removed


__all__ = ["forget_all", "forget_profile", "forget_session"]
