"""The listener in a real `carrierdesk worker` process, killed with SIGKILL between DATA and
its 250: the sending server never saw a 250, so it sends again; nothing is lost, nothing is
opened twice, and what was stored before the kill is processed after the restart."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import tempfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.clock import FrozenClock
from app.core.database import create_engine, create_sessionmaker
from app.core.settings import Settings
from app.main import create_app
from app.models import InboundMessage, Ticket
from tests.support.inbound import message, send_blocking
from tests.support.processes import Fleet, free_port, wait_until
from tests.support.world import World
from tests.test_inbound_mail import CONTACT, REPAIR, setup

pytestmark = pytest.mark.processes


@pytest.fixture
async def committed(fresh_database: str, clock: FrozenClock) -> AsyncIterator[World]:
    """The tenant set up through the API, committed for the worker process to see."""
    engine = create_engine(fresh_database, pool_size=2)
    maker = create_sessionmaker(engine)
    settings = Settings(env="test", database_url="postgresql+asyncpg://unused/unused")
    app = create_app(settings, sessionmaker=maker, engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        world = await World.start(client, maker, clock)
        await setup(world)
        yield world
    await engine.dispose()


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def send_in_background(port: int, raw: bytes) -> dict[str, Any]:
    """smtplib in a thread; the outcome (the exception, if any) lands in the dict."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            send_blocking(port, raw, CONTACT, [REPAIR])
            outcome["result"] = "250"
        except (smtplib.SMTPException, OSError) as exc:
            outcome["result"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


async def count(maker: async_sessionmaker[Any], model: Any) -> int:
    async with maker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def start_paused(fleet: Fleet, port: int, stage: str) -> Path:
    marker = Path(tempfile.mkdtemp()) / "paused"
    fleet.worker(
        CARRIERDESK_INBOUND_SMTP=f"127.0.0.1:{port}",
        CARRIERDESK_INBOUND_TEST_PAUSE=f"{stage}:{marker}",
    )
    return marker


async def test_a_listener_killed_after_its_commit_before_250_loses_and_doubles_nothing(
    fleet: Fleet, committed: World
) -> None:
    await killed_at(fleet, committed, ["after_commit"])


@pytest.mark.long
async def test_a_listener_killed_before_and_after_its_commit_loses_and_doubles_nothing(
    fleet: Fleet, committed: World
) -> None:
    # The first attempt dies before the commit, the sending server's retry after it.
    await killed_at(fleet, committed, ["before_commit", "after_commit"])


async def killed_at(fleet: Fleet, committed: World, stages: list[str]) -> None:
    """Kill the listener at each stage in turn (each time the sending server gets no 250, so it
    keeps the message and tries again), then run it normally: one ticket, one stored message."""
    port = free_port()
    raw = message(CONTACT, REPAIR, "Enlace caído QUI-MPLS-0042", "Sin servicio").as_bytes()
    maker = committed.sessionmaker
    for stage in stages:
        stored = 1 if stage == "after_commit" else 0
        marker = start_paused(fleet, port, stage)
        await asyncio.to_thread(wait_until, lambda: listening(port), timeout=90, what="listener")
        sending = send_in_background(port, raw)
        await asyncio.to_thread(wait_until, marker.exists, timeout=60, what=f"the {stage} pause")
        fleet.processes[-1].kill()
        sending["thread"].join(timeout=30)
        assert isinstance(sending["result"], smtplib.SMTPServerDisconnected), stage
        assert await count(maker, InboundMessage) == stored, stage
        assert await count(maker, Ticket) == 0, stage

    fleet.worker(CARRIERDESK_INBOUND_SMTP=f"127.0.0.1:{port}")

    async def opened() -> bool:
        # Stored before the kill, processed after the restart, before any retry arrives.
        return await count(maker, Ticket) == 1

    await eventually_async(opened)
    await asyncio.to_thread(wait_until, lambda: listening(port), timeout=90, what="listener")
    await asyncio.to_thread(
        send_blocking, port, raw, CONTACT, [REPAIR]
    )  # the sending server retries

    async def processed() -> bool:
        async with maker() as session:
            statuses = list(await session.scalars(select(InboundMessage.status)))
        return statuses == ["processed"]

    await eventually_async(processed)
    assert await count(maker, Ticket) == 1


async def eventually_async(condition: Any, *, seconds: float = 60) -> None:
    """Poll an async condition until it holds or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"{condition.__name__}: not met before the deadline")
        await asyncio.sleep(0.05)
