"""The SLA engine's unit of work: claim the clocks that fell due, record what they passed.

Claims find due clocks over the partial index on `next_due_at` of running clocks, then lock
them per enterprise with `FOR UPDATE OF sla_clocks, tickets SKIP LOCKED` (`core.claims`):
any number of workers share the work, none fires the same threshold twice (the row's own
warned_at / breached_at / escalation_level guard it), and a worker killed mid-way loses nothing (its
transaction rolls back and the rows fall due again for the others). The cost is
the number of due clocks, never the number of open tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.claims import candidates, claim_per_tenant
from app.models import SlaClock, Ticket
from app.services.tickets.clocks import SYSTEM_ACTOR, record_ticket_event, view_of
from app.services.tickets.directory import escalation_contacts
from app.services.tickets.events import (
    EscalationContacts,
    SlaBreached,
    SlaWarning,
    TicketEscalated,
    TicketEvent,
)
from app.services.tickets.rules import firing_order, step

_C = SlaClock.__table__.c
_T = Ticket.__table__.c

RUNNING_AND_DUE = (_C.state == "running", _C.next_due_at.is_not(None))


@dataclass(frozen=True)
class SweepResult:
    fired: int  # clocks that passed a threshold
    claimed: int  # clocks claimed (a full batch means: look again at once)


def due_clocks_statement(now: datetime, limit: int) -> Any:
    """The candidates: `(enterprise_id, id)` of up to `limit` clocks due at `now`, the most
    overdue first, unlocked (an index scan of the partial index, across every shard)."""
    return candidates(SlaClock, _C.next_due_at, limit, *RUNNING_AND_DUE, _C.next_due_at <= now)


def claim_clocks_statement(enterprise_id: Any, ids: list[int], now: datetime) -> Any:
    """Lock one enterprise's candidates still due, with their tickets (`SKIP LOCKED`: those
    another worker holds are its own)."""
    return (
        select(
            _C.id,
            _C.ticket_id,
            _C.enterprise_id,
            _C.stage,
            _C.started_at,
            _C.target_seconds,
            _C.due_at,
            _C.paused_seconds,
            _C.warning_ratio,
            _C.escalation_ratios,
            _C.warned_at,
            _C.breached_at,
            _C.escalation_level,
            _C.next_due_at,
            _T.number,
            _T.country,
            _T.escalation_level.label("ticket_level"),
        )
        .join_from(
            SlaClock.__table__,
            Ticket.__table__,
            and_(_T.enterprise_id == _C.enterprise_id, _T.id == _C.ticket_id),
        )
        .where(
            _C.enterprise_id == enterprise_id,
            _C.id.in_(ids),
            *RUNNING_AND_DUE,
            _C.next_due_at <= now,
        )
        .with_for_update(of=[SlaClock.__table__, Ticket.__table__], skip_locked=True)
    )


async def next_due_instant(session: AsyncSession) -> datetime | None:
    """The earliest instant any running clock falls due (an index-only look at the minimum)."""
    value: datetime | None = (
        await session.execute(select(func.min(_C.next_due_at)).where(*RUNNING_AND_DUE))
    ).scalar_one()
    return value


Contacts = dict[tuple[str, int], EscalationContacts]


async def _fire(session: AsyncSession, row: Any, now: datetime, contacts: Contacts) -> bool:
    result = step(view_of(row), now)
    values: dict[str, Any] = {"next_due_at": result.next_due_at}
    base = {"number": row.number, "stage": row.stage, "clock_id": row.id}

    async def event(payload: TicketEvent) -> None:
        await record_ticket_event(
            session, payload, row.ticket_id, row.enterprise_id, now, SYSTEM_ACTOR
        )

    if result.warn:
        values["warned_at"] = now
        await event(SlaWarning(**base, due_at=row.due_at, warning_ratio=row.warning_ratio))
    ticket_values: dict[str, Any] = {}
    if result.breach:
        values["breached_at"] = now
        ticket_values["breached"] = True
        lag = (now - row.due_at).total_seconds() if row.due_at else None
        await event(SlaBreached(**base, due_at=row.due_at, lag_seconds=lag))
    if result.escalate_to:
        values["escalation_level"] = max(result.escalate_to)
        for level in result.escalate_to:  # each level passed is its own escalation, in order
            if level <= row.ticket_level:
                continue  # the customer already asked for this level
            ticket_values["escalation_level"] = level
            key = (row.country, level)
            if key not in contacts:  # one look-up per country and level in a batch
                contacts[key] = await escalation_contacts(session, row.country, level, now)
            reason = (
                f"the {row.stage} clock passed {row.escalation_ratios[level - 1]:g}x its target"
            )
            await event(
                TicketEscalated(
                    **base,
                    level=level,
                    reason=reason,
                    requested_by="sla",
                    escalation=contacts[key],
                )
            )
    await session.execute(
        update(SlaClock)
        .where(SlaClock.enterprise_id == row.enterprise_id, SlaClock.id == row.id)
        .values(**values)
    )
    if ticket_values:
        await session.execute(
            update(Ticket)
            .where(Ticket.enterprise_id == row.enterprise_id, Ticket.id == row.ticket_id)
            .values(updated_at=now, version=Ticket.version + 1, **ticket_values)
        )
    return bool(result.warn or result.breach or result.escalate_to)


async def fire_due_clocks(session: AsyncSession, now: datetime, *, limit: int = 200) -> SweepResult:
    """One transaction: claim up to `limit` due clocks, record what each passed, commit."""

    async def claim(enterprise_id: Any, ids: list[Any]) -> list[Any]:
        return list((await session.execute(claim_clocks_statement(enterprise_id, ids, now))).all())

    rows = await claim_per_tenant(session, due_clocks_statement(now, limit), claim)
    # Fired in due order, whatever the enterprise. A clock catching up (a worker or the
    # database was away) may pass its warning and its breach at once: it takes its place by
    # its breach, so that breaches are recorded in the order they fell due.
    rows.sort(key=lambda r: firing_order(r.due_at, r.breached_at, r.next_due_at, now))
    fired = 0
    contacts: Contacts = {}
    for row in rows:
        fired += await _fire(session, row, now, contacts)
    await session.commit()
    return SweepResult(fired=fired, claimed=len(rows))
