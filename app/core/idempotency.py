"""`Idempotency-Key` on creating POSTs: a retry gets the first answer, not a second object.

The record of the answer is written in the same transaction as what it
created (`commit_creation`), so either both exist or neither does, and two
retries racing each other meet at the record's primary key.

A field documented "shown once" (a bearer token, a signing secret) is never kept: the stored
answer leaves it out, and a retry is answered `409 secret-shown-once` naming the field, with
the rest of the first answer as `resource` (so the caller can revoke it and start again).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Table, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.database import Db, driver_connection
from app.core.deps import ClockDep, CurrentCaller, SessionDep
from app.core.errors import Conflict, Unprocessable, problem_response
from app.core.tenancy import Caller
from app.models.platform import IdempotencyRecord

REPLAYED_HEADER = "Idempotent-Replayed"
# Names the fields left out of a stored answer; sent with the replay too.
WITHHELD_HEADER = "Secret-Withheld"
# A response field whose description says this is never stored (`Field(description="... Shown
# once ...")`): the description is the promise the document makes to the caller.
SHOWN_ONCE = "shown once"


class SecretShownOnce(Conflict, status=409, title="Secret shown once"):
    """A retry of a creation whose answer held a secret: what was created, without it."""


def shown_once_fields(model: type[BaseModel]) -> list[str]:
    return [
        name
        for name, field in model.model_fields.items()
        if SHOWN_ONCE in (field.description or "").lower()
    ]


def answer_to_keep(
    response: BaseModel, headers: dict[str, str] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The answer `commit_creation` stores for a retry: without any field shown once."""
    body = response.model_dump(mode="json")
    kept = dict(headers or {})
    withheld = [name for name in shown_once_fields(type(response)) if name in body]
    for name in withheld:
        del body[name]
    if withheld:
        kept[WITHHELD_HEADER] = ", ".join(withheld)
    return body, kept


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    principal: str
    key: str
    request_hash: str
    clock: Clock


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """A keyed request's key and content, whoever sent it; `claim_of(caller)`, its claim. (Its
    dependency needs no caller: FastAPI would solve that layer again, cached or not.)"""

    key: str
    request_hash: str
    clock: Clock

    def claim_of(self, caller: Caller) -> IdempotencyClaim:
        return IdempotencyClaim(caller.principal, self.key, self.request_hash, self.clock)


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    request_hash: str
    status_code: int
    body: Any
    headers: dict[str, str]


class ReplayFirstAnswer(Exception):
    """Raised to answer a retry with the stored first answer."""

    def __init__(self, record: StoredAnswer) -> None:
        self.record = record

    def response(self) -> JSONResponse:
        headers = dict(self.record.headers or {})
        headers[REPLAYED_HEADER] = "true"
        withheld = headers.get(WITHHELD_HEADER)
        if withheld:
            problem = SecretShownOnce(
                f"the first request with this Idempotency-Key created this resource; its "
                f"{withheld} was shown once, in that answer, and is not kept. If that answer "
                "was lost, revoke the resource and create another with a new key",
                headers=headers,
                resource=self.record.body,
            )
            return problem_response(problem)
        return JSONResponse(self.record.body, status_code=self.record.status_code, headers=headers)


def _request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


# Core statements built once, run on the session's connection: this sits on
# every creating POST, so it skips the ORM's per-statement bookkeeping.
_records = cast(Table, IdempotencyRecord.__table__)
_FIND_SQL = """
SELECT request_hash, status_code, body, headers FROM idempotency_records
 WHERE principal = $1 AND key = $2
"""
_REMEMBER = insert(_records)


async def _find(db: Db, principal: str, key: str) -> StoredAnswer | None:
    # On the driver: this runs before every keyed creation, and must not open
    # a transaction of its own (see core.database.driver_connection).
    driver = await driver_connection(db)
    row = await driver.fetchrow(_FIND_SQL, principal, key)
    if row is None:
        return None
    return _stored(row["request_hash"], row["status_code"], row["body"], row["headers"])


def _stored(request_hash: str, status_code: int, body: Any, headers: Any) -> StoredAnswer:
    # The driver hands jsonb back as text or decoded, by the connection's codec.
    return StoredAnswer(
        request_hash,
        status_code,
        json.loads(body) if isinstance(body, str) else body,
        dict(json.loads(headers) if isinstance(headers, str) else headers or {}),
    )


def _check_same_request(record: StoredAnswer, request_hash: str) -> None:
    if record.request_hash != request_hash:
        raise Unprocessable(
            "this Idempotency-Key was first used with another request; use a new key",
            errors=[{"field": "Idempotency-Key", "message": "reused with a different body"}],
        )


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        # Printable ASCII only (spaces inside): a key is compared byte for byte, and kept.
        pattern=r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$",
        description="Any unique string of printable ASCII characters, at most 255 (a UUID "
        "is ideal). A retry with the same key and body receives the first answer instead "
        "of creating again.",
    ),
]


async def claim_request(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    key: str | None,
    method: str,
    path: str,
    content: bytes,
) -> IdempotencyClaim | None:
    """The claim of a keyed request whose content is `content` (the body as sent, or for a
    body whose bytes a retry may not repeat, such as a form's boundary, a digest of what it
    says); raises the stored answer when the key was used already."""
    if key is None:
        return None
    claim = IdempotencyClaim(
        principal=caller.principal,
        key=key,
        request_hash=_request_hash(method, path, content),
        clock=clock,
    )
    record = await _find(session, claim.principal, claim.key)
    if record is not None:
        _check_same_request(record, claim.request_hash)
        raise ReplayFirstAnswer(record)
    return claim


async def idempotency_claim(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    clock: ClockDep,
    idempotency_key: IdempotencyKey = None,
) -> IdempotencyClaim | None:
    if idempotency_key is None:
        return None
    body = await request.body()
    return await claim_request(
        session, caller, clock, idempotency_key, request.method, request.url.path, body
    )


async def keyed_request(
    request: Request, idempotency_key: IdempotencyKey = None
) -> KeyedRequest | None:
    """The key and content of a keyed request, its stored answer not looked up yet: the
    creation's own first statement reads it (`kept_answer_cte`, `replay_if_kept`)."""
    if idempotency_key is None:
        return None
    request_hash = _request_hash(request.method, request.url.path, await request.body())
    return KeyedRequest(idempotency_key, request_hash, request.app.state.clock)


def _key_lock(claim: IdempotencyClaim) -> int:
    """The advisory lock of one caller's key: 64 bits of its hash, as PostgreSQL's bigint."""
    digest = hashlib.sha256(f"{claim.principal}\0{claim.key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def idempotency_claim_waiting(
    claim: Annotated[IdempotencyClaim | None, Depends(idempotency_claim)], session: SessionDep
) -> IdempotencyClaim | None:
    """The claim, held for the creation's whole transaction: a retry sent while the first
    request is still working waits here until that one has committed (or failed), then replays
    its answer, instead of meeting the first one's rows half-way (a unique name taken, a 409)."""
    if claim is None:
        return None
    # Opens the creation's transaction: whatever must not run inside one (a DNS lookup) is
    # done by a dependency declared before the claim.
    await session.execute(_LOCK_KEY, {"lock": _key_lock(claim)})
    record = await _find(session, claim.principal, claim.key)
    if record is not None:
        _check_same_request(record, claim.request_hash)
        raise ReplayFirstAnswer(record)
    return claim


_LOCK_KEY = text("SELECT pg_advisory_xact_lock(:lock)")

# A creating POST takes `claim: Idempotency`.
Idempotency = Annotated[IdempotencyClaim | None, Depends(idempotency_claim_waiting)]
# Only for a creation written by one statement that also writes the key's record (ticket
# intake): the record's primary key already makes a concurrent retry wait for the first and
# replay it (`replay_stored_answer`), without the round trips of a transaction and a lock.
# The creation reads the stored answer in its own first statement (`kept_answer_cte`) and
# calls `replay_if_kept` on what it read, before it writes anything.
SingleStatementIdempotency = Annotated[KeyedRequest | None, Depends(keyed_request)]


async def commit_creation(
    session: AsyncSession,
    claim: IdempotencyClaim | None,
    response: BaseModel,
    *,
    status_code: int = 201,
    headers: dict[str, str] | None = None,
) -> None:
    """Commit a creation together with the answer a retry will be given.

    A concurrent retry that committed first wins: this transaction is rolled
    back and the caller receives that first answer instead.
    """
    try:
        if claim is not None:
            body, kept_headers = answer_to_keep(response, headers)
            connection = await session.connection()
            await connection.execute(
                _REMEMBER,
                {
                    "principal": claim.principal,
                    "key": claim.key,
                    "request_hash": claim.request_hash,
                    "status_code": status_code,
                    "body": body,
                    "headers": kept_headers,
                    "created_at": claim.clock.now(),
                },
            )
        await session.commit()
    except IntegrityError:
        await session.rollback()
        if claim is None:
            raise
        record = await _find(session, claim.principal, claim.key)
        if record is None:
            raise
        _check_same_request(record, claim.request_hash)
        raise ReplayFirstAnswer(record) from None


Row = TypeVar("Row")
Answer = TypeVar("Answer", bound=BaseModel)


async def commit_new_row(
    session: AsyncSession,
    claim: IdempotencyClaim | None,
    row: Row,
    answer_of: Callable[[Row], Answer],
) -> Answer:
    """Insert `row` and commit it with its answer `answer_of(row)` (`commit_creation`);
    return the answer."""
    session.add(row)
    await session.flush()
    answer = answer_of(row)
    await commit_creation(session, claim, answer)
    return answer


def replay_if_kept(claim: IdempotencyClaim | None, row: Any) -> None:
    """Raise the first answer when `row` (read with `kept_answer_cte`) carries one."""
    if claim is None or row is None or row["kept_hash"] is None:
        return
    record = _stored(row["kept_hash"], row["kept_status"], row["kept_body"], row["kept_headers"])
    _check_same_request(record, claim.request_hash)
    raise ReplayFirstAnswer(record)


async def replay_stored_answer(db: Db, claim: IdempotencyClaim) -> None:
    """After losing a race on the key: raise the winner's answer (or re-raise if absent)."""
    record = await _find(db, claim.principal, claim.key)
    if record is None:
        return
    _check_same_request(record, claim.request_hash)
    raise ReplayFirstAnswer(record)


def install_replay_handler(app: Any) -> None:
    async def on_replay(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ReplayFirstAnswer)
        return exc.response()

    app.add_exception_handler(ReplayFirstAnswer, on_replay)


# Said in the description of each creation whose answer holds a field shown once.
SHOWN_ONCE_RETRY = (
    "With an `Idempotency-Key`, a retry does not receive the secret again: it is never stored. "
    "The retry is answered `409` (problem type `secret-shown-once`, header `Secret-Withheld` "
    "naming the field, `Idempotent-Replayed: true`) with the first answer without the secret "
    "as `resource`; if the first answer was lost, revoke that resource and create another "
    "with a new key."
)

__all__ = [
    "SHOWN_ONCE_RETRY",
    "Caller",
    "Idempotency",
    "IdempotencyClaim",
    "KeyedRequest",
    "SingleStatementIdempotency",
    "commit_creation",
]
