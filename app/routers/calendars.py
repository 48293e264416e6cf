"""Business calendars per country: office hours, holidays, closed days, due times."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from app.core.deps import GuardedWrite, SessionDep, Write
from app.core.etag import with_etag
from app.core.idempotency import Idempotency
from app.core.pagination import CursorPaging, Page
from app.services.calendars import schemas, service
from app.services.calendars.policy import CalendarEditor, CalendarReader

router = APIRouter(prefix="/v1/calendars", tags=["calendars"])


@router.get("/{country}", summary="A country's time zone, office hours and holiday categories")
async def get_calendar(
    country: str, caller: CalendarReader, session: SessionDep, response: Response
) -> schemas.CalendarRead:
    calendar = await service.get_calendar(session, country)
    return with_etag(response, calendar)


@router.patch(
    "/{country}", summary="Change a country's time zone, office hours or holiday categories"
)
async def update_calendar(
    country: str,
    payload: schemas.CalendarWrite,
    caller: CalendarEditor,
    write: GuardedWrite,
) -> schemas.CalendarRead:
    calendar = await service.update_calendar(
        write.session, write.clock, country, payload, write.if_match
    )
    return write.tagged(calendar)


@router.get("/{country}/closed-days", summary="Extra closed days beyond public holidays")
async def list_closed_days(
    country: str, caller: CalendarReader, session: SessionDep, paging: CursorPaging
) -> Page[schemas.ClosedDayRead]:
    return await service.list_closed_days(session, country, paging)


@router.post("/{country}/closed-days", status_code=201, summary="Close the offices on a day")
async def add_closed_day(
    country: str,
    payload: schemas.ClosedDayWrite,
    caller: CalendarEditor,
    write: Write,
    claim: Idempotency,
) -> schemas.ClosedDayRead:
    return await service.add_closed_day(write.session, write.clock, claim, country, payload)


@router.delete(
    "/{country}/closed-days/{day}", status_code=204, summary="Reopen an extra closed day"
)
async def remove_closed_day(
    country: str, day: date, caller: CalendarEditor, session: SessionDep
) -> Response:
    await service.remove_closed_day(session, country, day)
    return Response(status_code=204)


@router.get(
    "/{country}/due",
    summary="When N business hours from `start` fall due",
    description="Business hours count only on business days (weekdays with office hours that "
    "are not holidays or closed days), the whole day long: 48 business hours from Friday "
    "17:00 is Tuesday 17:00 when Monday and Tuesday are working days.",
)
async def due(
    country: str,
    caller: CalendarReader,
    session: SessionDep,
    start: Annotated[AwareDatetime, Query(description="ISO 8601 with a UTC offset")],
    business_hours: Annotated[float, Query(ge=0, le=service.MAX_BUSINESS_HOURS)],
) -> schemas.DueRead:
    return await service.due_at(session, country, start, business_hours)


@router.get("/{country}/holidays", summary="A year's public holidays and extra closed days")
async def holidays(
    country: str,
    caller: CalendarReader,
    session: SessionDep,
    year: Annotated[int, Query(ge=service.FIRST_YEAR, le=service.LAST_YEAR)],
    paging: CursorPaging,
) -> Page[schemas.HolidayRead]:
    return await service.holidays_of(session, country, year, paging)
