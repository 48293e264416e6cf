"""Every query over a tenant's rows goes through `visible_to`, or says why not.

A lint over `app/services/`: each `select(...)` naming a model that has an
`enterprise_id` column (or `Enterprise` itself) must sit inside the first
argument of a `visible_to(...)` call, or its function must be in `ALLOWED`
with the reason it may cross tenants.
"""

from __future__ import annotations

import ast
from pathlib import Path

from app.models.base import Base

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ROOT / "app" / "services"

# "module:function" -> why that function's unscoped select is right.
ALLOWED: dict[str, str] = {
    # Service codes are unique across the whole carrier, so the duplicate check
    # must see every tenant (it answers only "taken"); the account lookup is
    # pinned to the enterprise just authorised by get_enterprise.
    "enterprises:create_service": "global uniqueness of service codes",
    # Existence check of enterprises the caller was already proven to act for
    # (caller.require_enterprise on each id just before).
    "identity:_check_grant": "ids already checked against the caller",
    # These two build the tenant filter of API clients and users themselves:
    # a client or user is visible when all its enterprises are the caller's.
    "identity:_clients_visible_to": "is the tenant filter for API clients",
    "identity:_users_visible_to": "is the tenant filter for users",
    # Link rows of clients/users the caller has already been allowed to see.
    "identity:_enterprise_ids_of_clients": "reads links of already visible clients",
    "identity:_user_enterprises": "reads links of already visible users",
}


def tenant_models() -> set[str]:
    names = set()
    for mapper in Base.registry.mappers:
        if "enterprise_id" in mapper.columns or mapper.class_.__name__ == "Enterprise":
            names.add(mapper.class_.__name__)
    return names


def _selected_models(call: ast.Call, models: set[str]) -> set[str]:
    found = set()
    for arg in call.args:
        node = arg
        while isinstance(node, ast.Attribute):
            node = node.value
        if isinstance(node, ast.Name) and node.id in models:
            found.add(node.id)
    return found


def _is_call_to(node: ast.AST, name: str) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == name) or (
        isinstance(func, ast.Attribute) and func.attr == name
    )


def unscoped_selects() -> list[str]:
    models = tenant_models()
    problems = []
    for path in sorted(SERVICES.rglob("*.py")):
        module = path.stem
        tree = ast.parse(path.read_text())
        scoped: set[int] = set()
        for node in ast.walk(tree):
            if _is_call_to(node, "visible_to") and isinstance(node, ast.Call) and node.args:
                scoped.update(id(n) for n in ast.walk(node.args[0]))
        functions = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for function in functions:
            key = f"{module}:{function.name}"
            if module in ALLOWED or key in ALLOWED:
                continue
            for node in ast.walk(function):
                if not (_is_call_to(node, "select") and isinstance(node, ast.Call)):
                    continue
                over = _selected_models(node, models)
                if over and id(node) not in scoped:
                    problems.append(
                        f"app/services/{path.name}:{node.lineno} {key} selects "
                        f"{', '.join(sorted(over))} without visible_to"
                    )
    return sorted(set(problems))


def test_models_with_tenants_are_found() -> None:
    assert {"Enterprise", "Service", "Account"} <= tenant_models()


def test_every_select_over_tenant_rows_goes_through_visible_to() -> None:
    problems = unscoped_selects()
    assert not problems, (
        "wrap these in app.services.scoping.visible_to, or add the function to ALLOWED in "
        "tests/test_scoping_lint.py with the reason it may see every tenant:\n"
        + "\n".join(problems)
    )
