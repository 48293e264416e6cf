"""Resolve a webhook host and refuse private addresses (SSRF), at creation and at delivery."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from app.domain.delivery import is_private_address, url_problem


class AddressRefused(Exception):
    """The URL may not be called: its form, or where its host resolves."""


async def check_url(url: str, *, allow_private: bool, resolve_timeout: float = 5.0) -> None:
    """Raise AddressRefused unless the URL is http(s) and (when required) resolves publicly."""
    problem = url_problem(url)
    if problem is not None:
        raise AddressRefused(problem)
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=resolve_timeout
        )
    except (OSError, TimeoutError) as exc:
        raise AddressRefused(f"host {host} does not resolve") from exc
    addresses = {str(info[4][0]) for info in infos}
    if not addresses:
        raise AddressRefused(f"host {host} does not resolve")
    private = sorted(a for a in addresses if is_private_address(a))
    if private:
        raise AddressRefused(
            f"host {host} resolves to a private, loopback or link-local address ({private[0]})"
        )
