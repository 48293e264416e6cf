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


APP = ROOT / "app"
FEATURES = sorted(p.name for p in (APP / "services").iterdir() if (p / "__init__.py").exists())


def test_services_hold_feature_packages_only() -> None:
    loose = [p.name for p in (APP / "services").glob("*.py") if p.name != "__init__.py"]
    assert not loose, f"loose modules in app/services/ (each belongs in a feature's home): {loose}"
    assert not (APP / "domain").exists(), "pure rules live in app/services/<feature>/rules.py"
    assert not (APP / "schemas").exists(), "schemas live in app/services/<feature>/schemas.py"


def test_every_feature_has_one_name_across_the_layers() -> None:
    # A feature's router and tables carry its name; health and docs are the platform's routes.
    routers = {p.stem for p in (APP / "routers").glob("*.py")} - {"__init__", "health", "docs"}
    models = {p.stem for p in (APP / "models").glob("*.py")} - {"__init__", "base", "platform"}
    assert routers <= set(FEATURES), f"routers without a feature home: {routers - set(FEATURES)}"
    assert models <= set(FEATURES), f"tables without a feature home: {models - set(FEATURES)}"


def test_modules_stay_under_four_hundred_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in APP.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert not long, f"split these by use case: {long}"


def test_the_platform_imports_no_feature() -> None:
    # app.models.platform and app.models.base are the platform's own tables.
    allowed = ("app.core", "app.models.platform", "app.models.base")
    for path in (APP / "core").rglob("*.py"):
        bad = {m for m in _imports(path) if m.startswith("app.") and not m.startswith(allowed)}
        bad |= {m for m in _imports(path) if m in ("app.models", "app")}
        assert not bad, f"{path.name} imports {bad}: app/core imports no feature"


def test_features_meet_only_at_each_others_public_names() -> None:
    # One feature may call another's service functions, read its schemas, rules and events;
    # a name starting with `_` is that feature's own business.
    for path in (APP / "services").rglob("*.py"):
        feature = path.relative_to(APP / "services").parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.module):
                continue
            parts = node.module.split(".")
            if parts[:2] != ["app", "services"] or len(parts) < 3 or parts[2] == feature:
                continue
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"{path.relative_to(ROOT)} reaches into {node.module}: {private}"
