"""The package's layers, lowest first, and a check that no module imports a layer above its own.

A module may import its own layer or lower ones. The map is the one place the layers are
written down (README's architecture section and DESIGN.md name the same order); a new module
must be placed in it, or this test fails and says so.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cleaner"

# Module (or package) -> layer; the longest matching prefix decides.
LAYERS: dict[str, int] = {
    # 0: the data every stage shares, and file-system plumbing any layer may need
    "cleaner": 0,
    "cleaner.document": 0,
    "cleaner.files": 0,
    "cleaner.run_clock": 0,
    "cleaner.progress": 0,
    "cleaner.remote": 0,
    "cleaner.storage": 0,
    # 1: reading inputs into Documents
    "cleaner.readers": 1,
    # 2: loading, validating and compiling rule packs
    "cleaner.rules": 2,
    # 3: what several stages share (word lists, the stage interface)
    "cleaner.filters.words": 3,
    "cleaner.filters.stage": 3,
    # 4: the stages
    "cleaner.filters": 4,
    "cleaner.stages": 4,  # the stage list
    # 5: corpus-wide deduplication
    "cleaner.dedup": 5,
    # 6: spilling phase-1 results, counting and writing them
    "cleaner.writers": 6,
    "cleaner.spill": 6,
    "cleaner.stats": 6,
    "cleaner.workdir": 6,
    "cleaner.guards": 6,
    # 7: the stage list and the two phases, the engines that run them, what reads a finished run
    "cleaner.pipeline": 7,
    "cleaner.engines": 7,
    "cleaner.explain": 7,
    "cleaner.report": 7,
    # 8: the entry point
    "cleaner.cli": 8,
}


def layer_of(module: str) -> int | None:
    """The layer of a module: the entry of its longest prefix in LAYERS."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        layer = LAYERS.get(".".join(parts[:end]))
        if layer is not None:
            return layer
    return None


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every `cleaner` import in a file, at any depth (function-level too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "cleaner":  # `from cleaner import x`: x may be a submodule
                found += [(node.lineno, f"cleaner.{alias.name}") for alias in node.names
                          if (PACKAGE / alias.name).is_dir() or (PACKAGE / f"{alias.name}.py").exists()]
                found.append((node.lineno, "cleaner"))
            else:
                found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name == "cleaner" or name.startswith("cleaner.")]


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    unplaced = [module_name(path) for path in SOURCES if layer_of(module_name(path)) is None]
    assert not unplaced, f"place these modules in tests/test_layers.py LAYERS: {unplaced}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: module_name(path))
def test_no_module_imports_a_higher_layer(path):
    own = layer_of(module_name(path))
    assert own is not None
    upward = [f"{path.relative_to(PACKAGE.parent)}:{line} imports {name} (layer {layer_of(name)} > {own})"
              for line, name in imported_modules(path) if (layer_of(name) or 0) > own]
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path):
    """The walker finds imports inside functions too, which is where an upward one would hide."""
    source = tmp_path / "probe.py"
    source.write_text("def late():\n    from cleaner.pipeline import run\n    return run\n", encoding="utf-8")
    assert imported_modules(source) == [(2, "cleaner.pipeline")]
    assert layer_of("cleaner.pipeline") > layer_of("cleaner.rules.model")
