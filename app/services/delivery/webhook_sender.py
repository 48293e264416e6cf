"""Send due webhook deliveries: signed, bounded, in order per endpoint, retried with backoff.

A claim takes the head of each endpoint's queue (its oldest pending delivery)
when it is due, with `FOR UPDATE SKIP LOCKED`, and leases it: `attempts` goes
up and `next_attempt_at` moves past the lease, in the claiming transaction.
The POST happens outside any transaction; its result is recorded in a short
one. A worker that dies mid-POST leaves the lease to expire, and the same
message (same `webhook-id`) is sent again: at least once, in order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import and_, exists, func, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from app.core.claims import by_tenant
from app.core.settings import Settings
from app.models import OutboxMessage, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.services.delivery.addresses import AddressRefused, check_destination
from app.services.delivery.leases import lease_due
from app.services.delivery.rules import (
    LEASE,
    RESPONSE_CAP_BYTES,
    WEBHOOK_RETRY_DELAYS,
    next_retry,
    pinned_url,
    should_disable,
    wire_host,
)

logger = logging.getLogger("carrierdesk.webhooks")

REQUEST_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

EXCERPT = 500


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    endpoint_id: uuid.UUID
    enterprise_id: uuid.UUID
    event_id: int
    message_id: str
    payload: dict[str, Any]
    attempts: int
    url: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None


def _heads() -> Any:
    """The head of each active endpoint's queue: its oldest pending delivery.

    One index probe per active endpoint (a LATERAL over the partial index on
    pending deliveries), however long the queues are. A head waits while an
    earlier event of the same tenant is still being fanned out (its outbox row
    unprocessed): another worker may yet add a delivery ahead of it.
    """
    head = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.event_id,
            WebhookDelivery.enterprise_id,
            WebhookDelivery.next_attempt_at,
        )
        .where(
            WebhookDelivery.enterprise_id == WebhookEndpoint.enterprise_id,
            WebhookDelivery.endpoint_id == WebhookEndpoint.id,
            WebhookDelivery.status == "pending",
        )
        .order_by(WebhookDelivery.event_id)
        .limit(1)
        .lateral("head")
    )
    unfanned = exists().where(
        and_(
            OutboxMessage.processed_at.is_(None),
            OutboxMessage.enterprise_id == head.c.enterprise_id,
            OutboxMessage.event_id < head.c.event_id,
        )
    )
    return (
        select(
            head.c.enterprise_id,
            head.c.id,
            head.c.next_attempt_at,
            WebhookEndpoint.failing_since,
        )
        .select_from(WebhookEndpoint)
        .join(head, true())
        .where(WebhookEndpoint.status == "active", ~unfanned)
        .subquery("heads")
    )


async def claim_due(
    session: AsyncSession,
    now: datetime,
    limit: int,
    lease: timedelta = LEASE,
    *,
    failing: bool | None = None,
) -> list[Claimed]:
    """Lease up to `limit` due deliveries, each the head of its endpoint's queue; with
    `failing`, only from endpoints that are (True) or are not (False) failing lately."""
    heads = _heads()
    heads_due = select(heads.c.enterprise_id, heads.c.id).where(heads.c.next_attempt_at <= now)
    if failing is not None:
        lately = heads.c.failing_since.is_not(None)
        heads_due = heads_due.where(lately if failing else ~lately)
    leased = await lease_due(
        session,
        WebhookDelivery,
        now,
        limit,
        lease,
        (
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            WebhookDelivery.enterprise_id,
            WebhookDelivery.event_id,
            WebhookDelivery.message_id,
            WebhookDelivery.payload,
            WebhookDelivery.attempts,
            WebhookDelivery.listener_path,
        ),
        found=heads_due.order_by(heads.c.next_attempt_at).limit(limit),
    )
    endpoints = {
        (row.enterprise_id, row.id): row
        for enterprise_id, endpoint_ids in by_tenant(
            (d.enterprise_id, d.endpoint_id) for d in leased
        ).items()
        for row in (
            await session.execute(
                select(
                    WebhookEndpoint.enterprise_id,
                    WebhookEndpoint.id,
                    WebhookEndpoint.url,
                    WebhookEndpoint.secret,
                    WebhookEndpoint.previous_secret,
                    WebhookEndpoint.previous_secret_expires_at,
                ).where(
                    WebhookEndpoint.enterprise_id == enterprise_id,
                    WebhookEndpoint.id.in_(endpoint_ids),
                )
            )
        ).all()
    }
    rows = []
    for d in leased:
        endpoint = endpoints[(d.enterprise_id, d.endpoint_id)]
        rows.append(
            Claimed(
                id=d.id,
                endpoint_id=d.endpoint_id,
                enterprise_id=d.enterprise_id,
                event_id=d.event_id,
                message_id=d.message_id,
                payload=d.payload,
                attempts=d.attempts,
                # A Sonata hub hears each event type at its own path under its callback.
                url=endpoint.url + (d.listener_path or ""),
                secret=endpoint.secret,
                previous_secret=endpoint.previous_secret,
                previous_secret_expires_at=endpoint.previous_secret_expires_at,
            )
        )
    await session.commit()
    return rows


def signature_header(claimed: Claimed, body: str, at: datetime) -> str:
    """`v1,<sig>`; during a rotation's overlap, the previous secret signs too."""
    signatures = [Webhook(claimed.secret).sign(claimed.message_id, at, body)]
    if (
        claimed.previous_secret
        and claimed.previous_secret_expires_at is not None
        and claimed.previous_secret_expires_at > at
    ):
        signatures.append(Webhook(claimed.previous_secret).sign(claimed.message_id, at, body))
    return " ".join(signatures)


async def post_once(
    http: httpx.AsyncClient,
    claimed: Claimed,
    at: datetime,
    settings: Settings,
    request_timeout: httpx.Timeout = REQUEST_TIMEOUT,
) -> Outcome:
    """One attempt, bounded as a whole by `settings.webhook_attempt_seconds` (a receiver
    dripping its answer cannot hold it longer) and reading at most RESPONSE_CAP_BYTES."""
    body = json.dumps(claimed.payload, separators=(",", ":"), ensure_ascii=False)
    headers = {
        "content-type": "application/json",
        "user-agent": "CarrierDesk-Webhooks/1",
        "webhook-id": claimed.message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature_header(claimed, body, at),
    }
    started = time.perf_counter()
    try:
        async with asyncio.timeout(settings.webhook_attempt_seconds):
            addresses = await check_destination(claimed.url, settings)
            url, extensions = claimed.url, {}
            if addresses:  # connect to the address checked, not to a fresh resolution
                url, headers["host"] = pinned_url(claimed.url, addresses[0])
                if claimed.url.startswith("https:"):
                    extensions = {"sni_hostname": wire_host(urlsplit(claimed.url).hostname or "")}
            request = http.build_request(
                "POST",
                url,
                content=body.encode(),
                headers=headers,
                timeout=request_timeout,
                extensions=extensions,
            )
            response = await http.send(request, stream=True)
            try:
                answer = await _read_capped(response)
            finally:
                await response.aclose()
    except AddressRefused as exc:
        return Outcome(False, None, _ms(started), None, f"refused: {exc}")
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(False, None, _ms(started), None, "timed out")
    except httpx.HTTPError as exc:
        return Outcome(False, None, _ms(started), None, f"{type(exc).__name__}: {exc}"[:EXCERPT])
    except Exception as exc:  # logged and retried like any failure, never a silent loop
        logger.exception("webhook %s: unexpected error", claimed.message_id)
        return Outcome(False, None, _ms(started), None, f"{type(exc).__name__}: {exc}"[:EXCERPT])
    excerpt = answer.decode(response.encoding or "utf-8", "replace")[:EXCERPT] if answer else None
    ok = 200 <= response.status_code < 300
    error = None if ok else f"answered {response.status_code}"
    return Outcome(ok, response.status_code, _ms(started), excerpt, error)


async def _read_capped(response: httpx.Response) -> bytes:
    """The first RESPONSE_CAP_BYTES of the answer; the rest is never read."""
    answer = bytearray()
    async for chunk in response.aiter_raw():
        answer += chunk[: RESPONSE_CAP_BYTES - len(answer)]
        if len(answer) >= RESPONSE_CAP_BYTES:
            break
    return bytes(answer)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


async def record_outcome(
    session: AsyncSession, claimed: Claimed, outcome: Outcome, at: datetime, now: datetime
) -> None:
    """The attempt's log line, the delivery's next step, and the endpoint's health."""
    from app.services.delivery.notifications import endpoint_disabled_mails

    await session.execute(
        insert(WebhookAttempt).values(
            id=uuid.uuid4(),
            delivery_id=claimed.id,
            endpoint_id=claimed.endpoint_id,
            enterprise_id=claimed.enterprise_id,
            event_id=claimed.event_id,
            attempted_at=at,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
        )
    )
    delivery = update(WebhookDelivery).where(
        WebhookDelivery.enterprise_id == claimed.enterprise_id,
        WebhookDelivery.id == claimed.id,
        WebhookDelivery.status == "pending",
        WebhookDelivery.attempts == claimed.attempts,  # a newer lease owns it otherwise
    )
    endpoint = update(WebhookEndpoint).where(
        WebhookEndpoint.enterprise_id == claimed.enterprise_id,
        WebhookEndpoint.id == claimed.endpoint_id,
    )
    if outcome.ok:
        await session.execute(delivery.values(status="succeeded", completed_at=now))
        await session.execute(endpoint.values(failing_since=None))
        await session.commit()
        return
    retry_at = next_retry(claimed.attempts, now, WEBHOOK_RETRY_DELAYS)
    if retry_at is None:
        values: dict[str, Any] = {"status": "failed", "completed_at": now}
    else:
        values = {"next_attempt_at": retry_at}
    await session.execute(delivery.values(last_error=outcome.error, **values))
    failing_since = (
        await session.execute(
            endpoint.values(
                failing_since=func.coalesce(WebhookEndpoint.failing_since, now)
            ).returning(WebhookEndpoint.failing_since, WebhookEndpoint.status)
        )
    ).one()
    if failing_since.status == "active" and should_disable(failing_since.failing_since, now):
        reason = f"every delivery failed since {failing_since.failing_since.isoformat()}"
        await session.execute(
            endpoint.values(
                status="disabled",
                disabled_reason=reason,
                version=WebhookEndpoint.version + 1,
                updated_at=now,
            )
        )
        await endpoint_disabled_mails(session, claimed.endpoint_id, reason, now)
    await session.commit()
