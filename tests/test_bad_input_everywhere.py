"""The bad input Schemathesis does not invent, sent to every operation of the document.

NUL characters in every text field, bodies too big, JSON nested too deep,
wrong content types, times out of range and Unicode in every text field. Each
answer is a 4xx problem (or, for Unicode, a success), never a 5xx. The list of
operations comes from `openapi/openapi.json`, so a new operation is covered
the day it is documented.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.support.openapi_bodies import (
    Operation,
    body_operations,
    operations,
    sample,
    string_fields,
    with_value,
)
from tests.support.route_objects import FILE, MULTIPART
from tests.support.tickets import make_desk
from tests.support.world import World

# (A password is free text, but write-only: never echoed back.)
NOT_FREE_TEXT = {"email", "uuid", "date-time", "date", "uri", "duration", "time", "password"}
BAD_TIMES = [
    "0000-01-01T00:00:00Z",  # year 0 does not exist
    "10000-01-01T00:00:00Z",  # five-digit year
    "2026-13-45T00:00:00Z",  # month 13, day 45
    "2026-02-30T10:00:00Z",  # 30 February
    "2026-11-23T25:61:00Z",  # hour 25
    "0001-01-01T00:00:00+14:00",  # valid text, but before year 1 once in UTC
    "9999-12-31T23:59:59-14:00",  # valid text, but after year 9999 once in UTC
    "9000-01-01T00:00:00Z",  # a real instant, but beyond what the deadline arithmetic holds
    "not a time",
]
UNICODE = [
    "Señal caída en São Paulo — 北京 ☎",
    "\U0001f4e1\U0001f525 emoji in the summary",
    "\u202eright-to-left override",
    "combining a\u0301e\u0301",
    "\ufeffzero width\u200bspace",
]


def _problem(response: Any) -> bool:
    """An RFC 9457 problem; on the TMF621 and Sonata faces also their own error shapes (their
    specs say so: Sonata's 422 is an array of errors naming `propertyPath`).

    (Refusals made before routing, by the middleware, are problems on every path.)
    """
    if str(response.request.url.path).startswith("/tmf-api/"):
        body = response.json()
        if isinstance(body, dict) and {"code", "reason", "status"} <= set(body):
            return True
    if str(response.request.url.path).startswith("/mefApi/sonata/"):
        body = response.json()
        entries = body if isinstance(body, list) else [body]
        if entries and all(isinstance(e, dict) and {"code", "reason"} <= set(e) for e in entries):
            return True
    return str(response.headers.get("content-type", "")).startswith("application/problem+json")


def _body(op: Operation) -> dict[str, Any]:
    schema = op.body_schema()
    assert schema is not None
    value = sample(schema)
    return value if isinstance(value, dict) else {}


def test_the_document_has_operations_with_bodies() -> None:
    assert len(body_operations()) >= 5


async def test_nul_in_any_text_field_is_refused(world: World) -> None:
    failures = []
    for op in body_operations():
        schema = op.body_schema()
        assert schema is not None
        for field, _ in string_fields(schema):
            body = with_value(_body(op), field, "before\u0000after", schema)
            r = await world.client.request(op.method, op.url(), json=body, headers=world.admin)
            if r.status_code != 422 or not _problem(r):
                failures.append(f"{op.key} {field}: {r.status_code} {r.text[:120]}")
    for op in operations():
        for name, schema in op.query_params():
            if schema.get("type") != "string":
                continue
            r = await world.client.request(
                op.method, op.url(), params={name: "a\x00b"}, headers=world.admin
            )
            if not 400 <= r.status_code < 500:
                failures.append(f"{op.key} ?{name}: {r.status_code} {r.text[:120]}")
    assert not failures, "\n".join(failures)


async def test_huge_deep_malformed_and_mistyped_bodies_are_refused(world: World) -> None:
    failures = []
    cases: list[tuple[str, bytes, str, set[int]]] = [
        ("huge", b'{"x": "' + b"a" * 2_000_000 + b'"}', "application/json", {413}),
        ("deep", b'{"x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "application/json", {400}),
        ("truncated", b'{"x": ', "application/json", {400, 422}),
        ("not utf-8", b'{"x": "\xff\xfe"}', "application/json", {400, 422}),
        ("form", b"x=1", "application/x-www-form-urlencoded", {415}),
        ("text", b"hello", "text/plain", {415}),
        ("xml", b"<x/>", "application/xml", {415}),
    ]
    for op in body_operations():
        for name, content, content_type, expected in cases:
            r = await world.client.request(
                op.method,
                op.url(),
                content=content,
                headers={**world.admin, "content-type": content_type},
            )
            if r.status_code not in expected or not _problem(r):
                failures.append(f"{op.key} {name}: {r.status_code} {r.text[:120]}")
            named = r.json().get("errors") if r.status_code == 422 else None
            if name == "truncated" and isinstance(named, list) and "field" in named[0]:
                # Named as the body that is not JSON, not as the character the decoder reached.
                if named[0]["field"] != "body" or "not valid JSON" not in named[0]["message"]:
                    failures.append(f"{op.key} truncated: {r.text[:160]}")
    assert not failures, "\n".join(failures)


async def test_times_out_of_range_are_422_naming_the_field(world: World) -> None:
    failures = []
    for op in body_operations():
        schema = op.body_schema()
        assert schema is not None
        for field, prop in string_fields(schema):
            if prop.get("format") != "date-time":
                continue
            for bad in BAD_TIMES:
                body = with_value(_body(op), field, bad, schema)
                r = await world.client.request(op.method, op.url(), json=body, headers=world.admin)
                named = r.status_code == 422 and field in r.text
                if not named or not _problem(r):
                    failures.append(f"{op.key} {field}={bad}: {r.status_code} {r.text[:150]}")
    for op in operations():
        for name, prop in op.query_params():
            if prop.get("format") != "date-time":
                continue
            # The other required parameters present, so the time is what is refused.
            required = {
                p["name"]: sample(p.get("schema", {}))
                for p in op.spec.get("parameters", [])
                if p["in"] == "query" and p.get("required") and p["name"] != name
            }
            for bad in BAD_TIMES:
                r = await world.client.request(
                    op.method, op.url(), params={**required, name: bad}, headers=world.admin
                )
                # Refused before the path's (fresh, unknown) id is looked up, naming the
                # parameter: never a 404, a silent 200 or a 5xx. MEF's spec answers a bad
                # query 400 `invalidQuery`, naming it in `reason`.
                sonata = op.path.startswith("/mefApi/sonata/")
                named = name in (r.text if sonata else _fields(r))
                if r.status_code != (400 if sonata else 422) or not _problem(r) or not named:
                    failures.append(f"{op.key} ?{name}={bad}: {r.status_code} {r.text[:150]}")
    assert not failures, "\n".join(failures)


def _fields(response: Any) -> set[str]:
    return {str(e.get("field")) for e in response.json().get("errors", [])}


# Header values no client of ours sends: each is a 422 naming the header, on every operation
# the document says takes it.
BAD_HEADERS: dict[str, list[str | bytes]] = {
    "Idempotency-Key": ["k" * 256, "tab\tkey", b"\xff\xfe-not-ascii", b"cl\xc3\xa9"],
    "If-Match": ["1", "W/1", 'W/"1", garbage', 'W/"' + "1" * 2000 + '"', b'W/"\xff"'],
}


async def test_header_values_out_of_range_are_422_naming_the_header(world: World) -> None:
    failures = []
    checked = set()
    for op in operations():
        schema = op.body_schema()
        body = _body(op) if schema is not None else None
        for param in op.spec.get("parameters", []):
            name = param["name"]
            if param["in"] != "header" or name not in BAD_HEADERS:
                continue
            checked.add(name)
            # A form is sent as a form, so the header is what is refused.
            sent: dict[str, Any] = {"files": FILE} if op.key in MULTIPART else {"json": body}
            # The carriers' faces answer a bad header as their specs answer bad input: 400 in
            # their own error shape, naming it.
            own_face = op.path.startswith(("/tmf-api/", "/mefApi/"))
            for bad in BAD_HEADERS[name]:
                r = await world.client.request(
                    op.method, op.url(), headers={**world.admin, name: bad}, **sent
                )
                named = name in (r.text if own_face else _fields(r))
                if r.status_code != (400 if own_face else 422) or not _problem(r) or not named:
                    failures.append(f"{op.key} {name}={bad!r:.40}: {r.status_code} {r.text[:120]}")
    assert checked == set(BAD_HEADERS)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("text", UNICODE)
async def test_unicode_in_every_text_field_is_kept_or_refused_cleanly(
    world: World, text: str
) -> None:
    failures = []
    for op in body_operations():
        schema = op.body_schema()
        assert schema is not None
        for field, prop in string_fields(schema):
            if prop.get("format") in NOT_FREE_TEXT or "pattern" in prop:
                continue
            value = text[: prop.get("maxLength", len(text))]
            body = with_value(_body(op), field, value, schema)
            r = await world.client.request(op.method, op.url(), json=body, headers=world.admin)
            if r.status_code >= 500:
                failures.append(f"{op.key} {field}: {r.status_code} {r.text[:120]}")
            elif r.status_code >= 400 and not _problem(r):
                failures.append(f"{op.key} {field}: {r.status_code} without a problem body")
            elif (
                r.status_code in (200, 201)
                and value not in r.text.encode().decode("unicode_escape", errors="ignore") + r.text
            ):
                failures.append(f"{op.key} {field}: accepted but not echoed back")
    assert not failures, "\n".join(failures)


async def test_a_dispatch_eta_in_the_year_9000_is_422_naming_eta_and_changes_nothing(
    world: World,
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    for stage in ("registration", "diagnosis"):
        await desk.move(ticket["id"], stage)
    for eta in ("9000-01-01T00:00:00Z", "2999-01-01T00:00:00Z"):
        r = await world.client.post(
            f"/v1/tickets/{ticket['id']}/transitions",
            json={"to": "dispatch", "eta": eta},
            headers=desk.staff,
        )
        assert r.status_code == 422, (eta, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["field"] == "eta"
    after = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=desk.staff)
    assert after.json()["stage"] == "diagnosis"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/reports/sla", "from"),
        ("/v1/reports/sla", "to"),
        ("/v1/tickets", "updated_since"),
    ],
)
async def test_a_query_time_beyond_the_arithmetic_is_422_naming_it(
    world: World, path: str, name: str
) -> None:
    r = await world.client.get(path, params={name: "9000-01-01T00:00:00Z"}, headers=world.admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert name in {e["field"] for e in r.json()["errors"]}


@pytest.mark.parametrize("value", ["9" * 20, "9223372036854775808", "1_000", "-1", "+7"])
async def test_a_last_event_id_out_of_range_is_a_422_before_the_stream_starts(
    world: World, value: str
) -> None:
    # max_seconds: on a stream that did start, the answer still ends.
    r = await world.client.get(
        "/v1/events/stream",
        params={"max_seconds": 1},
        headers={**world.admin, "Last-Event-ID": value},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "Last-Event-ID"


def forged_cursor(*parts: Any) -> str:
    """A cursor of the API's shape carrying what a client chose to put in it."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "parts",
    [
        ("2026-11-23T15:00:00+00:00", "9" * 20),  # an event id beyond bigint
        ("2026-11-23T15:00:00+00:00", "-" + "9" * 20),
        ("2026-11-23T15:00:00", "1"),  # a time without an offset
        ("9999-12-31T23:59:59-14:00", "1"),  # beyond year 9999 in UTC
    ],
)
async def test_a_forged_history_cursor_is_422_naming_cursor(
    world: World, parts: tuple[str, str]
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    for path in (f"/v1/tickets/{ticket['id']}/events", "/v1/enterprises"):
        r = await world.client.get(
            path, params={"cursor": forged_cursor(*parts)}, headers=world.admin
        )
        assert r.status_code == 422, (path, r.text)
        assert r.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    "value",
    [
        "k" * 256,  # longer than any key a client needs
        "tab\tkey",
        b"cl\xc3\xa9",  # UTF-8: not ASCII
        b"\xff\xfe-not-ascii",
    ],
)
async def test_an_idempotency_key_out_of_range_is_422_naming_it_and_creates_nothing(
    world: World, value: str | bytes
) -> None:
    name = "Never Created"
    r = await world.client.post(
        "/v1/enterprises",
        json={"name": name, "country": "EC"},
        headers={**world.admin, "Idempotency-Key": value},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    listed = await world.client.get("/v1/enterprises", headers=world.admin)
    assert name not in listed.text


@pytest.mark.parametrize(
    "value",
    [
        "1",  # a bare version, not an entity tag
        "W/1",
        'W/"1", garbage',
        'W/"' + "1" * 2000 + '"',  # no entity tag of ours is that long
        b'W/"\xff"',
    ],
)
async def test_an_if_match_that_is_not_an_entity_tag_is_422_naming_it_and_changes_nothing(
    world: World, value: str | bytes
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    r = await world.client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"description": "changed"},
        headers={**desk.staff, "If-Match": value},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "If-Match"
    after = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=desk.staff)
    assert after.json()["description"] != "changed"
