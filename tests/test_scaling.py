"""Many API replicas and workers on one PostgreSQL (docs/SCALING.md), with real processes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.processes import Fleet, wait_until

pytestmark = pytest.mark.processes


@pytest.fixture
def fleet(fresh_database: str) -> Iterator[Fleet]:
    fleet = Fleet(fresh_database)
    try:
        yield fleet
    finally:
        print(fleet.logs())  # noqa: T201  (pytest shows it when the test failed)
        fleet.close()


def test_two_replicas_and_two_workers_share_one_database(fleet: Fleet) -> None:
    first, second = fleet.api(), fleet.api()
    workers = [fleet.worker(), fleet.worker()]
    first.wait_ready()
    second.wait_ready()

    created = httpx.post(
        first.base_url + "/v1/enterprises",
        json={"name": "Replica Telecom", "country": "EC"},
        headers=first.admin,
    )
    assert created.status_code == 201, created.text
    enterprise_id = created.json()["id"]
    # What one replica wrote, the other serves: no state lives in a process.
    seen = httpx.get(f"{second.base_url}/v1/enterprises/{enterprise_id}", headers=second.admin)
    assert seen.status_code == 200
    assert seen.json()["name"] == "Replica Telecom"

    # A replica dies without warning: the other keeps answering, and the dead
    # one comes back on the same port.
    first.kill()
    assert httpx.get(second.base_url + "/readyz").status_code == 200
    first.start()
    first.wait_ready()
    again = httpx.get(f"{first.base_url}/v1/enterprises/{enterprise_id}", headers=first.admin)
    assert again.status_code == 200
    assert all(w.alive() for w in workers), fleet.logs()


def test_a_killed_worker_restarts_cleanly(fleet: Fleet) -> None:
    worker = fleet.worker()
    api = fleet.api()
    api.wait_ready()
    wait_until(worker.alive, timeout=5, what="worker running")
    worker.kill()
    assert not worker.alive()
    worker.start()
    api_ok = httpx.get(api.base_url + "/readyz")
    assert api_ok.status_code == 200
    assert worker.alive(), worker.log()
