"""The SLA report: per stage, clocks met and breached; mean time to restore; time of impact."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import field_error
from app.core.tenancy import Caller, visible_to
from app.models import SlaClock, Ticket
from app.services.tickets.rules import TIMED_STAGES, Stage, format_duration
from app.services.tickets.schemas import ImpactRead, SlaReport, StageReport

MAX_IMPACTS = 1000


def _asked_about(
    stmt: Select[Any],
    enterprise: ColumnElement[uuid.UUID],
    enterprise_id: uuid.UUID | None,
    at: ColumnElement[datetime],
    start: datetime | None,
    end: datetime | None,
) -> Select[Any]:
    """The rows the report was asked about: of one enterprise (if named), `at` in [start, end)."""
    if enterprise_id is not None:
        stmt = stmt.where(enterprise == enterprise_id)
    if start is not None:
        stmt = stmt.where(at >= start)
    if end is not None:
        stmt = stmt.where(at < end)
    return stmt


async def sla_report(
    session: AsyncSession,
    caller: Caller,
    enterprise_id: uuid.UUID | None,
    start: datetime | None,
    end: datetime | None,
) -> SlaReport:
    if start is not None and end is not None and end <= start:
        raise field_error("to", "must be after from")
    if enterprise_id is not None:
        caller.require_enterprise(enterprise_id)
    c = SlaClock.__table__.c
    counts = select(
        c.stage,
        func.count().filter(c.state == "met").label("met"),
        func.count().filter(c.state == "breached").label("breached"),
        func.count().filter(c.state.in_(("running", "paused"))).label("running"),
    ).group_by(c.stage)
    counts = visible_to(counts, caller, SlaClock.enterprise_id)
    counts = _asked_about(counts, c.enterprise_id, enterprise_id, c.started_at, start, end)
    by_stage = {r.stage: r for r in (await session.execute(counts)).all()}
    stages = []
    for stage in TIMED_STAGES:
        r = by_stage.get(stage.value)
        met, breached, running = (r.met, r.breached, r.running) if r else (0, 0, 0)
        ended = met + breached
        stages.append(
            StageReport(
                stage=stage,
                met=met,
                breached=breached,
                running=running,
                share_met=round(met / ended, 4) if ended else None,
            )
        )

    t = Ticket.__table__.c
    restored = func.coalesce(t.restored_at, t.closed_at)
    impact_seconds = func.greatest(
        func.extract("epoch", restored - t.reported_at) - t.waiting_seconds, 0
    )
    closed = (
        select(t.id, t.number, t.reported_at, restored.label("restored_at"), t.waiting_seconds,
               impact_seconds.label("impact"))
        .where(t.stage == Stage.closed.value)
        .order_by(t.closed_at, t.id)
        .limit(MAX_IMPACTS)
    )  # fmt: skip
    closed = visible_to(closed, caller, Ticket.enterprise_id)
    closed = _asked_about(closed, t.enterprise_id, enterprise_id, t.closed_at, start, end)
    rows = (await session.execute(closed)).all()
    impacts = [
        ImpactRead(
            ticket_id=r.id,
            number=r.number,
            reported_at=r.reported_at,
            restored_at=r.restored_at,
            waiting_seconds=round(r.waiting_seconds, 3),
            time_of_impact_seconds=round(float(r.impact), 3),
            time_of_impact=format_duration(timedelta(seconds=round(float(r.impact)))),
        )
        for r in rows
    ]
    mean = sum(i.time_of_impact_seconds for i in impacts) / len(impacts) if impacts else None
    return SlaReport(
        enterprise_id=enterprise_id,
        from_=start,
        to=end,
        stages=stages,
        closed_tickets=len(impacts),
        mean_time_to_restore_seconds=None if mean is None else round(mean, 3),
        mean_time_to_restore=None
        if mean is None
        else format_duration(timedelta(seconds=round(mean))),
        impacts=impacts,
    )
