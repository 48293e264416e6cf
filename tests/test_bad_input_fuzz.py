"""Schemathesis against the committed OpenAPI document, every operation.

A real `carrierdesk serve --no-worker` on its own committed database answers
generated requests (valid and invalid) sent with a provider admin's token:
no answer may be a 5xx, and every answer must match the document (status
code, content type, body schema). The CI run keeps the number of examples per
operation small so the whole module stays within a couple of minutes; the
`long` variant explores many more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.processes import ApiProcess, Fleet

ROOT = Path(__file__).resolve().parents[1]
schema = schemathesis.openapi.from_path(ROOT / "openapi" / "openapi.json")

# Operations that end the caller's own session or token would make every
# later example a 401; they are covered by their own tests.
schema = schema.exclude(path_regex=r"^/v1/auth/logout$")
# Server-sent events never end by design: a generated GET would hold the
# connection until the client's timeout. Covered by its own tests.
schema = schema.exclude(path_regex=r"/stream$")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SHORT = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
LONG = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
async def live_api(server: object, template_database: str) -> AsyncIterator[ApiProcess]:
    from tests.support.database import create_database, drop_database

    name = "cd_fuzz_" + template_database[-8:]
    await create_database(server, name, template=template_database)  # type: ignore[arg-type]
    fleet = Fleet(server.url_for(name))  # type: ignore[attr-defined]
    api = fleet.api()
    try:
        api.wait_ready()
        yield api
    finally:
        fleet.close()
        await drop_database(server, name)  # type: ignore[arg-type]


# Known mismatch (issue 5): on the TMF621 face, a body that is not JSON at
# all is refused before routing in the RFC 9457 shape, while the TMF
# operations document only TMF's error shape. Until that is aligned, the TMF
# operations are held to "no 5xx, documented status codes" only.
TMF_CHECKS = [not_a_server_error, status_code_conformance]


def _call(case: schemathesis.Case, api: ApiProcess) -> None:
    headers = dict(case.headers or {})
    headers.update(api.admin)
    checks = TMF_CHECKS if case.operation.path.startswith("/tmf-api/") else CHECKS
    case.call_and_validate(base_url=api.base_url, headers=headers, checks=checks, timeout=30)


@schema.parametrize()
@SHORT
def test_every_operation_answers_bad_input_without_5xx(
    case: schemathesis.Case, live_api: ApiProcess
) -> None:
    _call(case, live_api)


@pytest.mark.long
@schema.parametrize()
@LONG
def test_every_operation_long_run(case: schemathesis.Case, live_api: ApiProcess) -> None:
    _call(case, live_api)
