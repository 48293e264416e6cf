"""Schemathesis against the committed OpenAPI document, every operation.

A real `carrierdesk serve --no-worker` on its own committed database answers
generated requests (valid and invalid) sent with a provider admin's token:
no answer may be a 5xx, and every answer must match the document (status
code, content type, body schema). The stateful phase then follows the
document's links (a creating POST to the operations that take the id it
answers), so the reads and writes of created resources are reached too. The
CI run keeps the examples per operation and the scenarios few so the whole
module stays within a couple of minutes; the `long` variants explore many more.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import Response
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
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
def live_api(module_database: str) -> Iterator[ApiProcess]:
    fleet = Fleet(module_database)
    api = fleet.api()
    try:
        api.wait_ready()
        yield api
    finally:
        fleet.close()


def _call(case: schemathesis.Case, api: ApiProcess) -> None:
    headers = dict(case.headers or {})
    headers.update(api.admin)
    case.call_and_validate(base_url=api.base_url, headers=headers, checks=CHECKS, timeout=30)


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


# Scenarios send valid requests (bad input is the per-operation test's job),
# so that creations succeed and their links are followed.
schema.config.phases.stateful.generation.update(modes=[GenerationMode.POSITIVE])


# A seeded mailbox's address comes from `GET /v1/mailboxes`, which the run's own deletions
# change: Hypothesis refuses data drawn from such shifting state as flaky. Deleting a
# mailbox is covered by the examples above and by tests/test_inbound_mail_bad_input.py.
STATEFUL = schema.exclude(method="DELETE", path_regex=r"^/v1/mailboxes/")


class Workflow(STATEFUL.as_state_machine()):  # type: ignore[misc]
    """Scenarios along the document's links, against the live API of the test."""

    api: ApiProcess

    def before_call(self, case: schemathesis.Case) -> None:
        # The generated Authorization header (a made-up token) gives way to the admin's.
        case.headers = {**(case.headers or {}), **self.api.admin}

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return {"base_url": self.api.base_url, "timeout": 30}

    def validate_response(
        self,
        response: Response,
        case: schemathesis.Case,
        additional_checks: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)


# Bounded: a few short scenarios, about half a minute on the CI machine.
STATEFUL_SHORT = settings(SHORT, max_examples=25, stateful_step_count=6, phases=[Phase.generate])
STATEFUL_LONG = settings(LONG, max_examples=300, stateful_step_count=15)


def test_linked_operations_answer_what_they_document(live_api: ApiProcess) -> None:
    Workflow.api = live_api
    Workflow.run(settings=STATEFUL_SHORT)


@pytest.mark.long
def test_linked_operations_long_run(live_api: ApiProcess) -> None:
    Workflow.api = live_api
    Workflow.run(settings=STATEFUL_LONG)
