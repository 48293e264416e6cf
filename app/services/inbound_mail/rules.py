"""Pure rules of mail coming in: what is automatic mail, which number a reply names, which
service or billing type a message is about, and how much mail Carrier Desk accepts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum


class Purpose(StrEnum):
    technical_support = "technical_support"
    billing = "billing"


class Source(StrEnum):
    smtp = "smtp"
    imap = "imap"


class InboundStatus(StrEnum):
    received = "received"  # stored; the processing step has not taken it yet
    processed = "processed"
    unmatched = "unmatched"  # the sender is nobody we know: staff assign or discard it
    held = "held"  # known sender, but it cannot be processed as it is (see `reason`)
    discarded = "discarded"


# Staff may still act on these: assign (then process) or discard.
WAITING_FOR_STAFF = frozenset({InboundStatus.unmatched, InboundStatus.held})

# The largest message the listener takes (RFC 5321 SIZE); a bigger one is refused with 552.
MAX_MESSAGE_BYTES = 25 * 1024 * 1024

# Two systems must never ping-pong: after this many acknowledgements to one sender within an
# hour, further mail from it is processed without one.
ACKS_PER_SENDER_PER_HOUR = 3


class Reason(StrEnum):
    """Why a message waits for staff."""

    unknown_sender = "unknown_sender"
    several_enterprises = "several_enterprises"
    service_not_recognised = "service_not_recognised"
    automatic_mail = "automatic_mail"
    invalid_from = "invalid_from"
    forged_from = "forged_from"
    undecodable_subject = "undecodable_subject"
    malformed = "malformed"
    foreign_reference = "foreign_reference"
    not_a_mailbox = "not_a_mailbox"
    rejected = "rejected"
    failed = "failed"


def without_service() -> Reason | None:
    """What a ticket mail naming none of its enterprise's services becomes: None opens the
    ticket without one (the TSC names it before registration ends); a reason would hold the
    message for staff instead."""
    return None


_LIST_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_AUTOMATIC_SENDERS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply")


def automatic_reason(headers: Mapping[str, str], envelope_from: str | None) -> str | None:
    """Why a message is automatic (RFC 3834 and common practice), or None for a person's mail.
    `headers` has lower-case names; `envelope_from` is SMTP's MAIL FROM (None: not known,
    as for mail fetched over IMAP; "" is the null sender of a bounce)."""
    submitted = headers.get("auto-submitted", "no").strip().lower()
    if submitted and not submitted.startswith("no"):
        return f"Auto-Submitted: {submitted}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _LIST_PRECEDENCE:
        return f"Precedence: {precedence}"
    if headers.get("list-id"):
        return "List-Id"
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress"):
        if headers.get(name):
            return name
    if envelope_from is not None and envelope_from.strip() in ("", "<>"):
        return "a null sender (a bounce)"
    return_path = headers.get("return-path")
    if return_path is not None and return_path.strip() == "<>":
        return "a null sender (a bounce)"
    sender = (headers.get("from") or "").lower()
    local = sender.rsplit("@", 1)[0].rsplit("<", 1)[-1].strip() if "@" in sender else ""
    if any(local.startswith(name) for name in _AUTOMATIC_SENDERS):
        return f"sent by {local}"
    return None


def recognised_service(codes: Sequence[str], subject: str, text: str) -> str | None:
    """The first of an enterprise's service codes named as a word in the subject, else in the
    text; None when none is."""
    for haystack in (subject, text):
        best: tuple[int, str] | None = None
        for code in codes:
            match = re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", haystack, re.IGNORECASE)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), code)
        if best is not None:
            return best[1]
    return None


_INVOICE_REFERENCE = re.compile(
    r"\b(PO|HES|MIGO|purchase order|orden de compra|pedido de compra|ordem de compra)\b",
    re.IGNORECASE,
)


def names_invoice_reference(subject: str, text: str) -> bool:
    """PO/HES/MIGO wording makes a billing mail an invoice reference; anything else is an
    inquiry for the billing desk to sort."""
    return bool(_INVOICE_REFERENCE.search(subject) or _INVOICE_REFERENCE.search(text))


def may_acknowledge(acknowledged_last_hour: int) -> bool:
    return acknowledged_last_hour < ACKS_PER_SENDER_PER_HOUR


_QUOTE_HEADERS = re.compile(
    r"^\s*(On .{1,200} wrote:|El .{1,200} escribi[óo]:|Em .{1,200} escreveu:|"
    r"-{2,}\s*(Original Message|Mensaje original|Mensagem original)\s*-{2,}|"
    r"_{10,})\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*(From|De):\s.+$", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*(Sent|Enviado|Date|Fecha|To|Para|Subject|Asunto):\s", re.I)


def strip_quoted(text: str) -> str:
    """A reply without the history it quotes: from the first attribution line ("On … wrote:",
    its Spanish and Portuguese forms, an Outlook header block) on, and `>` lines."""
    lines = text.splitlines()
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _QUOTE_HEADERS.match(line):
            break
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if _OUTLOOK_FROM.match(line) and _OUTLOOK_NEXT.match(following):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()
