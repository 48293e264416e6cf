"""The one parser both ways in feed: raw bytes to what processing needs (Python's `email`
package, modern policy). Pure: it reads bytes and answers values; it never raises on mail."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from html.parser import HTMLParser

from app.services.attachments.rules import safe_filename
from app.services.inbound_mail.rules import Reason, automatic_reason, strip_quoted

_PARSER = BytesParser(policy=policy.default)
_HEADERS_ONLY = BytesParser(policy=policy.compat32)


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str | None
    sender: str | None  # the From address, lower-case; None when there is no usable one
    sender_name: str
    subject: str
    text: str  # the body as plain text, quoted history stripped
    references: tuple[str, ...]  # In-Reply-To, then References
    automatic: str | None  # why the mail is automatic (no answer to it), else None
    problem: tuple[Reason, str] | None  # why it cannot be processed as it is, else None
    attachments: tuple[Attachment, ...] = field(default=())


def message_id_of(raw: bytes) -> str | None:
    """The Message-ID of a raw message (headers only: cheap enough for the listener)."""
    try:
        value = _HEADERS_ONLY.parsebytes(raw, headersonly=True).get("message-id")
    except Exception:  # a message we cannot even split into headers has no usable id
        return None
    text = str(value).strip() if value is not None else ""
    return text[:998] or None


class _TextOfHtml(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("p", "div", "tr", "table"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    reader = _TextOfHtml()
    reader.feed(html)
    reader.close()
    lines = (" ".join(line.split()) for line in "".join(reader.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # a charset nobody knows: keep what is readable
        return data.decode("utf-8", errors="replace")


def _body_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = _decoded(body)
    if body.get_content_type() == "text/html":
        text = html_to_text(text)
    return strip_quoted(text.replace("\r\n", "\n"))


def _attachments(message: EmailMessage) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for part in message.iter_attachments() if message.is_multipart() else ():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        found.append(
            Attachment(
                filename=safe_filename(part.get_filename()),
                content_type=part.get_content_type(),
                data=payload,
            )
        )
    return tuple(found)


def _sender(message: EmailMessage) -> tuple[str | None, str, tuple[Reason, str] | None]:
    try:
        header = message["from"]
        addresses: tuple[Address, ...] = header.addresses if header is not None else ()
    except Exception:
        addresses = ()
    usable = [a for a in addresses if a.username and a.domain]
    if not usable:
        return None, "", (Reason.invalid_from, "the message has no usable From address")
    if len(usable) > 1:
        return None, "", (Reason.invalid_from, "the From header names several addresses")
    address = usable[0]
    for result in message.get_all("authentication-results") or ():
        if re.search(r"\bdmarc=fail\b", str(result), re.IGNORECASE):
            return (
                address.addr_spec.lower(),
                address.display_name,
                (Reason.forged_from, f"the From domain {address.domain} failed DMARC"),
            )
    return address.addr_spec.lower(), address.display_name, None


def _subject(message: EmailMessage) -> tuple[str, tuple[Reason, str] | None]:
    try:
        subject = " ".join(str(message.get("subject", "")).split())
    except Exception:
        return "", (Reason.undecodable_subject, "the subject cannot be decoded")
    if "\ufffd" in subject:
        return subject, (
            Reason.undecodable_subject,
            "the subject is encoded in a character set that is not known",
        )
    return subject, None


def _references(message: EmailMessage) -> tuple[str, ...]:
    found: list[str] = []
    for name in ("in-reply-to", "references"):
        for value in message.get_all(name) or ():
            found.extend(re.findall(r"<[^<>\s]+>", str(value)))
    return tuple(found)


def parse_mail(raw: bytes, envelope_from: str | None = None) -> ParsedMail:
    """What a raw message says. A message that breaks the parser is a `malformed` problem,
    never an exception."""
    try:
        message = _PARSER.parsebytes(raw)
        assert isinstance(message, EmailMessage)
        sender, name, from_problem = _sender(message)
        subject, subject_problem = _subject(message)
        headers = {k.lower(): str(v) for k, v in message.items() if k.lower() != "subject"}
        text = _body_text(message)
        attachments = _attachments(message)
        references = _references(message)
    except Exception as exc:
        return ParsedMail(
            message_id=message_id_of(raw),
            sender=None,
            sender_name="",
            subject="",
            text="",
            references=(),
            automatic=None,
            problem=(Reason.malformed, f"the message cannot be read: {type(exc).__name__}"),
        )
    if not text and not subject and not attachments and message.defects:
        from_problem = from_problem or (
            Reason.malformed,
            "the message cannot be read: " + ", ".join(type(d).__name__ for d in message.defects),
        )
    return ParsedMail(
        message_id=message_id_of(raw),
        sender=sender,
        sender_name=name,
        subject=subject,
        text=text,
        references=references,
        automatic=automatic_reason(headers, envelope_from),
        problem=from_problem or subject_problem,
        attachments=attachments,
    )
