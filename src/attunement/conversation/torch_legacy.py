"""Read a PyTorch checkpoint in torch's legacy (pre-1.6, not zip) serialization into numpy arrays, without torch.

The legacy file is a run of pickles: a magic number, the protocol version (1001), system info,
the object itself (tensors as `torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
...)` with each storage a persistent id `("storage", torch.FloatStorage, key, location, numel,
view)`), the list of storage keys; then, per key in that order, an int64 element count and the
storage's raw little-endian bytes. A restricted unpickler admits only the few classes such a
file needs (anything else is an InputError: a pickle may name any callable), and tensors become
numpy arrays copied out of their storages with the tensor's offset, shape and strides.
"""

from __future__ import annotations

import collections
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import InputError

MAGIC = 0x1950A86A20F9469CFC6C
PROTOCOL = 1001

#: Storage classes of the legacy format and the numpy dtypes of their elements.
STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


@dataclass(frozen=True)
class _StorageType:
    name: str


@dataclass
class _Storage:
    key: str
    dtype: type
    numel: int
    data: np.ndarray | None = None


@dataclass(frozen=True)
class _Tensor:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, *_):
    return _Tensor(storage, int(storage_offset), tuple(int(s) for s in size), tuple(int(s) for s in stride))


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _Tensor(storage, int(storage_offset), tuple(int(s) for s in size), tuple(int(s) for s in stride))


class _Unpickler(pickle.Unpickler):
    """An unpickler that resolves only OrderedDict, the tensor rebuild functions and storage classes."""

    def __init__(self, f: BinaryIO, path: str, storages: dict[str, _Storage]):
        super().__init__(f)
        self._path = path
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if (module, name) == ("torch._utils", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise InputError(f"{self._path}: refusing to load {module}.{name} (not a plain tensor checkpoint)")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise InputError(f"{self._path}: unexpected persistent id {pid!r:.80}")
        _, kind, key, _location, numel = pid[:5]
        if len(pid) > 5 and pid[5] is not None:
            raise InputError(f"{self._path}: storage views are not supported (storage {key})")
        if key not in self.storages:
            self.storages[key] = _Storage(str(key), STORAGE_DTYPES[kind.name], int(numel))
        return self.storages[key]


def load_legacy(path: str | Path) -> dict[str, Any]:
    """The object saved in a legacy torch file at `path`, tensors replaced by numpy arrays (copies).

    Raises InputError when the file is missing, is not a legacy torch file (a zip-format file
    from torch >= 1.6 included), or names anything but tensors, storages and OrderedDicts.
    """
    path = str(path)
    try:
        f = open(path, "rb")
    except OSError as e:
        raise InputError(f"cannot open model file {path}: {e.strerror}") from None
    with f:
        if f.read(2) == b"PK":
            raise InputError(f"{path}: a zip-format torch file; only the legacy format is read")
        f.seek(0)
        storages: dict[str, _Storage] = {}
        try:
            if _Unpickler(f, path, storages).load() != MAGIC:
                raise InputError(f"{path}: not a legacy torch file (wrong magic number)")
            if _Unpickler(f, path, storages).load() != PROTOCOL:
                raise InputError(f"{path}: unsupported legacy torch protocol")
            info = _Unpickler(f, path, storages).load()
            if not info.get("little_endian", True):
                raise InputError(f"{path}: big-endian torch files are not supported")
            obj = _Unpickler(f, path, storages).load()
            keys = _Unpickler(f, path, storages).load()
        except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as e:
            raise InputError(f"{path}: not a readable legacy torch file ({e})") from None
        if not isinstance(keys, list) or any(k not in storages for k in keys):
            raise InputError(f"{path}: the storage key list does not match the tensors")
        size = os.fstat(f.fileno()).st_size
        for key in keys:
            _read_storage(f, path, storages[key], size)
        missing = sorted(k for k, s in storages.items() if s.data is None)
        if missing:
            raise InputError(f"{path}: storages {missing[:3]} are used but not stored")
    return _materialise(obj)


def _read_storage(f: BinaryIO, path: str, storage: _Storage, file_size: int) -> None:
    head = f.read(8)
    itemsize = np.dtype(storage.dtype).itemsize
    if len(head) != 8:
        raise InputError(f"{path}: truncated at storage {storage.key}")
    numel = int.from_bytes(head, "little", signed=True)
    if numel != storage.numel:
        raise InputError(f"{path}: storage {storage.key} holds {numel} elements, the header said {storage.numel}")
    if numel < 0 or numel * itemsize > file_size - f.tell():
        raise InputError(f"{path}: truncated at storage {storage.key}")
    raw = f.read(numel * itemsize)
    if len(raw) != numel * itemsize:
        raise InputError(f"{path}: truncated at storage {storage.key}")
    storage.data = np.frombuffer(raw, dtype=np.dtype(storage.dtype).newbyteorder("<"))


def _materialise(obj: Any) -> Any:
    if isinstance(obj, _Tensor):
        data = obj.storage.data
        itemsize = data.itemsize
        last = obj.offset + sum((n - 1) * s for n, s in zip(obj.size, obj.stride))
        if all(obj.size) and (obj.offset < 0 or any(s < 0 for s in obj.stride) or last >= data.size):
            raise InputError(f"tensor of shape {obj.size} lies outside its storage {obj.storage.key}")
        view = np.lib.stride_tricks.as_strided(data[obj.offset:], shape=obj.size,
                                               strides=tuple(s * itemsize for s in obj.stride))
        return np.array(view, dtype=data.dtype.newbyteorder("="))
    if isinstance(obj, dict):
        return {k: _materialise(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialise(v) for v in obj)
    return obj
