"""Drive a running `carrierdesk serve` over HTTP, and look into its database.

For the reliability tests: everything a user does goes through the API of a
real process; what the tests check afterwards they read from PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import httpx

from tests.support.processes import ApiProcess, libpq_url

CONTACT = {"name": "NOC duty desk", "phone": "+593 2 400 5124", "email": "noc@acme.example"}


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    # A fresh loop in a thread of its own: the test's own loop is never touched.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def query(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(libpq_url(database_url))
        try:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
            return rows
        finally:
            await conn.close()

    result: list[asyncpg.Record] = _run(go())
    return result


def scalar(database_url: str, sql: str, *args: Any) -> Any:
    rows = query(database_url, sql, *args)
    return rows[0][0] if rows else None


class Live:
    """A provider admin's HTTP client on one API process."""

    def __init__(self, api: ApiProcess) -> None:
        self.api = api
        # No idle keep-alive: uvicorn drops idle connections after 5 s, and a
        # socket the server closed would linger unclosed in the pool.
        self.http = httpx.Client(
            base_url=api.base_url,
            headers=api.admin,
            timeout=30,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def close(self) -> None:
        self.http.close()

    def created(self, path: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        response = self.http.post(path, json=body, headers=headers)
        assert response.status_code == 201, f"POST {path}: {response.status_code} {response.text}"
        out: dict[str, Any] = response.json()
        return out

    def enterprise(self, name: str = "Acme Telecom", country: str = "EC") -> dict[str, Any]:
        return self.created("/v1/enterprises", {"name": name, "country": country})

    def service(self, enterprise_id: str, city: str = "Quito", country: str = "EC") -> str:
        body = {
            "code": f"SVC-{uuid.uuid4().hex[:10].upper()}",
            "product_line": "data",
            "site": {"address": "Av. Amazonas N34", "city": city, "country": country},
        }
        return str(self.created(f"/v1/enterprises/{enterprise_id}/services", body)["id"])

    def reception_target(self, country: str, iso_duration: str) -> None:
        """Shorten a country's reception target so clocks fall due within seconds."""
        current = self.http.get(f"/v1/sla-policies/{country}")
        assert current.status_code == 200, current.text
        policy = current.json()
        body = {k: policy[k] for k in ("targets", "dispatch", "warning_ratio", "escalation_ratios")}
        body["targets"]["reception"] = iso_duration
        response = self.http.put(
            f"/v1/sla-policies/{country}",
            json=body,
            headers={"If-Match": current.headers.get("etag", "*")},
        )
        assert response.status_code == 200, response.text

    def webhook(self, enterprise_id: str, url: str, events: list[str] | None = None) -> str:
        body = {"url": url, "events": events or ["*"], "enterprise_id": enterprise_id}
        return str(self.created("/v1/webhooks", body)["id"])

    def ticket_body(self, enterprise_id: str, service_id: str, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "enterprise_id": enterprise_id,
            "service_id": service_id,
            "severity": "major",
            "summary": "Link down at the head office",
            "contact": CONTACT,
        }
        body.update(extra)
        return body

    def open_ticket(self, enterprise_id: str, service_id: str, **extra: Any) -> dict[str, Any]:
        return self.created("/v1/tickets", self.ticket_body(enterprise_id, service_id, **extra))
