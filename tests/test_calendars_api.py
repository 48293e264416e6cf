"""Business calendars and city tiers through the API."""

from __future__ import annotations

from app.core.roles import Role
from tests.support.world import World


async def test_ecuador_48_business_hours_from_friday_30_october_is_thursday_5_november(
    world: World,
) -> None:
    response = await world.client.get(
        "/v1/calendars/EC/due",
        params={"start": "2026-10-30T17:00:00-05:00", "business_hours": 48},
        headers=world.admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["due_at_local"] == "2026-11-05T17:00:00-05:00"
    assert body["due_at"] == "2026-11-05T22:00:00Z"
    assert body["timezone"] == "America/Guayaquil"


async def test_ecuador_holidays_of_2026_include_2_and_3_november(world: World) -> None:
    response = await world.client.get(
        "/v1/calendars/EC/holidays", params={"year": 2026}, headers=world.admin
    )
    assert response.status_code == 200
    days = {h["date"]: h for h in response.json()["items"]}
    assert "2026-11-02" in days
    assert "2026-11-03" in days
    assert days["2026-11-02"]["source"] == "public_holiday"
    assert days["2026-11-02"]["name"]


async def test_brazil_counts_carnival_as_a_business_day_unless_told(world: World) -> None:
    holidays = await world.client.get(
        "/v1/calendars/BR/holidays", params={"year": 2026}, headers=world.admin
    )
    assert "2026-02-17" not in {h["date"] for h in holidays.json()["items"]}
    calendar = await world.client.get("/v1/calendars/BR", headers=world.admin)
    assert calendar.json()["holiday_categories"] == ["public"]
    changed = await world.client.patch(
        "/v1/calendars/BR",
        json={"holiday_categories": ["public", "optional"]},
        headers={**world.admin, "If-Match": calendar.headers["ETag"]},
    )
    assert changed.status_code == 200
    holidays = await world.client.get(
        "/v1/calendars/BR/holidays", params={"year": 2026}, headers=world.admin
    )
    names = {h["date"] for h in holidays.json()["items"]}
    assert {"2026-02-16", "2026-02-17", "2026-06-04"} <= names


async def test_extra_closed_days_and_office_hours_are_editable(world: World) -> None:
    closed = await world.client.post(
        "/v1/calendars/EC/closed-days",
        json={"date": "2026-11-04", "reason": "Office move"},
        headers=world.admin,
    )
    assert closed.status_code == 201
    due = await world.client.get(
        "/v1/calendars/EC/due",
        params={"start": "2026-10-30T17:00:00-05:00", "business_hours": 48},
        headers=world.admin,
    )
    assert due.json()["due_at_local"] == "2026-11-06T17:00:00-05:00"
    holidays = await world.client.get(
        "/v1/calendars/EC/holidays", params={"year": 2026}, headers=world.admin
    )
    assert {"date": "2026-11-04", "name": "Office move", "source": "closed_day"} in holidays.json()[
        "items"
    ]
    removed = await world.client.delete(
        "/v1/calendars/EC/closed-days/2026-11-04", headers=world.admin
    )
    assert removed.status_code == 204
    again = await world.client.delete(
        "/v1/calendars/EC/closed-days/2026-11-04", headers=world.admin
    )
    assert again.status_code == 404

    # Saturday becomes a working day: Friday 17:00 + 24h lands on Saturday 17:00.
    hours = [{"weekday": d, "opens": "08:00", "closes": "17:00"} for d in range(6)]
    patched = await world.client.patch(
        "/v1/calendars/PE", json={"office_hours": hours}, headers=world.admin
    )
    assert patched.status_code == 200
    assert len(patched.json()["office_hours"]) == 6
    due = await world.client.get(
        "/v1/calendars/PE/due",
        params={"start": "2026-11-06T17:00:00-05:00", "business_hours": 24},
        headers=world.admin,
    )
    assert due.json()["due_at_local"] == "2026-11-07T17:00:00-05:00"


async def test_calendar_writes_are_for_provider_admins_and_check_their_input(
    world: World,
) -> None:
    acme = await world.enterprise()
    customer = await world.api_client(Role.customer_admin, acme["id"])
    assert (
        await world.client.patch("/v1/calendars/EC", json={"timezone": "UTC"}, headers=customer)
    ).status_code == 403
    assert (
        await world.client.post(
            "/v1/calendars/EC/closed-days",
            json={"date": "2026-12-24", "reason": "x"},
            headers=customer,
        )
    ).status_code == 403
    for body, field in (
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"office_hours": [{"weekday": 0, "opens": "18:00", "closes": "09:00"}]}, "office_hours"),
        ({"office_hours": [{"weekday": 7, "opens": "09:00", "closes": "18:00"}]}, "office_hours"),
        ({"holiday_categories": ["bank"]}, "holiday_categories"),
    ):
        response = await world.client.patch("/v1/calendars/EC", json=body, headers=world.admin)
        assert response.status_code == 422, body
        assert any(e["field"].startswith(field) for e in response.json()["errors"])
    calendar = await world.client.get("/v1/calendars/EC", headers=customer)
    assert calendar.json()["timezone"] == "America/Guayaquil"
    assert len(calendar.json()["office_hours"]) == 5


async def test_due_and_holidays_bad_input(world: World) -> None:
    headers = world.admin
    cases = [
        ("/v1/calendars/EC/due", {"start": "2026-10-30T17:00:00", "business_hours": 4}, "start"),
        (
            "/v1/calendars/EC/due",
            {"start": "2026-10-30T17:00:00Z", "business_hours": -1},
            "business_hours",
        ),
        (
            "/v1/calendars/EC/due",
            {"start": "2026-10-30T17:00:00Z", "business_hours": "x"},
            "business_hours",
        ),
        ("/v1/calendars/EC/due", {"start": "2226-10-30T17:00:00Z", "business_hours": 1}, "start"),
        ("/v1/calendars/EC/holidays", {"year": 1066}, "year"),
        (
            "/v1/calendars/EC/due",
            {"start": "0001-01-01T00:00:00+14:00", "business_hours": 1},
            "start",
        ),
        (
            "/v1/calendars/EC/due",
            {"start": "9999-12-31T23:59:59-14:00", "business_hours": 1},
            "start",
        ),
        (
            "/v1/calendars/EC/due",
            {"start": "2026-10-30T17:00:00Z", "business_hours": "nan"},
            "business_hours",
        ),
        (
            "/v1/calendars/EC/due",
            {"start": "2026-10-30T17:00:00Z", "business_hours": "inf"},
            "business_hours",
        ),
    ]
    for path, params, field in cases:
        response = await world.client.get(path, params=params, headers=headers)
        assert response.status_code == 422, (params, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}
    unknown = await world.client.get(
        "/v1/calendars/XX/due",
        params={"start": "2026-10-30T17:00:00Z", "business_hours": 1},
        headers=headers,
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    # "ß".upper() is "SS" (South Sudan): only ASCII codes are countries.
    assert (await world.client.get("/v1/calendars/ß", headers=headers)).status_code == 404


async def test_every_known_country_has_a_calendar(world: World) -> None:
    for country in ("SA", "IL", "DE", "JP", "XK"):
        response = await world.client.get(
            f"/v1/calendars/{country}/holidays", params={"year": 2060}, headers=world.admin
        )
        assert response.status_code == 200, country


async def test_city_tiers_match_without_case_or_accents(world: World) -> None:
    acme = await world.enterprise()
    user = await world.api_client(Role.customer_user, acme["id"])
    listed = await world.client.get("/v1/city-tiers/EC", headers=user)
    assert {"Quito", "Guayaquil"} <= {
        c["city"] for c in listed.json()["items"] if c["tier"] == "main"
    }
    assert (await world.client.get("/v1/city-tiers/BR/SAO PAULO", headers=user)).json()[
        "tier"
    ] == "main"
    assert (await world.client.get("/v1/city-tiers/CO/bogota", headers=user)).json()[
        "tier"
    ] == "main"
    ambato = await world.client.get("/v1/city-tiers/EC/Ambato", headers=user)
    assert ambato.json() == {
        "country": "EC",
        "city": "Ambato",
        "tier": "intermediate",
        "listed": False,
    }

    assert (
        await world.client.put("/v1/city-tiers/EC/Galápagos", json={"tier": "remote"}, headers=user)
    ).status_code == 403
    put = await world.client.put(
        "/v1/city-tiers/EC/Puerto Ayora", json={"tier": "remote"}, headers=world.admin
    )
    assert put.status_code == 200
    assert (await world.client.get("/v1/city-tiers/EC/PUERTO  AYORA", headers=user)).json()[
        "tier"
    ] == "remote"
    bad = await world.client.put(
        "/v1/city-tiers/EC/Quito", json={"tier": "capital"}, headers=world.admin
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "tier"
    assert (
        await world.client.put(
            "/v1/city-tiers/XX/Quito", json={"tier": "main"}, headers=world.admin
        )
    ).status_code == 404
