"""Carrier Desk on Citus, proven on a three-node cluster: the acceptance path through the API.

A customer's whole day, with real processes (`carrierdesk serve --no-worker` and one
`carrierdesk worker`, both migrating at start-up): an enterprise, its service and its API
client, a webhook endpoint on a loopback receiver, a ticket opened, read and listed, its
reception clock breached by the worker exactly once and delivered to the receiver, a billing
request, and a maintenance notice on the enterprise's service.

The same path runs on the suite's plain PostgreSQL (`fresh_database`, every CI pass) and on a
Citus cluster (`citus_database`, marked `citus`: `scripts/citus-cluster start` runs one, and
the test skips without it), where the migrated schema must also have distributed its tenant
tables and replicated its reference tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.core.distribution import DISTRIBUTED, reference_tables
from app.models import Base
from tests.support.live import CONTACT, Live, query
from tests.support.processes import Fleet, fleet_on, wait_until
from tests.support.receiver import WebhookReceiver

QUITO = ZoneInfo("America/Guayaquil")


@pytest.fixture
def plain_fleet(fresh_database: str) -> Iterator[Fleet]:
    yield from fleet_on(fresh_database)


@pytest.fixture
def citus_fleet(citus_database: str) -> Iterator[Fleet]:
    yield from fleet_on(citus_database)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url.path}: "
        f"{response.status_code} {response.text}"
    )
    return response.json()


def next_maintenance_window() -> tuple[str, str]:
    """01:00 to 03:00 in Quito a month from now: inside the window, well past the notice."""
    day = (datetime.now(UTC) + timedelta(days=30)).astimezone(QUITO).date()
    start = datetime.combine(day, time(1), tzinfo=QUITO)
    return start.isoformat(), (start + timedelta(hours=2)).isoformat()


def acceptance_path(fleet: Fleet, migrated: Callable[[], None] = lambda: None) -> None:
    """Everything through the HTTP API, as the carrier's staff and its customer would.
    `migrated` runs once both processes have started (and so migrated)."""
    api = fleet.api()
    worker = fleet.worker(CARRIERDESK_LOG_LEVEL="INFO")  # it says "worker started"
    # Generous: start-up migrates (on the cluster, a fresh database), on a machine CI shares.
    api.wait_ready(timeout=180)
    wait_until(lambda: "worker started" in worker.log() or not worker.alive(), timeout=180)
    assert worker.alive(), worker.log()
    migrated()

    staff = Live(api)
    try:
        with WebhookReceiver() as receiver:
            _walk(staff, receiver)
    finally:
        staff.close()


def _walk(staff: Live, receiver: WebhookReceiver) -> None:
    http = staff.http
    # The provider's admin sets up the customer: enterprise, service, the customer's API client.
    enterprise = staff.enterprise("Petroamazonas", "EC")["id"]
    service = staff.service(enterprise)
    client = staff.created(
        "/v1/api-clients",
        {"name": "Petroamazonas NOC", "role": "customer_admin", "enterprise_ids": [enterprise]},
    )
    customer = bearer(client["token"])
    # Reception due two seconds after a ticket opens: the first clock falls due at once.
    staff.reception_target("EC", "PT2S")

    # The customer registers its webhook endpoint and opens a ticket.
    hook = ok(
        http.post("/v1/webhooks", json={"url": receiver.url, "events": ["*"]}, headers=customer),
        201,
    )
    assert hook["enterprise_id"] == enterprise
    ticket = ok(
        http.post(
            "/v1/tickets",
            json={
                "service_id": service,
                "severity": "critical",
                "summary": "Fibre cut on the Quito ring",
                "contact": CONTACT,
            },
            headers=customer,
        ),
        201,
    )
    path = f"/v1/tickets/{ticket['id']}"
    read = ok(http.get(path, headers=customer))
    assert (read["number"], read["enterprise_id"]) == (ticket["number"], enterprise)
    assert [c["stage"] for c in read["sla"]] == ["reception"]
    listed = ok(http.get("/v1/tickets", headers=customer))["items"]
    assert [t["id"] for t in listed] == [ticket["id"]]

    # The worker breaches the reception clock and escalates; the receiver hears the breach.
    def escalated_to_the_top() -> bool:
        return bool(ok(http.get(path, headers=customer))["escalation_level"] == 3)

    wait_until(escalated_to_the_top, timeout=30, what="the reception clock breached, level 3")
    breached = ok(http.get(path, headers=customer))
    assert breached["breached"] is True
    assert breached["sla"][0]["breached_at"] is not None
    history = ok(http.get(f"{path}/events", params={"limit": 100}))["items"]
    breaches = [e for e in history if e["type"] == "sla.breached"]
    assert [e["data"]["stage"] for e in breaches] == ["reception"], breaches
    levels = [e["data"]["level"] for e in history if e["type"] == "ticket.escalated"]
    assert levels == [1, 2, 3], levels

    def heard(kind: str, **data: Any) -> list[dict[str, Any]]:
        bodies = [r.json() for r in receiver.received]
        return [
            b
            for b in bodies
            if b["type"] == kind and all(b["data"].get(k) == v for k, v in data.items())
        ]

    wait_until(lambda: heard("sla.breached", number=ticket["number"]), timeout=30, what="breach")
    assert len(heard("sla.breached", number=ticket["number"])) == 1
    assert receiver.resent() == 0

    # A billing request, and a maintenance notice on the customer's service.
    billing = ok(
        http.post(
            "/v1/billing-requests",
            json={
                "enterprise_id": enterprise,
                "type": "inquiry",
                "subject": "Invoice 2026-11 charges the ring twice",
                "channel": "portal",
            },
            headers=customer,
        ),
        201,
    )
    assert ok(http.get(f"/v1/billing-requests/{billing['id']}", headers=customer))["id"]
    start, end = next_maintenance_window()
    notice = staff.created(
        "/v1/maintenances",
        {
            "kind": "standard",
            "start": start,
            "end": end,
            "impacted_service_ids": [service],
            "reason": "Backbone router software upgrade",
            "expected_impact": "outage",
        },
    )
    assert notice["impacted_enterprise_ids"] == [enterprise]
    mine = ok(http.get("/v1/maintenances", headers=customer))["items"]
    assert [m["gcr_number"] for m in mine] == [notice["gcr_number"]]
    wait_until(
        lambda: heard("maintenance.announced", gcr_number=notice["gcr_number"]),
        timeout=30,
        what="the maintenance notice at the customer's endpoint",
    )


@pytest.mark.processes
def test_the_acceptance_path_on_postgresql(plain_fleet: Fleet) -> None:
    acceptance_path(plain_fleet)


@pytest.mark.citus
@pytest.mark.processes
def test_the_acceptance_path_on_a_citus_cluster(citus_fleet: Fleet) -> None:
    db = citus_fleet.database_url
    layout: dict[str, int] = {}

    def count_distributed_tables() -> None:
        # Migrated at start-up: tenant tables hash-distributed, reference tables replicated.
        [row] = query(
            db,
            "SELECT count(*) FILTER (WHERE partmethod = 'h') AS distributed,"
            " count(*) FILTER (WHERE partmethod = 'n') AS reference FROM pg_dist_partition",
        )
        layout.update(row)
        print(f"after migration: {layout}")  # noqa: T201

    # The path first: what it does on the cluster is worth seeing whatever the layout.
    acceptance_path(citus_fleet, count_distributed_tables)
    # Every table placed: the tenant tables distributed, all the others reference tables.
    tables = set(Base.metadata.tables)
    assert layout["distributed"] == len(DISTRIBUTED), layout
    assert layout["reference"] == len(reference_tables(tables)), layout
