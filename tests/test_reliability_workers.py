"""Workers die, nothing is lost or doubled: real processes, real PostgreSQL.

One API process, three `carrierdesk worker` processes, a storm of tickets whose
reception clocks fall due within seconds (and escalate at 150 % and 200 %),
every event posted to a webhook receiver on loopback. One worker is killed
with SIGKILL while it holds a delivery claim (its claim row seen in the database,
its request held unanswered by the receiver) and restarted. Then: every ticket is breached
exactly once, each escalation level is recorded once, every event has exactly
one delivery, and the receiver got every delivery's `webhook-id` (a message
re-sent after a crash carries the same id, which the Standard Webhooks spec
lets the receiver drop; no id is ever missing).
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.live import Live, query, scalar
from tests.support.processes import WEBHOOK_LEASE_SECONDS, Fleet, WorkerProcess, wait_until
from tests.support.receiver import WebhookReceiver, sender_pid

pytestmark = pytest.mark.processes


# A delivery claimed and still in flight: its lease is ahead of now.
CLAIMS = (
    "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND attempts >= 1 "
    "AND next_attempt_at > now()"
)


def storm(fleet: Fleet, *, tickets: int, target: str, settle: float) -> None:
    api = fleet.api()
    # Their attempts wait for the receiver as long as the test needs (the victim's included).
    workers = [fleet.worker(CARRIERDESK_WEBHOOK_ATTEMPT_SECONDS="120") for _ in range(3)]
    api.wait_ready()
    live = Live(api)
    try:
        _storm(fleet, live, workers, tickets=tickets, target=target, settle=settle)
    finally:
        live.close()
    assert all(w.alive() for w in workers), fleet.logs()


def _storm(
    fleet: Fleet,
    live: Live,
    workers: list[WorkerProcess],
    *,
    tickets: int,
    target: str,
    settle: float,
) -> None:
    db = fleet.database_url
    with WebhookReceiver() as receiver:
        enterprise = live.enterprise("Storm Telecom", "EC")["id"]
        service = live.service(enterprise)
        live.reception_target("EC", target)
        endpoint = live.webhook(enterprise, receiver.url, ["ticket.*", "sla.*"])

        receiver.hold.set()  # requests are taken and held unanswered until released
        opened = [live.open_ticket(enterprise, service)["id"] for _ in range(tickets)]

        def breached() -> int:
            return int(scalar(db, "SELECT count(*) FROM events WHERE type = 'sla.breached'"))

        # A worker holds a claim: its row leased ahead of now, its request at the receiver,
        # sent from a socket of that worker's process. That worker is the victim.
        wait_until(
            lambda: query(db, CLAIMS) and receiver.holding,
            timeout=settle,
            what="a worker holding a delivery claim",
        )
        held = {r[0] for r in query(db, CLAIMS)}
        (port,) = receiver.holding
        victim_pid = sender_pid(port, [w.pid for w in workers])
        (victim,) = [w for w in workers if w.pid == victim_pid]
        # Kill it while it holds the claim, in the middle of the storm, then bring it back.
        victim.kill()
        receiver.release()
        victim.start()
        # What it held passes to another worker once its short lease lapses, storm or not.
        wait_until(
            lambda: (
                scalar(
                    db,
                    "SELECT count(*) FROM webhook_deliveries WHERE id = ANY($1) "
                    "AND status = 'succeeded'",
                    list(held),
                )
                == len(held)
            ),
            timeout=4 * WEBHOOK_LEASE_SECONDS,
            what="the victim's claims handed over",
        )

        wait_until(lambda: breached() >= tickets, timeout=settle, what="every ticket breached")
        wait_until(
            lambda: (
                scalar(db, "SELECT count(*) FROM tickets WHERE escalation_level = 3") == tickets
            ),
            timeout=settle,
            what="every ticket at escalation level 3",
        )

        # Exactly once: no ticket breached twice, no level escalated twice.
        doubled = query(
            db,
            "SELECT subject_id, count(*) FROM events WHERE type = 'sla.breached' "
            "GROUP BY subject_id HAVING count(*) > 1",
        )
        assert doubled == []
        assert {
            str(r[0])
            for r in query(db, "SELECT DISTINCT subject_id FROM events WHERE type = 'sla.breached'")
        } == set(opened)
        levels = query(
            db,
            "SELECT subject_id, data->>'level', count(*) FROM events "
            "WHERE type = 'ticket.escalated' GROUP BY 1, 2 HAVING count(*) > 1",
        )
        assert levels == []

        # Every event to deliver has one delivery, and every delivery arrives.
        def undelivered() -> int:
            return int(
                scalar(
                    db,
                    "SELECT count(*) FROM events e WHERE e.enterprise_id = $1 "
                    "AND (e.type LIKE 'ticket.%' OR e.type LIKE 'sla.%') AND NOT EXISTS "
                    "(SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id "
                    "AND d.status = 'succeeded')",
                    as_uuid(enterprise),
                )
            )

        # A delivery in flight in the killed worker is leased: it (and, to keep
        # the endpoint's order, those behind it) goes again when the lease ends.
        delivery_deadline = settle + WEBHOOK_LEASE_SECONDS
        try:
            wait_until(lambda: undelivered() == 0, timeout=delivery_deadline, what="every delivery")
        except AssertionError:
            print(  # noqa: T201
                query(
                    db, "SELECT status, attempts, count(*) FROM webhook_deliveries GROUP BY 1, 2"
                ),
                query(
                    db, "SELECT status_code, error, count(*) FROM webhook_attempts GROUP BY 1, 2"
                ),
            )
            raise
        per_event = query(
            db,
            "SELECT event_id, count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
            "GROUP BY event_id HAVING count(*) > 1",
            as_uuid(endpoint),
        )
        assert per_event == []
        expected_ids = {
            r[0]
            for r in query(
                db,
                "SELECT message_id FROM webhook_deliveries WHERE endpoint_id = $1",
                as_uuid(endpoint),
            )
        }
        wait_until(lambda: set(receiver.by_id()) >= expected_ids, timeout=settle, what="receipts")
        assert set(receiver.by_id()) == expected_ids
        # Only what the victim held in flight is sent again, once: leases renewed while in
        # flight never lapse under a living worker, so nothing else goes twice.
        assert receiver.resent() <= len(held), receiver.attempts


def as_uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


def test_a_worker_killed_mid_storm_loses_and_doubles_nothing(fleet: Fleet) -> None:
    storm(fleet, tickets=30, target="PT2S", settle=40)


@pytest.mark.long
def test_a_worker_killed_mid_storm_loses_and_doubles_nothing_long(fleet: Fleet) -> None:
    storm(fleet, tickets=1000, target="PT20S", settle=600)
