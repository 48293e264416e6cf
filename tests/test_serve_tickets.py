"""Issue 4's "done when", tried as a new user would: against a running `carrierdesk serve`."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.support.workers import poll

pytestmark = pytest.mark.processes
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _spawn(env: dict[str, str], port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["uv", "run", "--quiet", "carrierdesk", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )


@pytest.fixture
async def served(fresh_database: str) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    token = "cdk_" + secrets.token_urlsafe(32)
    port = _free_port()
    env = {
        **os.environ,
        "CARRIERDESK_DATABASE_URL": fresh_database,
        "CARRIERDESK_ADMIN_TOKEN": token,
        "CARRIERDESK_LOG_LEVEL": "WARNING",
    }
    with tempfile.TemporaryFile() as log:
        proc = _spawn(env, port, log)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

                async def healthy() -> bool:
                    if proc.poll() is not None:
                        log.seek(0)
                        raise AssertionError(log.read().decode(errors="replace")[-2000:])
                    try:
                        return (await client.get("/healthz")).status_code == 200
                    except httpx.TransportError:
                        return False

                await poll(healthy, within=60, interval=0.2)
                yield client, {"Authorization": f"Bearer {token}"}
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


async def _json(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_the_lifecycle_and_a_breach_against_a_running_serve(
    served: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, admin = served
    enterprise = await _json(
        await client.post(
            "/v1/enterprises", json={"name": "Cooperativa Andina", "country": "EC"}, headers=admin
        ),
        201,
    )
    eid = enterprise["id"]

    async def service(city: str) -> str:
        body = {
            "code": f"EC-{secrets.token_hex(4)}",
            "product_line": "data",
            "site": {"address": "Av. Amazonas", "city": city, "country": "EC"},
        }
        made = await _json(
            await client.post(f"/v1/enterprises/{eid}/services", json=body, headers=admin), 201
        )
        return str(made["id"])

    async def api_client(role: str, *enterprises: str) -> dict[str, str]:
        body = {"name": role, "role": role, "enterprise_ids": list(enterprises)}
        made = await _json(await client.post("/v1/api-clients", json=body, headers=admin), 201)
        return {"Authorization": f"Bearer {made['token']}"}

    customer = await api_client("customer_user", eid)
    tsc = await api_client("tsc_engineer")
    quito, ambato = await service("Quito"), await service("Ambato")

    async def open_ticket(service_id: str) -> dict[str, Any]:
        body = {"service_id": service_id, "severity": "critical", "summary": "Link down",
                "contact": {"name": "NOC", "email": "noc@example.com"}}  # fmt: skip
        return dict(await _json(await client.post("/v1/tickets", json=body, headers=customer), 201))

    async def move(ticket_id: str, to: str) -> dict[str, Any]:
        url = f"/v1/tickets/{ticket_id}/transitions"
        return dict(await _json(await client.post(url, json={"to": to}, headers=tsc)))

    # A ticket in Quito: reception, one minute, main city; every stage's target, all met.
    ticket = await open_ticket(quito)
    assert ticket["stage"] == "reception"
    assert ticket["city_tier"] == "main"
    assert ticket["sla"][0]["target"] == "PT1M"
    targets = {}
    for stage in ("registration", "diagnosis", "dispatch", "field_repair", "verification",
                  "stability", "closure"):  # fmt: skip
        ticket = await move(ticket["id"], stage)
        targets[stage] = ticket["sla"][-1]["target"]
    assert list(targets.values()) == ["PT4M", "PT20M", "PT3H", "PT4H", "PT10M", "PT6H", "PT30M"]
    ticket = await move(ticket["id"], "closed")
    assert {c["state"] for c in ticket["sla"]} == {"met"}

    # An intermediate city: dispatch gets six hours.
    other = await open_ticket(ambato)
    assert other["city_tier"] == "intermediate"
    for stage in ("registration", "diagnosis", "dispatch"):
        other = await move(other["id"], stage)
    assert other["sla"][-1]["target"] == "PT6H"

    # A hold of a moment pushes the due time by exactly as much.
    before = other["sla"][-1]["due_at"]
    await _json(
        await client.post(
            f"/v1/tickets/{other['id']}/hold", json={"reason": "no access"}, headers=tsc
        )
    )
    await asyncio.sleep(1.2)  # the hold's length: time the customer keeps us waiting
    resumed = await _json(await client.post(f"/v1/tickets/{other['id']}/resume", headers=tsc))
    clock = resumed["sla"][-1]
    assert clock["paused_seconds"] >= 1.2
    pushed = _at(clock["due_at"]) - _at(before)
    assert abs(pushed.total_seconds() - clock["paused_seconds"]) < 1e-3

    # Reception set to a few seconds: a ticket left alone is breached within a second.
    policy = await _json(await client.get("/v1/sla-policies/EC", headers=admin))
    body = {k: policy[k] for k in ("targets", "dispatch", "warning_ratio", "escalation_ratios")}
    body["targets"]["reception"] = "PT3S"
    await _json(await client.put("/v1/sla-policies/EC", json=body, headers=admin))
    left = await open_ticket(quito)
    assert left["sla"][0]["target"] == "PT3S"

    async def escalated() -> dict[str, Any] | None:
        read = await _json(await client.get(f"/v1/tickets/{left['id']}", headers=customer))
        return dict(read) if read["escalation_level"] >= 1 else None

    read = await poll(escalated, within=30)
    reception = read["sla"][0]
    assert read["breached"] is True
    lag = _at(reception["breached_at"]) - _at(reception["due_at"])
    assert timedelta(0) <= lag < timedelta(seconds=1), lag
    history = await _json(await client.get(f"/v1/tickets/{left['id']}/events", headers=customer))
    events = history["items"]
    types = [e["type"] for e in events]
    assert types.count("sla.breached") == 1
    level1 = next(e for e in events if e["type"] == "ticket.escalated")
    assert level1["data"]["level"] == 1
    assert level1["data"]["escalation"]["phones"]
