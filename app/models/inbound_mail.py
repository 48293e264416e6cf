"""Mail coming in: the mailboxes Carrier Desk answers for, and every message received, kept
raw from the moment the SMTP listener or the IMAP poller took it until staff are done with it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped, Versioned, new_id, page_index


class Mailbox(Versioned, Timestamped, Base):
    """An address mail arrives at, and what it is for (`technical_support` or `billing`)."""

    __tablename__ = "mailboxes"

    address: Mapped[str] = mapped_column(String(254), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    default_severity: Mapped[str | None] = mapped_column(String(16))
    updated_by: Mapped[str] = mapped_column(String(120))


class InboundMessage(Versioned, Timestamped, Base):
    """One message as received (`raw`), and what became of it."""

    __tablename__ = "inbound_messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # Set once the sender is matched (or staff assign the message).
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"))
    # The Message-ID header: the same message twice is stored once.
    message_id: Mapped[str | None] = mapped_column(String(998))
    source: Mapped[str] = mapped_column(String(8))
    mailbox: Mapped[str] = mapped_column(String(254))
    envelope_from: Mapped[str] = mapped_column(String(254), default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime]
    # received (stored, to be processed), processed, unmatched, held, discarded.
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(300))
    # What the message became: a ticket, a billing request, or a note on one of them.
    result_type: Mapped[str | None] = mapped_column(String(32))
    result_id: Mapped[uuid.UUID | None]
    result_number: Mapped[str | None] = mapped_column(String(32))
    acknowledged_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "uq_inbound_messages_message_id",
            "message_id",
            unique=True,
            postgresql_where=text("message_id IS NOT NULL"),
        ),
        Index(
            "ix_inbound_messages_to_process",
            "received_at",
            postgresql_where=text("status = 'received'"),
        ),
        Index("ix_inbound_messages_sender_acknowledged_at", "sender", "acknowledged_at"),
        page_index("inbound_messages"),
        page_index("inbound_messages", "enterprise_id"),
    )
