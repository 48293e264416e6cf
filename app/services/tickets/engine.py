"""The SLA engine's unit of work: claim the clocks that fell due, record what they passed.

Claims find due clocks over the partial index on `next_due_at` of running clocks, then lock
them per enterprise with `FOR UPDATE OF sla_clocks, tickets SKIP LOCKED` (`core.claims`):
any number of workers share the work, none fires the same threshold twice (the row's own
warned_at / breached_at / escalation_level guard it), and a worker killed mid-way loses nothing (its
transaction rolls back and the rows fall due again for the others). The cost is
the number of due clocks, never the number of open tickets.

A batch is computed first (the pure `rules.step` of each clock, in firing order), then
written in one statement whatever its size: its events with their outbox rows (the CTEs of
`core.events.record_events`, ids in firing order, one NOTIFY), its clocks, its tickets.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.claims import claim_found
from app.core.database import driver_connection, fetch_in_transaction
from app.core.events import EVENT_BATCH_CTES, NOTIFY_EVENT_BATCH, NewEvent, event_batch_args
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


@dataclass(frozen=True)
class SweepResult:
    fired: int  # clocks that passed a threshold
    claimed: int  # clocks claimed (a full batch means: look again at once)
    # The earliest instant a running clock falls due after this batch (when the batch was not
    # full): when the loop looks next.
    next_due_at: datetime | None = None


# The candidates, unlocked, across every shard: `(enterprise_id, id, next_due_at)` of up to $2
# clocks due at $1, the most overdue first, and after them the first clock not yet due (its
# instant is when the loop looks next, unless the batch sets an earlier one): two scans of the
# partial index on running clocks' `next_due_at`, one round trip.
DUE_CLOCKS = """
(SELECT enterprise_id, id, next_due_at FROM sla_clocks
 WHERE state = 'running' AND next_due_at IS NOT NULL AND next_due_at <= $1
 ORDER BY next_due_at LIMIT $2)
UNION ALL
(SELECT enterprise_id, id, next_due_at FROM sla_clocks
 WHERE state = 'running' AND next_due_at IS NOT NULL AND next_due_at > $1
 ORDER BY next_due_at LIMIT 1)
ORDER BY next_due_at
"""


class Claimed(NamedTuple):
    """A claimed clock, with what the engine needs of its ticket (the columns of `_CLAIM`)."""

    id: int
    ticket_id: uuid.UUID
    enterprise_id: uuid.UUID
    stage: str
    started_at: datetime
    target_seconds: float | None
    due_at: datetime | None
    paused_seconds: float
    warning_ratio: float
    escalation_ratios: list[float]
    warned_at: datetime | None
    breached_at: datetime | None
    escalation_level: int
    next_due_at: datetime
    number: str
    country: str
    ticket_level: int


# Locks one enterprise's candidates ($2, one array: one prepared statement whatever the count)
# still due at $3, with their tickets (`SKIP LOCKED`: those another worker holds are its own).
_CLAIM = """
SELECT c.id, c.ticket_id, c.enterprise_id, c.stage, c.started_at, c.target_seconds, c.due_at,
    c.paused_seconds, c.warning_ratio, c.escalation_ratios, c.warned_at, c.breached_at,
    c.escalation_level, c.next_due_at, t.number, t.country, t.escalation_level
FROM sla_clocks c
JOIN tickets t ON t.enterprise_id = c.enterprise_id AND t.id = c.ticket_id
WHERE c.enterprise_id = $1 AND c.id = ANY($2::int8[])
    AND c.state = 'running' AND c.next_due_at IS NOT NULL AND c.next_due_at <= $3
FOR UPDATE OF c, t SKIP LOCKED
"""


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


# The batch's writes in one statement: its events with their outbox rows (`core.events`, $1-$7,
# every one at $6), its clocks ($8-$13), its tickets ($14-$17), one array a column; every row
# named by its `(enterprise_id, id)` so that each routes to its shard on Citus. The rows are
# locked by the claim, so each threshold recorded here is recorded once; the guards keep a
# recorded instant.
_WRITE_BATCH = f"""
WITH {EVENT_BATCH_CTES},
clocks AS (
  UPDATE sla_clocks c SET
    next_due_at = v.next_due_at,
    warned_at = CASE WHEN v.warn THEN coalesce(c.warned_at, $6) ELSE c.warned_at END,
    breached_at = CASE WHEN v.breach THEN coalesce(c.breached_at, $6) ELSE c.breached_at END,
    escalation_level = greatest(c.escalation_level, v.level)
  FROM unnest($8::uuid[], $9::int8[], $10::timestamptz[], $11::bool[], $12::bool[], $13::int4[])
    AS v(enterprise_id, id, next_due_at, warn, breach, level)
  WHERE c.enterprise_id = v.enterprise_id AND c.id = v.id
),
tickets AS (
  UPDATE tickets t SET
    updated_at = $6,
    version = t.version + 1,
    breached = t.breached OR v.breached,
    escalation_level = coalesce(v.level, t.escalation_level)
  FROM unnest($14::uuid[], $15::uuid[], $16::bool[], $17::int4[])
    AS v(enterprise_id, id, breached, level)
  WHERE t.enterprise_id = v.enterprise_id AND t.id = v.id
)
{NOTIFY_EVENT_BATCH}
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
        if not self.clocks:
            return
        clocks = [list(column) for column in zip(*self.clocks, strict=True)]
        keys = list(self.tickets)
        tickets = [
            [k[0] for k in keys],
            [k[1] for k in keys],
            [self.tickets[k][0] for k in keys],
            [self.tickets[k][1] for k in keys],
        ]
        events = event_batch_args(self.events, at=now, actor=SYSTEM_ACTOR)
        driver = await driver_connection(session)
        await driver.execute(_WRITE_BATCH, *events, *clocks, *tickets)


async def fire_due_clocks(session: AsyncSession, now: datetime, *, limit: int = 200) -> SweepResult:
    """One transaction: claim up to `limit` due clocks, record what each passed, commit.

    The candidates are read before the transaction (an unlocked read either way), so a look
    that finds nothing due costs one statement and no transaction."""
    driver = await driver_connection(session)
    found = await driver.fetch(DUE_CLOCKS, now, limit)
    due = [(r[0], r[1]) for r in found if r[2] <= now]

    async def claim(enterprise_id: Any, ids: list[Any]) -> list[Claimed]:
        rows = await fetch_in_transaction(session, _CLAIM, enterprise_id, ids, now)
        return [Claimed._make(row) for row in rows]

    rows = await claim_found(due, claim)
    # Fired in due order, whatever the enterprise. A clock catching up (a worker or the
    # database was away) may pass its warning and its breach at once: it takes its place by
    # its breach, so that breaches are recorded in the order they fell due.
    rows.sort(key=lambda r: firing_order(r.due_at, r.breached_at, r.next_due_at, now))
    # Every step computed first (pure), then the batch written in one statement: its events
    # with their outbox rows (ids in firing order, one NOTIFY), its clocks, its tickets.
    steps = [(row, step(view_of(row), now)) for row in rows]
    contacts = await _contacts_for(session, steps, now)
    writes = _Writes()
    fired = sum(writes.add(row, result, now, contacts) for row, result in steps)
    await writes.write(session, now)
    await session.commit()
    if len(rows) >= limit:
        return SweepResult(fired=fired, claimed=len(rows))
    # When to look next: the first clock not yet due, a claimed clock's next threshold, or at
    # once when a due clock was left to another worker (SKIP LOCKED).
    upcoming = [r[2] for r in found if r[2] > now]
    upcoming += [result.next_due_at for _, result in steps if result.next_due_at is not None]
    if len(rows) < len(due):
        upcoming.append(now)
    return SweepResult(fired=fired, claimed=len(rows), next_due_at=min(upcoming, default=None))
