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

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Integer, bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.claims import candidates, claim_per_tenant
from app.core.clock import Clock
from app.core.database import driver_connection
from app.core.event_registry import customer_view, pattern_matches
from app.core.event_watermark import EventWatermark
from app.models import OutboxMessage
from app.models.base import NO_TENANT
from app.services.delivery.rules import message_id

DELIVERY_CHANNEL = "carrierdesk_delivery"

MAIL_CHANNEL = "carrierdesk_mail"

# The batch's statements go to the driver as prepared statements, each list one array
# parameter: through SQLAlchemy, compiling and wrapping each statement and its rows cost the
# worker more than the statement itself (bench.fanout). The candidates' scan, the first
# statement, goes through the session and opens its transaction; these join it.

# Built once, executed with `settled` and `limit`: building it per batch cost more than running.
_CANDIDATES = candidates(
    OutboxMessage,
    OutboxMessage.id,
    bindparam("limit", type_=Integer),
    OutboxMessage.processed_at.is_(None),
    OutboxMessage.event_id <= bindparam("settled", type_=BigInteger),
)

# One enterprise's candidates still pending, locked, with their events (`claim_per_tenant`).
_CLAIM = """
SELECT o.id AS outbox_id, e.id, e.subject_type, e.subject_id, e.type, e.at, e.actor, e.data
FROM outbox o
JOIN events e ON e.enterprise_id = o.enterprise_id AND e.id = o.event_id
WHERE o.enterprise_id = $1 AND o.id = ANY($2::bigint[])
  AND o.processed_at IS NULL AND o.event_id <= $3
FOR UPDATE OF o SKIP LOCKED
"""

_ENDPOINTS = """
SELECT id, enterprise_id, kind, events, created_by FROM webhook_endpoints
WHERE enterprise_id = ANY($1::uuid[]) AND status = 'active'
"""

_NEW_DELIVERIES = """
INSERT INTO webhook_deliveries (id, endpoint_id, enterprise_id, event_id, message_id, payload,
                                listener_path, status, attempts, next_attempt_at, created_at)
SELECT d.id, d.endpoint_id, d.enterprise_id, d.event_id, d.message_id, d.payload,
       d.listener_path, 'pending', 0, $1, $1
FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[], $6::text[], $7::jsonb[],
            $8::text[])
    AS d(id, endpoint_id, enterprise_id, event_id, message_id, payload, listener_path)
ON CONFLICT DO NOTHING
"""

# Each row named by its key (locked by the claim, per enterprise), so each routes to its shard.
_PROCESSED = """
UPDATE outbox o SET processed_at = $1
FROM unnest($2::uuid[], $3::bigint[]) AS k(enterprise_id, id)
WHERE o.enterprise_id = k.enterprise_id AND o.id = k.id
"""

# A statement of its own, on no table (CONTRIBUTING.md, Citus); delivered at commit.
_NOTIFY = "SELECT pg_notify(channel, '') FROM unnest($1::text[]) AS channel"


class Endpoint(NamedTuple):
    """An active endpoint of an enterprise in the batch: a webhook, or a TMF621 or Sonata hub."""

    id: uuid.UUID
    enterprise_id: uuid.UUID
    kind: str
    events: list[str]
    created_by: str


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
    def of(cls, row: Any, enterprise_id: uuid.UUID | None) -> OutboxEvent:
        """An event as `_CLAIM` reads it, of the enterprise it was claimed for."""
        data = row["data"] or {}
        return cls(
            outbox_id=row["outbox_id"],
            id=row["id"],
            enterprise_id=enterprise_id,
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            type=row["type"],
            at=row["at"],
            actor=row["actor"],
            data=data,
            customer=customer_view(row["type"], data),
        )


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


def subscribed(endpoint: Endpoint, event: OutboxEvent) -> bool:
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

    driver = await driver_connection(session)

    async def claim(enterprise_id: uuid.UUID | None, ids: list[Any]) -> list[OutboxEvent]:
        tenant = NO_TENANT if enterprise_id is None else enterprise_id
        rows = await driver.fetch(_CLAIM, tenant, ids, settled)
        return [OutboxEvent.of(row, enterprise_id) for row in rows]

    found = {"settled": settled, "limit": limit}
    events = await claim_per_tenant(session, _CANDIDATES, claim, found)
    events.sort(key=lambda event: event.outbox_id)
    if not events:
        await session.rollback()
        return 0
    now = clock.now()
    enterprise_ids = list({e.enterprise_id for e in events if e.enterprise_id is not None})
    endpoints = (
        [Endpoint(*row) for row in await driver.fetch(_ENDPOINTS, enterprise_ids)]
        if enterprise_ids
        else []
    )
    # Each event is matched against its own enterprise's endpoints only, not every one.
    standard: dict[uuid.UUID, list[Endpoint]] = {}
    for endpoint in endpoints:
        if endpoint.kind == "standard":
            standard.setdefault(endpoint.enterprise_id, []).append(endpoint)
    deliveries: list[tuple[Any, ...]] = []
    for event in events:
        for endpoint in standard.get(event.enterprise_id, ()) if event.enterprise_id else ():
            if subscribed(endpoint, event):
                deliveries.append(_delivery(endpoint.id, event, standard_payload(event)))
    for endpoint_id, event, payload in await tmf_deliveries(
        session, events, [e for e in endpoints if e.kind == "tmf621"]
    ):
        deliveries.append(_delivery(endpoint_id, event, payload))
    for endpoint_id, event, payload, path in sonata_deliveries(
        events, [e for e in endpoints if e.kind == "sonata"]
    ):
        deliveries.append(_delivery(endpoint_id, event, payload, listener_path=path))
    if deliveries:
        await driver.execute(_NEW_DELIVERIES, now, *map(list, zip(*deliveries, strict=True)))
    mails = await mails_for_events(session, events)
    await insert_mails(session, mails, now)
    tenants = [NO_TENANT if e.enterprise_id is None else e.enterprise_id for e in events]
    await driver.execute(_PROCESSED, now, tenants, [e.outbox_id for e in events])
    # Wake the senders of every worker: only those with something to send.
    wanted = ((DELIVERY_CHANNEL, deliveries), (MAIL_CHANNEL, mails))
    channels = [channel for channel, rows in wanted if rows]
    if channels:
        await driver.execute(_NOTIFY, channels)
    await session.commit()
    return len(events)


def _delivery(
    endpoint_id: uuid.UUID,
    event: OutboxEvent,
    payload: dict[str, Any],
    *,
    listener_path: str | None = None,
) -> tuple[Any, ...]:
    """A row of `_NEW_DELIVERIES`, its columns in order."""
    return (
        uuid.uuid4(),
        endpoint_id,
        event.enterprise_id,
        event.id,
        message_id(str(endpoint_id), event.id),
        json.dumps(payload),
        listener_path,
    )


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
