"""Who may call what, generated from the route table.

Every route is called by every role: API clients of each role, people of each role signed in
through the portal, and people of each customer role acting for several enterprises. A role
the route's policy lets through must not be refused (2xx, or a 4xx its input caused: 404, 409,
422); any other role is refused with a 403 problem. The roles come from each route's policy
dependency, built from its feature's `ROLES` table; a route with none fails the test by name
unless it is one of the few called without a token (`app.permissions.OPEN_ROUTES`).
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx
import pytest

from app.core.roles import CUSTOMER_ROLES, Role
from app.core.settings import Settings
from app.main import create_app
from app.permissions import OPEN_ROUTES, POLICIES, route_roles
from tests.support.route_objects import (
    PATH_FACTORIES,
    Objects,
    path_params,
    request_arguments,
    request_body,
)
from tests.support.world import World

# Path parameters that are not rows: a value every caller may name.
PLAIN_PARAMS = {
    "country": "EC",
    "day": "2026-12-24",
    "city": "Quito",
    "address": "soporte-permissions@carrier.example",
}

# Requests whose allowed answer would take long (an endless stream): asked with an input the
# route refuses (422) once its policy has let the caller through.
QUERIES = {"GET /v1/events/stream": {"after": "-1"}}

TMF = "/tmf-api/troubleTicket/v4"
SONATA = "/mefApi/sonata/troubleTicket/v4"

# A sign-out ends the caller's session: it is asked last.
LAST = "POST /v1/auth/logout"


@pytest.fixture
def settings() -> Settings:
    from tests.support.route_objects import loopback_settings

    return loopback_settings()


def _roles() -> dict[str, frozenset[Role] | None]:
    return route_roles(create_app(Settings(env="test", database_url="postgresql+asyncpg://u/u")))


def test_every_route_is_decided_by_a_table_or_open_by_name() -> None:
    roles = _roles()
    undecided = sorted(key for key, allowed in roles.items() if allowed is None)
    assert undecided == sorted(OPEN_ROUTES), (
        "routes with no policy dependency (declare one from the feature's policy.py): "
        f"{sorted(set(undecided) - OPEN_ROUTES)}; open routes that are gone or now guarded: "
        f"{sorted(OPEN_ROUTES - set(undecided))}"
    )


def _unions(values: Iterable[frozenset[Role]], within: frozenset[Role]) -> frozenset[Role]:
    return frozenset().union(*(v for v in values if v <= within))


def test_every_routes_roles_are_entries_of_its_features_table() -> None:
    # Roles written by hand at a route would pass the other tests: each route's roles must be
    # one entry, or a union of entries, of its own feature's ROLES table.
    app = create_app(Settings(env="test", database_url="postgresql+asyncpg://u/u"))
    from fastapi.routing import APIRoute, iter_route_contexts

    loose = []
    roles = route_roles(app)
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        feature = route.endpoint.__module__.rsplit(".", 1)[-1]
        for method in set(context.methods or ()) - {"HEAD", "OPTIONS"}:
            allowed = roles[f"{method} {context.path}"]
            if allowed is None:
                continue
            table = POLICIES.get(feature, {})
            if _unions(table.values(), allowed) != allowed:
                loose.append(f"{method} {context.path} ({feature})")
    assert not loose, loose


# Signed-in staff people are asked in the long run; by default one stands for them (their
# role decides alone, as the API clients of every staff role show).
STAFF_PEOPLE_BY_DEFAULT = (Role.tsc_engineer,)


async def _callers(
    world: World, acme: str, other: str, staff_people: Iterable[Role]
) -> list[tuple[Role, str, dict[str, str]]]:
    """Every role as an API client; customer roles as signed-in people of one enterprise and
    of two (Acme by default); staff roles in `staff_people` as signed-in people."""
    callers = []
    for role in Role:
        customer = role in CUSTOMER_ROLES
        client = await (world.api_client(role, acme) if customer else world.staff(role))
        callers.append((role, f"{role.value} api client", client))
        if customer:
            callers.append((role, f"{role.value} user", await world.user(role, acme)))
            several = await world.user(role, acme, other, default=acme)
            callers.append((role, f"{role.value} user of two enterprises", several))
        elif role in staff_people:
            callers.append((role, f"{role.value} user", await world.user(role)))
    return callers


def _refused(answer: httpx.Response, path: str) -> bool:
    """A 403 in the face's error shape: a problem, or TM Forum's and MEF's Error on theirs."""
    kind = answer.headers.get("content-type", "")
    if path.startswith(TMF):
        return answer.status_code == 403 and answer.json().get("code") == "403"
    if path.startswith(SONATA):
        return answer.status_code == 403 and answer.json().get("code") == "accessDenied"
    return answer.status_code == 403 and kind.startswith("application/problem+json")


async def _check_every_route(world: World, staff_people: Iterable[Role]) -> None:
    acme = await world.enterprise("Acme Permissions", "EC")
    other = await world.enterprise("Other Permissions", "PE")
    callers = await _callers(world, acme["id"], other["id"], staff_people)
    table = _roles()
    # One object of each kind serves every route (deletions last, so the others find theirs).
    keys = sorted(table, key=lambda k: (k == LAST, k.startswith("DELETE "), k))
    shared = Objects(world, acme)

    failures: list[str] = []
    for key in keys:
        allowed = table[key]
        if allowed is None:
            continue  # open by name (the test above)
        method, path = key.split(" ", 1)
        by_path = any(p == path for p, _name in PATH_FACTORIES)
        objects = Objects(world, acme, path) if by_path else shared
        values = {
            p: PLAIN_PARAMS[p] if p in PLAIN_PARAMS else await objects.need(p)
            for p in path_params(path)
        }
        url = path.format(**values)
        for role, name, headers in callers:
            arguments = request_arguments(key, await request_body(key, objects, role))
            extra = arguments.pop("headers", {})
            answer = await world.client.request(
                method, url, headers={**headers, **extra}, params=QUERIES.get(key), **arguments
            )
            if role in allowed:
                if answer.status_code in (401, 403) or answer.status_code >= 500:
                    failures.append(f"{key} as {name}: {answer.status_code} {answer.text[:160]}")
            elif not _refused(answer, path):
                failures.append(
                    f"{key} as {name}: {answer.status_code}, the table refuses it"
                    f" {answer.text[:120]}"
                )
    assert not failures, "\n".join(failures)


async def test_every_route_answers_every_role_as_its_table_says(world: World) -> None:
    await _check_every_route(world, STAFF_PEOPLE_BY_DEFAULT)


@pytest.mark.long
async def test_every_route_answers_people_of_every_staff_role_as_its_table_says(
    world: World,
) -> None:
    await _check_every_route(world, Role)


def test_a_carrier_reaches_tickets_and_nothing_else() -> None:
    reached = sorted(k for k, roles in _roles().items() if roles and Role.carrier in roles)
    faces = ("/v1/tickets", f"{TMF}/", f"{SONATA}/", "/v1/me", "/v1/auth/logout")
    assert [k for k in reached if not k.split(" ", 1)[1].startswith(faces)] == []


def test_a_customer_user_manages_no_users_clients_webhooks_or_hubs() -> None:
    managing = (
        "/v1/users",
        "/v1/api-clients",
        "/v1/webhooks",
        f"{TMF}/hub",
        f"{SONATA}/hub",
    )
    reached = [
        key
        for key, roles in _roles().items()
        if roles
        and Role.customer_user in roles
        and key.split(" ", 1)[1].startswith(managing)
        and not key.startswith("GET ")
    ]
    assert reached == []


def test_the_security_document_carries_the_permission_table_of_the_code() -> None:
    from app.permissions import DOC, END, START, document_with_table, render_permission_table

    document = DOC.read_text()
    assert START in document
    assert END in document
    assert document == document_with_table(document, render_permission_table()), (
        "docs/SECURITY.md's permission table is stale: run `uv run carrierdesk permissions`"
    )
