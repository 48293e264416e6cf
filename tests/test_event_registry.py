"""The typed event contract: every event type has one registered payload model, written
somewhere in the app, and a customer sees only the customer's view of it."""

from __future__ import annotations

import ast
import importlib
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import app.event_catalog
from app.core.event_registry import (
    EventPayload,
    customer_view,
    names_an_event,
    registered_classes,
)
from app.services.tickets.events import SlaBreached, TicketNoteAdded
from app.services.tickets.schemas import NoteVisibility

APP = Path(__file__).resolve().parent.parent / "app"


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def _produced_names() -> set[str]:
    """Payload classes written somewhere in app/: called (`Payload(...)`, `mod.Payload(...)`,
    `Payload.model_validate(...)`), handed to a call that builds it (`_notices(Payload, ...)`),
    or listed in a module-level table (`ENTERED = {status: Payload}`) that another module uses."""
    names: set[str] = set()
    tables: dict[str, set[str]] = {}
    used_elsewhere: set[str] = set()
    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in tree.body:
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            target = (
                node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            )
            if isinstance(value, ast.Dict) and isinstance(target, ast.Name):
                tables.setdefault(target.id, set()).update(
                    v.id for v in value.values if isinstance(v, ast.Name)
                )
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                used_elsewhere.update(alias.name for alias in node.names)
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
                if func.attr == "model_validate" and isinstance(func.value, ast.Name):
                    names.add(func.value.id)
            names.update(arg.id for arg in node.args if isinstance(arg, ast.Name))
    for table, members in tables.items():
        if table in used_elsewhere:
            names |= members
    return names


def test_the_catalog_imports_every_features_events_module() -> None:
    on_disk = {
        f"app.services.{p.parent.name}.events" for p in (APP / "services").glob("*/events.py")
    }
    for name in on_disk:
        importlib.import_module(name)
    catalog = ast.parse(Path(app.event_catalog.__file__ or "").read_text())
    imported = {
        alias.name for node in ast.walk(catalog) if isinstance(node, ast.Import)
        for alias in node.names
    }  # fmt: skip
    assert on_disk <= imported, on_disk - imported


def test_every_payload_class_with_an_event_type_is_registered() -> None:
    declared = {c for c in _all_subclasses(EventPayload) if "event_type" in vars(c)}
    assert declared, "no payload classes found"
    assert declared == set(registered_classes()), declared ^ set(registered_classes())


def test_every_registered_type_has_a_producer_in_the_app() -> None:
    produced = _produced_names()
    silent = sorted(c.__name__ for c in registered_classes() if c.__name__ not in produced)
    assert silent == [], f"registered but never written in app/: {silent}"


def test_every_registered_type_is_in_its_features_enum_and_every_enum_member_registered() -> None:
    registered = {c.event_type for c in registered_classes()}
    enumerated: set[str] = set()
    for cls in registered_classes():
        module = sys.modules[cls.__module__]
        enums = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, StrEnum)]
        members = {str(m) for e in enums if e.__module__ == module.__name__ for m in e}
        assert cls.event_type in members, (cls.__name__, cls.event_type)
        enumerated |= members
    assert enumerated == registered, enumerated ^ registered


def test_an_internal_note_is_hidden_whole_and_a_public_one_shows_its_body() -> None:
    internal = TicketNoteAdded(number="TT-1", visibility=NoteVisibility.internal, body="secret")
    public = TicketNoteAdded(number="TT-1", visibility=NoteVisibility.public, body="hello")
    assert customer_view("ticket.note_added", internal.stored()) is None
    assert customer_view("ticket.note_added", public.stored()) == {
        "number": "TT-1",
        "visibility": "public",
        "body": "hello",
    }


def test_the_sla_engines_bookkeeping_stays_with_staff() -> None:
    breach = SlaBreached(
        number="TT-1",
        stage="reception",
        due_at=datetime(2026, 11, 23, 15, 1, tzinfo=UTC),
        clock_id=7,
        lag_seconds=0.2,
        recorded_at_stage_end=True,
    )
    assert breach.stored()["clock_id"] == 7
    assert customer_view("sla.breached", breach.stored()) == {
        "number": "TT-1",
        "stage": "reception",
        "due_at": "2026-11-23T15:01:00Z",
    }


def test_an_unknown_type_or_an_unfitting_body_shows_the_customer_nothing() -> None:
    assert customer_view("ticket.teleported", {"number": "TT-1"}) is None
    assert customer_view("ticket.note_added", {"number": "TT-1"}) is None


def test_a_subscription_must_name_a_registered_event() -> None:
    assert names_an_event("ticket.*")
    assert names_an_event("sla.breached")
    assert names_an_event("*")
    assert not names_an_event("tickets.*")
    assert not names_an_event("ticket.teleported")
