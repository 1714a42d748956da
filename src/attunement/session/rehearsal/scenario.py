"""Rehearsal scenarios: a partner's lines in order, where the user answers, and tips (TOML files).

The built-in scenarios live in attunement/scenarios/*.toml (docs/scenarios.md); `attune rehearse
--script FILE` reads a file of the same format:

    title = "..."                      # shown at the start
    intro = "..."                      # what the user is about to practise
    tips = ["...", "..."]              # one or two, for the summary
    [[lines]]
    text = "..."                       # the partner's line
    answer_s = [3.0, 20.0]             # optional: the user answers after it, expected 3-20 s
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ...conversation.language import GOALS
from ...errors import InputError

_KEYS = {"title", "intro", "tips", "lines", "goals"}
_LINE_KEYS = {"text", "answer_s"}


@dataclass(frozen=True)
class ScenarioLine:
    """One partner line; `answer_s` = (shortest, longest) expected answer in seconds, None if the partner goes on."""

    text: str
    answer_s: tuple[float, float] | None = None

    @property
    def expects_answer(self) -> bool:
        return self.answer_s is not None


@dataclass(frozen=True)
class Scenario:
    """A rehearsal script: title, intro for the user, the partner's lines in order, one or two tips,
    and what the practice is for (`goals`, conversation/language.py's GOALS; the summary says
    whether and where each happened)."""

    name: str
    title: str
    intro: str
    lines: tuple[ScenarioLine, ...]
    tips: tuple[str, ...]
    goals: tuple[str, ...] = ()


def _scenario_dir():
    return resources.files("attunement") / "scenarios"


def list_scenarios() -> list[str]:
    """Names of the built-in scenarios, sorted (file names without .toml)."""
    return sorted(p.name[:-5] for p in _scenario_dir().iterdir() if p.name.endswith(".toml"))


def format_scenarios() -> str:
    """The built-in scenarios, one per line: name, then title (for `attune rehearse --list`)."""
    rows = [(name, load_scenario(name).title) for name in list_scenarios()]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {title}" for name, title in rows)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name, or a scenario file by path (anything with a / or ending in .toml)."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise InputError(f"scenario file {path}: cannot read it ({e.strerror or e})") from None
        return parse_scenario(raw, origin=str(path), name=path.stem)
    available = list_scenarios()
    if text not in available:
        raise InputError(f"unknown scenario {text!r}; available: {', '.join(available)}")
    raw = (_scenario_dir() / f"{text}.toml").read_bytes()
    return parse_scenario(raw, origin=f"{text}.toml", name=text)


def parse_scenario(raw: bytes | str, *, origin: str, name: str) -> Scenario:
    """A Scenario from TOML text; any problem raises InputError naming `origin` and the key."""
    try:
        data = tomllib.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"scenario file {origin} is not valid TOML: {e}") from None
    unknown = set(data) - _KEYS
    if unknown:
        raise InputError(f"scenario file {origin}: unknown key(s) {sorted(unknown)}; known: {sorted(_KEYS)}")
    title = _text(data, "title", origin)
    intro = _text(data, "intro", origin)
    tips = data.get("tips", [])
    if not isinstance(tips, list) or not 1 <= len(tips) <= 2 or not all(isinstance(t, str) and t.strip() for t in tips):
        raise InputError(f"scenario file {origin}: 'tips' must be a list of one or two non-empty strings")
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise InputError(f"scenario file {origin}: 'lines' must be one or more [[lines]] tables")
    parsed = tuple(_line(i, line, origin) for i, line in enumerate(lines))
    if not any(line.expects_answer for line in parsed):
        raise InputError(f"scenario file {origin}: no line has 'answer_s', so the user never answers")
    goals = data.get("goals", [])
    if not isinstance(goals, list) or not all(isinstance(g, str) for g in goals) or set(goals) - set(GOALS):
        raise InputError(f"scenario file {origin}: 'goals' must be a list of practice goals from {', '.join(GOALS)}; "
                         f"got {goals!r}")
    return Scenario(name=name, title=title, intro=intro, lines=parsed, tips=tuple(t.strip() for t in tips),
                    goals=tuple(goals))


def _text(data: dict[str, Any], key: str, origin: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"scenario file {origin}: '{key}' must be a non-empty string")
    return value.strip()


def _line(i: int, line: Any, origin: str) -> ScenarioLine:
    where = f"scenario file {origin}: lines[{i}]"
    if not isinstance(line, dict):
        raise InputError(f"{where} must be a table with 'text'")
    unknown = set(line) - _LINE_KEYS
    if unknown:
        raise InputError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(_LINE_KEYS)}")
    text = _text(line, "text", f"{origin} lines[{i}]")
    answer = line.get("answer_s")
    if answer is None:
        return ScenarioLine(text)
    ok = (isinstance(answer, list) and len(answer) == 2
          and all(isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a) for a in answer)
          and 0 < answer[0] <= answer[1] <= 600)
    if not ok:
        raise InputError(f"{where}: 'answer_s' = {answer!r} must be [shortest, longest] seconds, "
                         "0 < shortest <= longest <= 600")
    return ScenarioLine(text, (float(answer[0]), float(answer[1])))
