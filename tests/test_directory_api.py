"""The contact directory and escalation matrices, as a caller sees them through the API."""

from __future__ import annotations

from typing import Any

from app.core.roles import Role
from tests.support.world import World


def numbers(items: list[dict[str, Any]]) -> set[str | None]:
    found: set[str | None] = set()
    for item in items:
        if item["toll_free"]:
            found.add(item["toll_free"]["e164"])
        found.update(n["e164"] for n in item["local"])
    return found


async def test_venezuela_managed_voice_gets_its_own_line_not_the_data_line(world: World) -> None:
    acme = await world.enterprise("Acme VE", "VE")
    noc = await world.api_client(Role.customer_user, acme["id"])
    response = await world.client.get(
        "/v1/directory/lines",
        params={"country": "VE", "purpose": "technical_support", "service": "managed_voice"},
        headers=noc,
    )
    assert response.status_code == 200
    lines = response.json()["items"]
    assert numbers(lines) == {"+582122049306"}
    assert "+582122049378" not in numbers(lines)  # the data line
    assert lines[0]["local"][0]["display"] == "+58-212-204-9306"
    assert lines[0]["country"] == "VE"

    data = await world.client.get(
        "/v1/directory/lines",
        params={"country": "VE", "purpose": "technical_support", "service": "data"},
        headers=noc,
    )
    assert "+582122049378" in numbers(data.json()["items"])
    assert "+582122049306" not in numbers(data.json()["items"])


async def test_billing_and_support_lines_come_back_apart_for_every_country(world: World) -> None:
    for country in ("AR", "BR", "CL", "CO", "CR", "EC", "MX", "PA", "PE", "US", "VE"):
        billing = await world.client.get(
            "/v1/directory/lines",
            params={"country": country, "purpose": "billing"},
            headers=world.admin,
        )
        support = await world.client.get(
            "/v1/directory/lines",
            params={"country": country, "purpose": "technical_support"},
            headers=world.admin,
        )
        assert billing.status_code == support.status_code == 200
        assert billing.json()["items"], country
        assert support.json()["items"], country
        assert {i["purpose"] for i in billing.json()["items"]} == {"billing"}
        assert {i["purpose"] for i in support.json()["items"]} == {"technical_support"}
        assert {i["country"] for i in billing.json()["items"] + support.json()["items"]} == {
            country
        }
    argentina = await world.client.get(
        "/v1/directory/lines", params={"country": "AR", "purpose": "billing"}, headers=world.admin
    )
    assert argentina.json()["items"][0]["toll_free"]["e164"] == "+548008005853"


async def test_a_shared_line_answers_for_each_of_its_countries(world: World) -> None:
    for country in ("CR", "PA", "US"):
        response = await world.client.get(
            "/v1/directory/lines",
            params={"country": country, "purpose": "technical_support", "service": "voice"},
            headers=world.admin,
        )
        assert "+18004677288" in numbers(response.json()["items"])
        assert {i["country"] for i in response.json()["items"]} == {country}


async def test_mexican_01_800_keeps_its_display_and_gives_the_number_dialled_today(
    world: World,
) -> None:
    response = await world.client.get(
        "/v1/directory/lines", params={"country": "MX", "purpose": "billing"}, headers=world.admin
    )
    toll_free = response.json()["items"][0]["toll_free"]
    assert toll_free == {"display": "01-800-999-1422", "e164": "+528009991422"}


async def test_ecuador_has_sales_and_after_hours_lines(world: World) -> None:
    sales = await world.client.get(
        "/v1/directory/lines", params={"country": "EC", "purpose": "sales"}, headers=world.admin
    )
    assert sales.json()["items"][0]["extension"] == "option 2"
    after = await world.client.get(
        "/v1/directory/lines",
        params={"country": "EC", "purpose": "after_hours"},
        headers=world.admin,
    )
    assert numbers(after.json()["items"]) == {"+59324005124"}


async def test_directory_bad_input_names_the_field(world: World) -> None:
    for params, field in (
        ({"country": "XX"}, "country"),
        ({"country": "EC", "purpose": "gossip"}, "purpose"),
        ({"country": "EC", "service": "teleportation"}, "service"),
    ):
        response = await world.client.get("/v1/directory/lines", params=params, headers=world.admin)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert field in {e["field"] for e in response.json()["errors"]}
    assert (await world.client.get("/v1/directory/lines")).status_code == 401


async def test_offices_portals_and_billing_mailboxes(world: World) -> None:
    offices = await world.client.get(
        "/v1/directory/offices", params={"country": "BR"}, headers=world.admin
    )
    assert {o["phone"]["e164"] for o in offices.json()["items"]} == {
        "+551139572200",
        "+551139571900",
    }
    portals = await world.client.get(
        "/v1/directory/portals", params={"country": "US"}, headers=world.admin
    )
    us = portals.json()["items"][0]
    assert us["portals"] == ["customer_portal", "control_center"]
    assert "English" in us["note"]
    mexico = await world.client.get(
        "/v1/directory/portals", params={"country": "MX"}, headers=world.admin
    )
    assert mexico.json()["items"][0]["portals"] == ["control_center"]
    mailboxes = await world.client.get("/v1/directory/billing-mailboxes", headers=world.admin)
    by_country = {m["country"]: m["mailbox"] for m in mailboxes.json()["items"]}
    assert by_country["BR"] == "BRA-billing@lumen.com"
    assert by_country["VE"] == "Ven-grp-facturacion@lumen.com"
    assert by_country["EC"] == "Pre-Requisitos_LATAM@lumen.com"


async def test_ecuador_escalation_matrix_has_three_levels_and_an_after_hours_line(
    world: World,
) -> None:
    response = await world.client.get(
        "/v1/directory/escalation", params={"country": "EC"}, headers=world.admin
    )
    assert response.status_code == 200
    body = response.json()
    assert [lv["level"] for lv in body["levels"]] == [1, 2, 3]
    assert body["levels"][0]["phones"][0] == {"display": "+593-2-400-5179", "e164": "+59324005179"}
    assert body["after_hours"]["e164"] == "+59324005124"
    assert body["fallback"] is False


async def test_a_country_without_a_matrix_falls_back_to_its_tsc_lines(world: World) -> None:
    response = await world.client.get(
        "/v1/directory/escalation", params={"country": "CL"}, headers=world.admin
    )
    body = response.json()
    assert body["levels"] == []
    assert body["fallback"] is True
    assert "+56224225803" in numbers(body["fallback_lines"])


async def test_provider_admin_edits_a_matrix_and_others_may_not(world: World) -> None:
    matrix = {
        "levels": [
            {"level": 1, "role": "TSC supervisor", "phones": ["+56-22-422-5803"]},
            {"level": 2, "role": "Operations manager", "phones": ["+56-2-2422-5900"]},
        ],
        "after_hours": "+56-22-422-5803",
    }
    engineer = await world.staff(Role.tsc_engineer)
    refused = await world.client.put("/v1/directory/escalation/CL", json=matrix, headers=engineer)
    assert refused.status_code == 403

    bad = {**matrix, "after_hours": "12"}
    invalid = await world.client.put("/v1/directory/escalation/CL", json=bad, headers=world.admin)
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "after_hours"

    saved = await world.client.put("/v1/directory/escalation/CL", json=matrix, headers=world.admin)
    assert saved.status_code == 200
    etag = saved.headers["ETag"]
    read = await world.client.get(
        "/v1/directory/escalation", params={"country": "CL"}, headers=engineer
    )
    assert [lv["role"] for lv in read.json()["levels"]] == ["TSC supervisor", "Operations manager"]
    assert read.json()["fallback"] is False

    matrix["levels"] = matrix["levels"][:1]
    stale = await world.client.put(
        "/v1/directory/escalation/CL", json=matrix, headers={**world.admin, "If-Match": 'W/"0"'}
    )
    assert stale.status_code == 412
    updated = await world.client.put(
        "/v1/directory/escalation/CL", json=matrix, headers={**world.admin, "If-Match": etag}
    )
    assert len(updated.json()["levels"]) == 1

    unknown = await world.client.put(
        "/v1/directory/escalation/XX", json=matrix, headers=world.admin
    )
    assert unknown.status_code == 404

    gaps = {"levels": [{"level": 2, "role": "x", "phones": ["+56-22-422-5803"]}]}
    assert (
        await world.client.put("/v1/directory/escalation/CL", json=gaps, headers=world.admin)
    ).status_code == 422


async def test_emptying_a_matrix_falls_back_to_the_tsc_lines(world: World) -> None:
    emptied = await world.client.put(
        "/v1/directory/escalation/EC",
        json={"levels": [], "after_hours": "+593-2-400-5124"},
        headers=world.admin,
    )
    assert emptied.status_code == 200
    body = emptied.json()
    assert body["fallback"] is True
    assert body["after_hours"]["e164"] == "+59324005124"
    assert "+59324005080" in numbers(body["fallback_lines"])
