"""Model extraction from the pinned wheel: sha256-checked, 0600, atomic, tampering refused."""

from __future__ import annotations

import hashlib
import stat

import pytest

pytest.importorskip("moonshine_voice", reason="moonshine-voice==0.1.0 not installed")
pytest.importorskip("onnxruntime", reason="onnxruntime not installed")

from attunement import models
from attunement.errors import InputError


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "attunement" / "models"


@pytest.mark.parametrize("name", ["segmentation", "embedding", "silero-vad", "asr-tokenizer"])
def test_extracted_once_with_the_published_hash_and_mode_0600(cache, name):
    path = models.model_path(name)
    assert path.parent == cache
    assert hashlib.sha256(path.read_bytes()).hexdigest() == models.MODELS[name].sha256
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    mtime = path.stat().st_mtime_ns
    assert models.model_path(name) == path and path.stat().st_mtime_ns == mtime  # verified, not rewritten
    assert not list(cache.glob("*.tmp"))


def test_plda_arrays_have_their_shapes(cache):
    arrays = models.load_plda()
    assert {k: v.shape for k, v in arrays.items()} == {k: shape for k, (_, shape) in models.PLDA_ARRAYS.items()}


def test_a_tampered_cached_model_is_refused_with_the_fix(cache):
    path = models.model_path("segmentation")
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(models.ModelError, match="altered.*delete it") as err:
        models.onnx_session("segmentation")
    assert isinstance(err.value, InputError) and "\n" not in str(err.value)


def test_a_missing_wheel_names_the_pip_command(cache, monkeypatch):
    monkeypatch.setattr(models.util, "find_spec", lambda name: None)
    with pytest.raises(models.ModelError, match=r"pip install moonshine-voice==0\.1\.0"):
        models.model_path("embedding")


def test_a_wheel_with_other_bytes_is_refused(cache, monkeypatch):
    monkeypatch.setattr(models, "_extract", lambda name: b"not the model")
    with pytest.raises(models.ModelError, match="expected"):
        models.model_path("embedding")
    assert not (cache / models.MODELS["embedding"].filename).exists()


def test_unknown_name(cache):
    with pytest.raises(models.ModelError, match="unknown model"):
        models.model_path("whisper")


def test_sessions_have_the_documented_inputs(cache):
    seg = models.onnx_session("segmentation", threads=1)
    assert [i.name for i in seg.get_inputs()] == ["waveforms"]
    emb = models.onnx_session("embedding", threads=2)
    assert [i.name for i in emb.get_inputs()] == ["fbank", "weights"]
    with pytest.raises(InputError):
        models.onnx_session("embedding", threads=0)
