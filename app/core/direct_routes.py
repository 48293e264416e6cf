"""Routes whose handler is written out, instead of FastAPI solving their signature per request.

FastAPI reads a route's parameters from its signature once, but on every request it walks
them again: each dependency's cache key, scopes and kind, each parameter's shape, the query
string parsed whether or not the route takes one. On the three routes that NOC systems and
other carriers call most (intake, one ticket, a page of changed tickets) that walk cost more
CPU than the reads themselves (docs/BENCHMARKS.md). Such a route is declared as every route
is, so its signature is still what the OpenAPI document, the permission test and the security
document read; `answer_directly` gives it a handler that does the same steps in FastAPI's
order with the same pieces: the body's JSON read first, then the route's own policy check,
then its parameters, each failure reported as FastAPI reports it, then the endpoint itself.

`tests/test_direct_routes.py` sends the same requests, good and bad, to both handlers and
holds their answers equal; `app.state.solve_generically` switches an app to FastAPI's.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, get_args

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core.deps import PolicyCheck
from app.core.tenancy import Caller

DirectHandler = Callable[[Request], Awaitable[Response]]
# FastAPI's validation errors (pydantic's, located in the request), as a handler collects them.
Failures = list[dict[str, Any]]
Model = TypeVar("Model", bound=BaseModel)


class DirectRoute(APIRoute):
    """A route answered by the handler registered for its endpoint (`answer_directly`), when
    there is one. FastAPI asks for the handler when it first routes to the route, by which time
    its module has registered it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        generic = super().get_route_handler()
        direct = _DIRECT.get(self.endpoint)
        if direct is None:
            return generic

        async def handler(request: Request) -> Response:
            if getattr(request.app.state, "solve_generically", False):
                return await generic(request)
            return await direct(request)

        return handler


def answer_directly(endpoint: Callable[..., Any]) -> Callable[[DirectHandler], DirectHandler]:
    """Decorate the handler that answers `endpoint`'s route (declared on a router whose
    `route_class` is `DirectRoute`) in place of FastAPI's dependency solving."""

    def register(handler: DirectHandler) -> DirectHandler:
        _DIRECT[endpoint] = handler
        return handler

    return register


# Handlers by endpoint.
_DIRECT: dict[Callable[..., Any], DirectHandler] = {}


def policy_check(annotated: Any) -> PolicyCheck:
    """The policy dependency inside `Annotated[Caller, Depends(require_roles(...))]`."""
    check = get_args(annotated)[1].dependency
    assert isinstance(check, PolicyCheck)
    return check


def _located(exc: ValidationError, *prefix: str | int) -> Failures:
    return [{**error, "loc": (*prefix, *error["loc"])} for error in exc.errors(include_url=False)]


async def json_body(request: Request) -> Any:
    """The body's JSON, None when there is none (the middleware has refused any other
    content type); a body that is not JSON is reported as FastAPI reports it (a 422 for broken
    JSON, a 400 for what cannot even be decoded: bytes that are not UTF-8, nesting too deep for
    the decoder), before anything else."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", exc.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": exc.msg},
                }
            ]
        ) from exc
    except Exception as exc:  # what FastAPI's own handler catches at this step
        raise HTTPException(400, "There was an error parsing the body") from exc


def body_model(model: type[Model], body: Any, errors: Failures) -> Model | None:
    """`body` as `model`, or None with the reasons added to `errors`."""
    if body is None:
        errors.append({"type": "missing", "loc": ("body",), "msg": "Field required", "input": None})
        return None
    try:
        return model.model_validate(body, from_attributes=True)
    except ValidationError as exc:
        errors.extend(_located(exc, "body"))
        return None


class QueryModel:
    """A query model's fields by the name they take in the query string, found once."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        self.keys = [field.alias or name for name, field in model.model_fields.items()]

    def of(self, request: Request, errors: Failures) -> Any:
        query = request.query_params
        values = {key: query[key] for key in self.keys if key in query}
        try:
            return self.model.model_validate(values, from_attributes=True)
        except ValidationError as exc:
            errors.extend(_located(exc, "query"))
            return None


class Parameter:
    """One path parameter or header, validated as its annotation says."""

    def __init__(self, where: str, name: str, annotated: Any) -> None:
        self.where = where
        self.name = name
        self.adapter: TypeAdapter[Any] = TypeAdapter(annotated)

    def of(self, request: Request, errors: Failures) -> Any:
        source = request.path_params if self.where == "path" else request.headers
        try:
            return self.adapter.validate_python(source.get(self.name), from_attributes=True)
        except ValidationError as exc:
            errors.extend(_located(exc, self.where, self.name))
            return None


def refuse_if_any(errors: Failures) -> None:
    if errors:
        raise RequestValidationError(errors)


async def checked(
    request: Request, check: PolicyCheck, parameter: Parameter | QueryModel
) -> tuple[Caller, Any]:
    """A read's steps: its policy check, then its one parameter (a 422 naming what is wrong)."""
    caller = await check(request)
    errors: Failures = []
    value = parameter.of(request, errors)
    refuse_if_any(errors)
    return caller, value
