"""What a client sees of the one workflow: the same 409 for every illegal move, naming where
the resource stands and where it may go; money in minor units; histories a page at a time."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.roles import Role
from app.core.settings import Settings
from app.main import create_app
from app.services.billing.rules import money_text, parse_amount
from tests.support.world import World


async def _billing(world: World) -> tuple[str, dict[str, str], dict[str, str]]:
    enterprise = await world.enterprise()
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    agent = await world.staff(Role.billing_agent)
    response = await world.client.post(
        "/v1/billing-requests",
        json={"type": "dispute", "subject": "Double charge"},
        headers=customer,
    )
    assert response.status_code == 201, response.text
    return f"/v1/billing-requests/{response.json()['id']}", customer, agent


def _illegal(response: Any, status: str, allowed: list[str]) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert body["type"].endswith("/illegal-move")
    assert body["current_status"] == status
    assert body["allowed_moves"] == allowed
    assert status in body["detail"]


async def test_every_illegal_move_answers_the_same_409_naming_state_and_allowed_moves(
    world: World,
) -> None:
    path, _, agent = await _billing(world)
    skipped = await world.client.post(
        f"{path}/transitions", json={"to": "in_review"}, headers=agent
    )
    _illegal(skipped, "received", ["acknowledged", "resolved", "rejected"])
    await world.client.post(f"{path}/resolve", json={"outcome": "rejected"}, headers=agent)
    again = await world.client.post(f"{path}/resolve", json={"outcome": "accepted"}, headers=agent)
    _illegal(again, "rejected", [])

    enterprise = await world.enterprise("Order Co")
    desk = await world.staff(Role.customer_care_manager)
    customer = await world.api_client(Role.customer_admin, enterprise["id"])
    order = await world.client.post(
        "/v1/orders",
        json={
            "enterprise_id": enterprise["id"],
            "product_line": "Internet 100 Mbps",
            "sites": [{"address": "a", "city": "Quito", "country": "EC"}],
        },
        headers=desk,
    )
    order_path = f"/v1/orders/{order.json()['id']}"
    early = await world.client.post(
        f"{order_path}/transitions", json={"to": "accepted"}, headers=customer
    )
    _illegal(early, "submitted", ["in_progress", "cancelled"])
    await world.client.post(f"{order_path}/transitions", json={"to": "cancelled"}, headers=desk)
    late = await world.client.post(
        f"{order_path}/touchpoints", json={"key": "activation_planning"}, headers=desk
    )
    _illegal(late, "cancelled", [])


async def test_a_transition_body_accepts_only_the_moves_of_its_table(world: World) -> None:
    path, _, agent = await _billing(world)
    resolved = await world.client.post(
        f"{path}/transitions", json={"to": "resolved"}, headers=agent
    )
    assert resolved.status_code == 422
    assert resolved.json()["errors"][0]["field"] == "to"
    document = create_app(
        Settings(env="test", database_url="postgresql+asyncpg://unused/unused")
    ).openapi()
    schemas = document["components"]["schemas"]
    assert schemas["BillingTransition"]["properties"]["to"]["enum"] == [
        "acknowledged",
        "in_review",
    ]
    assert schemas["ChangeTransition"]["properties"]["to"]["enum"] == [
        "analysed",
        "completed",
        "rejected",
        "cancelled",
    ]
    assert schemas["OrderTransition"]["properties"]["to"]["enum"] == [
        "in_progress",
        "delivered",
        "accepted",
        "cancelled",
    ]


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        ("120.5", "USD", "120.50"),
        ("150.25", "USD", "150.25"),
        ("1000", "JPY", "1000"),
        ("1.25", "BHD", "1.250"),
        ("7", "EUR", "7.00"),
    ],
)
def test_amounts_are_written_in_the_currencys_minor_units(
    amount: str, currency: str, written: str
) -> None:
    assert money_text(parse_amount(amount), currency) == written


async def test_a_credit_is_answered_in_minor_units_and_finer_amounts_are_refused(
    world: World,
) -> None:
    path, customer, agent = await _billing(world)
    finer = await world.client.post(
        f"{path}/resolve",
        json={"outcome": "accepted", "credit": {"amount": "10.005", "currency": "USD"}},
        headers=agent,
    )
    assert finer.status_code == 422
    assert finer.json()["errors"][0]["field"] == "credit.amount"
    resolved = await world.client.post(
        f"{path}/resolve",
        json={"outcome": "accepted", "credit": {"amount": "1000", "currency": "JPY"}},
        headers=agent,
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["credit"] == {"amount": "1000", "currency": "JPY"}
    history = (await world.client.get(f"{path}/events", headers=customer)).json()["items"]
    assert history[-1]["data"]["credit"] == {"amount": "1000", "currency": "JPY"}


async def test_histories_come_a_page_at_a_time_and_hide_the_agents_working_note(
    world: World,
) -> None:
    path, customer, agent = await _billing(world)
    await world.client.post(
        f"{path}/transitions",
        json={"to": "acknowledged", "note": "customer is on the watch list"},
        headers=agent,
    )
    first = (await world.client.get(f"{path}/events?limit=1", headers=customer)).json()
    assert [e["type"] for e in first["items"]] == ["billing.received"]
    assert first["next_cursor"]
    rest = (
        await world.client.get(
            f"{path}/events?limit=1&cursor={first['next_cursor']}", headers=customer
        )
    ).json()
    assert [e["type"] for e in rest["items"]] == ["billing.acknowledged"]
    assert "note" not in rest["items"][0]["data"]
    staff_view = (await world.client.get(f"{path}/events", headers=agent)).json()["items"]
    assert staff_view[-1]["data"]["note"] == "customer is on the watch list"


async def test_the_change_catalogue_is_one_page(world: World) -> None:
    customer = await world.api_client(Role.customer_user, (await world.enterprise())["id"])
    page = (await world.client.get("/v1/change-catalog", headers=customer)).json()
    assert page["next_cursor"] is None
    assert {"bandwidth", "vlan"} <= {i["key"] for i in page["items"]}
