"""Starting, pausing, resuming and ending stage clocks, inside the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.events import record_event
from app.models import SlaClock, Ticket
from app.services.tickets.events import SlaBreached, TicketEvent
from app.services.tickets.rules import (
    ClockView,
    Policy,
    Stage,
    due_at,
    next_due,
    outcome_at_completion,
    paused_after_resume,
)

SLA_CHANNEL = "carrierdesk_sla"
SYSTEM_ACTOR = "system:sla-engine"


async def wake_engine(session: AsyncSession, at: datetime | None) -> None:
    """NOTIFY the SLA engine (sent at commit) that a clock may now fall due sooner."""
    if at is not None:
        await session.execute(
            select(func.pg_notify(literal_column(f"'{SLA_CHANNEL}'"), at.isoformat()))
        )


async def record_ticket_event(
    session: AsyncSession,
    event: TicketEvent,
    ticket_id: uuid.UUID,
    enterprise_id: uuid.UUID,
    at: datetime,
    actor: str,
) -> None:
    """A ticket's event and its outbox row, in the caller's transaction."""
    await record_event(
        session, event, subject_id=ticket_id, at=at, actor=actor, enterprise_id=enterprise_id
    )


def view_of(row: Any, *, paused: timedelta | None = None) -> ClockView:
    return ClockView(
        started_at=row.started_at,
        target=None if row.target_seconds is None else timedelta(seconds=row.target_seconds),
        paused=paused if paused is not None else timedelta(seconds=row.paused_seconds),
        warning_ratio=row.warning_ratio,
        escalation_ratios=tuple(row.escalation_ratios),
        warned=row.warned_at is not None,
        breached=row.breached_at is not None,
        escalation_level=row.escalation_level,
    )


def first_due(started_at: datetime, target: timedelta | None, policy: Policy) -> datetime | None:
    """When a clock just started under `policy` first needs the engine (None: never)."""
    return next_due(
        ClockView(
            started_at=started_at,
            target=target,
            paused=timedelta(0),
            warning_ratio=policy.warning_ratio,
            escalation_ratios=policy.escalation_ratios,
        )
    )


async def open_clock(session: AsyncSession, enterprise_id: uuid.UUID, ticket_id: uuid.UUID) -> Any:
    """The ticket's clock that has not ended, locked (None when the ticket has none)."""
    c = SlaClock.__table__.c
    stmt = (
        select(SlaClock.__table__)
        .where(c.enterprise_id == enterprise_id, c.ticket_id == ticket_id)
        .where(c.completed_at.is_(None))
        .order_by(c.id.desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(stmt)).first()


async def start_clock(
    session: AsyncSession,
    *,
    ticket_id: uuid.UUID,
    enterprise_id: uuid.UUID,
    stage: Stage,
    started_at: datetime,
    target: timedelta | None,
    policy: Policy,
) -> datetime | None:
    next_at = first_due(started_at, target, policy)
    await session.execute(
        insert(SlaClock).values(
            ticket_id=ticket_id,
            enterprise_id=enterprise_id,
            stage=stage.value,
            started_at=started_at,
            target_seconds=None if target is None else target.total_seconds(),
            due_at=due_at(started_at, target, timedelta(0)),
            paused_seconds=0.0,
            state="running",
            escalation_level=0,
            warning_ratio=policy.warning_ratio,
            escalation_ratios=list(policy.escalation_ratios),
            next_due_at=next_at,
        )
    )
    await wake_engine(session, next_at)
    return next_at


async def end_clock(session: AsyncSession, row: Any, *, at: datetime, ticket: Any) -> str:
    """End the stage's clock: `met` or `breached`. A breach the engine had not yet recorded
    (it ended in the same second) is recorded here, once: the clock row is locked."""
    paused = timedelta(seconds=row.paused_seconds)
    if row.state == "paused" and row.paused_at is not None:
        paused = paused_after_resume(paused, row.paused_at, at)
    view = view_of(row, paused=paused)
    due = due_at(view.started_at, view.target, paused)
    outcome = outcome_at_completion(due, at, row.breached_at is not None)
    values: dict[str, Any] = {
        "completed_at": at,
        "state": outcome,
        "next_due_at": None,
        "paused_at": None,
        "paused_seconds": paused.total_seconds(),
        "due_at": due,
    }
    if outcome == "breached" and row.breached_at is None:
        values["breached_at"] = due
        breach = SlaBreached(
            number=ticket.number,
            stage=row.stage,
            due_at=due,
            clock_id=row.id,
            recorded_at_stage_end=True,
        )
        await record_ticket_event(
            session, breach, row.ticket_id, row.enterprise_id, at, SYSTEM_ACTOR
        )
        await session.execute(
            update(Ticket)
            .where(Ticket.enterprise_id == row.enterprise_id, Ticket.id == row.ticket_id)
            .values(breached=True)
        )
    await session.execute(
        update(SlaClock)
        .where(SlaClock.enterprise_id == row.enterprise_id, SlaClock.id == row.id)
        .values(**values)
    )
    return outcome
