"""The SLA engine's unit of work: claim the clocks that fell due, record what they passed.

Claims find due clocks over the partial index on `next_due_at` of running clocks, then lock
them per enterprise with `FOR UPDATE OF sla_clocks, tickets SKIP LOCKED` (`core.claims`):
any number of workers share the work, none fires the same threshold twice (the row's own
warned_at / breached_at / escalation_level guard it), and a worker killed mid-way loses nothing (its
transaction rolls back and the rows fall due again for the others). The cost is
the number of due clocks, never the number of open tickets.

A batch is computed first (the pure `rules.step` of each clock, in firing order), then
written in three statements whatever its size: its events with their outbox rows
(`core.events.record_events`, ids in firing order, one NOTIFY), its clocks, its tickets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, and_, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.claims import candidates, claim_per_tenant
from app.core.database import driver_connection
from app.core.events import NewEvent, record_events
from app.models import SlaClock, Ticket
from app.services.tickets.clocks import SYSTEM_ACTOR, view_of
from app.services.tickets.directory import escalation_contacts_of
from app.services.tickets.events import (
    EscalationContacts,
    SlaBreached,
    SlaWarning,
    TicketEscalated,
    TicketEvent,
)
from app.services.tickets.rules import Step, firing_order, step

_C = SlaClock.__table__.c
_T = Ticket.__table__.c

RUNNING_AND_DUE = (_C.state == "running", _C.next_due_at.is_not(None))


@dataclass(frozen=True)
class SweepResult:
    fired: int  # clocks that passed a threshold
    claimed: int  # clocks claimed (a full batch means: look again at once)
    # The earliest instant a running clock falls due after this batch (read in its
    # transaction, when the batch was not full): when the loop looks next.
    next_due_at: datetime | None = None


def due_clocks_statement(now: datetime, limit: int) -> Any:
    """The candidates: `(enterprise_id, id)` of up to `limit` clocks due at `now`, the most
    overdue first, unlocked (an index scan of the partial index, across every shard)."""
    return candidates(SlaClock, _C.next_due_at, limit, *RUNNING_AND_DUE, _C.next_due_at <= now)


# Locks one enterprise's candidates still due, with their tickets (`SKIP LOCKED`: those another
# worker holds are its own). Built once, executed with `enterprise_id`, `ids` (one array, so
# one prepared statement whatever the count) and `now`.
_CLAIM: Any = (
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
        _C.enterprise_id == bindparam("enterprise_id", type_=_C.enterprise_id.type),
        _C.id == any_(bindparam("ids", type_=ARRAY(BigInteger))),
        *RUNNING_AND_DUE,
        _C.next_due_at <= bindparam("now", type_=_C.next_due_at.type),
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


def _levels_above(result: Step, row: Any) -> list[int]:
    """The escalation levels a step passed that the ticket is not at yet, in order (each is its
    own escalation; a level the customer already asked for is not escalated again)."""
    return [level for level in result.escalate_to if level > row.ticket_level]


async def _contacts_for(
    session: AsyncSession, steps: list[tuple[Any, Step]], now: datetime
) -> Contacts:
    """The escalation contacts a batch names: every (country, level) looked up at once."""
    wanted = {(row.country, level) for row, result in steps for level in _levels_above(result, row)}
    return await escalation_contacts_of(session, wanted, now) if wanted else {}


# The batch's clock and ticket writes, one statement each, every row named by its
# `(enterprise_id, id)` so that each routes to its shard on Citus. The rows are locked by the
# claim, so each threshold recorded here is recorded once; the guards keep a recorded instant.
_UPDATE_CLOCKS = """
UPDATE sla_clocks c SET
    next_due_at = v.next_due_at,
    warned_at = CASE WHEN v.warn THEN coalesce(c.warned_at, $1) ELSE c.warned_at END,
    breached_at = CASE WHEN v.breach THEN coalesce(c.breached_at, $1) ELSE c.breached_at END,
    escalation_level = greatest(c.escalation_level, v.level)
FROM unnest($2::uuid[], $3::int8[], $4::timestamptz[], $5::bool[], $6::bool[], $7::int4[])
    AS v(enterprise_id, id, next_due_at, warn, breach, level)
WHERE c.enterprise_id = v.enterprise_id AND c.id = v.id
"""

_UPDATE_TICKETS = """
UPDATE tickets t SET
    updated_at = $1,
    version = t.version + 1,
    breached = t.breached OR v.breached,
    escalation_level = coalesce(v.level, t.escalation_level)
FROM unnest($2::uuid[], $3::uuid[], $4::bool[], $5::int4[]) AS v(enterprise_id, id, breached, level)
WHERE t.enterprise_id = v.enterprise_id AND t.id = v.id
"""


@dataclass
class _Writes:
    """What a batch writes: its events in firing order, one change per clock and per ticket."""

    events: list[NewEvent] = field(default_factory=list)
    clocks: list[tuple[Any, Any, datetime | None, bool, bool, int]] = field(default_factory=list)
    tickets: dict[tuple[Any, Any], tuple[bool, int | None]] = field(default_factory=dict)

    def add(self, row: Any, result: Step, now: datetime, contacts: Contacts) -> bool:
        base = {"number": row.number, "stage": row.stage, "clock_id": row.id}

        def event(payload: TicketEvent) -> None:
            self.events.append(NewEvent(payload, row.ticket_id, row.enterprise_id))

        if result.warn:
            event(SlaWarning(**base, due_at=row.due_at, warning_ratio=row.warning_ratio))
        if result.breach:
            lag = (now - row.due_at).total_seconds() if row.due_at else None
            event(SlaBreached(**base, due_at=row.due_at, lag_seconds=lag))
        levels = _levels_above(result, row)
        for level in levels:
            reason = (
                f"the {row.stage} clock passed {row.escalation_ratios[level - 1]:g}x its target"
            )
            event(
                TicketEscalated(
                    **base,
                    level=level,
                    reason=reason,
                    requested_by="sla",
                    escalation=contacts[(row.country, level)],
                )
            )
        level = max(result.escalate_to, default=row.escalation_level)
        self.clocks.append(
            (row.enterprise_id, row.id, result.next_due_at, result.warn, result.breach, level)
        )
        if result.breach or levels:
            key = (row.enterprise_id, row.ticket_id)
            breached, ticket_level = self.tickets.get(key, (False, None))
            top = max([*levels, ticket_level or 0]) or None
            self.tickets[key] = (breached or result.breach, top)
        return bool(result.warn or result.breach or result.escalate_to)

    async def write(self, session: AsyncSession, now: datetime) -> None:
        await record_events(session, self.events, at=now, actor=SYSTEM_ACTOR)
        driver = await driver_connection(session)
        if self.clocks:
            columns = zip(*self.clocks, strict=True)  # one array per column
            await driver.execute(_UPDATE_CLOCKS, now, *map(list, columns))
        if self.tickets:
            keys = list(self.tickets)
            await driver.execute(
                _UPDATE_TICKETS,
                now,
                [k[0] for k in keys],
                [k[1] for k in keys],
                [self.tickets[k][0] for k in keys],
                [self.tickets[k][1] for k in keys],
            )


async def fire_due_clocks(session: AsyncSession, now: datetime, *, limit: int = 200) -> SweepResult:
    """One transaction: claim up to `limit` due clocks, record what each passed, commit."""

    async def claim(enterprise_id: Any, ids: list[Any]) -> list[Any]:
        params = {"enterprise_id": enterprise_id, "ids": ids, "now": now}
        return list((await session.execute(_CLAIM, params)).all())

    rows = await claim_per_tenant(session, due_clocks_statement(now, limit), claim)
    # Fired in due order, whatever the enterprise. A clock catching up (a worker or the
    # database was away) may pass its warning and its breach at once: it takes its place by
    # its breach, so that breaches are recorded in the order they fell due.
    rows.sort(key=lambda r: firing_order(r.due_at, r.breached_at, r.next_due_at, now))
    # Every step computed first (pure), then the batch written in three statements: its
    # events with their outbox rows (ids in firing order, one NOTIFY), its clocks, its tickets.
    steps = [(row, step(view_of(row), now)) for row in rows]
    contacts = await _contacts_for(session, steps, now)
    writes = _Writes()
    fired = sum(writes.add(row, result, now, contacts) for row, result in steps)
    await writes.write(session, now)
    next_at = await next_due_instant(session) if len(rows) < limit else None
    await session.commit()
    return SweepResult(fired=fired, claimed=len(rows), next_due_at=next_at)
