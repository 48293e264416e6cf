"""Send due webhook deliveries: signed, bounded, in order per endpoint, retried with backoff.

A claim takes the head of each endpoint's queue (its oldest pending delivery)
when it is due, with `FOR UPDATE SKIP LOCKED`, and leases it with the few
deliveries behind it (the endpoint's run): `attempts` goes up and
`next_attempt_at` moves past the lease, in the claiming transaction. The POSTs
happen outside any transaction, one after another per endpoint, stopping at the
first failure; results are recorded in short transactions, many at a time
(`webhook_outcomes`). A worker that dies mid-run leaves the lease to expire, and
the same messages (same `webhook-id`) are sent again: at least once, in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from app.core.settings import Settings
from app.models import OutboxMessage, WebhookDelivery, WebhookEndpoint
from app.services.delivery.addresses import AddressRefused, check_destination
from app.services.delivery.http1 import Origin, ProtocolError, Timeouts, WebhookClient
from app.services.delivery.leases import LeaseKey, LeasePlan, lease_due, lease_plan
from app.services.delivery.rules import LEASE, RESPONSE_CAP_BYTES, destination

logger = logging.getLogger("carrierdesk.webhooks")

CONNECT_SECONDS = 5.0

EXCERPT = 500

_NO_EVENT = 2**63 - 1  # past every event id: no event waits to be fanned out


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    endpoint_id: uuid.UUID
    enterprise_id: uuid.UUID
    event_id: int
    message_id: str
    body: str  # the payload as PostgreSQL writes its JSON: sent and signed as it is
    attempts: int
    url: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None

    @property
    def lease_key(self) -> LeaseKey:
        return (self.enterprise_id, self.id, self.attempts)


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None


# Core columns: the claim's statements set up no ORM state for rows only read back.
_D_TABLE: Any = WebhookDelivery.__table__
_D = _D_TABLE.c
_E_TABLE: Any = WebhookEndpoint.__table__
_E = _E_TABLE.c
_O = OutboxMessage.__table__.c


def _heads() -> Any:
    """The head of each active endpoint's queue: its oldest pending delivery.

    One index probe per active endpoint (a LATERAL over the partial index on
    pending deliveries), however long the queues are. A head waits while an
    earlier event of the same tenant is still being fanned out (its outbox row
    unprocessed): another worker may yet add a delivery ahead of it.
    """
    head = (
        select(
            _D.id,
            _D.event_id,
            _D.enterprise_id,
            _D.next_attempt_at,
        )
        .where(
            _D.enterprise_id == _E.enterprise_id,
            _D.endpoint_id == _E.id,
            _D.status == "pending",
        )
        .order_by(_D.event_id)
        .limit(1)
        .lateral("head")
    )
    unfanned = exists().where(
        and_(
            _O.processed_at.is_(None),
            _O.enterprise_id == head.c.enterprise_id,
            _O.event_id < head.c.event_id,
        )
    )
    return (
        select(
            head.c.enterprise_id,
            head.c.id,
            head.c.next_attempt_at,
            _E.failing_since,
        )
        .select_from(_E_TABLE)
        .join(head, true())
        .where(_E.status == "active", ~unfanned)
        .subquery("heads")
    )


def _claim_plan(failing: bool | None) -> LeasePlan:
    """The claim of due heads (of endpoints failing lately, or not, or both) with their runs.

    Holding the lock on an endpoint's head is holding its queue: the rows behind it are
    no one's head, so they are leased in the same statement, unlocked. A run stops before
    an event the tenant's outbox may still fan out ahead of (`_heads`' rule, per row)."""
    heads = _heads()

    def heads_due(now: Any) -> Select[Any]:
        due = select(heads.c.enterprise_id, heads.c.id).where(heads.c.next_attempt_at <= now)
        if failing is not None:
            lately = heads.c.failing_since.is_not(None)
            due = due.where(lately if failing else ~lately)
        return due.order_by(heads.c.next_attempt_at)

    head_table = _D_TABLE.alias("h")
    head = head_table.c
    row = _D_TABLE.alias("r").c
    # The head's own tenant's first event still to fan out. Correlated by name: two levels
    # down (inside the run's LATERAL), SQLAlchemy would otherwise take `h` as a FROM of its
    # own, and the minimum over every tenant's outbox would cut every run short.
    unfanned = (
        select(func.min(_O.event_id))
        .where(
            _O.enterprise_id == head.enterprise_id,
            _O.processed_at.is_(None),
        )
        .correlate(head_table)
        .scalar_subquery()
    )
    queue = (
        select(row.id)
        .where(
            row.enterprise_id == head.enterprise_id,
            row.endpoint_id == head.endpoint_id,
            row.status == "pending",
            row.event_id >= head.event_id,
            or_(row.id == head.id, row.event_id < func.coalesce(unfanned, _NO_EVENT)),
        )
        .order_by(row.event_id)
        .limit(bindparam("run", type_=Integer))
        .lateral("run")
    )

    def runs_of(enterprise_id: Any, locked: Any) -> Select[Any]:
        return (
            select(queue.c.id)
            .select_from(head_table)
            .join(queue, true())
            .where(head.enterprise_id == enterprise_id, head.id == any_(locked))
        )

    return lease_plan(
        WebhookDelivery,
        (
            _D.id,
            _D.endpoint_id,
            _D.enterprise_id,
            _D.event_id,
            _D.message_id,
            cast(_D.payload, Text).label("body"),
            _D.attempts,
            _D.listener_path,
            _E.url,
            _E.secret,
            _E.previous_secret,
            _E.previous_secret_expires_at,
        ),
        found=heads_due,
        rows_of=runs_of,
        joined=(
            _E.enterprise_id == _D.enterprise_id,
            _E.id == _D.endpoint_id,
        ),
    )


_CLAIM_PLANS = {failing: _claim_plan(failing) for failing in (None, True, False)}


async def claim_due(
    session: AsyncSession,
    now: datetime,
    limit: int,
    lease: timedelta = LEASE,
    *,
    failing: bool | None = None,
    run: int = 1,
) -> list[Claimed]:
    """Lease the heads of up to `limit` endpoints' queues that are due, each with up to
    `run - 1` deliveries after it (its run, sent one after another, in event order); with
    `failing`, only from endpoints that are (True) or are not (False) failing lately.
    Answer the leased deliveries grouped by endpoint, each endpoint's in event order."""
    plan = _CLAIM_PLANS[failing]
    leased = await lease_due(session, plan, now, limit, lease, run=max(run, 1))
    await session.commit()
    first: dict[uuid.UUID, int] = {}
    for index, d in enumerate(leased):
        first.setdefault(d.endpoint_id, index)
    return [
        Claimed(
            id=d.id,
            endpoint_id=d.endpoint_id,
            enterprise_id=d.enterprise_id,
            event_id=d.event_id,
            message_id=d.message_id,
            body=d.body,
            attempts=d.attempts,
            # A Sonata hub hears each event type at its own path under its callback.
            url=d.url + (d.listener_path or ""),
            secret=d.secret,
            previous_secret=d.previous_secret,
            previous_secret_expires_at=d.previous_secret_expires_at,
        )
        for d in sorted(leased, key=lambda d: (first[d.endpoint_id], d.event_id))
    ]


@lru_cache(maxsize=4096)
def _signer(secret: str) -> Webhook:
    return Webhook(secret)  # decodes the secret once, not once per delivery


def signature_header(claimed: Claimed, body: str, at: datetime) -> str:
    """`v1,<sig>`; during a rotation's overlap, the previous secret signs too."""
    signatures = [_signer(claimed.secret).sign(claimed.message_id, at, body)]
    if (
        claimed.previous_secret
        and claimed.previous_secret_expires_at is not None
        and claimed.previous_secret_expires_at > at
    ):
        signatures.append(_signer(claimed.previous_secret).sign(claimed.message_id, at, body))
    return " ".join(signatures)


async def post_once(
    http: WebhookClient,
    claimed: Claimed,
    at: datetime,
    settings: Settings,
    timeouts: Timeouts | None = None,
) -> Outcome:
    """One attempt, bounded as a whole by `settings.webhook_attempt_seconds` (a receiver
    dripping its answer cannot hold it longer) and reading at most RESPONSE_CAP_BYTES."""
    body = claimed.body.encode()
    timestamp = str(int(at.timestamp()))
    started = time.perf_counter()
    try:
        async with asyncio.timeout(settings.webhook_attempt_seconds):
            addresses = await check_destination(claimed.url, settings)
            wire = destination(claimed.url)
            # Connect to the address checked, not to a fresh resolution of the name.
            address = addresses[0] if addresses else wire.host
            origin = Origin(wire.scheme, address, wire.port, wire.host)
            head = (
                f"POST {wire.target} HTTP/1.1\r\n"
                f"host: {wire.host_header}\r\n"
                "content-type: application/json\r\n"
                "user-agent: CarrierDesk-Webhooks/1\r\n"
                f"content-length: {len(body)}\r\n"
                f"webhook-id: {claimed.message_id}\r\n"
                f"webhook-timestamp: {timestamp}\r\n"
                f"webhook-signature: {signature_header(claimed, claimed.body, at)}\r\n"
                "\r\n"
            ).encode("ascii")
            # The endpoint's own kept-alive connection: one attempt at a time per endpoint.
            answer = await http.post(
                claimed.endpoint_id,
                origin,
                head,
                body,
                timeouts or default_timeouts(settings),
                RESPONSE_CAP_BYTES,
            )
    except AddressRefused as exc:
        return Outcome(False, None, _ms(started), None, f"refused: {exc}")
    except TimeoutError:
        return Outcome(False, None, _ms(started), None, "timed out")
    except (OSError, ProtocolError) as exc:  # refused, reset, TLS, malformed answer
        return Outcome(False, None, _ms(started), None, f"{type(exc).__name__}: {exc}"[:EXCERPT])
    except Exception as exc:  # logged and retried like any failure, never a silent loop
        logger.exception("webhook %s: unexpected error", claimed.message_id)
        return Outcome(False, None, _ms(started), None, f"{type(exc).__name__}: {exc}"[:EXCERPT])
    excerpt = answer.text()[:EXCERPT] if answer.body else None
    ok = 200 <= answer.status < 300
    error = None if ok else f"answered {answer.status}"
    return Outcome(ok, answer.status, _ms(started), excerpt, error)


def default_timeouts(settings: Settings) -> Timeouts:
    """Connecting within CONNECT_SECONDS, the answer within the attempt's own bound."""
    return Timeouts(connect=CONNECT_SECONDS, answer=settings.webhook_attempt_seconds)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
