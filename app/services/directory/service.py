"""The contact directory: lines to call, offices, portals and billing mailboxes."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import field_error
from app.core.handbook import handbook
from app.core.pagination import Page, PageParams, page_in_order
from app.models import CountryDirectory, DirectoryLine, Office
from app.services.calendars.service import require_country
from app.services.directory.rules import phone
from app.services.directory.schemas import (
    BillingMailboxRead,
    DirectoryLineRead,
    OfficeRead,
    PortalRead,
    Purpose,
)

ByCountry = TypeVar("ByCountry", PortalRead, BillingMailboxRead)

# Product lines a directory line may name: the handbook's and the services'.
KNOWN_SERVICES = frozenset(
    {
        "data",
        "voice",
        "cdn",
        "data_center",
        "managed",
        "managed_voice",
        "managed_video",
        "enhanced_video_collaboration",
        "network_management",
        "vyvx",
        "satellite",
    }
)


def _line_read(line: DirectoryLine, country: str) -> DirectoryLineRead:
    return DirectoryLineRead(
        country=country,
        purpose=Purpose(line.purpose),
        services=list(line.services),
        toll_free=phone(line.toll_free, country) if line.toll_free else None,
        local=[phone(number, country) for number in line.local],
        extension=line.extension,
        description=line.description,
    )


def _serves(line: DirectoryLine, service: str | None) -> bool:
    return service is None or not line.services or service in line.services


async def _lines(
    session: AsyncSession, country: str | None, purpose: str | None
) -> list[tuple[DirectoryLine, str]]:
    stmt = select(DirectoryLine).order_by(DirectoryLine.position)
    if country is not None:
        stmt = stmt.where(DirectoryLine.countries.contains([country]))
    if purpose is not None:
        stmt = stmt.where(DirectoryLine.purpose == purpose)
    rows = (await session.execute(stmt)).scalars().all()
    pairs = [(line, c) for line in rows for c in line.countries if country in (None, c)]
    return sorted(pairs, key=lambda p: (p[1], p[0].position))


async def list_lines(
    session: AsyncSession,
    params: PageParams,
    country: str | None = None,
    purpose: Purpose | None = None,
    service: str | None = None,
) -> Page[DirectoryLineRead]:
    code = require_country(country, "country") if country is not None else None
    if service is not None and service not in KNOWN_SERVICES:
        raise field_error(
            "service", f"{service!r} is not one of {', '.join(sorted(KNOWN_SERVICES))}"
        )
    pairs = await _lines(session, code, purpose.value if purpose else None)
    served = [(line, c) for line, c in pairs if _serves(line, service)]
    page, cursor = page_in_order(served, params, lambda p: (p[1], p[0].position))
    return Page(items=[_line_read(line, c) for line, c in page], next_cursor=cursor)


async def support_lines(
    session: AsyncSession, country: str, service: str | None = None
) -> list[DirectoryLineRead]:
    """The TSC lines to call for `country` (and `service`, when given).

    A line with no services serves all. When no line names the service, every
    TSC line of the country is given rather than none.
    """
    code = require_country(country)
    pairs = await _lines(session, code, Purpose.technical_support.value)
    chosen = [(line, c) for line, c in pairs if _serves(line, service)] or pairs
    return [_line_read(line, c) for line, c in chosen]


async def list_offices(
    session: AsyncSession, params: PageParams, country: str | None
) -> Page[OfficeRead]:
    code = require_country(country, "country") if country is not None else None
    stmt = select(Office)
    if code is not None:
        stmt = stmt.where(Office.country == code)
    offices = (await session.execute(stmt)).scalars()
    page, cursor = page_in_order(offices, params, lambda o: (o.country, o.position))
    items = [
        OfficeRead(
            country=o.country,
            name=o.name,
            phone=phone(o.phone, o.country),
            addresses=list(o.addresses),
        )
        for o in page
    ]
    return Page(items=items, next_cursor=cursor)


async def _directory_rows(session: AsyncSession, country: str | None) -> list[CountryDirectory]:
    stmt = select(CountryDirectory).order_by(CountryDirectory.country)
    if country is not None:
        stmt = stmt.where(CountryDirectory.country == country)
    return list((await session.execute(stmt)).scalars().all())


def _by_country(items: list[ByCountry], params: PageParams) -> Page[ByCountry]:
    page, cursor = page_in_order(items, params, lambda item: (item.country,))
    return Page(items=page, next_cursor=cursor)


async def list_portals(
    session: AsyncSession, params: PageParams, country: str | None
) -> Page[PortalRead]:
    code = require_country(country, "country") if country is not None else None
    rows = await _directory_rows(session, code)
    if code is not None and not rows:
        return _by_country([PortalRead(country=code, portals=[], note=None)], params)
    return _by_country(
        [PortalRead(country=r.country, portals=list(r.portals), note=r.portal_note) for r in rows],
        params,
    )


async def list_billing_mailboxes(
    session: AsyncSession, params: PageParams, country: str | None
) -> Page[BillingMailboxRead]:
    code = require_country(country, "country") if country is not None else None
    rows = await _directory_rows(session, code)
    if code is not None and not rows:
        return _by_country([BillingMailboxRead(country=code, mailbox=None)], params)
    return _by_country(
        [BillingMailboxRead(country=r.country, mailbox=r.billing_mailbox) for r in rows], params
    )


async def billing_mailbox(session: AsyncSession, country: str) -> str | None:
    """The PO/HES/MIGO mailbox of a country (None when it has none)."""
    code = require_country(country)
    rows = await _directory_rows(session, code)
    return rows[0].billing_mailbox if rows else None


def _handbook_lines() -> list[dict[str, Any]]:
    data = handbook()
    rows: list[dict[str, Any]] = []
    sections = (
        ("tsc_lines", Purpose.technical_support.value),
        ("billing_lines", Purpose.billing.value),
        ("admin_lines", None),
    )
    for section, purpose in sections:
        for index, entry in enumerate(data.get(section, [])):
            rows.append(
                {
                    "seed_key": f"{section}:{index}",
                    "purpose": purpose or entry["purpose"],
                    "countries": list(entry["countries"]),
                    "services": list(entry.get("services", [])),
                    "toll_free": entry.get("toll_free"),
                    "local": list(entry.get("local", [])),
                    "extension": entry.get("extension"),
                    "description": entry.get("description"),
                }
            )
    for country, number in data.get("escalation_after_hours", {}).items():
        rows.append(
            {
                "seed_key": f"escalation_after_hours:{country}",
                "purpose": Purpose.after_hours.value,
                "countries": [country],
                "services": [],
                "toll_free": None,
                "local": [number],
                "extension": None,
                "description": "Nights, weekends and holidays",
            }
        )
    for position, row in enumerate(rows):
        row["position"] = position
    return rows


async def seed_directory(session: AsyncSession, clock: Clock) -> None:
    """Lines, offices, portals and mailboxes from the handbook; re-running changes nothing."""
    data = handbook()
    lines = _handbook_lines()
    stmt = insert(DirectoryLine).values(lines)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[DirectoryLine.seed_key],
            set_={c: stmt.excluded[c] for c in lines[0] if c != "seed_key"},
        )
    )
    offices = [
        {
            "seed_key": f"offices:{i}",
            "position": i,
            "country": o["country"],
            "name": o.get("name"),
            "phone": o["phone"],
            "addresses": list(o.get("addresses", [])),
        }
        for i, o in enumerate(data.get("offices", []))
    ]
    office_stmt = insert(Office).values(offices)
    await session.execute(
        office_stmt.on_conflict_do_update(
            index_elements=[Office.seed_key],
            set_={c: office_stmt.excluded[c] for c in offices[0] if c != "seed_key"},
        )
    )
    portals: dict[str, list[str]] = {}
    for portal in ("customer_portal", "control_center"):
        for country in data["portals"].get(portal, []):
            portals.setdefault(country, []).append(portal)
    notes: dict[str, str] = dict(data["portals"].get("disputed", {}))
    for country in notes:
        portals[country] = ["customer_portal", "control_center"]
    mailboxes = {
        country: mailbox
        for mailbox, countries in data.get("billing_mailboxes", {}).items()
        for country in countries
    }
    rows = [
        {
            "country": country,
            "portals": portals.get(country, []),
            "portal_note": notes.get(country),
            "billing_mailbox": mailboxes.get(country),
        }
        for country in sorted(set(portals) | set(mailboxes))
    ]
    dir_stmt = insert(CountryDirectory).values(rows)
    await session.execute(
        dir_stmt.on_conflict_do_update(
            index_elements=[CountryDirectory.country],
            set_={c: dir_stmt.excluded[c] for c in ("portals", "portal_note", "billing_mailbox")},
        )
    )
