"""Resolve a webhook host and refuse private addresses (SSRF), at creation and at delivery."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from app.core.settings import Settings
from app.services.delivery.rules import (
    IPNetwork,
    allowed_despite_private,
    is_private_address,
    url_problem,
    wire_host,
)


class AddressRefused(Exception):
    """The URL may not be called: its form, or where its host resolves."""


async def resolve(host: str, port: int) -> set[str]:
    if _is_address(host):  # nothing to look up (and no trip through the resolver's thread)
        return {host}
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return {str(info[4][0]) for info in infos}


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def check_destination(url: str, settings: Settings) -> list[str]:
    """`check_url` as the operator configured it (what the API and the worker both call)."""
    return await check_url(
        url,
        allow_private=settings.webhook_allow_private,
        allowed_networks=settings.webhook_allowed_networks,
    )


async def check_url(
    url: str,
    *,
    allow_private: bool,
    allowed_networks: Iterable[IPNetwork] = (),
    resolve_timeout: float = 5.0,
) -> list[str]:
    """Raise AddressRefused unless the URL is http(s) and (when required) resolves publicly,
    or to an address inside `allowed_networks`.

    Returns the checked addresses (none when private ones are allowed: nothing was checked).
    """
    problem = url_problem(url)
    if problem is not None:
        raise AddressRefused(problem)
    if allow_private:
        return []
    parts = urlsplit(url)
    host = wire_host(parts.hostname or "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await asyncio.wait_for(resolve(host, port), timeout=resolve_timeout)
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise AddressRefused(f"host {host} does not resolve") from exc
    if not addresses:
        raise AddressRefused(f"host {host} does not resolve")
    allowed = list(allowed_networks)
    if any(is_private_address(a) and not allowed_despite_private(a, allowed) for a in addresses):
        # Say no more than that: where a name points inside the network is not for the caller.
        raise AddressRefused(f"host {host} is not allowed")
    return sorted(addresses)
