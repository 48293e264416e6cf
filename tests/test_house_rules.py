"""House rules that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_HANDBOOK = ROOT.parent / "shared" / "data" / "handbook.toml"


def test_handbook_copy_is_verbatim() -> None:
    # The product seeds from its own copy so it installs anywhere; the copy
    # must never drift from the shared source of truth.
    if SHARED_HANDBOOK.exists():
        assert (
            ROOT / "app" / "data" / "handbook.toml"
        ).read_bytes() == SHARED_HANDBOOK.read_bytes()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_routers_never_touch_sql() -> None:
    for path in (ROOT / "app" / "routers").glob("*.py"):
        bad = {m for m in _imports(path) if m.startswith(("sqlalchemy", "asyncpg", "app.models"))}
        assert not bad, f"{path.name} imports {bad}: queries belong in a service"


PURE_MODULES = [
    *sorted((ROOT / "app" / "services").glob("*/rules.py")),
    ROOT / "app" / "core" / "countries.py",
    ROOT / "app" / "core" / "roles.py",
    ROOT / "app" / "core" / "time_bounds.py",
]


def test_rules_are_pure() -> None:
    assert len(PURE_MODULES) > 10
    for path in PURE_MODULES:
        bad = {
            m
            for m in _imports(path)
            if m.startswith(
                ("sqlalchemy", "asyncpg", "app.models", "app.services", "httpx", "fastapi")
            )
        }
        assert not bad, f"{path} imports {bad}: rules do no I/O"
        assert "await " not in path.read_text(), f"{path} awaits: rules do no I/O"
