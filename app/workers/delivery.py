"""The delivery loops: outbox fan-out, webhook dispatch, mail sending.

Each waits on its NOTIFY channel (set by the listener) with a safety sweep
behind it, so a lost notification delays work by a few seconds at most.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from app.core.event_watermark import EventWatermark
from app.core.events import OUTBOX_CHANNEL
from app.services.delivery.dispatcher import WebhookDispatcher, webhook_client
from app.services.delivery.fanout import DELIVERY_CHANNEL, MAIL_CHANNEL, fan_out_all
from app.services.delivery.mail_sender import send_due_mail
from app.workers.context import WorkerContext

logger = logging.getLogger("carrierdesk.worker.delivery")

SAFETY_SWEEP = 5.0

# Outbox rows per fan-out transaction: its claim takes one statement per enterprise, so a
# burst over many enterprises costs fewer statements per event in larger batches.
FAN_OUT_BATCH = 1000

# Mail per claim, sent over one SMTP connection (its outcomes recorded every second).
MAIL_BATCH = 200

# How soon the fan-out looks again while an older transaction holds back newer events.
SETTLE_RECHECK = 0.05


async def _wait(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout=max(seconds, 0.0))
    except TimeoutError:
        pass
    event.clear()


async def _wait_any(event: asyncio.Event, tasks: set[asyncio.Task[None]], seconds: float) -> None:
    waiter = asyncio.create_task(event.wait())
    try:
        await asyncio.wait({*tasks, waiter}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    event.clear()


async def outbox_loop(ctx: WorkerContext) -> None:
    wake = ctx.wakeup(OUTBOX_CHANNEL)
    watermark = EventWatermark()
    while True:
        # An SLA sweep of this process goes first: each of its statements would otherwise wait
        # behind a fan-out batch's Python in this event loop, and every breach of the sweep
        # after it is late by its length (300 clocks due at once beside intake, on a shared
        # machine: the first sweep ~400 -> ~270 ms).
        async with ctx.sla_turn:
            pass
        # The fan-out NOTIFYs the delivery and mail channels only when it made deliveries or
        # mail: the senders of every worker wake through the listener, and an event with no
        # subscriber (most SLA warnings) costs them no claim.
        async with ctx.sessionmaker() as session:
            await fan_out_all(session, ctx.clock, watermark=watermark, limit=FAN_OUT_BATCH)
        await _wait(wake, SETTLE_RECHECK if watermark.waiting else SAFETY_SWEEP)


async def webhook_loop(ctx: WorkerContext) -> None:
    wake = ctx.wakeup(DELIVERY_CHANNEL)
    async with webhook_client() as http:
        dispatcher = WebhookDispatcher(ctx.sessionmaker, ctx.clock, ctx.settings, http)
        dispatcher.on_recorded = wake.set  # a recorded retry may be due sooner
        while True:
            await dispatcher.claim_and_start()
            if len(dispatcher.in_flight) >= dispatcher.max_in_flight:
                await asyncio.wait(set(dispatcher.in_flight), return_when=asyncio.FIRST_COMPLETED)
                continue
            due = await dispatcher.next_due()
            timeout = SAFETY_SWEEP
            if due is not None:
                timeout = min(timeout, (due - ctx.clock.now()) / timedelta(seconds=1))
            if timeout <= 0 and dispatcher.in_flight:
                # Due, yet not claimed: the failing endpoints' share of slots is taken. Wait
                # for an attempt to end (or for news, or a second), not asking again at once.
                await _wait_any(wake, dispatcher.in_flight, 1.0)
                continue
            await _wait(wake, max(timeout, 0.05))


async def mail_loop(ctx: WorkerContext) -> None:
    wake = ctx.wakeup(MAIL_CHANNEL)
    while True:
        async with ctx.sessionmaker() as session:
            while await send_due_mail(session, ctx.clock, ctx.settings, limit=MAIL_BATCH):
                pass
        await _wait(wake, SAFETY_SWEEP)
