"""The countries functions other features call: calendars, tiers, phones, escalation, contacts."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.errors import NotFound
from app.models import Enterprise, NotificationContact
from app.services.calendars.rules import BusinessCalendar
from app.services.calendars.service import calendar_for
from app.services.directory.city_tiers import tier_of
from app.services.directory.contacts import contacts_for
from app.services.directory.escalation import escalation_target
from app.services.directory.rules import PhoneNumber, parse_phone, phone
from app.services.directory.service import support_lines

QUITO = ZoneInfo("America/Guayaquil")


def test_phone_normalises_what_the_handbook_prints() -> None:
    assert phone("+58-212-204-9306", "VE") == PhoneNumber(
        display="+58-212-204-9306", e164="+582122049306"
    )
    assert phone("+593-2-400-5124", "EC").e164 == "+59324005124"
    assert phone("0800-887-3333", "BR").e164 == "+558008873333"


def test_mexican_01_800_numbers_are_given_as_dialled_today() -> None:
    number = phone("01-800-999-1422", "MX")
    assert number.display == "01-800-999-1422"
    assert number.e164 == "+528009991422"


def test_a_number_that_does_not_validate_has_no_e164() -> None:
    assert phone("12", "EC").e164 is None
    assert phone("01-800-12", "MX").e164 is None
    with pytest.raises(ValueError, match="not a valid phone number"):
        parse_phone("555", "EC")


async def test_calendar_for_ecuador_closes_its_november_holidays(session: AsyncSession) -> None:
    calendar = await calendar_for(session, "ec")
    assert isinstance(calendar, BusinessCalendar)
    assert calendar.timezone == "America/Guayaquil"
    assert {date(2026, 11, 2), date(2026, 11, 3)} <= calendar.closed_dates
    assert calendar.office_hours[0] == (time(9), time(18))
    assert 5 not in calendar.office_hours
    start = datetime(2026, 10, 30, 17, 0, tzinfo=QUITO)
    assert calendar.add_business_hours(start, 48) == datetime(2026, 11, 5, 17, 0, tzinfo=QUITO)


async def test_calendar_for_a_country_without_a_row_uses_defaults(session: AsyncSession) -> None:
    calendar = await calendar_for(session, "DE")
    assert calendar.timezone == "Europe/Berlin"
    assert date(2026, 12, 25) in calendar.closed_dates


async def test_calendar_for_an_unknown_country_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await calendar_for(session, "XX")


async def test_tier_of_matches_without_case_or_accents(session: AsyncSession) -> None:
    assert await tier_of(session, "EC", "Quito") == "main"
    assert await tier_of(session, "ec", "  GUAYAQUIL ") == "main"
    assert await tier_of(session, "BR", "sao paulo") == "main"
    assert await tier_of(session, "CO", "BOGOTA") == "main"
    assert await tier_of(session, "EC", "Ambato") == "intermediate"
    assert await tier_of(session, "EC", "") == "intermediate"


async def test_support_lines_pick_the_service_line(session: AsyncSession) -> None:
    lines = await support_lines(session, "VE", "managed_voice")
    numbers = [n.e164 for line in lines for n in line.local]
    assert numbers == ["+582122049306"]
    assert all(line.purpose == "technical_support" for line in lines)
    # A line without services serves all; a shared line answers for each country.
    us = await support_lines(session, "US", "data")
    assert us[0].toll_free is not None
    assert us[0].toll_free.e164 == "+18004677288"
    assert us[0].country == "US"


async def test_escalation_target_names_the_level_and_the_after_hours_line(
    session: AsyncSession,
) -> None:
    target = await escalation_target(session, "EC", 2)
    assert target.level == 2
    assert target.fallback is False
    assert [p.e164 for p in target.phones] == ["+59324005133"]
    assert target.after_hours is not None
    assert target.after_hours.e164 == "+59324005124"


async def test_escalation_without_a_matrix_falls_back_to_the_tsc(session: AsyncSession) -> None:
    target = await escalation_target(session, "PE", 1)
    assert target.fallback is True
    assert "+5117055777" in {p.e164 for p in target.phones}


async def test_contacts_for_matches_event_patterns(
    session: AsyncSession, clock: FrozenClock
) -> None:
    now = clock.now()
    enterprise = Enterprise(
        id=uuid.uuid4(),
        name="Acme",
        country="EC",
        segment="enterprise",
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(enterprise)
    await session.flush()
    for name, events in (("noc", ["ticket.*"]), ("billing", ["billing.*"]), ("all", ["*"])):
        session.add(
            NotificationContact(
                id=uuid.uuid4(),
                enterprise_id=enterprise.id,
                name=name,
                email=f"{name}@acme.example",
                phone=None,
                phone_e164=None,
                language="es",
                events=events,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
    await session.flush()
    found = await contacts_for(session, enterprise.id, "ticket.stage_changed")
    assert sorted(c.name for c in found) == ["all", "noc"]
    assert found[0].language == "es"
    assert await contacts_for(session, uuid.uuid4(), "ticket.created") == []


async def test_escalation_past_the_last_level_stays_at_the_last(session: AsyncSession) -> None:
    target = await escalation_target(session, "EC", 5)
    assert target.level == 3
    assert [p.e164 for p in target.phones] == ["+576016119068"]
