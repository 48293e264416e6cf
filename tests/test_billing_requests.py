"""Billing requests through the API: deadlines in business time, invoice cycle, routing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.core.roles import Role
from tests.support.world import World

QUITO = ZoneInfo("America/Guayaquil")
FRIDAY_17_QUITO = datetime(2026, 10, 30, 17, 0, tzinfo=QUITO)


async def _file(world: World, headers: dict[str, str], **body: object) -> dict[str, object]:
    payload = {"type": "inquiry", "subject": "Invoice question", "channel": "email", **body}
    response = await world.client.post("/v1/billing-requests", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


async def test_email_received_friday_evening_in_quito_is_due_thursday_after_the_holidays(
    world: World,
) -> None:
    world.clock.set(datetime(2026, 11, 2, 10, 0, tzinfo=UTC))
    enterprise = await world.enterprise("Banco Andino", "EC")
    agent = await world.staff(Role.billing_agent)
    body = await _file(
        world,
        agent,
        enterprise_id=enterprise["id"],
        received_at=FRIDAY_17_QUITO.isoformat(),
    )
    due = datetime.fromisoformat(str(body["ack_due_at"])).astimezone(QUITO)
    # 2 and 3 November are holidays in Ecuador: Wed 4 and Thu 5 count, 9 hours a day.
    assert due == datetime(2026, 11, 5, 17, 0, tzinfo=QUITO)
    assert body["status"] == "received"
    assert body["effective_invoice"] is None


async def test_tax_id_change_asked_on_the_20th_applies_to_the_invoice_after_next(
    world: World,
) -> None:
    world.clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    enterprise = await world.enterprise("Banco Andino", "EC")
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    body = await _file(world, customer, type="billing_data_change", subject="New tax ID")
    assert body["effective_invoice"] == "2027-01"
    assert body["enterprise_id"] == enterprise["id"]


async def test_change_asked_on_the_15th_takes_the_next_invoice(world: World) -> None:
    world.clock.set(datetime(2026, 12, 15, 23, 0, tzinfo=UTC))  # 18:00 in Quito, the 15th
    enterprise = await world.enterprise("Banco Andino", "EC")
    customer = await world.api_client(Role.customer_user, enterprise["id"])
    body = await _file(world, customer, type="billing_data_change", subject="New address")
    assert body["effective_invoice"] == "2027-01"


async def test_po_number_request_from_brazil_routes_to_the_brazilian_mailbox(
    world: World,
) -> None:
    brazil = await world.enterprise("Varejo SA", "BR")
    peru = await world.enterprise("Minera Andina", "PE")
    agent = await world.staff(Role.billing_agent)
    br = await _file(
        world, agent, enterprise_id=brazil["id"], type="invoice_reference", subject="PO 4500"
    )
    pe = await _file(
        world, agent, enterprise_id=peru["id"], type="invoice_reference", subject="HES 77"
    )
    assert br["route_to"] == "BRA-billing@lumen.com"
    assert pe["route_to"] == "Pre-Requisitos_LATAM@lumen.com"
    assert br["effective_invoice"] is not None


async def test_customers_may_not_backdate_and_carriers_may_not_file(world: World) -> None:
    enterprise = await world.enterprise()
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    carrier = await world.api_client(Role.carrier, enterprise["id"])
    backdated = await world.client.post(
        "/v1/billing-requests",
        json={"type": "inquiry", "subject": "x", "received_at": "2026-11-01T10:00:00Z"},
        headers=customer,
    )
    assert backdated.status_code == 403
    by_carrier = await world.client.post(
        "/v1/billing-requests", json={"type": "inquiry", "subject": "x"}, headers=carrier
    )
    assert by_carrier.status_code == 403
    listed = await world.client.get("/v1/billing-requests", headers=customer)
    assert listed.json()["items"] == []


async def test_bad_input_names_the_field(world: World) -> None:
    enterprise = await world.enterprise()
    agent = await world.staff(Role.billing_agent)
    cases = [
        ({"type": "refund", "subject": "x"}, "type"),
        ({"type": "inquiry", "subject": "x", "channel": "fax"}, "channel"),
        ({"type": "inquiry", "subject": ""}, "subject"),
        ({"type": "inquiry", "subject": "x", "received_at": "2026-11-30T10:00:00"}, "received_at"),
        ({"type": "inquiry", "subject": "x", "received_at": "2099-01-01T10:00:00Z"}, "received_at"),
        ({"type": "inquiry", "subject": "x", "account_id": enterprise["id"]}, "account_id"),
    ]
    for body, field in cases:
        response = await world.client.post(
            "/v1/billing-requests",
            json={"enterprise_id": enterprise["id"], **body},
            headers=agent,
        )
        assert response.status_code == 422, (body, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}, response.text
    listed = await world.client.get("/v1/billing-requests", headers=agent)
    assert listed.json()["items"] == []


async def test_lifecycle_and_resolution_with_a_decimal_credit(world: World) -> None:
    enterprise = await world.enterprise()
    other = await world.enterprise("Other Co")
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    outsider = await world.api_client(Role.customer_admin, other["id"])
    agent = await world.staff(Role.billing_agent)
    body = await _file(world, customer, type="dispute", subject="Double charge")
    path = f"/v1/billing-requests/{body['id']}"

    assert (await world.client.get(path, headers=outsider)).status_code == 404
    refused = await world.client.post(
        f"{path}/resolve", json={"outcome": "accepted"}, headers=customer
    )
    assert refused.status_code == 403
    skipped = await world.client.post(
        f"{path}/transitions", json={"to": "in_review"}, headers=agent
    )
    assert skipped.status_code == 409

    read = await world.client.get(path, headers=customer)
    etag = read.headers["ETag"]
    acked = await world.client.post(
        f"{path}/transitions", json={"to": "acknowledged"}, headers={**agent, "If-Match": etag}
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledged_at"] is not None
    stale = await world.client.post(
        f"{path}/transitions", json={"to": "in_review"}, headers={**agent, "If-Match": etag}
    )
    assert stale.status_code == 412
    await world.client.post(f"{path}/transitions", json={"to": "in_review"}, headers=agent)

    as_float = await world.client.post(
        f"{path}/resolve",
        json={"outcome": "accepted", "credit": {"amount": 150.25, "currency": "USD"}},
        headers=agent,
    )
    assert as_float.status_code == 422
    assert "credit.amount" in {e["field"] for e in as_float.json()["errors"]}
    bad_currency = await world.client.post(
        f"{path}/resolve",
        json={"outcome": "accepted", "credit": {"amount": "150.25", "currency": "XYZ"}},
        headers=agent,
    )
    assert bad_currency.status_code == 422
    assert "credit.currency" in {e["field"] for e in bad_currency.json()["errors"]}
    credit_on_reject = await world.client.post(
        f"{path}/resolve",
        json={"outcome": "rejected", "credit": {"amount": "1", "currency": "USD"}},
        headers=agent,
    )
    assert credit_on_reject.status_code == 422

    resolved = await world.client.post(
        f"{path}/resolve",
        json={"outcome": "accepted", "credit": {"amount": "150.25", "currency": "USD"}},
        headers=agent,
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["credit"] == {"amount": "150.25", "currency": "USD"}
    again = await world.client.post(f"{path}/resolve", json={"outcome": "accepted"}, headers=agent)
    assert again.status_code == 409

    events = (await world.client.get(f"{path}/events", headers=customer)).json()["items"]
    assert [e["type"] for e in events] == [
        "billing.received",
        "billing.acknowledged",
        "billing.in_review",
        "billing.resolved",
        "billing.credit_issued",
    ]
    assert all(e["enterprise_id"] == enterprise["id"] for e in events)


async def test_idempotent_creation_and_keyset_listing(world: World) -> None:
    enterprise = await world.enterprise()
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    headers = {**customer, "Idempotency-Key": "bill-1"}
    payload = {"type": "balance", "subject": "Balance please"}
    first = await world.client.post("/v1/billing-requests", json=payload, headers=headers)
    second = await world.client.post("/v1/billing-requests", json=payload, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    await _file(world, customer, type="payment", subject="Paid")
    page = (await world.client.get("/v1/billing-requests?limit=1", headers=customer)).json()
    assert len(page["items"]) == 1
    assert page["next_cursor"]
    rest = (
        await world.client.get(
            f"/v1/billing-requests?limit=1&cursor={page['next_cursor']}", headers=customer
        )
    ).json()
    assert len(rest["items"]) == 1
    assert rest["items"][0]["id"] != page["items"][0]["id"]
