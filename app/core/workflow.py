"""One mechanism for the resources that move through states.

A resource (an order, a billing request, a change request, a maintenance) declares a
`Workflow`: its model and the subject type of its events, its move table (status -> the
statuses that may follow), who may move it into each status, the event a move records and
its read shape. The mechanism does the rest the same way for all of them:

- `load` (by id in the caller's scope, optionally locked), `get`, `page` (keyset) and
  `history` (the resource's events, a page at a time, in the caller's view);
- `create`: created and updated now, version 1, inserted with its parts, first events,
  committed once with the `Idempotency-Key` answer;
- `advance`, the one write sequence: lock -> authorise -> state check -> If-Match -> the
  step's own change (a hook) -> version and updated_at -> events -> commit, once.

Every move the table does not allow answers the same 409 (`IllegalMove`), naming the current
status and the moves allowed from it. `MovesTo` makes a request body's `to` accept exactly the
moves of a table, so the OpenAPI document lists what a client may ask.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar, cast

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import core_schema
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.deps import refuse_unless
from app.core.errors import IllegalMove, field_error
from app.core.etag import check_if_match
from app.core.event_registry import EventPayload
from app.core.events import EventRead, events_page, record_event
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.core.pagination import Page, PageParams, keyset, page_of
from app.core.roles import Role
from app.core.tenancy import Caller, find_visible, one_or_404, visible_to
from app.core.time_bounds import received_at_problem

S = TypeVar("S", bound=StrEnum)
# An ORM row with `id`, `status`, `version` and `updated_at` (and `enterprise_id`, unless the
# workflow brings its own `scope`).
R = TypeVar("R")
Out = TypeVar("Out")


class Emit(NamedTuple):
    """An event to record, and the enterprise it is written for (its audience)."""

    payload: EventPayload
    enterprise_id: uuid.UUID | None


# A step's own change: (session, row with its new status, the status before, now) -> the
# events to record. It may refuse (a 422) before anything is written.
Hook = Callable[[AsyncSession, R, Any, datetime], Awaitable[Sequence[Emit]]]

# The extra fields of a move's event (a note, a window), computed by a change.
Change = Callable[[AsyncSession, R, datetime], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class Step(Generic[R]):
    """One write: the status it leads to (None: the status stays, as for an edit or a
    touchpoint, and the resource must not be final), who may make it, and its hook."""

    attempt: str  # what the caller tried, for the 409: "become accepted", "be edited"
    to: StrEnum | None
    roles: frozenset[Role]
    doing: str  # for the 403: "the role customer_user may not <doing>"
    hook: Hook[R]


@dataclass(frozen=True, kw_only=True)
class Workflow(Generic[R, S, Out]):
    model: type[R]
    subject_type: str  # the events' subject type; in words it names the resource in 404s
    moves: Mapping[S, frozenset[S]]  # every status, and the statuses that may follow it
    roles: Mapping[S, frozenset[Role]]  # who may move the resource into each status
    # The event a move records: (row after the move, status before, the move's fields).
    event: Callable[[R, S, Mapping[str, Any]], EventPayload] | None = None
    # The read shape: of the row alone (`read`), or, needing more than the row (what the
    # caller may see of its parts), of a batch of rows (`reads`).
    read: Callable[[R], Out] | None = None
    reads: Callable[[AsyncSession, Caller, Sequence[R]], Awaitable[list[Out]]] | None = None
    # A resource without `enterprise_id` says which rows a caller sees (a SQL condition).
    scope: Callable[[Caller], ColumnElement[bool]] | None = None
    what: str = field(init=False)  # "billing request", for 404s and 409s
    status: type[S] = field(init=False)  # the move table's statuses
    final: frozenset[S] = field(init=False)

    def __post_init__(self) -> None:
        assert (self.read is None) != (self.reads is None), f"{self.model}: read or reads"
        object.__setattr__(self, "what", self.subject_type.replace("_", " "))
        object.__setattr__(self, "status", type(next(iter(self.moves))))
        object.__setattr__(self, "final", frozenset(s for s in self.status if not self.moves[s]))

    # --- the table

    def allowed(self, current: S) -> list[str]:
        """The moves from `current`, in the status enum's order."""
        return [s.value for s in self.status if s in self.moves[current]]

    def step(self, to: S, *, doing: str, hook: Hook[R]) -> Step[R]:
        """A move into `to` whose hook records its own events (one per enterprise, say)."""
        return Step(
            attempt=f"become {to.value}", to=to, roles=self.roles[to], doing=doing, hook=hook
        )

    def edit(self, attempt: str, roles: frozenset[Role], *, doing: str, hook: Hook[R]) -> Step[R]:
        """A write that keeps the status (an edit, a touchpoint): refused once it is final."""
        return Step(attempt=attempt, to=None, roles=roles, doing=doing, hook=hook)

    def move(
        self,
        to: S,
        *,
        doing: str,
        change: Change[R] | None = None,
        also: Callable[[R], Sequence[Emit]] | None = None,
        **fields: Any,
    ) -> Step[R]:
        """A move into `to` recording the workflow's event with `fields`, and whatever
        `change` returns after changing the row; `also` adds events after it."""
        event = self.event
        assert event is not None, f"{self.what}: a move needs the workflow's event"

        async def hook(session: AsyncSession, row: R, before: Any, now: datetime) -> list[Emit]:
            extra = dict(fields)
            if change is not None:
                extra.update(await change(session, row, now))
            emits = [Emit(event(row, before, extra), _tenant(row))]
            return [*emits, *(also(row) if also is not None else ())]

        return self.step(to, doing=doing, hook=hook)

    # --- reads

    async def load(
        self, session: AsyncSession, caller: Caller, row_id: uuid.UUID, *, lock: bool = False
    ) -> R:
        if self.scope is None:
            return await find_visible(
                session, caller, self.model, row_id, what=self.what, lock=lock
            )
        table: Any = self.model
        stmt = select(self.model).where(table.id == row_id, self.scope(caller))
        return await one_or_404(session, stmt, self.what, row_id, lock=lock)

    async def shape(self, session: AsyncSession, caller: Caller, rows: Sequence[R]) -> list[Out]:
        if self.reads is not None:
            return await self.reads(session, caller, rows)
        read = cast(Callable[[R], Out], self.read)
        return [read(row) for row in rows]

    async def get(self, session: AsyncSession, caller: Caller, row_id: uuid.UUID) -> Out:
        row = await self.load(session, caller, row_id)
        return (await self.shape(session, caller, [row]))[0]

    async def page(
        self,
        session: AsyncSession,
        caller: Caller,
        params: PageParams,
        *where: ColumnElement[bool],
        **equal: object,
    ) -> Page[Out]:
        """The rows the caller may see, keyset over (updated_at, id); `equal` filters by
        column (None: no filter), `where` adds conditions."""
        table: Any = self.model
        stmt = select(self.model)
        if self.scope is None:
            stmt = visible_to(stmt, caller, table.enterprise_id)
        else:
            stmt = stmt.where(self.scope(caller))
        for name, value in equal.items():
            if value is not None:
                stmt = stmt.where(getattr(table, name) == value)
        stmt = keyset(stmt.where(*where), params, table.updated_at, table.id)
        rows = (await session.execute(stmt)).scalars().all()
        items, cursor = page_of(rows, params, lambda r: (r.updated_at, r.id))
        return Page(items=await self.shape(session, caller, items), next_cursor=cursor)

    async def history(
        self, session: AsyncSession, caller: Caller, row_id: uuid.UUID, params: PageParams
    ) -> Page[EventRead]:
        await self.load(session, caller, row_id)
        return await events_page(session, caller, self.subject_type, row_id, params)

    # --- the writes

    async def create(
        self,
        session: AsyncSession,
        caller: Caller,
        claim: IdempotencyClaim | None,
        row: R,
        at: datetime,
        emits: Sequence[Emit],
        *,
        parts: Sequence[Any] = (),
    ) -> Out:
        """A new resource: created and updated `at`, version 1, inserted, then its `parts`
        (rows that refer to it), its first events recorded, answered, and committed once
        together with the answer kept for its `Idempotency-Key`."""
        new: Any = row
        new.created_at = new.updated_at = at
        new.version = 1
        session.add(row)
        await session.flush()
        if parts:
            session.add_all(parts)
            await session.flush()
        await record_all(session, caller, new.id, at, emits)
        answer = (await self.shape(session, caller, [row]))[0]
        await commit_creation(session, claim, cast(BaseModel, answer))
        return answer

    async def advance(
        self,
        session: AsyncSession,
        caller: Caller,
        clock: Clock,
        row_id: uuid.UUID,
        step: Step[R],
        if_match: str | None,
    ) -> Out:
        row: Any = await self.load(session, caller, row_id, lock=True)
        refuse_unless(caller, step.roles, step.doing)
        current = self.status(row.status)
        legal = current not in self.final if step.to is None else step.to in self.moves[current]
        if not legal:
            raise IllegalMove(self.what, current.value, step.attempt, self.allowed(current))
        check_if_match(if_match, row.version)
        now = clock.now()
        if step.to is not None:
            row.status = step.to.value
        emits = await step.hook(session, row, current, now)
        row.version += 1
        row.updated_at = now
        await record_all(session, caller, row.id, now, emits)
        answer = (await self.shape(session, caller, [row]))[0]
        await session.commit()
        return answer


async def record_all(
    session: AsyncSession,
    caller: Caller,
    subject_id: uuid.UUID,
    at: datetime,
    emits: Iterable[Emit],
) -> None:
    """Record a resource's events (a move's, or a creation's) in the caller's transaction."""
    for payload, enterprise_id in emits:
        await record_event(
            session,
            payload,
            subject_id=subject_id,
            at=at,
            actor=caller.actor,
            enterprise_id=enterprise_id,
        )


def received_when(
    caller: Caller, requested: datetime | None, now: datetime, may_backdate: Iterable[Role]
) -> datetime:
    """When a request reached the carrier: now, or the earlier instant staff (`may_backdate`)
    give for it, an e-mail that came in before it was filed; a 422 on `received_at` when out
    of bounds, a 403 for anyone else."""
    if requested is None:
        return now
    refuse_unless(caller, may_backdate, "set received_at")
    problem = received_at_problem(requested, now)
    if problem is not None:
        raise field_error("received_at", problem)
    return requested


def _tenant(row: Any) -> uuid.UUID | None:
    enterprise_id: uuid.UUID | None = getattr(row, "enterprise_id", None)
    return enterprise_id


def snapshot(carried: type[EventPayload], row: Any) -> dict[str, Any]:
    """The fields every event of a resource carries (`carried`, the payload its events
    extend), as the row has them now."""
    return {name: getattr(row, name) for name in carried.model_fields}


def entering(
    entered: Mapping[S, type[EventPayload]], carried: type[EventPayload]
) -> Callable[[R, S, Mapping[str, Any]], EventPayload]:
    """The `event` of a workflow whose every status has an event type of its own: the event of
    the status entered, carrying the row's `snapshot` and the move's fields (a note, a time)."""

    def event(row: R, before: S, extra: Mapping[str, Any]) -> EventPayload:
        status: Any = getattr(row, "status")  # noqa: B009 (R is any ORM row)
        return entered[status](**snapshot(carried, row), **extra)

    return event


class MovesTo:
    """`Annotated[Status, MovesTo(TABLE, exclude=...)]`: a body's `to` that accepts exactly the
    targets of a move table (those another endpoint makes excluded), validated like a
    `Literal` of them and handed over as the status enum. The OpenAPI document lists them."""

    def __init__(self, table: Mapping[S, Iterable[S]], *, exclude: Iterable[S] = ()) -> None:
        excluded = set(exclude)
        targets = {t for nexts in table.values() for t in nexts} - excluded
        enum = type(next(iter(table)))
        self.values = [s.value for s in enum if s in targets]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            source,
            core_schema.literal_schema(self.values),
            serialization=core_schema.to_string_ser_schema(),
        )
