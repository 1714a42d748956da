import pytest

from attunement.config import default_config, load_config, provenance
from attunement.errors import ConfigError


def test_every_default_states_unit_and_source():
    for section, keys in provenance().items():
        for key, entry in keys.items():
            assert set(entry) == {"value", "unit", "source"}, (section, key)
            assert entry["unit"] and len(entry["source"]) > 20, (section, key)


def test_user_file_overrides_and_rejects_typos(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[turns]\nbridge_pause_s = 0.3\n")
    assert load_config(good).turns.bridge_pause_s == 0.3
    assert load_config(good).vad == default_config().vad
    typo = tmp_path / "typo.toml"
    typo.write_text("[turns]\nbridge_pause = 0.3\n")
    with pytest.raises(ConfigError, match="bridge_pause"):
        load_config(typo)
    wrong_type = tmp_path / "type.toml"
    wrong_type.write_text('[turns]\nbridge_pause_s = "long"\n')
    with pytest.raises(ConfigError, match="should be float"):
        load_config(wrong_type)
