"""Typed events: what each event type carries, and what of it a customer may see.

Every feature declares, in its `events.py`, a `StrEnum` of its event types and
one payload model per type, registered with `@registered`. `record_event`
takes a payload, never a loose dict, so the public contract of an event is its
model, not whatever a helper happened to write. A field annotated
`Annotated[T, STAFF_ONLY]` never leaves to a customer; a payload whose whole
event is for staff (an internal note) says so in `for_customer`.

The platform holds only the mechanism; the features fill the registry when
their `events` modules are imported (`app.event_catalog` imports them all).
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict


class StaffOnly:
    """Marker in `Annotated[...]`: the field is for the carrier's staff only."""

    def __repr__(self) -> str:
        return "STAFF_ONLY"


STAFF_ONLY = StaffOnly()


class EventPayload(BaseModel):
    """The body of one event type. Subclasses set `event_type` and `subject_type`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    subject_type: ClassVar[str]

    @classmethod
    def staff_only_fields(cls) -> frozenset[str]:
        return frozenset(
            name
            for name, field in cls.model_fields.items()
            if any(isinstance(m, StaffOnly) for m in field.metadata)
        )

    def for_customer(self) -> dict[str, Any] | None:
        """What a customer sees of this event; None when the whole event is staff-only."""
        return self.model_dump(mode="json", exclude=set(self.staff_only_fields()))


P = TypeVar("P", bound=type[EventPayload])

_REGISTRY: dict[str, type[EventPayload]] = {}


def registered(cls: P) -> P:
    """Class decorator: register a payload model under its event type (once)."""
    existing = _REGISTRY.get(cls.event_type)
    if existing is not None and existing is not cls:
        raise RuntimeError(
            f"event type {cls.event_type} is registered twice: "
            f"{existing.__qualname__} and {cls.__qualname__}"
        )
    _REGISTRY[cls.event_type] = cls
    return cls


def registered_types() -> frozenset[str]:
    return frozenset(_REGISTRY)


def payload_class(event_type: str) -> type[EventPayload]:
    return _REGISTRY[event_type]


def parse_payload(event_type: str, data: dict[str, Any]) -> EventPayload | None:
    """The stored body of an event as its model; None for a type no longer registered."""
    cls = _REGISTRY.get(event_type)
    if cls is None:
        return None
    return cls.model_validate(data)


def customer_view(event_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The one audience rule: the body a customer may see, or None to hide the event.

    An unknown type shows nothing rather than everything.
    """
    payload = parse_payload(event_type, data)
    return None if payload is None else payload.for_customer()


def pattern_matches(pattern: str, event_type: str) -> bool:
    """`ticket.*` matches `ticket.created`; `*` matches everything; otherwise exact."""
    return fnmatchcase(event_type, pattern)


def names_an_event(pattern: str, types: Iterable[str] | None = None) -> bool:
    """A subscription pattern must name at least one registered event type: a typo would
    otherwise silently mail no one."""
    return any(pattern_matches(pattern, t) for t in (types or _REGISTRY))
