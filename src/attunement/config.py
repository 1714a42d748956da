"""Settings: one frozen config object, its defaults read from calibration/defaults.toml.

Every threshold there carries its unit and source; a user's TOML file may override values,
and unknown sections or keys are an error (a typo must never be ignored silently).
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .config_sections import (  # noqa: F401 - the sections are part of this module's interface
    MAX_SPEAKERS,
    ChannelConfig,
    CueConfig,
    DiarizationConfig,
    PerceptionConfig,
    PostureConfig,
    RehearsalConfig,
    SummaryConfig,
    TurnConfig,
    VadConfig,
    WordsConfig,
)
from .errors import ConfigError


@dataclass(frozen=True)
class Config:
    vad: VadConfig
    turns: TurnConfig
    channels: ChannelConfig
    summary: SummaryConfig
    perception: PerceptionConfig
    diarization: DiarizationConfig
    posture: PostureConfig
    cues: CueConfig
    rehearse: RehearsalConfig
    words: WordsConfig

    def replace(self, section: str, **values: Any) -> Config:
        """A copy with some values of one section changed (keyword names as in the TOML)."""
        return _merge(self, {section: values}, origin="replace()")


def defaults_path() -> Path:
    """Where the defaults live: inside an installed wheel, else calibration/ of the source tree."""
    packaged = resources.files("attunement") / "defaults.toml"
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "calibration" / "defaults.toml"


def provenance() -> dict[str, dict[str, dict[str, Any]]]:
    """The defaults with their units and sources, section -> key -> {value, unit, source}."""
    with open(defaults_path(), "rb") as f:
        return tomllib.load(f)


def default_config() -> Config:
    """The defaults of calibration/defaults.toml as a Config."""
    raw = provenance()
    values = {sec: {k: entry["value"] for k, entry in keys.items()} for sec, keys in raw.items()}
    return _build(values, origin=str(defaults_path()))


def load_config(path: str | Path | None = None) -> Config:
    """Defaults, overridden by the user's TOML file at `path` if given."""
    config = default_config()
    if path is None:
        return config
    try:
        with open(path, "rb") as f:
            overrides = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"settings file not found: {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"settings file {path} is not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"settings file {path} is not UTF-8 text (byte {e.start}); TOML files are UTF-8") from None
    except OSError as e:
        raise ConfigError(f"settings file {path} cannot be read ({e.strerror or e})") from None
    return _merge(config, overrides, origin=str(path))


def _sections() -> dict[str, type]:
    return {f.name: f.type if isinstance(f.type, type) else globals()[f.type] for f in dataclasses.fields(Config)}


def _build(values: dict[str, dict[str, Any]], origin: str) -> Config:
    sections = _sections()
    unknown = set(values) - set(sections)
    if unknown:
        raise ConfigError(f"{origin}: unknown section(s) {sorted(unknown)}; known: {sorted(sections)}")
    built = {}
    for name, cls in sections.items():
        given = values.get(name, {})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        bad = set(given) - set(fields)
        if bad:
            raise ConfigError(f"{origin}: unknown key(s) {sorted(bad)} in [{name}]; known: {sorted(fields)}")
        missing = set(fields) - set(given)
        if missing:
            raise ConfigError(f"{origin}: missing key(s) {sorted(missing)} in [{name}]")
        built[name] = cls(**{k: _coerce(name, k, fields[k].type, v, origin) for k, v in given.items()})
    return Config(**built)


def _coerce(section: str, key: str, typ: Any, value: Any, origin: str) -> Any:
    want = {"int": int, "float": float, "bool": bool, "str": str}.get(typ if isinstance(typ, str) else typ.__name__)
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if want is not None and not isinstance(value, want):
        raise ConfigError(f"{origin}: [{section}] {key} = {value!r} should be {want.__name__}")
    return value


def _merge(config: Config, overrides: dict[str, Any], origin: str) -> Config:
    values = {name: dataclasses.asdict(getattr(config, name)) for name in _sections()}
    for section, keys in overrides.items():
        if section not in values:
            raise ConfigError(f"{origin}: unknown section [{section}]; known: {sorted(values)}")
        if not isinstance(keys, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table of settings")
        for key, value in keys.items():
            if key not in values[section]:
                raise ConfigError(
                    f"{origin}: unknown key {key!r} in [{section}]; known: {sorted(values[section])}")
            values[section][key] = value
    return _build(values, origin=origin)
