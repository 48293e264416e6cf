"""The worker's jobs. Each feature adds its loops and periodic jobs here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.workers.context import WorkerContext

Loop = Callable[[WorkerContext], Awaitable[None]]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: Callable[[WorkerContext], Awaitable[object]]
    seconds: float


def listen_channels() -> list[str]:
    """NOTIFY channels the worker listens on."""
    from app.core.events import OUTBOX_CHANNEL
    from app.services.delivery.fanout import DELIVERY_CHANNEL, MAIL_CHANNEL
    from app.services.inbound_mail.storing import INBOUND_CHANNEL
    from app.services.tickets.clocks import SLA_CHANNEL

    return [SLA_CHANNEL, OUTBOX_CHANNEL, DELIVERY_CHANNEL, MAIL_CHANNEL, INBOUND_CHANNEL]


def loops() -> list[Loop]:
    """Long-running loops that plan their own wake-ups (e.g. the SLA clock)."""
    from app.workers.delivery import mail_loop, outbox_loop, webhook_loop
    from app.workers.inbound_mail import imap_loop, process_stored_loop, smtp_listener_loop
    from app.workers.sla_engine import sla_loop

    return [
        sla_loop,
        outbox_loop,
        webhook_loop,
        mail_loop,
        smtp_listener_loop,
        process_stored_loop,
        imap_loop,
    ]


def periodic_jobs() -> list[PeriodicJob]:
    """Jobs APScheduler runs at a fixed interval (safety sweeps, clean-ups)."""
    from app.workers.housekeeping import THROTTLE_CLEANUP_SECONDS, forget_stale_throttles
    from app.workers.sla_engine import SWEEP_SECONDS, sla_sweep

    return [
        PeriodicJob("sla-sweep", sla_sweep, SWEEP_SECONDS),
        PeriodicJob("signin-throttle-cleanup", forget_stale_throttles, THROTTLE_CLEANUP_SECONDS),
    ]
