"""What a batch is made of: the recordings of a folder or a CSV manifest, each with its review settings,
and the key that says whether a recording was already reviewed with those settings.

A folder is searched recursively for media files (by extension). A manifest is a CSV file with a
header row; only `path` is required (relative paths are taken against the manifest's folder):

| column | what | like `attune review` |
| --- | --- | --- |
| path | the recording | `INPUT` |
| speakers | how many people share the one microphone, 1 to MAX_SPEAKERS | `--speakers` |
| channels_are_speakers | true/false: one channel per person | `--channels-are-speakers` |
| names | speaker names separated by `;` or `,` | `--names` |
| rttm | an RTTM annotation with the speakers of this (mono) recording | `--rttm` |
| me | the speaker id who is the person being reviewed | `--me` |
| no_video | true/false: ignore a video track | `--no-video` |

An empty cell takes the batch's default (the command-line option).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ... import __version__
from ...config import MAX_SPEAKERS, Config
from ...errors import InputError

#: What a folder search takes as a recording (docs/media.md lists what FFmpeg reads).
MEDIA_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".m4a", ".aac", ".opus", ".ogg", ".oga",
                            ".mp4", ".mkv", ".mov", ".webm"})
MANIFEST_COLUMNS = ("path", "speakers", "channels_are_speakers", "names", "rttm", "me", "no_video")
_TRUE, _FALSE = {"1", "true", "yes", "y"}, {"0", "false", "no", "n"}


@dataclass(frozen=True)
class Settings:
    """The review options of one recording, as `attune review` takes them; `rttm` is an absolute path."""

    speakers: int | None = None
    channels_are_speakers: bool = False
    names: tuple[str, ...] | None = None
    rttm: str | None = None
    me: str | None = None
    no_video: bool = False


@dataclass(frozen=True)
class Job:
    """One recording of a batch: `path` (absolute, what the review reads), `file` (as the table shows it:
    relative to the input folder or as written in the manifest), `name` (its output folder under DIR)."""

    path: str
    file: str
    name: str
    settings: Settings


def find_jobs(source: str | Path, *, defaults: Settings = Settings()) -> list[Job]:
    """The recordings of a folder (recursively, media files by extension, sorted) or of a CSV manifest
    (in its order). InputError for anything else, a manifest that cannot be read, or no recordings."""
    source = Path(source)
    if source.is_dir():
        found = sorted(p for p in source.rglob("*") if p.suffix.lower() in MEDIA_SUFFIXES and p.is_file())
        entries = [(p.relative_to(source).as_posix(), p.resolve(), defaults) for p in found]
    elif source.is_file() and source.suffix.lower() == ".csv":
        entries = read_manifest(source, defaults=defaults)
    elif not source.exists():
        raise InputError(f"no such folder or manifest: {source}")
    else:
        raise InputError(f"{source}: give a folder of recordings or a .csv manifest")
    if not entries:
        raise InputError(f"{source}: no recordings found (media files: {', '.join(sorted(MEDIA_SUFFIXES))})")
    names = unique_names([file for file, _, _ in entries])
    return [Job(str(path), file, name, settings) for (file, path, settings), name in zip(entries, names)]


def read_manifest(path: Path, *, defaults: Settings = Settings()) -> list[tuple[str, Path, Settings]]:
    """(file as written, absolute path, settings) for each row of the manifest at `path`."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [(c or "").strip() for c in reader.fieldnames or []]
            rows = [(reader.line_num, row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: not a readable CSV manifest ({e})") from None
    unknown = [c for c in header if c not in MANIFEST_COLUMNS]
    if "path" not in header or unknown:
        raise InputError(f"{path}: the header needs a 'path' column and only {', '.join(MANIFEST_COLUMNS)}"
                         + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    base, out = path.parent, []
    for line, row in rows:
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str) or v is None}
        if not row.get("path"):
            raise InputError(f"{path}:{line}: empty path")
        out.append((row["path"], (base / row["path"]).resolve(), _settings(row, defaults, base, f"{path}:{line}")))
    return out


def _settings(row: Mapping[str, str], defaults: Settings, base: Path, where: str) -> Settings:
    values = {}
    if row.get("speakers"):
        n = row["speakers"]
        if not (n.isdigit() and 1 <= int(n) <= MAX_SPEAKERS):
            raise InputError(f"{where}: speakers takes a count from 1 to {MAX_SPEAKERS}, got {n!r}")
        values["speakers"] = int(n)
    for flag in ("channels_are_speakers", "no_video"):
        if row.get(flag):
            text = row[flag].lower()
            if text not in _TRUE | _FALSE:
                raise InputError(f"{where}: {flag} takes true or false, got {row[flag]!r}")
            values[flag] = text in _TRUE
    if row.get("names"):
        values["names"] = split_names(row["names"])
    if row.get("rttm"):
        values["rttm"] = str((base / row["rttm"]).resolve())
    if row.get("me"):
        values["me"] = row["me"]
    return dataclasses.replace(defaults, **values)


def split_names(text: str) -> tuple[str, ...]:
    """Speaker names separated by ';' or ','."""
    return tuple(n.strip() for n in text.replace(";", ",").split(",") if n.strip())


def unique_names(files: list[str]) -> list[str]:
    """An output folder name for each file: its relative path with '/' as '__', made unique with '~2', '~3'."""
    seen: dict[str, int] = {}
    out = []
    for file in files:
        parts = [p for p in file.replace("\\", "/").split("/") if p not in ("", ".", "..")]
        name = "__".join(parts) or "recording"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}~{seen[name]}")
    return out


def file_digest(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """sha256 of a file's content (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def settings_fingerprint(config: Config) -> str:
    """sha256 of every setting of `config` and the attunement version: a change in either redoes a review."""
    text = json.dumps({"config": dataclasses.asdict(config), "version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def job_key(job: Job, *, content: str, fingerprint: str, rttm: str | None = None) -> str:
    """The key of a review: the recording's content hash, its RTTM's content hash, its own settings
    (not where the files are), its output folder name and the batch's settings fingerprint."""
    own = dataclasses.asdict(job.settings) | {"rttm": rttm}
    text = json.dumps({"content": content, "settings": own, "name": job.name, "fingerprint": fingerprint},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
