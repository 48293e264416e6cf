"""Business calendars: office hours, closed days, holidays and due times."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.core.schemas import NonEmpty, RequestBody, ResponseBody


class OfficeHoursDay(RequestBody):
    weekday: Annotated[int, Field(ge=0, le=6, description="0 = Monday")]
    opens: time
    closes: time


class CalendarRead(ResponseBody):
    country: str
    timezone: str
    office_hours: list[OfficeHoursDay]
    holiday_categories: list[str]
    version: int | None


class CalendarWrite(RequestBody):
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    office_hours: Annotated[list[OfficeHoursDay], Field(max_length=7)] | None = Field(
        default=None, description="A weekday not listed is closed"
    )
    holiday_categories: Annotated[list[str], Field(min_length=1, max_length=5)] | None = Field(
        default=None,
        description="Categories of the `holidays` package, e.g. `public`; Brazil may add "
        "`optional` (Carnival, Corpus Christi)",
    )


class ClosedDayWrite(RequestBody):
    date: date
    reason: NonEmpty


class ClosedDayRead(ResponseBody):
    country: str
    date: date
    reason: str


class HolidayRead(ResponseBody):
    date: date
    name: str
    source: Literal["public_holiday", "closed_day"]


class DueRead(ResponseBody):
    country: str
    start: datetime
    business_hours: float
    due_at: datetime = Field(description="UTC")
    due_at_local: datetime = Field(description="The same instant in the country's local time")
    timezone: str
