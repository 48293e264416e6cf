"""City tiers for dispatch targets: main cities listed per country, the rest intermediate."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import field_error
from app.core.pagination import Page, PageParams, page_in_order
from app.models import CityTier
from app.services.calendars.service import require_country
from app.services.directory.rules import DEFAULT_TIER, MAIN_CITIES, CityTierName, city_key
from app.services.directory.schemas import CityTierRead


def _key(city: str) -> str:
    key = city_key(city)
    if not key or len(key) > 120:
        raise field_error("city", "must name a city (letters or digits, at most 120)")
    return key


async def tier_of(session: AsyncSession, country: str, city: str) -> CityTierName:
    """The tier of a city: as listed (case and accents ignored), else `intermediate`."""
    key = city_key(city)
    if not key:
        return DEFAULT_TIER
    tier = (
        await session.execute(
            select(CityTier.tier).where(
                CityTier.country == country.upper(), CityTier.city_key == key
            )
        )
    ).scalar_one_or_none()
    if tier is None:
        return DEFAULT_TIER
    return tier  # type: ignore[return-value]


async def get_city_tier(session: AsyncSession, country: str, city: str) -> CityTierRead:
    code = require_country(country)
    key = _key(city)
    row = (
        await session.execute(
            select(CityTier).where(CityTier.country == code, CityTier.city_key == key)
        )
    ).scalar_one_or_none()
    if row is None:
        return CityTierRead(country=code, city=city, tier=DEFAULT_TIER, listed=False)
    return CityTierRead(country=code, city=row.city, tier=row.tier, listed=True)


async def list_city_tiers(
    session: AsyncSession, country: str, params: PageParams
) -> Page[CityTierRead]:
    code = require_country(country)
    rows = (await session.execute(select(CityTier).where(CityTier.country == code))).scalars()
    page, cursor = page_in_order(rows, params, lambda r: (r.city_key,))
    return Page(
        items=[CityTierRead(country=code, city=r.city, tier=r.tier, listed=True) for r in page],
        next_cursor=cursor,
    )


async def set_city_tier(
    session: AsyncSession, clock: Clock, country: str, city: str, tier: CityTierName
) -> CityTierRead:
    code = require_country(country)
    key = _key(city)
    name = " ".join(city.split())
    stmt = insert(CityTier).values(
        country=code, city_key=key, city=name, tier=tier, updated_at=clock.now()
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[CityTier.country, CityTier.city_key],
            set_={"city": name, "tier": tier, "updated_at": clock.now()},
        )
    )
    await session.commit()
    return CityTierRead(country=code, city=name, tier=tier, listed=True)


async def seed_city_tiers(session: AsyncSession, clock: Clock) -> None:
    """Main cities of the handbook countries; an edited tier is left as the admin set it."""
    rows = [
        {
            "country": country,
            "city_key": city_key(city),
            "city": city,
            "tier": "main",
            "updated_at": clock.now(),
        }
        for country, cities in MAIN_CITIES.items()
        for city in cities
    ]
    await session.execute(insert(CityTier).values(rows).on_conflict_do_nothing())
