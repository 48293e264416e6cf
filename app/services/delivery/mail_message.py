"""A mail's bytes, as SMTP's DATA carries them, without `EmailMessage`'s machinery.

`EmailMessage` parses every header it is given into a header object (a class made per
header, a parse tree, defects) and folds it again on the way out: most of a worker's CPU
per mail went there (bench.delivery --mail). Nearly every header of our mails is short
printable ASCII, which RFC 5322 lets stand as it is, so those are written directly; any
other value (non-ASCII, too long to fit a line, anything that looks like an encoded word)
goes through the standard library's own folding (RFC 2047 encoded words, folded lines), so
both paths write what `EmailMessage` would (`tests/test_mail_message.py` holds them equal).

The body is 7bit when it is ASCII in short lines, else quoted-printable: 7-bit clean
either way, so it needs no 8BITMIME from the server and no line is longer than RFC 5322's.
"""

from __future__ import annotations

import binascii
import re
import uuid
from datetime import datetime
from email import policy as email_policy
from email.headerregistry import Address
from email.utils import format_datetime, make_msgid
from functools import lru_cache

from app.services.delivery.rules import MESSAGE_ID_DOMAIN

# RFC 5322's recommended line length (the standard library folds at it too).
LINE = 78

# Printable ASCII words, one space between: an unstructured value that folds to itself.
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*")
# A bare addr-spec of dot-atoms (RFC 5322 3.4.1): an address that needs no quoting.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_BARE_ADDRESS = re.compile(rf"{_DOT_ATOM}@{_DOT_ATOM}")

_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender"})


def header(name: str, value: str, *, utf8: bool = False) -> bytes:
    """One header line (folded, CRLF-ended) as `EmailMessage` would write it; `utf8` for a
    message sent with SMTPUTF8 (non-ASCII stays raw UTF-8 instead of encoded words)."""
    if _stands_as_it_is(name, value):
        return f"{name}: {value}\r\n".encode("ascii")
    return _folded(name, value, utf8)


def _stands_as_it_is(name: str, value: str) -> bool:
    if len(name) + 2 + len(value) > LINE or "=?" in value:  # "=?" might read as encoded
        return False
    pattern = _BARE_ADDRESS if name.lower() in _ADDRESS_HEADERS else _PLAIN
    return pattern.fullmatch(value) is not None


@lru_cache(maxsize=1024)  # a subject goes to each of an event's recipients
def _folded(name: str, value: str, utf8: bool) -> bytes:
    policy = email_policy.SMTPUTF8 if utf8 else email_policy.SMTP
    # What EmailMessage does with it: parse (refusing CR and LF), then fold on the way out.
    return policy.fold_binary(*policy.header_store_parse(name, value))


@lru_cache(maxsize=16)
def envelope_sender(sender: str) -> str:
    """The address of a From value (`Carrier Desk <noreply@…>`), for MAIL FROM."""
    parsed = email_policy.SMTP.header_factory("From", sender)
    addresses: tuple[Address, ...] = getattr(parsed, "addresses", ())
    if len(addresses) != 1:
        raise ValueError(f"the sender must be one address: {sender!r}")
    return addresses[0].addr_spec


def body(text: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, the encoded body with CRLF line ends)."""
    lines = text.encode("utf-8").splitlines()
    if all(len(line) <= LINE and line.isascii() for line in lines):
        return "7bit", b"\r\n".join(lines) + b"\r\n"
    # Soft line breaks at 76 characters; "=", non-ASCII and line-final spaces escaped.
    encoded = binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True)
    return "quoted-printable", encoded.replace(b"\n", b"\r\n")


def message_bytes(
    *,
    mail_id: uuid.UUID,
    sender: str,
    recipient: str,
    subject: str,
    language: str,
    text: str,
    now: datetime,
    utf8: bool = False,
) -> bytes:
    """The whole message: headers, a blank line, the body."""
    encoding, encoded = body(text)
    head = b"".join(
        (
            header("From", sender, utf8=utf8),
            header("To", recipient, utf8=utf8),
            header("Subject", subject, utf8=utf8),
            header("Date", format_datetime(now)),
            # `<…<mail id hex>@carrierdesk>`: a reply's In-Reply-To finds the mail it answers.
            # Longer than a line, with nowhere to fold: the standard library writes it as is too.
            b"Message-ID: %s\r\n" % make_msgid(mail_id.hex, MESSAGE_ID_DOMAIN).encode("ascii"),
            # Written by a machine (RFC 3834): vacation responders and other desks must not
            # answer it, so two systems never trade automatic mail.
            b"Auto-Submitted: auto-generated\r\n",
            header("Content-Language", language),
            b'MIME-Version: 1.0\r\nContent-Type: text/plain; charset="utf-8"\r\n',
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode("ascii"),
        )
    )
    return head + encoded
