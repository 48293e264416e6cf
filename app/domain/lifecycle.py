"""The incident lifecycle of seed 004: stages, the moves allowed between them, ticket status.

reception → registration → diagnosis → (dispatch → field_repair →) verification
→ stability → closure → closed; `cancelled` from any open stage. Nothing else.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    reception = "reception"
    registration = "registration"
    diagnosis = "diagnosis"
    dispatch = "dispatch"
    field_repair = "field_repair"
    verification = "verification"
    stability = "stability"
    closure = "closure"
    closed = "closed"
    cancelled = "cancelled"


class Status(StrEnum):
    open = "open"
    waiting_for_customer = "waiting_for_customer"
    closed = "closed"
    cancelled = "cancelled"


class Severity(StrEnum):
    critical = "critical"
    major = "major"
    minor = "minor"


# The stages a clock runs in, in handbook order (closed and cancelled have none).
TIMED_STAGES: tuple[Stage, ...] = (
    Stage.reception,
    Stage.registration,
    Stage.diagnosis,
    Stage.dispatch,
    Stage.field_repair,
    Stage.verification,
    Stage.stability,
    Stage.closure,
)
FINAL_STAGES = frozenset({Stage.closed, Stage.cancelled})

# The explicit table of forward moves; `cancelled` is allowed from every open stage.
ALLOWED_MOVES: frozenset[tuple[Stage, Stage]] = frozenset(
    {
        (Stage.reception, Stage.registration),
        (Stage.registration, Stage.diagnosis),
        (Stage.diagnosis, Stage.dispatch),
        (Stage.diagnosis, Stage.verification),
        (Stage.dispatch, Stage.field_repair),
        (Stage.field_repair, Stage.verification),
        (Stage.verification, Stage.stability),
        (Stage.stability, Stage.closure),
        (Stage.closure, Stage.closed),
    }
)


def is_allowed(previous: Stage, current: Stage) -> bool:
    """May a ticket in `previous` move to `current`?"""
    match (previous, current):
        case (Stage.closed | Stage.cancelled, _):
            return False
        case (_, Stage.cancelled):
            return True
        case move if move in ALLOWED_MOVES:
            return True
        case _:
            return False


def next_stages(previous: Stage) -> list[Stage]:
    """Where a ticket may go from `previous`, in handbook order (for error messages)."""
    order = [*TIMED_STAGES, Stage.closed, Stage.cancelled]
    return [s for s in order if is_allowed(previous, s)]


def status_after_move(current: Stage) -> Status:
    match current:
        case Stage.closed:
            return Status.closed
        case Stage.cancelled:
            return Status.cancelled
        case _:
            return Status.open


def event_type_of_move(current: Stage) -> str:
    match current:
        case Stage.closed:
            return "ticket.closed"
        case Stage.cancelled:
            return "ticket.cancelled"
        case _:
            return "ticket.stage_changed"
