"""Orders through the API: the six handbook touchpoints, status, tenancy."""

from __future__ import annotations

from typing import Any

from app.core.handbook import handbook
from app.core.roles import Role
from tests.support.world import World

HANDBOOK_ORDER = [row["key"] for row in handbook()["order_touchpoints"]]


async def _order(world: World, desk: dict[str, str], enterprise_id: str) -> dict[str, Any]:
    response = await world.client.post(
        "/v1/orders",
        json={
            "enterprise_id": enterprise_id,
            "product_line": "Dedicated Internet Access 200 Mbps",
            "description": "New branch",
            "sites": [{"address": "Av. 9 de Octubre 100", "city": "Guayaquil", "country": "ec"}],
            "requested_delivery_date": "2026-12-15",
        },
        headers=desk,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_six_touchpoints_in_handbook_order_and_expected_date_once_recorded(
    world: World,
) -> None:
    enterprise = await world.enterprise()
    desk = await world.staff(Role.customer_care_manager)
    customer = await world.api_client(Role.customer_user, enterprise["id"])
    order = await _order(world, desk, enterprise["id"])
    assert order["status"] == "submitted"
    assert order["number"].startswith("ORD-")
    assert order["customer_care_manager"]["name"] == "test customer_care_manager"
    assert order["sites"][0]["country"] == "EC"

    seen = (await world.client.get(f"/v1/orders/{order['id']}", headers=customer)).json()
    assert [t["key"] for t in seen["touchpoints"]] == HANDBOOK_ORDER
    assert len(seen["touchpoints"]) == 6
    assert all(t["done_at"] is None for t in seen["touchpoints"])
    assert seen["expected_delivery_date"] is None

    path = f"/v1/orders/{order['id']}/touchpoints"
    first = await world.client.post(
        path, json={"key": "technical_details_request", "note": "Need LAN data"}, headers=desk
    )
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "in_progress"
    missing_date = await world.client.post(
        path, json={"key": "expected_delivery_date"}, headers=desk
    )
    assert missing_date.status_code == 422
    assert missing_date.json()["errors"][0]["field"] == "expected_delivery_date"
    dated = await world.client.post(
        path,
        json={"key": "expected_delivery_date", "expected_delivery_date": "2026-12-20"},
        headers=desk,
    )
    assert dated.status_code == 200, dated.text

    seen = (await world.client.get(f"/v1/orders/{order['id']}", headers=customer)).json()
    assert seen["expected_delivery_date"] == "2026-12-20"
    done = {t["key"]: t["done_at"] for t in seen["touchpoints"]}
    assert done["technical_details_request"]
    assert done["expected_delivery_date"]
    assert done["connectivity_notice"] is None

    delivered = await world.client.post(
        path, json={"key": "connectivity_notice", "note": "Service up"}, headers=desk
    )
    assert delivered.json()["status"] == "delivered"
    accepted = await world.client.post(
        f"/v1/orders/{order['id']}/transitions", json={"to": "accepted"}, headers=customer
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"

    events = (await world.client.get(f"/v1/orders/{order['id']}/events", headers=customer)).json()[
        "items"
    ]
    types = [e["type"] for e in events]
    assert types[0] == "order.created"
    assert types.count("order.touchpoint_recorded") == 3
    assert types[-1] == "order.status_changed"
    dated_event = next(e for e in events if e["data"].get("key") == "expected_delivery_date")
    assert dated_event["data"]["expected_delivery_date"] == "2026-12-20"


async def test_unknown_touchpoint_is_422_and_customers_may_not_record_one(world: World) -> None:
    enterprise = await world.enterprise()
    desk = await world.staff(Role.customer_care_manager)
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    order = await _order(world, desk, enterprise["id"])
    path = f"/v1/orders/{order['id']}/touchpoints"
    unknown = await world.client.post(path, json={"key": "site_survey"}, headers=desk)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "key"
    by_customer = await world.client.post(
        path, json={"key": "installation_reminder"}, headers=customer
    )
    assert by_customer.status_code == 403
    untouched = (await world.client.get(f"/v1/orders/{order['id']}", headers=customer)).json()
    assert untouched["version"] == 1
    assert all(t["done_at"] is None for t in untouched["touchpoints"])


async def test_only_the_order_desk_creates_and_tenants_are_isolated(world: World) -> None:
    enterprise = await world.enterprise()
    other = await world.enterprise("Other Co")
    desk = await world.staff(Role.customer_care_manager)
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    outsider = await world.api_client(Role.customer_admin, other["id"])
    refused = await world.client.post(
        "/v1/orders",
        json={
            "enterprise_id": enterprise["id"],
            "product_line": "x",
            "sites": [{"address": "a", "city": "Quito", "country": "EC"}],
        },
        headers=customer,
    )
    assert refused.status_code == 403
    bad = await world.client.post(
        "/v1/orders",
        json={"enterprise_id": enterprise["id"], "product_line": "x", "sites": []},
        headers=desk,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "sites"
    order = await _order(world, desk, enterprise["id"])
    assert (
        await world.client.get(f"/v1/orders/{order['id']}", headers=outsider)
    ).status_code == 404
    assert (await world.client.get("/v1/orders", headers=outsider)).json()["items"] == []
    mine = (await world.client.get("/v1/orders", headers=customer)).json()["items"]
    assert [o["id"] for o in mine] == [order["id"]]


async def test_status_rules_and_if_match(world: World) -> None:
    enterprise = await world.enterprise()
    desk = await world.staff(Role.customer_care_manager)
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    order = await _order(world, desk, enterprise["id"])
    path = f"/v1/orders/{order['id']}/transitions"
    early = await world.client.post(path, json={"to": "accepted"}, headers=customer)
    assert early.status_code == 409
    customer_cancel = await world.client.post(path, json={"to": "cancelled"}, headers=customer)
    assert customer_cancel.status_code == 403
    stale = await world.client.post(
        path, json={"to": "in_progress"}, headers={**desk, "If-Match": 'W/"7"'}
    )
    assert stale.status_code == 412
    cancelled = await world.client.post(
        path, json={"to": "cancelled"}, headers={**desk, "If-Match": 'W/"1"'}
    )
    assert cancelled.status_code == 200
    assert cancelled.headers["ETag"] == 'W/"2"'
    late = await world.client.post(
        f"/v1/orders/{order['id']}/touchpoints", json={"key": "activation_planning"}, headers=desk
    )
    assert late.status_code == 409
