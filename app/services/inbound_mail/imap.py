"""The IMAP poller, for mailboxes hosted elsewhere: fetch each message, store it exactly as
the SMTP listener does (committed first), then move it to the done folder. IDLE where the
server offers it, else a poll every `imap_poll_seconds`.

`CARRIERDESK_IMAP_URL` is `imap[s]://user:password@host[:port]/FOLDER[?address=mailbox]`;
`address` names the declared mailbox the folder receives (else the message's
Delivered-To/To/Cc headers are matched against the declared mailboxes)."""

from __future__ import annotations

import asyncio
import imaplib
import logging
import re
import select
import time
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock
from app.core.settings import Settings
from app.services.inbound_mail.rules import MAX_MESSAGE_BYTES, Source
from app.services.inbound_mail.storing import is_declared_mailbox, store_message

logger = logging.getLogger("carrierdesk.imap")

# How long one IDLE waits before it is renewed (and the loop can notice it should stop).
IDLE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ImapTarget:
    host: str
    port: int
    ssl: bool
    user: str
    password: str
    folder: str
    address: str | None


def parse_imap_url(url: str) -> ImapTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise ValueError("CARRIERDESK_IMAP_URL must be imap[s]://user:password@host[:port]/FOLDER")
    address = parse_qs(parts.query).get("address", [None])[0]
    return ImapTarget(
        host=parts.hostname,
        port=parts.port or (993 if parts.scheme == "imaps" else 143),
        ssl=parts.scheme == "imaps",
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        address=address.lower() if address else None,
    )


class ImapMailbox:
    """One connection's blocking calls (run in a thread by the async side)."""

    def __init__(self, target: ImapTarget, done_folder: str) -> None:
        self.target = target
        self.done = done_folder
        self.refused = f"{done_folder} (refused)"
        cls = imaplib.IMAP4_SSL if target.ssl else imaplib.IMAP4
        self.conn = cls(target.host, target.port, timeout=30)
        self.conn.login(target.user, target.password)
        # What the server offers once signed in (MOVE, IDLE), not what its greeting said.
        _, data = self.conn.capability()
        self.capabilities = tuple((data[0] or b"").upper().split()) if data else ()
        for folder in (self.done, self.refused):
            self.conn.create(_quoted(folder))  # NO when it exists: fine
        self.conn.select(_quoted(target.folder))

    def waiting(self) -> list[tuple[str, int]]:
        """(uid, size) of every message in the folder."""
        status, data = self.conn.uid("SEARCH", "ALL")
        uids = data[0].split() if status == "OK" and data and data[0] else []
        found: list[tuple[str, int]] = []
        for uid in (u.decode() for u in uids):
            _, meta = self.conn.uid("FETCH", uid, "(RFC822.SIZE)")
            match = re.search(rb"RFC822\.SIZE (\d+)", meta[0] if meta and meta[0] else b"")
            found.append((uid, int(match.group(1)) if match else 0))
        return found

    def fetch(self, uid: str) -> bytes:
        _, data = self.conn.uid("FETCH", uid, "(BODY.PEEK[])")
        for part in data:
            if isinstance(part, tuple):
                return bytes(part[1])
        raise imaplib.IMAP4.error(f"FETCH {uid!r} answered no message")

    def move(self, uid: str, folder: str) -> None:
        if b"MOVE" in self.capabilities:
            self.conn.uid("MOVE", uid, _quoted(folder))
            return
        self.conn.uid("COPY", uid, _quoted(folder))
        self.conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
        self.conn.expunge()

    def wait_for_mail(self, seconds: float) -> None:
        """IDLE until the server says something arrived, or `seconds` pass; a server without
        IDLE returns at once (the caller then sleeps its poll interval)."""
        if b"IDLE" not in self.capabilities:
            return
        tag = self.conn._new_tag()
        self.conn.send(tag + b" IDLE\r\n")
        self.conn.readline()  # "+ idling"
        # Wait for the socket, never with a socket timeout: a timed-out socket file is dead.
        sock = self.conn.socket()
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], remaining)
            if not ready or re.search(rb"\bEXISTS\b", self._line()):
                break
        self.conn.send(b"DONE\r\n")
        while not self._line().startswith(tag):
            pass

    def _line(self) -> bytes:
        line = self.conn.readline()
        if not line:  # the server closed the connection: the loop reconnects
            raise imaplib.IMAP4.abort("connection closed during IDLE")
        return line

    def close(self) -> None:
        try:
            self.conn.logout()  # closes the socket when the server answers
        except Exception:
            try:
                self.conn.shutdown()  # a connection in any state: close the socket anyway
            except Exception:
                pass


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _candidates(raw: bytes) -> list[str]:
    headers = BytesParser(policy=compat32).parsebytes(raw, headersonly=True)
    values: list[str] = []
    for name in ("delivered-to", "x-original-to", "to", "cc"):
        values.extend(str(v) for v in headers.get_all(name) or ())
    return [address.lower() for _, address in getaddresses(values) if "@" in address]


async def _mailbox_of(session: AsyncSession, target: ImapTarget, raw: bytes) -> str:
    if target.address:
        return target.address
    candidates = _candidates(raw)
    for address in candidates:
        if await is_declared_mailbox(session, address):
            return address
    # Stored all the same: processing holds it (`not_a_mailbox`) for staff.
    return candidates[0] if candidates else target.user


async def poll_once(
    mailbox: ImapMailbox, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> int:
    """Store and move every message waiting; answer how many were taken."""
    taken = 0
    for uid, size in await asyncio.to_thread(mailbox.waiting):
        if size > MAX_MESSAGE_BYTES:
            logger.warning("imap: message %s of %d bytes is too big; moved aside", uid, size)
            await asyncio.to_thread(mailbox.move, uid, mailbox.refused)
            continue
        raw = await asyncio.to_thread(mailbox.fetch, uid)
        async with sessionmaker() as session:
            address = await _mailbox_of(session, mailbox.target, raw)
            await store_message(session, clock, raw, mailbox=address, source=Source.imap)
        # Moved only once stored: a crash in between stores it again, and the Message-ID
        # makes the second copy a no-op.
        await asyncio.to_thread(mailbox.move, uid, mailbox.done)
        taken += 1
    return taken


async def poll_imap_forever(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    assert settings.imap_url is not None
    target = parse_imap_url(settings.imap_url)
    mailbox = await asyncio.to_thread(ImapMailbox, target, settings.imap_done_folder)
    try:
        idle = b"IDLE" in mailbox.capabilities
        while True:
            await poll_once(mailbox, sessionmaker, clock)
            if idle:
                await asyncio.to_thread(
                    mailbox.wait_for_mail, min(IDLE_SECONDS, settings.imap_poll_seconds)
                )
            else:
                await asyncio.sleep(settings.imap_poll_seconds)
    finally:
        await asyncio.to_thread(mailbox.close)
