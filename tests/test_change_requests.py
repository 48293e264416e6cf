"""Change requests through the API: the catalogue, the 10-service cap, referral, scheduling."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.core.roles import Role
from tests.support.world import World

QUITO = ZoneInfo("America/Guayaquil")


def q(day: int, hour: int, month: int = 11) -> str:
    return datetime(2026, month, day, hour, 0, tzinfo=QUITO).isoformat()


async def _services(world: World, enterprise_id: str, n: int, **kw: Any) -> list[str]:
    return [(await world.service(enterprise_id, **kw))["id"] for _ in range(n)]


async def test_catalogue_lists_the_standard_changes(world: World) -> None:
    customer = await world.api_client(Role.customer_user, (await world.enterprise())["id"])
    items = (await world.client.get("/v1/change-catalog", headers=customer)).json()["items"]
    keys = {i["key"] for i in items}
    assert {"bandwidth", "ip_addressing", "routing", "qos_profile", "vlan"} <= keys
    assert any("satellite" in i["products"] for i in items)


async def test_standard_change_on_11_services_is_refused_and_on_10_accepted(
    world: World,
) -> None:
    enterprise = await world.enterprise()
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    services = await _services(world, enterprise["id"], 11)
    body = {"catalog_item": "bandwidth", "description": "Upgrade to 500 Mbps"}
    eleven = await world.client.post(
        "/v1/change-requests", json={**body, "service_ids": services}, headers=customer
    )
    assert eleven.status_code == 422
    assert "service_ids" in {e["field"] for e in eleven.json()["errors"]}
    assert (await world.client.get("/v1/change-requests", headers=customer)).json()["items"] == []

    ten = await world.client.post(
        "/v1/change-requests", json={**body, "service_ids": services[:10]}, headers=customer
    )
    assert ten.status_code == 201, ten.text
    change = ten.json()
    assert change["standard"] is True
    assert change["status"] == "received"
    # Received Monday 23 Nov 10:00 Quito; 72 business hours later is Thursday 10:00.
    due = datetime.fromisoformat(change["analysis_due_at"]).astimezone(QUITO)
    assert due == datetime(2026, 11, 26, 10, 0, tzinfo=QUITO)
    events = (
        await world.client.get(f"/v1/change-requests/{change['id']}/events", headers=customer)
    ).json()["items"]
    assert [e["type"] for e in events] == ["change.received"]


async def test_services_of_another_enterprise_are_refused(world: World) -> None:
    enterprise = await world.enterprise()
    other = await world.enterprise("Other Co")
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    manager = await world.staff(Role.change_manager)
    mine = await _services(world, enterprise["id"], 1)
    theirs = await _services(world, other["id"], 1)
    body = {"catalog_item": "vlan", "service_ids": [*mine, *theirs]}
    by_customer = await world.client.post("/v1/change-requests", json=body, headers=customer)
    assert by_customer.status_code == 404
    by_staff = await world.client.post(
        "/v1/change-requests",
        json={**body, "enterprise_id": enterprise["id"]},
        headers=manager,
    )
    assert by_staff.status_code == 422
    assert by_staff.json()["errors"][0]["field"] == "service_ids"
    unfit = await world.client.post(
        "/v1/change-requests",
        json={"catalog_item": "satellite_modcod", "service_ids": mine},
        headers=customer,
    )
    assert unfit.status_code == 422
    assert unfit.json()["errors"][0]["field"] == "catalog_item"
    unknown = await world.client.post(
        "/v1/change-requests",
        json={"catalog_item": "teleport", "service_ids": mine},
        headers=customer,
    )
    assert unknown.status_code == 422


async def test_change_outside_the_catalogue_is_referred_to_the_account_team(
    world: World,
) -> None:
    enterprise = await world.enterprise()
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    data = await _services(world, enterprise["id"], 1)
    managed = await _services(world, enterprise["id"], 1, product_line="managed")
    referred = await world.client.post(
        "/v1/change-requests",
        json={"catalog_item": None, "service_ids": data, "description": "Move the rack"},
        headers=customer,
    )
    assert referred.status_code == 201, referred.text
    body = referred.json()
    assert body["status"] == "referred"
    assert body["standard"] is False
    assert body["analysis_due_at"] is None
    assert body["routed_to"]["role"] == "account_manager"

    team = await world.client.put(
        f"/v1/enterprises/{enterprise['id']}/account-team",
        json={
            "members": [
                {"role": "service_manager", "name": "Service Desk EC", "email": "sm-ec@example.com"}
            ]
        },
        headers=world.admin,
    )
    assert team.status_code == 200, team.text
    to_sm = await world.client.post(
        "/v1/change-requests", json={"service_ids": managed}, headers=customer
    )
    assert to_sm.json()["routed_to"] == {
        "role": "service_manager",
        "name": "Service Desk EC",
        "email": "sm-ec@example.com",
    }
    events = (
        await world.client.get(f"/v1/change-requests/{body['id']}/events", headers=customer)
    ).json()["items"]
    assert [e["type"] for e in events] == ["change.received", "change.referred"]


async def test_execution_in_business_hours_or_in_the_customers_window(world: World) -> None:
    enterprise = await world.enterprise()
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    manager = await world.staff(Role.change_manager)
    services = await _services(world, enterprise["id"], 2)

    plain = await world.client.post(
        "/v1/change-requests",
        json={"catalog_item": "routing", "service_ids": services},
        headers=customer,
    )
    path = f"/v1/change-requests/{plain.json()['id']}/schedule"
    night = await world.client.post(
        path, json={"start": q(24, 22), "end": q(24, 23)}, headers=manager
    )
    assert night.status_code == 422
    assert night.json()["errors"][0]["field"] == "start"
    by_customer = await world.client.post(
        path, json={"start": q(24, 10), "end": q(24, 12)}, headers=customer
    )
    assert by_customer.status_code == 403
    office = await world.client.post(
        path, json={"start": q(24, 10), "end": q(24, 12)}, headers=manager
    )
    assert office.status_code == 200, office.text
    assert office.json()["status"] == "scheduled"

    windowed = await world.client.post(
        "/v1/change-requests",
        json={
            "catalog_item": "qos_profile",
            "service_ids": services,
            "window": {"start": q(28, 22), "end": q(29, 4)},
        },
        headers=customer,
    )
    assert windowed.status_code == 201, windowed.text
    path = f"/v1/change-requests/{windowed.json()['id']}/schedule"
    outside = await world.client.post(
        path, json={"start": q(29, 3), "end": q(29, 5)}, headers=manager
    )
    assert outside.status_code == 422
    inside = await world.client.post(
        path, json={"start": q(28, 23), "end": q(29, 1)}, headers=manager
    )
    assert inside.status_code == 200, inside.text
    assert inside.json()["scheduled"]["start"].startswith("2026-11-29T04:00")

    bad_window = await world.client.post(
        "/v1/change-requests",
        json={
            "catalog_item": "vlan",
            "service_ids": services,
            "window": {"start": q(28, 22), "end": q(28, 21)},
        },
        headers=customer,
    )
    assert bad_window.status_code == 422
    assert bad_window.json()["errors"][0]["field"] == "window.end"
