"""What a reply names: the numbers in brackets in its subject, and our own mails in its
`In-Reply-To`/`References`. Pure, like rules, but it reads the tickets', billing's and delivery's
number and Message-ID formats (a rules module imports no other feature)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from app.services.billing.rules import REQUEST_NUMBER_PATTERN
from app.services.delivery.rules import MESSAGE_ID_DOMAIN
from app.services.tickets.rules import TICKET_NUMBER_PATTERN

_BRACKETED = re.compile(rf"\[\s*({TICKET_NUMBER_PATTERN}|{REQUEST_NUMBER_PATTERN})\s*\]", re.I)


def numbers_in_subject(subject: str) -> list[str]:
    """The ticket and billing-request numbers in brackets in a subject, in order, upper-case."""
    return [match.upper() for match in _BRACKETED.findall(subject)]


_OUR_MESSAGE_ID = re.compile(
    rf"<[^<>@]*\.([0-9a-f]{{32}})@{re.escape(MESSAGE_ID_DOMAIN)}>", re.IGNORECASE
)


def our_mail_ids(message_ids: Iterable[str]) -> list[uuid.UUID]:
    """The ids of our own mails that `In-Reply-To`/`References` name (the mail sender puts the
    mail's id into the Message-ID it gives it), newest reference first."""
    found: list[uuid.UUID] = []
    for header in message_ids:
        for hexid in _OUR_MESSAGE_ID.findall(header):
            mail_id = uuid.UUID(hex=hexid)
            if mail_id not in found:
                found.append(mail_id)
    return list(reversed(found))
