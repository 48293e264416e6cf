"""SLA policies per country and the SLA report."""

from __future__ import annotations

from datetime import timedelta

from app.core.roles import Role
from tests.support.tickets import HANDBOOK_TARGETS, make_desk
from tests.support.world import World


async def test_every_country_starts_with_the_handbook_policy(world: World) -> None:
    for country in ("EC", "br", "US"):
        response = await world.client.get(f"/v1/sla-policies/{country}", headers=world.admin)
        assert response.status_code == 200, response.text
        policy = response.json()
        assert policy["targets"] == HANDBOOK_TARGETS
        assert policy["dispatch"] == {"main": "PT3H", "intermediate": "PT6H", "remote": None}
        assert policy["warning_ratio"] == 0.75
        assert policy["escalation_ratios"] == [1.0, 1.5, 2.0]
    unknown = await world.client.get("/v1/sla-policies/XX", headers=world.admin)
    assert unknown.status_code == 404


def _policy(**targets: str) -> dict[str, object]:
    return {
        "targets": {**HANDBOOK_TARGETS, **targets},
        "dispatch": {"main": "PT2H", "intermediate": "PT6H", "remote": None},
        "warning_ratio": 0.5,
        "escalation_ratios": [1.0, 1.5, 2.0],
    }


async def test_admins_change_a_policy_and_running_clocks_keep_their_target(world: World) -> None:
    desk = await make_desk(world)
    before = await desk.open()
    url = "/v1/sla-policies/EC"
    changed = await world.client.put(url, json=_policy(reception="PT5S"), headers=world.admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["targets"]["reception"] == "PT5S"
    assert changed.json()["dispatch"]["main"] == "PT2H"
    after = await desk.open()
    assert after["sla"][0]["target"] == "PT5S"
    read = await world.client.get(f"/v1/tickets/{before['id']}", headers=desk.customer)
    assert read.json()["sla"][0]["target"] == "PT1M"
    stale = await world.client.put(
        url, json=_policy(), headers={**world.admin, "If-Match": 'W/"1"'}
    )
    assert stale.status_code == 412


async def test_bad_policies_name_the_field_and_change_nothing(world: World) -> None:
    url = "/v1/sla-policies/EC"
    for body, field in [
        (_policy(reception="5 minutes"), "targets.reception"),
        (_policy(closure="P1M"), "targets.closure"),
        ({**_policy(), "warning_ratio": 1.5}, "warning_ratio"),
        ({**_policy(), "escalation_ratios": [1.0, 2.0]}, "escalation_ratios"),
    ]:
        response = await world.client.put(url, json=body, headers=world.admin)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    decreasing = await world.client.put(
        url, json={**_policy(), "escalation_ratios": [1.0, 2.0, 1.5]}, headers=world.admin
    )
    assert decreasing.status_code == 422
    staff = await world.staff(Role.tsc_engineer)
    assert (await world.client.put(url, json=_policy(), headers=staff)).status_code == 403
    read = await world.client.get(url, headers=world.admin)
    assert read.json()["targets"] == HANDBOOK_TARGETS
    assert read.json()["version"] == 1


async def test_the_sla_report_counts_clocks_and_takes_waiting_out_of_impact(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    tid = ticket["id"]
    world.clock.advance(timedelta(minutes=2))  # reception breached (1 min)
    await desk.move(tid, "registration")
    await world.client.post(
        f"/v1/tickets/{tid}/hold", json={"reason": "no access"}, headers=desk.staff
    )
    world.clock.advance(timedelta(minutes=30))
    await world.client.post(f"/v1/tickets/{tid}/resume", headers=desk.staff)
    for stage in ("diagnosis", "verification", "stability"):
        world.clock.advance(timedelta(minutes=1))
        await desk.move(tid, stage)
    world.clock.advance(timedelta(hours=1))
    await desk.move(tid, "closure")
    await desk.move(tid, "closed")
    closed = [e for e in await desk.events(tid) if e["type"] == "ticket.closed"]
    assert closed[0]["data"]["time_of_impact"] == "PT5M"
    response = await world.client.get(
        f"/v1/reports/sla?enterprise_id={desk.enterprise['id']}", headers=desk.customer
    )
    assert response.status_code == 200, response.text
    report = response.json()
    stages = {s["stage"]: s for s in report["stages"]}
    assert stages["reception"] == {
        "stage": "reception", "met": 0, "breached": 1, "running": 0, "share_met": 0.0,
    }  # fmt: skip
    assert stages["registration"]["met"] == 1
    assert stages["stability"]["share_met"] == 1.0
    assert stages["dispatch"]["share_met"] is None
    (impact,) = report["impacts"]
    # reported 15:00, restored (stability) at 15:35, of which 30 min waiting for the customer
    assert impact["waiting_seconds"] == 1800
    assert impact["time_of_impact_seconds"] == 5 * 60
    assert impact["time_of_impact"] == "PT5M"
    assert report["mean_time_to_restore"] == "PT5M"
    other = await world.enterprise("Otra SA", "EC")
    stranger = await world.api_client(Role.customer_admin, other["id"])
    hidden = await world.client.get(
        f"/v1/reports/sla?enterprise_id={desk.enterprise['id']}", headers=stranger
    )
    assert hidden.status_code == 404
    own = await world.client.get("/v1/reports/sla", headers=stranger)
    assert own.json()["impacts"] == []
