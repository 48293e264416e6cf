"""Errors in the Sonata spec's shape: `{code, reason, message}` (Error400…Error409), and a 422
as an array of `{code, reason, message, propertyPath}` (Error422). Every Carrier Desk problem
raised behind this face is told in it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core.errors import Problem
from app.core.schemas import Instant


class InvalidQuery(Problem, status=400, title="invalidQuery"):
    """A query parameter this face does not offer, or a value it cannot read."""


class MissingQueryParameter(Problem, status=400, title="missingQueryParameter"):
    """A query parameter the request needs (`buyerId`, for a caller of several buyers)."""


class SonataError(BaseModel):
    code: str
    reason: str
    message: str | None = None


class SonataError422(SonataError):
    propertyPath: str | None = None


_CODE_OF_STATUS = {
    400: "invalidBody",
    401: "missingCredentials",
    403: "accessDenied",
    404: "notFound",
    409: "conflict",
}

_CODE_OF_TYPE = {
    "missing": "missingProperty",
    "extra_forbidden": "unexpectedProperty",
    "enum": "invalidValue",
    "literal_error": "invalidValue",
    "string_type": "invalidFormat",
    "int_type": "invalidFormat",
    "int_parsing": "invalidFormat",
    "list_type": "invalidFormat",
    "dict_type": "invalidFormat",
    "model_type": "invalidFormat",
    "model_attributes_type": "invalidFormat",
    "datetime_type": "invalidFormat",
    "datetime_parsing": "invalidFormat",
    "datetime_from_date_parsing": "invalidFormat",
    "uuid_parsing": "invalidFormat",
}


def _pointer(path: Iterable[Any]) -> str:
    """`relatedEntity.0.id` or ('relatedEntity', 0, 'id') -> `/relatedEntity/0/id`."""
    parts = path.split(".") if isinstance(path, str) else [str(p) for p in path]
    return "/" + "/".join(parts)


def _reason(text: str) -> str:
    return text[:255]


def of_validation(errors: Sequence[Any]) -> tuple[int, Any]:
    """A request FastAPI could not validate: 400 for the query, path or an unreadable body;
    otherwise 422, one entry per attribute at fault."""
    where = {str((e.get("loc") or ("body",))[0]) for e in errors}
    if where - {"body"}:
        names = sorted({".".join(str(p) for p in e.get("loc", ())[1:]) for e in errors})
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in errors)
        return 400, {
            "code": "invalidQuery",
            "reason": _reason(f"invalid {', '.join(names)}"),
            "message": message,
        }
    unreadable = [e for e in errors if e.get("type") == "json_invalid" or len(e["loc"]) < 2]
    if unreadable:
        return 400, {
            "code": "invalidBody",
            "reason": "the body is not a JSON object",
            "message": str(unreadable[0].get("msg")),
        }
    body = []
    for e in errors:
        path = e["loc"][1:]
        body.append(
            {
                "code": _CODE_OF_TYPE.get(e.get("type", ""), "invalidValue"),
                "reason": _reason(f"{'.'.join(str(p) for p in path)}: {e.get('msg')}"),
                "message": str(e.get("msg")),
                "propertyPath": _pointer(path),
            }
        )
    return 422, body


def of_problem(problem: Problem) -> tuple[int, Any]:
    """A Carrier Desk problem told in the spec's shape (a 422 as the spec's array)."""
    status = problem.status
    if status == 422:
        entries = problem.errors or [{"field": "", "message": problem.detail}]
        return 422, [
            {
                "code": "referenceNotFound"
                if str(e.get("field", "")).startswith("relatedEntity")
                else "invalidValue",
                "reason": _reason(f"{e.get('field')}: {e.get('message')}"),
                "message": problem.detail,
                "propertyPath": _pointer(str(e.get("field", ""))),
            }
            for e in entries
        ]
    code = _CODE_OF_STATUS.get(status, problem.slug)
    if isinstance(problem, InvalidQuery | MissingQueryParameter):
        code = problem.title
    if (status == 401 and "expired" in problem.detail) or (
        status == 401 and "invalid" in problem.detail
    ):
        code = "invalidCredentials"
    return status, {"code": code, "reason": _reason(problem.title), "message": problem.detail}


def of_status(status: int, detail: str) -> tuple[int, Any]:
    return status, {
        "code": _CODE_OF_STATUS.get(status, "otherIssue"),
        "reason": _reason(detail),
        "message": detail,
    }


_INSTANT: TypeAdapter[Any] = TypeAdapter(Instant)

# Parameters every list takes besides its filters.
PAGING = ("offset", "limit", "buyerId", "sellerId")


def known_query(request: Request, filters: Sequence[str]) -> dict[str, Any]:
    """The filters a list was given, date filters read as instants. A parameter the face
    does not offer is refused (`invalidQuery`), not ignored: a buyer would read a list it did
    not ask for."""
    given: dict[str, Any] = {}
    for name, value in request.query_params.items():
        if name in PAGING:
            continue
        if name not in filters:
            raise InvalidQuery(f"{name} is not a filter here; filters: {', '.join(filters)}")
        if name.endswith((".gt", ".lt")):
            try:
                value = _INSTANT.validate_python(value)
            except ValidationError:
                raise InvalidQuery(f"{name}: not an RFC 3339 date-time") from None
        given[name] = value
    return given
