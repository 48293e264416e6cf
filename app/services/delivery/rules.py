"""Pure delivery rules: retry schedules, which addresses are private, which events mail, and
the words the notification templates need in each language (es, pt, en)."""

from __future__ import annotations

import ipaddress
import re
import secrets
from base64 import b64encode
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import idna

from app.core.event_registry import MAX_EVENT_ID

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def retry_delays(
    *, seconds: tuple[int, ...] = (), minutes: tuple[int, ...] = (), hours: tuple[int, ...] = ()
) -> tuple[timedelta, ...]:
    """A retry schedule written by unit: the delays in seconds, then minutes, then hours."""
    return (
        *(timedelta(seconds=n) for n in seconds),
        *(timedelta(minutes=n) for n in minutes),
        *(timedelta(hours=n) for n in hours),
    )


# Standard Webhooks recommends a growing schedule; ours gives a receiver about
# a day (23 h 42 min) to come back. The first retry comes within seconds.
WEBHOOK_RETRY_DELAYS = retry_delays(seconds=(5, 30), minutes=(2, 10, 30), hours=(1, 2, 4, 8, 8))
WEBHOOK_MAX_ATTEMPTS = len(WEBHOOK_RETRY_DELAYS) + 1

# Mail: an SMTP server that is down for a while must not lose a notice.
MAIL_RETRY_DELAYS = retry_delays(seconds=(10,), minutes=(1, 5, 30), hours=(2, 6, 12))
MAIL_MAX_ATTEMPTS = len(MAIL_RETRY_DELAYS) + 1

# An endpoint whose every delivery has failed for this long is disabled.
DISABLE_AFTER = timedelta(days=3)

# A claimed mail is held this long. The sender renews the lease of what it has not sent
# yet after each message (one message takes at most MAIL_SEND_SECONDS), so a slow batch
# never lets another worker send a message twice; a dead worker's mail waits this long.
MAIL_SEND_SECONDS = 30.0
LEASE = timedelta(seconds=60)

# The domain of the Message-IDs our mails carry (`<...<mail id hex>@carrierdesk>`): a reply's
# In-Reply-To names the mail it answers by it.
MESSAGE_ID_DOMAIN = "carrierdesk"


def smtp_final(code: int) -> bool:
    """A 5xx answer refuses for good (RFC 5321 4.2.1); a 4xx asks to try again later."""
    return 500 <= code < 600


# How much of a webhook receiver's answer is read: enough for the log's excerpt.
RESPONSE_CAP_BYTES = 16_384


# Where a one-time link stands in a kept message (`MailMessage.one_time_link`).
ONE_TIME_LINK_MARK = "[one-time link: in the mail sent, not kept]"


def with_one_time_link(body: str, link: str | None) -> str:
    """The text to send: the kept body with its one-time link put back."""
    return body.replace(ONE_TIME_LINK_MARK, link) if link else body


def next_retry(attempts_made: int, now: datetime, delays: tuple[timedelta, ...]) -> datetime | None:
    """When to try again after `attempts_made` failed attempts; None once they are used up."""
    if attempts_made < 1 or attempts_made > len(delays):
        return None
    return now + delays[attempts_made - 1]


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= DISABLE_AFTER


def new_webhook_secret() -> str:
    """`whsec_` and 32 random bytes in base64, the form Standard Webhooks libraries expect."""
    return "whsec_" + b64encode(secrets.token_bytes(32)).decode()


def message_id(endpoint_id: str, event_id: int) -> str:
    """The `webhook-id`: one per (endpoint, event), identical on every retry."""
    return f"msg_{event_id}_{endpoint_id.replace('-', '')[:12]}"


_EVENT_ID = re.compile(r"[0-9]{1,19}")


def event_id_problem(text: str) -> str | None:
    """Why a client's event id (the text of a header) is refused, or None."""
    if _EVENT_ID.fullmatch(text) is None:
        return "an event id (an integer) this stream sent"
    if int(text) > MAX_EVENT_ID:
        return f"must be at most {MAX_EVENT_ID}"
    return None


@lru_cache(maxsize=4096)  # pure, and asked again at every delivery
def url_problem(url: str) -> str | None:
    """Why a webhook URL is refused on its form, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    try:
        wire_host(parts.hostname)
    except ValueError as exc:
        return str(exc)
    if parts.username or parts.password:
        return "must not carry credentials"
    if port == 0:
        return "names port 0"
    return None


def wire_host(host: str) -> str:
    """The host as it goes on the wire: an IP address as given, a name in its IDNA ASCII form
    (`bücher.example` → `xn--bcher-kva.example`, full-width letters mapped as UTS 46 says).

    Raises ValueError saying why the name is not a valid host name (`a..com`, `-a.com`, a label
    over 63 characters, a broken `xn--` label, characters IDNA 2008 does not allow)."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    else:
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"is not a valid host name ({exc})") from None


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a webhook URL's requests go, as they go on the wire."""

    scheme: str
    host: str  # the wire host: what TLS checks the certificate against and sends as SNI
    port: int
    target: str  # the request target: path and query, percent-encoded ASCII
    host_header: str  # the Host header: the name (never the address connected to), and port


# Kept as given in a request target: RFC 3986's unreserved and sub-delims, ":", "@", "/", and
# "%" (an escape the URL already carries stays one escape).
_TARGET_SAFE = "/%:@!$&'()*+,;=-._~"


@lru_cache(maxsize=4096)
def destination(url: str) -> Destination:
    """The wire form of a webhook URL. The connection goes to the address the guard checked
    (not to a fresh resolution of the name, which could answer differently), so the name
    travels in the Host header and, over TLS, as SNI."""
    parts = urlsplit(url)
    host = wire_host(parts.hostname or "")
    header = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        header = f"{header}:{parts.port}"
    target = quote(parts.path or "/", safe=_TARGET_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_TARGET_SAFE + "?")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Destination(parts.scheme, host, port, target, header)


# IPv6 ranges whose last 32 bits are an IPv4 address the traffic ends up at.
_EMBEDDING_IPV4 = (
    ipaddress.IPv6Network("64:ff9b::/96"),  # NAT64, well-known prefix (RFC 6052)
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # NAT64, local use (RFC 8215)
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated, RFC 4291)
)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition address carries (mapped, 6to4, NAT64, compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _EMBEDDING_IPV4):
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def allowed_despite_private(address: str, networks: Iterable[IPNetwork]) -> bool:
    """An address inside a network the operator allowed (a receiver on the same host)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return any(ip.version == net.version and ip in net for net in networks)


def is_private_address(address: str) -> bool:
    """Loopback, link-local, private, multicast, reserved or unspecified: not the internet.

    An IPv6 address that carries an IPv4 one (IPv4-mapped, 6to4, NAT64, IPv4-compatible) is
    judged by the IPv4 address too: `2002:a00:1::` reaches 10.0.0.1."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and is_private_address(str(embedded)):
            return True
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
    return bool(
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


# Which events an e-mail is written for (the others go to webhooks only).
TICKET_STAGES_MAILED = frozenset(
    {"registration", "diagnosis", "dispatch", "verification", "stability", "closure"}
)

MAILED_EVENT_TYPES = frozenset(
    {
        "ticket.escalated",
        "ticket.closed",
        "maintenance.announced",
        "maintenance.updated",
        "maintenance.cancelled",
        "order.touchpoint_recorded",
        "billing.acknowledged",
        "incident.declared",
        "incident.resolved",
    }
)


def event_mails(event_type: str, data: dict[str, object]) -> bool:
    """Registration … closure of a ticket, escalations, maintenance, touchpoints, billing acks."""
    if event_type == "ticket.stage_changed":
        return stage_of(data) in TICKET_STAGES_MAILED
    return event_type in MAILED_EVENT_TYPES


def stage_of(data: dict[str, object]) -> str | None:
    """The stage a `ticket.stage_changed` event entered (`to`, or `stage`)."""
    stage = data.get("to", data.get("stage"))
    return stage if isinstance(stage, str) else None


LANGUAGES = ("es", "pt", "en")

STAGE_NAMES: dict[str, dict[str, str]] = {
    "es": {
        "reception": "Recepción",
        "registration": "Registro",
        "diagnosis": "Diagnóstico",
        "dispatch": "Despacho de personal técnico",
        "field_repair": "Reparación en sitio",
        "verification": "Verificación",
        "stability": "Estabilidad",
        "closure": "Cierre",
        "closed": "Cerrado",
        "cancelled": "Cancelado",
    },
    "pt": {
        "reception": "Recepção",
        "registration": "Registro",
        "diagnosis": "Diagnóstico",
        "dispatch": "Despacho de técnico",
        "field_repair": "Reparo em campo",
        "verification": "Verificação",
        "stability": "Estabilidade",
        "closure": "Encerramento",
        "closed": "Encerrado",
        "cancelled": "Cancelado",
    },
    "en": {
        "reception": "Reception",
        "registration": "Registration",
        "diagnosis": "Diagnosis",
        "dispatch": "Dispatch",
        "field_repair": "Field repair",
        "verification": "Verification",
        "stability": "Stability",
        "closure": "Closure",
        "closed": "Closed",
        "cancelled": "Cancelled",
    },
}

SEVERITY_NAMES: dict[str, dict[str, str]] = {
    "es": {"critical": "Crítica", "major": "Mayor", "minor": "Menor"},
    "pt": {"critical": "Crítica", "major": "Maior", "minor": "Menor"},
    "en": {"critical": "Critical", "major": "Major", "minor": "Minor"},
}

MAINTENANCE_STATES: dict[str, dict[str, str]] = {
    "es": {"maintenance.updated": "Actualización", "maintenance.cancelled": "Cancelación"},
    "pt": {"maintenance.updated": "Atualização", "maintenance.cancelled": "Cancelamento"},
    "en": {"maintenance.updated": "Update", "maintenance.cancelled": "Cancellation"},
}

IMPACT_NAMES: dict[str, dict[str, str]] = {
    "es": {"outage": "Corte del servicio", "degradation": "Degradación"},
    "pt": {"outage": "Interrupção do serviço", "degradation": "Degradação"},
    "en": {"outage": "Service outage", "degradation": "Degradation"},
}

# The handbook titles the order touchpoints in English and Spanish only.
TOUCHPOINT_PT = {
    "technical_details_request": "Solicitação de detalhes técnicos do pedido",
    "order_details_confirmation": "Confirmação dos detalhes do pedido",
    "expected_delivery_date": "Data prevista de entrega do serviço",
    "installation_reminder": "Lembrete de instalação do serviço",
    "activation_planning": "Planejamento da ativação",
    "connectivity_notice": "Aviso de conectividade",
}


def language_or_default(language: str | None) -> str:
    return language if language in LANGUAGES else "en"


def word(table: dict[str, dict[str, str]], language: str, key: str | None) -> str:
    if key is None:
        return ""
    return table[language_or_default(language)].get(key, key.replace("_", " "))


def local_time(at: datetime | None, zone: str | None) -> str:
    """`2026-11-23 10:04 (America/Guayaquil)`: the site's wall clock, and which zone it is."""
    if at is None:
        return ""
    try:
        tz = ZoneInfo(zone) if zone else None
    except (ZoneInfoNotFoundError, ValueError):
        tz = None
    if tz is None:
        return at.strftime("%Y-%m-%d %H:%M UTC")
    return f"{at.astimezone(tz).strftime('%Y-%m-%d %H:%M')} ({zone})"
