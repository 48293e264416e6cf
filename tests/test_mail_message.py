"""A mail's bytes, built without `EmailMessage`, say what `EmailMessage` would have said:
the same headers (encoded words and folding for non-ASCII and long subjects) and the same
text, as a real SMTP server (aiosmtpd) receives them and the standard library reads them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid, parsedate_to_datetime
from typing import Any

import pytest
from aiosmtplib.email import flatten_message
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert

from app.models import MailMessage
from app.services.delivery.mail_message import header, message_bytes
from app.services.delivery.mail_sender import send_due_mail
from app.services.delivery.rules import MESSAGE_ID_DOMAIN, ONE_TIME_LINK_MARK
from tests.support.servers import Mailbox, smtp_server
from tests.support.settings import suite_settings
from tests.support.world import World

SENDER = "Mesa de Ayuda Ñandú <noreply@carrierdesk.example>"

# Printable text of every kind: ASCII words, accents, long runs, what looks like an encoded word.
_PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))
_VALUES = st.text(alphabet=_PRINTABLE | st.sampled_from("=?q_ "), max_size=200)
_ADDRESSES = st.from_regex(
    r"[a-z0-9.+_=?-]{1,40}@[a-z0-9-]{1,30}(\.[a-z]{2,10}){1,2}", fullmatch=True
)


def by_email_message(name: str, value: str) -> bytes:
    """The header as an `EmailMessage` flattened for SMTP writes it (as aiosmtplib did)."""
    message = EmailMessage()
    message[name] = value
    return flatten_message(message).removesuffix(b"\r\n")  # the blank line after the headers


@given(_VALUES)
def test_a_subject_is_written_as_email_message_writes_it(subject: str) -> None:
    assert header("Subject", subject) == by_email_message("Subject", subject)


@given(_ADDRESSES)
def test_a_recipient_is_written_as_email_message_writes_it(address: str) -> None:
    assert header("To", address) == by_email_message("To", address)


@given(st.text(alphabet=_PRINTABLE | st.sampled_from("\r\n\t .="), max_size=400))
def test_a_body_reads_back_as_the_email_message_body_it_replaces(text: str) -> None:
    mine = message_bytes(
        mail_id=uuid.uuid4(),
        sender=SENDER,
        recipient="noc@acme.example",
        subject="Aviso",
        language="es",
        text=text,
        now=datetime(2026, 12, 1, 22, 0, tzinfo=UTC),
    )
    theirs = EmailMessage()
    theirs.set_content(text)
    read = BytesParser(policy=email_policy.default).parsebytes
    assert text_of(read(mine)) == text_of(read(flatten_message(theirs)))


def test_a_header_value_with_a_line_break_is_refused_as_email_message_refuses_it() -> None:
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        header("Subject", "Ticket\r\nBcc: everyone@example.com")


class RawMailbox(Mailbox):
    """Keeps each message's bytes as they arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: dict[str, bytes] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw[envelope.rcpt_tos[0]] = envelope.content
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def mailbox() -> Iterator[RawMailbox]:
    with smtp_server(mailbox=RawMailbox()) as mailbox:
        assert isinstance(mailbox, RawMailbox)
        yield mailbox


LONG_SPANISH = (
    "Ticket TT-2026-000123: Diagnóstico — enlace caído en Guayaquil, oficina principal, "
    "piso 3; la caída afecta a los servicios MPLS-0042 y DIA-0913, según el cliente "
    "(llamó dos veces), y el técnico está en camino con repuestos para el equipo dañado"
)
MAILS = [
    # (recipient, language, subject, body, one-time link)
    ("noc@acme.example", "en", "Ticket TT-1 updated", "Your ticket moved.\nRegards\n", None),
    (
        "soporte+noc@acme.example",
        "es",
        LONG_SPANISH,
        "Hola,\nSu ticket está en diagnóstico.\n"
        + "Línea larga " * 30
        + f"\n{ONE_TIME_LINK_MARK}\n.un punto al inicio\n",
        "https://portal.test/one-time/abc=def",
    ),
    ("gerencia@acme.example", "pt", "Manutenção programada às 02:00", "Olá\r\n", None),
]


def by_the_former_builder(mail: dict[str, Any], text: str) -> bytes:
    """What the sender built before: an `EmailMessage`, flattened as aiosmtplib did."""
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = mail["recipient"]
    message["Subject"] = mail["subject"]
    message["Message-ID"] = make_msgid(idstring=mail["id"].hex, domain=MESSAGE_ID_DOMAIN)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    return flatten_message(message)


def text_of(message: Any) -> str:
    """The text a mail reader shows (SMTP's CRLF line ends as newlines)."""
    return str(message.get_content()).replace("\r\n", "\n")


async def test_a_mail_received_over_smtp_reads_as_the_email_message_it_replaces(
    world: World, mailbox: RawMailbox
) -> None:
    rows = [
        {
            "id": uuid.uuid4(),
            "recipient": recipient,
            "language": language,
            "subject": subject,
            "body": body,
            "one_time_link": link,
            "next_attempt_at": world.clock.now(),
            "created_at": world.clock.now(),
        }
        for recipient, language, subject, body, link in MAILS
    ]
    async with world.sessionmaker() as session:
        await session.execute(insert(MailMessage), rows)
        await session.commit()
        settings = suite_settings(smtp_url=mailbox.url, smtp_from=SENDER)
        assert await send_due_mail(session, world.clock, settings) == len(rows)

    read = BytesParser(policy=email_policy.default).parsebytes
    for row in rows:
        raw = mailbox.raw[row["recipient"]]
        text = row["body"].replace(ONE_TIME_LINK_MARK, row["one_time_link"] or "")
        got, expected = read(raw), read(by_the_former_builder(row, text))
        for name in ("From", "To", "Subject", "Auto-Submitted", "MIME-Version", "Content-Type"):
            assert got[name] == expected[name], name
        assert got["Subject"] == row["subject"]
        assert text_of(got) == text_of(expected) == text.replace("\r\n", "\n")
        assert got["Message-ID"].endswith(f".{row['id'].hex}@{MESSAGE_ID_DOMAIN}>")
        # What the former message left out: its language (set_content dropped it) and its date.
        assert got["Content-Language"] == row["language"]
        assert parsedate_to_datetime(got["Date"]) == world.clock.now().replace(microsecond=0)
        assert not got.defects
        head, _, content = raw.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n") + content.split(b"\r\n"):
            assert line.isascii()
            assert len(line) <= 78 or line.startswith(b"Message-ID:"), line


async def test_a_non_ascii_address_is_mailed_with_smtputf8_and_read_back_as_written(
    world: World, mailbox: RawMailbox
) -> None:
    recipient = "josé.núñez@acme.example"
    async with world.sessionmaker() as session:
        await session.execute(
            insert(MailMessage),
            {
                "id": uuid.uuid4(),
                "recipient": recipient,
                "language": "es",
                "subject": LONG_SPANISH,
                "body": "Hola José\n",
                "next_attempt_at": world.clock.now(),
                "created_at": world.clock.now(),
            },
        )
        await session.commit()
        settings = suite_settings(smtp_url=mailbox.url, smtp_from=SENDER)
        assert await send_due_mail(session, world.clock, settings) == 1

    got = BytesParser(policy=email_policy.default).parsebytes(mailbox.raw[recipient])
    assert got["To"] == recipient
    assert got["From"] == SENDER
    assert got["Subject"] == LONG_SPANISH
    assert text_of(got) == "Hola José\n"
    assert not got.defects
