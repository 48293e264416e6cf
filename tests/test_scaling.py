"""Many API replicas and workers on one PostgreSQL (docs/SCALING.md), with real processes."""

from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest

from tests.support.live import Live, query, scalar
from tests.support.processes import Fleet, WorkerProcess, wait_until
from tests.support.receiver import WebhookReceiver

pytestmark = pytest.mark.processes

TICKETS = 10
ENDPOINTS = 3


def work_done(worker: WorkerProcess) -> Counter[str]:
    """What a worker says it did (its INFO log): clocks fired, webhook attempts recorded."""
    done: Counter[str] = Counter()
    for line in worker.log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == "sla thresholds recorded":
            done["clocks"] += int(entry["clocks"])
        elif entry.get("msg") == "webhook attempts recorded":  # a batch of outcomes
            done["deliveries"] += int(entry["count"])
    return done


def test_two_replicas_and_two_workers_share_one_database_and_its_work(fleet: Fleet) -> None:
    first, second = fleet.api(), fleet.api()
    workers = [fleet.worker(CARRIERDESK_LOG_LEVEL="INFO") for _ in range(2)]
    first.wait_ready()
    second.wait_ready()
    for worker in workers:
        wait_until(lambda w=worker: "worker started" in w.log(), timeout=60, what="a worker")
    db = fleet.database_url

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

    # Work arrives through both replicas; both workers share it.
    replicas = [Live(first), Live(second)]
    try:
        with WebhookReceiver() as receiver:
            replicas[0].reception_target("EC", "PT2S")
            service = replicas[0].service(enterprise_id)
            for _ in range(ENDPOINTS):
                replicas[1].webhook(enterprise_id, receiver.url, ["ticket.*", "sla.*"])
            for n in range(TICKETS):
                replicas[n % 2].open_ticket(enterprise_id, service)
            wait_until(
                lambda: (
                    scalar(db, "SELECT count(*) FROM tickets WHERE escalation_level = 3") == TICKETS
                ),
                timeout=60,
                what="every ticket breached and escalated twice",
            )

            def undelivered() -> int:
                # Events not fanned out yet count too: their deliveries do not exist yet, and a
                # moment with none pending among those that do is not the end.
                sql = (
                    "SELECT (SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded')"
                    " + (SELECT count(*) FROM outbox WHERE processed_at IS NULL)"
                )
                return int(scalar(db, sql))

            wait_until(lambda: undelivered() == 0, timeout=60, what="every delivery")
            # None twice: one breach per ticket, each escalation level once, each message once.
            assert (
                query(
                    db,
                    "SELECT subject_id, type, data->>'level' FROM events "
                    "WHERE type IN ('sla.breached', 'ticket.escalated') "
                    "GROUP BY 1, 2, 3 HAVING count(*) > 1",
                )
                == []
            )
            assert receiver.resent() == 0, receiver.attempts
            expected = {r[0] for r in query(db, "SELECT message_id FROM webhook_deliveries")}
            assert set(receiver.attempts) == expected
    finally:
        for live in replicas:
            live.close()
    # Each worker did some of the clocks and some of the deliveries.
    done = [work_done(w) for w in workers]
    assert all(d["clocks"] > 0 and d["deliveries"] > 0 for d in done), done
    assert sum(d["deliveries"] for d in done) == len(expected)

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
