"""Webhook receivers that misbehave, on loopback: one drips its answer a byte a second,
one reads the request and never answers, one answers far more than anyone should read.

Each is a raw asyncio TCP server in the test's event loop, so what it does to the
connection is exactly what is written here (no HTTP framework smooths it over).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

Behaviour = Callable[["BadReceiver", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Gauge:
    """How many requests some receivers are holding open at once, and the most ever."""

    now: int = 0
    most: int = 0

    def enter(self) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def leave(self) -> None:
        self.now -= 1


@dataclass
class BadReceiver:
    behaviour: Behaviour
    gauge: Gauge = field(default_factory=Gauge)
    port: int = 0
    requests: int = 0
    answer_bytes_sent: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        self.writers.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            self.requests += 1
            self.gauge.enter()
            try:
                await self.behaviour(self, reader, writer)
            finally:
                self.gauge.leave()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the sender gave up on us: what these receivers are for
        finally:
            writer.close()
            self.writers.discard(writer)
            self.tasks.discard(task)


async def gone(reader: asyncio.StreamReader, seconds: float | None = None) -> bool:
    """Wait up to `seconds` (for ever: None) for the sender to close; True when it did."""
    try:
        return await asyncio.wait_for(reader.read(1), seconds) == b""
    except TimeoutError:
        return False


async def drip(
    receiver: BadReceiver, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """200 with a 600-byte body, one byte a second: ten minutes for an answer."""
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 600\r\n\r\n")
    await writer.drain()
    for _ in range(600):
        writer.write(b".")
        await writer.drain()
        receiver.answer_bytes_sent += 1
        if await gone(reader, 1.0):
            return


async def hang(
    receiver: BadReceiver, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Reads the request, then says nothing until the sender gives up."""
    await gone(reader)


FLOOD_BYTES = 200 * 1024 * 1024


async def flood(
    receiver: BadReceiver, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """200 with a 200 MB body, sent as fast as the reader takes it."""
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % FLOOD_BYTES)
    chunk = b"x" * 65536
    while receiver.answer_bytes_sent < FLOOD_BYTES:
        writer.write(chunk)
        await writer.drain()
        receiver.answer_bytes_sent += len(chunk)


@asynccontextmanager
async def bad_receiver(
    behaviour: Behaviour, gauge: Gauge | None = None
) -> AsyncIterator[BadReceiver]:
    receiver = BadReceiver(behaviour, gauge or Gauge())
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        for writer in list(receiver.writers):
            writer.close()  # its handler sees the end of the stream and returns
        await asyncio.gather(*receiver.tasks)
        await server.wait_closed()
