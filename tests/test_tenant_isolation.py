"""Tenant isolation, everywhere: generated from the app's route table.

For every route whose path carries an id, and every method on it, an object of
enterprise A is made through the API, then a customer of enterprise B asks for
it: the answer must be 404 (another tenant's id does not exist for B), and the
same request by a customer of A with the same role must not be 404 (so the
404 came from scoping, not from a wrong id or a bad body).

A new route with an id parameter that `tests/support/route_objects.py` does not
know how to create fails the test, naming the parameter: add a factory to
`FACTORIES` there (and, if the route needs a body, an entry in `BODIES`).
"""

from __future__ import annotations

import pytest

from app.core.roles import Role
from app.core.settings import Settings
from tests.support.route_objects import (
    FACTORIES,
    NoFactory,
    Objects,
    id_routes,
    loopback_settings,
    request_arguments,
    request_body,
)
from tests.support.world import World

# The customer roles a caller of enterprise B may hold, most powerful first.
CUSTOMER_ROLES = [Role.customer_admin, Role.customer_user, Role.carrier]


@pytest.fixture
def settings() -> Settings:
    # Webhook endpoints of the test tenants point at loopback.
    return loopback_settings()


# Id parameters with no factory yet: their routes are skipped and named here.
# `test_uncovered_id_parameters_are_only_the_known_ones` fails the day any
# other parameter appears without a factory. Keep it empty.
UNCOVERED: dict[str, str] = {}


def test_the_route_table_has_routes_with_ids() -> None:
    # Guard against the generator silently finding nothing.
    assert len(id_routes()) >= 5


async def test_every_route_with_an_id_answers_404_to_another_enterprise(world: World) -> None:
    acme = await world.enterprise("Acme Isolation", "EC")
    other = await world.enterprise("Other Isolation", "PE")
    # Every customer role, as an API client and as a signed-in person, of A and of B.
    callers: list[tuple[Role, str, dict[str, str], dict[str, str]]] = []
    for role in CUSTOMER_ROLES:
        for kind, make in (("api client", world.api_client), ("user", world.user)):
            owner, stranger = await make(role, acme["id"]), await make(role, other["id"])
            callers.append((role, f"{role.value} {kind}", owner, stranger))

    failures: list[str] = []
    checked = 0
    for method, path, params in id_routes():
        key = f"{method} {path}"
        if any(p in UNCOVERED for p in params):
            continue
        shared = Objects(world, acme, path)
        checked += 1
        for role, name, owner, stranger in callers:
            # A deletion by one caller would leave the next nothing to find: each its own.
            objects = Objects(world, acme, path) if method == "DELETE" else shared
            try:
                values = {p: await objects.need(p) for p in params}
            except NoFactory as missing:
                failures.append(
                    f"{key}: no factory for id parameter {missing.args[0]!r}; add one to"
                    " FACTORIES in tests/support/route_objects.py (and scope the route with"
                    " visible_to)"
                )
                break
            url = path.format(**values)
            arguments = request_arguments(key, await request_body(key, objects, role))
            extra = arguments.pop("headers", {})
            b = await world.client.request(method, url, headers={**stranger, **extra}, **arguments)
            a = await world.client.request(method, url, headers={**owner, **extra}, **arguments)
            if a.status_code == 403:
                # The role may not use the route at all: refused alike, whoever's the id.
                if b.status_code != 403:
                    failures.append(f"{key} as {name}: owner 403, other {b.status_code}")
                continue
            if b.status_code != 404:
                failures.append(
                    f"{key} as {name} of another enterprise: {b.status_code} {b.text[:200]}"
                )
            elif a.status_code in (404, 422):
                failures.append(
                    f"{key} as {name} of the owner: {a.status_code} {a.text[:200]} (the 404"
                    " of the other tenant proves nothing: fix FACTORIES/BODIES for this route)"
                )
    assert not failures, "\n".join(failures)
    assert checked == len([r for r in id_routes() if not set(r[2]) & set(UNCOVERED)])


def test_uncovered_id_parameters_are_only_the_known_ones() -> None:
    names = {p for _, _, params in id_routes() for p in params}
    assert names - set(FACTORIES) <= set(UNCOVERED), names - set(FACTORIES) - set(UNCOVERED)
