"""Concurrent writers on one ticket, against a real `serve` process and real PostgreSQL.

Many clients at once: no update is lost (If-Match), no stage is skipped or
entered twice, and retried creations (same Idempotency-Key, or same
external_id) make one ticket; a retry racing the first request gets the first answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest

from tests.support.live import Live, query
from tests.support.processes import ApiProcess, Fleet

pytestmark = pytest.mark.processes

CLIENTS = 8
PATH = ["registration", "diagnosis", "verification", "stability", "closure", "closed"]
T = TypeVar("T")


@pytest.fixture(scope="module")
def api(module_database: str) -> Iterator[tuple[Fleet, ApiProcess, Live]]:
    """One `serve` for the module: each test makes its own enterprise and tickets."""
    fleet = Fleet(module_database)
    live = None
    try:
        api = fleet.api()
        api.wait_ready()
        live = Live(api)
        yield fleet, api, live
    finally:
        if live is not None:
            print(fleet.logs())  # noqa: T201  (pytest shows it when the test failed)
        fleet.close()


def at_once(work: Callable[[int], T], n: int = CLIENTS) -> list[T]:
    """Run `work(i)` for i in range(n) in n threads, each with its own connection."""
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(work, range(n)))


def client(api: ApiProcess) -> httpx.Client:
    return httpx.Client(base_url=api.base_url, headers=api.admin, timeout=30)


def setup_ticket(live: Live, **extra: Any) -> tuple[dict[str, Any], str, str]:
    enterprise = live.enterprise("Race Telecom", "EC")["id"]
    service = live.service(enterprise)
    return live.open_ticket(enterprise, service, **extra), enterprise, service


def test_concurrent_patches_with_if_match_lose_no_update(
    api: tuple[Fleet, ApiProcess, Live],
) -> None:
    _, server, live = api
    ticket, _, _ = setup_ticket(live)
    url = f"/v1/tickets/{ticket['id']}"

    def append_my_tag(i: int) -> int:
        conflicts = 0
        with client(server) as c:
            while True:
                current = c.get(url)
                tagged = (current.json()["description"] or "") + f"[client {i}]"
                r = c.patch(
                    url, json={"description": tagged}, headers={"If-Match": current.headers["etag"]}
                )
                if r.status_code == 200:
                    return conflicts
                assert r.status_code == 412, r.text
                conflicts += 1

    at_once(append_my_tag)
    final = live.http.get(url).json()
    for i in range(CLIENTS):
        assert final["description"].count(f"[client {i}]") == 1, final["description"]


def test_racing_transitions_never_skip_or_repeat_a_stage(
    api: tuple[Fleet, ApiProcess, Live],
) -> None:
    fleet, server, live = api
    ticket, _, _ = setup_ticket(live)
    url = f"/v1/tickets/{ticket['id']}/transitions"

    for step, stage in enumerate(PATH):
        # A jump over the next stage is refused, whoever asks.
        if step + 1 < len(PATH):
            jump = live.http.post(url, json={"to": PATH[step + 1]})
            assert jump.status_code == 409, jump.text

        def move(i: int, stage: str = stage) -> int:
            with client(server) as c:
                return c.post(url, json={"to": stage}).status_code

        # Everyone races to the next stage: one wins, the others are told it
        # is no longer a step from where the ticket now is.
        codes = at_once(move)
        assert codes.count(200) == 1, (stage, codes)
        assert set(codes) <= {200, 409}, codes

    rows = query(
        fleet.database_url,
        "SELECT type, data->>'to' FROM events WHERE subject_id = $1 "
        "AND type IN ('ticket.stage_changed', 'ticket.closed') ORDER BY id",
        uuid.UUID(ticket["id"]),
    )
    entered = ["closed" if kind == "ticket.closed" else to for kind, to in rows]
    assert entered == PATH


def test_retried_creations_make_one_ticket(api: tuple[Fleet, ApiProcess, Live]) -> None:
    fleet, server, live = api
    _, enterprise, service = setup_ticket(live)

    # The same request retried at once by eight clients, one Idempotency-Key.
    key = uuid.uuid4().hex
    body = live.ticket_body(enterprise, service, summary="Retried by a flaky NOC link")

    def create_with_key(i: int) -> tuple[int, str | None]:
        with client(server) as c:
            r = c.post("/v1/tickets", json=body, headers={"Idempotency-Key": key})
            return r.status_code, r.json().get("id")

    answers = at_once(create_with_key)
    # Every retry is answered the first answer: the same ticket, never a conflict.
    assert {code for code, _ in answers} == {201}, answers
    assert len({i for _, i in answers}) == 1, answers
    count = query(
        fleet.database_url,
        "SELECT count(*) FROM tickets WHERE summary = 'Retried by a flaky NOC link'",
    )[0][0]
    assert count == 1

    # The same ticket number of the caller sent eight times with fresh keys.
    external = f"NOC-{uuid.uuid4().hex[:8]}"

    def create_with_external_id(i: int) -> tuple[int, str]:
        with client(server) as c:
            r = c.post(
                "/v1/tickets",
                json=live.ticket_body(enterprise, service, external_id=external),
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            return r.status_code, r.text

    outcomes = at_once(create_with_external_id)
    assert [code for code, _ in outcomes].count(201) == 1, outcomes
    assert {code for code, _ in outcomes} <= {201, 409}, outcomes
    stored = query(fleet.database_url, "SELECT id FROM tickets WHERE external_id = $1", external)
    assert len(stored) == 1
    for code, text in outcomes:
        if code == 409:
            assert str(stored[0][0]) in text  # the conflict names the existing ticket


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # A unique e-mail: a retry that did not wait for the first request met its
        # half-written row and answered 409.
        (
            "/v1/users",
            {"email": "raced@acme.example", "name": "Raced", "role": "tsc_engineer"},
        ),
    ],
)
def test_a_retry_racing_the_first_request_gets_the_first_answer(
    api: tuple[Fleet, ApiProcess, Live], path: str, body: dict[str, Any]
) -> None:
    _, server, _ = api
    key = uuid.uuid4().hex

    def create(i: int) -> tuple[int, str]:
        with client(server) as c:
            r = c.post(path, json=body, headers={"Idempotency-Key": key})
            return r.status_code, r.json().get("id")

    answers = at_once(create)
    assert {code for code, _ in answers} == {201}, answers
    assert len({created for _, created in answers}) == 1, answers
