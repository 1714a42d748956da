"""The shape of the package (docs/architecture.md): layers that only look down (import-linter's
contracts in pyproject.toml), no private name imported across modules, no import cycle, small modules."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SRC = REPO / "src" / "attunement"
#: The longest module allowed, lines (the issue's "about 400"; aiortc-sized modules).
MAX_LINES = 420


def _modules() -> dict[str, Path]:
    out = {}
    for f in SRC.rglob("*.py"):
        parts = ("attunement",) + f.relative_to(SRC).with_suffix("").parts
        out[".".join(parts).removesuffix(".__init__")] = f
    return out


def _imports(mods: dict[str, Path]):
    """(importer, imported module, imported name or None) for every attunement import."""
    for mod, f in mods.items():
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if f.name == "__init__.py" else mod.split(".")[:-1]
                    base = base[:len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.startswith("attunement"):
                    for a in node.names:
                        full = f"{target}.{a.name}"
                        yield mod, (full if full in mods else target), (None if full in mods else a.name)


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "lint-imports (import-linter, in the test extra) is not installed"
    run = subprocess.run([exe, "--config", str(REPO / "pyproject.toml")], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_no_private_name_is_imported_across_modules():
    mods = _modules()
    bad = [f"{a} imports {name} from {b}" for a, b, name in _imports(mods)
           if name and name.startswith("_") and not name.startswith("__") and a != b]
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    mods = _modules()
    edges: dict[str, set[str]] = {}
    for a, b, _ in _imports(mods):
        if b in mods and a != b:
            edges.setdefault(a, set()).add(b)
    seen, stack, cycles = {}, [], []

    def visit(v):  # depth-first search; a grey node reached again closes a cycle
        seen[v] = "grey"
        stack.append(v)
        for w in sorted(edges.get(v, ())):
            if seen.get(w) == "grey":
                cycles.append(stack[stack.index(w):] + [w])
            elif w not in seen:
                visit(w)
        stack.pop()
        seen[v] = "black"

    for v in sorted(mods):
        if v not in seen:
            visit(v)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_modules_stay_small(path):
    lines = path.read_text().count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines (at most {MAX_LINES})"


@pytest.mark.parametrize("name", sorted(m for m in _modules() if not m.endswith("__main__")))
def test_every_module_imports(name):
    import importlib

    importlib.import_module(name)
