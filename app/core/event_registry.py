"""Typed events: what each event type carries, and what of it a customer may see.

Every feature declares, in its `events.py`, a `StrEnum` of its event types and
one payload model per type, registered by naming its type in the class line
(`class BillingReceived(BillingSnapshot, event_type=BillingEvent.received): ...`). `record_event`
takes a payload, never a loose dict, so the public contract of an event is its
model, not whatever a helper happened to write. A field annotated
`Annotated[T, STAFF_ONLY]` never leaves to a customer; a payload whose whole
event is for staff (an internal note) says so in `for_customer`.

The platform holds only the mechanism; the features fill the registry when
their `events` modules are imported (`app.event_catalog` imports them all).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

# The largest event id a client may name (`after`, `Last-Event-ID`, a history cursor): far
# beyond any id the events table will hand out, and within PostgreSQL's bigint.
MAX_EVENT_ID = 2**62

logger = logging.getLogger("carrierdesk.events")


class StaffOnly:
    """Marker in `Annotated[...]`: the field is for the carrier's staff only."""

    def __repr__(self) -> str:
        return "STAFF_ONLY"


STAFF_ONLY = StaffOnly()


class EventPayload(BaseModel):
    """The body of one event type. A feature's base payload names the `subject_type` of its
    events, each payload model its `event_type`, as class keywords:

        class OrderPayload(EventPayload, subject_type="order"): ...
        class OrderCreated(OrderPayload, event_type=OrderEvent.created): ...

    A class with an `event_type` is registered under it (once)."""

    # A field may be named after a keyword (`from_` stored as `from`): Python code uses the
    # name, the stored body and every view of it the alias.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)

    event_type: ClassVar[str]
    subject_type: ClassVar[str]

    def __init_subclass__(
        cls, *, event_type: str | None = None, subject_type: str | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if subject_type is not None:
            cls.subject_type = subject_type
        if event_type is not None:
            cls.event_type = event_type
            _register(cls)

    @classmethod
    def staff_only_fields(cls) -> frozenset[str]:
        """The fields marked `STAFF_ONLY`, found once per class (its fields are fixed; every
        event fanned out asks, and walking the fields' metadata each time was the fan-out's
        largest cost)."""
        found = _STAFF_ONLY.get(cls)
        if found is None:
            found = _STAFF_ONLY[cls] = frozenset(
                name
                for name, field in cls.model_fields.items()
                if any(isinstance(m, StaffOnly) for m in field.metadata)
            )
        return found

    def stored(self) -> dict[str, Any]:
        """The body as the event record keeps it (JSON types, every field)."""
        return self.model_dump(mode="json", by_alias=True)

    def stored_json(self) -> str:
        """`stored()` as JSON text, for a statement that writes the event itself."""
        return self.model_dump_json(by_alias=True)

    def for_customer(self) -> dict[str, Any] | None:
        """What a customer sees of this event; None when the whole event is staff-only."""
        return self.model_dump(mode="json", by_alias=True, exclude=set(self.staff_only_fields()))


_REGISTRY: dict[str, type[EventPayload]] = {}
_STAFF_ONLY: dict[type[EventPayload], frozenset[str]] = {}


def _register(cls: type[EventPayload]) -> None:
    existing = _REGISTRY.get(cls.event_type)
    if existing is not None and existing is not cls:
        raise RuntimeError(
            f"event type {cls.event_type} is registered twice: "
            f"{existing.__qualname__} and {cls.__qualname__}"
        )
    _REGISTRY[cls.event_type] = cls


def registered_classes() -> tuple[type[EventPayload], ...]:
    return tuple(_REGISTRY.values())


def parse_payload(event_type: str, data: dict[str, Any]) -> EventPayload | None:
    """The stored body of an event as its model; None for a type no longer registered, or a
    body its model refuses (logged: a row written before the model changed)."""
    cls = _REGISTRY.get(event_type)
    if cls is None:
        return None
    try:
        return cls.model_validate(data)
    except ValidationError:
        logger.warning("a stored %s event does not fit its payload model", event_type)
        return None


def customer_view(event_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The one audience rule: the body a customer may see, or None to hide the event.

    An unknown type, or a body that does not fit its model, shows nothing rather than
    everything.
    """
    payload = parse_payload(event_type, data)
    return None if payload is None else payload.for_customer()


def customer_payload(event_type: str, data: dict[str, Any]) -> EventPayload | None:
    """The customer's view as its payload model (staff-only fields at their defaults), for a
    channel that builds its own words from an event (a mail, a TMF621 ticket's notes): it can
    use nothing the customer's view leaves out. None when the event is for staff only."""
    view = customer_view(event_type, data)
    return None if view is None else parse_payload(event_type, view)


def pattern_matches(pattern: str, event_type: str) -> bool:
    """`ticket.*` matches `ticket.created`; `*` matches everything; otherwise exact."""
    return fnmatchcase(event_type, pattern)


def names_an_event(pattern: str, types: Iterable[str] | None = None) -> bool:
    """A subscription pattern must name at least one registered event type: a typo would
    otherwise silently mail no one."""
    known = types if types is not None else _REGISTRY
    return any(pattern_matches(pattern, t) for t in known)
