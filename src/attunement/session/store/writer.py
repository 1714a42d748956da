"""The session store: one private folder per live session, written as it happens.

`$XDG_DATA_HOME/attunement/sessions/<UTC timestamp>-<slug>/` (default ~/.local/share), folder
mode 0700, files 0600. `meta.json` holds the start time, sources, settings and status
(running / ended / interrupted), replaced atomically. Each signal (voice activity, cues) is a
stream of numpy records appended to `<name>.log`, a length-prefixed binary log whose chunks
are flushed and fsync'ed at least every `flush_s` seconds, so a crash or a kill loses at most
about that much. `load_session` reads it back, ignoring (and noting) a torn last chunk.
No raw audio or video is ever stored.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import logging
import mmap
import os
import re
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import InputError
from ...records import VoiceActivity

log = logging.getLogger(__name__)

#: Buffered records reach the disk at least this often, s (what a crash can lose).
FLUSH_S = 1.0
#: Chunk header: magic, payload length (bytes), CRC-32 of the payload; little-endian.
_HEADER = struct.Struct("<4sII")
_MAGIC = b"ATS1"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def sessions_root() -> Path:
    """$XDG_DATA_HOME/attunement/sessions, XDG_DATA_HOME defaulting to ~/.local/share."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "attunement" / "sessions"


def slugify(text: str) -> str:
    """A short, safe folder-name part: lowercase letters, digits and dashes (at most 40)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    return slug or "session"


def voice_records(activity: VoiceActivity) -> np.ndarray:
    """VoiceActivity as records, one a frame: t (s, frame start), speech bool [ch], level_db float32 [ch]."""
    ch, n = activity.speech.shape
    rec = np.empty(n, dtype=[("t", "<f8"), ("speech", "?", (ch,)), ("level_db", "<f4", (ch,))])
    rec["t"] = activity.t0 + np.arange(n) * activity.hop_s
    rec["speech"] = activity.speech.T
    rec["level_db"] = activity.level_db.T
    return rec


class SessionWriter:
    """Writes one session's folder: `append(name, records)` buffers numpy records of one fixed
    dtype per stream; a background thread flushes them every `flush_s` s. `close(status)` ends
    it (`ended`; a context manager that leaves by an exception marks it `interrupted`).
    """

    def __init__(self, slug: str = "practice", *, sources: dict | None = None, settings: dict | None = None,
                 root: str | os.PathLike | None = None, flush_s: float = FLUSH_S,
                 started: dt.datetime | None = None):
        if not flush_s > 0:
            raise ValueError(f"flush_s must be > 0 s, got {flush_s!r}")
        self.flush_s = float(flush_s)
        root = Path(root) if root is not None else sessions_root()
        started = started or dt.datetime.now(dt.timezone.utc)
        self.folder = _new_folder(root, f"{started:%Y%m%dT%H%M%SZ}-{slugify(slug)}")
        self.meta: dict[str, Any] = {
            "format": 1, "started_utc": started.isoformat(timespec="milliseconds"), "ended_utc": None,
            "status": "running", "pid": os.getpid(), "sources": sources or {}, "settings": settings or {},
            "streams": {}}
        self._lock = threading.Lock()
        self._pending: dict[str, list[bytes]] = {}
        self._fds: dict[str, int] = {}
        self._closed = False
        self.problems: list[str] = []  # what could not be written (a full disk), for the review's notes
        self._write_meta()
        self._wake = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="attune-store", daemon=True)
        self._flusher.start()

    def append(self, name: str, records: np.ndarray) -> None:
        """Queues `records` (1-D numpy array, the stream's dtype fixed by its first append) of stream `name`."""
        records = np.ascontiguousarray(records)
        if records.ndim != 1:
            raise ValueError(f"records must be 1-D, got shape {records.shape}")
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.folder}: append() after close()")
            streams = self.meta["streams"]
            if name not in streams:
                if not _NAME.match(name):
                    raise ValueError(f"stream name must match {_NAME.pattern}, got {name!r}")
                streams[name] = {"dtype": _descr_text(records.dtype), "file": f"{name}.log"}
                self._fds[name] = _open_private(self.folder / f"{name}.log", os.O_WRONLY | os.O_APPEND)
                self._write_meta()
            elif _descr_text(records.dtype) != streams[name]["dtype"]:
                raise ValueError(f"stream {name!r} holds {streams[name]['dtype']}, got {records.dtype}")
            if records.size:
                self._pending.setdefault(name, []).append(records.tobytes())

    def append_voice(self, activity: VoiceActivity) -> None:
        """Appends voice activity frames to the `voice` stream (see `voice_records`)."""
        self.append("voice", voice_records(activity))

    def flush(self) -> None:
        """Writes every buffered record as one chunk per stream and fsyncs. A chunk that cannot be
        written (a full disk, a file size limit) is cut off again, so what was written before stays
        readable and later chunks follow it; its records are lost and named in `problems`."""
        with self._lock:
            pending, self._pending = self._pending, {}
            for name, parts in pending.items():
                payload = b"".join(parts)
                fd = self._fds[name]
                end = os.lseek(fd, 0, os.SEEK_END)
                try:
                    data = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload
                    if os.write(fd, data) != len(data):
                        raise OSError(28, "No space left on device")
                    os.fsync(fd)
                except OSError as e:
                    self._lost(name, fd, end, e)

    def close(self, status: str = "ended") -> None:
        """Flushes, marks the session `ended` or `interrupted`, closes the files; safe to call twice."""
        if status not in ("ended", "interrupted"):
            raise ValueError(f"status must be 'ended' or 'interrupted', got {status!r}")
        if self._closed:
            return
        self._wake.set()
        self._flusher.join(timeout=5.0)
        self.flush()
        with self._lock:
            self._closed = True
            self.meta["status"] = status
            self.meta["ended_utc"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
            try:
                self._write_meta()
            except OSError as e:  # a full disk: the old meta.json stays whole (it is replaced atomically)
                log.warning("%s: cannot update meta.json (%s)", self.folder, e.strerror or e)
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()

    def _lost(self, name: str, fd: int, end: int, error: OSError) -> None:
        """Cuts `name`'s log back to `end` after a failed write and notes it once per stream."""
        try:
            os.ftruncate(fd, end)
        except OSError:
            pass  # the torn chunk stays; load_session stops before it
        reason = error.strerror or str(error)
        log.warning("%s: cannot write %s.log (%s)", self.folder, name, reason)
        note = f"part of the session's {name} record could not be saved ({reason})"
        if note not in self.problems:
            self.problems.append(note)

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, kind, *exc) -> None:
        self.close("ended" if kind is None else "interrupted")

    def _flush_loop(self) -> None:
        while not self._wake.wait(self.flush_s / 2):
            try:
                self.flush()
            except OSError as e:  # a full disk: keep the session going, say so
                log.warning("%s: cannot write the session (%s)", self.folder, e.strerror or e)

    def _write_meta(self) -> None:
        """meta.json replaced atomically (write, fsync, rename), mode 0600."""
        tmp = self.folder / "meta.json.tmp"
        fd = _open_private(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, json.dumps(self.meta, indent=1, default=str).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.folder / "meta.json")


@dataclass(frozen=True)
class StoredSession:
    """A session read back: `signals` maps stream name to its records (1-D numpy arrays);
    `status` is ended, interrupted (stopped without ending, e.g. killed) or running;
    `notes` says what was repaired (a torn last chunk)."""

    folder: Path
    meta: dict
    signals: dict[str, np.ndarray]
    status: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def load_session(folder: str | os.PathLike) -> StoredSession:
    """Reads a session folder, also one whose writer was killed mid-write; InputError if it is not one."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except FileNotFoundError:
        raise InputError(f"{folder}: not a session folder (no meta.json)") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{folder}/meta.json: cannot read it ({e})") from None
    notes: list[str] = []
    signals = {}
    for name, info in meta.get("streams", {}).items():
        dtype = _dtype(info["dtype"])
        signals[name], note = _read_log(folder / info["file"], dtype)
        if note:
            notes.append(f"{name}: {note}")
    status = meta.get("status", "running")
    if status == "running" and not process_alive(meta.get("pid")):
        status = "interrupted"
        notes.append("the session did not end cleanly (the program stopped while recording)")
    return StoredSession(folder=folder, meta=meta, signals=signals, status=status, notes=tuple(notes))


def list_sessions(root: str | os.PathLike | None = None) -> list[Path]:
    """Session folders under `root` (default `sessions_root()`), oldest first."""
    root = Path(root) if root is not None else sessions_root()
    found = [p for p in root.iterdir() if (p / "meta.json").exists()] if root.is_dir() else []
    return sorted(found, key=lambda p: (_started(p), p.name))


def _started(folder: Path) -> str:
    """When the session in `folder` started (UTC ISO, milliseconds; names alone tie within a second)."""
    try:
        return str(json.loads((folder / "meta.json").read_text()).get("started_utc") or "")
    except (OSError, ValueError):
        return ""


def _read_log(path: Path, dtype: np.dtype) -> tuple[np.ndarray, str]:
    """Records of a chunk log and a note ('' if whole); a torn or corrupt tail is dropped.

    The file is mapped, not read, and the chunks are viewed in place: the records are copied
    once (an hour of landmarks is ~0.7 GB)."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return np.empty(0, dtype), ""
    with f:
        if not os.fstat(f.fileno()).st_size:
            return np.empty(0, dtype), ""
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapped)
    spans, pos, end = [], 0, len(view)
    while end - pos >= _HEADER.size:
        magic, size, crc = _HEADER.unpack_from(view, pos)
        start = pos + _HEADER.size
        if magic != _MAGIC or end - start < size or size % dtype.itemsize or zlib.crc32(view[start:start + size]) != crc:
            break
        spans.append((start, size))
        pos = start + size
    note = "" if pos == end else f"ignored {end - pos} bytes of a last chunk cut short"
    records = np.empty(sum(n for _, n in spans) // dtype.itemsize, dtype)
    out = records.view(np.uint8)
    k = 0
    for start, size in spans:
        out[k:k + size] = np.frombuffer(view, np.uint8, size, start)
        k += size
    del out
    view.release()
    mapped.close()
    return records, note


def _descr_text(dtype: np.dtype) -> str:
    """A dtype as the text of numpy's descr (what .npy headers hold), read back by `_dtype`."""
    return repr(np.lib.format.dtype_to_descr(dtype))


def _dtype(text: str) -> np.dtype:
    try:
        return np.lib.format.descr_to_dtype(ast.literal_eval(text))
    except (ValueError, TypeError, SyntaxError):
        raise InputError(f"unreadable record type {text!r} in meta.json") from None


def process_alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _new_folder(root: Path, name: str) -> Path:
    """A fresh folder `root/name` (or name-2, -3, ...) with mode 0700; parents made 0700 too."""
    try:
        for d in (root.parent, root):  # attunement/ and sessions/ private too (made 0700 if new)
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{root}: cannot create the sessions folder ({e.strerror or e})") from None
    for k in range(1, 1000):
        folder = root / (name if k == 1 else f"{name}-{k}")
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        except OSError as e:
            raise InputError(f"{folder}: cannot create the session folder ({e.strerror or e})") from None
        os.chmod(folder, 0o700)  # mkdir's mode is reduced by the umask; never widened
        return folder
    raise InputError(f"{root}: too many sessions named {name}")


def _open_private(path: Path, flags: int) -> int:
    fd = os.open(path, flags | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    return fd
