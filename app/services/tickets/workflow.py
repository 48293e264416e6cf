"""Working a ticket: edits, stage moves and holds. One transaction each (notes and escalations:
`tickets.conversation`)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.deps import refuse_unless
from app.core.errors import Conflict, IllegalMove, NotFound, field_error
from app.core.etag import check_if_match
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.core.tenancy import Caller, pinned_to_tenant, visible_to
from app.models import SlaClock, Ticket
from app.services.tickets.clocks import (
    end_clock,
    open_clock,
    record_ticket_event,
    start_clock,
    view_of,
    wake_engine,
)
from app.services.tickets.events import (
    TicketCancelled,
    TicketClosed,
    TicketEvent,
    TicketHeld,
    TicketMove,
    TicketResumed,
    TicketStageChanged,
    TicketUpdated,
)
from app.services.tickets.policy import ROLES
from app.services.tickets.reads import fetch_ticket
from app.services.tickets.rules import (
    FINAL_STAGES,
    CityTier,
    EtaRequired,
    Stage,
    Status,
    due_at,
    format_duration,
    is_allowed,
    needs_service,
    next_due,
    next_stages,
    paused_after_resume,
    status_after_move,
    target_for,
)
from app.services.tickets.schemas import (
    HoldIn,
    ResumeIn,
    ServiceNaming,
    TicketRead,
    TicketUpdate,
    TransitionIn,
)
from app.services.tickets.sla_policies import load_policy, named_service


async def _lock(session: AsyncSession, caller: Caller, ticket_id: uuid.UUID) -> Any:
    stmt = visible_to(select(Ticket.__table__), caller, Ticket.enterprise_id).where(
        Ticket.id == ticket_id
    )
    stmt = (await pinned_to_tenant(session, stmt, "ticket", ticket_id)).with_for_update()
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return row


def _staff_only(caller: Caller, what: str) -> None:
    refuse_unless(caller, ROLES["work"], what)


def _still_open(ticket: Any) -> None:
    if ticket.status in (Status.closed.value, Status.cancelled.value):
        raise Conflict(f"ticket {ticket.number} is {ticket.status}")


async def _answer_with(
    session: AsyncSession,
    caller: Caller,
    ticket: Any,
    event: TicketEvent,
    at: Any,
    claim: IdempotencyClaim | None = None,
) -> TicketRead:
    """Record the change's event, then answer with the ticket as it now stands (and keep that
    answer for a retry with the same `Idempotency-Key`, when the change creates something)."""
    await record_ticket_event(session, event, ticket.id, ticket.enterprise_id, at, caller.actor)
    return await _finish(session, caller, ticket.id, claim)


async def _touch(session: AsyncSession, ticket: Any, at: Any, **values: Any) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.enterprise_id == ticket.enterprise_id, Ticket.id == ticket.id)
        .values(updated_at=at, version=Ticket.version + 1, **values)
    )


async def _finish(
    session: AsyncSession,
    caller: Caller,
    ticket_id: uuid.UUID,
    claim: IdempotencyClaim | None = None,
) -> TicketRead:
    await session.flush()
    answer = await fetch_ticket(session, caller, ticket_id)
    await commit_creation(session, claim, answer)
    return answer


async def _naming(
    session: AsyncSession, caller: Caller, ticket: Any, payload: ServiceNaming
) -> dict[str, Any]:
    """The columns that change when the body names the ticket's service ({}: it names none).
    The terms move with the service's site; clocks already running keep their targets."""
    if payload.service_id is None and payload.service_code is None:
        return {}
    _staff_only(caller, "name a ticket's service")
    named = await named_service(session, caller, ticket.enterprise_id, payload)
    assert named is not None
    return {
        "service_id": named.id,
        "country": named.terms.country,
        "city_tier": named.terms.city_tier.value,
        "site": ticket.site or named.site,
    }


def _named(ticket: Any, naming: dict[str, Any]) -> TicketUpdated:
    return TicketUpdated(
        number=ticket.number,
        changes={"service_id": str(naming["service_id"]), "city_tier": naming["city_tier"]},
    )


async def update_ticket(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    ticket_id: uuid.UUID,
    payload: TicketUpdate,
    if_match: str | None,
) -> TicketRead:
    """Change what may change after intake: severity, contact, description, and (staff) the
    service, when the report came in without one."""
    ticket = await _lock(session, caller, ticket_id)
    check_if_match(if_match, ticket.version)
    _still_open(ticket)
    naming = await _naming(session, caller, ticket, payload)
    changes = payload.model_dump(
        mode="json",
        exclude_unset=True,
        exclude_none=True,
        exclude={"service_id", "service_code"},
    )
    if changes or naming:
        now = clock.now()
        await _touch(session, ticket, now, **changes, **naming)
        if naming:
            changes.update(_named(ticket, naming).changes)
        updated = TicketUpdated(number=ticket.number, changes=changes)
        return await _answer_with(session, caller, ticket, updated, now)
    return await _finish(session, caller, ticket_id)


async def move_ticket(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    ticket_id: uuid.UUID,
    payload: TransitionIn,
    if_match: str | None = None,
) -> TicketRead:
    """Move to the next stage: the stage's clock ends (met or breached), the next one starts."""
    ticket = await _lock(session, caller, ticket_id)
    _staff_only(caller, "move a ticket between stages")
    check_if_match(if_match, ticket.version)
    current, to = Stage(ticket.stage), payload.to
    if not is_allowed(current, to):
        allowed = [s.value for s in next_stages(current)]
        raise IllegalMove("ticket", current.value, f"move to {to.value}", allowed)
    if ticket.status == Status.waiting_for_customer.value and to is not Stage.cancelled:
        raise Conflict(f"ticket {ticket.number} is waiting for the customer; resume it first")
    now = clock.now()
    if payload.eta is not None and to is not Stage.dispatch:
        raise field_error("eta", "an eta applies only when entering dispatch")
    naming = await _naming(session, caller, ticket, payload)
    if needs_service(to) and naming.get("service_id", ticket.service_id) is None:
        raise Conflict(
            f"ticket {ticket.number} names no service yet: name it (service_id or "
            f"service_code) to move to {to.value}",
            missing="service_id",
        )
    country = naming.get("country", ticket.country)
    tier = CityTier(naming.get("city_tier", ticket.city_tier))
    target: timedelta | None = None
    policy = None
    if to not in FINAL_STAGES:
        policy = await load_policy(session, country)
        try:
            target = target_for(policy, to, tier, now, payload.eta)
        except EtaRequired as exc:
            raise field_error("eta", str(exc)) from None
        except ValueError as exc:
            raise field_error("eta", str(exc)) from None
    running = await open_clock(session, ticket.enterprise_id, ticket.id)
    outcome = None
    if running is not None:
        outcome = await end_clock(session, running, at=now, ticket=ticket)
    if policy is not None:
        await start_clock(
            session,
            ticket_id=ticket.id,
            enterprise_id=ticket.enterprise_id,
            stage=to,
            started_at=now,
            target=target,
            policy=policy,
        )
    values: dict[str, Any] = {
        "stage": to.value,
        "status": status_after_move(to).value,
        **naming,
    }
    if to in FINAL_STAGES:
        values.update(closed_at=now, held_at=None, hold_reason=None)
        if ticket.held_at is not None:
            values["waiting_seconds"] = (
                Ticket.waiting_seconds + (now - ticket.held_at).total_seconds()
            )
    if to is Stage.stability and ticket.restored_at is None:
        values["restored_at"] = now
    await _touch(session, ticket, now, **values)
    if naming:
        named = _named(ticket, naming)
        await record_ticket_event(
            session, named, ticket.id, ticket.enterprise_id, now, caller.actor
        )
    due = now + target if target is not None else None
    moved = _move(ticket, payload, current, outcome, due, now)
    return await _answer_with(session, caller, ticket, moved, now)


def _move(
    ticket: Any, payload: TransitionIn, current: Stage, outcome: str | None, due: Any, now: Any
) -> TicketMove:
    """The move's event: closed (with the time of impact), cancelled, or a stage change."""
    move = {
        "number": ticket.number,
        "from": current,
        "to": payload.to,
        "note": payload.note,
        "previous_clock": outcome,
        "due_at": due,
    }
    if payload.to is Stage.closed:  # the handbook closes a case with its time of impact
        restored = ticket.restored_at or now
        impact = (restored - ticket.reported_at).total_seconds() - ticket.waiting_seconds
        impact_text = format_duration(timedelta(seconds=max(round(impact), 1)))
        return TicketClosed.model_validate({**move, "time_of_impact": impact_text})
    if payload.to is Stage.cancelled:
        return TicketCancelled.model_validate(move)
    return TicketStageChanged.model_validate({**move, "eta": payload.eta})


async def hold_ticket(
    session: AsyncSession, caller: Caller, clock: Clock, ticket_id: uuid.UUID, payload: HoldIn
) -> TicketRead:
    """Waiting for the customer: the running clock stops; that time never counts."""
    ticket = await _lock(session, caller, ticket_id)
    _staff_only(caller, "put a ticket on hold")
    _still_open(ticket)
    if ticket.status == Status.waiting_for_customer.value:
        raise Conflict(f"ticket {ticket.number} is already waiting for the customer")
    now = clock.now()
    running = await open_clock(session, ticket.enterprise_id, ticket.id)
    if running is not None:
        await session.execute(
            update(SlaClock)
            .where(SlaClock.enterprise_id == running.enterprise_id, SlaClock.id == running.id)
            .values(state="paused", paused_at=now, next_due_at=None)
        )
    held = TicketHeld(number=ticket.number, reason=payload.reason, stage=ticket.stage)
    await _touch(
        session,
        ticket,
        now,
        status=Status.waiting_for_customer.value,
        held_at=now,
        hold_reason=payload.reason,
    )
    return await _answer_with(session, caller, ticket, held, now)


async def resume_ticket(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    ticket_id: uuid.UUID,
    payload: ResumeIn | None = None,
) -> TicketRead:
    """The customer answered: the clock runs again, its due time pushed by the pause."""
    ticket = await _lock(session, caller, ticket_id)
    if ticket.status != Status.waiting_for_customer.value:
        raise Conflict(f"ticket {ticket.number} is not waiting for the customer")
    now = clock.now()
    held = max(now - ticket.held_at, timedelta(0)) if ticket.held_at else timedelta(0)
    due = None
    running = await open_clock(session, ticket.enterprise_id, ticket.id)
    if running is not None and running.paused_at is not None:
        paused = paused_after_resume(
            timedelta(seconds=running.paused_seconds), running.paused_at, now
        )
        view = view_of(running, paused=paused)
        due = due_at(view.started_at, view.target, paused)
        next_at = next_due(view)
        await session.execute(
            update(SlaClock)
            .where(SlaClock.enterprise_id == running.enterprise_id, SlaClock.id == running.id)
            .values(
                state="running",
                paused_at=None,
                paused_seconds=paused.total_seconds(),
                due_at=due,
                next_due_at=next_at,
            )
        )
        await wake_engine(session, next_at)
    await _touch(
        session,
        ticket,
        now,
        status=Status.open.value,
        held_at=None,
        hold_reason=None,
        waiting_seconds=Ticket.waiting_seconds + held.total_seconds(),
    )
    resumed = TicketResumed(
        number=ticket.number,
        stage=ticket.stage,
        paused_seconds=held.total_seconds(),
        due_at=due,
        note=payload.note if payload else None,
    )
    return await _answer_with(session, caller, ticket, resumed, now)
