"""Planned maintenance (GCR) through the API: window, notice, scoping, events, iCalendar."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar

from app.core.roles import Role
from tests.support.world import World

QUITO = ZoneInfo("America/Guayaquil")
# The test clock: Monday 23 November 2026, 10:00 in Quito.


def q(day: int, hour: int, month: int = 11) -> str:
    return datetime(2026, month, day, hour, 0, tzinfo=QUITO).isoformat()


def gcr(services: list[str], start: str, end: str, **kw: Any) -> dict[str, Any]:
    return {
        "kind": "standard",
        "start": start,
        "end": end,
        "impacted_service_ids": services,
        "reason": "Backbone router software upgrade",
        "expected_impact": "outage",
        **kw,
    }


async def test_standard_work_keeps_to_notice_and_window_and_reaches_only_the_impacted(
    world: World,
) -> None:
    impacted = await world.enterprise("Banco Andino", "EC")
    bystander = await world.enterprise("Minera Andina", "EC")
    service = await world.service(impacted["id"])
    await world.service(bystander["id"])
    manager = await world.staff(Role.change_manager)
    customer = await world.api_client(Role.customer_user, impacted["id"])
    other = await world.api_client(Role.customer_user, bystander["id"])

    two_days = await world.client.post(
        "/v1/maintenances", json=gcr([service["id"]], q(25, 1), q(25, 3)), headers=manager
    )
    assert two_days.status_code == 422
    assert [e["rule"] for e in two_days.json()["errors"]] == ["notice_period"]
    at_two_pm = await world.client.post(
        "/v1/maintenances", json=gcr([service["id"]], q(14, 14, 12), q(14, 16, 12)), headers=manager
    )
    assert at_two_pm.status_code == 422
    assert [e["rule"] for e in at_two_pm.json()["errors"]] == ["maintenance_window"]
    assert "maintenance window" in at_two_pm.json()["detail"]

    accepted = await world.client.post(
        "/v1/maintenances", json=gcr([service["id"]], q(14, 1, 12), q(14, 3, 12)), headers=manager
    )
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["gcr_number"].startswith("GCR-2026-")
    assert body["impacted_enterprise_ids"] == [impacted["id"]]
    assert body["emergency"] is False

    mine = (await world.client.get("/v1/maintenances", headers=customer)).json()["items"]
    assert [m["gcr_number"] for m in mine] == [body["gcr_number"]]
    assert (await world.client.get("/v1/maintenances", headers=other)).json()["items"] == []
    hidden = await world.client.get(f"/v1/maintenances/{body['id']}", headers=other)
    assert hidden.status_code == 404

    feed = await world.client.get("/v1/maintenances.ics", headers=customer)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    assert len(events) == 1
    assert body["gcr_number"] in str(events[0]["SUMMARY"])
    assert str(events[0]["UID"]).startswith(body["gcr_number"])
    assert events[0].decoded("DTSTART") == datetime.fromisoformat(q(14, 1, 12))
    other_feed = await world.client.get("/v1/maintenances.ics", headers=other)
    assert Calendar.from_ical(other_feed.content).walk("VEVENT") == []


async def test_secret_feed_url_shown_on_the_enterprise(world: World) -> None:
    enterprise = await world.enterprise()
    outsider_ent = await world.enterprise("Other Co")
    service = await world.service(enterprise["id"])
    manager = await world.staff(Role.change_manager)
    admin = await world.api_client(Role.customer_admin, enterprise["id"])
    outsider = await world.api_client(Role.customer_admin, outsider_ent["id"])
    created = await world.client.post(
        "/v1/maintenances",
        json=gcr([service["id"]], q(14, 1, 12), q(14, 2, 12), gcr_number="GCR-EC-0042"),
        headers=manager,
    )
    assert created.status_code == 201
    shown = await world.client.get(
        f"/v1/enterprises/{enterprise['id']}/maintenance-feed", headers=admin
    )
    assert shown.status_code == 200
    url = shown.json()["url"]
    assert "/v1/maintenances.ics?feed=" in url
    again = await world.client.get(
        f"/v1/enterprises/{enterprise['id']}/maintenance-feed", headers=admin
    )
    assert again.json()["url"] == url
    foreign = await world.client.get(
        f"/v1/enterprises/{enterprise['id']}/maintenance-feed", headers=outsider
    )
    assert foreign.status_code == 404

    parts = urlsplit(url)
    anonymous = await world.client.get(f"{parts.path}?{parts.query}")
    assert anonymous.status_code == 200
    vevents = Calendar.from_ical(anonymous.content).walk("VEVENT")
    assert [str(e["UID"]) for e in vevents] == ["GCR-EC-0042@carrierdesk"]
    assert "GCR-EC-0042" in str(vevents[0]["SUMMARY"])

    assert (await world.client.get("/v1/maintenances.ics")).status_code == 401
    assert (await world.client.get("/v1/maintenances.ics?feed=nope")).status_code == 401
    rotated = await world.client.post(
        f"/v1/enterprises/{enterprise['id']}/maintenance-feed/rotate", headers=admin
    )
    assert rotated.json()["url"] != url
    assert (await world.client.get(f"{parts.path}?{parts.query}")).status_code == 401


async def test_one_event_per_impacted_enterprise_and_emergency_work_is_marked(
    world: World,
) -> None:
    a = await world.enterprise("Alpha", "EC")
    b = await world.enterprise("Beta", "CO")
    sa = await world.service(a["id"])
    sb = await world.service(b["id"], city="Bogotá", country="CO")
    manager = await world.staff(Role.change_manager)
    customer_a = await world.api_client(Role.customer_admin, a["id"])
    emergency = await world.client.post(
        "/v1/maintenances",
        json=gcr([sa["id"], sb["id"]], q(23, 14), q(23, 16), kind="emergency"),
        headers=manager,
    )
    assert emergency.status_code == 201, emergency.text
    body = emergency.json()
    assert body["emergency"] is True
    assert body["kind"] == "emergency"
    assert sorted(body["impacted_enterprise_ids"]) == sorted([a["id"], b["id"]])

    history = (
        await world.client.get(f"/v1/maintenances/{body['id']}/events", headers=manager)
    ).json()["items"]
    assert sorted(e["enterprise_id"] for e in history) == sorted([a["id"], b["id"]])
    for event in history:
        assert event["type"] == "maintenance.announced"
        assert event["data"]["gcr_number"] == body["gcr_number"]
        assert event["data"]["kind"] == "emergency"
        assert event["data"]["start"]
        assert event["data"]["end"]
    seen_by_a = (
        await world.client.get(f"/v1/maintenances/{body['id']}", headers=customer_a)
    ).json()
    assert seen_by_a["impacted_enterprise_ids"] == [a["id"]]
    assert seen_by_a["impacted_service_ids"] == [sa["id"]]
    a_history = (
        await world.client.get(f"/v1/maintenances/{body['id']}/events", headers=customer_a)
    ).json()["items"]
    assert [e["enterprise_id"] for e in a_history] == [a["id"]]


async def test_update_cancel_and_acknowledge_notify_again(world: World) -> None:
    enterprise = await world.enterprise()
    service = await world.service(enterprise["id"])
    manager = await world.staff(Role.change_manager)
    customer = await world.api_client(Role.customer_user, enterprise["id"])
    created = (
        await world.client.post(
            "/v1/maintenances",
            json=gcr([service["id"]], q(14, 1, 12), q(14, 2, 12)),
            headers=manager,
        )
    ).json()
    path = f"/v1/maintenances/{created['id']}"

    by_customer = await world.client.post(
        "/v1/maintenances", json=gcr([service["id"]], q(14, 1, 12), q(14, 2, 12)), headers=customer
    )
    assert by_customer.status_code == 403
    stale = await world.client.patch(
        path, json={"end": q(14, 4, 12)}, headers={**manager, "If-Match": 'W/"9"'}
    )
    assert stale.status_code == 412
    outside = await world.client.patch(path, json={"end": q(14, 7, 12)}, headers=manager)
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["rule"] == "maintenance_window"
    moved = await world.client.patch(
        path, json={"end": q(14, 4, 12)}, headers={**manager, "If-Match": 'W/"1"'}
    )
    assert moved.status_code == 200, moved.text
    assert moved.headers["ETag"] == 'W/"2"'

    staff_ack = await world.client.post(f"{path}/acknowledge", headers=manager)
    assert staff_ack.status_code == 403
    acked = await world.client.post(f"{path}/acknowledge", headers=customer)
    assert acked.json()["acknowledged_at"] is not None

    cancelled = await world.client.post(
        f"{path}/cancel", json={"reason": "Vendor bug"}, headers=manager
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    twice = await world.client.post(f"{path}/cancel", json={}, headers=manager)
    assert twice.status_code == 409

    types = [
        e["type"]
        for e in (await world.client.get(f"{path}/events", headers=customer)).json()["items"]
    ]
    assert types == [
        "maintenance.announced",
        "maintenance.updated",
        "maintenance.acknowledged",
        "maintenance.cancelled",
    ]
    feed = await world.client.get("/v1/maintenances.ics", headers=customer)
    (vevent,) = Calendar.from_ical(feed.content).walk("VEVENT")
    assert str(vevent["STATUS"]) == "CANCELLED"


async def test_country_rules_are_editable_and_bad_input_is_named(world: World) -> None:
    enterprise = await world.enterprise()
    service = await world.service(enterprise["id"])
    manager = await world.staff(Role.change_manager)
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    default = (await world.client.get("/v1/maintenance-policies/EC", headers=customer)).json()
    assert default == {
        "country": "EC",
        "window_start": "00:00:00",
        "window_end": "06:00:00",
        "notice_days": 10,
    }
    refused = await world.client.put(
        "/v1/maintenance-policies/EC",
        json={"window_start": "22:00", "window_end": "05:00", "notice_days": 3},
        headers=customer,
    )
    assert refused.status_code == 403
    changed = await world.client.put(
        "/v1/maintenance-policies/EC",
        json={"window_start": "22:00", "window_end": "05:00", "notice_days": 3},
        headers=manager,
    )
    assert changed.status_code == 200, changed.text
    late_evening = await world.client.post(
        "/v1/maintenances", json=gcr([service["id"]], q(27, 23), q(28, 2)), headers=manager
    )
    assert late_evening.status_code == 201, late_evening.text

    cases = [
        (gcr([service["id"]], q(14, 2, 12), q(14, 1, 12)), "end"),
        (gcr([], q(14, 1, 12), q(14, 2, 12)), "impacted_service_ids"),
        (gcr([enterprise["id"]], q(14, 1, 12), q(14, 2, 12)), "impacted_service_ids"),
        (gcr([service["id"]], "2026-12-14T01:00:00", q(14, 2, 12)), "start"),
        (gcr([service["id"]], q(14, 1, 12), q(14, 2, 12), kind="urgent"), "kind"),
        (
            gcr([service["id"]], q(14, 1, 12), q(14, 2, 12), expected_impact="none"),
            "expected_impact",
        ),
        (gcr([service["id"]], q(14, 1, 12), q(14, 2, 12), gcr_number="bad number!"), "gcr_number"),
    ]
    for body, field in cases:
        response = await world.client.post("/v1/maintenances", json=body, headers=manager)
        assert response.status_code == 422, (field, response.text)
        fields = {e["field"] for e in response.json()["errors"]}
        assert any(f == field or f.startswith(field) or f == "body" for f in fields), (
            field,
            fields,
        )
    unknown_country = await world.client.get("/v1/maintenance-policies/XX", headers=customer)
    assert unknown_country.status_code == 422
    dup = await world.client.post(
        "/v1/maintenances",
        json=gcr([service["id"]], q(14, 1, 12), q(14, 2, 12), gcr_number="GCR-DUP-1"),
        headers=manager,
    )
    assert dup.status_code == 201
    again = await world.client.post(
        "/v1/maintenances",
        json=gcr([service["id"]], q(15, 1, 12), q(15, 2, 12), gcr_number="GCR-DUP-1"),
        headers=manager,
    )
    assert again.status_code == 409


async def test_times_out_of_range_are_named_not_500(world: World) -> None:
    enterprise = await world.enterprise()
    service = await world.service(enterprise["id"])
    manager = await world.staff(Role.change_manager)
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    agent = await world.staff(Role.billing_agent)
    far = await world.client.post(
        "/v1/maintenances",
        json=gcr([service["id"]], "9999-12-30T01:00:00Z", "9999-12-31T02:00:00Z", kind="emergency"),
        headers=manager,
    )
    assert far.status_code == 422
    assert far.json()["errors"][0]["field"] == "start"
    endless = await world.client.post(
        "/v1/maintenances",
        json=gcr([service["id"]], q(24, 1), "2027-03-01T00:00:00Z", kind="emergency"),
        headers=manager,
    )
    assert endless.status_code == 422
    assert endless.json()["errors"][0]["field"] == "end"
    ancient = await world.client.post(
        "/v1/billing-requests",
        json={
            "enterprise_id": enterprise["id"],
            "type": "inquiry",
            "subject": "x",
            "received_at": "0001-01-01T00:00:00Z",
        },
        headers=agent,
    )
    assert ancient.status_code == 422
    assert ancient.json()["errors"][0]["field"] == "received_at"
    window = await world.client.post(
        "/v1/change-requests",
        json={
            "catalog_item": "vlan",
            "service_ids": [service["id"]],
            "window": {"start": "2099-01-01T00:00:00Z", "end": "2099-01-01T02:00:00Z"},
        },
        headers=customer,
    )
    assert window.status_code == 422
    assert window.json()["errors"][0]["field"] == "window.start"


async def test_changing_the_services_announces_to_newcomers_and_releases_the_others(
    world: World,
) -> None:
    a = await world.enterprise("Alpha")
    b = await world.enterprise("Beta")
    sa = await world.service(a["id"])
    sb = await world.service(b["id"])
    manager = await world.staff(Role.change_manager)
    customer_b = await world.api_client(Role.customer_user, b["id"])
    created = (
        await world.client.post(
            "/v1/maintenances", json=gcr([sa["id"]], q(14, 1, 12), q(14, 2, 12)), headers=manager
        )
    ).json()
    path = f"/v1/maintenances/{created['id']}"
    assert (await world.client.get(path, headers=customer_b)).status_code == 404
    moved = await world.client.patch(
        path, json={"impacted_service_ids": [sb["id"]]}, headers=manager
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["impacted_enterprise_ids"] == [b["id"]]
    assert (await world.client.get(path, headers=customer_b)).status_code == 200
    history = (await world.client.get(f"{path}/events", headers=manager)).json()["items"]
    assert [(e["type"], e["enterprise_id"]) for e in history] == [
        ("maintenance.announced", a["id"]),
        ("maintenance.announced", b["id"]),
        ("maintenance.cancelled", a["id"]),
    ]
