"""Trained models, offline and verified: pulled out of the pinned `moonshine-voice==0.1.0` wheel.

`model_path(name)` returns a file in the user cache (`$XDG_CACHE_HOME/attunement/models`, default
`~/.cache/attunement/models`), extracting it from the installed wheel on first use (atomically,
mode 0600) and checking its sha256 before every load; `onnx_session(name, threads=...)` opens it
with onnxruntime. Nothing is ever downloaded. Names:

| name | what | where in the wheel |
| --- | --- | --- |
| `segmentation` | pyannote community-1 segmentation (CC-BY-4.0), ONNX Runtime format | data symbol in `libmoonshine.so` |
| `embedding` | WeSpeaker ResNet34 speaker embedding (CC-BY-4.0), ONNX Runtime format | data symbol in `libmoonshine.so` |
| `silero-vad` | Silero VAD v5 (MIT), ONNX Runtime format: 512-sample chunks at 16 kHz, recurrent state | data symbol `silero_vad_onnx` in `libmoonshine.so` |
| `plda` | community-1's x-vector transform and PLDA for VBx (.npz: mean1, mean2, lda, mu, psi, tr) | data symbols in `libmoonshine.so` |
| `asr-encoder`, `asr-decoder`, `asr-tokenizer` | Moonshine tiny-en (MIT) | `moonshine_voice/assets/tiny-en/` |
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import util
from pathlib import Path

import numpy as np

from ..errors import InputError
from .elf import ElfFile

log = logging.getLogger(__name__)

WHEEL = "moonshine-voice==0.1.0"
_FIX = f"reinstall the pinned wheel: pip install {WHEEL}"
_NS = "_ZN9cppannote19embedded_community1"


class ModelError(InputError):
    """A trained model is missing from the install or is not the file we expect."""


@dataclass(frozen=True)
class _Spec:
    filename: str
    sha256: str
    asset: str | None = None   # path inside the moonshine_voice package (plain file)
    symbol: str | None = None  # data symbol in libmoonshine.so, length at `symbol_size`
    plain: str | None = None   # an unmangled (C) data symbol in libmoonshine.so, length at `plain_len`


MODELS: dict[str, _Spec] = {
    "segmentation": _Spec("community1-segmentation.ort",
                          "9715e3996ef181252aa1cc0c9398060f42b2c984c2fb65e3604262555e2efb1a",
                          symbol="segmentation_ort_data"),
    "embedding": _Spec("wespeaker-resnet34.ort",
                       "6e4af7d49562e6e7042672e444d6394935cb2c23c3a7dd4919da45922b91735b",
                       symbol="embedding_ort_data"),
    "silero-vad": _Spec("silero-vad.ort", "a620103ef77fbdae23c7798b9271506a48a883997e55f851d2884551e0947437",
                        plain="silero_vad_onnx"),
    "plda": _Spec("community1-plda.npz", "", symbol=None),  # built from six symbols; hash of the arrays below
    "asr-encoder": _Spec("moonshine-tiny-en-encoder.ort",
                         "94e90a4654fc45cdfedb77c4c08e1739f48862998e58fada384b25118134f221",
                         asset="assets/tiny-en/encoder_model.ort"),
    "asr-decoder": _Spec("moonshine-tiny-en-decoder.ort",
                         "cf524c4862d36e9e5ab032eddc73637efd822d70e868ac575cf1a46e1e4708a0",
                         asset="assets/tiny-en/decoder_model_merged.ort"),
    "asr-tokenizer": _Spec("moonshine-tiny-en-tokenizer.bin",
                           "6884b35fd6377d4c4d32336a0bc152f36b64d1e45b6503683cdc238250a8472d",
                           asset="assets/tiny-en/tokenizer.bin"),
}

#: The PLDA / x-vector arrays: symbol -> (dtype, shape). Their bytes, concatenated in this order,
#: hash to PLDA_SHA256 (measured on moonshine-voice 0.1.0).
PLDA_ARRAYS: dict[str, tuple[str, tuple[int, ...]]] = {
    "xvec_mean1": ("<f8", (256,)),
    "xvec_mean2": ("<f4", (128,)),
    "xvec_lda": ("<f4", (256, 128)),
    "plda_mu": ("<f8", (128,)),
    "plda_psi": ("<f8", (128,)),
    "plda_tr": ("<f8", (128, 128)),
}
PLDA_SHA256 = "4aae84e66f5a8532104d3f3f7b5477b50a9dedcbf4d6c079fbc4dd91647df91d"


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/attunement/models` (default `~/.cache/attunement/models`)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "attunement" / "models"


def package_dir() -> Path:
    """The installed `moonshine_voice` package folder (found, never imported)."""
    spec = util.find_spec("moonshine_voice")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the trained speech models are not installed; {_FIX}")
    return Path(next(iter(spec.submodule_search_locations)))


def _mangled(symbol: str) -> str:
    return f"{_NS}{len(symbol)}{symbol}E"


def read_symbol(elf: ElfFile, symbols: dict, symbol: str) -> bytes:
    """The bytes of a `cppannote::embedded_community1::` data symbol (length from `symbol_size` if present)."""
    sym = symbols.get(_mangled(symbol))
    if sym is None:
        raise ModelError(f"{elf.path} has no symbol {symbol}; {_FIX}")
    size = sym.size
    size_sym = symbols.get(_mangled(symbol + "_size"))
    if size_sym is not None:
        size, = struct.unpack("<Q", elf.read(size_sym.value, 8))
    return elf.read(sym.value, size)


def read_plain_symbol(elf: ElfFile, symbols: dict, symbol: str) -> bytes:
    """The bytes of an unmangled data symbol whose length is the integer at `symbol_len` (4 or 8 bytes)."""
    sym, size_sym = symbols.get(symbol), symbols.get(symbol + "_len")
    if sym is None or size_sym is None or size_sym.size not in (4, 8):
        raise ModelError(f"{elf.path} has no symbol {symbol} with its length; {_FIX}")
    size, = struct.unpack("<I" if size_sym.size == 4 else "<Q", elf.read(size_sym.value, size_sym.size))
    return elf.read(sym.value, size)


def _extract(name: str) -> bytes:
    spec = MODELS[name]
    pkg = package_dir()
    if spec.asset is not None:
        path = pkg / spec.asset
        try:
            return path.read_bytes()
        except OSError:
            raise ModelError(f"model file {path} is missing; {_FIX}") from None
    lib = pkg / "libmoonshine.so"
    if not lib.is_file():
        raise ModelError(f"{lib} is missing; {_FIX}")
    with ElfFile(lib) as elf:
        symbols = elf.symbols()
        if spec.plain is not None:
            return read_plain_symbol(elf, symbols, spec.plain)
        if spec.symbol is not None:
            return read_symbol(elf, symbols, spec.symbol)
        arrays = {}
        for sym, (dtype, shape) in PLDA_ARRAYS.items():
            raw = read_symbol(elf, symbols, sym)
            if len(raw) != np.dtype(dtype).itemsize * int(np.prod(shape)):
                raise ModelError(f"{lib}: symbol {sym} has {len(raw)} bytes, not a {dtype} array of {shape}; {_FIX}")
            arrays[sym] = np.frombuffer(raw, dtype=dtype).reshape(shape)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _digest(name: str, data: bytes) -> str:
    if name == "plda":  # the npz container is not byte-stable across numpy versions; hash the arrays
        with np.load(io.BytesIO(data)) as z:
            return hashlib.sha256(b"".join(np.ascontiguousarray(z[k]).tobytes() for k in PLDA_ARRAYS)).hexdigest()
    return hashlib.sha256(data).hexdigest()


def _expected(name: str) -> str:
    return PLDA_SHA256 if name == "plda" else MODELS[name].sha256


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def model_path(name: str) -> Path:
    """The verified model file `name` in the user cache, extracted from the installed wheel on first use.

    Raises ModelError (an InputError) when the wheel is missing, the extracted bytes are not the
    expected model, or a cached file was altered (its sha256 is checked on every call).
    """
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    path = cache_dir() / MODELS[name].filename
    want = _expected(name)
    if not path.exists():
        data = _extract(name)
        got = _digest(name, data)
        if got != want:
            raise ModelError(f"model {name} in the installed wheel has sha256 {got[:12]}.., expected "
                             f"{want[:12]}..; {_FIX}")
        _write_atomic(path, data)
        log.info("extracted model %s to %s", name, path)
        return path
    try:
        got = _digest(name, path.read_bytes())
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:  # unreadable, or not the npz
        got = f"unreadable ({e.__class__.__name__})"
    if got != want:
        raise ModelError(f"cached model {path} is altered (sha256 {got[:12]}.., expected {want[:12]}..); "
                         f"delete it to extract it again from the wheel ({_FIX} if that fails)")
    return path


def load_plda() -> dict[str, np.ndarray]:
    """community-1's x-vector transform and PLDA arrays (see PLDA_ARRAYS), verified."""
    with np.load(model_path("plda")) as z:
        return {k: z[k] for k in PLDA_ARRAYS}


def onnx_session(name: str, *, threads: int = 1):
    """An onnxruntime InferenceSession of model `name` on the CPU with `threads` intra-op threads.

    The file is verified (sha256) and read once, and the session built from the checked bytes.
    """
    if threads < 1:
        raise InputError(f"threads = {threads}: must be >= 1")
    try:
        import onnxruntime as ort
    except ImportError:
        raise ModelError("onnxruntime is not installed; pip install onnxruntime") from None
    path = model_path(name)
    data = path.read_bytes()
    if _digest(name, data) != _expected(name):
        raise ModelError(f"cached model {path} changed while loading; delete it and retry")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    opts.enable_cpu_mem_arena = False  # inputs vary in length: an arena keeps the largest of each
    return ort.InferenceSession(data, sess_options=opts, providers=["CPUExecutionProvider"])
