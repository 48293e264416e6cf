"""City tiers for the SLA engine's dispatch targets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.core.deps import AnyCaller, ClockDep, ProviderAdmin, SessionDep
from app.schemas.countries import CityTierRead, CityTierWrite
from app.services import city_tiers as service

router = APIRouter(prefix="/v1/city-tiers", tags=["city tiers"])

City = Annotated[str, Path(min_length=1, max_length=120, description="Case and accents ignored")]


@router.get("/{country}", summary="The listed cities of a country; any other is intermediate")
async def list_city_tiers(
    country: str, caller: AnyCaller, session: SessionDep
) -> list[CityTierRead]:
    return await service.list_city_tiers(session, country)


@router.get("/{country}/{city}", summary="A city's tier")
async def get_city_tier(
    country: str, city: City, caller: AnyCaller, session: SessionDep
) -> CityTierRead:
    return await service.get_city_tier(session, country, city)


@router.put("/{country}/{city}", summary="Set a city's tier (provider admins)")
async def put_city_tier(
    country: str,
    city: City,
    payload: CityTierWrite,
    caller: ProviderAdmin,
    session: SessionDep,
    clock: ClockDep,
) -> CityTierRead:
    return await service.set_city_tier(session, clock, country, city, payload.tier)
