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

from .errors import ConfigError


@dataclass(frozen=True)
class VadConfig:
    """Voice activity (perception/vad.py); units and sources in the [vad] section of defaults.toml."""

    frame_ms: int
    aggressiveness: int
    highpass_hz: float
    min_snr_db: float
    range_db: float
    floor_rise_db_per_s: float
    level_tau_s: float
    min_speech_s: float
    min_pause_s: float
    onset_pad_s: float
    hangover_s: float

    def __post_init__(self) -> None:
        if self.frame_ms not in (10, 20, 30):
            raise ConfigError(f"[vad] frame_ms = {self.frame_ms}: webrtcvad takes 10, 20 or 30 ms frames")
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ConfigError(f"[vad] aggressiveness = {self.aggressiveness}: must be 0, 1, 2 or 3")
        if not 0 < self.highpass_hz < 4000:
            raise ConfigError(f"[vad] highpass_hz = {self.highpass_hz}: must lie in (0, 4000) Hz")
        if self.range_db <= 0 or self.level_tau_s <= 0 or self.floor_rise_db_per_s < 0:
            raise ConfigError(f"[vad] range_db = {self.range_db}, level_tau_s = {self.level_tau_s} must be > 0 "
                              f"and floor_rise_db_per_s = {self.floor_rise_db_per_s} >= 0")
        for key in ("min_speech_s", "min_pause_s", "onset_pad_s", "hangover_s"):
            if not 0 <= getattr(self, key) <= 10:
                raise ConfigError(f"[vad] {key} = {getattr(self, key)}: must lie in [0, 10] s")


@dataclass(frozen=True)
class TurnConfig:
    bridge_pause_s: float
    backchannel_max_s: float
    interruption_min_holdover_s: float
    interruption_min_continue_s: float


@dataclass(frozen=True)
class ChannelConfig:
    leak_margin_db: float


@dataclass(frozen=True)
class SummaryConfig:
    norm_gap_s: float
    hesitation_gap_s: float
    monologue_s: float
    balance_share: float


@dataclass(frozen=True)
class Config:
    vad: VadConfig
    turns: TurnConfig
    channels: ChannelConfig
    summary: SummaryConfig

    def replace(self, section: str, **values: Any) -> "Config":
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
