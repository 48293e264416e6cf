"""A worker killed with SIGKILL while it holds webhook claims: another worker process sends
them within a few short leases, each endpoint still in order, and only what the dead worker
had in flight is sent twice. Real processes, real PostgreSQL, a real receiver on loopback."""

from __future__ import annotations

import pytest

from tests.support.live import Live, query, scalar
from tests.support.processes import WEBHOOK_LEASE_SECONDS, Fleet, wait_until
from tests.support.receiver import WebhookReceiver

# The default run proves the same handover inside the storm of
# tests/test_reliability_workers.py; this one, with every claim the victim's, runs with -m long.
pytestmark = [pytest.mark.processes, pytest.mark.long]

ENDPOINTS = 4
TICKETS = 3
# A claim passes on once its lease lapses: a few leases are plenty, and far less than a
# lease that is not renewed could be (it must outlast the slowest attempt).
HANDOVER_DEADLINE = 4 * WEBHOOK_LEASE_SECONDS

CLAIMS = (
    "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND attempts >= 1 "
    "AND next_attempt_at > now()"
)

CLAIMED_ENDPOINTS = (
    "SELECT DISTINCT endpoint_id FROM webhook_deliveries WHERE status = 'pending' "
    "AND attempts >= 1 AND next_attempt_at > now()"
)


def test_a_killed_workers_claims_pass_to_another_worker_within_a_few_leases(
    fleet: Fleet,
) -> None:
    db = fleet.database_url
    api = fleet.api()
    api.wait_ready()
    live = Live(api)
    try:
        with WebhookReceiver() as receiver:
            enterprise = live.enterprise("Handover Telecom", "EC")["id"]
            service = live.service(enterprise)
            for _ in range(ENDPOINTS):
                live.webhook(enterprise, receiver.url, ["ticket.created"])
            receiver.hold.set()  # it takes each request and does not answer yet
            # Its attempts would wait for the receiver far longer than this test lasts.
            victim = fleet.worker(CARRIERDESK_WEBHOOK_ATTEMPT_SECONDS="120")
            for _ in range(TICKETS):
                live.open_ticket(enterprise, service)

            # The victim holds the head of every endpoint's queue (with the run behind it): its
            # claim rows are there (and renewed: they stay ahead of now), and the receiver has
            # the heads' requests.
            wait_until(
                lambda: (
                    len(query(db, CLAIMED_ENDPOINTS)) == ENDPOINTS
                    and receiver.resent() == 0
                    and sum(receiver.attempts.values()) == ENDPOINTS
                ),
                timeout=30,
                what="the victim holding a claim on every endpoint",
            )
            held = {r[0] for r in query(db, CLAIMS)}
            rescuer = fleet.worker(CARRIERDESK_LOG_LEVEL="INFO")  # idle: every head is leased
            wait_until(lambda: "worker started" in rescuer.log(), timeout=60, what="a rescuer")
            victim.kill()
            receiver.release()

            def all_delivered() -> bool:
                return (
                    scalar(
                        db, "SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'"
                    )
                    == 0
                )

            wait_until(all_delivered, timeout=HANDOVER_DEADLINE, what="the claims handed over")
            assert rescuer.alive(), fleet.logs()
            total = scalar(db, "SELECT count(*) FROM webhook_deliveries")
            assert total == ENDPOINTS * TICKETS
            # Only what the victim had in flight went twice, and each of those once more.
            assert receiver.resent() <= len(held), receiver.attempts
            assert set(receiver.attempts) == {
                r[0] for r in query(db, "SELECT message_id FROM webhook_deliveries")
            }
            # Each endpoint got its tickets in the order they were opened.
            for (endpoint,) in query(db, "SELECT id FROM webhook_endpoints"):
                events = [
                    r[0]
                    for r in query(
                        db,
                        "SELECT event_id FROM webhook_deliveries WHERE endpoint_id = $1 "
                        "ORDER BY completed_at, event_id",
                        endpoint,
                    )
                ]
                assert events == sorted(events)
    finally:
        live.close()
