"""The outbox fan-out: each event becomes its mails and its webhook deliveries, exactly once.

A batch of unprocessed outbox rows is claimed with `FOR UPDATE SKIP LOCKED`;
the mail rows and delivery rows are inserted and the outbox rows marked
processed in the same transaction. A worker that dies mid-batch commits
nothing, and the rows are claimed again; two workers never take the same row.
Only events up to the reader's `EventWatermark` are fanned out: an event whose
transaction commits after a later-numbered one is still fanned out before it,
so each endpoint's queue (ordered by event id) never passes over it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, literal_column, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.claims import candidates, claim_per_tenant
from app.core.clock import Clock
from app.core.event_registry import customer_view, pattern_matches
from app.core.event_watermark import EventWatermark
from app.models import Event, OutboxMessage, WebhookDelivery, WebhookEndpoint
from app.models.base import NO_TENANT, TenantKey
from app.services.delivery.rules import message_id

DELIVERY_CHANNEL = "carrierdesk_delivery"

# Statements built on first use and kept (executed with parameters).
_STATEMENTS: dict[str, Any] = {}

_NEW_DELIVERY = pg_insert(cast(Table, WebhookDelivery.__table__)).on_conflict_do_nothing()

MAIL_CHANNEL = "carrierdesk_mail"


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    outbox_id: int
    id: int
    enterprise_id: uuid.UUID | None
    subject_type: str
    subject_id: uuid.UUID
    type: str
    at: datetime
    actor: str
    data: dict[str, Any]  # as recorded, staff-only fields included: never sent as it is
    customer: dict[str, Any] | None  # the customer's view; None: the event is staff-only

    @classmethod
    def of(cls, row: Any) -> OutboxEvent:
        data = row.data or {}
        return cls(**row._asdict() | {"data": data}, customer=customer_view(row.type, data))


def standard_payload(event: OutboxEvent) -> dict[str, Any]:
    """Standard Webhooks body: `{type, timestamp, data}`. Webhooks are registered by
    customers: the body is the customer's view of the event."""
    assert event.customer is not None
    return {
        "type": event.type,
        "timestamp": event.at.isoformat().replace("+00:00", "Z"),
        "data": {
            **event.customer,  # the envelope's own keys below always win
            "event_id": event.id,
            "subject_type": event.subject_type,
            "subject_id": str(event.subject_id),
            "enterprise_id": str(event.enterprise_id) if event.enterprise_id else None,
            "actor": event.actor,
        },
    }


def subscribed(endpoint: Any, event: OutboxEvent) -> bool:
    """The endpoint's enterprise's event, of a type it asked for, that a customer may see."""
    if event.customer is None:
        return False
    return endpoint.enterprise_id == event.enterprise_id and any(
        pattern_matches(p, event.type) for p in endpoint.events
    )


async def fan_out_batch(
    session: AsyncSession, clock: Clock, settled: int, *, limit: int = 200
) -> int:
    """Fan out up to `limit` outbox rows of events up to `settled` (an `EventWatermark`) in one
    transaction; return how many were processed."""
    from app.services.delivery.notifications import insert_mails, mails_for_events
    from app.services.sonata.hub_events import sonata_deliveries
    from app.services.tmf621.hub_events import tmf_deliveries

    pending = (OutboxMessage.processed_at.is_(None), OutboxMessage.event_id <= settled)

    async def claim(enterprise_id: uuid.UUID | None, ids: list[Any]) -> list[Any]:
        if "claim" not in _STATEMENTS:  # built once: its cache key is not worked out again
            _STATEMENTS["claim"] = (
                select(
                    OutboxMessage.id.label("outbox_id"),
                    Event.id,
                    Event.enterprise_id,
                    Event.subject_type,
                    Event.subject_id,
                    Event.type,
                    Event.at,
                    Event.actor,
                    Event.data,
                )
                .join(
                    Event,
                    and_(
                        Event.enterprise_id == OutboxMessage.enterprise_id,
                        Event.id == OutboxMessage.event_id,
                    ),
                )
                .where(
                    OutboxMessage.enterprise_id == bindparam("enterprise_id", type_=TenantKey()),
                    OutboxMessage.id.in_(bindparam("ids", expanding=True)),
                    OutboxMessage.processed_at.is_(None),
                    OutboxMessage.event_id <= bindparam("settled"),
                )
                .with_for_update(of=OutboxMessage, skip_locked=True)
            )
        statement = _STATEMENTS["claim"]
        parameters = {"enterprise_id": enterprise_id, "ids": ids, "settled": settled}
        return list((await session.execute(statement, parameters)).all())

    claimed = await claim_per_tenant(
        session, candidates(OutboxMessage, OutboxMessage.id, limit, *pending), claim
    )
    claimed.sort(key=lambda row: row.outbox_id)
    if not claimed:
        await session.rollback()
        return 0
    now = clock.now()
    events = [OutboxEvent.of(row) for row in claimed]
    enterprise_ids = {e.enterprise_id for e in events if e.enterprise_id is not None}
    endpoints = (
        (
            await session.execute(
                select(
                    WebhookEndpoint.id,
                    WebhookEndpoint.enterprise_id,
                    WebhookEndpoint.kind,
                    WebhookEndpoint.events,
                    WebhookEndpoint.created_by,
                ).where(
                    WebhookEndpoint.enterprise_id.in_(enterprise_ids),
                    WebhookEndpoint.status == "active",
                )
            )
        ).all()
        if enterprise_ids
        else []
    )
    # Each event is matched against its own enterprise's endpoints only, not every one.
    standard: dict[uuid.UUID, list[Any]] = {}
    for endpoint in endpoints:
        if endpoint.kind == "standard":
            standard.setdefault(endpoint.enterprise_id, []).append(endpoint)
    deliveries: list[dict[str, Any]] = []
    for event in events:
        for endpoint in standard.get(event.enterprise_id, ()) if event.enterprise_id else ():
            if subscribed(endpoint, event):
                deliveries.append(_delivery(endpoint.id, event, standard_payload(event), now))
    for endpoint_id, event, payload in await tmf_deliveries(
        session, events, [e for e in endpoints if e.kind == "tmf621"]
    ):
        deliveries.append(_delivery(endpoint_id, event, payload, now))
    for endpoint_id, event, payload, path in sonata_deliveries(
        events, [e for e in endpoints if e.kind == "sonata"]
    ):
        deliveries.append(_delivery(endpoint_id, event, payload, now, listener_path=path))
    if deliveries:  # one statement compiled once (a multi-VALUES insert compiles per shape)
        await session.execute(_NEW_DELIVERY, deliveries)
    mails = await mails_for_events(session, events)
    await insert_mails(session, mails, now)
    # One statement for the batch, each row named by its key (locked above, per enterprise).
    await session.execute(
        update(OutboxMessage)
        .where(
            tuple_(OutboxMessage.enterprise_id, OutboxMessage.id).in_(
                [(e.enterprise_id or NO_TENANT, e.outbox_id) for e in events]
            )
        )
        .values(processed_at=now)
    )
    # Wake the senders of every worker (delivered at commit).
    for channel, wanted in ((DELIVERY_CHANNEL, deliveries), (MAIL_CHANNEL, mails)):
        if wanted:
            await session.execute(select(literal_column(f"pg_notify('{channel}', '')")))
    await session.commit()
    return len(events)


def _delivery(
    endpoint_id: uuid.UUID,
    event: OutboxEvent,
    payload: dict[str, Any],
    now: datetime,
    *,
    listener_path: str | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "endpoint_id": endpoint_id,
        "enterprise_id": event.enterprise_id,
        "event_id": event.id,
        "message_id": message_id(str(endpoint_id), event.id),
        "payload": payload,
        "listener_path": listener_path,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def fan_out_all(
    session: AsyncSession,
    clock: Clock,
    *,
    limit: int = 200,
    watermark: EventWatermark | None = None,
) -> int:
    """Drain the outbox as far as `watermark` has settled (the worker's, kept across wake-ups);
    without one, first wait for every event already drawn to settle (tests, one-shot calls)."""
    if watermark is None:
        settled = await EventWatermark().settle(session)
    else:
        settled = await watermark.advance(session)
    total = 0
    while True:
        done = await fan_out_batch(session, clock, settled, limit=limit)
        total += done
        if done < limit:
            return total
