"""The conventions every endpoint keeps: problems, idempotency, ETags, pagination, bad input."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Enterprise
from tests.support.world import World


async def _count_enterprises(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(
            (await session.execute(select(func.count()).select_from(Enterprise))).scalar_one()
        )


async def test_unknown_path_and_method_answer_problems(world: World) -> None:
    missing = await world.client.get("/v1/nowhere", headers=world.admin)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == "no resource at /v1/nowhere"
    wrong_method = await world.client.put("/v1/enterprises", json={}, headers=world.admin)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["title"] == "Method not allowed"


async def test_validation_errors_name_each_field(world: World) -> None:
    response = await world.client.post(
        "/v1/enterprises", json={"name": "", "country": "XX", "colour": "red"}, headers=world.admin
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"name", "country", "colour"}


async def test_bad_bodies_are_refused_and_change_nothing(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    before = await _count_enterprises(sessionmaker)
    malformed = await world.client.post(
        "/v1/enterprises",
        content=b'{"name": "Acme",',
        headers={**world.admin, "content-type": "application/json"},
    )
    assert malformed.status_code == 422
    wrong_type = await world.client.post(
        "/v1/enterprises",
        content=b"name=Acme",
        headers={**world.admin, "content-type": "text/plain"},
    )
    assert wrong_type.status_code == 415
    nul = await world.client.post(
        "/v1/enterprises", json={"name": "Ac\u0000me", "country": "EC"}, headers=world.admin
    )
    assert nul.status_code == 422
    assert "NUL" in nul.json()["detail"]
    huge = await world.client.post(
        "/v1/enterprises",
        content=b'{"name": "' + b"a" * 2_000_000 + b'", "country": "EC"}',
        headers={**world.admin, "content-type": "application/json"},
    )
    assert huge.status_code == 413
    deep = await world.client.post(
        "/v1/enterprises",
        content=b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b', "country": "EC"}',
        headers={**world.admin, "content-type": "application/json"},
    )
    assert deep.status_code == 400
    for response in (malformed, wrong_type, nul, huge, deep):
        assert response.headers["content-type"] == "application/problem+json"
    assert await _count_enterprises(sessionmaker) == before


async def test_an_escaped_backslash_before_u0000_is_plain_text(world: World) -> None:
    response = await world.client.post(
        "/v1/enterprises",
        content=b'{"name": "path\\\\u0000x", "country": "EC"}',
        headers={**world.admin, "content-type": "application/json"},
    )
    assert response.status_code == 201
    assert response.json()["name"] == "path\\u0000x"


async def test_foreign_or_malformed_ids_are_4xx(world: World) -> None:
    assert (
        await world.client.get(f"/v1/enterprises/{uuid.uuid4()}", headers=world.admin)
    ).status_code == 404
    bad = await world.client.get("/v1/enterprises/not-a-uuid", headers=world.admin)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "enterprise_id"


async def test_idempotency_key_replays_the_first_answer(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    before = await _count_enterprises(sessionmaker)
    headers = {**world.admin, "Idempotency-Key": "create-acme-1"}
    first = await world.client.post(
        "/v1/enterprises", json={"name": "Acme", "country": "EC"}, headers=headers
    )
    again = await world.client.post(
        "/v1/enterprises", json={"name": "Acme", "country": "EC"}, headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await _count_enterprises(sessionmaker) == before + 1
    other_body = await world.client.post(
        "/v1/enterprises", json={"name": "Other", "country": "EC"}, headers=headers
    )
    assert other_body.status_code == 422
    assert await _count_enterprises(sessionmaker) == before + 1


async def test_stale_if_match_is_412(world: World) -> None:
    acme = await world.enterprise()
    read = await world.client.get(f"/v1/enterprises/{acme['id']}", headers=world.admin)
    etag = read.headers["etag"]
    first = await world.client.patch(
        f"/v1/enterprises/{acme['id']}",
        json={"name": "Acme SA"},
        headers={**world.admin, "If-Match": etag},
    )
    assert first.status_code == 200
    assert first.headers["etag"] != etag
    stale = await world.client.patch(
        f"/v1/enterprises/{acme['id']}",
        json={"name": "Lost"},
        headers={**world.admin, "If-Match": etag},
    )
    assert stale.status_code == 412
    current = await world.client.get(f"/v1/enterprises/{acme['id']}", headers=world.admin)
    assert current.json()["name"] == "Acme SA"


async def test_keyset_pages_cover_every_item_once(world: World) -> None:
    created = [await world.enterprise(f"E{i}") for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (
            await world.client.get("/v1/enterprises", params=params, headers=world.admin)
        ).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert set(seen) >= {e["id"] for e in created}
    assert len(seen) == len(set(seen))
    bad = await world.client.get("/v1/enterprises", params={"cursor": "zzz"}, headers=world.admin)
    assert bad.status_code == 422


async def test_reference_lists_page_in_their_own_order(world: World) -> None:
    whole = await world.client.get(
        "/v1/directory/billing-mailboxes", params={"limit": 500}, headers=world.admin
    )
    countries = [m["country"] for m in whole.json()["items"]]
    assert whole.json()["next_cursor"] is None
    assert countries == sorted(countries)
    assert len(countries) > 3
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (
            await world.client.get(
                "/v1/directory/billing-mailboxes", params=params, headers=world.admin
            )
        ).json()
        assert len(page["items"]) <= 3
        seen += [m["country"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == countries
    # A cursor of another list (or none at all) is refused, naming the field.
    for i in range(2):
        await world.enterprise(f"E{i}")
    other = await world.client.get("/v1/enterprises", params={"limit": 1}, headers=world.admin)
    assert other.json()["next_cursor"]
    for bad in (other.json()["next_cursor"], "zzz"):
        refused = await world.client.get(
            "/v1/directory/billing-mailboxes", params={"cursor": bad}, headers=world.admin
        )
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in refused.json()["errors"]] == ["cursor"]


async def test_updated_since_filters(world: World) -> None:
    old = await world.enterprise("Old")
    world.clock.advance(__import__("datetime").timedelta(hours=1))
    new = await world.enterprise("New")
    since = new["updated_at"]
    page = (
        await world.client.get(
            "/v1/enterprises", params={"updated_since": since}, headers=world.admin
        )
    ).json()
    ids = [e["id"] for e in page["items"]]
    assert new["id"] in ids
    assert old["id"] not in ids


async def test_every_response_carries_a_request_id(world: World) -> None:
    response = await world.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert (await world.client.get("/healthz")).headers["x-request-id"]


async def test_docs_work_offline(world: World) -> None:
    # (`/metrics`, behind its token or bind address: tests/test_metrics.py)
    docs = await world.client.get("/docs")
    assert docs.status_code == 200
    assert "http" not in docs.text.split("swagger-ui-bundle.js")[0].split("<script src=")[-1]
    asset = await world.client.get("/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
