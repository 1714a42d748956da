"""Past sessions, rehearsals and kept reviews in the sessions folder: `attune history` and finding one by name."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ...errors import InputError
from .writer import list_sessions, process_alive

log = logging.getLogger(__name__)


def history(root: str | os.PathLike | None = None) -> list[dict]:
    """Past sessions, rehearsals and kept reviews, oldest first: {folder, date (UTC ISO), length_s,
    status, kind (session, rehearsal or review), summary (one line)}."""
    out = []
    for folder in list_sessions(root):
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except (OSError, ValueError):
            continue
        status = meta.get("status", "running")
        if status == "running" and not process_alive(meta.get("pid")):
            status = "interrupted"
        line = meta.get("summary_line") or ("stopped before the end; `attune summary` rebuilds what was "
                                            "recorded" if status == "interrupted" else "still running")
        settings = meta.get("settings", {})
        kind = ("review" if settings.get("kind") == "review" else
                "rehearsal" if settings.get("speakers") == "rehearsal" else "session")
        out.append({"folder": str(folder), "date": meta.get("started_utc"), "length_s": meta.get("duration_s"),
                    "status": status, "kind": kind, "summary": line})
    return out


def find_session(spec: str, root: str | os.PathLike | None = None) -> Path:
    """The session folder `spec` names: a path to one, `last` (the newest), or the end of a folder
    name under the sessions folder (e.g. `20261124T010203Z-practice`, `practice`); InputError if none."""
    if (Path(spec) / "meta.json").exists():
        return Path(spec)
    found = list_sessions(root)
    if spec == "last" and found:
        return found[-1]
    match = [p for p in found if p.name == spec] or [p for p in found if p.name.endswith(spec) or p.name.startswith(spec)]
    if not match:
        raise InputError(f"no session {spec!r} (see `attune history`)")
    if len(match) > 1:
        log.info("%d sessions match %r; taking the newest", len(match), spec)
    return match[-1]

