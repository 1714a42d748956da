"""Read data symbols out of an ELF64 shared library without loading it (no `nm`, no dlopen).

Only what model extraction needs: the section headers, the dynamic symbol table and its
string table, and the file bytes behind a symbol's virtual address.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from ..errors import InputError

_SHT_DYNSYM = 11
_SHT_NOBITS = 8


@dataclass(frozen=True)
class Symbol:
    """One dynamic symbol: `name` (mangled), virtual address `value`, `size` in bytes."""

    name: str
    value: int
    size: int


@dataclass(frozen=True)
class _Section:
    type: int
    addr: int
    offset: int
    size: int
    link: int
    entsize: int


class ElfFile:
    """An ELF64 little-endian file opened for reading symbols: `symbols()`, `read(symbol)`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._f = open(self.path, "rb")  # noqa: SIM115 (closed by close() / __exit__)
        except OSError as e:
            raise InputError(f"cannot open {self.path}: {e.strerror}") from None
        head = self._f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            self._f.close()
            raise InputError(f"{self.path} is not a 64-bit little-endian ELF file")
        shoff, = struct.unpack_from("<Q", head, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", head, 0x3A)
        self._f.seek(shoff)
        raw = self._f.read(shentsize * shnum)
        self._sections = []
        for i in range(shnum):
            (_name, typ, _flags, addr, offset, size, link, _info, _align,
             entsize) = struct.unpack_from("<IIQQQQIIQQ", raw, i * shentsize)
            self._sections.append(_Section(typ, addr, offset, size, link, entsize))

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _bytes(self, offset: int, size: int) -> bytes:
        self._f.seek(offset)
        data = self._f.read(size)
        if len(data) != size:
            raise InputError(f"{self.path} is truncated (wanted {size} bytes at {offset})")
        return data

    def symbols(self) -> dict[str, Symbol]:
        """Every named symbol of the dynamic symbol table (.dynsym), by mangled name."""
        out: dict[str, Symbol] = {}
        for sec in self._sections:
            if sec.type != _SHT_DYNSYM:
                continue
            strtab = self._sections[sec.link]
            names = self._bytes(strtab.offset, strtab.size)
            table = self._bytes(sec.offset, sec.size)
            entsize = sec.entsize or 24
            for k in range(sec.size // entsize):
                st_name, _info, _other, shndx, value, size = struct.unpack_from("<IBBHQQ", table, k * entsize)
                if st_name == 0 or shndx == 0:
                    continue
                end = names.index(b"\0", st_name)
                name = names[st_name:end].decode("ascii", "replace")
                out[name] = Symbol(name, value, size)
        return out

    def read(self, address: int, size: int) -> bytes:
        """`size` file bytes at virtual `address` (inside one section that has file contents)."""
        for sec in self._sections:
            if sec.type != _SHT_NOBITS and sec.addr and sec.addr <= address and address + size <= sec.addr + sec.size:
                return self._bytes(sec.offset + address - sec.addr, size)
        raise InputError(f"{self.path}: no section holds {size} bytes at address {address:#x}")
