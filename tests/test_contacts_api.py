"""Notification contacts and account teams, kept by the people the handbooks name."""

from __future__ import annotations

from app.core.roles import Role
from tests.support.world import World

NOC = {"name": "NOC desk", "email": "noc@acme.example", "events": ["ticket.*", "maintenance.*"]}


async def test_customer_admin_keeps_contacts_with_a_language_by_country(world: World) -> None:
    acme = await world.enterprise("Acme BR", "BR")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    base = f"/v1/enterprises/{acme['id']}/contacts"

    created = await world.client.post(
        base, json={**NOC, "phone": "+55 11 3957-2288"}, headers=admin
    )
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["language"] == "pt"
    assert contact["phone"] == {"display": "+55 11 3957-2288", "e164": "+551139572288"}

    english = await world.client.post(
        base,
        json={
            "name": "CFO",
            "email": "cfo@acme.example",
            "language": "en",
            "events": ["billing.*"],
        },
        headers=admin,
    )
    assert english.json()["language"] == "en"

    listed = await world.client.get(base, headers=admin)
    assert {c["name"] for c in listed.json()["items"]} == {"NOC desk", "CFO"}

    one = await world.client.get(f"{base}/{contact['id']}", headers=admin)
    patched = await world.client.patch(
        f"{base}/{contact['id']}",
        json={"events": ["ticket.*"], "language": "es"},
        headers={**admin, "If-Match": one.headers["ETag"]},
    )
    assert patched.status_code == 200
    assert patched.json()["events"] == ["ticket.*"]
    assert patched.json()["language"] == "es"
    stale = await world.client.patch(
        f"{base}/{contact['id']}",
        json={"name": "NOC"},
        headers={**admin, "If-Match": one.headers["ETag"]},
    )
    assert stale.status_code == 412

    deleted = await world.client.delete(f"{base}/{contact['id']}", headers=admin)
    assert deleted.status_code == 204
    assert (await world.client.get(f"{base}/{contact['id']}", headers=admin)).status_code == 404


async def test_language_defaults_us_english_and_else_spanish(world: World) -> None:
    for country, language in (("US", "en"), ("EC", "es"), ("PE", "es")):
        enterprise = await world.enterprise(f"Acme {country}", country)
        response = await world.client.post(
            f"/v1/enterprises/{enterprise['id']}/contacts", json=NOC, headers=world.admin
        )
        assert response.json()["language"] == language


async def test_bad_contacts_are_refused_naming_the_field(world: World) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    base = f"/v1/enterprises/{acme['id']}/contacts"
    cases = [
        ({**NOC, "email": "not-an-email"}, "email"),
        ({**NOC, "phone": "12345"}, "phone"),
        ({**NOC, "phone": "+1-305-808-60"}, "phone"),
        ({**NOC, "language": "fr"}, "language"),
        ({**NOC, "events": ["tickets.*"]}, "events"),
        ({**NOC, "events": []}, "events"),
        ({**NOC, "colour": "blue"}, "colour"),
    ]
    for body, field in cases:
        response = await world.client.post(base, json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert any(e["field"].startswith(field) for e in response.json()["errors"]), response.text
    assert (await world.client.get(base, headers=admin)).json()["items"] == []

    created = (await world.client.post(base, json=NOC, headers=admin)).json()
    for body, field in (({"phone": "123"}, "phone"), ({"events": ["nothing.*"]}, "events")):
        response = await world.client.patch(f"{base}/{created['id']}", json=body, headers=admin)
        assert response.status_code == 422
        assert any(e["field"].startswith(field) for e in response.json()["errors"])
    null_name = await world.client.patch(
        f"{base}/{created['id']}", json={"name": None}, headers=admin
    )
    assert null_name.status_code == 422


async def test_another_enterprises_contacts_are_not_found(world: World) -> None:
    acme = await world.enterprise("Acme", "EC")
    other = await world.enterprise("Other", "PE")
    acme_admin = await world.api_client(Role.customer_admin, acme["id"])
    theirs = (
        await world.client.post(
            f"/v1/enterprises/{other['id']}/contacts", json=NOC, headers=world.admin
        )
    ).json()
    base = f"/v1/enterprises/{other['id']}/contacts"
    assert (await world.client.post(base, json=NOC, headers=acme_admin)).status_code == 404
    assert (await world.client.get(base, headers=acme_admin)).status_code == 404
    item = f"{base}/{theirs['id']}"
    assert (await world.client.get(item, headers=acme_admin)).status_code == 404
    assert (
        await world.client.patch(item, json={"name": "x"}, headers=acme_admin)
    ).status_code == 404
    assert (await world.client.delete(item, headers=acme_admin)).status_code == 404
    # Through its own enterprise's path, the foreign contact does not exist either.
    own = f"/v1/enterprises/{acme['id']}/contacts/{theirs['id']}"
    assert (await world.client.delete(own, headers=acme_admin)).status_code == 404
    assert (await world.client.get(item, headers=world.admin)).status_code == 200


async def test_customer_users_read_contacts_and_carriers_do_not(world: World) -> None:
    acme = await world.enterprise("Acme", "EC")
    user = await world.api_client(Role.customer_user, acme["id"])
    carrier = await world.api_client(Role.carrier, acme["id"])
    base = f"/v1/enterprises/{acme['id']}/contacts"
    assert (await world.client.get(base, headers=user)).status_code == 200
    assert (await world.client.post(base, json=NOC, headers=user)).status_code == 403
    assert (await world.client.get(base, headers=carrier)).status_code == 403
    team = f"/v1/enterprises/{acme['id']}/account-team"
    assert (await world.client.get(team, headers=carrier)).status_code == 403


async def test_provider_staff_set_the_account_team_and_the_enterprise_reads_it(
    world: World,
) -> None:
    acme = await world.enterprise("Acme", "CO")
    other = await world.enterprise("Other", "CO")
    user = await world.api_client(Role.customer_user, acme["id"])
    ccm = await world.staff(Role.customer_care_manager)
    team = {
        "members": [
            {"role": "account_manager", "name": "Account Manager", "email": "am@carrier.example"},
            {
                "role": "sales_engineer",
                "product_area": "data",
                "name": "Data SE",
                "email": "se.data@carrier.example",
            },
            {
                "role": "sales_engineer",
                "product_area": "voice",
                "name": "Voice SE",
                "email": "se.voice@carrier.example",
                "phone": "+57-601-611-9000",
            },
            {"role": "service_manager", "name": "SM", "email": "sm@carrier.example"},
        ]
    }
    path = f"/v1/enterprises/{acme['id']}/account-team"
    assert (await world.client.put(path, json=team, headers=user)).status_code == 403
    saved = await world.client.put(path, json=team, headers=ccm)
    assert saved.status_code == 200, saved.text
    read = await world.client.get(path, headers=user)
    members = read.json()["members"]
    assert len(members) == 4
    voice = next(m for m in members if m["product_area"] == "voice")
    assert voice["phone"]["e164"] == "+576016119000"
    assert (
        await world.client.get(f"/v1/enterprises/{other['id']}/account-team", headers=user)
    ).status_code == 404

    no_area = {"members": [{"role": "sales_engineer", "name": "SE", "email": "se@x.example"}]}
    bad = await world.client.put(path, json=no_area, headers=ccm)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "members.0.product_area"
    twice = {"members": [team["members"][0], team["members"][0]]}
    assert (await world.client.put(path, json=twice, headers=ccm)).status_code == 422
    assert len((await world.client.get(path, headers=user)).json()["members"]) == 4
